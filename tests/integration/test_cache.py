"""The staging cache (cache='on' / 'offline', airtable_sync, airtable_cache_info):
shadow tables in the database file, full and incremental syncs proven by the
test server's request log, offline answers equal to online ones, and a sync
that fails any way (HTTP, 429, interrupt, kill -9) leaving the old cache whole."""
import json
import math
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse

import pytest

from conftest import (EXT, SAMPLE, SIZES, SANITIZED, TOKEN, Server, child_env, connect,
                      create, load_fixture, table_fixture)

FAST = dict(retry_backoff=0.01, rate_limit_wait=0.3, max_retries=1)
TASKS = table_fixture(SAMPLE, "Packaging Tasks")
N99 = table_fixture(SIZES, "Ninety Nine")
N101 = table_fixture(SIZES, "One Hundred One")


def sync(conn, name="t", mode=None):
    sql = "SELECT airtable_sync(?)" if mode is None else "SELECT airtable_sync(?, ?)"
    args = (name,) if mode is None else (name, mode)
    return json.loads(conn.execute(sql, args).fetchone()[0])


def rows(conn, name="t"):
    """Every column of every row, in id order."""
    return conn.execute(f'SELECT * FROM "{name}" ORDER BY id').fetchall()


def shadow(conn, name="t"):
    """The shadow tables' whole content (the cache as stored)."""
    return (conn.execute(f'SELECT * FROM "{name}_rows" ORDER BY id').fetchall(),
            conn.execute(f'SELECT * FROM "{name}_sync" ORDER BY key').fetchall(),
            conn.execute(f'SELECT * FROM "{name}_deleted" ORDER BY id').fetchall())


def edit(server, base, table, **body):
    return server.control("POST", f"/_test/records/{base}/{urllib.parse.quote(table)}", body)


def list_queries(server, base):
    """The query strings of the list-records requests, parsed, in order."""
    return [urllib.parse.parse_qs(r["query"]) for r in server.list_requests(base)]


def meta_requests(server, base):
    return [r for r in server.requests() if r["path"] == f"/v0/meta/bases/{base}/tables"]


def fault_hit(server, action):
    return any(f["action"] == action and f["hits"] > 0
               for f in server.control("GET", "/_test/faults")["faults"])


def wait_for(cond, deadline=30, what="condition"):
    end = time.monotonic() + deadline
    while not cond():
        assert time.monotonic() < end, what + " never held"
        time.sleep(0.02)


# --- the shadow tables ------------------------------------------------------------

def test_create_makes_shadow_tables_and_drop_removes_them(db, server):
    create(db, "t", SIZES, "One", cache="on")
    names = lambda: sorted(r[0] for r in db.execute(
        "SELECT name FROM sqlite_schema WHERE type='table'"))
    assert names() == ["t", "t_deleted", "t_rows", "t_sync"]
    db.execute("ALTER TABLE t RENAME TO u")
    assert names() == ["u", "u_deleted", "u_rows", "u_sync"]
    db.execute("DROP TABLE u")
    assert names() == []


def test_without_a_cache_there_are_no_shadow_tables(db, server):
    create(db, "t", SIZES, "One")
    assert db.execute("SELECT name FROM sqlite_schema WHERE name LIKE 't%'").fetchall() == [("t",)]


def test_shadow_tables_are_read_only_in_defensive_mode(tmp_path, server):
    """xShadowName: with SQLITE_DBCONFIG_DEFENSIVE, ordinary SQL cannot write
    the cache behind the extension's back (the sqlite3 shell, as a user)."""
    path = str(tmp_path / "c.db")
    conn = connect(path)
    create(conn, "t", SIZES, "One", cache="on")
    sync(conn)
    conn.commit()
    conn.close()
    out = subprocess.run(["sqlite3", "-bail", path, f".load {EXT}", ".dbconfig defensive on",
                          "DELETE FROM t_rows"], capture_output=True, text=True,
                         env=child_sync_env(server))
    assert "table t_rows may not be modified" in out.stderr, out.stderr
    assert connect(path).execute("SELECT count(*) FROM t_rows").fetchone() == (1,)


# --- options and errors -------------------------------------------------------------

@pytest.mark.parametrize("opts, message", [
    (dict(cache="sometimes"), "airtable: option cache: 'sometimes' is not off, on or offline"),
    (dict(max_age="60"), "airtable: option max_age needs cache='on' (or 'offline')"),
    (dict(sync_overlap="60"), "airtable: option sync_overlap needs cache='on' (or 'offline')"),
    (dict(cache="on", max_age="-1"),
     "airtable: option max_age: -1 is out of range (0 to 31536000 seconds)"),
    (dict(cache="on", sync_overlap="soon"), "airtable: option sync_overlap: 'soon' is not a number"),
])
def test_bad_cache_options_are_named(db, server, opts, message):
    with pytest.raises(sqlite3.OperationalError) as e:
        create(db, "t", SIZES, "One", **opts)
    assert str(e.value) == message


def test_offline_table_answers_only_from_the_cache_and_syncs_only_when_asked(db, server):
    create(db, "t", SIZES, "Ninety Nine", cache="offline", max_age=0)
    server.clear_log()
    with pytest.raises(sqlite3.OperationalError) as e:
        db.execute("SELECT * FROM t").fetchall()
    assert str(e.value) == ("airtable: table 't' was never synced: cache='offline' answers only "
                            "from the cache; fill it with SELECT airtable_sync('t')")
    assert server.requests() == []
    assert sync(db)["added"] == 99
    edit(server, SIZES, "Ninety Nine", delete=[N99["records"][0]["id"]])
    server.clear_log()
    # However old the cache (max_age 0), a query never syncs it.
    assert db.execute("SELECT count(*) FROM t").fetchone() == (99,)
    assert server.requests() == []
    assert sync(db)["deleted"] == 1
    assert db.execute("SELECT count(*) FROM t").fetchone() == (98,)


