"""The read path: columns, every field type's values, paging, views."""
import json
import math
import sqlite3

import pytest

from conftest import SAMPLE, SIZES, connect, create, table_fixture

# Packaging Tasks: (field name, column name, declared type, kind), in the
# base's field order. Kinds are the README's field type table.
TASK_COLUMNS = [
    ("Task", "Task", "TEXT", "text"),
    ("id", "id_2", "TEXT", "text"),
    ("Created_Time", "Created_Time_2", "TEXT", "text"),
    ("Status", "Status", "TEXT", "text"),
    ("status", "status_2", "TEXT", "text"),
    ("Notes", "Notes", "TEXT", "text"),
    ("Notes {internal}", "Notes {internal}", "TEXT", "text"),
    ("Contact Email", "Contact Email", "TEXT", "text"),
    ("Spec URL", "Spec URL", "TEXT", "text"),
    ("Phone", "Phone", "TEXT", "text"),
    ("Quantity", "Quantity", "INTEGER", "integer"),
    ("Weight (kg)", "Weight (kg)", "REAL", "real"),
    ("Unit Cost (USD).net", "Unit Cost (USD).net", "REAL", "real"),
    ("Discount", "Discount", "REAL", "real"),
    ("Length/Width", "Length/Width", "REAL", "real"),
    ("Setup Time", "Setup Time", "INTEGER", "integer"),
    ("Cycle Time", "Cycle Time", "REAL", "real"),
    ("Priority", "Priority", "INTEGER", "integer"),
    ("Due Date", "Due Date", "TEXT", "date"),
    ("Started At", "Started At", "TEXT", "datetime"),
    ("Fragile", "Fragile", "INTEGER", "boolean"),
    ("Tags", "Tags", "TEXT", "json"),
    ("Owner", "Owner", "TEXT", "json"),
    ("Reviewers", "Reviewers", "TEXT", "json"),
    ("Created By", "Created By", "TEXT", "json"),
    ("Last Modified By", "Last Modified By", "TEXT", "json"),
    ("Created", "Created", "TEXT", "datetime"),
    ("Last Modified", "Last Modified", "TEXT", "datetime"),
    ("Task Number", "Task Number", "INTEGER", "integer"),
    ("Product", "Product", "TEXT", "json"),
    ("Vendor", "Vendor", "TEXT", "json"),
    ("Product SKU", "Product SKU", "TEXT", "json"),
    ("Vendor Count", "Vendor Count", "INTEGER", "integer"),
    ("Product Price Total", "Product Price Total", "REAL", "real"),
    ("Line Total", "Line Total", "REAL", "real"),
    ("Label", "Label", "TEXT", "text"),
    ("Is Heavy", "Is Heavy", "INTEGER", "boolean"),
    ("Cost per kg", "Cost per kg", "REAL", "real"),
    ("Photos", "Photos", "TEXT", "json"),
    ("Barcode", "Barcode", "TEXT", "json"),
    ("Open Spec", "Open Spec", "TEXT", "json"),
    ("Summary (AI)", "Summary (AI)", "TEXT", "json"),
    ("Sync Source", "Sync Source", "TEXT", "text"),
    ("Legacy Widget", "Legacy Widget", "TEXT", "json"),
    ('Customer\'s "Nickname"', 'Customer\'s "Nickname"', "TEXT", "text"),
]


def expected(kind, value):
    """What docs/sql-reference.md (Field types) says a value of this kind becomes in SQL."""
    if value is None:
        return 0 if kind == "boolean" else None
    if kind == "json":
        return ("json", value)
    if isinstance(value, dict) and len(value) == 1:
        (k, v), = value.items()
        if k in ("error", "specialValue") and isinstance(v, str):
            return v
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        if kind == "real":
            return float(value)
        return int(value) if float(value).is_integer() else float(value)
    return ("json", value)


def assert_cell(got, want, where):
    if isinstance(want, tuple):
        assert isinstance(got, str), where
        assert json.loads(got) == want[1], where
        assert ", " not in got or isinstance(want[1], str) or "\"" in got, where
    else:
        assert got == want and type(got) is type(want), (where, got, want)


