-- sql/demo.sql: a tour of the sample base "Packaging Operations", run by
-- scripts/demo against the test server (AIRTABLE_API_URL, AIRTABLE_TOKEN).
.mode table
.headers on

.print
.print 'Bases the token can read:'
SELECT id, name, permission_level FROM airtable_bases;

.print
.print 'Tables of appPackagingOps01:'
SELECT name, field_count, description FROM airtable_tables('appPackagingOps01');

.print
.print 'How some fields of "Packaging Tasks" become columns (see airtable_fields):'
SELECT name, type, column_name, column_type
  FROM airtable_fields('appPackagingOps01', 'Packaging Tasks')
 WHERE name IN ('id', 'Status', 'status', 'Quantity', 'Discount', 'Due Date',
                'Fragile', 'Tags', 'Line Total', 'Legacy Widget');

CREATE VIRTUAL TABLE tasks USING airtable(base='appPackagingOps01', table='Packaging Tasks');
CREATE VIRTUAL TABLE products USING airtable(base='appPackagingOps01', table='Products');

.print
.print 'The first tasks (LIMIT 3 costs one request):'
SELECT "Task Number", "Task", "Status", "Due Date", "Priority", "Tags"
  FROM tasks LIMIT 3;

-- Pushdown: the same count with the constraint sent to Airtable (a
-- formula, only the Status field) and without (every field of every record).
CREATE VIRTUAL TABLE tasks_off USING airtable(base='appPackagingOps01',
  table='Packaging Tasks', pushdown='off');
CREATE TEMP TABLE cost(pushdown TEXT, done INTEGER, requests INTEGER,
  records INTEGER, kilobytes INTEGER);
CREATE TEMP TABLE mark(seq INTEGER);
INSERT INTO mark SELECT coalesce(max(seq), 0) FROM airtable_requests;
INSERT INTO cost(pushdown, done)
  SELECT 'on', count(*) FROM tasks WHERE "Status" = 'Done';
UPDATE cost SET (requests, records, kilobytes) =
  (SELECT count(*), sum(records), sum(bytes)/1024 FROM airtable_requests
    WHERE seq > (SELECT seq FROM mark)) WHERE pushdown = 'on';
UPDATE mark SET seq = (SELECT max(seq) FROM airtable_requests);
INSERT INTO cost(pushdown, done)
  SELECT 'off', count(*) FROM tasks_off WHERE "Status" = 'Done';
UPDATE cost SET (requests, records, kilobytes) =
  (SELECT count(*), sum(records), sum(bytes)/1024 FROM airtable_requests
    WHERE seq > (SELECT seq FROM mark)) WHERE pushdown = 'off';

.print
.print "SELECT count(*) FROM tasks WHERE \"Status\" = 'Done', with pushdown and without:"
SELECT * FROM cost;
.print 'The formula sent (fields are referenced by id):'
SELECT formula, fields FROM airtable_requests WHERE formula IS NOT NULL LIMIT 1;

-- Copy each table once (2,500 tasks = 25 requests at Airtable's 5 per
-- second), then ask the local copies as many questions as we like.
CREATE TEMP TABLE t AS SELECT * FROM tasks;
CREATE TEMP TABLE p AS SELECT * FROM products;

.print
.print 'Tasks by status:'
SELECT coalesce("Status", '(none)') AS status, count(*) AS tasks,
       printf('%.2f', sum("Line Total")) AS line_total
  FROM t GROUP BY 1 ORDER BY 2 DESC;

.print
.print 'Most used tags (multiple selects are JSON arrays):'
SELECT j.value AS tag, count(*) AS tasks
  FROM t, json_each(t."Tags") AS j GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5;

.print
.print 'Products with the most tasks (linked records are JSON arrays of ids):'
SELECT p."Name" AS product, p."SKU" AS sku, count(*) AS tasks
  FROM t, json_each(t."Product") AS j JOIN p ON p.id = j.value
 GROUP BY p.id ORDER BY 3 DESC, 1 LIMIT 5;

.print
.print 'Formula errors stay visible as text (never silently NULL):'
SELECT "Cost per kg" AS value, count(*) AS tasks
  FROM t WHERE typeof("Cost per kg") = 'text' GROUP BY 1;

-- CSV export of the whole table, with a header line.
.headers on
.mode csv
.once out/packaging_tasks.csv
SELECT * FROM t;
