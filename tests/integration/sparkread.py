"""A small, strict reader of exported files, configured like Apache Spark's.

    schema = sparkread.load_schema("out/t.schema.json")   # Spark StructType JSON
    rows = sparkread.read("out/t.csv", schema)              # .csv .jsonl, either .gz

It reads what Spark reads with the options the export documents:

- CSV as spark.read.csv(header=True, multiLine=True, quote='"', escape='"',
  schema=...): the header must be the schema's names; an empty field and a
  quoted empty string both read as None; every other value is cast strictly
  by its schema type. Parsed with Python's csv module (strict=True, no newline
  translation), and cross-checked by a scanner of our own that also reports
  which fields were quoted (csv_quoting), which Spark cannot tell but the
  export promises.
- JSON Lines as spark.read.json(schema=...): one object per line, each value
  checked recursively against its type (arrays, structs, primitives).

Unlike Spark's PERMISSIVE mode nothing malformed becomes null: a wrong field
count, a bad literal, an unknown key or type all raise SparkReadError.

Values come back as Python values: str, int (long), float (double), bool,
datetime.date, aware datetime.datetime (timestamp), list (array), dict
(struct: only the members present).
"""
import collections
import csv
import datetime
import gzip
import io
import json
import math
import re

PRIMITIVES = ("string", "long", "double", "boolean", "date", "timestamp")
LONG_MIN, LONG_MAX = -2 ** 63, 2 ** 63 - 1

Field = collections.namedtuple("Field", "name type nullable metadata")


class SparkReadError(ValueError):
    """The file (or schema) is not what a strict Spark reader accepts."""


# --- Schema ------------------------------------------------------------------
#
# Types are kept as: a primitive name ("string", ...), ("array", T, contains_null)
# or ("struct", (Field, ...)).

def _keys(obj, want, where):
    if not isinstance(obj, dict) or set(obj) != set(want):
        raise SparkReadError("%s: expected an object with keys %s, got %r"
                             % (where, sorted(want), obj))


def _fields(items, where):
    if not isinstance(items, list):
        raise SparkReadError("%s: fields must be a list" % where)
    out, seen = [], set()
    for i, f in enumerate(items):
        w = "%s.fields[%d]" % (where, i)
        _keys(f, ("name", "type", "nullable", "metadata"), w)
        if not isinstance(f["name"], str) or not f["name"]:
            raise SparkReadError("%s: bad name %r" % (w, f["name"]))
        if not isinstance(f["nullable"], bool) or not isinstance(f["metadata"], dict):
            raise SparkReadError("%s: bad nullable or metadata" % w)
        # Spark resolves names case-insensitively (spark.sql.caseSensitive=false)
        # and refuses a schema with duplicate columns.
        key = f["name"].lower()
        if key in seen:
            raise SparkReadError("%s: duplicate name %r" % (w, f["name"]))
        seen.add(key)
        out.append(Field(f["name"], parse_type(f["type"], w + ".type"), f["nullable"],
                         f["metadata"]))
    return tuple(out)


def parse_type(t, where="type"):
    """A Spark JSON data type -> our form. Only the types the export may use."""
    if isinstance(t, str):
        if t not in PRIMITIVES:
            raise SparkReadError("%s: unexpected primitive type %r" % (where, t))
        return t
    if isinstance(t, dict) and t.get("type") == "array":
        _keys(t, ("type", "elementType", "containsNull"), where)
        if not isinstance(t["containsNull"], bool):
            raise SparkReadError("%s: containsNull must be a boolean" % where)
        return ("array", parse_type(t["elementType"], where + ".elementType"), t["containsNull"])
    if isinstance(t, dict) and t.get("type") == "struct":
        _keys(t, ("type", "fields"), where)
        return ("struct", _fields(t["fields"], where))
    raise SparkReadError("%s: unexpected type %r" % (where, t))


def parse_schema(obj):
    """A StructType as JSON (parsed) -> list of Field."""
    _keys(obj, ("type", "fields"), "schema")
    if obj["type"] != "struct":
        raise SparkReadError("schema: top-level type must be struct")
    return list(_fields(obj["fields"], "schema"))


def load_schema(path):
    with open(path, encoding="utf-8") as f:
        return parse_schema(json.loads(f.read(), object_pairs_hook=_no_duplicates,
                                       parse_constant=_no_constant))


# --- Files -------------------------------------------------------------------

