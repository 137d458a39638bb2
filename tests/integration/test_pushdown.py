"""Pushdown: what each query asks of the API, from the server's log (request
counts, fields[], filterByFormula, sort, pageSize), what EXPLAIN QUERY PLAN
and airtable_requests show, and the options. Each query's rows are checked
against the same query with pushdown='off'. The differential corpus is
tests/integration/test_pushdown_diff.py.

This file's server has no rate limit and its tables rate_limit=0 (allowed
for a loopback server only), so the full scans it compares against are fast.
"""
import json
import sqlite3
import urllib.parse

import pytest

from conftest import SAMPLE, Server, connect, create, table_fixture

TASKS = table_fixture(SAMPLE, "Packaging Tasks")
PRODUCTS = table_fixture(SAMPLE, "Products")
FIELD_ID = {f["name"]: f["id"] for f in TASKS["fields"]}
TABLE_ID = TASKS["id"]


@pytest.fixture(scope="module")
def fast_server():
    s = Server("--rate-limit", "0")
    yield s
    s.stop()


@pytest.fixture
def db(fast_server, monkeypatch):
    monkeypatch.setenv("AIRTABLE_API_URL", fast_server.url)
    fast_server.reset()
    conn = connect()
    for name, table, opts in [("tasks", "Packaging Tasks", {}),
                              ("tasks_off", "Packaging Tasks", {"pushdown": "off"}),
                              ("products", "Products", {}),
                              ("products_off", "Products", {"pushdown": "off"}),
                              ("open_tasks", "Packaging Tasks", {"view": "Open tasks"}),
                              ("open_tasks_off", "Packaging Tasks",
                               {"view": "Open tasks", "pushdown": "off"})]:
        create(conn, name, SAMPLE, table, rate_limit=0, **opts)
    fast_server.clear_log()
    yield conn
    conn.close()


def listed(server):
    """The data requests since the log was cleared: (method, path, query
    as a dict of lists, or the POST body's options)."""
    out = []
    for r in server.list_requests(SAMPLE):
        out.append((r["method"], r["path"], urllib.parse.parse_qs(r["query"] or "")))
    return out


def run(db, server, sql, params=()):
    """Rows with pushdown, the requests they took, and rows without."""
    server.clear_log()
    rows = db.execute(sql, params).fetchall()
    reqs = listed(server)
    off = db.execute(sql.replace("FROM tasks", "FROM tasks_off")
                        .replace("JOIN products", "JOIN products_off")
                        .replace("FROM products", "FROM products_off")
                        .replace("FROM open_tasks", "FROM open_tasks_off"), params).fetchall()
    assert rows == off, sql
    return rows, reqs


def plan(db, sql, params=()):
    return " | ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, params))


def test_selective_query_with_limit_costs_one_request_for_the_fields_it_uses(db, fast_server):
    rows, reqs = run(db, fast_server, 'SELECT "Task" FROM tasks WHERE "Status" = \'Done\' LIMIT 5')
    assert len(rows) == 5
    assert len(reqs) == 1
    method, path, q = reqs[0]
    assert (method, path) == ("GET", f"/v0/{SAMPLE}/{TABLE_ID}")
    assert q["fields[]"] == [FIELD_ID["Task"], FIELD_ID["Status"]]
    assert q["filterByFormula"] == ["{%s}='Done'" % FIELD_ID["Status"]]
    assert q["pageSize"] == ["5"] and "maxRecords" not in q
    done = [r["fields"].get("Task") for r in TASKS["records"] if r["fields"].get("Status") == "Done"]
    assert [r[0] for r in rows] == done[:5]


def test_status_count_costs_six_requests_instead_of_twenty_five(db, fast_server):
    fast_server.clear_log()
    assert db.execute('SELECT count(*) FROM tasks_off WHERE "Status" = \'Done\'').fetchone() == (565,)
    assert len(listed(fast_server)) == 25
    rows, reqs = run(db, fast_server, 'SELECT count(*) FROM tasks WHERE "Status" = \'Done\'')
    assert rows == [(565,)]
    assert len(reqs) == 6
    assert all(q["fields[]"] == [FIELD_ID["Status"]] for _, _, q in reqs)


