"""airtable_sqlite.export: the export of an Airtable base to files for Spark,
from Python.

    from airtable_sqlite import export
    manifest = export.export("appXXXXXXXXXXXXXX", "out/", all=True)
    manifest = export.export("appXXXXXXXXXXXXXX", "out/",
                             tables=["Packaging Tasks"], format="jsonl")

The work is done by the extension (airtable_export() in C): with a Python
whose sqlite3 module can load extensions (Debian's /usr/bin/python3, a
Databricks driver), through SQL; otherwise (many a pyenv or python.org
build lacks enable_load_extension) by running the airtable-export command.
Both give the same files and the same manifest, which export() returns
as a dict. Standard library only.

Options are the export's (docs/sql-reference.md, "Export options";
airtable_sqlite.options() lists them once the extension does): view,
format, gzip, names, concurrency, partitions, schema_only, progress,
from_cache, since_sync, api_url, token_env, token_file, rate_limit,
max_retries, rate_limit_wait, retry_backoff, retry_budget, connect_timeout,
timeout, ca_file. The token is read from $AIRTABLE_TOKEN (or token_env /
token_file), never passed as an argument; an export from_cache (a database
file holding synced staging caches) needs none.

As a command (scripts/export in a checkout):

    python3 -m airtable_sqlite.export base=appXXXXXXXXXXXXXX out=DIR all=1 [key=value ...]

prints the manifest; --help says more.
"""
import argparse
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time

import airtable_sqlite
from airtable_sqlite import can_load_extensions, find_command

# Where the extension is found (airtable_sqlite.loadable_path), under the
# name this module has always given it.
find_extension = airtable_sqlite.loadable_path



class ExportError(Exception):
    """The export failed; the message names the table and why."""


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
    return _export(_options(base, out, tables, all, options), via, extension, command)


def _export(opts, via, extension, command):
    """The export of opts, [(key, value)] as airtable_export() takes them."""
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
                airtable_sqlite.load(conn, extension)
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


_flags = {}      # command -> its flags, as it lists its options


def _command_flags(command):
    """The options that are flags of the command (--all, not --all 1), as
    the command lists its options (airtable-export --list-options)."""
    if command not in _flags:
        _flags[command] = tuple(o["name"] for o in airtable_sqlite.options(
            command=command, via="command") if o.get("export") and o.get("kind") == "flag")
    return _flags[command]


def _run_command(command, opts):
    args, progress, flags = [command], False, _command_flags(command)
    for key, value in opts:
        if key in flags:
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


# --- The command ---------------------------------------------------------------------

def main(argv=None):
    """python3 -m airtable_sqlite.export key=value ...: export() from the
    command line; prints the manifest. Returns an exit status."""
    p = argparse.ArgumentParser(
        prog="python3 -m airtable_sqlite.export",
        description="Export an Airtable base to files for Spark, from Python: through SQL "
                    "(airtable_export()) when this Python's sqlite3 can load the extension, "
                    "else by running the airtable-export command. Prints the manifest (JSON). "
                    "The token is read from $AIRTABLE_TOKEN (or token_env= / token_file=).",
        epilog="example: python3 -m airtable_sqlite.export base=appXXXXXXXXXXXXXX out=export "
               "all=1 format=jsonl")
    p.add_argument("options", nargs="+", metavar="key=value",
                   help="airtable_export()'s options, one per argument, in its order: base= "
                        "and out= (required), table= (repeat) or all=1, then view, format, "
                        "gzip, names, concurrency, partitions, schema_only, progress, "
                        "from_cache, since_sync, replace and the connection options "
                        "(docs/sql-reference.md, \"Export options\")")
    p.add_argument("--via", default="auto", choices=("auto", "sql", "command"),
                   help="auto (default): SQL when this Python can load the extension, else "
                        "the command")
    p.add_argument("--extension", help="airtable.so to load (default: found by itself)")
    p.add_argument("--command", help="airtable-export to run (default: found by itself)")
    args = p.parse_args(argv)
    opts = []
    for arg in args.options:
        key, eq, value = arg.partition("=")
        if not eq or not key:
            p.error("'%s' is not key=value" % arg)
        opts.append((key.strip(), value))
    try:
        manifest = _export(opts, args.via, args.extension, args.command)
    except (ValueError, ExportError, OSError, sqlite3.Error) as e:
        msg = str(e)
        print(msg if msg.startswith("airtable_export: ") else "airtable_export: " + msg,
              file=sys.stderr)
        return 1
    print(json.dumps(manifest, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