def read_text(path):
    """The file as text: gzip when the name ends in .gz, UTF-8 without BOM."""
    path = str(path)
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".gz"):
        if data[:2] != b"\x1f\x8b":
            raise SparkReadError("%s: not gzip data" % path)
        data = gzip.decompress(data)
    if data.startswith(b"\xef\xbb\xbf"):
        raise SparkReadError("%s: starts with a byte order mark" % path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SparkReadError("%s: not UTF-8: %s" % (path, e))


def read(path, schema):
    """Rows (lists in schema order) of a .csv or .jsonl file, gzip or not."""
    name = str(path)
    base = name[:-3] if name.endswith(".gz") else name
    if base.endswith(".csv"):
        return read_csv(path, schema)
    if base.endswith(".jsonl"):
        return read_jsonl(path, schema)
    raise SparkReadError("%s: unknown format" % name)


# --- CSV ---------------------------------------------------------------------

_UNQUOTED = re.compile(r'[^,\n"\r]*')


def scan_csv(text):
    """RFC 4180 records as lists of (value, quoted). Strict: lines end with \\n
    (the last one too), a quote only opens a field or is doubled inside one,
    no \\r outside quotes."""
    records, i, n = [], 0, len(text)
    while i < n:
        record = []
        while True:
            if i < n and text[i] == '"':
                parts, i = [], i + 1
                while True:
                    j = text.find('"', i)
                    if j < 0:
                        raise SparkReadError("CSV: unterminated quoted field")
                    parts.append(text[i:j])
                    if text.startswith('"', j + 1):
                        parts.append('"')
                        i = j + 2
                    else:
                        i = j + 1
                        break
                record.append(("".join(parts), True))
            else:
                j = _UNQUOTED.match(text, i).end()
                record.append((text[i:j], False))
                i = j
            if i >= n:
                raise SparkReadError("CSV: the last line does not end with \\n")
            if text[i] == ",":
                i += 1
            elif text[i] == "\n":
                i += 1
                break
            else:
                raise SparkReadError("CSV: unexpected %r after a field (record %d)"
                                     % (text[i], len(records)))
        records.append(record)
    return records


def _csv_records(path):
    """Records parsed by the csv module, checked against scan_csv."""
    text = read_text(path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=",", quotechar='"',
                        doublequote=True, escapechar=None, strict=True,
                        skipinitialspace=False)
    try:
        records = list(reader)
    except csv.Error as e:
        raise SparkReadError("%s: %s" % (path, e))
    scanned = scan_csv(text)
    if [[v for v, _ in r] for r in scanned] != records:
        raise SparkReadError("%s: csv module and scanner disagree" % path)
    return records, scanned


_LONG = re.compile(r"-?[0-9]+\Z")
_DOUBLE = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_TIMESTAMP = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})"
                        r"(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})\Z")


def cast(t, text, where):
    """A CSV field's text as a value of primitive type t (Spark's casts, strict)."""
    if t == "string":
        return text
    if t == "long":
        if not _LONG.match(text) or not LONG_MIN <= int(text) <= LONG_MAX:
            raise SparkReadError("%s: not a long: %r" % (where, text))
        return int(text)
    if t == "double":
        if not _DOUBLE.match(text):
            raise SparkReadError("%s: not a double: %r" % (where, text))
        value = float(text)
        if not math.isfinite(value):
            raise SparkReadError("%s: double out of range: %r" % (where, text))
        return value
    if t == "boolean":
        if text not in ("true", "false"):
            raise SparkReadError("%s: not a boolean: %r" % (where, text))
        return text == "true"
    if t == "date":
        return parse_date(text, where)
    if t == "timestamp":
        return parse_timestamp(text, where)
    raise SparkReadError("%s: CSV cannot hold type %r" % (where, t))


def parse_date(text, where):
    if not isinstance(text, str) or not _DATE.match(text):
        raise SparkReadError("%s: not a date: %r" % (where, text))
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise SparkReadError("%s: not a date: %r" % (where, text))


def parse_timestamp(text, where):
    """ISO-8601 with T, seconds and a zone (Z or +hh:mm) -> aware datetime.
    Spark keeps microseconds: more digits than that must be zeros."""
    m = _TIMESTAMP.match(text) if isinstance(text, str) else None
    if not m:
        raise SparkReadError("%s: not a timestamp: %r" % (where, text))
    frac = m.group(2) or ""
    if frac[6:].strip("0"):
        raise SparkReadError("%s: timestamp finer than microseconds: %r" % (where, text))
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    try:
        dt = datetime.datetime.fromisoformat(m.group(1) + zone)
    except ValueError:
        raise SparkReadError("%s: not a timestamp: %r" % (where, text))
    return dt.replace(microsecond=int((frac + "000000")[:6]))


