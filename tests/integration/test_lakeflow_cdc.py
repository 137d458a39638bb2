"""The LakeflowConnect drop-in with a cache file (option cache_file): tables
become cdc_with_deletes, read_table returns the records changed since the
offset's sync and read_table_deletes the records deleted since, both served
from the extension's staging cache (incremental sync), against the test
server, whose control API edits records between reads. Exact records,
offsets and sync numbers; offsets fed back end the loop, and a new run (a
new object, offsets restored from JSON) picks up what changed since.
"""
import json
import os
import pickle
import sqlite3
import tempfile
import urllib.parse

import pytest

from conftest import SAMPLE, SIZES, TOKEN, connect, create, table_fixture
from test_lakeflow import check_contract, connector, walk

from pyspark.sql import types as T    # the stand-in (tests/standins, pyproject.toml)

N99 = table_fixture(SIZES, "Ninety Nine")
REC1, REC2, REC3 = (r["id"] for r in N99["records"][:3])
NEW_ID = "recNEWrecord00001"
META = {"primary_keys": ["id"], "cursor_field": "_airtable_sync",
        "ingestion_type": "cdc_with_deletes"}


def cdc(server, path, base=SIZES, **options):
    return connector(server, base_id=base, cache_file=str(path), **options)


def drain(method, table, start=None, limit=50):
    """Feed offsets back (through JSON, as a checkpoint would) until one
    repeats, as the framework does: (records, last offset, calls)."""
    records, offset, calls = [], start, 0
    while True:
        calls += 1
        assert calls <= limit, "the offsets never repeated"
        batch, end = method(table, offset, {})
        assert isinstance(end, dict) and json.loads(json.dumps(end)) == end
        records += list(batch)
        if end == offset:
            return records, end, calls
        offset = json.loads(json.dumps(end))


def edit(server, table="Ninety Nine", **body):
    return server.control("POST", "/_test/records/%s/%s" % (SIZES, urllib.parse.quote(table)),
                          body)


def shadow(path, sql):
    """A query on the cache file's shadow tables (plain tables: no extension)."""
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def syncs(path, name="ninety_nine"):
    return shadow(path, "SELECT value FROM %s_sync WHERE key = 'syncs'" % name)[0][0]


def tables_in(path):
    return [r[0] for r in shadow(path, "SELECT name FROM sqlite_schema WHERE type = 'table' "
                                       "ORDER BY name")]


def snapshot(server, table="Ninety Nine"):
    records, _ = connector(server, base_id=SIZES).read_table(table, None, {})
    return list(records)


def first_read(c, table="Ninety Nine"):
    """The first run: every record, then the offset repeats."""
    records, end, calls = drain(c.read_table, table)
    assert calls == 2
    return records, end


# --- metadata and schema -------------------------------------------------------

def test_metadata_and_schema_with_a_cache_file(server, tmp_path):
    """cdc_with_deletes with the sync number as the cursor; the schema is the
    snapshot's plus _airtable_sync, a non-nullable LongType, the same on every
    call. Neither touches the cache file."""
    path = tmp_path / "cache.db"
    c, plain = cdc(server, path), connector(server, base_id=SIZES)
    assert c.list_tables() == plain.list_tables()
    for name in c.list_tables():
        assert c.read_table_metadata(name, {}) == META == c.read_table_metadata(name, {})
        schema = c.get_table_schema(name, {})
        assert schema == c.get_table_schema(name, {})
        want = plain.get_table_schema(name, {})
        assert schema.fields[:-1] == want.fields
        assert schema.fields[-1] == T.StructField("_airtable_sync", T.LongType(), False)
        assert not any(isinstance(t, T.IntegerType) for t in walk(schema))
        assert plain.read_table_metadata(name, {}) == {
            "primary_keys": ["id"], "cursor_field": "createdTime", "ingestion_type": "snapshot"}
    assert not path.exists()


# --- reads ------------------------------------------------------------------------

