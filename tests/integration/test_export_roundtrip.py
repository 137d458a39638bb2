"""The export round trip: airtable_export() and build/airtable-export write
files that a strict Spark-like reader (tests/integration/sparkread.py) reads back, with
their schema, into exactly the fixture's records converted by the export's
rules, which this file computes on its own (never by asking the extension).

Exports are slow (the sample base is 27 pages at 5 requests/second), so the
module makes four and shares them between tests:

- csv_export:   SQL, the sample base, all=1, defaults (csv, names=delta, no gzip)
- jsonl_export: the command, the sample base, --all, jsonl, --gzip, --concurrency 3
- exact_export: SQL, table=Vendors and table=<Packaging Tasks' id>, jsonl, names=exact
- sizes_export: SQL, the size base, all=1, csv, gzip=1

and two with each table listed in parts at once (partitions=):

- partitioned_export: SQL, the sample base, all=1, partitions=3, concurrency=8
- partitioned_jsonl:  the command, Packaging Tasks, jsonl, --partitions 2
"""
import datetime
import json
import math
import pathlib
import re
import sqlite3
import subprocess
import urllib.parse

import pytest

import sparkread
from conftest import (assert_spacing, EXT, SAMPLE, SIZES, TOKEN, child_env, connect, create, load_fixture,
                      table_fixture)

EXPORT_BIN = pathlib.Path(EXT).resolve().parent / "airtable-export"

# --- Types ---------------------------------------------------------------------
#
# A column's type here is a Spark primitive ("string", "long", ...), JSON (a
# string column whose values are the compact JSON text of the Airtable value,
# for field types the export does not know), ("array", T) or
# ("struct", ((name, T), ...)).

S, L, D, B, DATE, TS = "string", "long", "double", "boolean", "date", "timestamp"
JSON = "json"


def arr(t):
    return ("array", t)


def struct(*members):
    return ("struct", tuple(members))


USER = struct(("id", S), ("email", S), ("name", S))
THUMB = struct(("url", S), ("width", L), ("height", L))
ATTACHMENTS = arr(struct(("id", S), ("url", S), ("filename", S), ("size", L), ("type", S),
                         ("width", L), ("height", L),
                         ("thumbnails", struct(("small", THUMB), ("large", THUMB),
                                               ("full", THUMB)))))
BARCODE = struct(("text", S), ("type", S))
BUTTON = struct(("label", S), ("url", S))
AI_TEXT = struct(("state", S), ("isStale", B), ("value", S))

# Packaging Tasks, in the base's field order: (field name, names=delta,
# names=exact, type in JSON Lines). Written out by hand from the spec.
TASK_COLUMNS = [
    ("Task", "task", "Task", S),
    ("id", "id_2", "id_2", S),
    ("Created_Time", "created_time", "Created_Time", S),
    ("Status", "status", "Status", S),
    ("status", "status_2", "status_2", S),
    ("Notes", "notes", "Notes", S),
    ("Notes {internal}", "notes_internal", "Notes {internal}", S),
    ("Contact Email", "contact_email", "Contact Email", S),
    ("Spec URL", "spec_url", "Spec URL", S),
    ("Phone", "phone", "Phone", S),
    ("Quantity", "quantity", "Quantity", L),
    ("Weight (kg)", "weight_kg", "Weight (kg)", D),
    ("Unit Cost (USD).net", "unit_cost_usd_net", "Unit Cost (USD).net", D),
    ("Discount", "discount", "Discount", D),
    ("Length/Width", "length_width", "Length/Width", D),
    ("Setup Time", "setup_time", "Setup Time", D),
    ("Cycle Time", "cycle_time", "Cycle Time", D),
    ("Priority", "priority", "Priority", L),
    ("Due Date", "due_date", "Due Date", DATE),
    ("Started At", "started_at", "Started At", TS),
    ("Fragile", "fragile", "Fragile", B),
    ("Tags", "tags", "Tags", arr(S)),
    ("Owner", "owner", "Owner", USER),
    ("Reviewers", "reviewers", "Reviewers", arr(USER)),
    ("Created By", "created_by", "Created By", USER),
    ("Last Modified By", "last_modified_by", "Last Modified By", USER),
    ("Created", "created", "Created", TS),
    ("Last Modified", "last_modified", "Last Modified", TS),
    ("Task Number", "task_number", "Task Number", L),
    ("Product", "product", "Product", arr(S)),
    ("Vendor", "vendor", "Vendor", arr(S)),
    ("Product SKU", "product_sku", "Product SKU", arr(S)),
    ("Vendor Count", "vendor_count", "Vendor Count", L),
    ("Product Price Total", "product_price_total", "Product Price Total", D),
    ("Line Total", "line_total", "Line Total", D),
    ("Label", "label", "Label", S),
    ("Is Heavy", "is_heavy", "Is Heavy", B),
    ("Cost per kg", "cost_per_kg", "Cost per kg", D),
    ("Photos", "photos", "Photos", ATTACHMENTS),
    ("Barcode", "barcode", "Barcode", BARCODE),
    ("Open Spec", "open_spec", "Open Spec", BUTTON),
    ("Summary (AI)", "summary_ai", "Summary (AI)", AI_TEXT),
    ("Sync Source", "sync_source", "Sync Source", S),
    ("Legacy Widget", "legacy_widget", "Legacy Widget", JSON),
    ('Customer\'s "Nickname"', "customer_s__nickname_", 'Customer\'s "Nickname"', S),
]

# The Cost per kg formula's {"error": "#ERROR!"} (192) and {"specialValue": "NaN"} (29).
COST_PER_KG_UNTYPED = 221

