"""The Databricks DLT pipeline (airtable_sqlite.dlt, and scripts/ingest_dlt.py,
the entry file a pipeline runs), without Databricks.

Spark, DLT and dbutils are stand-ins: tests/standins (pyspark.sql.types,
written to PySpark 3.5's behaviour, and dlt, which records the tables a
source defines) and, here, FakeSpark (spark.conf and a spark.read that
records the reader calls) and FakeDbutils (dbutils.secrets). The export is
real, against the test server; exports are kept few and small (the Vendors
table, the Size Tests base) because the base allows 5 requests a second.
"""
import datetime
import json
import os
import pathlib
import re
import runpy
import subprocess

import pytest

import dlt                                   # the stand-in (tests/standins, pyproject.toml)
from airtable_sqlite import dlt as ingest_dlt
from airtable_sqlite import export as airtable_export
from conftest import ROOT, SAMPLE, SANITIZED, SIZES, TOKEN, child_env, connect, table_fixture
from pyspark.sql import types as T           # the stand-in

STANDINS = ROOT / "tests" / "standins"
SCRIPT = ROOT / "scripts" / "ingest_dlt.py"
PACKAGE_PATH = ROOT / "python"

VENDORS = table_fixture(SAMPLE, "Vendors")
PRODUCTS = table_fixture(SAMPLE, "Products")
SECRET = "patDltSecret0123.abcdefABCDEF9876543210"   # what the stand-in secret store holds
VENDORS_DDL = {   # the Vendors table's .ddl line, JSON Lines and CSV
    "jsonl": "`id` STRING NOT NULL, `createdTime` TIMESTAMP, `name` STRING, `country` STRING, "
             "`contact_email` STRING, `phone` STRING, `website` STRING, "
             "`products` ARRAY<STRING>, `packaging_tasks` ARRAY<STRING>, `reliability` BIGINT",
    "csv": "`id` STRING NOT NULL, `createdTime` TIMESTAMP, `name` STRING, `country` STRING, "
           "`contact_email` STRING, `phone` STRING, `website` STRING, "
           "`products` STRING, `packaging_tasks` STRING, `reliability` BIGINT"}
CSV_OPTIONS = {"header": True, "multiLine": True, "escape": '"'}
RUN = re.compile(r"\d{8}T\d{6}Z")


# --- Stand-ins for what a Databricks pipeline provides -------------------------------

class FakeConf:
    """spark.conf: the pipeline configuration. get(key) without a default
    raises for a key not set, as Spark's RuntimeConfig does."""

    def __init__(self, values):
        self.values = dict(values)
        self.asked = []

    def get(self, key, *default):
        self.asked.append(key)
        if key in self.values:
            return self.values[key]
        if default:
            return default[0]
        raise KeyError("java.util.NoSuchElementException: " + key)


class FakeFrame:
    """What a reader returns: the calls that made it."""

    def __init__(self, calls):
        self.calls = calls


class FakeReader:
    """spark.read: each call returns a reader with the call appended."""

    def __init__(self, calls=()):
        self.calls = list(calls)

    def _with(self, *call):
        return FakeReader(self.calls + [call])

    def schema(self, schema):
        return self._with("schema", schema)

    def options(self, **options):
        return self._with("options", options)

    def option(self, key, value):
        return self._with("option", key, value)

    def format(self, source):
        return self._with("format", source)

    def json(self, path):
        return FakeFrame(self.calls + [("json", path)])

    def csv(self, path):
        return FakeFrame(self.calls + [("csv", path)])

    def load(self, path):
        return FakeFrame(self.calls + [("load", path)])


class FakeSpark:
    def __init__(self, conf=None):
        self.conf = FakeConf(conf or {})
        self.reads = 0

    @property
    def read(self):
        self.reads += 1
        return FakeReader()


class FakeSecrets:
    def __init__(self, secrets):
        self.secrets = secrets
        self.calls = []

    def get(self, scope, key):
        self.calls.append((scope, key))
        if (scope, key) not in self.secrets:
            raise RuntimeError("Secret does not exist with scope: %s and key: %s" % (scope, key))
        return self.secrets[(scope, key)]


class FakeDbutils:
    def __init__(self, secrets):
        self.secrets = FakeSecrets(secrets)


# --- Helpers ----------------------------------------------------------------------------

def conf(**values):
    """A configuration: conf(base_id="app...") -> {"airtable.base_id": "app..."}."""
    return {"airtable." + k: v for k, v in values.items()}


def config(server, volume, **values):
    """read_config() of a configuration for the test server."""
    c = conf(base_id=SAMPLE, volume_path=str(volume), secret_scope="s", secret_key="k",
             api_url=server.url)
    c.update(conf(**values))
    return ingest_dlt.read_config(c.get)