def test_full_scan_still_costs_twenty_five_requests(db, fast_server):
    rows, reqs = run(db, fast_server, "SELECT * FROM tasks")
    assert len(rows) == 2500 and len(reqs) == 25
    assert all("fields[]" not in q and "filterByFormula" not in q for _, _, q in reqs)


def test_id_equals_is_one_get(db, fast_server):
    rid = TASKS["records"][1234]["id"]
    rows, reqs = run(db, fast_server, 'SELECT id, "Task" FROM tasks WHERE id = ?', (rid,))
    assert rows == [(rid, TASKS["records"][1234]["fields"]["Task"])]
    assert reqs == [("GET", f"/v0/{SAMPLE}/{TABLE_ID}/{rid}", {"returnFieldsByFieldId": ["true"]})]


def test_id_equals_a_missing_record_is_no_row_and_not_an_error(db, fast_server):
    rows, reqs = run(db, fast_server, "SELECT * FROM tasks WHERE id = 'recNOTTHERE000000'")
    assert rows == [] and [r[1] for r in reqs] == [f"/v0/{SAMPLE}/{TABLE_ID}/recNOTTHERE000000"]


@pytest.mark.parametrize("value", ["not an id", "recSHORT", 42, None, "rec'}00000000000"])
def test_id_equals_what_no_record_id_looks_like_makes_no_request(db, fast_server, value):
    rows, reqs = run(db, fast_server, "SELECT * FROM tasks WHERE id = ?", (value,))
    assert rows == [] and reqs == []


def test_id_in_150_ids_costs_two_requests(db, fast_server):
    ids = [r["id"] for r in TASKS["records"][::16]][:150]
    assert len(ids) == 150
    marks = ",".join("?" * len(ids))
    rows, reqs = run(db, fast_server, f"SELECT id FROM tasks WHERE id IN ({marks}) ORDER BY id", ids)
    assert [r[0] for r in rows] == sorted(ids)
    assert len(reqs) == 2
    sent = []
    for _, _, q in reqs:
        sent += [part.split("'")[1] for part in q["filterByFormula"][0].split("RECORD_ID()=")[1:]]
    assert sorted(sent) == sorted(ids)


def test_join_through_linked_ids_costs_a_get_per_outer_row(db, fast_server):
    sql = ('SELECT t."Task Number", p."Name" FROM tasks t JOIN products p '
           'ON p.id = json_extract(t."Product", \'$[0]\') '
           'WHERE t."Task Number" <= 4 ORDER BY 1')
    rows, reqs = run(db, fast_server, sql)
    linked = [(r["fields"]["Task Number"], (r["fields"].get("Product") or [None])[0])
              for r in TASKS["records"] if r["fields"]["Task Number"] <= 4]
    names = {p["id"]: p["fields"].get("Name") for p in PRODUCTS["records"]}
    assert rows == [(n, names[pid]) for n, pid in linked if pid]
    tasks_reqs = [r for r in reqs if r[1] == f"/v0/{SAMPLE}/{TABLE_ID}"]
    gets = [r for r in reqs if r[1].startswith(f"/v0/{SAMPLE}/{PRODUCTS['id']}/rec")]
    assert len(tasks_reqs) == 1
    assert tasks_reqs[0][2]["filterByFormula"] == ["{%s}<=4" % FIELD_ID["Task Number"]]
    assert len(gets) == len(rows) and len(reqs) == 1 + len(rows)


def test_order_by_autonumber_with_limit_is_sorted_by_airtable(db, fast_server):
    rows, reqs = run(db, fast_server, 'SELECT "Task Number" FROM tasks ORDER BY "Task Number" DESC LIMIT 3 OFFSET 2')
    assert rows == [(2498,), (2497,), (2496,)]
    assert len(reqs) == 1
    q = reqs[0][2]
    assert q["sort[0][field]"] == [FIELD_ID["Task Number"]] and q["sort[0][direction]"] == ["desc"]
    assert q["pageSize"] == ["5"]


def test_order_by_text_is_left_to_sqlite(db, fast_server):
    rows, reqs = run(db, fast_server, 'SELECT "Task" FROM tasks ORDER BY "Task" LIMIT 3')
    assert len(reqs) == 25 and all("sort[0][field]" not in q and "pageSize" not in q for _, _, q in reqs)
    assert "sort" not in plan(db, 'SELECT "Task" FROM tasks ORDER BY "Task" LIMIT 3')