STRING_TYPES = {"singleLineText", "email", "url", "multilineText", "phoneNumber", "richText",
                "singleSelect", "externalSyncSource"}
SIMPLE_TYPES = {"percent": D, "duration": D, "rating": L, "autoNumber": L, "count": L,
                "checkbox": B, "date": DATE, "dateTime": TS, "createdTime": TS,
                "lastModifiedTime": TS, "multipleSelects": arr(S), "multipleRecordLinks": arr(S),
                "singleCollaborator": USER, "createdBy": USER, "lastModifiedBy": USER,
                "multipleCollaborators": arr(USER), "multipleAttachments": ATTACHMENTS,
                "barcode": BARCODE, "button": BUTTON, "aiText": AI_TEXT}


def spark_type(ftype, options):
    """The spec's mapping of an Airtable field type (and options) to our type."""
    options = options or {}
    if ftype in STRING_TYPES:
        return S
    if ftype in ("number", "currency"):
        return L if options.get("precision") == 0 else D
    if ftype in SIMPLE_TYPES:
        return SIMPLE_TYPES[ftype]
    if ftype in ("formula", "rollup", "multipleLookupValues"):
        result = options.get("result")
        if not result:
            return JSON
        r = spark_type(result["type"], result.get("options"))
        if ftype == "multipleLookupValues" and not (isinstance(r, tuple) and r[0] == "array"):
            return arr(r)
        return r
    return JSON


def is_checkbox_kind(field):
    """Checkbox fields and formulas whose result is checkbox: absent is false."""
    return field["type"] == "checkbox" or (
        field["type"] == "formula"
        and (field.get("options") or {}).get("result", {}).get("type") == "checkbox")


def is_nested(t):
    return isinstance(t, tuple)


def csv_type(t):
    """In CSV every array and struct is a string of JSON text."""
    return S if is_nested(t) or t == JSON else t


def spark_json(t):
    """Our type as Spark's JSON form."""
    if t == JSON:
        return "string"
    if isinstance(t, str):
        return t
    if t[0] == "array":
        return {"type": "array", "elementType": spark_json(t[1]), "containsNull": True}
    return {"type": "struct", "fields": [{"name": n, "type": spark_json(m), "nullable": True,
                                          "metadata": {}} for n, m in t[1]]}


DDL_NAMES = {S: "STRING", JSON: "STRING", L: "BIGINT", D: "DOUBLE", B: "BOOLEAN",
             DATE: "DATE", TS: "TIMESTAMP"}


def quote(name):
    return "`" + name.replace("`", "``") + "`"


def ddl(t):
    """Our type in Spark's DDL form."""
    if isinstance(t, str):
        return DDL_NAMES[t]
    if t[0] == "array":
        return "ARRAY<%s>" % ddl(t[1])
    return "STRUCT<%s>" % ", ".join("%s: %s" % (quote(n), ddl(m)) for n, m in t[1])


def ddl_of_schema_json(t):
    """A Spark JSON type read from a .schema.json in DDL form (to compare the
    two files with each other, not with our expectations)."""
    if isinstance(t, str):
        return {"string": "STRING", "long": "BIGINT", "double": "DOUBLE", "boolean": "BOOLEAN",
                "date": "DATE", "timestamp": "TIMESTAMP"}[t]
    if t["type"] == "array":
        return "ARRAY<%s>" % ddl_of_schema_json(t["elementType"])
    return "STRUCT<%s>" % ", ".join("%s: %s" % (quote(f["name"]), ddl_of_schema_json(f["type"]))
                                    for f in t["fields"])


# --- Names ---------------------------------------------------------------------

ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def delta_name(s):
    """The spec's reference (the replaced connector's Python code), then 'col'."""
    for a, b in ((" ", "_"), ("(", ""), (")", ""), ("$", "dollar"), ("#", "num"), (",", ""),
                 (";", ""), ("{", ""), ("}", ""), ("\n", ""), ("\t", ""), ("=", "")):
        s = s.replace(a, b)
    s = "".join(c if c.isalnum() or c == "_" else "_" for c in s)
    if s and s[0].isdigit():
        s = "col_" + s
    return s.lower() or "col"


def unique_names(names):
    """Unique ASCII-case-insensitively against id, createdTime and each other:
    a taken name gets the first free _2, _3, ..."""
    taken = {"id", "createdtime"}
    out = []
    for name in names:
        candidate, k = name, 2
        while candidate.translate(ASCII_LOWER) in taken:
            candidate, k = "%s_%d" % (name, k), k + 1
        taken.add(candidate.translate(ASCII_LOWER))
        out.append(candidate)
    return out


def column_names(fields, names):
    raw = [f["name"] for f in fields]
    return unique_names([delta_name(n) for n in raw] if names == "delta" else raw)


def file_names(table_names):
    """The spec's table file names, in base order."""
    out, taken = [], set()
    for name in table_names:
        s = name.translate(ASCII_LOWER)
        s = re.sub(r"[ \-]", "_", s)
        s = re.sub(r"[()\[\]{}]", "", s)
        s = re.sub(r"[^a-z0-9_]", "_", s)
        s = re.sub(r"_+", "_", s).strip("_")
        if s[:1].isdigit():
            s = "table_" + s
        s = s or "table"
        candidate, k = s, 2
        while candidate in taken:
            candidate, k = "%s_%d" % (s, k), k + 1
        taken.add(candidate)
        out.append(candidate)
    return out


# --- Expected values -------------------------------------------------------------

class NotCovered(Exception):
    """A fixture value the spec's rules leave open (none should exist)."""