def read_csv(path, schema):
    records, _ = _csv_records(path)
    names = [f.name for f in schema]
    if not records or records[0] != names:
        raise SparkReadError("%s: header %r is not the schema's names %r"
                             % (path, records[0] if records else None, names))
    rows = []
    for r, record in enumerate(records[1:], start=2):
        if len(record) != len(schema):
            raise SparkReadError("%s: record %d has %d fields, the schema %d"
                                 % (path, r, len(record), len(schema)))
        row = []
        for f, text in zip(schema, record):
            where = "%s: record %d, column %s" % (path, r, f.name)
            if isinstance(f.type, tuple):
                raise SparkReadError("%s: CSV cannot hold %r" % (where, f.type))
            value = None if text == "" else cast(f.type, text, where)
            if value is None and not f.nullable:
                raise SparkReadError("%s: null in a non-nullable column" % where)
            row.append(value)
        rows.append(row)
    return rows


def csv_quoting(path):
    """For each data record of a CSV file, which fields were quoted."""
    _, scanned = _csv_records(path)
    return [[q for _, q in record] for record in scanned[1:]]


# --- JSON Lines --------------------------------------------------------------

def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise SparkReadError("duplicate key in %r" % keys)
    return dict(pairs)


def _no_constant(name):
    raise SparkReadError("non-standard JSON constant %s" % name)


def conform(t, v, where):
    """A parsed JSON value checked against type t (never None here)."""
    if t == "string":
        ok = isinstance(v, str)
    elif t == "long":
        ok = isinstance(v, int) and not isinstance(v, bool) and LONG_MIN <= v <= LONG_MAX
    elif t == "double":
        ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        if ok:
            v = float(v)
    elif t == "boolean":
        ok = isinstance(v, bool)
    elif t == "date":
        return parse_date(v, where)
    elif t == "timestamp":
        return parse_timestamp(v, where)
    elif t[0] == "array":
        if not isinstance(v, list):
            raise SparkReadError("%s: not an array: %r" % (where, v))
        out = []
        for i, e in enumerate(v):
            if e is None:
                if not t[2]:
                    raise SparkReadError("%s[%d]: null in an array without nulls" % (where, i))
                out.append(None)
            else:
                out.append(conform(t[1], e, "%s[%d]" % (where, i)))
        return out
    elif t[0] == "struct":
        if not isinstance(v, dict):
            raise SparkReadError("%s: not a struct: %r" % (where, v))
        members = {f.name: f for f in t[1]}
        out = {}
        for k, e in v.items():
            f = members.get(k)
            if f is None:
                raise SparkReadError("%s: member %r is not in the schema" % (where, k))
            if e is None and not f.nullable:
                raise SparkReadError("%s.%s: null in a non-nullable member" % (where, k))
            out[k] = None if e is None else conform(f.type, e, "%s.%s" % (where, k))
        return out
    else:
        raise SparkReadError("%s: unknown type %r" % (where, t))
    if not ok:
        raise SparkReadError("%s: %r is not a %s" % (where, v, t))
    return v


def read_jsonl(path, schema):
    """Rows of a JSON Lines file. Besides the types, it holds the export to
    its promise: keys in column order, null values left out, every line
    (the last one too) ending in \\n, no empty lines."""
    text = read_text(path)
    if text and not text.endswith("\n"):
        raise SparkReadError("%s: the last line does not end with \\n" % path)
    position = {f.name: i for i, f in enumerate(schema)}
    rows = []
    for n, line in enumerate(text.split("\n")[:-1], start=1):
        where = "%s: line %d" % (path, n)
        if not line.strip() or "\r" in line:
            raise SparkReadError("%s: empty line or \\r" % where)
        try:
            obj = json.loads(line, object_pairs_hook=_no_duplicates,
                             parse_constant=_no_constant)
        except ValueError as e:
            raise SparkReadError("%s: %s" % (where, e))
        if not isinstance(obj, dict):
            raise SparkReadError("%s: not an object" % where)
        row, last = [None] * len(schema), -1
        for k, v in obj.items():
            if k not in position:
                raise SparkReadError("%s: key %r is not a column" % (where, k))
            if position[k] <= last:
                raise SparkReadError("%s: key %r out of column order" % (where, k))
            last = position[k]
            if v is None:
                raise SparkReadError("%s: %r is null instead of left out" % (where, k))
            f = schema[position[k]]
            row[position[k]] = conform(f.type, v, "%s, column %s" % (where, k))
        for f, v in zip(schema, row):
            if v is None and not f.nullable:
                raise SparkReadError("%s: no value for non-nullable %s" % (where, f.name))
        rows.append(row)
    return rows
