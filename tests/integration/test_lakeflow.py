"""The LakeflowConnect drop-in (airtable_sqlite.lakeflow) against the test
server: the contract the Lakeflow Community Connectors' generic test suite
holds a connector to (tables listed, unknown names refused at once by each
method, schemas and metadata the same on every call, no IntegerType, offsets
JSON-serialisable dicts that a caller feeding them back sees repeat), and
every record of every sample table read back equal to the server's, each
exactly once; through SQL and through the command.

PySpark cannot be installed here: the schemas are built with the stand-in
pyspark.sql.types in tests/standins/ (PySpark's names and JSON format).
"""
import json
import os
import pathlib
import subprocess
import tempfile

import pytest

import airtable_sqlite
import sparkread
from airtable_sqlite import export
from airtable_sqlite import lakeflow as airtable_lakeflow
from conftest import (EXT, SAMPLE, SIZES, SANITIZED, TOKEN, child_env, load_fixture,
                      python_without_extension_loading)
from pyspark.sql import types as T    # the stand-in (tests/standins, pyproject.toml)
from test_export_roundtrip import expected_table, same

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLI = str(pathlib.Path(EXT).parent / "airtable-export")
SAMPLE_TABLES = ["Packaging Tasks", "Products", "Vendors"]
VIAS = ["sql", "command"]


def connector(server, via="sql", **options):
    opts = {"base_id": SAMPLE, "personal_access_token": TOKEN, "api_url": server.url,
            "via": via, "extension": EXT, "command": CLI}
    opts.update(options)
    return airtable_lakeflow.AirtableLakeflowConnector({k: v for k, v in opts.items()
                                                        if v is not None})


def read_all(c, table, start=None, limit=50):
    """Feed offsets back until one repeats, as the framework does; every
    batch's records, and the calls made."""
    records, offset, calls = [], start, 0
    while True:
        calls += 1
        assert calls <= limit, "the offsets never repeated"
        batch, end = c.read_table(table, offset, {})
        assert isinstance(end, dict) and json.loads(json.dumps(end)) == end
        records += list(batch)
        if end == offset:
            return records, end, calls
        offset = end


def walk(t):
    """Every data type inside t, t included."""
    yield t
    if isinstance(t, T.StructType):
        for f in t.fields:
            yield from walk(f.dataType)
    elif isinstance(t, T.ArrayType):
        yield from walk(t.elementType)
    elif isinstance(t, T.MapType):
        yield from walk(t.keyType)
        yield from walk(t.valueType)


def check_contract(record, schema, where):
    """What the framework's conversion (parse_value) requires of a record:
    a dict whose keys are columns, no null in a non-nullable column, a list
    for an array, and never an empty dict for a struct."""
    assert isinstance(record, dict) and record, where
    names = {f.name: f for f in schema.fields}
    assert set(record) <= set(names), (where, set(record) - set(names))
    for f in schema.fields:
        if not f.nullable:
            assert record.get(f.name) is not None, (where, f.name)

    def check(v, t, at):
        if v is None:
            return
        if isinstance(t, T.StructType):
            assert isinstance(v, dict) and v, at
            for f in t.fields:
                check(v.get(f.name), f.dataType, at + "." + f.name)
        elif isinstance(t, T.ArrayType):
            assert isinstance(v, list), at
            for i, e in enumerate(v):
                check(e, t.elementType, "%s[%d]" % (at, i))
    for k, v in record.items():
        check(v, names[k].dataType, where + ": " + k)


# --- options ------------------------------------------------------------------

def test_a_missing_base_or_token_is_named(monkeypatch):
    monkeypatch.delenv("AIRTABLE_TOKEN", raising=False)
    with pytest.raises(ValueError) as e:
        airtable_lakeflow.AirtableLakeflowConnector({"personal_access_token": "x"})
    assert str(e.value) == ("AirtableLakeflowConnector: option base_id is required (the base, "
                            "appXXXXXXXXXXXXXX)")
    with pytest.raises(ValueError) as e:
        airtable_lakeflow.AirtableLakeflowConnector({"base_id": SAMPLE, "sourceName": "x"})
    assert str(e.value) == ("AirtableLakeflowConnector: no Airtable token: give option "
                            "personal_access_token (or bearer_token, or token), or set "
                            "$AIRTABLE_TOKEN")
    with pytest.raises(ValueError, match=r"^AirtableLakeflowConnector: option via: 'ftp' is "
                                         r"not auto, sql or command$"):
        airtable_lakeflow.AirtableLakeflowConnector({"base_id": SAMPLE, "token": "x",
                                                     "via": "ftp"})