def compact(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def is_error(v):
    return isinstance(v, dict) and len(v) == 1 and ("error" in v or "specialValue" in v)


def timestamp(text):
    dt = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert dt.tzinfo is not None
    return dt


class WrongType(Exception):
    pass


def typed(t, v, nested=False):
    """Airtable value v (not None, not an error) as a value of type t."""
    if t == JSON:
        return compact(v)
    if t == S:
        return v if isinstance(v, str) else compact(v)
    ok = False
    if t == L:
        ok = (isinstance(v, int) and not isinstance(v, bool)) or (
            isinstance(v, float) and v.is_integer())
        ok = ok and -2 ** 63 <= int(v) < 2 ** 63
        v = int(v) if ok else v
    elif t == D:
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        v = float(v) if ok else v
    elif t == B:
        ok = isinstance(v, bool)
    elif t == DATE:
        ok = isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) is not None
        v = datetime.date.fromisoformat(v) if ok else v
    elif t == TS:
        ok = isinstance(v, str)
        v = timestamp(v) if ok else v
    elif t[0] == "array" and isinstance(v, list):
        if any(e is None or is_error(e) for e in v):
            raise NotCovered(v)
        return [typed(t[1], e, True) for e in v]
    elif t[0] == "struct" and isinstance(v, dict):
        members = dict(t[1])
        if any(e is None or is_error(e) for e in v.values()):
            raise NotCovered(v)
        # Members in the schema kept, the others dropped, missing ones absent.
        return {k: typed(members[k], e, True) for k, e in v.items() if k in members}
    if not ok:
        if nested:
            raise NotCovered(v)   # a wrong element or member: the spec does not say
        raise WrongType(v)
    return v


def expect(t, v, checkbox=False):
    """(value a reader returns, untyped count) for Airtable value v in a
    column of type t, as JSON Lines holds it."""
    if v is None:
        return (False if checkbox else None), 0
    if is_error(v):
        return None, 1
    try:
        return typed(t, v), 0
    except WrongType:
        return None, 1


