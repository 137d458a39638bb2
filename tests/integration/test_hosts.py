"""The extension in the hosts people use: the sqlite3 shell and sqlite-utils.

The shell run doubles as the leak check: a sanitized build runs it with
LeakSanitizer (the shell, unlike Python, frees everything at exit), a plain
build under valgrind. It gets its own server, so its process's rate limiter
and the pytest process's never share one base's window.
"""
import csv
import io
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import EXT, ROOT, SANITIZED, TOKEN, Server, child_env, load_fixture, sanitized_runs


@pytest.fixture(scope="module")
def own_server():
    s = Server()
    yield s
    s.stop()


def run_shell(server, sql_file, extra=()):
    env = child_env(AIRTABLE_TOKEN=TOKEN, AIRTABLE_API_URL=server.url)
    cmd = ["sqlite3", "-batch", ":memory:", "-cmd", f".load {EXT}"]
    if SANITIZED:
        env["LD_PRELOAD"] = os.environ["LD_PRELOAD"]
        env["ASAN_OPTIONS"] = "detect_leaks=1:exitcode=86"
    elif shutil.which("valgrind"):
        cmd = ["valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite",
               "--error-exitcode=99", *cmd]
    with open(sql_file, encoding="utf-8") as f:
        return subprocess.run(cmd, stdin=f, capture_output=True, text=True, env=env,
                              timeout=300)


def test_shell_cache_workload_exact_output_and_no_leaks(own_server):
    server = own_server
    recs = next(t for t in load_fixture("appSizeTests00001")["tables"]
                if t["name"] == "One Hundred One")["records"]
    total = sum(r["fields"].get("N", 0) for r in recs)

    def run():
        server.control("POST", "/_test/reset")
        # Requests 1-2: the first sync's pages; 3-5 the incremental sync's
        # (changed since, 2 pages of ids); the 6th, the full sync's first
        # page, fails.
        server.faults({"path": "^/v0/appSizeTests00001/tbl", "action": "status",
                       "status": 503, "skip": 5})
        return run_shell(server, ROOT / "sql" / "test_shell_cache.sql")

    p = sanitized_runs(run)
    assert p.stdout.splitlines() == [
        '["full",101,3]',
        f"101|{total}",
        "1",
        "101",
        '["incremental",4]',
        f"101|{total}",
        "c|101|2|incremental",
        "0",
    ]
    assert p.stderr.splitlines() == [
        "Runtime error near line 15: airtable: HTTP 503 RETRIABLE_ERROR (the cache of 'c' is unchanged)"], p.stderr
    assert p.returncode == 1      # the error, but no leak (86) or valgrind error (99)


def test_shell_workload_exact_output_and_no_leaks(own_server):
    server = own_server

    def run():
        server.control("DELETE", "/_test/faults")
        # Page 2 of 'Ninety Nine'... has one page; fail its second scan instead.
        server.faults({"path": "^/v0/appSizeTests00001/tbl", "action": "status",
                       "status": 503, "skip": 1},
                      # Two 503s and a reset during the full scan: the retry paths
                      # run under the leak check too, invisible in the output.
                      {"path": "^/v0/appPackagingOps01/tbl", "action": "status",
                       "status": 503, "skip": 3, "times": 2},
                      {"path": "^/v0/appPackagingOps01/tbl", "action": "reset",
                       "skip": 10, "times": 2})
        return run_shell(server, ROOT / "sql" / "test_shell.sql")

    p = sanitized_runs(run)
    tasks = next(t for t in load_fixture("appPackagingOps01")["tables"]
                 if t["name"] == "Packaging Tasks")
    recs = tasks["records"]
    quantity = sum(r["fields"].get("Quantity", 0) for r in recs)
    cost = sum(1 for r in recs if "Cost per kg" in r["fields"])
    n_fields = sum(len(t["fields"]) for t in load_fixture("appPackagingOps01")["tables"])
    r0, r1 = recs[0], recs[1]

    def csv_row(r):
        tags = r["fields"].get("Tags")
        return [r["id"], r["fields"]["Task"],
                json.dumps(tags, ensure_ascii=False, separators=(",", ":")) if tags else ""]

    lines = p.stdout.splitlines()
    assert lines[:8] == [
        "appPackagingOps01|Packaging Operations",
        "appSizeTests00001|Size Tests",
        str(n_fields),
        f"2500|{quantity}|{cost}",
        r0["id"], r1["id"],
        "0",
        "4950",
    ]
    assert list(csv.reader(io.StringIO("\n".join(lines[8:])))) == [
        ["id", "Task", "Tags"], csv_row(r0), csv_row(r1)]
    assert p.stderr.splitlines() == [
        "Runtime error near line 15: airtable: option table: base appPackagingOps01 has "
        "no table 'Nope' (tables: 'Packaging Tasks', 'Products', 'Vendors')",
        "Runtime error near line 16: airtable: option base: 'appX' is not an Airtable "
        "base id ('app' followed by 14 letters or digits)",
        "Runtime error near line 17: airtable: HTTP 403 "
        "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND: Invalid permissions, or the "
        "requested model was not found. Check that both your user and your token "
        "have the required permissions, and that the model names and/or ids are correct. "
        "(base appDoesNotExist01, with the token from environment variable AIRTABLE_TOKEN)",
        "Runtime error near line 20: airtable: HTTP 503 RETRIABLE_ERROR",
    ], p.stderr
    assert p.returncode == 1      # errors, but no leak (86) or valgrind error (99)
    assert [f["hits"] for f in server.control("GET", "/_test/faults")["faults"]] == [1, 2, 2]