@pytest.fixture
def tasks(db, server):
    create(db, "tasks", SAMPLE, "Packaging Tasks")
    return db


def test_columns_follow_field_order_with_unique_names(tasks):
    info = tasks.execute("PRAGMA table_info(tasks)").fetchall()
    got = [(row[1], row[2]) for row in info]
    want = [("id", "TEXT"), ("created_time", "TEXT")] + [(c, t) for _, c, t, _ in TASK_COLUMNS]
    assert got == want


def test_fields_table_describes_every_column(db, server):
    rows = db.execute(
        "SELECT name, column_name, column_type, kind, position, table_name "
        "FROM airtable_fields(?, 'Packaging Tasks')", (SAMPLE,)).fetchall()
    assert rows == [(f, c, t, k, i, "Packaging Tasks")
                    for i, (f, c, t, k) in enumerate(TASK_COLUMNS)]


def test_every_cell_of_every_record_matches_the_fixture(tasks, server):
    """A full scan: 2,500 records in 25 pages, each cell converted by kind."""
    fixture = table_fixture(SAMPLE, "Packaging Tasks")
    server.clear_log()
    cols = ", ".join('"%s"' % c.replace('"', '""') for _, c, _, _ in TASK_COLUMNS)
    rows = tasks.execute(f"SELECT id, created_time, {cols} FROM tasks").fetchall()
    assert len(rows) == 2500
    for rec, row in zip(fixture["records"], rows):
        assert row[0] == rec["id"]
        assert row[1] == rec["createdTime"]
        for (name, col, _, kind), got in zip(TASK_COLUMNS, row[2:]):
            assert_cell(got, expected(kind, rec["fields"].get(name)), (rec["id"], col))
    log = server.list_requests()
    assert len(log) == 25
    assert all(r["status"] == 200 for r in log)
    assert [r["records"] for r in log] == [100] * 25
    # One kept-alive connection for the whole scan, compressed responses.
    assert len({r["client_port"] for r in log}) == 1
    assert all(r["gzip"] for r in log)


def test_exact_values_of_each_field_type(tasks, server):
    """Spot checks written out by hand, independent of the fixture oracle
    (one query: id IN (...) is one listing with a RECORD_ID() formula)."""
    rows = {r[0]: r[1:] for r in tasks.execute(
        'SELECT id, "Task", "Quantity", "Weight (kg)", "Unit Cost (USD).net", '
        '"Discount", "Setup Time", "Priority", "Due Date", "Started At", '
        '"Fragile", "Tags", "Owner", "Barcode", "Open Spec", "Sync Source", '
        '"Customer\'s ""Nickname""", "Notes", "Product", "id_2", "Cycle Time", '
        '"Is Heavy", "Line Total", "Legacy Widget", "Notes {internal}", '
        'typeof("Cycle Time") FROM tasks WHERE id IN (?, ?, ?)',
        ("recU1WULVPQGlOG2J", "recW2HX44cNyu47q9", "recX9oEZt6jwPch8x"))}
    row = rows["recU1WULVPQGlOG2J"]
    assert row[:22] == (
        "Café crème pack — 12×", 0, 0.0, 8.1,
        0.0, 35640, 3, "2024-01-05", "2024-01-10T18:00:00.000Z",
        1, '["cold chain","bulk","oversize"]',
        '{"id":"usrQ3lIrNnf73DdGa","email":"ada@example.com","name":"Ada Lovelace"}',
        '{"text":"0000"}', '{"label":"Open spec","url":"https://example.com/specs/0"}',
        "ERP (SAP)", "O'Neil",
        'Line one for 0\nLine two, with "quotes" and commas\n\nLast line — ok',
        '["recI3PQoNbRLrUIwD"]', None, None, 0, 0.0)
    assert type(row[1]) is int and type(row[2]) is float
    row = rows["recW2HX44cNyu47q9"]
    assert (row[19], row[23], row[24]) == (
        2514.7, "**Bold** step 1\n\n- item _one_\n- item `two`\n\n"
        "[spec](https://example.com/spec/1)\n", "real")
    assert rows["recX9oEZt6jwPch8x"][22] == '{"kind":"gizmo","level":2,"nested":{"ok":true}}'


