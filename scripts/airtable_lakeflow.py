"""airtable_lakeflow: an Airtable connector for the Lakeflow Community
Connectors interface (databrickslabs/lakeflow-community-connectors,
LakeflowConnect), backed by this project's export.

A pipeline written against the interface switches by changing one import:

    from airtable_lakeflow import AirtableLakeflowConnector
    connector = AirtableLakeflowConnector({"base_id": "appXXXXXXXXXXXXXX",
                                           "personal_access_token": token})
    for name in connector.list_tables():
        schema = connector.get_table_schema(name, {})
        records, offset = connector.read_table(name, {}, {})
        df = spark.createDataFrame(records, schema)     # plain dicts

(`LakeflowConnect` is the same class, for code that imports that name.)

Options (the connection's; keys the framework or Unity Catalog add, such as
sourceName or tableName, are accepted and ignored):
  base_id                 required: appXXXXXXXXXXXXXX
  personal_access_token   the token; also accepted as bearer_token (Unity
                          Catalog connections) or token (the connector this
                          replaces); else $AIRTABLE_TOKEN. Required one way.
  api_url                 the API root (also base_url; a trailing / or /v0
                          is dropped); else $AIRTABLE_API_URL, else
                          https://api.airtable.com
  extension, command      paths of airtable.so / airtable-export (found by
                          themselves by default: airtable_export.py)
  via                     auto (default): SQL when this Python's sqlite3 can
                          load the extension, else the command; sql; command
  names                   delta (default): the Delta-safe column names the
                          replaced connector gave; exact: Airtable's names
  concurrency, rate_limit, max_retries, retry_backoff, retry_budget,
  connect_timeout, timeout, ca_file: as for the export
Table options: view (only this view's records); others are ignored.

What each method does:
  list_tables()          the base's table names, in base order (one
                         metadata request for the life of the object: the
                         export's schema_only=1)
  get_table_schema()     the StructType of the table's JSON Lines export:
                         the one Spark mapping of the export (ext/spark.c),
                         nested values typed, LongType for integers (never
                         IntegerType)
  read_table_metadata()  primary_keys ["id"], cursor_field "createdTime",
                         ingestion_type "snapshot"
  read_table()           a snapshot of the table: the export (JSON Lines)
                         runs into a private temporary directory, then the
                         records are read back one line at a time (never the
                         whole table in memory) as JSON-compatible dicts,
                         typing left to the schema as the interface asks.
                         The offset is a JSON-serialisable dict; given back,
                         it returns no record and the same offset, so a
                         caller looping until the offset repeats ends.
An unknown table name raises ValueError at once from each of the last three,
naming the table and listing the tables there are.

Spark types come through one seam, spark_types(): pyspark.sql.types where
PySpark is importable (on a Spark driver, the types are PySpark's own); the
tests put a stand-in with PySpark's names on the path (tests/standins/).
Standard library only otherwise.
"""
import json
import os
import shutil
import sys
import tempfile
import weakref

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import airtable_export  # noqa: E402  (beside this file)

DEFAULT_API_URL = "https://api.airtable.com"
TOKEN_OPTIONS = ("personal_access_token", "bearer_token", "token")
EXPORT_OPTIONS = ("concurrency", "rate_limit", "max_retries", "retry_backoff", "retry_budget",
                  "connect_timeout", "timeout", "ca_file", "rate_limit_wait")


def spark_types():
    """The module that holds StructType and the other Spark types: the one
    seam between this connector and PySpark."""
    import pyspark.sql.types
    return pyspark.sql.types


def _interface():
    """LakeflowConnect from the community framework when it is importable
    (this class then is one), else object."""
    for module in ("databricks.labs.community_connector.interface.lakeflow_connect",
                   "sources.interface.lakeflow_connect"):
        try:
            return __import__(module, fromlist=["LakeflowConnect"]).LakeflowConnect
        except Exception:
            continue
    return object


def _api_url(options):
    url = options.get("api_url") or options.get("base_url") or \
        os.environ.get("AIRTABLE_API_URL") or DEFAULT_API_URL
    url = url.rstrip("/")
    if url.endswith("/v0"):
        url = url[:-3].rstrip("/")
    return url


class _Records:
    """The records of one export's JSON Lines file, one line at a time. The
    file's directory is removed when the iterator is exhausted, closed or
    collected, whichever comes first."""

    def __init__(self, path, work_dir):
        self._file = open(path, encoding="utf-8")
        self._cleanup = weakref.finalize(self, _remove, self._file, work_dir)

    def __iter__(self):
        return self

    def __next__(self):
        if self._file.closed:
            raise StopIteration
        line = self._file.readline()
        if not line:
            self.close()
            raise StopIteration
        return json.loads(line)

    def close(self):
        self._cleanup()


