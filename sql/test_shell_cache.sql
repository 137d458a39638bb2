-- A workload for the sqlite3 shell on the staging cache: a full sync, cached
-- queries (a scan, a lookup by id, a join), an incremental sync, a sync that
-- fails (a 503 the test sets up, with no retries) and leaves the cache
-- whole, airtable_cache_info, DROP. Run by tests/test_hosts.py under
-- LeakSanitizer or valgrind.
.bail off
.headers off
.mode list
CREATE VIRTUAL TABLE c USING airtable(base='appSizeTests00001', table='One Hundred One', cache='on', max_retries=0);
SELECT json_extract(airtable_sync('c'), '$.mode', '$.added', '$.requests');
SELECT count(*), sum("N") FROM c;
SELECT count(*) FROM c WHERE id = (SELECT min(id) FROM c);
SELECT count(*) FROM c a JOIN c b ON a.id = b.id;
SELECT json_extract(airtable_sync('c'), '$.mode', '$.requests');
SELECT airtable_sync('c', 'full');
SELECT count(*), sum("N") FROM c;
SELECT name, rows, syncs, last_mode FROM airtable_cache_info;
DROP TABLE c;
SELECT count(*) FROM airtable_cache_info;