def test_first_read_returns_every_record_then_the_offset_repeats(server, tmp_path):
    """The first call declares the table's cache in the file (no token in it),
    syncs it in full and returns every record as of sync 1; the offset given
    back syncs once more (incremental), finds nothing and is returned as it
    came: the loop ends."""
    path = tmp_path / "cache.db"
    c = cdc(server, path)
    want = snapshot(server)
    server.clear_log()
    records, offset = c.read_table("Ninety Nine", None, {})
    records = list(records)
    assert offset == {"table_id": N99["id"], "sync": 1}
    assert records == [dict(r, _airtable_sync=1) for r in want]
    schema = c.get_table_schema("Ninety Nine", {})
    for r in records:
        check_contract(r, schema, r["id"])
    assert len(server.list_requests(SIZES)) == 1                    # the full sync: one page
    assert tables_in(path) == ["ninety_nine", "ninety_nine_deleted", "ninety_nine_rows",
                               "ninety_nine_sync"]
    assert shadow(path, "SELECT sql FROM sqlite_schema WHERE name = 'ninety_nine'") == [(
        "CREATE VIRTUAL TABLE \"ninety_nine\" USING airtable(base='appSizeTests00001', "
        "table='%s', cache='on', api_url='%s', token_env='AIRTABLE_LAKEFLOW_TOKEN')"
        % (N99["id"], server.url),)]
    assert "AIRTABLE_LAKEFLOW_TOKEN" not in os.environ
    server.clear_log()
    again, same = c.read_table("Ninety Nine", offset, {})
    assert (list(again), same) == ([], offset)
    assert len(server.list_requests(SIZES)) == 2                    # changed since; ids
    assert syncs(path) == 2


def test_edits_and_deletes_are_read_exactly(server, tmp_path):
    """After an update, a create and a delete, the next run's read_table
    returns exactly the changed and added records, as of the sync that saw
    them, and read_table_deletes exactly the deleted id; then both loops end.
    A second round of edits, read from the offsets the first round ended on."""
    path = tmp_path / "cache.db"
    c = cdc(server, path)
    _, offset = first_read(c)                       # sync 1: every record; 2: nothing
    # Nothing deleted: sync 3 finds nothing; the offset of a new start moves
    # to it, and sync 4 confirms it.
    _, del_offset, calls = drain(c.read_table_deletes, "Ninety Nine")
    assert (del_offset, calls) == ({"table_id": N99["id"], "sync": 3}, 2)
    edit(server, update=[{"id": REC1, "fields": {"N": 5}}],
         create=[{"id": NEW_ID, "createdTime": "2026-01-02T03:04:05.000Z",
                  "fields": {"Name": "Added", "N": 1000}}],
         delete=[REC2])
    # Nothing after sync 1 in the cache: sync 5 sees the edits; 6 nothing.
    records, end, calls = drain(c.read_table, "Ninety Nine", offset)
    assert records == [
        {"id": REC1, "createdTime": N99["records"][0]["createdTime"], "name": "Ninety Nine #1",
         "n": 5, "_airtable_sync": 5},
        {"id": NEW_ID, "createdTime": "2026-01-02T03:04:05.000Z", "name": "Added", "n": 1000,
         "_airtable_sync": 5}]
    assert (end, calls) == ({"table_id": N99["id"], "sync": 5}, 2)
    # The tombstone of sync 5 is in the cache already: no sync for it; the
    # offset moves to the cache's sync 6, and sync 7 confirms nothing more.
    deleted, del_end, calls = drain(c.read_table_deletes, "Ninety Nine", del_offset)
    assert deleted == [{"id": REC2, "_airtable_sync": 5}]
    assert (del_end, calls) == ({"table_id": N99["id"], "sync": 6}, 2)
    # Round two, the deletes read first: sync 8 sees the edits, 9 nothing.
    edit(server, update=[{"id": NEW_ID, "fields": {"N": None}}], delete=[REC3, REC1])
    deleted, del_end, calls = drain(c.read_table_deletes, "Ninety Nine", del_end)
    assert deleted == [{"id": i, "_airtable_sync": 8} for i in sorted([REC1, REC3])]
    assert (del_end, calls) == ({"table_id": N99["id"], "sync": 8}, 2)
    # The change of sync 8 is in the cache: read as of the cache's sync 9,
    # then sync 10 confirms.
    records, end, calls = drain(c.read_table, "Ninety Nine", end)
    assert records == [{"id": NEW_ID, "createdTime": "2026-01-02T03:04:05.000Z",
                        "name": "Added", "_airtable_sync": 9}]
    assert (end, calls) == ({"table_id": N99["id"], "sync": 9}, 2)
    assert syncs(path) == 10
    assert shadow(path, "SELECT count(*) FROM ninety_nine_rows") == [(97,)]


