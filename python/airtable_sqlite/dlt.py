"""airtable_sqlite.dlt: a Databricks DLT pipeline (Lakeflow Declarative
Pipelines) that loads an Airtable base into Delta tables. Its entry file,
the one a pipeline runs, is scripts/ingest_dlt.py: two lines that import
this module and hand it their globals (entry()).

When the pipeline builds its graph, the entry file runs on the driver: it
exports the base (airtable_sqlite.export, that is the extension's
airtable_export()) into a fresh directory of a Unity Catalog volume, then
defines one @dlt.table per exported table, reading that table's file with
the schema the export wrote. The workers only read plain files: no connector
code runs on them.

In Databricks
-------------
1. Install this package (the airtable-sqlite wheel) in the pipeline's
   environment and add scripts/ingest_dlt.py to the pipeline's source code.
   The pipeline must use Unity Catalog (volumes are read and written as
   /Volumes/... paths) and be allowed to write the volume and reach
   api.airtable.com.
2. The driver needs the extension (airtable.so) or the airtable-export
   command, built for the runtime's Linux: give its path with
   airtable.extension / airtable.command (a file in a volume will do), or
   set $AIRTABLE_EXT / $AIRTABLE_EXPORT, or install it with
   scripts/databricks-init.sh (a cluster init script; docs/databricks.md).
3. Store the token as a secret (databricks secrets put-secret SCOPE KEY) and
   set the pipeline configuration (Settings > Advanced > Configuration):

   airtable.base_id        required: the base, appXXXXXXXXXXXXXX
   airtable.volume_path    required: an existing directory, e.g. /Volumes/main/raw/airtable;
                           each update exports into <volume_path>/<base_id>/<UTC time>/
   airtable.secret_scope   required: the secret scope holding the token
   airtable.secret_key     required: the token's key in that scope
   airtable.tables         the tables, by name or tbl id, separated by commas
                           (a name containing a comma: use its id); * or unset: all
   airtable.format         jsonl (default: nested values typed, split across tasks) or csv
   airtable.table_prefix   prefix of the Delta table names (letters, digits, _), e.g. airtable_
   airtable.api_url        the API root (default https://api.airtable.com)
   airtable.concurrency    tables exported at once, 1 to 8 (default 4)
   airtable.keep_runs      keep only this many newest complete export directories of
                           the base (this update's included; one without a manifest
                           goes only once a day older); unset: keep them all
   airtable.extension      path of airtable.so on the driver
   airtable.command        path of the airtable-export command on the driver

   Nothing is configured by editing the entry file. The token is read with
   dbutils.secrets.get(scope, key) and handed to the export in an environment
   variable for the duration of the export only: it is never an argument,
   never printed and never written to a file.

Each Delta table is a materialized view: spark.read.schema(<the exported
StructType>).json(<volume>/<base>/<run>/<name>.jsonl) (for csv,
.options(header=True, multiLine=True, escape='"').csv(...)). Its name is the
export's file name (the Delta table name the replaced connector gave it),
after airtable.table_prefix. If the export fails the update fails with the
export's message (which table, why) and the half-written directory is
removed; earlier exports are untouched.

On a laptop
-----------
    AIRTABLE_TOKEN=pat... PYTHONPATH=python python3 scripts/ingest_dlt.py --local \\
        --base appXXXXXXXXXXXXXX --out DIR [--table NAME ...] [--format jsonl|csv]
        [--prefix P] [--concurrency N]

(PYTHONPATH=python in a checkout, none where the package is installed;
python3 -m airtable_sqlite.dlt --local ... is the same) runs everything but
Spark: reads the same configuration (DIR stands for airtable.volume_path and
is created if missing), exports into DIR/<base>/<UTC time>/ and prints, for
each table, what Spark would be given: the Delta table name and comment, the
data file, the reader and its options, the schema file and the schema as
DDL. It does not import pyspark. The API root comes from $AIRTABLE_API_URL
(default https://api.airtable.com).

The functions (read_config, run_export, plan_tables, define_tables,
run_pipeline) need no Databricks and are tested with stand-ins
(tests/integration/test_ingest_dlt.py). Databricks' dlt module is imported only to
find out whether this runs in a pipeline (_pipeline_globals). Standard
library only.
"""
import argparse
import builtins
import datetime
import json
import os
import re
import shutil
import sys

from airtable_sqlite import export