class JsonText:
    """Expected CSV cell of an array or struct: JSON text of this value."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return "JsonText(%r)" % (self.value,)


def expected_table(base_id, table, names, fmt):
    """(column names, our types, expected rows, untyped counts) of a table."""
    fields = table["fields"]
    cols = ["id", "createdTime"] + column_names(fields, names)
    types = [S, TS] + [spark_type(f["type"], f.get("options")) for f in fields]
    untyped = [0] * len(cols)
    rows = []
    for rec in table["records"]:
        row = [rec["id"], timestamp(rec["createdTime"])]
        for i, f in enumerate(fields, start=2):
            value, bad = expect(types[i], rec["fields"].get(f["name"]), is_checkbox_kind(f))
            untyped[i] += bad
            if fmt == "csv" and value is not None and is_nested(types[i]):
                value = JsonText(value)
            row.append(value)
        rows.append(row)
    return cols, types, rows, untyped


def same(got, want):
    """Equal, with the same Python types all the way down (1 is not 1.0, nor True)."""
    if isinstance(want, JsonText):
        return isinstance(got, str) and is_compact(got) and same(json.loads(got), want.value)
    if type(got) is not type(want):
        return False
    if isinstance(want, list):
        return len(got) == len(want) and all(same(g, w) for g, w in zip(got, want))
    if isinstance(want, dict):
        return list(sorted(got)) == list(sorted(want)) and all(same(got[k], want[k]) for k in want)
    if isinstance(want, float):
        return got == want and math.copysign(1, got) == math.copysign(1, want)
    return got == want


def is_compact(text):
    """JSON text without white space outside strings."""
    in_string = escaped = False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in " \t\r\n":
            return False
    return True


# --- Exports ---------------------------------------------------------------------

class Export:
    """One export: its out directory, manifest, and the requests the server saw."""

    def __init__(self, out, manifest, log, before, after, result=None, proc=None):
        self.out, self.manifest, self.log = out, manifest, log
        self.before, self.after, self.result, self.proc = before, after, result, proc

    def table(self, name):
        return next(t for t in self.manifest["tables"] if t["name"] == name)


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def sql_export(server, base, out, *args):
    """SELECT airtable_export('base=...', 'out=...', args..., 'api_url=...')."""
    server.reset()
    args = ("base=" + base, "out=" + str(out)) + args + ("api_url=" + server.url,)
    with pytest.MonkeyPatch.context() as mp:   # module scope: conftest's _env is not active
        mp.setenv("AIRTABLE_TOKEN", TOKEN)
        mp.delenv("AIRTABLE_API_URL", raising=False)
        conn = connect()
        try:
            before = now_utc()
            result = conn.execute("SELECT airtable_export(%s)" % ", ".join("?" * len(args)),
                                  args).fetchone()[0]
            after = now_utc()
        finally:
            conn.close()
    log = [r for r in server.requests() if r["base"] == base]
    with open(out / "_manifest.json", encoding="utf-8") as f:
        manifest = json.load(f)
    return Export(out, manifest, log, before, after, result=result)


@pytest.fixture(scope="module")
def csv_export(server, tmp_path_factory):
    out = tmp_path_factory.mktemp("csv") / "made by export"   # does not exist yet
    return sql_export(server, SAMPLE, out, "all=1")


def command_export(server, base, out, *args):
    """build/airtable-export --base ... --out ... args... --quiet --api-url ..."""
    server.reset()
    before = now_utc()
    proc = subprocess.run(
        [str(EXPORT_BIN), "--base", base, "--out", str(out), *args, "--quiet",
         "--api-url", server.url],
        env=child_env(AIRTABLE_TOKEN=TOKEN), capture_output=True, text=True, timeout=300)
    after = now_utc()
    assert proc.returncode == 0, proc.stderr
    log = [r for r in server.requests() if r["base"] == base]
    with open(out / "_manifest.json", encoding="utf-8") as f:
        manifest = json.load(f)
    return Export(out, manifest, log, before, after, proc=proc)


@pytest.fixture(scope="module")
def jsonl_export(server, tmp_path_factory):
    return command_export(server, SAMPLE, tmp_path_factory.mktemp("jsonl"), "--all",
                          "--format", "jsonl", "--gzip", "--concurrency", "3")


@pytest.fixture(scope="module")
def exact_export(server, tmp_path_factory):
    tasks_id = next(t["id"] for t in load_fixture(SAMPLE)["tables"]
                    if t["name"] == "Packaging Tasks")
    return sql_export(server, SAMPLE, tmp_path_factory.mktemp("exact"), "table=Vendors",
                      "table=" + tasks_id, "format=jsonl", "names=exact")


@pytest.fixture(scope="module")
def sizes_export(server, tmp_path_factory):
    return sql_export(server, SIZES, tmp_path_factory.mktemp("sizes"), "all=1", "format=csv",
                      "gzip=1")


def data_suffix(fmt, gz):
    return "." + fmt + (".gz" if gz else "")


def assert_round_trip(export, base_id, table_name, names, fmt, gz, any_order=False):
    """Every cell of every row of one table file equals the fixture's record
    converted by the rules; the manifest's rows and untyped counts agree.
    any_order: rows may come in any order (partitions), but each record
    exactly once."""
    table = next(t for t in load_fixture(base_id)["tables"] if t["name"] == table_name)
    cols, types, want_rows, untyped = expected_table(base_id, table, names, fmt)
    entry = export.table(table_name)
    data = export.out / entry["data_file"]
    assert entry["data_file"] == entry["file_name"] + data_suffix(fmt, gz)
    schema = sparkread.load_schema(export.out / entry["schema_file"])
    assert [f.name for f in schema] == cols
    with open(export.out / entry["schema_file"], encoding="utf-8") as f:
        schema_types = [c["type"] for c in json.load(f)["fields"]]
    assert schema_types == [spark_json(csv_type(t) if fmt == "csv" else t) for t in types]
    got_rows = sparkread.read(data, schema)
    assert len(got_rows) == len(want_rows) == entry["rows"]
    if any_order:
        by_id = {row[0]: row for row in got_rows}
        assert len(by_id) == len(got_rows), "a record was written twice"
        assert set(by_id) == {r["id"] for r in table["records"]}
        got_rows = [by_id[r["id"]] for r in table["records"]]
    mismatches = []
    for rec, got, want in zip(table["records"], got_rows, want_rows):
        for col, g, w in zip(cols, got, want):
            if not same(g, w):
                mismatches.append((rec["id"], col, g, w))
    assert mismatches[:10] == [] and len(mismatches) == 0
    assert [c["untyped"] for c in entry["columns"]] == untyped
    assert [c["name"] for c in entry["columns"]] == cols


# --- 1. Round trips ----------------------------------------------------------------

SAMPLE_TABLES = ["Packaging Tasks", "Products", "Vendors"]


@pytest.mark.parametrize("table", SAMPLE_TABLES)
def test_csv_round_trip(csv_export, table):
    """CSV via SQL: every cell of every record, read back with the schema."""
    assert_round_trip(csv_export, SAMPLE, table, "delta", "csv", False)


@pytest.mark.parametrize("table", SAMPLE_TABLES)
def test_jsonl_gzip_round_trip_by_command(jsonl_export, table):
    """JSON Lines, gzip, by build/airtable-export with 3 workers: nested
    values conformed to the schema, rows still in the base's order."""
    assert_round_trip(jsonl_export, SAMPLE, table, "delta", "jsonl", True)


@pytest.mark.parametrize("table", ["Vendors", "Packaging Tasks"])
def test_exact_names_round_trip(exact_export, table):
    """names=exact: the same values under the Airtable field names."""
    assert_round_trip(exact_export, SAMPLE, table, "exact", "jsonl", False)


def test_size_base_round_trip(sizes_export):
    """Tables of 0, 1, 99, 100, 101 and 3 records, gzip CSV: an empty table is
    a header line only."""
    for t in load_fixture(SIZES)["tables"]:
        assert_round_trip(sizes_export, SIZES, t["name"], "delta", "csv", True)
    empty = sparkread.read_text(sizes_export.out / "empty.csv.gz")
    assert empty.count("\n") == 1 and empty.endswith("\n")   # the header line only


def test_untyped_counts_of_computed_errors(csv_export, jsonl_export):
    """The Cost per kg formula's #ERROR! and NaN cells are null and counted;
    no other column of the sample base has an untyped value."""
    for export in (csv_export, jsonl_export):
        for entry in export.manifest["tables"]:
            counts = {c["name"]: c["untyped"] for c in entry["columns"]}
            want = {c: 0 for c in counts}
            if entry["name"] == "Packaging Tasks":
                want["cost_per_kg"] = COST_PER_KG_UNTYPED
            assert counts == want, entry["name"]
    tasks = next(t for t in load_fixture(SAMPLE)["tables"] if t["name"] == "Packaging Tasks")
    assert sum(is_error(r["fields"].get("Cost per kg")) for r in tasks["records"]) == \
        COST_PER_KG_UNTYPED