def test_offsets_fed_back_end_and_a_new_run_resumes(server, tmp_path):
    """Feeding offsets back ends each loop within 50 calls, for tables empty,
    of one page and of two, and both streams, whatever the edits between
    runs; a new object (the next run) given the offsets restored from JSON
    finds the caches the last one made (none declared again) and reads only
    what changed, with an incremental sync."""
    path = tmp_path / "cache.db"
    c = cdc(server, path)
    ends = {}
    for name in ("Empty", "Ninety Nine", "One Hundred One"):
        table = table_fixture(SIZES, name)
        records, end, _ = drain(c.read_table, name)
        assert [r["id"] for r in records] == [r["id"] for r in table["records"]]
        assert end == {"table_id": table["id"], "sync": 1}
        _, del_end, _ = drain(c.read_table_deletes, name)
        ends[name] = (json.loads(json.dumps(end)), json.loads(json.dumps(del_end)))
    made = tables_in(path)
    assert len(made) == 4 * len(ends)
    edit(server, update=[{"id": REC1, "fields": {"Name": "Renamed"}}], delete=[REC2])
    c2 = cdc(server, path)
    for name, (end, del_end) in ends.items():
        records, end2, _ = drain(c2.read_table, name, end)
        deleted, _, _ = drain(c2.read_table_deletes, name, del_end)
        if name == "Ninety Nine":
            assert [(r["id"], r["name"]) for r in records] == [(REC1, "Renamed")]
            assert [d["id"] for d in deleted] == [REC2]
            assert records[0]["_airtable_sync"] == end2["sync"]
        else:
            assert (records, deleted, end2) == ([], [], end)
    assert tables_in(path) == made
    modes = shadow(path, "SELECT value FROM ninety_nine_sync WHERE key = 'last_mode'")
    assert modes == [("incremental",)]


def test_an_existing_cache_is_found_by_table_id(server, tmp_path):
    """A cache of the table declared under another name (and by table name,
    not id) is the one used: nothing is declared; its first read returns the
    cache as it was, without a sync, and the next call syncs."""
    path = tmp_path / "cache.db"
    conn = connect(str(path))
    create(conn, "mine", SIZES, "Ninety Nine", cache="on")
    conn.execute("SELECT airtable_sync('mine')").fetchall()
    conn.close()
    edit(server, update=[{"id": REC1, "fields": {"N": 7}}])
    c = cdc(server, path)
    server.clear_log()
    records, offset = c.read_table("Ninety Nine", {}, {})
    records = list(records)
    assert [r["n"] for r in records[:2]] == [1, 2] and len(records) == 99
    assert {r["_airtable_sync"] for r in records} == {1} and offset["sync"] == 1
    assert server.list_requests(SIZES) == []
    records, offset2, calls = drain(c.read_table, "Ninety Nine", offset)
    assert [(r["id"], r["n"], r["_airtable_sync"]) for r in records] == [(REC1, 7, 2)]
    assert (offset2, calls) == ({"table_id": N99["id"], "sync": 2}, 2)
    assert tables_in(path) == ["mine", "mine_deleted", "mine_rows", "mine_sync"]