def test_never_synced_without_a_token_says_so_first(db, server, monkeypatch):
    """Issue 19: a cached table never synced, with no token set, fails at
    CREATE with what the user needs (the table has no cache yet, and how to
    fill it), the token's absence as the reason; not a bare "no API token"."""
    monkeypatch.delenv("AIRTABLE_TOKEN")
    server.clear_log()
    why = ("no API token: the environment variable AIRTABLE_TOKEN is not set (set it, or "
           "name another variable with token_env= or a file with token_file=)")
    with pytest.raises(sqlite3.OperationalError) as e:
        create(db, "t", SIZES, "One", cache="offline")
    assert str(e.value) == (
        "airtable: table 't' was never synced: cache='offline' answers only from the cache; "
        "fill it with SELECT airtable_sync('t'), which needs the API the first time, for "
        f"the table's columns ({why})")
    with pytest.raises(sqlite3.OperationalError) as e:
        create(db, "t", SIZES, "One", cache="on")
    assert str(e.value) == ("airtable: table 't' was never synced, and its columns come from "
                            f"the API the first time ({why})")
    assert server.requests() == []


def test_no_network_and_never_synced_fails_naming_the_table(db, server, monkeypatch):
    monkeypatch.setenv("AIRTABLE_OFFLINE", "1")
    server.clear_log()
    with pytest.raises(sqlite3.OperationalError) as e:
        create(db, "tasks", SAMPLE, "Packaging Tasks", cache="on")
    assert str(e.value) == (
        "airtable: table 'tasks' has no cache to answer from: it was never synced, and "
        "AIRTABLE_OFFLINE forbids the network; sync it first (SELECT airtable_sync('tasks')) "
        "where the API can be reached")
    assert server.requests() == []


def test_sync_errors_name_the_table_and_the_reason(db, server):
    create(db, "plain", SIZES, "One")
    with pytest.raises(sqlite3.OperationalError, match=r"^airtable_sync: table 'plain' has no "
                       r"cache: declare it with cache='on' or cache='offline'$"):
        sync(db, "plain")
    with pytest.raises(sqlite3.OperationalError, match=r"^airtable_sync: 'nope' is not|no such table"):
        sync(db, "nope")
    create(db, "t", SIZES, "One", cache="on")
    with pytest.raises(sqlite3.OperationalError, match=r"^airtable_sync: mode must be 'auto' or 'full'$"):
        sync(db, "t", "partial")
    with pytest.raises(sqlite3.OperationalError, match=r"^airtable_sync: the arguments must not be NULL$"):
        db.execute("SELECT airtable_sync(NULL)").fetchone()


# --- full sync ----------------------------------------------------------------------

def test_first_sync_is_full_and_costs_one_request_per_page_plus_metadata(db, server):
    create(db, "t", SIZES, "One Hundred One", cache="on")
    server.clear_log()
    res = sync(db)
    assert res == {"table": "t", "mode": "full", "reason": "first sync", "added": 101,
                   "changed": 0, "deleted": 0, "rows": 101, "requests": 3, "sync": 1}
    assert len(meta_requests(server, SIZES)) == 1
    assert len(server.list_requests(SIZES)) == 2
    # Nothing more is asked for while the cache is fresh.
    server.clear_log()
    assert len(rows(db)) == 101
    assert server.requests() == []


@pytest.mark.parametrize("table", ["Packaging Tasks", "Products", "Vendors"])
def test_cached_rows_equal_the_api_rows_exactly(db, server, table):
    """Every column, every type: the cache returns what the API path does."""
    create(db, "api", SAMPLE, table)
    create(db, "t", SAMPLE, table, cache="on")
    sync(db)
    api = rows(db, "api")
    cached = rows(db, "t")
    assert cached == api
    assert [[type(v) for v in r] for r in cached] == [[type(v) for v in r] for r in api]
    assert len(cached) == len(table_fixture(SAMPLE, table)["records"])


def test_first_query_of_a_never_synced_table_syncs_it(db, server):
    create(db, "t", SIZES, "Ninety Nine", cache="on")
    server.clear_log()
    assert db.execute("SELECT count(*) FROM t").fetchone() == (99,)
    assert len(server.list_requests(SIZES)) == 1
    info = db.execute("SELECT name, rows, syncs, last_mode FROM airtable_cache_info").fetchall()
    assert info == [("t", 99, 1, "full")]


def test_full_sync_on_request_counts_nothing_changed(db, server):
    create(db, "t", SIZES, "Ninety Nine", cache="on")
    sync(db)
    res = sync(db, mode="full")
    assert res == {"table": "t", "mode": "full", "reason": "asked", "added": 0, "changed": 0,
                   "deleted": 0, "rows": 99, "requests": 2, "sync": 2}


def test_id_lookup_uses_the_primary_key(db, server):
    create(db, "t", SAMPLE, "Products", cache="on")
    sync(db)
    rid = table_fixture(SAMPLE, "Products")["records"][7]["id"]
    plan = " ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN SELECT * FROM t WHERE id = ?", (rid,)))
    assert "VIRTUAL TABLE INDEX 1:v1 t0.2.0.0.0.0 -- cache: id = ?" in plan
    assert db.execute("SELECT id FROM t WHERE id = ?", (rid,)).fetchall() == [(rid,)]
    # The rows table answers it through its primary key, not a scan.
    inner = db.execute("EXPLAIN QUERY PLAN SELECT rowid, id, created_time, vals FROM t_rows "
                       "WHERE 1 AND id = ?", (rid,)).fetchall()
    assert [r[3] for r in inner] == ["SEARCH t_rows USING INDEX sqlite_autoindex_t_rows_1 (id=?)"]
    # Comparisons SQLite must convert (a number against a TEXT column) are
    # left to SQLite: same answer as the API table.
    create(db, "api", SAMPLE, "Products")
    for where, args in [("id = ?", (rid,)), ("id > ?", (rid,)), ("id <= ?", (rid,)),
                        ("created_time >= ?", ("2024-01-05",)), ("id = ?", (5,)),
                        ("id IN (?, ?)", (rid, "recNOPE")), ("id = ? COLLATE NOCASE", (rid.lower(),))]:
        q = f"SELECT id FROM {{}} WHERE {where} ORDER BY id"
        assert db.execute(q.format("t"), args).fetchall() == db.execute(q.format("api"), args).fetchall(), where


# --- incremental sync -----------------------------------------------------------------