def test_sqlite_utils_loads_the_extension(server, tmp_path):
    exe = shutil.which("sqlite-utils")
    if exe is None:
        pytest.skip("sqlite-utils is not installed (scripts/setup installs it)")
    env = child_env(AIRTABLE_TOKEN=TOKEN, AIRTABLE_API_URL=server.url)
    if SANITIZED:
        env["LD_PRELOAD"] = os.environ["LD_PRELOAD"]
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    server.control("POST", "/_test/rate_limit/reset")
    p = subprocess.run([exe, "memory", "--load-extension", EXT, "--csv",
                        "SELECT name, field_count FROM airtable_tables('appSizeTests00001') "
                        "ORDER BY name LIMIT 2"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["name,field_count", "Empty,2", "Ninety Nine,2"]


def massif_peak(server, query):
    """Peak heap bytes (valgrind massif) of the sqlite3 shell running query
    against a fresh connection to the Packaging Tasks table."""
    out = pathlib.Path(server.tmp) / "massif.out"
    server.control("POST", "/_test/rate_limit/reset")
    env = child_env(AIRTABLE_TOKEN=TOKEN, AIRTABLE_API_URL=server.url)
    p = subprocess.run(
        ["valgrind", "-q", "--tool=massif", f"--massif-out-file={out}", "sqlite3", ":memory:",
         f".load {EXT}",
         "CREATE VIRTUAL TABLE tasks USING airtable(base='appPackagingOps01', "
         "table='Packaging Tasks')", query],
        capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    peak = max(int(line.split("=")[1]) for line in out.read_text().splitlines()
               if line.startswith("mem_heap_B="))
    return p.stdout.strip(), peak


@pytest.mark.skipif(SANITIZED or not shutil.which("valgrind"),
                    reason="measured on the plain build under valgrind")
def test_memory_holds_one_page_whatever_the_table_size(own_server, tmp_path):
    own_server.tmp = tmp_path
    out1, one_page = massif_peak(own_server, 'SELECT count(*), max(length("Notes")) '
                                 "FROM (SELECT * FROM tasks LIMIT 100)")
    out25, full = massif_peak(own_server, 'SELECT count(*), max(length("Notes")) FROM tasks')
    assert out1.split("|")[0] == "100" and out25.split("|")[0] == "2500"
    # 25 times the records, the same peak: one page at a time. (Measured
    # 1,081,576 bytes for one page and 1,074,344 for all 25.)
    assert full < one_page * 1.25, (one_page, full)


def test_ctrl_c_in_the_shell_stops_a_stalled_request(own_server, tmp_path):
    """SIGINT makes the shell call sqlite3_interrupt(): the stalled request
    stops at once and the statement fails with our message. (Reading a script
    rather than a terminal, the shell then stops, as after any Ctrl-C.)"""
    server = own_server
    sql = tmp_path / "stall.sql"
    sql.write_text("CREATE VIRTUAL TABLE t USING airtable(base='appSizeTests00001', "
                   "table='One');\nSELECT * FROM t;\nSELECT 'after';\n")
    env = child_env(AIRTABLE_TOKEN=TOKEN, AIRTABLE_API_URL=server.url)
    if SANITIZED:
        env["LD_PRELOAD"] = os.environ["LD_PRELOAD"]
        env["ASAN_OPTIONS"] = "detect_leaks=1:exitcode=86"

    def run():
        server.control("POST", "/_test/rate_limit/reset")
        server.control("DELETE", "/_test/faults")
        server.faults({"path": "^/v0/appSizeTests00001/tbl", "action": "stall", "seconds": 60})
        with open(sql) as f:
            p = subprocess.Popen(["sqlite3", "-batch", ":memory:", "-cmd", f".load {EXT}"],
                                 stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=env)
            # Wait until the stalled request has reached the server, then Ctrl-C.
            deadline = time.monotonic() + 30
            while not any(f["action"] == "stall" and f["hits"] > 0
                          for f in server.control("GET", "/_test/faults")["faults"]):
                assert time.monotonic() < deadline, "the request never reached the server"
                time.sleep(0.05)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=30)    # the stall alone lasts 60 s
        return subprocess.CompletedProcess(p.args, p.returncode, out, err)

    p = sanitized_runs(run)
    out, err = p.stdout, p.stderr
    server.control("DELETE", "/_test/faults")
    assert out == ""
    assert re.fullmatch(r"Runtime error near line 2: airtable: interrupted \(GET "
                        r"http://127\.0\.0\.1:\d+/v0/appSizeTests00001/tbl\w{14}"
                        r"\?returnFieldsByFieldId=true\)( \(\d+\))?\n", err), err
    assert p.returncode == 1


LOCALE_PROBE = r"""
import json, locale, sqlite3, sys
locale.setlocale(locale.LC_ALL, "ps_AF.UTF-8")
point = locale.localeconv()["decimal_point"]
db = sqlite3.connect(":memory:")
db.enable_load_extension(True)
db.load_extension(sys.argv[1])
db.execute("CREATE VIRTUAL TABLE t USING airtable(base='appPackagingOps01', "
           "table='Packaging Tasks', connect_timeout='2.5', pushdown='off')")
row = db.execute('SELECT "Weight (kg)", "Length/Width", "Barcode" FROM t '
                 "WHERE id = ?", (sys.argv[2],)).fetchone()
print(json.dumps({"point": point, "row": [repr(row[0]), repr(row[1]), row[2]]}))
"""


def test_numbers_read_the_same_under_a_two_byte_decimal_point(server, tmp_path):
    """A host that sets a locale whose decimal point is two bytes (U+066B in
    ps_AF): a number that needs strtod (17 digits, an exponent), a number in
    a JSON column and an option with a fraction all read as in the C locale
    (cJSON's swap of '.' for the locale's first byte read 0 and 1 there)."""
    made = subprocess.run(["localedef", "-i", "ps_AF", "-f", "UTF-8",
                           str(tmp_path / "ps_AF.UTF-8")], capture_output=True, text=True)
    assert (tmp_path / "ps_AF.UTF-8").is_dir(), made.stderr   # scripts/setup installs locales
    rec = load_fixture("appPackagingOps01")["tables"][0]["records"][0]["id"]
    server.control("POST", "/_test/records/appPackagingOps01/Packaging%20Tasks",
                   {"update": [{"id": rec, "fields": {
                       "Weight (kg)": 0.30000000000000004, "Length/Width": 1.5e300,
                       "Barcode": {"text": "7", "weight": 2.5}}}]})
    env = child_env(AIRTABLE_TOKEN=TOKEN, AIRTABLE_API_URL=server.url, LOCPATH=str(tmp_path))
    if SANITIZED:
        env["LD_PRELOAD"] = os.environ["LD_PRELOAD"]
    p = subprocess.run(["/usr/bin/python3", "-c", LOCALE_PROBE, EXT, rec],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {
        "point": "\u066b",
        "row": ["0.30000000000000004", "1.5e+300", '{"text":"7","weight":2.5}']}