PREFIX = "airtable."
TOKEN_ENV = "AIRTABLE_INGEST_TOKEN"   # holds the secret's value during the export only
CSV_OPTIONS = {"header": True, "multiLine": True, "escape": '"'}   # docs/export-for-spark.md: exactly these
READERS = {"jsonl": "json", "csv": "csv"}                         # export format -> reader
RUN_NAME = re.compile(r"^(\d{8}T\d{6}Z)(?:-(\d+))?$")             # <volume>/<base>/<run>


class ConfigError(ValueError):
    """The pipeline configuration is missing a key or has a wrong value; the
    message names the key."""


# --- Configuration --------------------------------------------------------------

def read_config(get, secret=True):
    """The configuration, read with get(key) -> str or None (in a pipeline,
    spark.conf.get(key, None)). Returns a dict: base_id, volume_path, tables
    (a list, or None for all), format, table_prefix, api_url, concurrency
    (int or None), keep_runs (int or None), extension, command, secret_scope,
    secret_key. With secret=False (--local) the secret keys are not required.
    Raises ConfigError naming the key."""
    def value(key):
        v = get(PREFIX + key)
        if v is None:
            return None
        v = str(v).strip()
        return v or None      # an empty value is no value

    def required(key, what):
        v = value(key)
        if v is None:
            raise ConfigError("%s%s is not set in the pipeline configuration (%s)"
                              % (PREFIX, key, what))
        return v

    def integer(key, low, high, what):
        v = value(key)
        if v is None:
            return None
        if not re.fullmatch(r"[0-9]+", v) or not low <= int(v) <= (high or int(v)):
            raise ConfigError("%s%s: '%s' is not %s" % (PREFIX, key, v, what))
        return int(v)

    config = {"base_id": required("base_id", "the base id, appXXXXXXXXXXXXXX"),
              "volume_path": required("volume_path", "where to export, a Unity Catalog "
                                      "volume such as /Volumes/main/raw/airtable"),
              "secret_scope": value("secret_scope"), "secret_key": value("secret_key")}
    if secret:
        required("secret_scope", "the secret scope holding the Airtable token")
        required("secret_key", "the key of the Airtable token in %ssecret_scope" % PREFIX)
    if not re.fullmatch(r"app[A-Za-z0-9]{14}", config["base_id"]):
        raise ConfigError("%sbase_id: '%s' is not an Airtable base id ('app' followed by 14 "
                          "letters or digits)" % (PREFIX, config["base_id"]))
    if not config["volume_path"].startswith("/"):
        raise ConfigError("%svolume_path: '%s' is not an absolute path (a Unity Catalog volume "
                          "such as /Volumes/main/raw/airtable)" % (PREFIX, config["volume_path"]))
    config["volume_path"] = config["volume_path"].rstrip("/") or "/"

    tables = value("tables")
    if tables is None or tables == "*":
        config["tables"] = None
    else:
        names = [t.strip() for t in tables.split(",")]
        if "" in names:
            raise ConfigError("%stables: '%s' has an empty table name (names or tbl ids, "
                              "separated by commas; * for all)" % (PREFIX, tables))
        if "*" in names:
            raise ConfigError("%stables: '%s': * (all tables) cannot be combined with names"
                              % (PREFIX, tables))
        twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
        if twice is not None:
            raise ConfigError("%stables: '%s' is listed twice" % (PREFIX, twice))
        config["tables"] = names

    config["format"] = value("format") or "jsonl"
    if config["format"] not in READERS:
        raise ConfigError("%sformat: '%s' is not jsonl or csv" % (PREFIX, config["format"]))
    config["table_prefix"] = value("table_prefix") or ""
    if not re.fullmatch(r"[A-Za-z0-9_]*", config["table_prefix"]):
        raise ConfigError("%stable_prefix: '%s' may hold only letters, digits and _"
                          % (PREFIX, config["table_prefix"]))
    config["api_url"] = value("api_url")
    config["concurrency"] = integer("concurrency", 1, 8, "an integer from 1 to 8")
    config["keep_runs"] = integer("keep_runs", 1, None, "an integer of at least 1")
    config["extension"] = value("extension")
    config["command"] = value("command")
    return config