@pytest.mark.parametrize("where,exact,paged", [
    ('"Quantity" > 1000', True, True),    # 0 fails it, so blanks fail it however read
    ('"Quantity" >= 0.5', True, True),
    ('"Quantity" = 7', True, True),
    ('"Quantity" < 10', False, False),    # a blank read as 0 would pass
    ('"Quantity" = 0', False, False),     # ... and a 0 Airtable leaves out reads NULL
    ('"Fragile" = 1', True, True),
    ('"Fragile" = 0', True, True),
    ('"Notes" IS NULL', True, True),
    ('"Status" = \'Done\'', False, True),   # close: case may be ignored, so SQLite
    ('"Task" = \'Pack crate for order 12498\'', False, True),   # checks again
    ('"Status" = ?', False, False),       # a parameter: its value comes too late
])
def test_limit_sizes_the_page_only_when_every_constraint_is_close(db, fast_server, where, exact,
                                                                  paged):
    """Exact terms are not checked again by SQLite ("(exact)" in the plan);
    a LIMIT sizes the first page when every term is exact or close."""
    sql = f'SELECT id FROM tasks WHERE {where} LIMIT 2'
    params = ("Done",) if "?" in where else ()
    rows, reqs = run(db, fast_server, sql, params)
    assert len(rows) >= 1
    assert all(("pageSize" in q) == paged for _, _, q in reqs)
    assert ("(exact)" in plan(db, sql, params)) == exact


def test_explain_query_plan_shows_what_is_pushed(db):
    text = plan(db, 'SELECT "Task" FROM tasks WHERE "Status" = \'Done\' AND "Quantity" < 10 LIMIT 5')
    # (No pageSize: "Quantity" < 10 may keep blanks.)
    assert text == ('SCAN tasks VIRTUAL TABLE INDEX 2:v1 t5.2.0.0.0.0 t12.16.0.0.0.1 f420100000000 -- '
                    'filterByFormula: "Status" = ? AND "Quantity" < ?; '
                    'fields[]: "Task", "Status", "Quantity"')
    assert plan(db, 'SELECT * FROM tasks WHERE id = ?', ("x",)).endswith("-- GET one record by id = ?")
    assert "INDEX 0:" in plan(db, 'SELECT * FROM tasks_off WHERE id = ?', ("x",))
    assert plan(db, 'SELECT "Task" FROM tasks ORDER BY "Created" LIMIT 1').endswith(
        '-- sort: "Created" asc; pageSize: LIMIT; fields[]: "Task", "Created"')
    assert plan(db, 'SELECT id FROM tasks WHERE "Notes" IS NULL AND "Quantity" > 5 LIMIT 1').endswith(
        '-- filterByFormula: "Notes" IS NULL (exact) AND "Quantity" > ? (exact); pageSize: LIMIT; '
        'fields[]: "Notes", "Quantity"')   # (colUsed holds the WHERE's columns too)


def test_airtable_requests_shows_each_requests_formula_and_fields(db, fast_server):
    db.execute('SELECT "Task" FROM tasks WHERE "Task" LIKE \'pack PALLET%\' AND "Priority" >= 4').fetchall()
    got = db.execute("SELECT method, formula, fields FROM airtable_requests "
                     "WHERE formula IS NOT NULL ORDER BY seq DESC LIMIT 1").fetchone()
    # SQLite also offers the ranges a LIKE implies ("Task" >= 'PACK PALLET'
    # and < 'pack palleu'): how Airtable orders text is not documented, so
    # each is only "some text" (once).
    assert got == ("GET", "AND({%s}>=4,LEN({%s}&'')>0,FIND('pack pallet',LOWER({%s}))=1)"
                   % (FIELD_ID["Priority"], FIELD_ID["Task"], FIELD_ID["Task"]),
                   json.dumps([FIELD_ID["Task"], FIELD_ID["Priority"]], separators=(",", ":")))