def test_incremental_sync_picks_up_edits_additions_and_deletions(db, server, tmp_path):
    create(db, "t", SIZES, "One Hundred One", cache="on")
    sync(db)
    recs = N101["records"]
    edit(server, SIZES, "One Hundred One",
         update=[{"id": recs[3]["id"], "fields": {"Name": "changed 3"}},
                 {"id": recs[50]["id"], "fields": {"N": 5000}}],
         create=[{"fields": {"Name": "new one", "N": 7}}],
         delete=[recs[10]["id"]])
    server.clear_log()
    res = sync(db)
    # 1 metadata + 1 page of changed records + 2 pages of ids (101 records).
    assert res == {"table": "t", "mode": "incremental", "added": 1, "changed": 2, "deleted": 1,
                   "rows": 101, "requests": 4, "sync": 2}
    assert len(meta_requests(server, SIZES)) == 1
    queries = list_queries(server, SIZES)
    assert len(queries) == 3
    since = re.fullmatch(r"OR\(IS_AFTER\(LAST_MODIFIED_TIME\(\), DATETIME_PARSE\('([^']+)'\)\), "
                         r"IS_AFTER\(CREATED_TIME\(\), DATETIME_PARSE\('\1'\)\)\)",
                         queries[0]["filterByFormula"][0])
    assert since, queries[0]
    assert "fields[]" not in queries[0]
    n_field = next(f["id"] for f in N101["fields"] if f["name"] == "N")
    assert [q.get("fields[]") for q in queries[1:]] == [[n_field], [n_field]]
    assert [r["records"] for r in server.list_requests(SIZES)] == [3, 100, 1]
    # The result equals a full sync into a fresh cache.
    fresh = connect(str(tmp_path / "fresh.db"))
    create(fresh, "t", SIZES, "One Hundred One", cache="on")
    assert sync(fresh)["rows"] == 101
    assert rows(db) == rows(fresh)
    assert (db.execute("SELECT id, created_time, fields, vals FROM t_rows ORDER BY id").fetchall()
            == fresh.execute("SELECT id, created_time, fields, vals FROM t_rows ORDER BY id").fetchall())
    fresh.close()
    assert db.execute("SELECT id, sync FROM t_deleted").fetchall() == [(recs[10]["id"], 2)]
    assert db.execute('SELECT "Name" FROM t WHERE id = ?', (recs[3]["id"],)).fetchone() == ("changed 3",)


def test_incremental_sync_with_nothing_changed_costs_three_requests(db, server):
    create(db, "t", SIZES, "Ninety Nine", cache="on")
    sync(db)
    before = shadow(db)[0]
    res = sync(db)
    assert res == {"table": "t", "mode": "incremental", "added": 0, "changed": 0, "deleted": 0,
                   "rows": 99, "requests": 3, "sync": 2}
    after = shadow(db)[0]
    # Only the sync number each row was last seen by moved.
    assert [r[:3] + r[4:] for r in before] == [r[:3] + r[4:] for r in after]


def test_overlap_refetches_recent_edits_without_counting_them_as_changed(db, server):
    create(db, "t", SIZES, "Ninety Nine", cache="on")
    sync(db)
    edit(server, SIZES, "Ninety Nine", update=[{"id": N99["records"][0]["id"], "fields": {"N": -1}}])
    assert sync(db)["changed"] == 1
    server.clear_log()
    res = sync(db)          # the edit is within sync_overlap (300 s) of the last sync
    assert server.list_requests(SIZES)[0]["records"] == 1
    assert (res["changed"], res["added"], res["deleted"]) == (0, 0, 0)


def test_record_listed_but_not_changed_since_is_fetched_by_id(db, server):
    """A record the changed-since listing cannot see (its times are before the
    last sync, as for one that entered a view unchanged) is fetched by
    RECORD_ID() because the id listing shows it."""
    create(db, "t", SIZES, "Ninety Nine", cache="on")
    sync(db)
    created = edit(server, SIZES, "Ninety Nine",
                   create=[{"fields": {"Name": "old one", "N": 1},
                            "createdTime": "2020-01-01T00:00:00.000Z",
                            "modifiedTime": "2020-01-01T00:00:00.000Z"}])["created"]
    server.clear_log()
    res = sync(db)
    assert (res["added"], res["rows"], res["requests"]) == (1, 100, 4)
    assert list_queries(server, SIZES)[2]["filterByFormula"] == [f"OR(RECORD_ID()='{created[0]}')"]
    assert db.execute('SELECT "Name", created_time FROM t WHERE id = ?', created).fetchone() == (
        "old one", "2020-01-01T00:00:00.000Z")


def test_view_sync_deletes_records_that_left_the_view(db, server):
    view = "Active products"          # filter: Active is checked
    create(db, "t", SAMPLE, "Products", view=view, cache="on")
    create(db, "api", SAMPLE, "Products", view=view)
    sync(db)
    assert rows(db) == rows(db, "api")
    # Uncheck one active product: it leaves the view without being deleted.
    first = db.execute("SELECT id FROM t ORDER BY id LIMIT 1").fetchone()[0]
    edit(server, SAMPLE, "Products", update=[{"id": first, "fields": {"Active": False}}])
    res = sync(db)
    assert (res["mode"], res["deleted"], res["added"], res["changed"]) == ("incremental", 1, 0, 0)
    assert rows(db) == rows(db, "api")
    assert db.execute("SELECT count(*) FROM t WHERE id = ?", (first,)).fetchone() == (0,)


# --- max_age ------------------------------------------------------------------------------

def test_max_age_zero_syncs_before_every_query(db, server):
    create(db, "t", SIZES, "One", cache="on", max_age=0)
    db.execute("SELECT * FROM t").fetchall()
    server.clear_log()
    db.execute("SELECT * FROM t").fetchall()
    assert len(server.list_requests(SIZES)) == 2        # changed-since + ids
    assert db.execute("SELECT syncs, last_mode FROM airtable_cache_info").fetchone() == (2, "incremental")


def test_fresh_cache_answers_without_token_or_requests(tmp_path, server, monkeypatch):
    path, conn = synced_file(tmp_path, max_age=3600)
    conn.commit()
    conn.close()
    monkeypatch.delenv("AIRTABLE_TOKEN")
    server.clear_log()
    conn = connect(path)
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (99,)
    assert server.requests() == []
    conn.close()