def read_token(config, dbutils):
    """The token, from dbutils.secrets.get(scope, key). The error names the
    scope and key, never a value."""
    scope, key = config["secret_scope"], config["secret_key"]
    try:
        token = dbutils.secrets.get(scope=scope, key=key)
    except Exception as e:   # dbutils raises a Py4J / IllegalArgument error
        raise ConfigError("cannot read the Airtable token from secret scope '%s', key '%s' "
                          "(%ssecret_scope, %ssecret_key): %s"
                          % (scope, key, PREFIX, PREFIX, e)) from None
    if not token or not token.strip():
        raise ConfigError("the secret in scope '%s', key '%s' (%ssecret_scope, %ssecret_key) "
                          "is empty" % (scope, key, PREFIX, PREFIX))
    return token


# --- The export -------------------------------------------------------------------

def _run_key(name):
    m = RUN_NAME.match(name)
    return (m.group(1), int(m.group(2) or 1))


def make_run_dir(base_dir, now=None):
    """Create and return a new directory base_dir/<UTC time>, e.g.
    20250107T093000Z (-2, -3, ... if taken). mkdir claims it atomically, so
    two exports never share one."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    stamp = now.astimezone(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    n = 1
    while True:
        path = os.path.join(base_dir, stamp if n == 1 else "%s-%d" % (stamp, n))
        try:
            os.mkdir(path)
            return path
        except FileExistsError:
            n += 1


# An export directory without a manifest may be another update's export in
# progress (two pipelines sharing a volume): it is removed only once it is
# this much older than the current run, when no export can still be writing.
INCOMPLETE_GRACE = datetime.timedelta(hours=24)


def _run_time(name):
    return datetime.datetime.strptime(_run_key(name)[0], "%Y%m%dT%H%M%SZ")


def prune_runs(base_dir, keep, current):
    """Remove the export directories of base_dir older than current, except
    the keep-1 newest complete ones (those with a _manifest.json): current and
    they are kept. A directory without a manifest is removed only when it is
    more than INCOMPLETE_GRACE older than current. Directories not named like
    a run, and newer ones, are left alone. Returns the names removed."""
    runs = sorted((d for d in os.listdir(base_dir)
                   if RUN_NAME.match(d) and os.path.isdir(os.path.join(base_dir, d))),
                  key=_run_key)
    cur = os.path.basename(current)
    older = [d for d in runs if _run_key(d) < _run_key(cur)]
    complete = [d for d in older if os.path.exists(os.path.join(base_dir, d, "_manifest.json"))]
    kept = set(complete[len(complete) - (keep - 1):]) if keep > 1 else set()
    kept |= {d for d in older if d not in complete
             and _run_time(cur) - _run_time(d) <= INCOMPLETE_GRACE}
    removed = [d for d in older if d not in kept]
    for d in removed:
        shutil.rmtree(os.path.join(base_dir, d), ignore_errors=True)
    return removed


def run_export(config, token, now=None):
    """Export the configured tables into a new directory
    <volume_path>/<base_id>/<UTC time>/. token: the Airtable token, handed
    to the export in the environment variable AIRTABLE_INGEST_TOKEN, which
    is removed afterwards; None: the export reads $AIRTABLE_TOKEN itself
    (--local). Returns (the directory, the manifest). On failure the
    directory is removed and airtable_sqlite.export's ExportError (or
    ValueError, for an option it refuses) is raised; a missing volume is a
    ConfigError."""
    volume = config["volume_path"]
    if not os.path.isdir(volume):
        raise ConfigError("%svolume_path: %s is not a directory (create the volume first)"
                          % (PREFIX, volume))
    base_dir = os.path.join(volume, config["base_id"])
    os.makedirs(base_dir, exist_ok=True)
    out = make_run_dir(base_dir, now)
    options = {"format": config["format"], "api_url": config["api_url"],
               "concurrency": config["concurrency"]}
    saved = os.environ.get(TOKEN_ENV)
    if token is not None:
        os.environ[TOKEN_ENV] = token
        options["token_env"] = TOKEN_ENV
    try:
        manifest = export.export(config["base_id"], out, tables=config["tables"],
                                 all=config["tables"] is None, extension=config["extension"],
                                 command=config["command"], **options)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)   # no manifest: nobody reads it
        raise
    finally:
        if token is not None:
            if saved is None:
                os.environ.pop(TOKEN_ENV, None)
            else:
                os.environ[TOKEN_ENV] = saved
    if config["keep_runs"]:
        prune_runs(base_dir, config["keep_runs"], out)
    return out, manifest


# --- What Spark is given --------------------------------------------------------------

def plan_tables(manifest, out_dir, prefix=""):
    """For each table of the manifest, in its order, what Spark is given: a
    dict with name (the Delta table), comment, table / id / rows (the
    Airtable table), path (the data file), reader ("json" or "csv"), options
    (the reader's), schema_file, ddl (the .ddl file's line)."""
    reader = READERS[manifest["options"]["format"]]
    plan = []
    for t in manifest["tables"]:
        with open(os.path.join(out_dir, t["ddl_file"]), encoding="utf-8") as f:
            ddl = f.read().rstrip("\n")
        plan.append({
            "name": prefix + t["file_name"],
            "comment": "Airtable table '%s' (%s) of base %s: %d rows, exported %s"
                       % (t["name"], t["id"], manifest["base"], t["rows"],
                          manifest["started_at"]),
            "table": t["name"], "id": t["id"], "rows": t["rows"],
            "path": os.path.join(out_dir, t["data_file"]),
            "reader": reader,
            "options": dict(CSV_OPTIONS) if reader == "csv" else {},
            "schema_file": os.path.join(out_dir, t["schema_file"]),
            "ddl": ddl})
    return plan


def reader_call(entry):
    """The reader as Python, e.g. spark.read.schema(schema).json('/x/t.jsonl')."""
    options = ", ".join("%s=%r" % kv for kv in entry["options"].items())
    return "spark.read.schema(schema)%s.%s(%r)" % (
        ".options(%s)" % options if options else "", entry["reader"], entry["path"])


def _query(spark, entry, schema):
    """The function DLT calls for one table. A function of its own, so that
    each table's function keeps its own entry and schema (a lambda in the
    loop would see only the last)."""
    def query():
        reader = spark.read.schema(schema)
        if entry["options"]:
            reader = reader.options(**entry["options"])
        return getattr(reader, entry["reader"])(entry["path"])
    query.__name__ = query.__qualname__ = entry["name"]
    return query


def define_tables(manifest, out_dir, dlt, spark, types, prefix=""):
    """Define one @dlt.table per table of the manifest (exported into
    out_dir): named prefix + its file name, with a comment, returning
    spark.read.schema(types.StructType.fromJson(<schema file>)).json(<file>)
    (.options(header=True, multiLine=True, escape='"').csv(<file>) for csv).
    types is pyspark.sql.types. Returns plan_tables()'s list."""
    plan = plan_tables(manifest, out_dir, prefix)
    for entry in plan:
        with open(entry["schema_file"], encoding="utf-8") as f:
            schema = types.StructType.fromJson(json.load(f))
        dlt.table(name=entry["name"], comment=entry["comment"])(_query(spark, entry, schema))
    return plan


