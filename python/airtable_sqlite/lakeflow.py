"""airtable_sqlite.lakeflow: an Airtable connector for the Lakeflow Community
Connectors interface (databrickslabs/lakeflow-community-connectors,
LakeflowConnect), backed by this project's export.

A pipeline written against the interface switches by changing one import:

    from airtable_sqlite.lakeflow import AirtableLakeflowConnector
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
                          themselves by default: airtable_sqlite's
                          loadable_path() and find_command())
  via                     auto (default): SQL when this Python's sqlite3 can
                          load the extension, else the command; sql; command
  names                   delta (default): the Delta-safe column names the
                          replaced connector gave; exact: Airtable's names
  concurrency, rate_limit, max_retries, retry_backoff, retry_budget,
  connect_timeout, timeout, ca_file: as for the export
  cache_file              a SQLite database file holding a staging cache
                          of each table read (incremental sync; created
                          when missing): tables become cdc_with_deletes
                          ("Incremental reads" below). Needs this Python's
                          sqlite3 to load the extension (via auto or sql).
  max_age                 with cache_file: seconds a sync stays fresh
                          enough to skip another (default 0: every read
                          that finds nothing new in the cache syncs)
Table options: view (only this view's records; not with cache_file);
others are ignored.

What each method does:
  list_tables()          the base's table names, in base order (one
                         metadata request for the life of the object: the
                         export's schema_only=1)
  get_table_schema()     the StructType of the table's JSON Lines export:
                         the one Spark mapping of the export (ext/spark.c),
                         nested values typed, LongType for integers (never
                         IntegerType)
  read_table_metadata()  primary_keys ["id"], cursor_field "createdTime",
                         ingestion_type "snapshot"; with cache_file:
                         cursor_field "_airtable_sync", ingestion_type
                         "cdc_with_deletes"
  read_table()           a snapshot of the table: the export (JSON Lines)
                         runs into a private temporary directory, then the
                         records are read back one line at a time (never the
                         whole table in memory) as JSON-compatible dicts,
                         typing left to the schema as the interface asks.
                         The offset is a JSON-serialisable dict; given back,
                         it returns no record and the same offset, so a
                         caller looping until the offset repeats ends.
                         With cache_file: the records changed since the
                         offset, each with _airtable_sync (below).
  read_table_deletes()   with cache_file only: the records deleted since
                         the offset, as {"id", "_airtable_sync"}
An unknown table name raises ValueError at once from each of the last four,
naming the table and listing the tables there are.

Incremental reads (cache_file). The file holds one cached airtable table
per Airtable table (cache='on', named as the export names the table's
files, e.g. packaging_tasks; an existing cache of the table in the file is
found by its table id and used whatever its name). Its syncs are numbered;
each row remembers the sync that last added or changed it, each deleted
record the sync that saw it go (NAME_rows.changed, NAME_deleted.sync).
The schema gains a last column _airtable_sync (LongType, not null): the
sync number a record is as of, the cursor that orders an upsert and a
delete of one id. Offsets are {"table_id": "tbl...", "sync": S}, meaning
"the caller has every change up to the cache's sync S"; None, {} or another
table's offset mean S = 0 (everything). read_table and read_table_deletes
follow one rule, each for its own stream (changed rows; tombstones):

  1. S greater than the cache's sync number: ValueError (the offset is not
     from this cache file: start again from an empty offset).
  2. The cache holds something after S for this stream: return it, with
     offset {"sync": M}, M the cache's sync number. No sync.
  3. Else sync (incremental; not when AIRTABLE_OFFLINE is set, nor within
     max_age seconds of the last sync), then return what is after S now
     with offset {"sync": M}; if still nothing, no record and the offset
     given (M if that was not an offset of this table), which ends the
     caller's loop.

Every call that does not end the loop returns at least one change (but a
first call from None or {}), so a loop ends after one call more than it has
batches, and a sync that finds nothing ends it: the generic suite's 50
calls are never near. A new run starts from its checkpoint S, usually finds
nothing after it in the cache (the last run ended that way) and syncs at
once: whatever changed since is picked up. Syncs and reads of the file go
through one SQLite connection kept for the object's life (the extension's
rate limiter is per process, and lives while a connection has it loaded);
the object pickles without it (Spark ships readers to executors) and opens
its own there.
The cache's declaration holds no token: token_env=AIRTABLE_LAKEFLOW_TOKEN,
a variable set only while this object's own statements run (the way
airtable_sqlite.dlt hands the token to the export), so the file carries no
secret and no path that would be gone by the next run. Other options it is
declared with (api_url, rate_limit, ...) are the first connector's and stay.
The file is put in WAL mode, so that an export reading it never waits on a
sync writing it (the upsert and delete streams run side by side).

Spark types come through one seam, spark_types(): pyspark.sql.types where
PySpark is importable (on a Spark driver, the types are PySpark's own); the
tests put a stand-in with PySpark's names on the path (tests/standins/).
Standard library only otherwise.
"""
import contextlib
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import weakref