def test_spot_values(csv_export, jsonl_export):
    """A few cells written out by hand, independent of the expectation code."""
    for export, fmt in ((csv_export, "csv"), (jsonl_export, "jsonl")):
        entry = export.table("Packaging Tasks")
        schema = sparkread.load_schema(export.out / entry["schema_file"])
        rows = sparkread.read(export.out / entry["data_file"], schema)
        col = {f.name: i for i, f in enumerate(schema)}
        first = rows[0]
        assert first[col["id"]] == "recU1WULVPQGlOG2J"
        assert first[col["task"]] == "Café crème pack — 12×"
        assert first[col["quantity"]] == 0 and type(first[col["quantity"]]) is int
        assert first[col["weight_kg"]] == 0.0 and type(first[col["weight_kg"]]) is float
        assert first[col["setup_time"]] == 35640.0 and type(first[col["setup_time"]]) is float
        assert first[col["due_date"]] == datetime.date(2024, 1, 5)
        assert first[col["started_at"]] == datetime.datetime(2024, 1, 10, 18, tzinfo=datetime.timezone.utc)
        assert first[col["fragile"]] is True
        assert first[col["is_heavy"]] is False          # absent formula checkbox
        assert first[col["cost_per_kg"]] is None         # {"error": "#ERROR!"} (weight 0)
        assert first[col["legacy_widget"]] is None
        barcode = first[col["barcode"]]
        assert (json.loads(barcode) if fmt == "csv" else barcode) == {"text": "0000"}
        widget = rows[7][col["legacy_widget"]]
        assert widget == '{"kind":"gizmo","level":2,"nested":{"ok":true}}'
        assert rows[6][col["task"]] == "Line 1\nLine 2\nLine 3"
        assert rows[13][col["task"]] == "000123"
        big = [r[col["quantity"]] for r in rows if r[col["quantity"]] and r[col["quantity"]] > 2 ** 31]
        assert big and all(type(q) is int for q in big)


# --- Files and manifest --------------------------------------------------------------

def expected_files(export, fmt, gz):
    files = {"_manifest.json"}
    for entry in export.manifest["tables"]:
        fn = entry["file_name"]
        files |= {fn + data_suffix(fmt, gz), fn + ".schema.json", fn + ".ddl"}
    return files


@pytest.mark.parametrize("name,fmt,gz", [("csv_export", "csv", False),
                                         ("jsonl_export", "jsonl", True),
                                         ("exact_export", "jsonl", False),
                                         ("sizes_export", "csv", True)])
def test_out_dir_holds_exactly_the_files(request, name, fmt, gz):
    """Three files per table and the manifest, nothing else (no temp files);
    data files are gzip exactly when asked for, and the others never are."""
    export = request.getfixturevalue(name)
    assert {p.name for p in export.out.iterdir()} == expected_files(export, fmt, gz)
    for p in export.out.iterdir():
        magic = p.read_bytes()[:2]
        assert (magic == b"\x1f\x8b") == (gz and p.name.endswith(".gz")), p.name


def manifest_columns(fields, names, fmt):
    cols = column_names(fields, names)
    out = [{"name": "id", "airtable_field_name": None, "airtable_field_id": None,
            "airtable_field_type": None, "spark_type": "STRING"},
           {"name": "createdTime", "airtable_field_name": None, "airtable_field_id": None,
            "airtable_field_type": None, "spark_type": "TIMESTAMP"}]
    for f, c in zip(fields, cols):
        t = spark_type(f["type"], f.get("options"))
        out.append({"name": c, "airtable_field_name": f["name"], "airtable_field_id": f["id"],
                    "airtable_field_type": f["type"],
                    "spark_type": ddl(csv_type(t) if fmt == "csv" else t)})
    return out


def check_manifest(export, base_id, tables, options):
    """The manifest: exact keys, options, tables in order with their files,
    rows and requests (as the server logged them)."""
    m = export.manifest
    assert set(m) == {"format_version", "base", "started_at", "seconds", "requests", "options",
                      "tables"}
    assert m["format_version"] == 1 and m["base"] == base_id
    started = datetime.datetime.fromisoformat(m["started_at"].replace("Z", "+00:00"))
    assert started.utcoffset() == datetime.timedelta(0)
    assert export.before - datetime.timedelta(seconds=1) <= started <= export.after
    assert type(m["seconds"]) in (int, float)    # cJSON writes 1.0 as 1
    assert 0 <= m["seconds"] <= (export.after - export.before).total_seconds() + 0.5
    assert m["requests"] == len(export.log)
    assert set(m["options"]) == {"format", "gzip", "names", "view", "concurrency", "api_url",
                                 "rate_limit", "max_retries", "partitions", "schema_only",
                                 "from_cache", "since_sync"}
    assert m["options"]["max_retries"] == 5 and m["options"]["partitions"] == 1
    assert m["options"]["schema_only"] is False
    assert m["options"]["from_cache"] is None and m["options"]["since_sync"] is None
    for k, v in options.items():
        got = m["options"][k]
        # gzip is given as 0|1: true/false or 0/1 in the manifest, not "1".
        kinds = (bool, int) if k == "gzip" else (type(v),)
        assert got == v and type(got) in kinds, (k, got, v)
    fixture_tables = {t["name"]: t for t in load_fixture(base_id)["tables"]}
    assert [t["name"] for t in m["tables"]] == tables
    fmt, gz, names = m["options"]["format"], m["options"]["gzip"], m["options"]["names"]
    base_order = [t["name"] for t in load_fixture(base_id)["tables"]]
    file_name = dict(zip(base_order, file_names(base_order)))
    for entry in m["tables"]:
        t = fixture_tables[entry["name"]]
        fn = file_name[t["name"]]
        assert set(entry) == {"name", "id", "file_name", "data_file", "schema_file", "ddl_file",
                              "rows", "requests", "retries", "seconds", "rate_limit_wait_ms",
                              "columns"}
        assert entry["retries"] == 0
        assert (entry["id"], entry["file_name"], entry["data_file"], entry["schema_file"],
                entry["ddl_file"], entry["rows"]) == (
            t["id"], fn, fn + data_suffix(fmt, gz), fn + ".schema.json", fn + ".ddl",
            len(t["records"]))
        # Pages of 100: one request per page, at least one.
        pages = [r for r in export.log if r["path"].startswith("/v0/%s/" % base_id)
                 and urllib.parse.unquote(r["path"].split("/")[3]) in (t["id"], t["name"])]
        assert entry["requests"] == len(pages) == max(1, math.ceil(len(t["records"]) / 100))
        assert type(entry["seconds"]) is float and 0 <= entry["seconds"] <= m["seconds"]
        assert type(entry["rate_limit_wait_ms"]) is int and entry["rate_limit_wait_ms"] >= 0
        assert [{k: v for k, v in c.items() if k != "untyped"} for c in entry["columns"]] == \
            manifest_columns(t["fields"], names, fmt)
        assert all(set(c) == {"name", "airtable_field_name", "airtable_field_id",
                              "airtable_field_type", "spark_type", "untyped"}
                   for c in entry["columns"])


