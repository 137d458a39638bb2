"""Shared fixtures for the integration tests.

The tests load the built extension (AIRTABLE_EXT, set by ctest; default
build/airtable.so) into Debian's Python and talk to the Airtable-compatible
test server (the package tests/server/airtable_server) on 127.0.0.1. One
server serves the whole session: its rate-limit windows are per base, and
every request from this process goes through the extension's one
process-wide limiter, so the suite never trips the server's 5
requests/second limit by accident.
"""
import json
import os
import pathlib
import sqlite3
import subprocess
import sys
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXT = os.environ.get("AIRTABLE_EXT", str(ROOT / "build" / "airtable.so"))
TOKEN = "test-token"
# The extension under test is the ASan+UBSan build (its runtime preloaded).
SANITIZED = "libasan" in os.environ.get("LD_PRELOAD", "")
SAMPLE = "appPackagingOps01"
SIZES = "appSizeTests00001"


def load_fixture(base_id):
    with open(ROOT / "tests" / "fixtures" / f"{base_id}.json", encoding="utf-8") as f:
        return json.load(f)


# LeakSanitizer's own stop-the-world tracer sometimes crashes at exit (a
# known, unfixed sanitizer fault: google/sanitizers#1353): the leak check then
# did not run at all, which says nothing about our code. Tests that run a
# sanitized program with the leak check on run it again in that case (at
# most twice); a leak report or any other failure is never retried.
def lsan_tracer_crashed(stderr):
    return ("LeakSanitizer has encountered a fatal error" in stderr
            and "Tracer caught signal" in stderr
            and "ERROR: LeakSanitizer: detected memory leaks" not in stderr)


def sanitized_runs(run, attempts=3):
    """Call run() (which sets up its faults and runs the program, returning a
    CompletedProcess) until its result is not a LeakSanitizer tracer crash."""
    for _ in range(attempts):
        p = run()
        if not (SANITIZED and lsan_tracer_crashed(p.stderr)):
            return p
    return p


def child_env(**extra):
    """Environment for helper processes: no sanitizer preload (the server is
    pure Python), unless a test asks for it."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    env.update(extra)
    return env


# The test server is the package tests/server/airtable_server, run with -m
# and found through PYTHONPATH (the command and environment of its process).
SERVER_COMMAND = [sys.executable, "-m", "airtable_server"]


def server_env(**extra):
    return child_env(PYTHONPATH=str(ROOT / "tests" / "server"), **extra)


class Server:
    """A running test server and its control API (/_test/...)."""

    def __init__(self, *args):
        self.proc = subprocess.Popen(
            [*SERVER_COMMAND, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=server_env(), text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith(("http://127.0.0.1:", "https://127.0.0.1:")):
            self.proc.kill()
            raise RuntimeError("test server did not start: " + self.proc.stderr.read())

    def control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10, context=self.ssl_context) as r:
            return json.loads(r.read() or b"null")

    ssl_context = None   # set for a TLS server: trusts its certificate

    def api(self, path, token=TOKEN):
        """GET an API path directly (for comparing with what SQL returns)."""
        req = urllib.request.Request(self.url + path,
                                     headers={"Authorization": "Bearer " + token})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def requests(self):
        return self.control("GET", "/_test/requests")["requests"]

    def list_requests(self, base=None):
        """The list-records requests in the log (metadata calls left out), of
        one base if given (a request stalled by an earlier test's fault is
        logged when its handler wakes, perhaps during a later test)."""
        return [r for r in self.requests() if not r["path"].startswith("/v0/meta/")
                and (base is None or r["path"].startswith(f"/v0/{base}/"))]

    def clear_log(self):
        self.control("DELETE", "/_test/requests")

    def faults(self, *faults):
        self.control("POST", "/_test/faults", {"faults": list(faults)})

    def config(self, **cfg):
        self.control("POST", "/_test/config", cfg)

    def reset(self):
        self.control("POST", "/_test/reset")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def server():
    s = Server("--rate-limit-penalty", "2")
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def _env(monkeypatch, request):
    """Every test starts with the token and API URL of the session's server
    in the environment, and (if it uses the server) a reset server."""
    monkeypatch.setenv("AIRTABLE_TOKEN", TOKEN)
    monkeypatch.delenv("AIRTABLE_API_URL", raising=False)
    if "server" in request.fixturenames:
        s = request.getfixturevalue("server")
        if isinstance(s, Server):  # tests/integration/test_server.py has its own
            s.reset()
            monkeypatch.setenv("AIRTABLE_API_URL", s.url)


def assert_spacing(times, per_second):
    """No window of one second holds more than per_second arrivals. Give the
    log's "mono" times: the monotonic clock the limiter counts with (the wall
    clock "time" can be stepped between two requests; a gap of 0.9875 s was
    once seen that way, which the limiter cannot produce)."""
    for a, b in zip(times, times[per_second:]):
        assert b - a >= 1.0, (a, b)


def connect(path=":memory:"):
    conn = sqlite3.connect(path)
    conn.enable_load_extension(True)
    conn.load_extension(EXT)
    conn.enable_load_extension(False)
    return conn


@pytest.fixture
def db():
    conn = connect()
    yield conn
    conn.close()


def create(conn, name, base, table, **opts):
    """CREATE VIRTUAL TABLE name USING airtable(base=..., table=..., opts)."""
    args = [f"base='{base}'", "table='%s'" % table.replace("'", "''")]
    args += ["%s='%s'" % (k, str(v).replace("'", "''")) for k, v in opts.items()]
    conn.execute(f'CREATE VIRTUAL TABLE "{name}" USING airtable({", ".join(args)})')


def table_fixture(base_id, table_name):
    base = load_fixture(base_id)
    return next(t for t in base["tables"] if t["name"] == table_name)


def python_without_extension_loading():
    """A Python whose sqlite3 cannot load extensions (as pyenv builds often
    are; the python3 on this machine's PATH is one), or None."""
    import shutil
    candidates = [shutil.which("python3"), "/root/.pyenv/shims/python3"]
    return next((c for c in candidates if c and subprocess.run(
        [c, "-c", "import sqlite3, sys; sys.exit(hasattr(sqlite3.Connection, "
                  "'enable_load_extension'))"], capture_output=True).returncode == 0), None)
