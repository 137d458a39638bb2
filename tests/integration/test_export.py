"""The export's behaviour under failure, interruption and the rate limit, its
options and its command (tests/integration/test_export_roundtrip.py checks the files'
contents). A failed or interrupted export must leave no file with a final
name that is not complete, and no manifest."""
import json
import os
import pathlib
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import time

import pytest

import airtable_sqlite
import airtable_sqlite.export as ax
from conftest import (assert_spacing, EXT, SAMPLE, SIZES, SANITIZED, TOKEN, child_env, load_fixture,
                      python_without_extension_loading, sanitized_runs, table_fixture)

CLI = pathlib.Path(EXT).parent / "airtable-export"
PACKAGE_PATH = str(pathlib.Path(__file__).resolve().parents[2] / "python")   # for children
TASKS = table_fixture(SAMPLE, "Packaging Tasks")
FAST = ["retry_backoff=0.01", "rate_limit_wait=0.3"]


def export(db, *options):
    """SELECT airtable_export(options...) -> the manifest (parsed)."""
    marks = ", ".join("?" * len(options))
    return json.loads(db.execute(f"SELECT airtable_export({marks})", options).fetchone()[0])


def cli_env(server, **extra):
    env = child_env(AIRTABLE_TOKEN=TOKEN, AIRTABLE_API_URL=server.url, **extra)
    if SANITIZED:   # the command is built with ASan itself: leaks are checked
        env["ASAN_OPTIONS"] = "detect_leaks=1:exitcode=86"
    return env


def run_cli(server, *args, **kw):
    return sanitized_runs(lambda: subprocess.run(
        [str(CLI), *args], capture_output=True, text=True, env=cli_env(server), timeout=120, **kw))


def listing(path):
    return sorted(p.name for p in pathlib.Path(path).iterdir())


def arrivals(server, base):
    return [r for r in server.list_requests(base)]


# --- the rate limit and concurrency -------------------------------------------

def test_export_of_all_tables_is_concurrent_and_within_the_rate_limit(db, server, tmp_path):
    server.clear_log()
    m = export(db, f"base={SAMPLE}", f"out={tmp_path}", "all=1")
    log = arrivals(server, SAMPLE)
    assert [r["status"] for r in log] == [200] * 27          # 25 + 1 + 1 pages
    assert_spacing([r["mono"] for r in log], 5)
    # Concurrent: the small tables do not wait for the big one (5 s of
    # requests): their requests come between its first and its last.
    tasks_id = TASKS["id"]
    order = [r["path"].split("/")[3] for r in log]
    last = len(order) - 1 - order[::-1].index(tasks_id)
    assert sorted(order[:last]).count(tasks_id) == 24 and len(order[:last]) == 26, order
    assert [t["rows"] for t in m["tables"]] == [2500, 60, 15]
    assert [t["requests"] for t in m["tables"]] == [25, 1, 1]
    assert m["requests"] == 28                                # + the metadata
    # The connection's request log saw every request, from every worker.
    rows = db.execute("SELECT count(*), sum(records) FROM airtable_requests "
                      "WHERE url NOT LIKE '%/meta/%'").fetchone()
    assert rows == (27, 2575)


def test_concurrency_one_exports_tables_one_after_another(db, server, tmp_path):
    server.clear_log()
    export(db, f"base={SAMPLE}", f"out={tmp_path}", "all=1", "concurrency=1")
    order = [r["path"].split("/")[3] for r in arrivals(server, SAMPLE)]
    ids = [t["id"] for t in load_fixture(SAMPLE)["tables"]]
    assert order == [ids[0]] * 25 + [ids[1], ids[2]]


# --- failures -----------------------------------------------------------------

def test_failure_mid_table_leaves_no_file_of_that_table_and_no_manifest(db, server, tmp_path):
    (tmp_path / "_manifest.json").write_text('{"tables": []}')   # from an earlier run
    server.faults({"path": "^/v0/appPackagingOps01/" + TASKS["id"], "action": "status",
                   "status": 503, "skip": 10, "times": -1})
    with pytest.raises(sqlite3.OperationalError) as e:
        export(db, f"base={SAMPLE}", f"out={tmp_path}", "all=1", "max_retries=1", "replace=1",
               *FAST)
    assert re.fullmatch(r"airtable: export of table 'Packaging Tasks' failed \(no manifest "
                        r"was written\): HTTP 503 RETRIABLE_ERROR \(gave up after 1 retry "
                        r"in \d+\.\d s\)", str(e.value)), str(e.value)
    # The small tables completed while the big one ran: they stay. Nothing
    # of Packaging Tasks, no temporary file, and the old manifest is gone.
    # The journal (hidden) lists what an export there owns, for a replace.
    assert listing(tmp_path) == [".airtable-export.files",
                                 "products.csv", "products.ddl", "products.schema.json",
                                 "vendors.csv", "vendors.ddl", "vendors.schema.json"]