def runs(base_dir):
    return sorted(p.name for p in pathlib.Path(base_dir).iterdir()) if base_dir.exists() else []


def files_containing(root, text):
    return [str(p) for p in pathlib.Path(root).rglob("*")
            if p.is_file() and text.encode() in p.read_bytes()]


def schema_of(path):
    with open(path, encoding="utf-8") as f:
        return T.StructType.fromJson(json.load(f))


def reset_rate_limit(server):
    """A helper process has its own limiter: start it with an empty window."""
    server.control("POST", "/_test/rate_limit/reset")


@pytest.fixture(scope="module", autouse=True)
def extension_loaded():
    """Keep the extension loaded while these tests run. airtable_export's SQL
    path closes its connection after each export, and the last close unloads
    the library, and with it the process-wide rate limiter's memory of the
    requests just made: back-to-back exports of one base would then exceed
    5 requests a second and wait out a 429 (30 s)."""
    conn = connect()
    yield
    conn.close()


@pytest.fixture
def fresh_dlt():
    dlt.reset()
    yield dlt
    dlt.reset()


# --- Configuration ------------------------------------------------------------------

def test_read_config_every_key():
    c = ingest_dlt.read_config(conf(
        base_id=" appPackagingOps01 ", volume_path="/Volumes/main/raw/airtable/",
        secret_scope="airtable", secret_key="token", tables="Packaging Tasks, tblAbc , Vendors",
        format="csv", table_prefix="airtable_", api_url="http://127.0.0.1:9/",
        concurrency="2", keep_runs="3", extension="/Volumes/main/raw/lib/airtable.so",
        command="/Volumes/main/raw/lib/airtable-export").get)
    assert c == {"base_id": "appPackagingOps01", "volume_path": "/Volumes/main/raw/airtable",
                 "secret_scope": "airtable", "secret_key": "token",
                 "tables": ["Packaging Tasks", "tblAbc", "Vendors"], "format": "csv",
                 "table_prefix": "airtable_", "api_url": "http://127.0.0.1:9/",
                 "concurrency": 2, "keep_runs": 3,
                 "extension": "/Volumes/main/raw/lib/airtable.so",
                 "command": "/Volumes/main/raw/lib/airtable-export"}


def test_read_config_defaults():
    required = conf(base_id=SAMPLE, volume_path="/Volumes/m/r/a", secret_scope="s",
                    secret_key="k")
    c = ingest_dlt.read_config(required.get)
    assert c == {"base_id": SAMPLE, "volume_path": "/Volumes/m/r/a", "secret_scope": "s",
                 "secret_key": "k", "tables": None, "format": "jsonl", "table_prefix": "",
                 "api_url": None, "concurrency": None, "keep_runs": None, "extension": None,
                 "command": None}
    # Empty values are no values; --local needs no secret.
    blank = dict(required, **conf(tables=" ", format="", table_prefix="", keep_runs=""))
    assert ingest_dlt.read_config(blank.get) == c
    local = ingest_dlt.read_config(conf(base_id=SAMPLE, volume_path="/v").get, secret=False)
    assert (local["secret_scope"], local["secret_key"], local["volume_path"]) == (None, None, "/v")


@pytest.mark.parametrize("tables, expected", [
    ("*", None), (" * ", None), ("Vendors", ["Vendors"]),
    ("Vendors,Products", ["Vendors", "Products"]),
    (" Packaging Tasks ,tblHJoMnG6OaJpnhE", ["Packaging Tasks", "tblHJoMnG6OaJpnhE"])])
def test_read_config_tables(tables, expected):
    c = conf(base_id=SAMPLE, volume_path="/v", secret_scope="s", secret_key="k", tables=tables)
    assert ingest_dlt.read_config(c.get)["tables"] == expected


@pytest.mark.parametrize("missing, message", [
    ("base_id", "airtable.base_id is not set in the pipeline configuration (the base id, "
                "appXXXXXXXXXXXXXX)"),
    ("volume_path", "airtable.volume_path is not set in the pipeline configuration (where to "
                    "export, a Unity Catalog volume such as /Volumes/main/raw/airtable)"),
    ("secret_scope", "airtable.secret_scope is not set in the pipeline configuration (the "
                     "secret scope holding the Airtable token)"),
    ("secret_key", "airtable.secret_key is not set in the pipeline configuration (the key of "
                   "the Airtable token in airtable.secret_scope)")])