@pytest.mark.parametrize("value", [
    "Backslash \\ and {braces}",           # a value of the sample base
    "Apostrophe's task",
    "it's a \\' trap') & OR(1=1",
    "}{fld} \"x\"",
    "Family kit 👩‍👩‍👧‍👦 bundle",
])
def test_awkward_values_are_escaped_and_answer_like_sqlite(db, fast_server, value):
    rows, reqs = run(db, fast_server, 'SELECT id, "Task" FROM tasks WHERE "Task" = ?', (value,))
    expected = [(r["id"], value) for r in TASKS["records"] if r["fields"].get("Task") == value]
    assert rows == expected
    assert all(q["filterByFormula"] for _, _, q in reqs)


def test_a_value_with_a_newline_is_left_to_sqlite(db, fast_server):
    value = "Line 1\nLine 2\nLine 3"
    rows, reqs = run(db, fast_server, 'SELECT id FROM tasks WHERE "Task" = ?', (value,))
    assert rows == [(r["id"],) for r in TASKS["records"] if r["fields"].get("Task") == value]
    assert rows and len(reqs) == 25 and all("filterByFormula" not in q for _, _, q in reqs)


def test_view_is_combined_with_the_formula_and_id_lookup_lists_within_it(db, fast_server):
    rows, reqs = run(db, fast_server, 'SELECT id FROM open_tasks WHERE "Priority" >= 5')
    assert rows and all(q["view"] == [TASKS["views"][1]["id"]] or q["view"] == ["Open tasks"]
                        for _, _, q in reqs)
    assert all(q["filterByFormula"] == ["{%s}>=5" % FIELD_ID["Priority"]] for _, _, q in reqs)
    # A record outside the view is not returned, though it exists: no GET.
    done = next(r["id"] for r in TASKS["records"] if r["fields"].get("Status") == "Done")
    rows, reqs = run(db, fast_server, "SELECT id FROM open_tasks WHERE id = ?", (done,))
    assert rows == [] and len(reqs) == 1 and reqs[0][2]["filterByFormula"] == ["RECORD_ID()='%s'" % done]


def test_long_formula_goes_by_post(db, fast_server):
    values = ["Task number %05d that is not there at all" % i for i in range(400)] + ["Apostrophe's task"]
    marks = ",".join("?" * len(values))
    rows, reqs = run(db, fast_server, f'SELECT count(*) FROM tasks WHERE "Task" IN ({marks})', values)
    assert rows == [(sum(r["fields"].get("Task") == "Apostrophe's task" for r in TASKS["records"]),)]
    assert rows[0][0] > 0
    assert {m for m, _, _ in reqs} == {"POST"} and reqs[0][1].endswith("/listRecords")


def test_pushdown_option_and_rate_limit_zero_are_checked(db):
    with pytest.raises(sqlite3.OperationalError, match=r"^airtable: option pushdown: 'maybe' is not on or off$"):
        create(db, "bad", SAMPLE, "Products", pushdown="maybe")
    with pytest.raises(sqlite3.OperationalError, match=r"^airtable: option rate_limit: 0 \(no limit\) is "
                       r"only for a test server on this machine \(127\.0\.0\.1, ::1, localhost\), not "
                       r"https://api\.airtable\.com; Airtable allows 5 requests per second per base$"):
        create(db, "bad", SAMPLE, "Products", rate_limit=0, api_url="https://api.airtable.com")
    with pytest.raises(sqlite3.OperationalError, match=r"out of range \(0 to 5 requests per second\)"):
        create(db, "bad", SAMPLE, "Products", rate_limit=6)


def test_limit_with_a_where_term_sqlite_never_offers_pages_on(db, fast_server):
    """SQLite 3.40 passes LIMIT although "Notes" < "Legacy Widget" (two
    columns of the table) is never offered as a constraint, so SQLite
    filters after the request: the first page is LIMIT records, and the
    listing goes on while SQLite asks for more (found by the differential
    corpus: maxRecords there gave 1 row instead of 7)."""
    sql = ('SELECT "Task Number" FROM open_tasks WHERE "Notes" < "Legacy Widget" '
           'ORDER BY "Task Number" LIMIT 101')
    rows, reqs = run(db, fast_server, sql)
    assert len(rows) == 7
    sql = ('SELECT "Task Number" FROM open_tasks WHERE "Notes" < "Legacy Widget" '
           'ORDER BY "Task Number" LIMIT 3')
    rows, reqs = run(db, fast_server, sql)
    assert len(rows) == 3 and all(q["pageSize"] == ["3"] for _, _, q in reqs) and len(reqs) > 1