def test_failure_stops_the_other_tables(db, server, tmp_path):
    """A table that fails at once stops the rest: the big table does not go
    on for 25 pages after the export has already failed."""
    server.faults({"path": "^/v0/appPackagingOps01/" + table_fixture(SAMPLE, "Vendors")["id"],
                   "action": "status", "status": 422, "times": -1,
                   "body": {"error": {"type": "INVALID_REQUEST_UNKNOWN"}}})
    server.clear_log()
    with pytest.raises(sqlite3.OperationalError, match=r"^airtable: export of table 'Vendors' "
                       r"failed \(no manifest was written\): HTTP 422 INVALID_REQUEST_UNKNOWN$"):
        export(db, f"base={SAMPLE}", f"out={tmp_path}", "all=1")
    assert len([r for r in arrivals(server, SAMPLE) if TASKS["id"] in r["path"]]) < 25
    assert "packaging_tasks.csv" not in listing(tmp_path)
    # No temporary file (the hidden journal lists what stays, for a replace).
    assert not any(n.startswith(".") and n != ".airtable-export.files"
                   for n in listing(tmp_path))


def test_malformed_page_names_the_table_and_request(db, server, tmp_path):
    server.faults({"path": "^/v0/appSizeTests00001/", "action": "malformed", "skip": 1})
    with pytest.raises(sqlite3.OperationalError) as e:
        export(db, f"base={SIZES}", f"out={tmp_path}", "table=One Hundred One")
    assert re.fullmatch(r"airtable: export of table 'One Hundred One' failed \(no manifest was "
                        r"written\): table 'One Hundred One': the response is not valid JSON "
                        r"\(error at byte \d+ of \d+\) \(GET http://127\.0\.0\.1:\d+/v0/"
                        r"appSizeTests00001/tbl\w{14}\?returnFieldsByFieldId=true&offset=\S+\)",
                        str(e.value)), str(e.value)
    assert listing(tmp_path) == []


def test_retries_inside_a_table_lose_nothing(db, server, tmp_path):
    server.faults({"path": "^/v0/appSizeTests00001/", "action": "status", "status": 503,
                   "skip": 1, "times": 2})
    m = export(db, f"base={SIZES}", f"out={tmp_path}", "table=One Hundred One", *FAST)
    lines = (tmp_path / "one_hundred_one.csv").read_text().splitlines()
    assert len(lines) == 102 and m["tables"][0]["rows"] == 101
    assert m["tables"][0]["retries"] == 2 and m["tables"][0]["requests"] == 4