def _summary(manifest, out_dir):
    n = len(manifest["tables"])
    return ("ingest_dlt: exported %d table%s (%d rows, %d requests, %.1f s) of base %s into %s"
            % (n, "" if n == 1 else "s", sum(t["rows"] for t in manifest["tables"]),
               manifest["requests"], manifest["seconds"], manifest["base"], out_dir))


# --- In a pipeline --------------------------------------------------------------------

def run_pipeline(dlt, spark, dbutils):
    """All of it, inside a DLT pipeline: configuration from spark.conf, the
    token from dbutils.secrets, the export, then the tables. Errors raise
    (the update fails with the message)."""
    config = read_config(lambda key: spark.conf.get(key, None))
    if dbutils is None:
        raise ConfigError("dbutils is not available, so the secret holding the Airtable "
                          "token cannot be read")
    out, manifest = run_export(config, read_token(config, dbutils))
    from pyspark.sql import types
    print(_summary(manifest, out))
    plan = define_tables(manifest, out, dlt, spark, types, config["table_prefix"])
    for entry in plan:
        print("ingest_dlt: defined %s = %s" % (entry["name"], reader_call(entry)))
    sys.stdout.flush()
    return plan


def _pipeline_globals(namespace=None):
    """(dlt, spark, dbutils) when running as a DLT pipeline source, else None.
    spark and dbutils are globals there: of namespace (the entry file's
    globals; by default this module's), of __main__, or builtins; failing
    those, the active session."""
    try:
        import dlt
    except ImportError:
        return None
    if not hasattr(dlt, "table"):      # another package named dlt (dlthub's)
        return None
    main = sys.modules.get("__main__")
    spaces = [namespace if namespace is not None else globals(),
              vars(main) if main is not None else {}, vars(builtins)]

    def find(name):
        return next((ns[name] for ns in spaces if ns.get(name) is not None), None)

    spark, dbutils = find("spark"), find("dbutils")
    if spark is None:
        try:
            from pyspark.sql import SparkSession
            spark = SparkSession.getActiveSession()
        except (ImportError, AttributeError):
            spark = None
    if spark is None:
        return None
    if dbutils is None:
        try:
            from pyspark.dbutils import DBUtils
            dbutils = DBUtils(spark)
        except (ImportError, AttributeError):
            dbutils = None
    return dlt, spark, dbutils