@pytest.mark.parametrize("options", [
    {"personal_access_token": TOKEN},
    {"bearer_token": TOKEN},
    {"token": TOKEN},
    {},                                            # $AIRTABLE_TOKEN
])
def test_token_aliases(server, monkeypatch, options):
    """The token under each name Lakeflow, Unity Catalog and the replaced
    connector use, or from the environment; the framework's own options
    (sourceName, tableName) are accepted and ignored."""
    if options:
        monkeypatch.delenv("AIRTABLE_TOKEN")
    monkeypatch.delenv("AIRTABLE_API_URL")
    c = airtable_lakeflow.AirtableLakeflowConnector(
        {"base_id": SAMPLE, "api_url": server.url, "extension": EXT, "via": "sql",
         "sourceName": "airtable", "tableName": "Vendors", **options})
    assert c.list_tables() == SAMPLE_TABLES


@pytest.mark.parametrize("key,suffix", [("api_url", ""), ("base_url", "/v0"),
                                        ("base_url", "/v0/"), ("api_url", "/")])
def test_api_url_aliases(server, monkeypatch, key, suffix):
    monkeypatch.delenv("AIRTABLE_API_URL")
    options = {"api_url": None, key: server.url + suffix}
    c = connector(server, **options)
    assert c.list_tables() == SAMPLE_TABLES


def test_a_wrong_token_fails_naming_the_status_never_the_token(server):
    c = connector(server, personal_access_token="patWRONGtoken.0123456789")
    with pytest.raises(airtable_lakeflow.ExportError) as e:
        c.list_tables()
    assert str(e.value).startswith("airtable: HTTP 401 AUTHENTICATION_REQUIRED")
    assert "patWRONG" not in str(e.value)


def _option(name, kind, in_table, in_export, **more):
    return dict(name=name, kind=kind, table=in_table, export=in_export, help="...", **more)


# The extension's options as airtable_options() is to list them: a model
# until it does (then test_export.py's test_package_options_give_the_hand_lists
# holds the real list to the hand lists).
OPTION_TABLE = [
    _option("base", "text", True, True), _option("table", "text", True, True),
    _option("view", "text", True, True), _option("api_url", "text", True, True),
    _option("token_env", "text", True, True), _option("token_file", "text", True, True),
    _option("rate_limit", "integer", True, True, min=0, max=5),
    _option("max_retries", "integer", True, True, min=0, max=20),
    _option("rate_limit_wait", "number", True, True, min=0, max=3600),
    _option("retry_backoff", "number", True, True, min=0, max=600),
    _option("retry_budget", "number", True, True, min=0, max=86400),
    _option("connect_timeout", "number", True, True, min=0.001, max=3600),
    _option("timeout", "integer", True, True, min=1, max=86400),
    _option("ca_file", "text", True, True),
    _option("cache", "choice", True, False, choices=["off", "on", "offline"]),
    _option("max_age", "number", True, False, min=0, max=31536000),
    _option("sync_overlap", "number", True, False, min=0, max=86400),
    _option("pushdown", "choice", True, False, choices=["on", "off"]),
    _option("out", "text", False, True), _option("all", "flag", False, True),
    _option("format", "choice", False, True, choices=["csv", "jsonl"]),
    _option("gzip", "flag", False, True),
    _option("names", "choice", False, True, choices=["delta", "exact"]),
    _option("concurrency", "integer", False, True, min=1, max=8),
    _option("partitions", "integer", False, True, min=1, max=8),
    _option("schema_only", "flag", False, True), _option("progress", "flag", False, True),
    _option("from_cache", "text", False, True),
    _option("since_sync", "integer", False, True, min=0)]