def test_manifest_of_sql_export(csv_export, server):
    """The SQL function returns the manifest it writes; defaults: csv, no
    gzip, names=delta, no view, 5 requests/second; the out directory, which
    did not exist, is created."""
    assert json.loads(csv_export.result) == csv_export.manifest
    check_manifest(csv_export, SAMPLE, SAMPLE_TABLES,
                   {"format": "csv", "gzip": False, "names": "delta", "view": None,
                    "api_url": server.url, "rate_limit": 5})
    c = csv_export.manifest["options"]["concurrency"]
    assert type(c) is int and 1 <= c <= 8
    assert csv_export.table("Packaging Tasks")["requests"] == 25


def test_manifest_of_command_export(jsonl_export, server):
    """The command exits 0 and writes the same kind of manifest."""
    assert jsonl_export.proc.returncode == 0
    check_manifest(jsonl_export, SAMPLE, SAMPLE_TABLES,
                   {"format": "jsonl", "gzip": True, "names": "delta", "view": None,
                    "concurrency": 3, "api_url": server.url, "rate_limit": 5})


def test_manifest_tables_in_the_order_asked(exact_export, server):
    """table= twice (a name, then an id): tables in that order, names=exact."""
    assert json.loads(exact_export.result) == exact_export.manifest
    check_manifest(exact_export, SAMPLE, ["Vendors", "Packaging Tasks"],
                   {"format": "jsonl", "gzip": False, "names": "exact", "view": None,
                    "api_url": server.url, "rate_limit": 5})


def test_manifest_of_size_base(sizes_export, server):
    """Six tables in base order, gzip CSV."""
    check_manifest(sizes_export, SIZES, [t["name"] for t in load_fixture(SIZES)["tables"]],
                   {"format": "csv", "gzip": True, "names": "delta", "view": None,
                    "api_url": server.url, "rate_limit": 5})


def test_csv_layout(csv_export):
    """Strings (and only strings) are quoted, nulls are empty unquoted fields,
    lines end in \\n, no BOM; multi-line values stay one record."""
    for entry in csv_export.manifest["tables"]:
        path = csv_export.out / entry["data_file"]
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and raw.endswith(b"\n")
        assert b"\r" not in raw          # the fixture holds no \r
        schema = sparkread.load_schema(csv_export.out / entry["schema_file"])
        rows = sparkread.read(path, schema)
        quoting = sparkread.csv_quoting(path)
        assert len(quoting) == len(rows)
        wrong = [(row[0], f.name, v, q)
                 for row, qs in zip(rows, quoting)
                 for f, v, q in zip(schema, row, qs)
                 if q != (v is not None and f.type == "string")]
        assert wrong[:10] == [] and len(wrong) == 0


# --- 2. Column names and Spark types ---------------------------------------------------

def tasks_fields():
    return next(t for t in load_fixture(SAMPLE)["tables"]
                if t["name"] == "Packaging Tasks")["fields"]


def test_hand_written_columns_agree_with_the_rules():
    """The hand-written table and the rule functions of this file say the same
    (so the tests below check the spec, not a typo)."""
    fields = tasks_fields()
    assert [f["name"] for f in fields] == [c[0] for c in TASK_COLUMNS]
    assert column_names(fields, "delta") == [c[1] for c in TASK_COLUMNS]
    assert column_names(fields, "exact") == [c[2] for c in TASK_COLUMNS]
    assert [spark_type(f["type"], f.get("options")) for f in fields] == [c[3] for c in TASK_COLUMNS]
    # The spec's own examples.
    assert [delta_name(n) for n in ("Unit Cost (USD).net", "Notes {internal}", "Weight (kg)",
                                    "Length/Width", 'Customer\'s "Nickname"', "Summary (AI)")] == \
        ["unit_cost_usd_net", "notes_internal", "weight_kg", "length_width",
         "customer_s__nickname_", "summary_ai"]
    assert unique_names(["id", "status", "status", "STATUS_2", "x"]) == \
        ["id_2", "status", "status_2", "STATUS_2_2", "x"]
    assert delta_name("(){}") == "col" and delta_name("2nd $ #") == "col_2nd_dollar_num"


