"""airtable_export: the export of an Airtable base to files for Spark, from Python.

    import airtable_export
    manifest = airtable_export.export("appXXXXXXXXXXXXXX", "out/", all=True)
    manifest = airtable_export.export("appXXXXXXXXXXXXXX", "out/",
                                      tables=["Packaging Tasks"], format="jsonl")

The work is done by the extension (airtable_export() in C): with a Python
whose sqlite3 module can load extensions (Debian's /usr/bin/python3, a
Databricks driver), through SQL; otherwise (many a pyenv or python.org
build lacks enable_load_extension) by running the airtable-export command.
Both give the same files and the same manifest, which export() returns
as a dict. Standard library only.

Options are the export's (README.md, "Export for Spark"): view, format,
gzip, names, concurrency, progress, from_cache, since_sync, api_url,
token_env, token_file, rate_limit, max_retries, rate_limit_wait,
retry_backoff, retry_budget, connect_timeout, timeout, ca_file. The token
is read from $AIRTABLE_TOKEN (or token_env / token_file), never passed as
an argument; an export from_cache (a database file holding synced staging
caches) needs none.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class ExportError(Exception):
    """The export failed; the message names the table and why."""


def find_extension():
    """The extension to load: $AIRTABLE_EXT, the build in this checkout, or
    an installed one; None if there is none."""
    import sysconfig
    multiarch = sysconfig.get_config_var("MULTIARCH") or "none"   # x86_64-linux-gnu
    # cmake --install (prefix /usr by default, or /usr/local), the .deb
    # (/usr/lib/<multiarch>), then lib/sqlite3, where earlier builds put it.
    candidates = [os.environ.get("AIRTABLE_EXT"),
                  os.path.join(ROOT, "build", "airtable.so"),
                  f"/usr/local/lib/{multiarch}/airtable.so", "/usr/local/lib/airtable.so",
                  f"/usr/lib/{multiarch}/airtable.so", "/usr/lib/airtable.so",
                  "/usr/local/lib/sqlite3/airtable.so", "/usr/lib/sqlite3/airtable.so"]
    return next((c for c in candidates if c and os.path.exists(c)), None)


def find_command():
    """The airtable-export command: $AIRTABLE_EXPORT, the build in this
    checkout, or one on PATH; None if there is none."""
    candidates = [os.environ.get("AIRTABLE_EXPORT"),
                  os.path.join(ROOT, "build", "airtable-export"),
                  shutil.which("airtable-export")]
    return next((c for c in candidates if c and os.path.exists(c)), None)


def can_load_extensions():
    return hasattr(sqlite3.Connection, "enable_load_extension")


def _options(base, out, tables, all, options):
    if isinstance(tables, str):
        raise TypeError("tables is a list of table names or ids, not one string")
    opts = [("base", base), ("out", os.fspath(out))]
    opts += [("table", t) for t in (tables or [])]
    if all:
        opts.append(("all", "1"))
    for key, value in options.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        opts.append((key, str(value)))
    return opts


def export(base, out, tables=None, all=False, via="auto", extension=None, command=None,
           **options):
    """Export tables (names or ids) of base, or all of them, into the
    directory out. Returns the manifest (a dict). Raises ExportError when the
    export fails, ValueError for wrong options. via is "auto" (SQL when this
    Python can load the extension, else the command), "sql" or "command";
    extension / command name the files to use (found by themselves by
    default); with neither usable the error says what is missing."""
    if via not in ("auto", "sql", "command"):
        raise ValueError("via must be 'auto', 'sql' or 'command', not %r" % (via,))
    opts = _options(base, out, tables, all, options)
    if via != "command" and can_load_extensions():
        extension = extension or find_extension()
        if extension:
            return _export_sql(extension, opts)
    if via != "sql":
        command = command or find_command()
        if command:
            return _export_command(command, opts)
    raise ExportError("airtable_export: neither the extension (this Python's sqlite3 cannot "
                      "load extensions, or none was found) nor the airtable-export command "
                      "was found: build them with scripts/setup, or set AIRTABLE_EXT / "
                      "AIRTABLE_EXPORT")


# One connection per extension file, open for the life of the process.
# Closing the last connection that loaded the extension unloads it, and with
# it the rate limiter's record of the base's last requests: the next export
# would start as if the base were idle and could be answered 429 (and wait
# 30 s). Exports through the kept connection take turns (its lock); the
# export itself runs its tables concurrently inside the one call.
_kept = {}
_kept_lock = threading.Lock()


def _connection(extension):
    with _kept_lock:
        entry = _kept.get(extension)
        if entry is None:
            conn = sqlite3.connect(":memory:", check_same_thread=False)
            try:
                conn.enable_load_extension(True)
                conn.load_extension(extension)
                conn.enable_load_extension(False)
            except Exception:
                conn.close()
                raise
            entry = _kept[extension] = (conn, threading.Lock())
        return entry


def _export_sql(extension, opts):
    conn, lock = _connection(extension)
    args = ["%s=%s" % kv for kv in opts]
    sql = "SELECT airtable_export(%s)" % ", ".join("?" * len(args))
    with lock:
        try:
            (text,), = conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError as e:
            raise _error(str(e)) from None
    return json.loads(text)


# Each run of the command is a new process with a limiter of its own, which
# knows nothing of the requests of the run before it. Every request of a run
# has completed when it exits, so a run that starts 1 s after the last one
# ended finds the base's window (5 requests a second) clear.
_command_ended = 0.0
_command_lock = threading.Lock()


def _export_command(command, opts):
    global _command_ended
    with _command_lock:
        time.sleep(max(0.0, _command_ended + 1.0 - time.monotonic()))
        try:
            return _run_command(command, opts)
        finally:
            _command_ended = time.monotonic()


def _run_command(command, opts):
    args, progress = [command], False
    for key, value in opts:
        if key in ("all", "gzip", "progress", "schema_only"):   # the command's flags
            on = value.lower() in ("1", "true", "yes", "on")
            if not on and value.lower() not in ("0", "false", "no", "off"):
                raise ValueError("airtable: option %s: '%s' is not 1 or 0" % (key, value))
            if key == "progress":
                progress = on
            elif on:
                args.append("--" + key)
        else:
            args += ["--" + key.replace("_", "-"), value]
    args.append("--progress" if progress else "--quiet")
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        msg = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "exit %d" % p.returncode
        if msg.startswith("airtable-export: "):
            msg = msg[len("airtable-export: "):]
        raise _error(msg)
    out = dict(opts)["out"]
    with open(os.path.join(out, "_manifest.json"), encoding="utf-8") as f:
        return json.load(f)


def _error(msg):
    """An option error is the caller's mistake (ValueError); anything else
    is the export failing (ExportError)."""
    if msg.startswith(("airtable: option ", "airtable: options ", "airtable: unknown option ")):
        return ValueError(msg)
    return ExportError(msg)