def test_option_lists_from_the_extensions_list(monkeypatch):
    """What the connector passes on to the export, what a cache is declared
    with, and the command's flags, are made from the extension's list of its
    options (airtable_sqlite.options(), asked once per process), in the
    list's order; an option the extension gains is passed on."""
    hand = {"rate_limit", "max_retries", "retry_backoff", "retry_budget",
            "connect_timeout", "timeout", "ca_file", "rate_limit_wait"}
    passed, declared = airtable_lakeflow.passed_options(OPTION_TABLE)
    assert set(passed) == hand | {"concurrency"}
    assert set(declared) == hand
    assert list(passed) == [o["name"] for o in OPTION_TABLE if o["name"] in passed]

    asked = []

    def options(extension=None, command=None, via="auto"):
        asked.append((extension, command, via))
        return OPTION_TABLE + [_option("new_one", "integer", True, True)]
    monkeypatch.setattr(airtable_sqlite, "options", options)
    monkeypatch.setattr(airtable_lakeflow, "_listed", {})
    monkeypatch.setattr(export, "_flags", {})
    given = {"base_id": SAMPLE, "token": "x", "extension": EXT, "api_url": "http://127.0.0.1:9",
             "rate_limit": "3", "concurrency": "2", "new_one": "7", "partitions": "2",
             "cache": "on", "format": "csv", "gzip": "1"}
    for _ in range(2):
        c = airtable_lakeflow.AirtableLakeflowConnector(given)
        assert c._export_options == {"api_url": "http://127.0.0.1:9", "format": "jsonl",
                                     "names": "delta", "rate_limit": "3", "concurrency": "2",
                                     "new_one": "7"}
        assert c._declared == declared + ("new_one",)
    assert asked == [(EXT, None, "auto")]
    assert export._command_flags(CLI) == ("all", "gzip", "schema_only", "progress")
    assert export._command_flags(CLI) == ("all", "gzip", "schema_only", "progress")
    assert asked[1:] == [(None, CLI, "command")]


# --- tables, schemas, metadata --------------------------------------------------

@pytest.mark.parametrize("via", VIAS)
def test_tables_schemas_and_metadata(server, via):
    """One metadata request serves the table list and every schema; each
    schema is the JSON Lines export's, the same on every call, with no
    IntegerType at any depth."""
    c = connector(server, via)
    server.clear_log()
    assert c.list_tables() == SAMPLE_TABLES
    for name in SAMPLE_TABLES:
        schema = c.get_table_schema(name, {})
        assert isinstance(schema, T.StructType)
        assert schema == c.get_table_schema(name, {})                 # deterministic
        assert not any(isinstance(t, T.IntegerType) for t in walk(schema))
        table = next(t for t in load_fixture(SAMPLE)["tables"] if t["name"] == name)
        cols, types, _, _ = expected_table(SAMPLE, table, "delta", "jsonl")
        assert schema.names == cols
        assert [f.nullable for f in schema.fields][:2] == [False, True]   # id, createdTime
        meta = c.read_table_metadata(name, {})
        assert meta == {"primary_keys": ["id"], "cursor_field": "createdTime",
                        "ingestion_type": "snapshot"}
        assert meta == c.read_table_metadata(name, {})
    assert [r["path"] for r in server.requests()] == [
        "/v0/meta/bases/%s/tables" % SAMPLE]
    # Integers are LongType; nested types are typed (array<string>, structs).
    tasks = c.get_table_schema("Packaging Tasks", {})
    assert tasks["quantity"].dataType == T.LongType()
    assert tasks["tags"].dataType == T.ArrayType(T.StringType(), True)
    assert tasks["owner"].dataType == T.StructType([T.StructField(n, T.StringType(), True)
                                                    for n in ("id", "email", "name")])
    assert tasks["quantity"].metadata["airtable_field_name"] == "Quantity"


def test_schema_by_table_id_and_exact_names(server):
    tasks = next(t for t in load_fixture(SAMPLE)["tables"] if t["name"] == "Packaging Tasks")
    c = connector(server, names="exact")
    schema = c.get_table_schema(tasks["id"], {})
    cols, _, _, _ = expected_table(SAMPLE, tasks, "exact", "jsonl")
    assert schema.names == cols
    assert schema.names[2:6] == ["Task", "id_2", "Created_Time", "Status"]