def test_or_of_two_pushed_constraints_merges_by_record_id(db, fast_server):
    """SQLite may run an OR as one scan per side and merge the rows by key:
    the key is the record id (the tables are WITHOUT ROWID; a position in
    a scan would merge the wrong rows: found by the differential corpus)."""
    sql = ('SELECT id, "SKU" FROM products WHERE "SKU" > \'000937\' '
           'OR "Packaging Tasks" IS NOT NULL AND "Name" != \'JUMBO TRAY 6\'')
    assert "MULTI-INDEX OR" in plan(db, sql)
    server = fast_server
    server.clear_log()
    on = db.execute(sql).fetchall()
    off = db.execute(sql.replace("FROM products", "FROM products_off")).fetchall()
    assert sorted(on) == sorted(off) and len(on) == len(set(on)) == 60
    with pytest.raises(sqlite3.OperationalError, match="no such column: rowid"):
        db.execute("SELECT rowid FROM products")


def test_sorted_id_in_list_is_one_listing(db, fast_server):
    """With sort[], an id IN list of more than 100 ids is one listing (two
    sorted batches would not be in order: found by the differential corpus)."""
    ids = [r["id"] for r in TASKS["records"][::16]][:150]
    marks = ",".join("?" * len(ids))
    rows, reqs = run(db, fast_server,
                     f'SELECT "Task Number" FROM tasks WHERE id IN ({marks}) ORDER BY "Task Number"', ids)
    assert [r[0] for r in rows] == sorted(r["fields"]["Task Number"] for r in TASKS["records"][::16][:150])
    assert len(reqs) == 2 and reqs[0][2]["sort[0][field]"] == [FIELD_ID["Task Number"]]


def test_a_day_that_does_not_exist_is_left_to_sqlite(db, fast_server):
    """'2024-02-31' rolled over into March would have put the bound past
    2024-03-01 (found by review): no such day, no formula."""
    rows, reqs = run(db, fast_server, 'SELECT count(*) FROM tasks WHERE "Due Date" >= \'2024-02-31\'')
    assert rows == [(sum(1 for r in TASKS["records"]
                         if (r["fields"].get("Due Date") or "") >= "2024-02-31"),)]
    assert all("filterByFormula" not in q for _, _, q in reqs)


def test_empty_in_list_stops_every_batch(db, fast_server):
    """An IN list that turns out empty means no row: no request for any of
    the id batches (found by review: the later batches were listed)."""
    ids = [r["id"] for r in TASKS["records"][:250]]
    marks = ",".join("?" * len(ids))
    rows, reqs = run(db, fast_server, f'SELECT id FROM tasks WHERE id IN ({marks}) '
                     f'AND "Status" IN (SELECT 1 WHERE 0)', ids)
    assert rows == [] and reqs == []


@pytest.mark.parametrize("tables", ["products p, vendors v", "vendors v, products p"])
def test_planner_drives_a_join_from_the_filtered_side_whatever_the_from_order(db, fast_server,
                                                                             tables):
    """estimatedCost: a GET by id is far cheaper than a scan, so products
    (filtered by a formula) is scanned once and each vendor is one GET,
    whichever table the FROM names first."""
    create(db, "vendors", SAMPLE, "Vendors", rate_limit=0)
    create(db, "vendors_off", SAMPLE, "Vendors", rate_limit=0, pushdown="off")
    sql = (f'SELECT p."Name", v."Name" FROM {tables} '
           'WHERE v.id = json_extract(p."Vendor", \'$[0]\') AND p."Unit Price" > 100 ORDER BY 1, 2')
    steps = [r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql)]
    assert steps[0].startswith("SCAN p VIRTUAL TABLE INDEX 2:") and '"Unit Price" > ?' in steps[0]
    assert steps[1] == "SCAN v VIRTUAL TABLE INDEX 2:v1 g t0.2.0.0.0.0 -- GET one record by id = ?"
    fast_server.clear_log()
    rows = db.execute(sql).fetchall()
    reqs = listed(fast_server)
    off = db.execute(sql.replace("products p", "products_off p")
                        .replace("vendors v", "vendors_off v")).fetchall()
    assert rows == off and len(rows) > 10
    assert len(reqs) == 1 + len(rows)     # one listing of products, a GET per row