import airtable_sqlite
from airtable_sqlite import export
from airtable_sqlite.export import ExportError

DEFAULT_API_URL = "https://api.airtable.com"
TOKEN_OPTIONS = ("personal_access_token", "bearer_token", "token")
# The connection options passed on to the export, and those of them an
# airtable table takes too (a cache is declared with them), come from the
# extension's own list of its options (passed_options()), never a hand list.
# The export's options never taken from the connection's: the connector
# sets them (base from base_id, api_url, format, names, the token by
# token_file), or each call does (table, all, out, view, schema_only,
# from_cache, since_sync); gzip would hide the records from the reading
# back, progress is noise; token_env and partitions were never passed on;
# replace: each export goes into a directory of its own.
NOT_PASSED = ("base", "table", "all", "out", "view", "format", "names", "api_url", "token_env",
              "token_file", "gzip", "progress", "schema_only", "from_cache", "since_sync",
              "partitions", "replace")
SYNC_COLUMN = "_airtable_sync"
# The variable a cache's declaration names for the token (token_env=): set
# only while this module's statements on the cache file run.
TOKEN_ENV = "AIRTABLE_LAKEFLOW_TOKEN"
_env_lock = threading.Lock()


WORK_PREFIX = "airtable-lakeflow-"


def _work_dir():
    """A private directory for one export (its files, and the token file
    the export reads, 0600, removed when it ends). Named with this process's
    id, so that the directories of a process killed with kill -9 (which
    could not remove them, token file included) are removed here, by the
    next connector of this machine's user."""
    tmp = tempfile.gettempdir()
    try:
        names = os.listdir(tmp)
    except OSError:
        names = []
    for name in names:
        if not name.startswith(WORK_PREFIX):
            continue
        pid = name[len(WORK_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            path = os.path.join(tmp, name)
            try:
                if os.stat(path).st_uid == os.getuid():     # ours, and its process is gone
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass
        except PermissionError:
            pass                          # another user's process: alive
    return tempfile.mkdtemp(prefix="%s%d-" % (WORK_PREFIX, os.getpid()))


def passed_options(table):
    """(the options a connector passes on to the export, those of them a
    cache is declared with) as table, airtable_sqlite.options()'s list,
    makes them: the export's options but NOT_PASSED, in the list's order;
    of those, the ones an airtable table takes too."""
    passed = tuple(o["name"] for o in table if o.get("export") and o["name"] not in NOT_PASSED)
    declared = tuple(o["name"] for o in table if o["name"] in passed and o.get("table"))
    return passed, declared


_listed = {}      # (extension, command, via) -> passed_options() of its list


def _option_lists(extension, command, via):
    """passed_options() of the extension's list of its options, asked once
    per process of the extension / command the connector uses."""
    key = (extension, command, via)
    if key not in _listed:
        _listed[key] = passed_options(airtable_sqlite.options(extension, command, via))
    return _listed[key]


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


def _offline():
    """AIRTABLE_OFFLINE as the extension reads it: set, and not "" or "0"."""
    return os.environ.get("AIRTABLE_OFFLINE", "") not in ("", "0")


class _Records:
    """The records of one export's JSON Lines file, one line at a time (each
    updated with extra, if given). The file's directory is removed when the
    iterator is exhausted, closed or collected, whichever comes first."""

    def __init__(self, path, work_dir, extra=None):
        self._file = open(path, encoding="utf-8")
        self._extra = extra
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
        record = json.loads(line)
        if self._extra:
            record.update(self._extra)
        return record

    def close(self):
        self._cleanup()


def _remove(f, work_dir):
    f.close()
    shutil.rmtree(work_dir, ignore_errors=True)


def _quote_ident(name):
    return '"%s"' % name.replace('"', '""')


def _sql_error(e):
    """A failed statement on the cache file as the export's errors are: an
    option error is ValueError, anything else ExportError."""
    msg = str(e)
    if msg.startswith(("airtable: option ", "airtable: options ", "airtable: unknown option ")):
        return ValueError(msg)
    return ExportError(msg)


class _CacheFile:
    """The connector's connection to its cache file, kept open for the
    connector's life, and the cached table of each Airtable table in it.
    Statements take turns (one lock)."""

    def __init__(self, path, extension, base, token, declare):
        self.path = path
        self._base = base
        self._token = token
        self._declare = declare       # [(key, value)] after base and table
        self._names = {}              # table id -> cached table's name
        self.lock = threading.RLock()
        conn = sqlite3.connect(path, timeout=600, isolation_level=None,
                               check_same_thread=False)
        try:
            airtable_sqlite.load(conn, extension)
        except Exception as e:
            conn.close()
            if isinstance(e, sqlite3.Error):
                raise ExportError(
                    "AirtableLakeflowConnector: option cache_file: cannot use '%s': %s"
                    % (path, e)) from None
            raise
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchall()
        except sqlite3.Error:
            pass      # a file system without shared memory: the rollback journal, slower
        # The file's declarations may name where the token goes; the
        # extension sends it only where this connector (its options) says.
        for key, value in declare:
            if key in ("api_url", "token_env"):
                conn.execute("SELECT airtable_allow(?, ?)", (key, value)).fetchall()
        self.conn = conn
        self._close = weakref.finalize(self, conn.close)

    def close(self):
        self._close()

    @contextlib.contextmanager
    def _token_env(self):
        """The token in $AIRTABLE_LAKEFLOW_TOKEN for the statement run inside
        (a declaration names the variable, never the token), then gone."""
        with _env_lock:
            saved = os.environ.get(TOKEN_ENV)
            os.environ[TOKEN_ENV] = self._token
            try:
                yield
            finally:
                if saved is None:
                    os.environ.pop(TOKEN_ENV, None)
                else:
                    os.environ[TOKEN_ENV] = saved

    def name(self, t):
        """The cached table of Airtable table t (a manifest entry): one found
        by its table id (the first declared, as an export from the file
        picks it), else one declared now as t["file_name"]."""
        with self.lock:
            name = self._names.get(t["id"])
            if name is None:
                name = self._find(t) or self._create(t)
                self._names[t["id"]] = name
            return name

    def _find(self, t):
        found = self.conn.execute(
            "SELECT i.name, i.view_id FROM airtable_cache_info AS i"
            " JOIN sqlite_schema AS s ON s.name = i.name"
            " WHERE i.schema = 'main' AND i.base = ? AND i.table_id = ?"
            " ORDER BY s.rowid LIMIT 1", (self._base, t["id"])).fetchone()
        if found and found[1] is not None:
            raise ValueError("AirtableLakeflowConnector: option cache_file: '%s' holds a cache "
                             "of table %r declared with a view (%s): the connector needs the "
                             "whole table; give another file" % (self.path, t["name"], found[0]))
        return found and found[0]

    def _create(self, t):
        name = t["file_name"]
        args = [("base", self._base), ("table", t["id"]), ("cache", "on")] + self._declare
        sql = ", ".join("%s='%s'" % (k, str(v).replace("'", "''")) for k, v in args)
        taken = self.conn.execute("SELECT sql FROM sqlite_schema WHERE name = ?",
                                  (name,)).fetchone()
        # Declared here before and never synced (airtable_cache_info knows
        # its table only after a sync): the same declaration, taken again.
        if taken and taken[0] != "CREATE VIRTUAL TABLE %s USING airtable(%s)" % (
                _quote_ident(name), sql):
            raise ValueError("AirtableLakeflowConnector: option cache_file: '%s' already has a "
                             "table named %s that is not a cache of table %r (%s) of base %s "
                             "as this connector declares it: %s"
                             % (self.path, name, t["name"], t["id"], self._base, taken[0]))
        if _offline() and not taken:
            raise ExportError(
                "AirtableLakeflowConnector: '%s' holds no cache of table %r, and "
                "AIRTABLE_OFFLINE is set: read it once where the API can be reached"
                % (self.path, t["name"]))
        try:
            with self._token_env():
                self.conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS %s USING airtable(%s)"
                                  % (_quote_ident(name), sql))
        except sqlite3.Error as e:
            raise _sql_error(e) from None
        return name

    def syncs(self, name):
        """The cache's sync number: 0 before the first sync."""
        row = self.conn.execute("SELECT value FROM %s WHERE key = 'syncs'"
                                % _quote_ident(name + "_sync")).fetchone()
        return int(row[0]) if row else 0

    def last_sync_end(self, name):
        row = self.conn.execute("SELECT value FROM %s WHERE key = 'last_sync_end'"
                                % _quote_ident(name + "_sync")).fetchone()
        return float(row[0]) if row else None

    def changed_after(self, name, sync):
        return self.conn.execute("SELECT EXISTS(SELECT 1 FROM %s WHERE changed > ?)"
                                 % _quote_ident(name + "_rows"), (sync,)).fetchone()[0] == 1

    def deleted_after(self, name, sync):
        """(the cache's sync number, [(id, sync)] of the records deleted
        after sync), read together in one transaction."""
        with self.lock:
            self.conn.execute("BEGIN")
            try:
                m = self.syncs(name)
                rows = self.conn.execute("SELECT id, sync FROM %s WHERE sync > ? ORDER BY sync, id"
                                         % _quote_ident(name + "_deleted"),
                                         (sync,)).fetchall()
            finally:
                self.conn.execute("COMMIT")
            return m, rows

    def sync(self, name):
        """An incremental sync (the extension's choice: full the first time
        or when the table's fields changed). Returns its JSON result."""
        try:
            with self._token_env():
                (text,), = self.conn.execute("SELECT airtable_sync(?)", (name,)).fetchall()
        except sqlite3.Error as e:
            raise _sql_error(e) from None
        return json.loads(text)


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
        self._extension = options.get("extension")
        self._command = options.get("command")
        # The connection's options passed on to the export; those of them a
        # cache is declared with.
        passed, self._declared = _option_lists(self._extension, self._command, self._via)
        self._export_options = {"api_url": _api_url(options), "format": "jsonl",
                                "names": self._names}
        for key in passed:
            if options.get(key) not in (None, ""):
                self._export_options[key] = options[key]
        self._tables = None        # the schema-only manifest's tables, in base order
        self._schemas = {}         # table id -> StructType JSON
        self._cache_file = options.get("cache_file") or None
        self._cache = None         # the _CacheFile, opened on first use
        self._cache_lock = threading.Lock()
        self._max_age = 0.0
        if self._cache_file:
            if self._via == "command" or not airtable_sqlite.can_load_extensions():
                raise ValueError("AirtableLakeflowConnector: option cache_file needs the "
                                 "extension loaded in this Python (via auto or sql), and %s"
                                 % ("via is command" if self._via == "command" else
                                    "this Python's sqlite3 cannot load extensions"))
            try:
                self._max_age = float(options.get("max_age") or 0)
            except ValueError:
                self._max_age = -1.0
            if not self._max_age >= 0:
                raise ValueError("AirtableLakeflowConnector: option max_age: %r is not a number "
                                 "of seconds" % (options.get("max_age"),))

    def __getstate__(self):
        # Pickled (Spark ships readers to executors): without the cache
        # file's connection and the lock, which are made again there.
        state = dict(self.__dict__, _cache=None)
        del state["_cache_lock"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._cache_lock = threading.Lock()

    # --- the export ------------------------------------------------------------

    def _export(self, out, **options):
        """Run the export into out with the token in a private file (never an
        argument, never in the environment). Returns the manifest."""
        token_file = os.path.join(out, ".token")
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self._token)
        try:
            return export.export(self._base, os.path.join(out, "export"),
                                 via=self._via, extension=self._extension,
                                 command=self._command, token_file=token_file,
                                 **self._export_options, **options)
        finally:
            os.unlink(token_file)

    def _load_tables(self):
        if self._tables is None:
            work = _work_dir()
            # Offline with a cache: the cached tables, as their caches hold them.
            where = {"from_cache": self._cache_file} if self._cache_file and _offline() else {}
            try:
                manifest = self._export(work, all=True, schema_only=True, **where)
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
        schema = self._schemas[t["id"]]
        if self._cache_file:
            if any(f["name"] == SYNC_COLUMN for f in schema["fields"]):
                raise ValueError("AirtableLakeflowConnector: table %r has a column named %s, "
                                 "the name of the sync number column of cache_file"
                                 % (t["name"], SYNC_COLUMN))
            schema = dict(schema, fields=schema["fields"] + [
                {"name": SYNC_COLUMN, "type": "long", "nullable": False, "metadata": {}}])
        return spark_types().StructType.fromJson(schema)

    def read_table_metadata(self, table_name, table_options):
        self._table(table_name)
        if self._cache_file:
            return {"primary_keys": ["id"], "cursor_field": SYNC_COLUMN,
                    "ingestion_type": "cdc_with_deletes"}
        return {"primary_keys": ["id"], "cursor_field": "createdTime",
                "ingestion_type": "snapshot"}

    def read_table(self, table_name, start_offset, table_options):
        """(records, offset). A snapshot: the whole table, streamed from a
        file; given its own offset back, no record and the same offset.
        With cache_file: the records changed since the offset's sync (the
        rule is in the module's docstring)."""
        t = self._table(table_name)
        view = (table_options or {}).get("view") or None
        if self._cache_file:
            return self._read_changes(t, start_offset, view)
        if start_offset and start_offset.get("table_id") == t["id"] and \
                start_offset.get("snapshot_at") and start_offset.get("view") == view:
            return iter(()), dict(start_offset)
        work = _work_dir()
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

    def read_table_deletes(self, table_name, start_offset, table_options):
        """(records, offset): {"id", "_airtable_sync"} of each record deleted
        since the offset's sync, the sync that saw it go; the offsets are
        read_table's (the rule is in the module's docstring). Only with
        cache_file: without it the tables are snapshots."""
        t = self._table(table_name)
        if not self._cache_file:
            raise NotImplementedError("AirtableLakeflowConnector: read_table_deletes needs "
                                      "option cache_file (without it, tables are snapshots)")
        self._no_view(table_options)
        cache, name, given, since = self._cache_offset(t, start_offset)
        with cache.lock:
            m, rows = cache.deleted_after(name, since)
            if not rows and self._sync_due(cache, name):
                cache.sync(name)
                m, rows = cache.deleted_after(name, since)
        if not rows and given:
            return iter(()), dict(start_offset)
        return (iter([{"id": i, SYNC_COLUMN: n} for i, n in rows]),
                {"table_id": t["id"], "sync": m})

    # --- incremental reads (cache_file) --------------------------------------------

    def _no_view(self, table_options):
        if (table_options or {}).get("view"):
            raise ValueError("AirtableLakeflowConnector: table option view: not with "
                             "cache_file (a cache holds the whole table)")

    def _cache_offset(self, t, start_offset):
        """(the cache file, t's cached table, whether start_offset is an
        offset of t, its sync number S), S checked against the cache's."""
        with self._cache_lock:
            if self._cache is None:
                declare = [("api_url", self._export_options["api_url"]),
                           ("token_env", TOKEN_ENV)]
                declare += [(k, self._export_options[k]) for k in self._declared
                            if k in self._export_options]
                extension = self._extension or airtable_sqlite.loadable_path()
                if not extension:
                    raise ExportError(
                        "AirtableLakeflowConnector: option cache_file needs the extension, and "
                        "none was found: build it with scripts/setup, or give option extension")
                self._cache = _CacheFile(self._cache_file, extension, self._base, self._token,
                                         declare)
            cache = self._cache
        name = cache.name(t)
        given = isinstance(start_offset, dict) and start_offset.get("table_id") == t["id"] \
            and "sync" in start_offset
        since = start_offset["sync"] if given else 0
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            raise ValueError("AirtableLakeflowConnector: offset %r of table %r: sync is not a "
                             "sync number" % (start_offset, t["name"]))
        m = cache.syncs(name)
        if since > m:
            raise ValueError("AirtableLakeflowConnector: offset %r of table %r is at sync %d, "
                             "but the cache of the table in '%s' is at sync %d: the offset is "
                             "not from this file (was it replaced?); start again from an empty "
                             "offset" % (start_offset, t["name"], since, self._cache_file, m))
        return cache, name, given, since

    def _sync_due(self, cache, name):
        """Whether a read that found nothing new should sync: never offline,
        else once max_age seconds have passed since the last sync ended."""
        if _offline():
            if cache.syncs(name) == 0:
                raise ExportError(
                    "AirtableLakeflowConnector: the cache of table '%s' in '%s' was never "
                    "synced, and AIRTABLE_OFFLINE is set: read it once where the API can be "
                    "reached" % (name, self._cache_file))
            return False
        if self._max_age > 0:
            end = cache.last_sync_end(name)
            if end is not None and time.time() - end < self._max_age:
                return False
        return True

    def _read_changes(self, t, start_offset, view):
        self._no_view({"view": view})
        cache, name, given, since = self._cache_offset(t, start_offset)
        with cache.lock:
            new = cache.changed_after(name, since)
            if not new and self._sync_due(cache, name):
                cache.sync(name)
                new = cache.changed_after(name, since)
            m = cache.syncs(name)
            work = _work_dir() if new else None
            try:
                if new:
                    manifest = self._export(work, tables=[t["id"]],
                                            from_cache=self._cache_file, since_sync=since)
                    entry = manifest["tables"][0]
                    m, new = entry["sync"], entry["rows"] > 0
                if not new:
                    if work:
                        shutil.rmtree(work, ignore_errors=True)
                    if given:
                        return iter(()), dict(start_offset)
                    return iter(()), {"table_id": t["id"], "sync": m}
                records = _Records(os.path.join(work, "export", entry["data_file"]), work,
                                   {SYNC_COLUMN: m})
            except BaseException:
                if work:
                    shutil.rmtree(work, ignore_errors=True)
                raise
        return records, {"table_id": t["id"], "sync": m}

LakeflowConnect = AirtableLakeflowConnector


def main(argv=None):
    """python3 -m airtable_sqlite.lakeflow: this module is a library (the
    connector a pipeline imports), not a program; --help says how to use it
    rather than printing nothing."""
    argv = sys.argv[1:] if argv is None else list(argv)
    print(__doc__.strip())
    return 0 if argv in ([], ["-h"], ["--help"]) else 2


if __name__ == "__main__":
    sys.exit(main())
