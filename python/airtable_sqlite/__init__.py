"""airtable_sqlite: the airtable SQLite extension (Airtable bases as virtual
tables, and their export to files for Spark), from Python.

    import sqlite3
    import airtable_sqlite

    conn = sqlite3.connect(":memory:")
    airtable_sqlite.load(conn)
    conn.execute("CREATE VIRTUAL TABLE tasks USING airtable("
                 "base='appXXXXXXXXXXXXXX', table='Packaging Tasks')")

The modules on top of it (imported when first named: importing the package
imports none of them):

    airtable_sqlite.export     export(): a base to files for Spark, through
                               SQL or the airtable-export command
    airtable_sqlite.lakeflow   AirtableLakeflowConnector: a LakeflowConnect
                               drop-in (Lakeflow Community Connectors)
    airtable_sqlite.dlt        the Databricks DLT pipeline (scripts/ingest_dlt.py
                               is the file a pipeline runs)

Where the extension and the command are found: loadable_path() and
find_command(). Standard library only.
"""
import importlib
import json
import os
import shutil
import sqlite3
import subprocess
import sysconfig

__version__ = "0.1.0"

_HERE = os.path.dirname(os.path.abspath(__file__))


_MODULES = ("export", "lakeflow", "dlt")


def __getattr__(name):
    """airtable_sqlite.export (lakeflow, dlt) after a bare import
    airtable_sqlite: the module, imported on first use."""
    if name in _MODULES:
        return importlib.import_module("." + name, __name__)
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def _checkout():
    """The checkout this package sits in (<repo>/python/airtable_sqlite), or
    None when it is installed (site-packages, a wheel)."""
    python_dir = os.path.dirname(_HERE)
    repo = os.path.dirname(python_dir)
    if os.path.basename(python_dir) == "python" and \
            os.path.isfile(os.path.join(repo, "pyproject.toml")):
        return repo
    return None


def _first_existing(candidates):
    return next((c for c in candidates if c and os.path.exists(c)), None)


def _extension_candidates():
    multiarch = sysconfig.get_config_var("MULTIARCH") or "none"   # x86_64-linux-gnu
    repo = _checkout()
    # $AIRTABLE_EXT; a copy installed beside this file (a wheel); the build
    # tree of this checkout; cmake --install (prefix /usr by default, or
    # /usr/local), the .deb (/usr/lib/<multiarch>), then lib/sqlite3, where
    # earlier builds put it.
    return [os.environ.get("AIRTABLE_EXT"),
            os.path.join(_HERE, "airtable.so"),
            repo and os.path.join(repo, "build", "airtable.so"),
            f"/usr/local/lib/{multiarch}/airtable.so", "/usr/local/lib/airtable.so",
            f"/usr/lib/{multiarch}/airtable.so", "/usr/lib/airtable.so",
            "/usr/local/lib/sqlite3/airtable.so", "/usr/lib/sqlite3/airtable.so"]


def loadable_path():
    """The extension to load: $AIRTABLE_EXT, airtable.so beside this package,
    build/airtable.so of the checkout it sits in, or an installed one
    (/usr/local/lib, /usr/lib, ...); None if there is none."""
    return _first_existing(_extension_candidates())


def find_command():
    """The airtable-export command: $AIRTABLE_EXPORT, airtable-export beside
    this package, build/airtable-export of the checkout it sits in, or one on
    PATH; None if there is none."""
    repo = _checkout()
    return _first_existing([os.environ.get("AIRTABLE_EXPORT"),
                            os.path.join(_HERE, "airtable-export"),
                            repo and os.path.join(repo, "build", "airtable-export"),
                            shutil.which("airtable-export")])


def can_load_extensions():
    """Whether this Python's sqlite3 can load extensions (many a pyenv or
    python.org build lacks enable_load_extension)."""
    return hasattr(sqlite3.Connection, "enable_load_extension")


def load(conn, path=None):
    """Load the extension (path, else loadable_path()) into the sqlite3
    connection conn; loading stays disabled afterwards. Raises
    sqlite3.NotSupportedError when this Python's sqlite3 cannot load
    extensions, FileNotFoundError when no extension is found, and
    sqlite3.OperationalError when SQLite refuses the file."""
    if not hasattr(conn, "enable_load_extension"):
        raise sqlite3.NotSupportedError(
            "airtable_sqlite: this Python's sqlite3 cannot load extensions (it was built "
            "without enable_load_extension, as many pyenv and python.org builds are): use a "
            "Python that can (Debian's /usr/bin/python3, a Databricks driver), or the "
            "airtable-export command (airtable_sqlite.export runs it by itself)")
    path = path or loadable_path()
    if not path:
        raise FileNotFoundError(
            "airtable_sqlite: the extension (airtable.so) was not found: build it with "
            "scripts/setup, or set AIRTABLE_EXT (looked in: %s)"
            % ", ".join(c for c in _extension_candidates()[1:] if c))
    conn.enable_load_extension(True)
    try:
        conn.load_extension(path)
    finally:
        conn.enable_load_extension(False)


def options(extension=None, command=None, via="auto"):
    """The extension's options, a list of dicts: {"name", "kind" (integer,
    number, text, choice or flag), "table" (an option of the airtable
    virtual table), "export" (of airtable_export() and airtable-export),
    "min", "max", "choices" (where they apply), "help"}. Asked through SQL
    (SELECT airtable_options()) when this Python can load the extension,
    else of the command (airtable-export --list-options); via ("auto",
    "sql" or "command") and extension / command choose as export() does.
    Raises FileNotFoundError when neither is found, RuntimeError when the
    command fails."""
    if via not in ("auto", "sql", "command"):
        raise ValueError("via must be 'auto', 'sql' or 'command', not %r" % (via,))
    if via != "command" and can_load_extensions():
        extension = extension or loadable_path()
        if extension:
            conn = sqlite3.connect(":memory:")
            try:
                load(conn, extension)
                (text,), = conn.execute("SELECT airtable_options()").fetchall()
            finally:
                conn.close()
            return json.loads(text)
    if via != "sql":
        command = command or find_command()
        if command:
            p = subprocess.run([command, "--list-options"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
            if p.returncode != 0:
                raise RuntimeError("airtable_sqlite: %s --list-options failed: %s"
                                   % (command, p.stderr.strip() or "exit %d" % p.returncode))
            return json.loads(p.stdout)
    raise FileNotFoundError("airtable_sqlite: neither the extension (this Python's sqlite3 "
                            "cannot load extensions, or none was found) nor the "
                            "airtable-export command was found: build them with "
                            "scripts/setup, or set AIRTABLE_EXT / AIRTABLE_EXPORT")