def test_stale_cache_without_token_says_what_to_do(tmp_path, server, monkeypatch):
    path, conn = synced_file(tmp_path, "One", max_age=0)
    conn.commit()
    conn.close()
    monkeypatch.delenv("AIRTABLE_TOKEN")
    conn = connect(path)
    with pytest.raises(sqlite3.OperationalError) as e:
        conn.execute("SELECT * FROM t").fetchall()
    assert str(e.value) == (
        "airtable: table 't': syncing the cache needs the API: no API token: the environment "
        "variable AIRTABLE_TOKEN is not set (set it, or name another variable with token_env= "
        "or a file with token_file=); to answer from the cache as it is, set AIRTABLE_OFFLINE=1")
    monkeypatch.setenv("AIRTABLE_OFFLINE", "1")
    conn.close()
    conn = connect(path)
    assert conn.execute('SELECT "N" FROM t').fetchall() == [(1,)]
    conn.close()


# --- offline --------------------------------------------------------------------------------

# Queries whose answers must not depend on where the rows come from. (The
# pushdown issue's differential corpus joins this list once it exists.)
CORPUS = [
    "SELECT * FROM {t} ORDER BY id",
    "SELECT * FROM {t}",
    "SELECT count(*) FROM {t}",
    "SELECT id, created_time FROM {t} WHERE id = '{rid}'",
    "SELECT * FROM {t} WHERE id IN ('{rid}', 'recNOTTHERE0000000') ORDER BY id",
    "SELECT \"Name\", \"Unit Price\" FROM {t} WHERE \"Unit Price\" > 100 ORDER BY 2 DESC, id LIMIT 7",
    "SELECT \"Active\", count(*), sum(\"Unit Price\"), avg(\"Weight (kg)\") FROM {t} GROUP BY 1 ORDER BY 1",
    "SELECT id FROM {t} WHERE \"Active\" = 1 AND \"SKU\" < '000500' ORDER BY id",
    "SELECT id, \"Vendor\" FROM {t} WHERE \"Vendor\" LIKE '%rec5%' ORDER BY created_time, id LIMIT 20",
    "SELECT id FROM {t} WHERE created_time BETWEEN '2024-01-05' AND '2024-01-09' ORDER BY id",
    "SELECT max(\"Weight (kg)\"), min(\"SKU\"), typeof(\"Unit Price\") FROM {t}",
    "SELECT json_array_length(\"Packaging Tasks\"), count(*) FROM {t} GROUP BY 1 ORDER BY 1",
    "SELECT id FROM {t} WHERE \"Vendor\" IS NULL OR \"Weight (kg)\" = 0 ORDER BY id",
    "SELECT id FROM {t} WHERE id IN (SELECT id FROM {t} WHERE \"Active\") AND \"Unit Price\" < 50 ORDER BY 1",
    "SELECT id, \"Name\" FROM {t} WHERE id > '{rid}' ORDER BY id LIMIT 3",
]


def test_offline_answers_equal_online_answers_with_server_stopped(tmp_path, monkeypatch):
    """Sync a table, stop the server, drop the token: the same answers
    offline (through AIRTABLE_OFFLINE on the table declared cache='on', and
    through a table declared cache='offline') as from the API."""
    srv = Server()
    monkeypatch.setenv("AIRTABLE_API_URL", srv.url)
    path = str(tmp_path / "c.db")
    conn = connect(path)
    create(conn, "products", SAMPLE, "Products", cache="on")
    create(conn, "api", SAMPLE, "Products")
    sync(conn, "products")
    rid = table_fixture(SAMPLE, "Products")["records"][17]["id"]
    online = [conn.execute(q.format(t="api", rid=rid)).fetchall() for q in CORPUS]
    assert all(online[:3]) and len(online[0]) == 60
    assert [conn.execute(q.format(t="products", rid=rid)).fetchall() for q in CORPUS] == online
    conn.execute("DROP TABLE api")
    conn.commit()
    conn.close()
    srv.stop()
    monkeypatch.delenv("AIRTABLE_TOKEN")
    monkeypatch.setenv("AIRTABLE_OFFLINE", "1")
    conn = connect(path)
    assert [conn.execute(q.format(t="products", rid=rid)).fetchall() for q in CORPUS] == online
    with pytest.raises(sqlite3.OperationalError, match=r"^airtable_sync: table 'products' cannot "
                       r"be synced: AIRTABLE_OFFLINE is set \(no network\)$"):
        sync(conn, "products")
    conn.close()
    # Without AIRTABLE_OFFLINE the cache is still fresh (max_age): it
    # answers with no token, also after a rename (the shadow tables follow).
    monkeypatch.delenv("AIRTABLE_OFFLINE")
    conn = connect(path)
    conn.execute("ALTER TABLE products RENAME TO p2")
    assert [conn.execute(q.format(t="p2", rid=rid)).fetchall() for q in CORPUS] == online
    conn.close()


# --- atomicity ----------------------------------------------------------------------------

