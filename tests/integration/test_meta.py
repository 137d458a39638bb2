"""airtable_bases, airtable_tables and airtable_fields."""
import json
import sqlite3

import pytest

from conftest import SAMPLE, SIZES, load_fixture


def test_bases(db, server):
    assert db.execute("SELECT * FROM airtable_bases ORDER BY id").fetchall() == [
        (SAMPLE, "Packaging Operations", "create"),
        (SIZES, "Size Tests", "read"),
    ]


def test_tables_of_a_base(db, server):
    rows = db.execute("SELECT id, name, primary_field_id, description, field_count, "
                      "views, base FROM airtable_tables(?)", (SAMPLE,)).fetchall()
    want = [(t["id"], t["name"], t["primaryFieldId"], t.get("description"),
             len(t["fields"]),
             [{"id": v["id"], "name": v["name"], "type": v["type"]} for v in t["views"]],
             SAMPLE)
            for t in load_fixture(SAMPLE)["tables"]]
    assert [r[:5] + (json.loads(r[5]), r[6]) for r in rows] == want


def test_tables_of_every_base_by_join(db, server):
    rows = db.execute("SELECT b.id, t.name FROM airtable_bases b, "
                      "airtable_tables(b.id) t ORDER BY 1").fetchall()
    assert len(rows) == 3 + 6
    assert (SIZES, 'Odd/Name?#% "quoted" ☃') in rows


def test_fields_of_every_table(db, server):
    rows = db.execute("SELECT table_name, name, id, type, options, description "
                      "FROM airtable_fields(?)", (SAMPLE,)).fetchall()
    want = [(t["name"], f["name"], f["id"], f["type"], f.get("options"), f.get("description"))
            for t in load_fixture(SAMPLE)["tables"] for f in t["fields"]]
    assert [r[:4] + (json.loads(r[4]) if r[4] else None, r[5]) for r in rows] == want


def test_fields_by_table_id(db, server):
    t = load_fixture(SIZES)["tables"][1]
    assert db.execute("SELECT table_id, name, column_name, column_type, kind "
                      "FROM airtable_fields(?, ?)", (SIZES, t["id"])).fetchall() == [
        (t["id"], "Name", "Name", "TEXT", "text"),
        (t["id"], "N", "N", "INTEGER", "integer"),
    ]


@pytest.mark.parametrize("sql,message", [
    ("SELECT * FROM airtable_tables",
     "airtable: airtable_tables: the base is required, as in SELECT * FROM "
     "airtable_tables('app...')"),
    ("SELECT * FROM airtable_fields",
     "airtable: airtable_fields: the base is required, as in SELECT * FROM "
     "airtable_fields('app...', 'Table')"),
    ("SELECT * FROM airtable_tables('Packaging')",
     "airtable: airtable_tables: base 'Packaging' is not an Airtable base id "
     "('app' followed by 14 letters or digits)"),
    ("SELECT * FROM airtable_fields('appSizeTests00001', 'Nope')",
     "airtable: airtable_fields: base appSizeTests00001 has no table 'Nope'"),
    ("SELECT * FROM airtable_tables('appDoesNotExist01')",
     "airtable: HTTP 403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND: Invalid permissions, "
     "or the requested model was not found. Check that both your user and your "
     "token have the required permissions, and that the model names and/or ids "
     "are correct. (base appDoesNotExist01, with the token from environment variable "
     "AIRTABLE_TOKEN)"),
])
def test_meta_errors(db, server, sql, message):
    with pytest.raises(sqlite3.OperationalError) as e:
        db.execute(sql).fetchall()
    assert str(e.value) == message


def test_meta_without_token(db, server, monkeypatch):
    monkeypatch.delenv("AIRTABLE_TOKEN")
    with pytest.raises(sqlite3.OperationalError, match="^airtable: no API token: "):
        db.execute("SELECT * FROM airtable_bases").fetchall()


@pytest.mark.parametrize("sql,plan", [
    ("SELECT * FROM airtable_tables('appSizeTests00001')",
     "SCAN airtable_tables VIRTUAL TABLE INDEX 1:"),
    ("SELECT * FROM airtable_fields('appSizeTests00001')",
     "SCAN airtable_fields VIRTUAL TABLE INDEX 1:"),
    ("SELECT * FROM airtable_fields('appSizeTests00001', 'One')",
     "SCAN airtable_fields VIRTUAL TABLE INDEX 3:"),
    ("SELECT * FROM airtable_bases b, airtable_tables(b.id) t",
     ["SCAN b VIRTUAL TABLE INDEX 0:", "SCAN t VIRTUAL TABLE INDEX 1:"]),
    ("SELECT * FROM airtable_requests", "SCAN airtable_requests VIRTUAL TABLE INDEX 0:"),
])
def test_query_plans(db, sql, plan):
    """Plans are made without the network: no server is needed here."""
    got = [r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql)]
    assert got == (plan if isinstance(plan, list) else [plan])


def test_table_scan_plan(db, server):
    from conftest import create
    create(db, "t", SIZES, "One")
    server.clear_log()
    # N > 0 is pushed (and exact); an order by a number is left to SQLite
    # (where Airtable sorts blanks is not documented), and so is LIMIT.
    assert [r[3] for r in db.execute("EXPLAIN QUERY PLAN SELECT * FROM t WHERE N > 0 "
                                     "ORDER BY N LIMIT 3")] == \
        ['SCAN t VIRTUAL TABLE INDEX 2:v1 t3.4.0.0.1.0 fc -- '
         'filterByFormula: "N" > ? (exact); fields[]: all', "USE TEMP B-TREE FOR ORDER BY"]
    assert server.requests() == []     # planning costs no request