@pytest.mark.parametrize("method", ["get_table_schema", "read_table_metadata", "read_table"])
def test_an_unknown_table_raises_at_once(server, method):
    """Each method raises when called (not when its records are iterated),
    naming the table and listing the tables there are; no listing request
    is made."""
    c = connector(server)
    server.clear_log()
    name = "__nonexistent_table_$$_9z9z9z__"
    args = (name, {}, {}) if method == "read_table" else (name, {})
    with pytest.raises(ValueError) as e:
        getattr(c, method)(*args)
    assert str(e.value) == ("AirtableLakeflowConnector: table '__nonexistent_table_$$_9z9z9z__' "
                            "is not in base appPackagingOps01; its tables are: "
                            "'Packaging Tasks', 'Products', 'Vendors'")
    assert all(r["path"].startswith("/v0/meta/") for r in server.requests())


# --- records and offsets -------------------------------------------------------------

@pytest.mark.parametrize("via", VIAS)
def test_every_record_of_every_table_exactly_once(server, tmp_path, via):
    """Looping until the offset repeats: two calls per table, every record
    equal, once typed by the schema, to the fixture's record as the export's
    rules convert it, each exactly once, in Airtable's order; each record as
    the framework's conversion requires."""
    c = connector(server, via)
    for name in SAMPLE_TABLES:
        records, end, calls = read_all(c, name, start={})
        table = next(t for t in load_fixture(SAMPLE)["tables"] if t["name"] == name)
        assert calls == 2 and end["rows"] == len(table["records"]) == len(records)
        assert [r["id"] for r in records] == [r["id"] for r in table["records"]]
        schema = c.get_table_schema(name, {})
        for r in records:
            check_contract(r, schema, "%s %s" % (name, r["id"]))
        # Typed by the schema as Spark would (tests/integration/sparkread.py), then
        # compared cell by cell with the fixture.
        (tmp_path / "s.json").write_text(json.dumps(schema.jsonValue()))
        data = tmp_path / "r.jsonl"
        with open(data, "w", encoding="utf-8") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
        got = sparkread.read_jsonl(data, sparkread.load_schema(tmp_path / "s.json"))
        _, _, want, _ = expected_table(SAMPLE, table, "delta", "jsonl")
        bad = [(i, j) for i, (g, w) in enumerate(zip(got, want))
               for j, (a, b) in enumerate(zip(g, w)) if not same(a, b)]
        assert bad == []


def test_offsets_repeat_and_resume(server):
    """The offset after a snapshot, given back (also to a new connector, as
    the framework restores it from a JSON checkpoint), returns no record and
    the same offset, with no listing request; None or {} start a new
    snapshot."""
    c = connector(server)
    records, offset = c.read_table("Vendors", None, {})
    assert len(list(records)) == 15
    assert set(offset) == {"table_id", "snapshot_at", "rows"} and offset["rows"] == 15
    server.clear_log()
    again, same_offset = c.read_table("Vendors", offset, {})
    assert (list(again), same_offset) == ([], offset)
    restored = json.loads(json.dumps(offset))
    again, same_offset = connector(server).read_table("Vendors", restored, {})
    assert (list(again), same_offset) == ([], offset)
    assert [r for r in server.requests() if not r["path"].startswith("/v0/meta/")] == []
    # Another table's offset is not this table's.
    products, p_offset = c.read_table("Products", offset, {})
    assert len(list(products)) == 60 and p_offset["table_id"] != offset["table_id"]
    # A new snapshot.
    records, offset2 = c.read_table("Vendors", {}, {})
    assert len(list(records)) == 15 and offset2["table_id"] == offset["table_id"]


def test_view_table_option(server):
    c = airtable_lakeflow.AirtableLakeflowConnector(
        {"base_id": SIZES, "token": TOKEN, "api_url": server.url, "extension": EXT})
    name = 'Odd/Name?#% "quoted" \u2603'
    records, offset = c.read_table(name, {}, {"view": 'Odd/View?#% "q" \u2603'})
    assert [r["n"] for r in records] == [3, 2, 1]
    assert offset["view"] == 'Odd/View?#% "q" \u2603'
    again, same = c.read_table(name, offset, {"view": 'Odd/View?#% "q" \u2603'})
    assert (list(again), same) == ([], offset)
    # The offset of a view's snapshot is not the whole table's.
    records, whole = c.read_table(name, offset, {})
    assert sorted(r["n"] for r in records) == [1, 2, 3] and "view" not in whole