def test_a_declaration_never_synced_is_taken_again(server, tmp_path, monkeypatch):
    """A cache this connector declared whose first sync never completed
    (airtable_cache_info knows its table only after a sync) is found by its
    name and declaration, not declared again."""
    path = tmp_path / "cache.db"
    monkeypatch.setenv("AIRTABLE_LAKEFLOW_TOKEN", TOKEN)
    conn = connect(str(path))
    create(conn, "ninety_nine", SIZES, N99["id"], cache="on", api_url=server.url,
           token_env="AIRTABLE_LAKEFLOW_TOKEN")
    conn.close()
    monkeypatch.delenv("AIRTABLE_LAKEFLOW_TOKEN")
    records, offset = cdc(server, path).read_table("Ninety Nine", None, {})
    assert len(list(records)) == 99 and offset == {"table_id": N99["id"], "sync": 1}
    assert tables_in(path) == ["ninety_nine", "ninety_nine_deleted", "ninety_nine_rows",
                               "ninety_nine_sync"]
    assert "AIRTABLE_LAKEFLOW_TOKEN" not in os.environ


def test_offline_reads_only_the_cache(server, tmp_path, monkeypatch):
    """With AIRTABLE_OFFLINE set no request is made: the tables are the
    cached ones, reads answer from the cache as it is, and an offset that
    has everything in it ends the loop at once."""
    path = tmp_path / "cache.db"
    _, offset = first_read(cdc(server, path))                        # the cache at sync 2
    edit(server, update=[{"id": REC1, "fields": {"N": 5}}])
    monkeypatch.setenv("AIRTABLE_OFFLINE", "1")
    server.clear_log()
    c = cdc(server, path)
    assert c.list_tables() == ["Ninety Nine"]
    with pytest.raises(ValueError, match=r"^AirtableLakeflowConnector: table 'One' is not in "
                                         r"base appSizeTests00001; its tables are: "
                                         r"'Ninety Nine'$"):
        c.read_table("One", None, {})
    assert c.read_table_metadata("Ninety Nine", {}) == META
    assert c.get_table_schema("Ninety Nine", {}).names == ["id", "createdTime", "name", "n",
                                                           "_airtable_sync"]
    again, same = c.read_table("Ninety Nine", offset, {})
    assert (list(again), same) == ([], offset)
    deleted, del_offset = c.read_table_deletes("Ninety Nine", None, {})
    assert (list(deleted), del_offset) == ([], {"table_id": N99["id"], "sync": 2})
    records, end, calls = drain(c.read_table, "Ninety Nine")
    assert len(records) == 99 and records[0]["n"] == 1                  # not the edit
    assert (end, calls) == ({"table_id": N99["id"], "sync": 2}, 2)
    assert server.requests() == []
    assert syncs(path) == 2


def test_max_age_skips_the_sync_that_confirms_nothing_changed(server, tmp_path):
    """max_age: a read that finds nothing new in the cache syncs only if the
    last sync is older; the loop then ends on one sync."""
    path = tmp_path / "cache.db"
    c = cdc(server, path, max_age="3600")
    _, offset = first_read(c)
    assert syncs(path) == 1
    edit(server, update=[{"id": REC1, "fields": {"N": 5}}])
    again, same = c.read_table("Ninety Nine", offset, {})
    assert (list(again), same) == ([], offset)
    assert syncs(path) == 1


def test_records_stream_from_a_private_directory_removed_after(server, tmp_path,
                                                                monkeypatch):
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    c = cdc(server, tmp_path / "cache.db")
    records, offset = c.read_table("Ninety Nine", None, {})
    (work,) = temp.iterdir()
    assert oct(work.stat().st_mode & 0o777) == "0o700"
    assert sorted(p.name for p in work.iterdir()) == ["export"]          # no .token
    assert sum(1 for _ in records) == 99
    assert list(temp.iterdir()) == []
    again, _ = c.read_table("Ninety Nine", offset, {})
    assert list(again) == [] and list(temp.iterdir()) == []