def test_computed_errors_and_nan_are_visible_text(tasks):
    counts = dict(tasks.execute(
        'SELECT "Cost per kg", count(*) FROM tasks WHERE typeof("Cost per kg") = '
        "'text' GROUP BY 1").fetchall())
    fixture = table_fixture(SAMPLE, "Packaging Tasks")
    n_error = sum(1 for r in fixture["records"]
                  if r["fields"].get("Cost per kg") == {"error": "#ERROR!"})
    n_nan = sum(1 for r in fixture["records"]
                if r["fields"].get("Cost per kg") == {"specialValue": "NaN"})
    assert n_error > 0 and n_nan > 0
    assert counts == {"#ERROR!": n_error, "NaN": n_nan}


def test_checkbox_absent_is_zero_and_empty_cells_are_null(tasks):
    fixture = table_fixture(SAMPLE, "Packaging Tasks")
    n_true = sum(1 for r in fixture["records"] if r["fields"].get("Fragile") is True)
    n_phone = sum(1 for r in fixture["records"] if "Phone" in r["fields"])
    assert 0 < n_true < 2500 and 0 < n_phone < 2500
    assert tasks.execute('SELECT sum("Fragile" = 0), sum("Fragile" = 1), '
                         'sum("Fragile" IS NULL), sum("Phone" IS NULL) FROM tasks'
                         ).fetchone() == (2500 - n_true, n_true, 0, 2500 - n_phone)


SIZES_CASES = [("Empty", 0, 1), ("One", 1, 1), ("Ninety Nine", 99, 1),
               ("One Hundred", 100, 1), ("One Hundred One", 101, 2)]


@pytest.mark.parametrize("table,n,pages", SIZES_CASES)
def test_table_sizes_and_their_request_counts(db, server, table, n, pages):
    create(db, "t", SIZES, table)
    server.clear_log()
    rows = db.execute('SELECT "Name", "N" FROM t').fetchall()
    assert [r[1] for r in rows] == list(range(1, n + 1))
    log = server.list_requests()
    assert len(log) == pages
    assert [r["records"] for r in log] == ([n] if n <= 100 else [100, n - 100])


def test_limit_5_costs_one_request(tasks, server):
    server.clear_log()
    rows = tasks.execute("SELECT id FROM tasks LIMIT 5").fetchall()
    fixture = table_fixture(SAMPLE, "Packaging Tasks")
    assert [r[0] for r in rows] == [r["id"] for r in fixture["records"][:5]]
    assert len(server.list_requests()) == 1


def test_paging_is_lazy(tasks, server):
    """Reading 150 rows stops after the second page."""
    server.clear_log()
    assert len(tasks.execute("SELECT id FROM tasks LIMIT 150").fetchall()) == 150
    log = server.list_requests()
    assert len(log) == 2
    assert "offset=" not in log[0]["query"] and "offset=" in log[1]["query"]


def test_requests_use_ids_and_ask_fields_by_id(tasks, server):
    server.clear_log()
    tasks.execute("SELECT id FROM tasks LIMIT 1").fetchall()
    (req,) = server.list_requests()
    assert req["method"] == "GET"
    assert req["path"] == "/v0/appPackagingOps01/tblWZS5HCGdBBugal"
    # Fields by id; only a small one (the checkbox "Fragile") when the query
    # uses none; one record (tests/integration/test_pushdown.py has the rules).
    assert req["query"] == ("fields%5B%5D=fldD2Xy1a5tWhoJN3&pageSize=1"
                            "&returnFieldsByFieldId=true")


def test_table_by_id_and_by_odd_name(db, server):
    create(db, "a", SAMPLE, "tblWZS5HCGdBBugal")
    assert db.execute("SELECT count(*) FROM (SELECT id FROM a LIMIT 3)").fetchone() == (3,)
    create(db, "b", SIZES, 'Odd/Name?#% "quoted" ☃')
    assert db.execute('SELECT "Name", "N" FROM b').fetchall() == \
        [(r["fields"]["Name"], r["fields"]["N"])
         for r in table_fixture(SIZES, 'Odd/Name?#% "quoted" ☃')["records"]]


