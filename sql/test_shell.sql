-- A workload for the sqlite3 shell: every path of the read path once (full
-- scans, early stops, errors at connect and mid-scan, discovery tables, CSV
-- export), run by tests/test_hosts.py under LeakSanitizer or valgrind.
-- The API URL and token come from AIRTABLE_API_URL and AIRTABLE_TOKEN.
.bail off
.headers off
.mode list
SELECT id, name FROM airtable_bases ORDER BY id;
SELECT count(*) FROM airtable_fields('appPackagingOps01');
CREATE VIRTUAL TABLE tasks USING airtable(base='appPackagingOps01', table='Packaging Tasks', retry_backoff=0.01);
SELECT count(*), sum("Quantity"), count("Cost per kg") FROM tasks;
SELECT id FROM tasks LIMIT 2;
CREATE VIRTUAL TABLE open_tasks USING airtable(base='appPackagingOps01', table='Packaging Tasks', view='Open tasks');
SELECT count(*) FROM open_tasks WHERE "Status" = 'Done';
CREATE VIRTUAL TABLE nope USING airtable(base='appPackagingOps01', table='Nope');
CREATE VIRTUAL TABLE bad USING airtable(base='appX', table='y');
SELECT * FROM airtable_tables('appDoesNotExist01');
CREATE VIRTUAL TABLE n99 USING airtable(base='appSizeTests00001', table='Ninety Nine', max_retries=0);
SELECT sum("N") FROM n99;
SELECT count(*) FROM n99;
.mode csv
.headers on
SELECT id, "Task", "Tags" FROM tasks LIMIT 2;