def test_the_object_pickles_and_reads_on(server, tmp_path):
    """Spark pickles the reader (the connector in it) to send it to
    executors: with its cache file open too; the copy opens its own."""
    path = tmp_path / "cache.db"
    c = cdc(server, path)
    _, offset = first_read(c)
    edit(server, update=[{"id": REC1, "fields": {"N": 5}}])
    copy = pickle.loads(pickle.dumps(c))
    records, end, calls = drain(copy.read_table, "Ninety Nine", offset)
    assert [(r["id"], r["n"], r["_airtable_sync"]) for r in records] == [(REC1, 5, 3)]
    again, same = c.read_table("Ninety Nine", end, {})
    assert (list(again), same) == ([], end)


# --- errors -------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["get_table_schema", "read_table_metadata", "read_table",
                                    "read_table_deletes"])
def test_an_unknown_table_raises_at_once_with_a_cache_file(server, tmp_path, method):
    c = cdc(server, tmp_path / "cache.db", base=SAMPLE)
    name = "__nonexistent_table_$$_9z9z9z__"
    args = (name, {}) if method in ("get_table_schema", "read_table_metadata") \
        else (name, {}, {})
    with pytest.raises(ValueError) as e:
        getattr(c, method)(*args)
    assert str(e.value) == ("AirtableLakeflowConnector: table '__nonexistent_table_$$_9z9z9z__' "
                            "is not in base appPackagingOps01; its tables are: "
                            "'Packaging Tasks', 'Products', 'Vendors'")
    assert not (tmp_path / "cache.db").exists()


def test_wrong_options_and_offsets_are_named(server, tmp_path):
    path = tmp_path / "cache.db"
    with pytest.raises(ValueError, match=r"^AirtableLakeflowConnector: option cache_file needs "
                                         r"the extension loaded in this Python \(via auto or "
                                         r"sql\), and via is command$"):
        cdc(server, path, via="command")
    with pytest.raises(ValueError, match=r"^AirtableLakeflowConnector: option max_age: 'soon' "
                                         r"is not a number of seconds$"):
        cdc(server, path, max_age="soon")
    c = cdc(server, path)
    with pytest.raises(ValueError, match=r"^AirtableLakeflowConnector: table option view: not "
                                         r"with cache_file \(a cache holds the whole table\)$"):
        c.read_table("Ninety Nine", None, {"view": "Grid view"})
    _, offset = first_read(c)
    ahead = dict(offset, sync=9)
    for method in (c.read_table, c.read_table_deletes):
        with pytest.raises(ValueError) as e:
            method("Ninety Nine", ahead, {})
        assert str(e.value) == (
            "AirtableLakeflowConnector: offset %r of table 'Ninety Nine' is at sync 9, but the "
            "cache of the table in '%s' is at sync 2: the offset is not from this file (was it "
            "replaced?); start again from an empty offset" % (ahead, path))
    with pytest.raises(ValueError, match=r"sync is not a sync number"):
        c.read_table("Ninety Nine", dict(offset, sync="1"), {})
    # An offset of another table, or a snapshot's, starts from the beginning.
    records, _ = c.read_table("Ninety Nine", {"table_id": "tblOther0000000000", "sync": 1}, {})
    assert len(list(records)) == 99
    plain = connector(server, base_id=SIZES)
    _, snap_offset = plain.read_table("Ninety Nine", None, {})
    records, _ = c.read_table("Ninety Nine", snap_offset, {})
    assert len(list(records)) == 99
    with pytest.raises(NotImplementedError, match=r"^AirtableLakeflowConnector: "
                                                  r"read_table_deletes needs option cache_file"):
        plain.read_table_deletes("Ninety Nine", None, {})


def test_a_name_taken_by_another_table_is_refused(server, tmp_path):
    path = tmp_path / "cache.db"
    conn = sqlite3.connect(str(path))
    conn.execute("CREATE TABLE ninety_nine(x)")
    conn.close()
    with pytest.raises(ValueError) as e:
        cdc(server, path).read_table("Ninety Nine", None, {})
    assert str(e.value) == (
        "AirtableLakeflowConnector: option cache_file: '%s' already has a table named "
        "ninety_nine that is not a cache of table 'Ninety Nine' (%s) of base %s as this "
        "connector declares it: CREATE TABLE ninety_nine(x)" % (path, N99["id"], SIZES))
