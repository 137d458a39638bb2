"""scripts/demo: the README's first command works and exports the table."""
import csv
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
    assert p.stderr == ""
    assert "Tasks by status:" in p.stdout
    assert p.stdout.rstrip().endswith(
        "Wrote out/packaging_tasks.csv: 2500 records and a header line.")
    with open(out, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    fixture = table_fixture("appPackagingOps01", "Packaging Tasks")
    assert rows[0][:3] == ["id", "created_time", "Task"]
    assert len(rows[0]) == 2 + len(fixture["fields"])
    assert [r[0] for r in rows[1:]] == [r["id"] for r in fixture["records"]]
    # Multi-line text survives the round trip through CSV.
    notes = rows[0].index("Notes")
    assert rows[1][notes] == fixture["records"][0]["fields"]["Notes"]