@pytest.mark.parametrize("how", ["absent", "empty"])
def test_read_config_missing_required_key(missing, message, how):
    c = conf(base_id=SAMPLE, volume_path="/v", secret_scope="s", secret_key="k")
    if how == "absent":
        del c["airtable." + missing]
    else:
        c["airtable." + missing] = "  "
    with pytest.raises(ingest_dlt.ConfigError) as e:
        ingest_dlt.read_config(c.get)
    assert str(e.value) == message


@pytest.mark.parametrize("key, value, message", [
    ("base_id", "appShort", "airtable.base_id: 'appShort' is not an Airtable base id ('app' "
                            "followed by 14 letters or digits)"),
    ("base_id", "app../../etc/x", "airtable.base_id: 'app../../etc/x' is not an Airtable base "
                                  "id ('app' followed by 14 letters or digits)"),
    ("volume_path", "dbfs:/tmp/airtable", "airtable.volume_path: 'dbfs:/tmp/airtable' is not "
     "an absolute path (a Unity Catalog volume such as /Volumes/main/raw/airtable)"),
    ("volume_path", "Volumes/x", "airtable.volume_path: 'Volumes/x' is not an absolute path "
     "(a Unity Catalog volume such as /Volumes/main/raw/airtable)"),
    ("tables", "Vendors,,Products", "airtable.tables: 'Vendors,,Products' has an empty table "
     "name (names or tbl ids, separated by commas; * for all)"),
    ("tables", "Vendors,", "airtable.tables: 'Vendors,' has an empty table name (names or tbl "
     "ids, separated by commas; * for all)"),
    ("tables", "*, Vendors", "airtable.tables: '*, Vendors': * (all tables) cannot be combined "
     "with names"),
    ("tables", "Vendors, Products,Vendors", "airtable.tables: 'Vendors' is listed twice"),
    ("format", "parquet", "airtable.format: 'parquet' is not jsonl or csv"),
    ("format", "JSONL", "airtable.format: 'JSONL' is not jsonl or csv"),
    ("table_prefix", "bronze.", "airtable.table_prefix: 'bronze.' may hold only letters, "
                                "digits and _"),
    ("concurrency", "0", "airtable.concurrency: '0' is not an integer from 1 to 8"),
    ("concurrency", "9", "airtable.concurrency: '9' is not an integer from 1 to 8"),
    ("concurrency", "four", "airtable.concurrency: 'four' is not an integer from 1 to 8"),
    ("concurrency", "2.5", "airtable.concurrency: '2.5' is not an integer from 1 to 8"),
    ("keep_runs", "0", "airtable.keep_runs: '0' is not an integer of at least 1"),
    ("keep_runs", "-1", "airtable.keep_runs: '-1' is not an integer of at least 1")])
def test_read_config_bad_values(key, value, message):
    c = conf(base_id=SAMPLE, volume_path="/v", secret_scope="s", secret_key="k")
    c["airtable." + key] = value
    with pytest.raises(ingest_dlt.ConfigError) as e:
        ingest_dlt.read_config(c.get)
    assert str(e.value) == message
    assert isinstance(e.value, ValueError)


# --- --local ----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_local_prints_what_spark_would_be_given(server, tmp_path, capsys, fmt):
    out = tmp_path / "volume"            # created by --local
    status = ingest_dlt.main(["--local", "--base", SAMPLE, "--out", str(out),
                              "--table", "Vendors", "--format", fmt])
    printed = capsys.readouterr()
    assert (status, printed.err) == (0, "")
    [run] = runs(out / SAMPLE)
    assert RUN.fullmatch(run)
    d = out / SAMPLE / run
    data = "vendors." + fmt
    assert sorted(p.name for p in d.iterdir()) == sorted([
        "_manifest.json", data, "vendors.ddl", "vendors.schema.json"])
    manifest = json.loads((d / "_manifest.json").read_text())
    lines = printed.out.splitlines()
    assert re.fullmatch(r"ingest_dlt: exported 1 table \(15 rows, 2 requests, \d+\.\d s\) of "
                        r"base appPackagingOps01 into " + re.escape(str(d)), lines[0]), lines[0]
    reader = {"jsonl": "spark.read.schema(schema).json('%s/vendors.jsonl')" % d,
              "csv": "spark.read.schema(schema).options(header=True, multiLine=True, "
                     "escape='\"').csv('%s/vendors.csv')" % d}[fmt]
    options = {"jsonl": "(none)", "csv": "header=True, multiLine=True, escape='\"'"}[fmt]
    assert lines[1:] == [
        "",
        "Delta table: vendors",
        "  airtable table: 'Vendors' (%s), 15 rows" % VENDORS["id"],
        "  comment:        Airtable table 'Vendors' (%s) of base appPackagingOps01: 15 rows, "
        "exported %s" % (VENDORS["id"], manifest["started_at"]),
        "  data file:      %s/%s" % (d, data),
        "  reader:         " + reader,
        "  options:        " + options,
        "  schema:         StructType.fromJson(json.load(open('%s/vendors.schema.json')))" % d,
        "  schema DDL:     " + VENDORS_DDL[fmt]]
    # The DDL line is the .ddl file's one line.
    assert (d / "vendors.ddl").read_text(encoding="utf-8") == VENDORS_DDL[fmt] + "\n"