def expected_schema_fields(names, fmt):
    out = [{"name": "id", "type": "string", "nullable": False, "metadata": {}},
           {"name": "createdTime", "type": "timestamp", "nullable": True, "metadata": {}}]
    for (fname, delta, exact, t), f in zip(TASK_COLUMNS, tasks_fields()):
        out.append({"name": delta if names == "delta" else exact,
                    "type": spark_json(csv_type(t) if fmt == "csv" else t), "nullable": True,
                    "metadata": {"airtable_field_name": fname, "airtable_field_id": f["id"],
                                 "airtable_field_type": f["type"]}})
    return out


def expected_ddl(names, fmt):
    parts = ["`id` STRING NOT NULL", "`createdTime` TIMESTAMP"]
    for _, delta, exact, t in TASK_COLUMNS:
        parts.append("%s %s" % (quote(delta if names == "delta" else exact),
                                ddl(csv_type(t) if fmt == "csv" else t)))
    return ", ".join(parts) + "\n"


@pytest.mark.parametrize("name,names,fmt", [("csv_export", "delta", "csv"),
                                            ("jsonl_export", "delta", "jsonl"),
                                            ("exact_export", "exact", "jsonl")])
def test_schema_json_of_packaging_tasks(request, name, names, fmt):
    """The exact StructType: names, types (nested only in JSON Lines), id not
    nullable, metadata keeping the field's name, id and type."""
    export = request.getfixturevalue(name)
    path = export.out / export.table("Packaging Tasks")["schema_file"]
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == {"type": "struct", "fields": expected_schema_fields(names, fmt)}
    assert "integer" not in text


@pytest.mark.parametrize("name,names,fmt", [("csv_export", "delta", "csv"),
                                            ("jsonl_export", "delta", "jsonl"),
                                            ("exact_export", "exact", "jsonl")])
def test_ddl_of_packaging_tasks(request, name, names, fmt):
    """The exact DDL line; it says what schema.json says; no INT type."""
    export = request.getfixturevalue(name)
    entry = export.table("Packaging Tasks")
    text = (export.out / entry["ddl_file"]).read_text(encoding="utf-8")
    assert text == expected_ddl(names, fmt)
    schema = json.loads((export.out / entry["schema_file"]).read_text(encoding="utf-8"))
    assert text == ", ".join(
        "%s %s%s" % (quote(f["name"]), ddl_of_schema_json(f["type"]),
                     "" if f["nullable"] else " NOT NULL") for f in schema["fields"]) + "\n"
    assert re.search(r"\bINT(EGER)?\b", text) is None
    assert [c["spark_type"] for c in entry["columns"]] == \
        [ddl_of_schema_json(f["type"]) for f in schema["fields"]]


def test_nested_ddl_spelled_out(jsonl_export):
    """Three nested types written out in full, as Spark's DDL spells them."""
    text = (jsonl_export.out / "packaging_tasks.ddl").read_text(encoding="utf-8")
    thumb = "STRUCT<`url`: STRING, `width`: BIGINT, `height`: BIGINT>"
    for piece in [
        "`reviewers` ARRAY<STRUCT<`id`: STRING, `email`: STRING, `name`: STRING>>, ",
        "`photos` ARRAY<STRUCT<`id`: STRING, `url`: STRING, `filename`: STRING, "
        "`size`: BIGINT, `type`: STRING, `width`: BIGINT, `height`: BIGINT, "
        "`thumbnails`: STRUCT<`small`: %s, `large`: %s, `full`: %s>>>, " % (thumb, thumb, thumb),
        "`summary_ai` STRUCT<`state`: STRING, `isStale`: BOOLEAN, `value`: STRING>, ",
        "`quantity` BIGINT, `weight_kg` DOUBLE, ",
        "`legacy_widget` STRING, `customer_s__nickname_` STRING\n",
    ]:
        assert piece in text


def test_airtable_spark_schema_equals_the_ddl_files(db, server, csv_export, jsonl_export):
    """airtable_spark_schema('t') is the CSV export's DDL, ('t', 'jsonl') the
    JSON Lines one, without the newline."""
    create(db, "t", SAMPLE, "Packaging Tasks")
    csv_ddl = (csv_export.out / "packaging_tasks.ddl").read_text(encoding="utf-8")
    jsonl_ddl = (jsonl_export.out / "packaging_tasks.ddl").read_text(encoding="utf-8")
    assert db.execute("SELECT airtable_spark_schema('t')").fetchone()[0] + "\n" == csv_ddl
    assert db.execute("SELECT airtable_spark_schema('t', 'jsonl')").fetchone()[0] + "\n" == \
        jsonl_ddl
    assert csv_ddl == expected_ddl("delta", "csv") and jsonl_ddl == expected_ddl("delta", "jsonl")


# --- 3. Table file names ---------------------------------------------------------------

def test_table_file_names_of_the_sample_base(csv_export):
    assert [t["file_name"] for t in csv_export.manifest["tables"]] == \
        ["packaging_tasks", "products", "vendors"] == file_names(SAMPLE_TABLES)


def test_table_file_names_of_the_size_base(sizes_export):
    """Odd/Name?#% "quoted" ☃ becomes odd_name_quoted."""
    want = ["empty", "one", "ninety_nine", "one_hundred", "one_hundred_one", "odd_name_quoted"]
    assert [t["file_name"] for t in sizes_export.manifest["tables"]] == want
    assert file_names([t["name"] for t in load_fixture(SIZES)["tables"]]) == want
    assert file_names(["9 Lives", "", "a-b", "A B", "(x)"]) == \
        ["table_9_lives", "table", "a_b", "a_b_2", "x"]


# --- 5. Partitions: one table listed in disjoint parts at once ----------------------