FAULTS = {
    "http 500": {"action": "status", "status": 500, "times": -1},
    "429 beyond the retry budget": {"action": "status", "status": 429, "times": -1},
    "malformed page": {"action": "body", "body": "{\"records\": [{\"id\": 1}]}", "times": -1},
    "connection reset": {"action": "reset", "times": -1},
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("step", ["changed-since", "ids"])
def test_failed_sync_leaves_the_old_cache_whole(db, server, fault, step):
    create(db, "t", SIZES, "One Hundred One", cache="on", **FAST)
    sync(db)
    recs = N101["records"]
    edit(server, SIZES, "One Hundred One",
         update=[{"id": recs[0]["id"], "fields": {"N": 12345}}], delete=[recs[1]["id"]])
    before = shadow(db)
    answers = rows(db)
    spec = dict(FAULTS[fault], path="^/v0/appSize",
                query="filterByFormula" if step == "changed-since" else "fields")
    server.faults(spec)
    with pytest.raises(sqlite3.OperationalError) as e:
        sync(db)
    assert str(e.value).endswith("(the cache of 't' is unchanged)"), str(e.value)
    assert {"http 500": "HTTP 500", "429 beyond the retry budget": "HTTP 429",
            "malformed page": "table 'One Hundred One'",
            "connection reset": "(GET http"}[fault] in str(e.value)
    assert shadow(db) == before
    assert rows(db) == answers
    assert not db.in_transaction
    # The next sync, with the fault gone, brings the edits in.
    server.control("DELETE", "/_test/faults")
    server.control("POST", "/_test/rate_limit/reset")
    res = sync(db)
    assert (res["changed"], res["deleted"], res["sync"]) == (1, 1, 2)


def test_failed_sync_inside_a_transaction_keeps_the_transaction(db, server):
    create(db, "t", SIZES, "One", cache="on", **FAST)
    sync(db)
    db.execute("CREATE TABLE mine(x)")
    db.execute("INSERT INTO mine VALUES (1)")
    assert db.in_transaction
    server.faults({"path": "^/v0/appSize", "action": "status", "status": 500, "times": -1})
    with pytest.raises(sqlite3.OperationalError):
        sync(db)
    assert db.in_transaction
    db.commit()
    assert db.execute("SELECT x FROM mine").fetchall() == [(1,)]


def test_interrupted_sync_leaves_the_old_cache_whole(db, server):
    create(db, "t", SIZES, "One Hundred One", cache="on")
    sync(db)
    edit(server, SIZES, "One Hundred One", delete=[N101["records"][5]["id"]])
    before = shadow(db)
    server.faults({"path": "^/v0/appSize", "action": "stall", "seconds": 30, "query": "fields"})

    def interrupt():
        wait_for(lambda: fault_hit(server, "stall"), what="the stall")
        db.interrupt()
    t = threading.Thread(target=interrupt)
    t.start()
    with pytest.raises(sqlite3.OperationalError) as e:
        sync(db)
    t.join()
    assert str(e.value).startswith("airtable: interrupted (GET http"), str(e.value)
    assert shadow(db) == before
    assert not db.in_transaction
    server.control("DELETE", "/_test/faults")
    assert sync(db)["deleted"] == 1


SYNC_CHILD = """
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.enable_load_extension(True)
c.load_extension(sys.argv[2])
print('syncing', flush=True)
c.execute("SELECT airtable_sync('tasks', 'full')").fetchone()
c.commit()
print('synced', flush=True)
"""


def child_sync_env(server):
    env = child_env(AIRTABLE_TOKEN=TOKEN, AIRTABLE_API_URL=server.url)
    if SANITIZED:
        env["LD_PRELOAD"] = os.environ["LD_PRELOAD"]
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    return env


def test_kill_9_in_the_middle_of_a_sync_leaves_the_old_cache(tmp_path, server):
    """A real kill -9 of a child process while its sync waits for a page: the
    database opens afterwards with the previous cache, whole."""
    path = str(tmp_path / "c.db")
    conn = connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    create(conn, "tasks", SAMPLE, "Packaging Tasks", cache="on")
    sync(conn, "tasks")
    conn.commit()
    before = shadow(conn, "tasks")
    conn.close()
    edit(server, SAMPLE, "Packaging Tasks", delete=[TASKS["records"][0]["id"]])
    server.faults({"path": "^/v0/appPackagingOps01/tbl", "action": "stall", "seconds": 30,
                   "skip": 12})
    # The child has a rate limiter of its own: let it start with a clean
    # window at the server, or its first requests could meet a 429.
    server.control("POST", "/_test/rate_limit/reset")
    p = subprocess.Popen([sys.executable, "-c", SYNC_CHILD, path, EXT], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=child_sync_env(server), text=True)
    wait_for(lambda: fault_hit(server, "stall") or p.poll() is not None, what="the stall")
    assert p.poll() is None, p.communicate()
    p.kill()
    p.wait(timeout=10)
    assert p.returncode == -9
    conn = connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert shadow(conn, "tasks") == before
    assert conn.execute("SELECT count(*) FROM tasks").fetchone() == (2500,)
    conn.close()


def test_reader_in_another_connection_never_sees_half_a_sync(tmp_path, server):
    """WAL: while one connection's sync waits for its second page (the first
    page's 100 records written), another connection reads the old cache;
    after the commit, the new one."""
    path = str(tmp_path / "c.db")
    writer = connect(path)
    writer.execute("PRAGMA journal_mode=WAL")
    create(writer, "t", SIZES, "One Hundred One", cache="on")
    sync(writer)
    writer.commit()
    reader = connect(path)
    old = rows(reader)
    recs = N101["records"]
    edit(server, SIZES, "One Hundred One",
         update=[{"id": r["id"], "fields": {"N": 999}} for r in recs[:10]],
         create=[{"fields": {"Name": "new", "N": 1}}])
    server.faults({"path": "^/v0/appSizeTests00001/tbl", "action": "stall", "seconds": 3,
                   "skip": 1})
    done = {}

    def run():
        try:
            w = connect(path)   # a connection of its own thread
            done["res"] = sync(w, "t", "full")
            w.commit()
            w.close()
        except Exception as e:
            done["error"] = e
    t = threading.Thread(target=run)
    t.start()
    wait_for(lambda: fault_hit(server, "stall") or done, what="the stall")
    assert not done, done
    assert rows(reader) == old
    assert reader.execute("SELECT count(*) FROM t_rows WHERE seen = 2").fetchone() == (0,)
    t.join()
    assert (done["res"]["changed"], done["res"]["added"]) == (10, 1)
    new = rows(reader)
    assert len(new) == 102 and new != old
    reader.close()
    writer.close()


# --- airtable_cache_info ---------------------------------------------------------------------

def test_cache_info_shows_each_cached_table(db, server):
    create(db, "a", SIZES, "Ninety Nine", cache="on")
    create(db, "b", SIZES, "One", cache="on")
    create(db, "plain", SIZES, "One")
    sync(db, "a")
    sync(db, "a")
    info = db.execute("SELECT name, schema, base, table_id, table_name, view_id, rows, syncs, "
                      "last_mode, last_added, last_changed, last_deleted, last_requests, "
                      "total_requests FROM airtable_cache_info ORDER BY name").fetchall()
    assert info == [
        ("a", "main", SIZES, N99["id"], "Ninety Nine", None, 99, 2, "incremental", 0, 0, 0, 3, 5),
        ("b", "main", None, None, None, None, 0, None, None, None, None, None, None, None)]
    last = db.execute("SELECT last_sync FROM airtable_cache_info WHERE name='a'").fetchone()[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", last)


def test_cache_info_with_no_cached_tables_is_empty(db):
    assert db.execute("SELECT * FROM airtable_cache_info").fetchall() == []


# --- schema changes between syncs ------------------------------------------------------------

def fields_edit(server, base, table, **body):
    return server.control("POST", f"/_test/fields/{base}/{urllib.parse.quote(table)}", body)


def columns(conn, name="t"):
    return [r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')]


def synced_file(tmp_path, table="Ninety Nine", **opts):
    """A database file holding table t of the sizes base, cached (with the
    options given) and synced once, and the connection that declared it."""
    path = str(tmp_path / "c.db")
    conn = connect(path)
    create(conn, "t", SIZES, table, cache="on", **opts)
    sync(conn)
    return path, conn


def test_field_added_full_sync_new_connection_sees_it_old_one_does_not(tmp_path, server):
    path, old = synced_file(tmp_path)
    old.commit()
    first = N99["records"][0]["id"]
    fields_edit(server, SIZES, "Ninety Nine",
                add=[{"name": "Done", "type": "checkbox", "values": {first: True}}])
    res = sync(old)
    # The one record with a value in the new field changed; the rest did not.
    assert (res["mode"], res["reason"], res["changed"], res["rows"]) == ("full", "fields changed", 1, 99)
    old.commit()
    # The connection that declared the old columns keeps them.
    assert columns(old) == ["id", "created_time", "Name", "N"]
    new = connect(path)
    assert columns(new) == ["id", "created_time", "Name", "N", "Done"]
    assert new.execute('SELECT count(*), sum("Done") FROM t').fetchone() == (99, 1)
    assert new.execute('SELECT "Done" FROM t WHERE id = ?', (first,)).fetchone() == (1,)
    create(new, "api", SIZES, "Ninety Nine")
    assert rows(new) == rows(new, "api")
    old.close()
    new.close()


def test_field_removed_reads_null_in_the_old_connection(tmp_path, server):
    path, old = synced_file(tmp_path)
    fields_edit(server, SIZES, "Ninety Nine", remove=["N"])
    assert sync(old)["reason"] == "fields changed"
    old.commit()
    assert old.execute('SELECT count(*), count("N"), count("Name") FROM t').fetchone() == (99, 0, 99)
    new = connect(path)
    assert columns(new) == ["id", "created_time", "Name"]
    old.close()
    new.close()


def test_field_renamed_is_incremental_and_keeps_values(tmp_path, server):
    path, old = synced_file(tmp_path)
    before = old.execute('SELECT id, "N" FROM t ORDER BY id').fetchall()
    fields_edit(server, SIZES, "Ninety Nine", rename={"N": "Count"})
    res = sync(old)
    assert (res["mode"], res["changed"], res["requests"]) == ("incremental", 0, 3)
    old.commit()
    assert old.execute('SELECT id, "N" FROM t ORDER BY id').fetchall() == before
    new = connect(path)
    assert columns(new) == ["id", "created_time", "Name", "Count"]
    assert new.execute('SELECT id, "Count" FROM t ORDER BY id').fetchall() == before
    old.close()
    new.close()


def test_field_type_changed_full_sync_values_follow_the_new_type(tmp_path, server):
    path, old = synced_file(tmp_path)
    recs = N99["records"]
    fields_edit(server, SIZES, "Ninety Nine",
                retype={"N": {"type": "singleLineText",
                              "values": {r["id"]: str(r["fields"].get("N", "")) + " pcs"
                                         for r in recs}}})
    res = sync(old)
    assert (res["mode"], res["reason"], res["changed"]) == ("full", "fields changed", 99)
    old.commit()
    new = connect(path)
    create(new, "api", SIZES, "Ninety Nine")
    assert rows(new) == rows(new, "api")
    assert new.execute('SELECT typeof("N"), "N" FROM t WHERE id = ?', (recs[0]["id"],)).fetchone() == (
        "text", str(recs[0]["fields"].get("N", "")) + " pcs")
    # The old connection declared N as INTEGER; its values are the new text.
    assert old.execute('SELECT typeof("N") FROM t LIMIT 1').fetchone() == ("text",)
    old.close()
    new.close()


# --- export from a cache -------------------------------------------------------------------

CLI = os.path.join(os.path.dirname(EXT), "airtable-export")


def export(conn, *options):
    marks = ", ".join("?" * len(options))
    return json.loads(conn.execute(f"SELECT airtable_export({marks})", options).fetchone()[0])


def test_export_from_cache_equals_export_from_the_api_byte_for_byte(tmp_path, server, monkeypatch):
    path = str(tmp_path / "c.db")
    conn = connect(path)
    for name, table in [("tasks", "Packaging Tasks"), ("products", "Products"), ("vendors", "Vendors")]:
        create(conn, name, SAMPLE, table, cache="on")
        sync(conn, name)
    conn.commit()
    # CSV of every table; JSON Lines (nested values typed) of the two small
    # ones, to keep the test short: the writers are the same either way.
    for fmt, tables in [("csv", ["all=1"]), ("jsonl", ["table=Products", "table=Vendors"])]:
        api = export(conn, f"base={SAMPLE}", *tables, f"out={tmp_path}/api-{fmt}", f"format={fmt}")
        monkeypatch.delenv("AIRTABLE_TOKEN")
        server.clear_log()
        cached = export(conn, f"base={SAMPLE}", *tables, f"out={tmp_path}/cache-{fmt}",
                        f"format={fmt}", f"from_cache={path}")
        assert server.requests() == []
        monkeypatch.setenv("AIRTABLE_TOKEN", TOKEN)
        assert cached["requests"] == 0 and cached["options"]["from_cache"] == path
        assert [(t["name"], t["rows"], t["sync"]) for t in cached["tables"]] == [
            ("Packaging Tasks", 2500, 1), ("Products", 60, 1), ("Vendors", 15, 1)][3 - len(api["tables"]):]
        for t in api["tables"]:
            for key in ("data_file", "schema_file", "ddl_file"):
                a = (tmp_path / f"api-{fmt}" / t[key]).read_bytes()
                b = (tmp_path / f"cache-{fmt}" / t[key]).read_bytes()
                assert a == b, (fmt, t[key])
    conn.close()


def test_export_since_sync_has_only_the_changed_records(tmp_path, server):
    path = str(tmp_path / "c.db")
    conn = connect(path)
    create(conn, "t", SIZES, "Ninety Nine", cache="on")
    sync(conn)
    recs = N99["records"]
    edit(server, SIZES, "Ninety Nine", update=[{"id": recs[4]["id"], "fields": {"N": 44}}],
         create=[{"id": "recNEWNEWNEWNEW01", "fields": {"Name": "x", "N": 1}}],
         delete=[recs[5]["id"]])
    assert sync(conn)["sync"] == 2
    conn.commit()
    m = export(conn, f"base={SIZES}", "table=Ninety Nine", f"out={tmp_path}/d", "format=jsonl",
               f"from_cache={path}", "since_sync=1")
    assert (m["tables"][0]["rows"], m["tables"][0]["sync"], m["options"]["since_sync"]) == (2, 2, 1)
    lines = [json.loads(x) for x in (tmp_path / "d" / m["tables"][0]["data_file"]).read_text().splitlines()]
    assert sorted((r["id"], r["n"]) for r in lines) == sorted([(recs[4]["id"], 44), ("recNEWNEWNEWNEW01", 1)])
    m = export(conn, f"base={SIZES}", "all=1", f"out={tmp_path}/e", f"from_cache={path}", "since_sync=2")
    assert m["tables"][0]["rows"] == 0
    conn.close()


def test_export_command_from_cache_needs_no_token(tmp_path, server):
    path = str(tmp_path / "c.db")
    conn = connect(path)
    create(conn, "vendors", SAMPLE, "Vendors", cache="on")
    sync(conn, "vendors")
    conn.commit()
    conn.close()
    env = child_env()
    env.pop("AIRTABLE_TOKEN", None)
    env.pop("AIRTABLE_API_URL", None)
    if SANITIZED:
        env["ASAN_OPTIONS"] = "detect_leaks=1:exitcode=86"
    p = subprocess.run([CLI, "--base", SAMPLE, "--all", "--from-cache", path, "--out",
                        str(tmp_path / "out"), "--quiet"], capture_output=True, text=True, env=env,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    assert [(t["name"], t["rows"]) for t in manifest["tables"]] == [("Vendors", 15)]


@pytest.mark.parametrize("via", ["sql", "command"])
def test_python_export_from_cache_either_way(tmp_path, server, monkeypatch, via):
    from airtable_sqlite import export as airtable_export
    path, conn = synced_file(tmp_path)
    conn.commit()
    conn.close()
    monkeypatch.delenv("AIRTABLE_TOKEN")
    kw = dict(extension=EXT) if via == "sql" else dict(command=CLI)
    if via == "command" and SANITIZED:
        monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=0")
    m = airtable_export.export(SIZES, str(tmp_path / "out"), all=True, via=via,
                               from_cache=path, since_sync=0, format="jsonl", **kw)
    assert [(t["name"], t["rows"], t["sync"]) for t in m["tables"]] == [("Ninety Nine", 99, 1)]
    assert m["options"]["from_cache"] == path and m["requests"] == 0


@pytest.mark.parametrize("options, message", [
    (["table=Nope"], "airtable: option table: the cache in '{path}' has no table 'Nope' of base "
                     "appSizeTests00001 (cached tables: 'Ninety Nine')"),
    (["all=1", "since_sync=x"], "airtable: option since_sync: 'x' is not a sync number (a whole "
                                "number, 0 or more)"),
    (["all=1", "view=Grid view"], "airtable: options from_cache and view exclude each other: a "
                                  "cache holds the view it was declared with, and is read locally"),
])
def test_export_from_cache_errors(tmp_path, server, options, message):
    path = str(tmp_path / "c.db")
    conn = connect(path)
    create(conn, "t", SIZES, "Ninety Nine", cache="on")
    sync(conn)
    conn.commit()
    with pytest.raises(sqlite3.OperationalError) as e:
        export(conn, f"base={SIZES}", f"out={tmp_path}/x", f"from_cache={path}", *options)
    assert str(e.value) == message.format(path=path)
    with pytest.raises(sqlite3.OperationalError) as e:
        export(conn, f"base={SAMPLE}", "all=1", f"out={tmp_path}/x", f"from_cache={path}")
    assert str(e.value) == f"airtable: option from_cache: '{path}' holds no synced cache of base {SAMPLE}"
    with pytest.raises(sqlite3.OperationalError) as e:
        export(conn, f"base={SIZES}", "all=1", f"out={tmp_path}/x", "since_sync=3")
    assert str(e.value) == "airtable: option since_sync needs from_cache= (sync numbers are a cache's)"
    with pytest.raises(sqlite3.OperationalError) as e:
        export(conn, f"base={SIZES}", "all=1", f"out={tmp_path}/x", "cache=on")
    assert str(e.value) == ("airtable: option cache belongs to airtable tables, not to an export; "
                            "to export what a table's cache holds, use from_cache=")
    conn.close()


# --- found in review ---------------------------------------------------------------------------

def test_computed_and_linked_values_changed_without_an_edit_are_picked_up(db, server):
    """LAST_MODIFIED_TIME() counts a user's edits of non-computed fields, so a
    link set from the other side (or a formula, rollup, lookup or count
    recomputed) leaves it unmoved: the id listing asks for those fields and
    compares them, at no extra request."""
    create(db, "t", SAMPLE, "Products", cache="on")
    create(db, "api", SAMPLE, "Products")
    sync(db)
    products = table_fixture(SAMPLE, "Products")
    rec = products["records"][3]
    vendor = table_fixture(SAMPLE, "Vendors")["records"][0]["id"]
    edit(server, SAMPLE, "Products", update=[{"id": rec["id"], "fields": {"Vendor": [vendor]},
                                            "modifiedTime": "2020-01-01T00:00:00.000Z"}])
    server.clear_log()
    res = sync(db)
    assert (res["mode"], res["changed"], res["requests"]) == ("incremental", 1, 3)
    links = sorted(f["id"] for f in products["fields"] if f["type"] == "multipleRecordLinks")
    assert sorted(list_queries(server, SAMPLE)[1]["fields[]"]) == links
    assert rows(db) == rows(db, "api")
    assert db.execute('SELECT "Vendor" FROM t WHERE id = ?', (rec["id"],)).fetchone() == (
        json.dumps([vendor], separators=(",", ":")),)


def test_in_a_table_synced_from_elsewhere_every_field_is_compared(db, server):
    """A table Airtable syncs from another source (it has an
    externalSyncSource field) is written by the sync, not by a user, so
    LAST_MODIFIED_TIME() says nothing: the id listing asks for every field."""
    fields_edit(server, SIZES, "Ninety Nine", add=[
        {"name": "Source", "type": "externalSyncSource",
         "options": {"choices": [{"id": "selAAAAAAAAAAAAAA", "name": "ERP"}]}}])
    create(db, "t", SIZES, "Ninety Nine", cache="on")
    create(db, "api", SIZES, "Ninety Nine")
    sync(db)
    rec = N99["records"][7]["id"]
    edit(server, SIZES, "Ninety Nine", update=[{"id": rec, "fields": {"N": 424242},
                                                "modifiedTime": "2020-01-01T00:00:00.000Z"}])
    server.clear_log()
    res = sync(db)
    assert (res["mode"], res["changed"], res["requests"]) == ("incremental", 1, 3)
    assert "fields[]" not in list_queries(server, SIZES)[1]
    assert rows(db) == rows(db, "api")


def test_record_deleted_between_the_two_listings_is_deleted(tmp_path, server):
    """A record the changed-records listing returns, deleted before the id
    listing runs, is gone from the cache after that same sync."""
    path, conn = synced_file(tmp_path)
    conn.commit()
    rec = N99["records"][2]["id"]
    edit(server, SIZES, "Ninety Nine", update=[{"id": rec, "fields": {"N": 777}}])
    # The id listing (it asks for fields[]) waits 3 s at the server, then
    # answers from the records as they are then: without this one.
    server.faults({"path": "^/v0/appSizeTests00001/tbl", "action": "stall", "seconds": 3,
                   "query": "fields"})
    done = {}

    def run():
        w = connect(path)
        try:
            done["res"] = sync(w)
            w.commit()
        except Exception as e:
            done["error"] = e
        w.close()
    t = threading.Thread(target=run)
    t.start()
    wait_for(lambda: fault_hit(server, "stall") or done, what="the stall")
    edit(server, SIZES, "Ninety Nine", delete=[rec])
    t.join()
    assert "error" not in done, done
    assert (done["res"]["changed"], done["res"]["deleted"], done["res"]["rows"]) == (1, 1, 98)
    assert conn.execute("SELECT count(*) FROM t WHERE id = ?", (rec,)).fetchone() == (0,)
    create(conn, "api", SIZES, "Ninety Nine")
    assert rows(conn) == rows(conn, "api")


def test_sync_while_the_same_table_is_being_read_is_refused(db, server):
    create(db, "t", SIZES, "Ninety Nine", cache="on")
    sync(db)
    with pytest.raises(sqlite3.OperationalError, match=r"^airtable_sync: table 't' is being read by "
                       r"a statement in progress; sync it in a statement of its own$"):
        db.execute("SELECT a.id, CASE WHEN a.id = (SELECT min(id) FROM t) THEN airtable_sync('t') END "
                   "FROM t a").fetchall()
    assert sync(db)["sync"] == 2


def test_sync_inside_a_writing_statement_says_to_sync_first(db, server):
    create(db, "t", SIZES, "Ninety Nine", cache="on")
    with pytest.raises(sqlite3.OperationalError) as e:
        db.execute("CREATE TABLE copy AS SELECT * FROM t")
    assert str(e.value) == (
        "airtable: cache of 't': a sync cannot run inside a statement that writes (INSERT ... "
        "SELECT, CREATE TABLE ... AS SELECT, ...): run SELECT airtable_sync('t') on its own first "
        "(the cache of 't' is unchanged)")
    sync(db)
    db.execute("CREATE TABLE copy AS SELECT * FROM t")
    assert db.execute("SELECT count(*) FROM copy").fetchone() == (99,)


def add_empty_then_numbered(server):
    """Fields E (never a value) and M (1, 2, ... by record) after Name and N:
    removing E later moves M in the packed layout, and changes no record's
    fields JSON."""
    fields_edit(server, SIZES, "Ninety Nine", add=[
        {"name": "E", "type": "singleLineText"},
        {"name": "M", "type": "number", "options": {"precision": 0},
         "values": {r["id"]: i + 1 for i, r in enumerate(N99["records"])}}])


def test_full_sync_asked_after_a_schema_change_rewrites_unchanged_records(db, server):
    """A record whose fields' JSON is the same must still be repacked when
    the field list changed, even when the full sync was asked for."""
    add_empty_then_numbered(server)
    create(db, "t", SIZES, "Ninety Nine", cache="on")
    sync(db)
    fields_edit(server, SIZES, "Ninety Nine", remove=["E"])
    res = sync(db, mode="full")
    assert (res["mode"], res["reason"], res["changed"]) == ("full", "fields changed", 0)
    create(db, "api", SIZES, "Ninety Nine")
    assert db.execute('SELECT id, "M" FROM t ORDER BY id').fetchall() == \
        db.execute('SELECT id, "M" FROM api ORDER BY id').fetchall()
    assert db.execute('SELECT count("E") FROM t').fetchone() == (0,)


def test_layout_read_inside_a_transaction_follows_the_sync_and_its_rollback(db, server):
    add_empty_then_numbered(server)
    create(db, "t", SIZES, "Ninety Nine", cache="on")
    sync(db)
    db.commit()
    before = db.execute('SELECT id, "N", "M" FROM t ORDER BY id').fetchall()
    assert [m for _, _, m in before] != [None] * 99
    db.execute("CREATE TABLE mark(x)")           # Python opens a transaction here
    db.execute("INSERT INTO mark VALUES (1)")
    assert db.in_transaction
    assert db.execute('SELECT id, "N", "M" FROM t ORDER BY id').fetchall() == before
    fields_edit(server, SIZES, "Ninety Nine", remove=["E"])
    assert sync(db)["reason"] == "fields changed"
    # M is still M, not what is now packed where it was.
    assert db.execute('SELECT id, "N", "M" FROM t ORDER BY id').fetchall() == before
    assert db.execute('SELECT count("E") FROM t').fetchone() == (0,)
    db.rollback()
    assert db.execute('SELECT id, "N", "M" FROM t ORDER BY id').fetchall() == before
    assert db.execute("SELECT syncs FROM airtable_cache_info").fetchone() == (1,)