# --- On a laptop ----------------------------------------------------------------------

def describe(entry):
    """What --local prints for one table."""
    return ["Delta table: %s" % entry["name"],
            "  airtable table: '%s' (%s), %d rows" % (entry["table"], entry["id"], entry["rows"]),
            "  comment:        %s" % entry["comment"],
            "  data file:      %s" % entry["path"],
            "  reader:         %s" % reader_call(entry),
            "  options:        %s" % (", ".join("%s=%r" % kv for kv in entry["options"].items())
                                      or "(none)"),
            "  schema:         StructType.fromJson(json.load(open(%r)))" % entry["schema_file"],
            "  schema DDL:     %s" % entry["ddl"]]


def local(argv):
    p = argparse.ArgumentParser(
        prog="ingest_dlt.py",
        description="Run the pipeline's export on this machine and print what Spark would be "
                    "given. The token is read from $AIRTABLE_TOKEN, the API root from "
                    "$AIRTABLE_API_URL. In Databricks this file is a pipeline source and "
                    "takes no arguments.")
    p.add_argument("--local", action="store_true", required=True,
                   help="run here, without Spark (required)")
    p.add_argument("--base", required=True, help="the base id (airtable.base_id)")
    p.add_argument("--out", required=True,
                   help="stands for airtable.volume_path; created if missing")
    p.add_argument("--table", action="append",
                   help="a table, by name or tbl id (repeat; default: all)")
    p.add_argument("--format", default="jsonl", choices=sorted(READERS),
                   help="jsonl (default) or csv")
    p.add_argument("--prefix", default="", help="airtable.table_prefix")
    p.add_argument("--concurrency", help="airtable.concurrency")
    args = p.parse_args(argv)
    settings = {"base_id": args.base, "volume_path": os.path.abspath(args.out),
                "format": args.format, "table_prefix": args.prefix,
                "concurrency": args.concurrency}
    try:
        config = read_config(lambda key: settings.get(key[len(PREFIX):]), secret=False)
        config["tables"] = args.table     # a list: names may hold commas here
        if os.path.exists(config["volume_path"]) and not os.path.isdir(config["volume_path"]):
            raise ValueError("--out: %s is not a directory (give the directory that stands "
                             "for the volume)" % config["volume_path"])
        os.makedirs(config["volume_path"], exist_ok=True)
        out, manifest = run_export(config, None)
    except OSError as e:
        # Say what and where, not a bare "[Errno 17] File exists".
        print("ingest_dlt: %s: %s" % (e.filename or settings["volume_path"],
                                      e.strerror or e), file=sys.stderr)
        return 1
    except (ValueError, export.ExportError) as e:
        print("ingest_dlt: %s" % e, file=sys.stderr)
        return 1
    lines = [_summary(manifest, out)]
    for entry in plan_tables(manifest, out, config["table_prefix"]):
        lines += [""] + describe(entry)
    print("\n".join(lines))
    return 0


def main(argv=None, namespace=None):
    """Inside a DLT pipeline (dlt importable, spark present among namespace's
    globals or the others _pipeline_globals() looks in): define the tables.
    Otherwise the command line (--local). Returns an exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if "--local" not in argv:
        pipeline = _pipeline_globals(namespace)
        if pipeline is not None:
            run_pipeline(*pipeline)
            return 0
    return local(argv)


def entry(namespace, name):
    """What the entry file (scripts/ingest_dlt.py) does, given its globals
    and its __name__. DLT runs it as a pipeline source (under whatever
    module name, spark among its globals): define the tables, and never
    exit. From a shell (name "__main__"): the command line; exits with its
    status unless 0. Imported anywhere else: nothing."""
    if name == "__main__" or ("--local" not in sys.argv[1:] and _pipeline_globals(namespace)):
        status = main(namespace=namespace)
        if status:
            sys.exit(status)


# python3 -m airtable_sqlite.dlt: the command line, as the entry file's.
if __name__ == "__main__":
    entry(globals(), __name__)