# The formulas of ext/partition.c, written out: a record is in the part whose
# group holds the first character of its id after "rec" (both cases); the
# last part takes every record the others do not.
GROUPS_3 = ["0123456789aAbBcCdDeEfF", "gGhHiIjJkKlLmMnNoOpP"]
FORMULAS_3 = ["FIND(MID(RECORD_ID(),4,1),'%s')>0" % GROUPS_3[0],
              "FIND(MID(RECORD_ID(),4,1),'%s')>0" % GROUPS_3[1],
              "AND(FIND(MID(RECORD_ID(),4,1),'%s')=0,FIND(MID(RECORD_ID(),4,1),'%s')=0)"
              % tuple(GROUPS_3)]


def part_of(record_id, groups):
    return next((k for k, g in enumerate(groups) if record_id[3] in g), len(groups))


def formula_of(request):
    q = urllib.parse.parse_qs(request["query"])
    return q.get("filterByFormula", [None])[0]


@pytest.fixture(scope="module")
def partitioned_export(server, tmp_path_factory):
    return sql_export(server, SAMPLE, tmp_path_factory.mktemp("parts"), "all=1",
                      "partitions=3", "concurrency=8")


@pytest.fixture(scope="module")
def partitioned_jsonl(server, tmp_path_factory):
    return command_export(server, SAMPLE, tmp_path_factory.mktemp("parts-jsonl"),
                          "--table", "Packaging Tasks", "--format", "jsonl",
                          "--partitions", "2")


@pytest.mark.parametrize("table", SAMPLE_TABLES)
def test_partitioned_round_trip(partitioned_export, table):
    """Three parts of each table listed at once: every record exactly once,
    every cell as without parts."""
    assert_round_trip(partitioned_export, SAMPLE, table, "delta", "csv", False, any_order=True)


def test_partitioned_jsonl_round_trip_by_command(partitioned_jsonl):
    assert_round_trip(partitioned_jsonl, SAMPLE, "Packaging Tasks", "delta", "jsonl", False,
                      any_order=True)
    assert partitioned_jsonl.manifest["options"]["partitions"] == 2


def test_partitions_ask_each_part_once_and_stay_within_the_rate_limit(partitioned_export):
    """Each part of each table is one listing with its formula; the parts'
    records add up to the table's and none comes in a part not its own; the
    manifest counts every request; the base's limit holds throughout; and
    the parts of Packaging Tasks interleave (they run at once)."""
    m = partitioned_export.manifest
    assert m["options"]["partitions"] == 3 and m["options"]["concurrency"] == 8
    log = [r for r in partitioned_export.log if not r["path"].startswith("/v0/meta/")]
    assert all(r["status"] == 200 for r in log)
    assert_spacing([r["mono"] for r in log], 5)
    assert m["requests"] == len(log) + 1                      # + the metadata
    for t in load_fixture(SAMPLE)["tables"]:
        mine = [r for r in log if r["path"].split("/")[3] == t["id"]]
        assert {formula_of(r) for r in mine} == set(FORMULAS_3)
        want = [0, 0, 0]
        for rec in t["records"]:
            want[part_of(rec["id"], GROUPS_3)] += 1
        got = [sum(r["records"] for r in mine if formula_of(r) == f) for f in FORMULAS_3]
        assert got == want and sum(got) == len(t["records"])
        # Pages of 100 per part: one request per page, at least one.
        assert [len([r for r in mine if formula_of(r) == f]) for f in FORMULAS_3] == \
            [max(1, math.ceil(n / 100)) for n in want]
        entry = partitioned_export.table(t["name"])
        assert entry["requests"] == len(mine) and entry["rows"] == len(t["records"])
    tasks = next(t["id"] for t in load_fixture(SAMPLE)["tables"] if t["name"] == "Packaging Tasks")
    parts = [FORMULAS_3.index(formula_of(r)) for r in log if r["path"].split("/")[3] == tasks]
    first_of_last = parts.index(2)
    assert first_of_last < len(parts) - 1 - parts[::-1].index(0), parts   # interleaved


def test_partitioned_out_dir_holds_exactly_the_files(partitioned_export):
    assert {p.name for p in partitioned_export.out.iterdir()} == \
        expected_files(partitioned_export, "csv", False)


def test_a_server_reading_the_parts_differently_fails_the_export(server, tmp_path):
    """Were Airtable to read the partition formula otherwise (MID counting
    from 0, say), a part would receive records of another: the export stops
    rather than write a record twice, and says what to do."""
    tasks = table_fixture(SAMPLE, "Packaging Tasks")
    group_2 = "0123456789aAbBcCdDeEfFgGhHiIjJkK"         # part 1 of 2
    stray = next(r for r in tasks["records"] if r["id"][3] not in group_2)
    server.reset()
    # Part 1's first page (its formula ends in >0, part 2's in =0) holds a
    # record of part 2.
    server.faults({"path": "^/v0/%s/%s" % (SAMPLE, tasks["id"]),
                   "query": "filterByFormula=[^&]*%3E0", "action": "body",
                   "body": {"records": [stray]}})
    conn = connect()
    try:
        with pytest.raises(sqlite3.OperationalError) as e:
            conn.execute("SELECT airtable_export(?, ?, ?, ?, ?)",
                         ("base=" + SAMPLE, "out=" + str(tmp_path), "table=Packaging Tasks",
                          "partitions=2", "api_url=" + server.url)).fetchone()
    finally:
        conn.close()
    assert str(e.value) == (
        "airtable: export of table 'Packaging Tasks' failed (no manifest was written): "
        "table 'Packaging Tasks': part 1 of 2 returned record %s, which belongs to part 2: "
        "the server reads the partition formula differently, so records could repeat; "
        "export this table with partitions=1" % stray["id"])
    assert sorted(p.name for p in tmp_path.iterdir()) == []