def test_local_as_a_command_does_not_import_pyspark(server, tmp_path):
    """python3 scripts/ingest_dlt.py --local ...: the same, and neither
    pyspark nor dlt is imported although both (stand-ins) are importable.
    The package comes from PYTHONPATH, as in a checkout."""
    probe = ("import runpy, sys\n"
             "sys.argv = [sys.argv[1]] + sys.argv[2:]\n"
             "try:\n"
             "    runpy.run_path(sys.argv[0], run_name='__main__')\n"
             "except SystemExit as e:\n"
             "    status = e.code\n"
             "else:\n"
             "    status = 0\n"
             "print('imported:', sorted(m for m in sys.modules if m.split('.')[0] in "
             "('pyspark', 'dlt')), 'status:', status)\n")
    env = child_env(AIRTABLE_API_URL=server.url, AIRTABLE_TOKEN=TOKEN,
                    PYTHONPATH=os.pathsep.join([str(PACKAGE_PATH), str(STANDINS)]))
    if SANITIZED:    # this Python loads the sanitized extension
        env["LD_PRELOAD"] = os.environ["LD_PRELOAD"]
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    reset_rate_limit(server)
    p = subprocess.run(["/usr/bin/python3", "-c", probe, str(SCRIPT), "--local", "--base", SAMPLE,
                        "--out", str(tmp_path), "--table", "tblHJoMnG6OaJpnhE",
                        "--prefix", "at_"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert (p.returncode, p.stderr) == (0, ""), p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("ingest_dlt: exported 1 table (15 rows, 2 requests, ")
    assert lines[2] == "Delta table: at_vendors"
    assert lines[-1] == "imported: [] status: 0"


def test_entry_file_help_and_without_the_package(tmp_path):
    """scripts/ingest_dlt.py --help: the usage. Where the package cannot be
    imported (no PYTHONPATH in a checkout, not installed): how to get it."""
    env = child_env(PYTHONPATH=os.pathsep.join([str(PACKAGE_PATH), str(STANDINS)]))
    p = subprocess.run(["/usr/bin/python3", str(SCRIPT), "--help"], capture_output=True,
                       text=True, env=env, cwd=tmp_path, timeout=60)
    assert (p.returncode, p.stderr) == (0, "") and p.stdout.startswith(
        "usage: ingest_dlt.py [-h] --local --base BASE --out OUT"), p.stdout
    env["PYTHONPATH"] = str(STANDINS)
    p = subprocess.run(["/usr/bin/python3", str(SCRIPT), "--local", "--base", SAMPLE, "--out",
                        str(tmp_path)], capture_output=True, text=True, env=env, cwd=tmp_path,
                       timeout=60)
    assert (p.returncode, p.stdout, p.stderr) == (1, "", (
        "ingest_dlt: the airtable_sqlite package is not importable: install the airtable-sqlite "
        "wheel (in Databricks, a dependency of the pipeline's environment), or, in a checkout, "
        "set PYTHONPATH=<checkout>/python\n"))
    assert list(tmp_path.iterdir()) == []


def test_local_errors(server, tmp_path, capsys, monkeypatch):
    base_dir = tmp_path / SAMPLE
    status = ingest_dlt.main(["--local", "--base", SAMPLE, "--out", str(tmp_path),
                              "--table", "Nope"])
    assert (status, capsys.readouterr()) == (1, ("", (
        "ingest_dlt: airtable: option table: base appPackagingOps01 has no table 'Nope' "
        "(tables: 'Packaging Tasks', 'Products', 'Vendors')\n")))
    assert runs(base_dir) == []          # the failed run's directory is gone
    monkeypatch.delenv("AIRTABLE_TOKEN")
    status = ingest_dlt.main(["--local", "--base", SAMPLE, "--out", str(tmp_path)])
    assert (status, capsys.readouterr()) == (1, ("", (
        "ingest_dlt: airtable: no API token: the environment variable AIRTABLE_TOKEN is not "
        "set (set it, or name another variable with token_env= or a file with "
        "token_file=)\n")))
    assert runs(base_dir) == []
    status = ingest_dlt.main(["--local", "--base", "appNope", "--out", str(tmp_path)])
    assert (status, capsys.readouterr()) == (1, ("", (
        "ingest_dlt: airtable.base_id: 'appNope' is not an Airtable base id ('app' followed "
        "by 14 letters or digits)\n")))
    # Issue 19: --out naming a file, not a bare "[Errno 17] File exists".
    afile = tmp_path / "a-file"
    afile.write_text("x")
    status = ingest_dlt.main(["--local", "--base", SAMPLE, "--out", str(afile)])
    assert (status, capsys.readouterr()) == (1, ("", (
        f"ingest_dlt: --out: {afile} is not a directory (give the directory that stands for "
        "the volume)\n")))
    # Without --local, outside a pipeline: the usage, exit status 2.
    with pytest.raises(SystemExit) as e:
        ingest_dlt.main(["--base", SAMPLE, "--out", str(tmp_path)])
    assert e.value.code == 2
    assert "the following arguments are required: --local" in capsys.readouterr().err


# --- define_tables ------------------------------------------------------------------

@pytest.fixture(scope="module")
def exported(server, tmp_path_factory):
    """Vendors then Products exported, as JSON Lines and as CSV:
    {format: (directory, manifest)}."""
    volume = tmp_path_factory.mktemp("volume")
    reset_rate_limit(server)
    return {fmt: ingest_dlt.run_export(
                config(server, volume, tables="Vendors,Products", format=fmt), TOKEN)
            for fmt in ("jsonl", "csv")}


def test_define_tables_jsonl(exported, fresh_dlt):
    out, manifest = exported["jsonl"]
    spark = FakeSpark()
    plan = ingest_dlt.define_tables(manifest, out, dlt, spark, T)
    assert [(t.name, t.comment, t.function.__name__, t.options) for t in dlt.tables] == [
        ("vendors", "Airtable table 'Vendors' (%s) of base %s: 15 rows, exported %s"
         % (VENDORS["id"], SAMPLE, manifest["started_at"]), "vendors", {}),
        ("products", "Airtable table 'Products' (%s) of base %s: 60 rows, exported %s"
         % (PRODUCTS["id"], SAMPLE, manifest["started_at"]), "products", {})]
    assert [e["name"] for e in plan] == ["vendors", "products"]
    assert spark.reads == 0              # nothing is read until DLT calls the functions
    for t, name in zip(dlt.tables, ["vendors", "products"]):
        schema = schema_of(os.path.join(out, name + ".schema.json"))
        assert t.function().calls == [("schema", schema),
                                      ("json", os.path.join(out, name + ".jsonl"))]
    # The schema is the exported StructType, field for field.
    vendors = dlt.tables[0].function().calls[0][1]
    assert vendors.fieldNames() == [c["name"] for c in manifest["tables"][0]["columns"]]
    assert vendors["products"].dataType == T.ArrayType(T.StringType(), True)
    assert vendors["reliability"].dataType == T.LongType()
    assert vendors["id"].nullable is False
    assert vendors["name"].metadata == {"airtable_field_name": "Name",
                                        "airtable_field_id": VENDORS["fields"][0]["id"],
                                        "airtable_field_type": "singleLineText"}
    with open(os.path.join(out, "vendors.schema.json"), encoding="utf-8") as f:
        assert vendors.jsonValue() == json.load(f)
    assert spark.reads == 3


def test_define_tables_csv_with_prefix(exported, fresh_dlt):
    out, manifest = exported["csv"]
    spark = FakeSpark()
    ingest_dlt.define_tables(manifest, out, dlt, spark, T, prefix="airtable_")
    assert [(t.name, t.function.__name__) for t in dlt.tables] == [
        ("airtable_vendors", "airtable_vendors"), ("airtable_products", "airtable_products")]
    for t, name in zip(dlt.tables, ["vendors", "products"]):
        schema = schema_of(os.path.join(out, name + ".schema.json"))
        assert t.function().calls == [("schema", schema), ("options", CSV_OPTIONS),
                                      ("csv", os.path.join(out, name + ".csv"))]
    assert dlt.tables[0].function().calls[0][1]["products"].dataType == T.StringType()
    # Defining them again in one pipeline is refused, as DLT refuses it.
    with pytest.raises(ValueError, match="^dataset 'airtable_vendors' is defined twice$"):
        ingest_dlt.define_tables(manifest, out, dlt, spark, T, prefix="airtable_")


# --- In a (simulated) pipeline ----------------------------------------------------

@pytest.mark.parametrize("run_name, settings, names", [
    ("__main__", {"tables": "*", "format": "csv", "table_prefix": "airtable_"},
     ["airtable_empty", "airtable_one", "airtable_ninety_nine", "airtable_one_hundred",
      "airtable_one_hundred_one", "airtable_odd_name_quoted"]),
    ("pipeline_source", {"tables": "One Hundred One, Empty"}, ["one_hundred_one", "empty"])])
def test_pipeline_source_end_to_end(server, tmp_path, capsys, monkeypatch, fresh_dlt,
                                    run_name, settings, names):
    """The file run as DLT runs it: spark and dbutils are globals, the
    configuration is in spark.conf, the token in a secret. It reaches the
    export (which succeeds) and nowhere else."""
    server.config(token=SECRET)
    monkeypatch.delenv("AIRTABLE_TOKEN")
    monkeypatch.delenv("AIRTABLE_API_URL")        # the configuration names the server
    volume = tmp_path / "volume"
    volume.mkdir()
    spark = FakeSpark(conf(base_id=SIZES, volume_path=str(volume), secret_scope="airtable",
                           secret_key="token", api_url=server.url, **settings))
    dbutils = FakeDbutils({("airtable", "token"): SECRET})
    runpy.run_path(str(SCRIPT), init_globals={"spark": spark, "dbutils": dbutils},
                   run_name=run_name)
    assert dbutils.secrets.calls == [("airtable", "token")]
    [run] = runs(volume / SIZES)
    d = volume / SIZES / run
    fmt = settings.get("format", "jsonl")
    reader = "json" if fmt == "jsonl" else "csv"
    assert [t.name for t in dlt.tables] == names
    for t in dlt.tables:
        file_name = t.name[len(settings.get("table_prefix", "")):]
        assert t.function().calls == (
            [("schema", schema_of(d / (file_name + ".schema.json")))]
            + ([("options", CSV_OPTIONS)] if fmt == "csv" else [])
            + [(reader, str(d / (file_name + "." + fmt)))])
    printed = capsys.readouterr()
    lines = printed.out.splitlines()
    rows = {"empty": 0, "one": 1, "ninety_nine": 99, "one_hundred": 100, "one_hundred_one": 101,
            "odd_name_quoted": 3}
    n = sum(rows[name[len(settings.get("table_prefix", "")):]] for name in names)
    assert re.fullmatch(r"ingest_dlt: exported %d tables \(%d rows, %d requests, \d+\.\d s\) of "
                        r"base %s into %s" % (len(names), n, len(names) + 2,
                                               SIZES, re.escape(str(d))), lines[0]), lines[0]
    assert lines[1:] == ["ingest_dlt: defined %s = %s" % (e["name"], ingest_dlt.reader_call(e))
                         for e in ingest_dlt.plan_tables(json.loads(
                             (d / "_manifest.json").read_text()), str(d),
                             settings.get("table_prefix", ""))]
    # The token went nowhere else: not printed, not in a file, not left in the environment.
    assert SECRET not in printed.out + printed.err
    assert files_containing(volume, SECRET) == []
    assert ingest_dlt.TOKEN_ENV not in os.environ


def test_pipeline_with_a_wrong_or_missing_secret(server, tmp_path, monkeypatch, fresh_dlt,
                                                 capsys):
    server.config(token=SECRET)
    monkeypatch.delenv("AIRTABLE_TOKEN")
    volume = tmp_path / "volume"
    volume.mkdir()
    spark = FakeSpark(conf(base_id=SIZES, volume_path=str(volume), secret_scope="airtable",
                           secret_key="token", api_url=server.url, tables="One"))
    wrong = "patWrongSecret.0123456789abcdef"
    with pytest.raises(airtable_export.ExportError) as e:
        ingest_dlt.run_pipeline(dlt, spark, FakeDbutils({("airtable", "token"): wrong}))
    # Issue 19: a 401 says where the token was read (the variable the
    # pipeline put the secret in), never the token itself.
    assert str(e.value) == ("airtable: HTTP 401 AUTHENTICATION_REQUIRED: Authentication "
                            "required (the token from environment variable "
                            "AIRTABLE_INGEST_TOKEN was refused)")
    assert wrong not in str(e.value)
    assert runs(volume / SIZES) == []          # the half-made directory is removed
    assert dlt.tables == [] and ingest_dlt.TOKEN_ENV not in os.environ
    assert files_containing(volume, wrong) == []
    # A secret that is not there: the error names the scope and key.
    with pytest.raises(ingest_dlt.ConfigError) as e:
        ingest_dlt.run_pipeline(dlt, spark, FakeDbutils({}))
    assert str(e.value) == (
        "cannot read the Airtable token from secret scope 'airtable', key 'token' "
        "(airtable.secret_scope, airtable.secret_key): Secret does not exist with scope: "
        "airtable and key: token")
    with pytest.raises(ingest_dlt.ConfigError) as e:
        ingest_dlt.run_pipeline(dlt, spark, FakeDbutils({("airtable", "token"): " "}))
    assert str(e.value) == ("the secret in scope 'airtable', key 'token' (airtable.secret_scope, "
                            "airtable.secret_key) is empty")
    out = capsys.readouterr()
    assert wrong not in out.out + out.err


def test_pipeline_configuration_errors(tmp_path, fresh_dlt):
    """A key missing from the pipeline configuration fails the update with
    its name before anything is read or exported."""
    spark = FakeSpark(conf(base_id=SIZES, secret_scope="airtable", secret_key="token"))
    dbutils = FakeDbutils({("airtable", "token"): SECRET})
    with pytest.raises(ingest_dlt.ConfigError, match=r"^airtable\.volume_path is not set "):
        ingest_dlt.run_pipeline(dlt, spark, dbutils)
    assert dbutils.secrets.calls == [] and dlt.tables == []
    assert "airtable.base_id" in spark.conf.asked
    # A volume that does not exist is not created.
    spark = FakeSpark(conf(base_id=SIZES, volume_path=str(tmp_path / "nope"),
                           secret_scope="airtable", secret_key="token"))
    with pytest.raises(ingest_dlt.ConfigError) as e:
        ingest_dlt.run_pipeline(dlt, spark, dbutils)
    assert str(e.value) == ("airtable.volume_path: %s is not a directory (create the volume "
                            "first)" % (tmp_path / "nope"))
    assert not (tmp_path / "nope").exists()
    # No dbutils found: said before anything is exported.
    with pytest.raises(ingest_dlt.ConfigError, match="^dbutils is not available, so the secret "
                       "holding the Airtable token cannot be read$"):
        ingest_dlt.run_pipeline(dlt, spark, None)
    # Outside a pipeline (no spark), importing the file defines nothing.
    assert ingest_dlt._pipeline_globals() is None


# --- Export directories -------------------------------------------------------------

def test_each_run_gets_a_fresh_directory_and_keep_runs_prunes(server, tmp_path):
    volume = tmp_path / "volume"
    base_dir = volume / SIZES
    base_dir.mkdir(parents=True)
    c = config(server, volume, base_id=SIZES, tables="One")
    now = datetime.datetime(2025, 1, 7, 9, 30, 0, tzinfo=datetime.timezone.utc)
    reset_rate_limit(server)
    first, _ = ingest_dlt.run_export(c, TOKEN, now)
    second, _ = ingest_dlt.run_export(c, TOKEN, now)       # the same second
    assert [os.path.basename(first), os.path.basename(second)] == [
        "20250107T093000Z", "20250107T093000Z-2"]
    (base_dir / "20200101T000000Z").mkdir()                # an older run that never finished
    (base_dir / "20250107T092000Z").mkdir()                # another update's, in progress
    (base_dir / "29991231T000000Z").mkdir()                # newer than this one: not ours
    (base_dir / "notes").mkdir()                           # not a run
    third, manifest = ingest_dlt.run_export(dict(c, keep_runs=2), TOKEN, now)
    assert os.path.basename(third) == "20250107T093000Z-3"
    assert runs(base_dir) == ["20250107T092000Z", "20250107T093000Z-2", "20250107T093000Z-3",
                              "29991231T000000Z", "notes"]
    assert [t["rows"] for t in manifest["tables"]] == [1]
    ingest_dlt.run_export(dict(c, keep_runs=1), TOKEN, now + datetime.timedelta(seconds=1))
    assert runs(base_dir) == ["20250107T092000Z", "20250107T093001Z", "29991231T000000Z",
                              "notes"]
    # A day later, an export without a manifest is one that died: removed.
    ingest_dlt.run_export(dict(c, keep_runs=1), TOKEN, now + datetime.timedelta(days=1, minutes=1))
    assert runs(base_dir) == ["20250108T093100Z", "29991231T000000Z", "notes"]


# --- The stand-ins ------------------------------------------------------------------

def test_standin_types_read_every_exported_schema(server, tmp_path):
    """Every schema the export writes (every Airtable type, JSON Lines and
    CSV) goes through the stand-in StructType unchanged, as through PySpark:
    fromJson then jsonValue / json give it back, and simpleString is the
    manifest's Spark type."""
    reset_rate_limit(server)
    for fmt in ("jsonl", "csv"):
        out = tmp_path / fmt
        try:
            m = airtable_export.export(SAMPLE, out, all=True, format=fmt, schema_only=True)
        except ValueError as e:
            # An extension without schema_only: export the rows too (5 s for
            # the 25 pages of Packaging Tasks), JSON Lines only (CSV's types
            # are a flat subset, read in the tests above).
            if "unknown option 'schema_only'" not in str(e):
                raise
            if fmt == "csv":
                break
            m = airtable_export.export(SAMPLE, out, all=True, format=fmt)
        for t in m["tables"]:
            text = (out / t["schema_file"]).read_text(encoding="utf-8")
            d = json.loads(text)
            s = T.StructType.fromJson(d)
            assert s.jsonValue() == d
            assert s.json() == json.dumps(d, separators=(",", ":"), sort_keys=True)
            assert T._parse_datatype_json_string(s.json()) == s
            assert s.fieldNames() == s.names == [c["name"] for c in t["columns"]]
            for field, column in zip(s, t["columns"]):
                assert (field.dataType.simpleString().upper()
                        == column["spark_type"].replace("`", "").replace(" ", "").upper())


def test_standin_types_behave_as_pyspark():
    s = T.StructType([T.StructField("id", T.StringType(), False),
                      T.StructField("n", T.LongType()),
                      T.StructField("tags", T.ArrayType(T.StringType())),
                      T.StructField("m", T.MapType(T.StringType(), T.DoubleType(), False))])
    assert [T.StringType.typeName(), T.LongType().typeName(), T.IntegerType().typeName(),
            T.DoubleType().typeName(), T.BooleanType().typeName(), T.DateType().typeName(),
            T.TimestampType().typeName(), T.ArrayType(T.LongType()).typeName(),
            T.MapType(T.StringType(), T.LongType()).typeName(), s.typeName()] == [
        "string", "long", "integer", "double", "boolean", "date", "timestamp", "array", "map",
        "struct"]
    assert s.simpleString() == "struct<id:string,n:bigint,tags:array<string>,m:map<string,double>>"
    assert T.IntegerType().simpleString() == "int"
    assert s.jsonValue() == {"type": "struct", "fields": [
        {"name": "id", "type": "string", "nullable": False, "metadata": {}},
        {"name": "n", "type": "long", "nullable": True, "metadata": {}},
        {"name": "tags", "type": {"type": "array", "elementType": "string",
                                  "containsNull": True}, "nullable": True, "metadata": {}},
        {"name": "m", "type": {"type": "map", "keyType": "string", "valueType": "double",
                               "valueContainsNull": False}, "nullable": True, "metadata": {}}]}
    assert T.ArrayType(T.LongType(), False).json() == (
        '{"containsNull":false,"elementType":"long","type":"array"}')
    assert T.StructType.fromJson(s.jsonValue()) == s and s != s[:2]
    assert T.StringType() is T.StringType() and T.LongType() == T.LongType()
    assert T.ArrayType(T.StringType()) != T.ArrayType(T.StringType(), False)
    assert T.DecimalType(10, 2) == T.StructField.fromJson(
        {"name": "d", "type": "decimal(10,2)", "nullable": True, "metadata": {}}).dataType
    assert [f.name for f in s] == s.fieldNames() == ["id", "n", "tags", "m"] and len(s) == 4
    assert s["n"] is s[1] and s[-1].name == "m" and s[1:3].names == ["n", "tags"]
    assert repr(s["id"]) == "StructField('id', StringType(), False)"
    assert repr(s["tags"].dataType) == "ArrayType(StringType(), True)"
    assert s["tags"].metadata == {} and s["id"].nullable is False
    s2 = T.StructType().add("id", T.StringType(), False).add("n", "long")
    assert s2 == s[:2]
    with pytest.raises(KeyError):
        s["nope"]
    with pytest.raises(IndexError):
        s[9]
    with pytest.raises(TypeError):
        s[1.5]
    with pytest.raises(TypeError):
        s["id"].typeName()
    with pytest.raises(ValueError, match="^Could not parse datatype: varchar$"):
        T.StructType.fromJson({"type": "struct", "fields": [
            {"name": "v", "type": "varchar", "nullable": True, "metadata": {}}]})
    with pytest.raises(ValueError, match="^not supported type: udt2$"):
        T._parse_datatype_json_value({"type": "udt2"})
    with pytest.raises(KeyError):
        T.StructType.fromJson({"type": "struct"})


def test_standin_dlt(fresh_dlt):
    @dlt.table
    def bare():
        return 1

    @dlt.table(name="named", comment="c", table_properties={"k": "v"})
    def f():
        return 2

    assert bare() == 1 and f() == 2          # the functions are returned unchanged
    assert dlt.tables == [dlt.Definition("bare", None, bare, {}),
                          dlt.Definition("named", "c", f, {"table_properties": {"k": "v"}})]
    with pytest.raises(ValueError, match="^dataset 'named' is defined twice$"):
        dlt.table(name="named")(lambda: 3)
    with pytest.raises(TypeError):
        dlt.table(name="x", unknown=1)
