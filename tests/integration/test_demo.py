"""scripts/demo: the README's first command works and exports the table."""
import csv
import re
import subprocess

import pytest

from conftest import ROOT, child_env, table_fixture

PLAIN_EXT = ROOT / "build" / "airtable.so"


@pytest.mark.skipif(not PLAIN_EXT.exists(), reason="scripts/setup builds build/airtable.so")
def test_demo_runs_and_exports_every_record():
    out = ROOT / "out" / "packaging_tasks.csv"
    if out.exists():
        out.unlink()
    p = subprocess.run([str(ROOT / "scripts" / "demo")], capture_output=True, text=True,
                       env=child_env(AIRTABLE_SKIP_SETUP="1"), timeout=300)
    assert p.returncode == 0, p.stderr
    # No terminal here, so no progress: only the command's summary line.
    assert p.stderr == ("airtable-export: exported 3 tables, 2575 rows; the manifest is "
                        "_manifest.json in the output directory\n")
    assert "Tasks by status:" in p.stdout
    # Pushdown: the same count with the constraint sent, and without.
    lines = p.stdout.splitlines()
    at = lines.index("SELECT count(*) FROM tasks WHERE \"Status\" = 'Done', with pushdown and without:")
    assert re.fullmatch(r"\| on +\| 565 +\| 6 +\| 565 +\| \d+ +\|", lines[at + 4]), lines[at:at + 7]
    assert re.fullmatch(r"\| off +\| 565 +\| 25 +\| 2500 +\| \d+ +\|", lines[at + 5]), lines[at:at + 7]
    assert "| {fldhjz32sJs9JTk80}='Done' | [\"fldhjz32sJs9JTk80\"] |" in lines[at + 7:at + 13]
    assert "Wrote out/packaging_tasks.csv: 2500 records and a header line." in p.stdout
    # Then the export for Spark and its manifest.
    lines = p.stdout.rstrip().splitlines()
    at = next(i for i, x in enumerate(lines) if x.startswith("Manifest out/export/"))
    tail = lines[at:at + 5]
    assert re.fullmatch(r"Manifest out/export/_manifest\.json: base appPackagingOps01, "
                        r"28 requests in \d+\.\d s", tail[0]), tail
    assert re.fullmatch(r"  Packaging Tasks +packaging_tasks\.csv +2500 rows, 47 columns; "
                        r"null where not typeable: cost_per_kg: \d+", tail[1]), tail
    assert tail[2:4] == ["  Products         products.csv              60 rows,  9 columns",
                         "  Vendors          vendors.csv               15 rows, 10 columns"]
    assert tail[4].startswith("Read in Spark: spark.read.schema(")
    # It ends with the staging cache: a sync, an offline query with the
    # server stopped, an incremental sync after an edit.
    cache = lines[at + 5:]
    assert cache[1:3] == [
        "Staging cache: out/cache.db keeps Packaging Tasks (cache='on')",
        'first sync:       {"table":"tasks","mode":"full","reason":"first sync","added":2500,'
        '"changed":0,"deleted":0,"rows":2500,"requests":26,"sync":1}']
    assert cache[3] == "Server stopped, no token, AIRTABLE_OFFLINE=1 (the file alone answers):"
    assert "| Done        | 565   |" in cache
    assert cache[-3:] == [
        "Edited %s in the base (Status = Done), through the test server"
        % table_fixture("appPackagingOps01", "Packaging Tasks")["records"][0]["id"],
        'incremental sync: {"table":"tasks","mode":"incremental","added":0,"changed":1,'
        '"deleted":0,"rows":2500,"requests":27,"sync":2}',
        "now cached:       tasks, 2500 rows, 53 requests in all"]
    assert sorted(p.name for p in (ROOT / "out" / "export").iterdir()) == [
        "_manifest.json", "packaging_tasks.csv", "packaging_tasks.ddl",
        "packaging_tasks.schema.json", "products.csv", "products.ddl", "products.schema.json",
        "vendors.csv", "vendors.ddl", "vendors.schema.json"]
    with open(out, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    fixture = table_fixture("appPackagingOps01", "Packaging Tasks")
    assert rows[0][:3] == ["id", "created_time", "Task"]
    assert len(rows[0]) == 2 + len(fixture["fields"])
    assert [r[0] for r in rows[1:]] == [r["id"] for r in fixture["records"]]
    # Multi-line text survives the round trip through CSV.
    notes = rows[0].index("Notes")
    assert rows[1][notes] == fixture["records"][0]["fields"]["Notes"]


def test_readme_quick_start_against_the_test_server_names_real_columns(tmp_path):
    """Issue 19: the README's quick start must name columns the sample base
    has. SQLite reads a double-quoted name that is no column as a string, so
    a wrong name would print the name itself in every row, not fail: run the
    README's own SQL against the test server and check every value is data."""
    from conftest import Server, TOKEN
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Quick start against the test server"):]
    sql = section[section.index("```sql") + 6:]
    sql = sql[:sql.index("```")]
    server = Server("--rate-limit", "0")
    try:
        p = subprocess.run(["sqlite3", "-cmd", f".load {PLAIN_EXT}", "-batch", ":memory:"],
                           input=sql, capture_output=True, text=True, timeout=120,
                           env=child_env(AIRTABLE_API_URL=server.url, AIRTABLE_TOKEN=TOKEN))
    finally:
        server.stop()
    assert p.returncode == 0 and p.stderr == "", p.stderr
    rows = [line.split("|") for line in p.stdout.splitlines()]
    tasks = [r for r in rows if r[0].startswith("rec")]
    assert len(tasks) == 3 and all(r[1:] != ["Task", "Status"] for r in tasks), rows
    status = table_fixture("appPackagingOps01", "Packaging Tasks")
    counts = {r[0]: int(r[1]) for r in rows if len(r) == 2 and r[1].isdigit()}
    assert sum(counts.values()) == len(status["records"]) and "Status" not in counts, rows