def view_order(view):
    """The fixture's records as the view shows them: its filter, then its
    sort (stable; blanks first ascending and last descending: the test
    server's documented choice)."""
    fixture = table_fixture(SAMPLE, "Packaging Tasks")
    spec = next(v for v in fixture["views"] if v["name"] == view)
    recs = fixture["records"]
    flt = spec.get("filter")
    if flt:
        assert flt["op"] == "!="
        recs = [r for r in recs if r["fields"].get(flt["field"]) != flt["value"]]
    for key in reversed(spec.get("sort", [])):
        present = [r for r in recs if key["field"] in r["fields"]]
        blank = [r for r in recs if key["field"] not in r["fields"]]
        desc = key["direction"] == "desc"
        present.sort(key=lambda r: r["fields"][key["field"]], reverse=desc)
        recs = present + blank if desc else blank + present
    return [r["id"] for r in recs]


@pytest.mark.parametrize("view", ["Open tasks", "By priority"])
def test_view_gives_the_view_records_in_view_order(db, server, view):
    create(db, "v", SAMPLE, "Packaging Tasks", view=view)
    server.clear_log()
    rows = db.execute('SELECT id, "Status", "Priority" FROM v').fetchall()
    got = [r[0] for r in rows]
    want = view_order(view)
    assert got == want
    # The view is sent by id, on every page.
    views = {v["name"]: v["id"] for v in table_fixture(SAMPLE, "Packaging Tasks")["views"]}
    log = server.list_requests()
    assert len(log) == (len(want) + 99) // 100
    assert all(f"view={views[view]}" in r["query"] for r in log)
    if view == "Open tasks":
        assert 0 < len(got) < 2500
        assert "Done" not in [status for (_, status, _) in rows]
    else:
        assert len(got) == 2500
        priorities = [p for (_, _, p) in rows]
        assert priorities == sorted(priorities, key=lambda p: (p is None, -(p or 0)))


def test_id_is_the_key_and_there_is_no_rowid(db, server):
    """WITHOUT ROWID, keyed by the record id (docs/sql-reference.md: Columns)."""
    create(db, "t", SIZES, "One Hundred One")
    with pytest.raises(sqlite3.OperationalError, match=r"^no such column: rowid$"):
        db.execute("SELECT rowid FROM t")
    assert db.execute("SELECT sql FROM sqlite_schema WHERE name = 't'").fetchone()[0].startswith(
        "CREATE VIRTUAL TABLE")
    ids = [r[0] for r in db.execute("SELECT id FROM t")]
    assert ids == [r["id"] for r in table_fixture(SIZES, "One Hundred One")["records"]]


def test_two_cursors_page_through_one_table_at_once(db, server):
    """A correlated subquery scans the table (two pages) inside each row of
    an outer scan that holds its own page: both cursors share one curl
    handle. (A nested loop re-reads the inner table per outer row: 1 + 3*2
    requests here; a join over a 99-row table costs 100.) With pushdown,
    b.N <= a.N is a formula and each inner scan one page: it is off here."""
    create(db, "t", SIZES, "One Hundred One", pushdown="off")
    server.clear_log()
    assert db.execute("SELECT a.N, (SELECT count(*) FROM t b WHERE b.N <= a.N) "
                      "FROM t a LIMIT 3").fetchall() == [(1, 1), (2, 2), (3, 3)]
    assert len(server.list_requests()) == 1 + 3 * 2


def test_reconnect_reads_metadata_again(tmp_path, server):
    path = tmp_path / "x.db"
    conn = connect(str(path))
    create(conn, "t", SIZES, "One")
    conn.close()
    server.clear_log()
    conn = connect(str(path))
    assert conn.execute('SELECT "Name", "N" FROM t').fetchall() == \
        [(table_fixture(SIZES, "One")["records"][0]["fields"]["Name"], 1)]
    paths = [r["path"] for r in server.requests()]
    assert paths == [f"/v0/meta/bases/{SIZES}/tables", f"/v0/{SIZES}/" +
                     table_fixture(SIZES, "One")["id"]]
    conn.close()