def test_records_stream_from_a_private_file_removed_after(server, monkeypatch, tmp_path):
    """Records are read a line at a time (the file is not read whole), from a
    temporary directory that is gone once the records are consumed or the
    iterator is dropped; the token file is gone before the first record."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    c = connector(server)
    c.list_tables()
    assert list(tmp_path.iterdir()) == []
    records, _ = c.read_table("Packaging Tasks", {}, {})
    (work,) = tmp_path.iterdir()
    assert oct(work.stat().st_mode & 0o777) == "0o700"
    assert sorted(p.name for p in work.iterdir()) == ["export"]      # no .token
    first = next(records)
    data = work / "export" / "packaging_tasks.jsonl"
    assert first["id"] == load_fixture(SAMPLE)["tables"][0]["records"][0]["id"]
    assert records._file.tell() < data.stat().st_size / 10
    assert sum(1 for _ in records) == 2499
    assert list(tmp_path.iterdir()) == []
    records, _ = c.read_table("Vendors", {}, {})
    del records
    assert list(tmp_path.iterdir()) == []


def test_python_that_cannot_load_extensions_uses_the_command(server, tmp_path):
    """On a Python whose sqlite3 lacks enable_load_extension (the python3 on
    this machine's PATH, a pyenv build), the connector runs the command."""
    exe = python_without_extension_loading()
    if exe is None:
        pytest.skip("no Python without enable_load_extension on this machine")
    env = child_env(AIRTABLE_TOKEN=TOKEN, AIRTABLE_API_URL=server.url, AIRTABLE_EXPORT=CLI,
                    PYTHONPATH=os.pathsep.join([str(ROOT / "python"),
                                                str(ROOT / "tests" / "standins")]))
    if SANITIZED:
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    code = ("import json\n"
            "from airtable_sqlite import lakeflow\n"
            "c = lakeflow.LakeflowConnect({'base_id': 'appPackagingOps01'})\n"
            "records, offset = c.read_table('Vendors', {}, {})\n"
            "ids = [r['id'] for r in records]\n"
            "again, offset2 = c.read_table('Vendors', offset, {})\n"
            "print(json.dumps([len(ids), len(set(ids)), list(again) == [], offset == offset2,\n"
            "                  c.get_table_schema('Vendors', {}).names[:2]]))\n")
    p = subprocess.run([exe, "-c", code], capture_output=True, text=True, env=env,
                       timeout=120)
    assert (p.returncode, p.stdout) == (0, '[15, 15, true, true, ["id", "createdTime"]]\n'), \
        p.stderr


def test_module_help_says_how_to_use_it():
    """Issue 19: --help printed nothing; the module is a library, and says so."""
    p = subprocess.run(["/usr/bin/python3", "-m", "airtable_sqlite.lakeflow", "--help"],
                       capture_output=True, text=True, timeout=60,
                       env=child_env(PYTHONPATH=str(ROOT / "python")))
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("airtable_sqlite.lakeflow: an Airtable connector for the "
                               "Lakeflow Community")
    assert "from airtable_sqlite.lakeflow import AirtableLakeflowConnector" in p.stdout


def test_a_killed_readers_token_file_is_removed_by_the_next(tmp_path, monkeypatch):
    """Issue 20: kill -9 during a read left the 0600 token file of its work
    directory in /tmp. Work directories carry their process's id; the next
    connector removes those whose process is gone (this user's only)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = tmp_path / f"airtable-lakeflow-{gone.pid}-abc"
    live = tmp_path / f"airtable-lakeflow-{os.getppid()}-def"
    other = tmp_path / "airtable-lakeflow-notapid-ghi"
    for d in (stale, live, other):
        d.mkdir()
        (d / ".token").write_text("pat-secret")
    work = airtable_lakeflow._work_dir()
    assert not stale.exists() and live.exists() and other.exists()
    assert os.path.basename(work).startswith(f"airtable-lakeflow-{os.getpid()}-")
    os.rmdir(work)