def _remove(f, work_dir):
    f.close()
    shutil.rmtree(work_dir, ignore_errors=True)


class AirtableLakeflowConnector(_interface()):
    """LakeflowConnect for an Airtable base (the module's docstring says
    what each option and method does)."""

    def __init__(self, options):
        options = dict(options or {})
        self._base = options.get("base_id")
        if not self._base:
            raise ValueError("AirtableLakeflowConnector: option base_id is required (the "
                             "base, appXXXXXXXXXXXXXX)")
        self._token = next((options[k] for k in TOKEN_OPTIONS if options.get(k)), None) \
            or os.environ.get("AIRTABLE_TOKEN")
        if not self._token:
            raise ValueError("AirtableLakeflowConnector: no Airtable token: give option "
                             "personal_access_token (or bearer_token, or token), or set "
                             "$AIRTABLE_TOKEN")
        self._via = options.get("via", "auto")
        if self._via not in ("auto", "sql", "command"):
            raise ValueError("AirtableLakeflowConnector: option via: %r is not auto, sql or "
                             "command" % (self._via,))
        self._names = options.get("names", "delta")
        if self._names not in ("delta", "exact"):
            raise ValueError("AirtableLakeflowConnector: option names: %r is not delta or "
                             "exact" % (self._names,))
        self._export_options = {"api_url": _api_url(options), "format": "jsonl",
                                "names": self._names}
        for key in EXPORT_OPTIONS:
            if options.get(key) not in (None, ""):
                self._export_options[key] = options[key]
        self._extension = options.get("extension")
        self._command = options.get("command")
        self._tables = None        # the schema-only manifest's tables, in base order
        self._schemas = {}         # table id -> StructType JSON

    # --- the export ------------------------------------------------------------

    def _export(self, out, **options):
        """Run the export into out with the token in a private file (never an
        argument, never in the environment). Returns the manifest."""
        token_file = os.path.join(out, ".token")
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self._token)
        try:
            return airtable_export.export(self._base, os.path.join(out, "export"),
                                          via=self._via, extension=self._extension,
                                          command=self._command, token_file=token_file,
                                          **self._export_options, **options)
        finally:
            os.unlink(token_file)

    def _load_tables(self):
        if self._tables is None:
            work = tempfile.mkdtemp(prefix="airtable-lakeflow-")
            try:
                manifest = self._export(work, all=True, schema_only=True)
                schemas = {}
                for t in manifest["tables"]:
                    with open(os.path.join(work, "export", t["schema_file"]),
                              encoding="utf-8") as f:
                        schemas[t["id"]] = json.load(f)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            self._tables, self._schemas = manifest["tables"], schemas
        return self._tables

    def _table(self, table_name):
        """The manifest entry of a table, by name (or tbl id), or ValueError."""
        tables = self._load_tables()
        for t in tables:
            if table_name in (t["name"], t["id"]):
                return t
        raise ValueError("AirtableLakeflowConnector: table %r is not in base %s; its tables "
                         "are: %s" % (table_name, self._base,
                                      ", ".join(repr(t["name"]) for t in tables)))

    # --- LakeflowConnect ---------------------------------------------------------

    def list_tables(self):
        return [t["name"] for t in self._load_tables()]

    def get_table_schema(self, table_name, table_options):
        t = self._table(table_name)
        return spark_types().StructType.fromJson(self._schemas[t["id"]])

    def read_table_metadata(self, table_name, table_options):
        self._table(table_name)
        return {"primary_keys": ["id"], "cursor_field": "createdTime",
                "ingestion_type": "snapshot"}

    def read_table(self, table_name, start_offset, table_options):
        """(records, offset). A snapshot: the whole table, streamed from a
        file; given its own offset back, no record and the same offset."""
        t = self._table(table_name)
        view = (table_options or {}).get("view") or None
        if start_offset and start_offset.get("table_id") == t["id"] and \
                start_offset.get("snapshot_at") and start_offset.get("view") == view:
            return iter(()), dict(start_offset)
        work = tempfile.mkdtemp(prefix="airtable-lakeflow-")
        try:
            manifest = self._export(work, tables=[t["id"]], view=view)
            entry = manifest["tables"][0]
            records = _Records(os.path.join(work, "export", entry["data_file"]), work)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        offset = {"table_id": t["id"], "snapshot_at": manifest["started_at"],
                  "rows": entry["rows"]}
        if view:
            offset["view"] = view
        return records, offset


LakeflowConnect = AirtableLakeflowConnector