def test_kill_9_leaves_no_file_that_looks_complete(server, tmp_path):
    """A killed exporter cannot clean up: what it leaves are hidden
    temporary files, never a final name, never a manifest; the next export
    to the same directory removes them."""
    server.faults({"path": "^/v0/appPackagingOps01/" + TASKS["id"], "action": "stall",
                   "seconds": 30, "skip": 5})
    p = subprocess.Popen([str(CLI), "--base", SAMPLE, "--all", "--out", str(tmp_path), "--quiet"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(server))
    wait_for_stall(server)
    # The small tables were asked for in the first second, long before the
    # stalled sixth page; on a loaded machine their files may still be on
    # their way: wait for them rather than race them.
    end = time.monotonic() + 30
    while not {"products.csv", "vendors.csv"} <= set(listing(tmp_path)):
        assert time.monotonic() < end, listing(tmp_path)
        time.sleep(0.02)
    p.kill()
    p.wait(timeout=10)
    left = listing(tmp_path)
    assert "_manifest.json" not in left and "packaging_tasks.csv" not in left
    temps = [n for n in left if n.startswith(".packaging_tasks.csv.tmp-")]
    assert len(temps) == 1, left
    # Every name that is not hidden is a complete table's file.
    assert [n for n in left if not n.startswith(".")] == [
        "products.csv", "products.ddl", "products.schema.json",
        "vendors.csv", "vendors.ddl", "vendors.schema.json"]
    server.control("DELETE", "/_test/faults")
    server.control("POST", "/_test/rate_limit/reset")
    q = run_cli(server, "--base", SAMPLE, "--table", "Vendors", "--out", str(tmp_path), "--quiet",
                "--replace")
    assert q.returncode == 0, q.stderr
    assert not any(n.startswith(".") for n in listing(tmp_path))


def wait_for_stall(server, deadline=30):
    end = time.monotonic() + deadline
    while not any(f["action"] == "stall" and f["hits"] > 0
                  for f in server.control("GET", "/_test/faults")["faults"]):
        assert time.monotonic() < end, "the stalled request never reached the server"
        time.sleep(0.02)


def test_ctrl_c_stops_promptly_and_leaves_no_temporary_files(server, tmp_path):
    def run():
        server.control("POST", "/_test/reset")
        server.faults({"path": "^/v0/appPackagingOps01/" + TASKS["id"], "action": "stall",
                       "seconds": 60, "skip": 3})
        p = subprocess.Popen([str(CLI), "--base", SAMPLE, "--all", "--out", str(tmp_path),
                              "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=cli_env(server))
        wait_for_stall(server)
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)      # the stall alone lasts 60 s
        return subprocess.CompletedProcess(p.args, p.returncode, out, err)

    p = sanitized_runs(run)
    assert p.returncode == 130, p.stderr
    assert p.stderr == (f"airtable-export: airtable: interrupted: the export to '{tmp_path}' "
                        "stopped; tables completed before stay, no manifest was written\n")
    # No temporary file; the journal (hidden) lists the tables that stay.
    assert not any((n.startswith(".") and n != ".airtable-export.files")
                   or n.startswith("packaging_tasks") for n in listing(tmp_path)), \
        listing(tmp_path)
    assert "_manifest.json" not in listing(tmp_path)


def test_interrupt_from_sql(db, server, tmp_path):
    server.faults({"path": "^/v0/appSizeTests00001/", "action": "stall", "seconds": 30})

    def interrupt():
        wait_for_stall(server)
        db.interrupt()

    t = threading.Thread(target=interrupt)
    t.start()
    with pytest.raises(sqlite3.OperationalError, match="^airtable: interrupted: the export"):
        export(db, f"base={SIZES}", f"out={tmp_path}", "table=One")
    t.join()
    assert listing(tmp_path) == []


# --- options --------------------------------------------------------------------

@pytest.mark.parametrize("options, message", [
    ([], "option base is required (the base id, app...)"),
    (["base=appPackagingOps01", "all=1"], "option out is required (the directory to write)"),
    (["base=appPackagingOps01", "out=x"], "options table and all: name the tables to export "
     "with table= (once per table), or all=1 for every table of the base"),
    (["base=appPackagingOps01", "out=x", "all=1", "table=Vendors"],
     "options all and table exclude each other"),
    (["base=appPackagingOps01", "out=x", "all=1", "view=Grid view"],
     "option view needs exactly one table= (a view belongs to one table)"),
    (["base=appPackagingOps01", "out=x", "all=yes please"],
     "option all: 'yes please' is not 1 or 0 (or true/false, yes/no, on/off)"),
    (["base=appPackagingOps01", "out=x", "all=1", "format=parquet"],
     "option format: 'parquet' is not csv or jsonl"),
    (["base=appPackagingOps01", "out=x", "all=1", "names=snake"],
     "option names: 'snake' is not delta or exact"),
    (["base=appPackagingOps01", "out=x", "all=1", "concurrency=9"],
     "option concurrency: '9' is not a whole number from 1 to 8 (tables exported at once)"),
    (["base=appPackagingOps01", "out=x", "all=1", "partitions=0"],
     "option partitions: '0' is not a whole number from 1 to 8 (parts of each table listed "
     "at once)"),
    (["base=appPackagingOps01", "out=x", "table=Vendors", "view=Grid view", "partitions=2"],
     "options view and partitions exclude each other: parts listed at once would lose the "
     "view's order"),
    (["base=appPackagingOps01", "out=x", "all=1", "rate_limit=6"],
     "option rate_limit: 6 is out of range (0 to 5 requests per second); Airtable allows 5 "
     "requests per second per base, so the limit can only be lowered"),
    (["base=appPackagingOps01", "out=x", "all=1", "token=pat123"],
     "option token= is refused: airtable_export()'s arguments are SQL text, which shells "
     "keep in their history and hosts may log; put the token in the AIRTABLE_TOKEN "
     "environment variable, or name another variable with token_env= or a file with "
     "token_file="),
    (["base=appPackagingOps01", "out=x", "all=1", "colour=blue"],
     "unknown option 'colour' (known options: base, table, view, api_url, token_env, "
     "token_file, rate_limit, max_retries, rate_limit_wait, retry_backoff, retry_budget, "
     "connect_timeout, timeout, ca_file, out, all, format, gzip, names, concurrency, "
     "partitions, schema_only, progress, replace, from_cache, since_sync)"),
    (["base=appPackagingOps01", "out=x", "all=1", "pushdown=off"],
     "option pushdown belongs to airtable tables, not to an export"),
    (["base=appPackagingOps01", "out=x", "all=1", "gzip=1", "gzip=0"],
     "option gzip is given more than once"),
    (["base=appPackagingOps01", "out=x", "all=1", "out=y"], "option out is given more than once"),
    (["base=appPackagingOps01", "out=x", "all=1", "nonsense"],
     "argument 4 (nonsense) is not of the form key=value"),
])
def test_option_errors(db, options, message):
    with pytest.raises(sqlite3.OperationalError) as e:
        export(db, *options)
    assert str(e.value) == "airtable: " + message


def test_unknown_table_lists_the_tables(db, server, tmp_path):
    with pytest.raises(sqlite3.OperationalError) as e:
        export(db, f"base={SAMPLE}", f"out={tmp_path}", "table=Vendors", "table=Tasks")
    assert str(e.value) == ("airtable: option table: base appPackagingOps01 has no table "
                            "'Tasks' (tables: 'Packaging Tasks', 'Products', 'Vendors')")
    with pytest.raises(sqlite3.OperationalError, match="^airtable: option table: table "
                       "'Vendors' is named more than once$"):
        export(db, f"base={SAMPLE}", f"out={tmp_path}", "table=Vendors", "table=" +
               table_fixture(SAMPLE, "Vendors")["id"])


def test_out_must_be_a_directory_we_can_write(db, server, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(sqlite3.OperationalError, match=f"^airtable: option out: '{f}' is "
                       "not a directory$"):
        export(db, f"base={SAMPLE}", f"out={f}", "all=1")
    with pytest.raises(sqlite3.OperationalError, match=f"^airtable: option out: cannot create "
                       f"directory '{tmp_path}/a/b': No such file or directory$"):
        export(db, f"base={SAMPLE}", f"out={tmp_path}/a/b", "all=1")


def test_the_function_is_direct_only(db, server, tmp_path):
    """It writes files with the user's token: no view or trigger may call it."""
    db.execute(f"CREATE VIEW v AS SELECT airtable_export('base={SAMPLE}', "
               f"'out={tmp_path}', 'all=1')")
    with pytest.raises(sqlite3.OperationalError, match="unsafe use of airtable_export"):
        db.execute("SELECT * FROM v").fetchall()
    assert listing(tmp_path) == []


def test_view_exports_the_views_records_in_its_order(db, server, tmp_path):
    view = 'Odd/View?#% "q" \u2603'
    m = export(db, f"base={SIZES}", f"out={tmp_path}", 'table=Odd/Name?#% "quoted" \u2603',
               f"view={view}")
    assert m["options"]["view"] == view and m["tables"][0]["file_name"] == "odd_name_quoted"
    lines = (tmp_path / "odd_name_quoted.csv").read_text().splitlines()
    assert [line.rsplit(",", 1)[1] for line in lines[1:]] == ["3", "2", "1"]


def test_the_token_is_in_no_file(db, server, tmp_path, monkeypatch):
    secret = "patSECRETtokenABCDEF.0123456789abcdef"
    server.config(token=secret)
    monkeypatch.setenv("AIRTABLE_TOKEN", secret)
    export(db, f"base={SIZES}", f"out={tmp_path}", "all=1")
    for p in tmp_path.iterdir():
        assert secret.encode() not in p.read_bytes(), p


# --- the command ------------------------------------------------------------------

def test_command_help_and_usage_errors(server, tmp_path):
    p = run_cli(server, "--help")
    assert p.returncode == 0 and p.stdout.startswith("usage: airtable-export --base APP_ID")
    p = run_cli(server, "--base", SAMPLE, "--all")
    assert (p.returncode, p.stderr) == (2, "airtable-export: airtable: option out is required "
                                           "(the directory to write)\n")
    p = run_cli(server, "--base", SAMPLE, "--all", "--out")
    assert (p.returncode, p.stderr) == (2, "airtable-export: --out needs a value\n"
                                           "Try 'airtable-export --help'.\n")
    p = run_cli(server, "--token", "pat123", "--all")
    assert p.returncode == 2 and "--token is refused" in p.stderr
    p = run_cli(server, "stray")
    assert (p.returncode, p.stderr) == (2, "airtable-export: unexpected argument 'stray'\n"
                                           "Try 'airtable-export --help'.\n")
    p = run_cli(server, "--progress", "--quiet")
    assert p.returncode == 2 and "exclude each other" in p.stderr
    assert listing(tmp_path) == []


def test_command_exports_with_progress_and_the_manifest_last(server, tmp_path):
    p = run_cli(server, "--base", SIZES, "--table", "One Hundred One", "--table", "Empty",
                "--out", str(tmp_path), "--progress", "--rate-limit=2")
    assert p.returncode == 0, p.stderr
    err = p.stderr.splitlines()
    # Issue 19: every line of the command names the command, and counts of
    # one are singular.
    assert all(l.startswith("airtable-export: ") for l in err), err
    assert err[0] == f"airtable-export: 2 tables of {SIZES} to {tmp_path}, 2 at a time"
    assert any(re.fullmatch(r"airtable-export: one_hundred_one: done, 101 rows in \d+\.\d s "
                            r"\(2 requests, \d+\.\d s waiting on the rate limit\)", l)
               for l in err), err
    assert any(re.fullmatch(r"airtable-export: empty: done, 0 rows in \d+\.\d s \(1 request, "
                            r"\d+\.\d s waiting on the rate limit\)", l) for l in err), err
    assert err[-1] == ("airtable-export: exported 2 tables, 101 rows; the manifest is "
                       "_manifest.json in the output directory")
    m = json.loads((tmp_path / "_manifest.json").read_text())
    assert [t["file_name"] for t in m["tables"]] == ["one_hundred_one", "empty"]
    assert m["options"]["rate_limit"] == 2
    # The manifest is written after every table's files.
    times = {n: (tmp_path / n).stat().st_mtime_ns for n in listing(tmp_path)}
    assert times["_manifest.json"] >= max(times.values())
    assert (tmp_path / "empty.csv").read_text() == '"id","createdTime","name","n"\n'


def test_command_quiet_prints_nothing(server, tmp_path):
    p = run_cli(server, "--base", SIZES, "--table", "One", "--out", str(tmp_path), "--quiet",
                "--format", "jsonl", "--gzip")
    assert (p.returncode, p.stdout, p.stderr) == (0, "", "")
    assert listing(tmp_path) == ["_manifest.json", "one.ddl", "one.jsonl.gz", "one.schema.json"]


@pytest.mark.skipif(SANITIZED or not shutil.which("valgrind"),
                    reason="measured on the plain build under valgrind")
def test_memory_stays_flat_whatever_the_table_size(server, tmp_path):
    """The export streams: its heap peak for 25 pages is that of 1 page
    (measured with valgrind massif, the command exporting one table)."""
    def peak(tag):
        out = tmp_path / f"massif.{tag}"
        server.control("POST", "/_test/rate_limit/reset")
        p = subprocess.run(["valgrind", "-q", "--tool=massif", f"--massif-out-file={out}",
                            str(CLI), "--base", SAMPLE, "--table", "Packaging Tasks",
                            "--out", str(tmp_path / tag), "--quiet"],
                           capture_output=True, text=True, env=cli_env(server), timeout=300)
        assert p.returncode == 0, p.stderr
        return max(int(line.split("=")[1]) for line in out.read_text().splitlines()
                   if line.startswith("mem_heap_B="))
    full = peak("full")
    # The same table, served as its first page with no offset: one page.
    first = server.api(f"/v0/{SAMPLE}/{TASKS['id']}?returnFieldsByFieldId=true")
    del first["offset"]
    server.faults({"path": f"^/v0/{SAMPLE}/{TASKS['id']}$", "action": "body", "body": first})
    one = peak("one")
    assert full < one * 1.25, (one, full)


# --- Python -------------------------------------------------------------------------

@pytest.mark.parametrize("via", ["sql", "command"])
def test_python_export_by_sql_and_by_command(server, tmp_path, via, monkeypatch):
    if via == "command" and SANITIZED:
        monkeypatch.setenv("ASAN_OPTIONS", "detect_leaks=0")
    m = ax.export(SIZES, tmp_path, tables=["One Hundred One", "Empty"], via=via,
                  extension=EXT, command=str(CLI), format="jsonl", gzip=True,
                  api_url=server.url)
    assert [(t["file_name"], t["rows"], t["data_file"]) for t in m["tables"]] == [
        ("one_hundred_one", 101, "one_hundred_one.jsonl.gz"), ("empty", 0, "empty.jsonl.gz")]
    assert json.loads((tmp_path / "_manifest.json").read_text()) == m
    with pytest.raises(ValueError, match="^airtable: option format: 'xml' is not csv or jsonl$"):
        ax.export(SIZES, tmp_path, all=True, via=via, extension=EXT, command=str(CLI),
                  format="xml", api_url=server.url)
    server.faults({"path": "^/v0/appSizeTests00001/", "action": "status", "status": 404,
                   "times": -1})
    with pytest.raises(ax.ExportError, match="^airtable: export of table 'One' failed "
                       r"\(no manifest was written\): HTTP 404 NOT_FOUND$"):
        ax.export(SIZES, tmp_path, tables=["One"], via=via, extension=EXT, command=str(CLI),
                  api_url=server.url, replace=True)
    with pytest.raises(TypeError):
        ax.export(SIZES, tmp_path, tables="One")


def test_python_without_extension_loading_runs_the_command(server, tmp_path):
    """A Python whose sqlite3 cannot load extensions (as pyenv builds often
    are; the python3 on this machine's PATH is one) gets the command."""
    exe = python_without_extension_loading()
    if exe is None:
        pytest.skip("no Python without enable_load_extension on this machine")
    env = cli_env(server, AIRTABLE_EXPORT=str(CLI), PYTHONPATH=PACKAGE_PATH)
    if SANITIZED:
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    code = ("from airtable_sqlite import export; import json, sys; "
            "m = export.export(sys.argv[1], sys.argv[2], tables=['One']); "
            "print(json.dumps([t['rows'] for t in m['tables']]))")
    p = subprocess.run([exe, "-c", code, SIZES, str(tmp_path)], capture_output=True,
                       text=True, env=env, timeout=120)
    assert (p.returncode, p.stdout) == (0, "[1]\n"), p.stderr
    assert listing(tmp_path) == ["_manifest.json", "one.csv", "one.ddl", "one.schema.json"]


def test_package_finds_the_extension_and_the_command(monkeypatch, tmp_path):
    """loadable_path(): $AIRTABLE_EXT, else airtable.so beside the package,
    else build/ of the checkout the package sits in (<repo>/python/
    airtable_sqlite); an installed package has no checkout. find_command()
    alike, with $AIRTABLE_EXPORT. A variable naming a missing file is passed
    over."""
    repo = tmp_path / "repo"
    package = repo / "python" / "airtable_sqlite"
    package.mkdir(parents=True)
    (repo / "build").mkdir()
    (repo / "pyproject.toml").write_text("")
    for f in (repo / "build" / "airtable.so", repo / "build" / "airtable-export"):
        f.write_text("")
    monkeypatch.setattr(airtable_sqlite, "_HERE", str(package))
    monkeypatch.setenv("AIRTABLE_EXT", str(tmp_path / "missing.so"))
    monkeypatch.setenv("AIRTABLE_EXPORT", str(tmp_path / "missing"))
    assert airtable_sqlite.loadable_path() == str(repo / "build" / "airtable.so")
    assert airtable_sqlite.find_command() == str(repo / "build" / "airtable-export")
    assert ax.find_extension is airtable_sqlite.loadable_path
    for f in (package / "airtable.so", package / "airtable-export"):
        f.write_text("")
    assert airtable_sqlite.loadable_path() == str(package / "airtable.so")
    assert airtable_sqlite.find_command() == str(package / "airtable-export")
    monkeypatch.setenv("AIRTABLE_EXT", EXT)
    monkeypatch.setenv("AIRTABLE_EXPORT", str(CLI))
    assert airtable_sqlite.loadable_path() == EXT
    assert airtable_sqlite.find_command() == str(CLI)
    # Installed (site-packages): no checkout, so no build tree.
    site = tmp_path / "site-packages" / "airtable_sqlite"
    site.mkdir(parents=True)
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "airtable.so").write_text("")
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.setattr(airtable_sqlite, "_HERE", str(site))
    monkeypatch.delenv("AIRTABLE_EXT")
    assert not (airtable_sqlite.loadable_path() or "").startswith(str(tmp_path))


def test_package_load(monkeypatch):
    """load(conn): the extension loaded, loading disabled again; clear
    errors for a sqlite3 that cannot load extensions and for no extension.
    The modules are attributes of the package once named."""
    assert airtable_sqlite.export is ax
    assert airtable_sqlite.lakeflow.AirtableLakeflowConnector.__module__ == \
        "airtable_sqlite.lakeflow"
    conn = sqlite3.connect(":memory:")
    airtable_sqlite.load(conn, EXT)
    assert conn.execute("SELECT count(*) FROM pragma_function_list "
                        "WHERE name = 'airtable_export'").fetchone() == (1,)
    with pytest.raises(sqlite3.OperationalError, match="not authorized"):
        conn.load_extension(EXT)
    conn.close()

    class NoLoading:      # a Python built without enable_load_extension
        pass
    with pytest.raises(sqlite3.NotSupportedError, match="^airtable_sqlite: this Python's "
                       "sqlite3 cannot load extensions "):
        airtable_sqlite.load(NoLoading())
    monkeypatch.setattr(airtable_sqlite, "loadable_path", lambda: None)
    with pytest.raises(FileNotFoundError, match=r"^airtable_sqlite: the extension \(airtable.so\) "
                       "was not found: build it with scripts/setup, or set AIRTABLE_EXT "):
        airtable_sqlite.load(sqlite3.connect(":memory:"))


def package_env(server):
    """A child Python's environment: the package from this checkout, and
    (sanitized runs) the runtime the extension needs."""
    env = cli_env(server, PYTHONPATH=PACKAGE_PATH)
    if SANITIZED:
        env["LD_PRELOAD"] = os.environ["LD_PRELOAD"]
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    return env


def test_python_export_command(server, tmp_path):
    """scripts/export (python3 -m airtable_sqlite.export): export() from the
    command line, the manifest on stdout; errors as export() words them."""
    server.control("POST", "/_test/rate_limit/reset")
    script = str(pathlib.Path(PACKAGE_PATH).parent / "scripts" / "export")
    p = subprocess.run([script, f"base={SIZES}", f"out={tmp_path}", "table=One",
                        "format=jsonl"], capture_output=True, text=True,
                       env=package_env(server), timeout=120)
    assert (p.returncode, p.stderr) == (0, ""), p.stderr
    assert json.loads(p.stdout) == json.loads((tmp_path / "_manifest.json").read_text())
    assert listing(tmp_path) == ["_manifest.json", "one.ddl", "one.jsonl", "one.schema.json"]
    p = subprocess.run([script, f"base={SIZES}", f"out={tmp_path}", "all=1", "format=xml"],
                       capture_output=True, text=True, env=package_env(server), timeout=120)
    assert (p.returncode, p.stdout, p.stderr) == (
        1, "", "airtable_export: airtable: option format: 'xml' is not csv or jsonl\n")
    p = subprocess.run([script, "--help"], capture_output=True, text=True,
                       env=package_env(server), timeout=120)
    assert p.returncode == 0 and p.stdout.startswith(
        "usage: python3 -m airtable_sqlite.export [-h] [--via {auto,sql,command}]"), p.stdout


def test_package_options_come_from_the_extension():
    """airtable_sqlite.options(), the extension's own list of its options,
    through SQL and through the command: the same list, and what the Python
    side makes of it is what it passed on by hand before the list existed."""
    from airtable_sqlite import lakeflow
    by_sql = airtable_sqlite.options(extension=EXT, via="sql")
    assert airtable_sqlite.options(command=str(CLI), via="command") == by_sql
    # The same names; their order is the extension's list's (a cache's
    # declaration lists its options in that order).
    passed, declared = lakeflow.passed_options(by_sql)
    hand = ("rate_limit", "max_retries", "retry_backoff", "retry_budget",
            "connect_timeout", "timeout", "ca_file", "rate_limit_wait")
    assert (set(passed), set(declared)) == (set(hand) | {"concurrency"}, set(hand))
    assert ax._command_flags(str(CLI)) == ("all", "gzip", "schema_only", "progress", "replace")


# --- schema_only ----------------------------------------------------------------

def test_schema_only_writes_the_schemas_with_one_request(db, server, tmp_path):
    """schema_only=1: the schema files and the manifest, no data file, no
    listing: the one metadata request. The schema files are byte for byte
    those of a full export."""
    server.clear_log()
    m = export(db, f"base={SAMPLE}", f"out={tmp_path / 's'}", "all=1", "format=jsonl",
               "schema_only=1")
    assert len(server.requests()) == 1 and m["requests"] == 1
    assert m["options"]["schema_only"] is True
    assert [(t["name"], t["file_name"], t["data_file"], t["rows"], t["requests"])
            for t in m["tables"]] == [("Packaging Tasks", "packaging_tasks", None, None, 0),
                                      ("Products", "products", None, None, 0),
                                      ("Vendors", "vendors", None, None, 0)]
    assert listing(tmp_path / "s") == [
        "_manifest.json", "packaging_tasks.ddl", "packaging_tasks.schema.json",
        "products.ddl", "products.schema.json", "vendors.ddl", "vendors.schema.json"]
    export(db, f"base={SAMPLE}", f"out={tmp_path / 'f'}", "table=Vendors", "format=jsonl")
    for name in ("vendors.ddl", "vendors.schema.json"):
        assert (tmp_path / "s" / name).read_bytes() == (tmp_path / "f" / name).read_bytes()
    # Again into the schemas' directory: replaced when asked. Into an
    # export's: refused, the export left whole (its schema files describe its
    # data files), as into any directory that holds an export.
    export(db, f"base={SAMPLE}", f"out={tmp_path / 's'}", "table=Vendors", "schema_only=1",
           "replace=1")
    assert listing(tmp_path / "s") == ["_manifest.json", "vendors.ddl", "vendors.schema.json"]
    before = {p.name: p.read_bytes() for p in (tmp_path / "f").iterdir()}
    with pytest.raises(sqlite3.OperationalError) as e:
        export(db, f"base={SAMPLE}", f"out={tmp_path / 'f'}", "all=1", "schema_only=1")
    assert str(e.value) == (f"airtable: option out: '{tmp_path / 'f'}' holds another export "
                            "(its _manifest.json): give replace=1 (--replace) to replace it "
                            "whole, or write into a new directory")
    assert {p.name: p.read_bytes() for p in (tmp_path / "f").iterdir()} == before


def test_command_schema_only(server, tmp_path):
    p = run_cli(server, "--base", SIZES, "--table", "One", "--out", str(tmp_path),
                "--schema-only")
    assert (p.returncode, p.stderr) == (0, "airtable-export: wrote the schemas of 1 table; the "
                                           "manifest is _manifest.json in the output directory\n")
    assert listing(tmp_path) == ["_manifest.json", "one.ddl", "one.schema.json"]


@pytest.mark.parametrize("via", ["sql", "command"])
def test_python_exports_back_to_back_stay_within_the_rate_limit(server, tmp_path, via):
    """Five exports in a row from one fresh Python (2 requests each): the
    extension stays loaded between them (closing its last connection would
    unload it and forget the limiter's record), and runs of the command, each
    a process with a limiter of its own, start 1 s after the last ended. The
    server never answers 429, and no second holds more than 5 arrivals."""
    env = cli_env(server, PYTHONPATH=PACKAGE_PATH)
    if SANITIZED:
        env["LD_PRELOAD"] = os.environ["LD_PRELOAD"]
        env["ASAN_OPTIONS"] = "detect_leaks=0"
    code = ("import sys\n"
            "from airtable_sqlite import export\n"
            "for i in range(5):\n"
            "    export.export(sys.argv[1], sys.argv[2] + '/%d' % i, tables=['Vendors'],\n"
            "                  via=sys.argv[3], extension=sys.argv[4],\n"
            "                  command=sys.argv[5], rate_limit_wait=60)\n")
    server.clear_log()
    p = subprocess.run(["/usr/bin/python3", "-c", code, SAMPLE, str(tmp_path), via, EXT,
                        str(CLI)], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    log = server.requests()
    assert [r["status"] for r in log] == [200] * 10
    assert_spacing([r["mono"] for r in log], 5)


# --- one export per directory (issue 19) ------------------------------------------

def test_a_directory_holds_one_export_and_is_replaced_whole(db, server, tmp_path):
    """A directory that holds an export is refused unless asked to replace
    it; replaced, it holds exactly the new manifest's files (the old tables'
    CSV files do not stay beside the new JSON Lines schema)."""
    d = tmp_path / "d"
    export(db, f"base={SAMPLE}", f"out={d}", "all=1")
    before = {p.name: p.read_bytes() for p in d.iterdir()}
    with pytest.raises(sqlite3.OperationalError) as e:
        export(db, f"base={SAMPLE}", f"out={d}", "table=Products", "format=jsonl")
    assert str(e.value) == (f"airtable: option out: '{d}' holds another export (its "
                            "_manifest.json): give replace=1 (--replace) to replace it whole, "
                            "or write into a new directory")
    assert {p.name: p.read_bytes() for p in d.iterdir()} == before
    m = export(db, f"base={SAMPLE}", f"out={d}", "table=Products", "format=jsonl", "replace=1")
    listed = {f for t in m["tables"] for f in (t["data_file"], t["schema_file"], t["ddl_file"])}
    assert listing(d) == sorted(listed | {"_manifest.json"}) == [
        "_manifest.json", "products.ddl", "products.jsonl", "products.schema.json"]
    # The command: --replace, and the refusal is a usage error.
    p = run_cli(server, "--base", SAMPLE, "--table", "Vendors", "--out", str(d), "--quiet")
    assert p.returncode == 2 and "holds another export" in p.stderr, p.stderr
    p = run_cli(server, "--base", SAMPLE, "--table", "Vendors", "--out", str(d), "--quiet",
                "--replace")
    assert p.returncode == 0, p.stderr
    assert listing(d) == ["_manifest.json", "vendors.csv", "vendors.ddl", "vendors.schema.json"]


def test_a_failed_replacement_leaves_no_manifest_and_no_old_file_listed(db, server, tmp_path):
    """A replacement that fails partway: the old manifest is gone (so no
    reader takes the directory for an export), and a later replacement
    leaves only the new export's files."""
    export(db, f"base={SAMPLE}", f"out={tmp_path}", "all=1")
    server.faults({"path": "^/v0/appPackagingOps01/" + TASKS["id"], "action": "status",
                   "status": 422, "times": -1,
                   "body": {"error": {"type": "INVALID_REQUEST_UNKNOWN"}}})
    with pytest.raises(sqlite3.OperationalError):
        export(db, f"base={SAMPLE}", f"out={tmp_path}", "all=1", "format=jsonl", "replace=1")
    assert "_manifest.json" not in listing(tmp_path)
    server.control("DELETE", "/_test/faults")
    with pytest.raises(sqlite3.OperationalError, match="is not empty"):
        export(db, f"base={SAMPLE}", f"out={tmp_path}", "table=Vendors")
    export(db, f"base={SAMPLE}", f"out={tmp_path}", "table=Vendors", "replace=1")
    assert listing(tmp_path) == ["_manifest.json", "vendors.csv", "vendors.ddl",
                                 "vendors.schema.json"]


def test_replace_never_removes_what_no_export_writes(db, server, tmp_path):
    export(db, f"base={SIZES}", f"out={tmp_path}", "table=One")
    (tmp_path / "notes.txt").write_text("mine")
    before = listing(tmp_path)
    with pytest.raises(sqlite3.OperationalError) as e:
        export(db, f"base={SIZES}", f"out={tmp_path}", "table=One", "replace=1")
    assert str(e.value) == (f"airtable: option replace: '{tmp_path}' holds 'notes.txt', which "
                            "no export there wrote; nothing was replaced: move it away, or "
                            "write into a new directory")
    # Nor a file with an export's ending that no export there wrote (the
    # review's case: a user's own sales.csv beside an export).
    (tmp_path / "notes.txt").unlink()
    (tmp_path / "sales.csv").write_text("mine")
    with pytest.raises(sqlite3.OperationalError, match="holds 'sales.csv', which no export "
                       "there wrote"):
        export(db, f"base={SIZES}", f"out={tmp_path}", "table=One", "replace=1")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "sales.csv").unlink()
    assert listing(tmp_path) == before


def test_a_failed_export_leaves_no_directory_it_made(db, server, tmp_path):
    server.faults({"path": "^/v0/meta/bases/", "action": "status", "status": 500, "times": -1})
    with pytest.raises(sqlite3.OperationalError, match="HTTP 500"):
        export(db, f"base={SIZES}", f"out={tmp_path / 'new'}", "all=1", "max_retries=0")
    assert listing(tmp_path) == []


def test_two_exports_into_one_directory_the_second_fails_at_once(server, tmp_path):
    """Issue 20's fourth case, with the directory rule: the directory is
    locked for an export's length."""
    server.faults({"path": "^/v0/appPackagingOps01/" + TASKS["id"], "action": "stall",
                   "seconds": 30, "skip": 2})
    p = subprocess.Popen([str(CLI), "--base", SAMPLE, "--all", "--out", str(tmp_path), "--quiet"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli_env(server))
    try:
        wait_for_stall(server)
        started = time.monotonic()
        q = run_cli(server, "--base", SAMPLE, "--table", "Vendors", "--out", str(tmp_path),
                    "--quiet", "--replace")
        assert time.monotonic() - started < 10
        assert q.returncode == 2, q.stderr
        assert q.stderr == (f"airtable-export: airtable: option out: another export is writing "
                            f"into '{tmp_path}' (it holds {tmp_path}/.airtable-export.lock); "
                            "wait for it to end, or write into another directory\n")
    finally:
        p.kill()
        p.wait(timeout=10)


def test_text_with_a_nul_is_kept_whole(db, server, tmp_path):
    """Issue 19: "nul\\u0000inside" was cut to "nul" without a word. Whole
    in SQL (SQLite text may hold a NUL), raw in a quoted CSV field, escaped
    in JSON Lines."""
    from conftest import create
    rid = table_fixture(SIZES, "One")["records"][0]["id"]
    server.control("POST", f"/_test/records/{SIZES}/One",
                   {"update": [{"id": rid, "fields": {"Name": "nul\u0000inside"}}]})
    create(db, "one", SIZES, "One")
    assert db.execute('SELECT "Name", length(CAST("Name" AS BLOB)) FROM one').fetchall() == [
        ("nul\x00inside", 10)]
    export(db, f"base={SIZES}", f"out={tmp_path / 'c'}", "table=One")
    assert b',"nul\x00inside",' in (tmp_path / "c" / "one.csv").read_bytes()
    m = export(db, f"base={SIZES}", f"out={tmp_path / 'j'}", "table=One", "format=jsonl")
    line = (tmp_path / "j" / "one.jsonl").read_text()
    assert json.loads(line)["name"] == "nul\x00inside" and '"nul\\u0000inside"' in line
    assert m["tables"][0]["columns"][2]["untyped"] == 0


def test_a_fifo_in_the_directory_is_refused_not_read(db, server, tmp_path):
    """Issue 20: a FIFO named _manifest.json hung an export (reading it
    waits for a writer). What is not a regular file is refused at once."""
    os.mkfifo(tmp_path / "_manifest.json")
    for extra in ([], ["replace=1"]):
        with pytest.raises(sqlite3.OperationalError) as e:
            export(db, f"base={SIZES}", f"out={tmp_path}", "table=One", *extra)
        assert str(e.value) == (f"airtable: option out: '{tmp_path}' holds '_manifest.json', "
                                "which is not a regular file (a directory, a link, a "
                                "FIFO...); an export writes only among regular files: write "
                                "into a new directory")
    assert server.list_requests(SIZES) == []


def test_command_options_given_twice_are_refused(server, tmp_path):
    """Issue 20: --format, --gzip and --all given twice took the last value
    silently while other options were refused: every option is refused."""
    for args, name in ((["--format", "csv", "--format", "jsonl"], "format"),
                       (["--gzip", "--gzip"], "gzip"), (["--all", "--all"], "all")):
        p = run_cli(server, "--base", SIZES, "--table", "One", "--out", str(tmp_path / "x"),
                    *args)
        if name == "all":
            p = run_cli(server, "--base", SIZES, "--out", str(tmp_path / "x"), *args)
        assert (p.returncode, p.stderr) == (2, f"airtable-export: airtable: option {name} is "
                                               "given more than once\n"), p.stderr
    assert not (tmp_path / "x").exists()
