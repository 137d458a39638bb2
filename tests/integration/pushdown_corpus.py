"""The query generator of the differential pushdown test (test_pushdown_diff.py).

generate(pools, seed, n) returns n random queries over the sample base
(appPackagingOps01), each to be run against tables declared with pushdown on
and with pushdown='off', which must answer with exactly the same rows in the
same order, or fail with the same error. The tables, as declared on both
sides (DECLARED):

    tasks            'Packaging Tasks'   2,500 records, 45 fields of every type
    tasks_open       'Packaging Tasks', view 'Open tasks'  (Status != Done, by Due Date)
    tasks_prio       'Packaging Tasks', view 'By priority' (Priority desc)
    products         'Products'          60
    products_active  'Products', view 'Active products'    (Active, by Name)
    vendors          'Vendors'           15

Values come from the data (load_pools reads it through the pushdown-off
tables, with the SQL types the extension gives), mutated (case, prefixes,
neighbours, the other numeric type) or taken from fixed lists of awkward
values (NULL, '', quotes, braces, backslashes, newlines, emoji, numbers
near 0 and negative, blobs), as literals or bound parameters.

Order: a query either has no ORDER BY and reads one table (whose rows then
come in the server's order either way: a filter or a limit pushed to the
server keeps that order), or its ORDER BY ends with a unique key (id or
"Task Number"; for joins the ids of every table and the json_each key), so
the order is total and cannot depend on the plan, which pushdown changes.

Cost: with pushdown off every query of a tasks table scans all 2,500 records
(25 requests), and in a join the inner table is scanned again for each outer
row. So the corpus leans on Products and Vendors (about 40 of 500 queries
read a tasks table), the outer table of a join keeps a few rows (restrict),
and tasks appear in joins only as the outer table of a CROSS JOIN (scanned
once) or behind `id IN (SELECT ...)` (a subquery evaluated once).

Each query carries flags saying what pushdown should do with it (where,
where_simple, where_exact, order_key, limit_ok, id_eq, cols, ...), which
the test holds against the server's request log.
"""
import json
import random

SAMPLE = "appPackagingOps01"

# SQL name -> (Airtable table, view or None, base table for the pools).
DECLARED = {
    "tasks": ("Packaging Tasks", None, "tasks"),
    "tasks_open": ("Packaging Tasks", "Open tasks", "tasks"),
    "tasks_prio": ("Packaging Tasks", "By priority", "tasks"),
    "products": ("Products", None, "products"),
    "products_active": ("Products", "Active products", "products"),
    "vendors": ("Vendors", None, "vendors"),
}
BASE_TABLES = {"tasks": "Packaging Tasks", "products": "Products", "vendors": "Vendors"}
# Unique keys a total order can end with.
UNIQUE = {"tasks": ["id", "Task Number"], "products": ["id"], "vendors": ["id"]}

NASTY_TEXT = [
    "", " ", "  ", "'", "''", '"', "O'Neil", '"Big" Joe', "it's \"quoted\"", "{", "}", "{}",
    "{Status}", "{Name}", "}{", "a\\b", "\\", "\\\\", "\\'", "\\\"", "\\n", "line1\nline2",
    "\n", "\r\n", "\t", "📦", "👩‍👩‍👧", "Café", "café", "CAFÉ", "ß", "İ", "ǅ", "עברית", "包装",
    "%", "_", "100%", "a_b", "*", "?", "[", "]", "[a]", "0", "00", "000123", "-1", "1e3",
    "0x10", " 5", "5 ", "5.0", "NaN", "#ERROR!", "null", "NULL", "TRUE", "true", "rec",
    "&", ",", ")", "(", "a\x00b", "' OR 1=1 --", "'), TRUE()", "\" & \"", "Done", "done", "DONE",
    "To do", "Germany", "z" * 300,
]
NASTY_NUMBERS = [
    0, 0.0, -0.0, 1, -1, 1.0, -1.0, 0.5, -0.5, 1e-9, -1e-9, 0.001, -0.001, 0.1 + 0.2,
    2, 3, 5, 5.0, 20, 100, -50, -50.0, 2 ** 31 - 1, 2 ** 31, 2 ** 53, 2 ** 53 + 1,
    2 ** 63 - 1, -2 ** 63, 1e15, 1e300, -1e300, 3000002494, 35640, 8.1, 244.52,
]
DATES = [
    "2024", "2024-01", "2024-01-05", "2024-01-05T00:00:00.000Z", "2024-01-10T18:00:00.000Z",
    "2024-02-30", "2024-13-01", "2023-12-31", "2025-01-01", "2024-06-15 12:00", "9999-12-31",
    "0000-00-00", "2024-01-09T09:00:00Z",
]
BLOBS = [b"", b"A", b"Done", b"\x00\xff", "Café".encode()]


def ident(name):
    return '"' + name.replace('"', '""') + '"'


def lit(v):
    """An SQL literal of a Python value (the value itself, with its type)."""
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        v = int(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, bytes):
        return "x'%s'" % v.hex()
    return "'" + v.replace("'", "''") + "'"


class Table:
    """A base table's columns [(name, decltype, kind)] and values, from the data."""

    def __init__(self, name, cols, rows):
        self.name = name
        self.cols = cols
        self.ids = sorted(r[0] for r in rows)
        self.values = {}
        for i, (c, _, _) in enumerate(cols):
            vals = {(type(r[i]).__name__, r[i]) for r in rows if r[i] is not None}
            self.values[c] = [v for _, v in sorted(vals, key=lambda tv: (tv[0], repr(tv[1])))]
        self.typed = {c: {(type(v).__name__, v) for v in vals} for c, vals in self.values.items()}
        self.kind = {c: k for c, _, k in cols}
        self.decl = {c: d for c, d, _ in cols}


def load_pools(conn, base=SAMPLE):
    """The three base tables' columns and values, read through conn's
    tables tasks, products and vendors (declared with pushdown='off')."""
    pools = {}
    for t, at in BASE_TABLES.items():
        cols = [("id", "TEXT", "text"), ("created_time", "TEXT", "datetime")] + [
            tuple(r) for r in conn.execute(
                "SELECT column_name, column_type, kind FROM airtable_fields(?, ?) ORDER BY position",
                (base, at))]
        rows = conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
        assert rows and len(rows[0]) == len(cols), (t, len(cols))
        pools[t] = Table(t, cols, rows)
    return pools


class Query:
    __slots__ = ("kind", "sql", "params", "flags")

    def __init__(self, kind, sql, params=(), flags=()):
        self.kind = kind
        self.sql = sql
        self.params = tuple(params)
        self.flags = frozenset(flags)

    def __repr__(self):
        return "Query(%r, %r, %r)" % (self.kind, self.sql, self.params)


class Builder:
    """One query's SQL text and parameters, built left to right."""

    def __init__(self, rng):
        self.rng = rng
        self.params = []
        self.simple = False     # the last atom or predicate is plainly pushable
        self.exact = False      # ... and a number compared by =: the server's answer is exact

    def val(self, v, param=None):
        """v as a literal or a bound parameter (NUL bytes only as parameters)."""
        if param is None:
            param = self.rng.random() < 0.4
        if isinstance(v, str) and "\x00" in v:
            param = True
        if param:
            self.params.append(v)
            return "?"
        return lit(v)


# --- values -----------------------------------------------------------------

def near(rng, v):
    """A value beside v: the other numeric type, a neighbour, the text form."""
    if isinstance(v, int):
        return rng.choice([float(v), v + 1, v - 1, -v, str(v), v + 0.5, v - 0.001])
    if isinstance(v, float):
        return rng.choice([int(v) if abs(v) < 2 ** 62 else v, v + 0.001, v - 0.001, -v,
                           round(v, 1), repr(v), str(round(v, 2))])
    return v


def text_variant(rng, s):
    """A text beside s: another case, a prefix, a part, with white space."""
    if not s:
        return s
    i = rng.randrange(len(s))
    return rng.choice([s.upper(), s.lower(), s.swapcase(), s[:i], s[i:], s + " ", " " + s,
                       s[:-1], s + "\n", s[:i] + "'" + s[i:]])


def value_for(rng, pool, col):
    """A value to compare column col with (any type, NULL included)."""
    kind = pool.kind[col]
    data = pool.values[col]
    r = rng.random()
    if data and r < 0.5:
        v = rng.choice(data)
        if kind == "json" and rng.random() < 0.35:
            try:
                j = json.loads(v)
            except ValueError:
                return v
            if isinstance(j, list) and j:
                e = rng.choice(j)
                return e if isinstance(e, str) else json.dumps(e, separators=(",", ":"))
            if isinstance(j, dict) and j:
                e = rng.choice(list(j.values()))
                return e if isinstance(e, (str, int, float)) else v
        return v
    if data and r < 0.65:
        v = rng.choice(data)
        return near(rng, v) if isinstance(v, (int, float)) else text_variant(rng, v)
    if r < 0.70:
        return None
    if kind in ("integer", "real", "boolean"):
        if r < 0.88:
            return rng.choice(NASTY_NUMBERS)
        if r < 0.99:
            return rng.choice(["5", "5.0", " 5", "5a", "", "-0", "1e2", "0.0", "abc", "3", "-1"])
        return rng.choice(BLOBS)
    if kind in ("date", "datetime") and r < 0.85:
        return rng.choice(DATES)
    if r < 0.93:
        return rng.choice(NASTY_TEXT)
    if r < 0.985:
        return rng.choice(NASTY_NUMBERS)
    return rng.choice(BLOBS)


def like_pattern(rng, pool, col, glob):
    data = [v for v in pool.values[col] if isinstance(v, str)] or [str(v) for v in pool.values[col]]
    r = rng.random()
    if not data or r < 0.15:
        return rng.choice(["%", "_", "", "%%", "%'%", "%\\%", "%{%", "%\n%", "%📦%", "%é%",
                           "%É%", "_%_", "%a%", "%A%", "*", "?*", "[a-m]*", "*[0-9]", "[^a]*",
                           "*'*", "*\\*", "*{*"])
    s = rng.choice(data)
    if len(s) > 60:
        s = s[:60]
    i = rng.randrange(len(s) + 1)
    j = rng.randrange(i, len(s) + 1)
    part = s[i:j]
    if rng.random() < 0.3:
        part = rng.choice([part.upper(), part.lower(), part.swapcase()])
    if glob:
        many, one = "*", "?"
    else:
        many, one = "%", "_"
    if part and rng.random() < 0.3:
        k = rng.randrange(len(part))
        part = part[:k] + one + part[k + 1:]
    form = rng.randrange(5)
    if form == 0:
        return part + many
    if form == 1:
        return many + part
    if form == 2:
        return many + part + many
    if form == 3:
        return s if rng.random() < 0.5 else s.upper()
    return part + many + rng.choice([part, ""]) + rng.choice([many, one, ""])


# --- predicates -------------------------------------------------------------

CMP = ["=", "==", "!=", "<>", "<", "<=", ">", ">="]


def atom(rng, b, pool, alias="", col=None):
    """One comparison on a column of pool (as ALIAS."col")."""
    if col is None:
        col = rng.choice([c for c, _, _ in pool.cols])
    ref = (alias + "." if alias else "") + ident(col)
    kind = pool.kind[col]
    text = kind not in ("integer", "real", "boolean")
    collate = ""
    if rng.random() < 0.12:
        collate = rng.choice([" COLLATE NOCASE", " COLLATE NOCASE", " COLLATE RTRIM", " COLLATE BINARY"])
    weights = {
        "cmp": 40, "null": 8, "in": 12, "between": 9, "like": 12 if text else 4,
        "glob": 6 if text else 2, "is": 4, "truth": 3 if not text else 1, "expr": 3, "reversed": 5,
    }
    op = rng.choices(list(weights), list(weights.values()))[0]
    b.simple = b.exact = False
    if op == "cmp":
        o = rng.choice(CMP)
        v = value_for(rng, pool, col)
        # plainly pushable: a field compared with one of its own values, text
        # by equality, numbers by any comparison, no collation
        b.simple = (not collate and col not in ("id", "created_time")
                    and (type(v).__name__, v) in pool.typed[col]
                    and (o in ("=", "==") and kind in ("text", "date")
                         or o in ("=", "==", "<", "<=", ">", ">=") and kind in ("integer", "real")))
        b.exact = b.simple and o in ("=", "==") and kind in ("integer", "real")
        return f"{ref}{collate} {o} {b.val(v)}"
    if op == "reversed":
        o = rng.choice(CMP)
        return f"{b.val(value_for(rng, pool, col))} {o} {ref}{collate}"
    if op == "null":
        return f"{ref} IS {rng.choice(['', 'NOT '])}NULL"
    if op == "is":
        return f"{ref} IS {rng.choice(['', 'NOT '])}{b.val(value_for(rng, pool, col))}"
    if op == "in":
        k = rng.choice([0, 1, 1, 2, 3, 4, 6])
        vals = [b.val(value_for(rng, pool, col)) for _ in range(k)]
        neg = "NOT " if rng.random() < 0.25 else ""
        return f"{ref}{collate} {neg}IN ({', '.join(vals)})"
    if op == "between":
        data = pool.values[col]
        if data and rng.random() < 0.7:
            x, y = rng.choice(data), rng.choice(data)
            try:
                if rng.random() < 0.85 and y < x:
                    x, y = y, x
            except TypeError:
                pass
        else:
            x, y = value_for(rng, pool, col), value_for(rng, pool, col)
        neg = "NOT " if rng.random() < 0.2 else ""
        return f"{ref}{collate} {neg}BETWEEN {b.val(x)} AND {b.val(y)}"
    if op == "like":
        neg = "NOT " if rng.random() < 0.2 else ""
        if rng.random() < 0.08:
            return f"{ref} {neg}LIKE {b.val(rng.choice(['%!%%', '%!_%', 'a!%%']))} ESCAPE '!'"
        return f"{ref} {neg}LIKE {b.val(like_pattern(rng, pool, col, False))}"
    if op == "glob":
        neg = "NOT " if rng.random() < 0.2 else ""
        return f"{ref} {neg}GLOB {b.val(like_pattern(rng, pool, col, True))}"
    if op == "truth":
        return rng.choice([ref, "NOT " + ref, f"{ref} = TRUE", f"{ref} IS FALSE", f"{ref} IS NOT TRUE"])
    # expressions SQLite cannot hand to the table (the filter stays in SQLite)
    other = rng.choice([c for c, _, _ in pool.cols])
    oref = (alias + "." if alias else "") + ident(other)
    return rng.choice([
        lambda: f"length({ref}) > {b.val(rng.choice([0, 5, 20, 100]))}",
        lambda: f"lower({ref}) = lower({b.val(value_for(rng, pool, col))})",
        lambda: f"{ref} + 0 > {b.val(rng.choice([0, 1, -1, 2.5]))}",
        lambda: f"typeof({ref}) = {b.val(rng.choice(['text', 'real', 'integer', 'null']))}",
        lambda: f"{ref} = {oref}",
        lambda: f"{ref} < {oref}",
        lambda: f"coalesce({ref}, {b.val(value_for(rng, pool, col))}) IS NOT NULL",
        lambda: f"instr({ref}, {b.val(rng.choice(['a', 'e', '1', ' ', '']))}) > 0",
    ])()


def predicate(rng, b, pool, alias="", atoms=None):
    """1-3 atoms, joined by AND / OR, sometimes negated or grouped."""
    n = atoms if atoms is not None else rng.choice([1, 1, 1, 2, 2, 3])
    parts = [atom(rng, b, pool, alias) for _ in range(n)]
    out = parts[0]
    for p in parts[1:]:
        conj = "AND" if rng.random() < 0.7 else "OR"
        if rng.random() < 0.3:
            out = f"({out}) {conj} {p}"
        else:
            out = f"{out} {conj} {p}"
    simple, exact = n == 1 and b.simple, n == 1 and b.exact
    if rng.random() < 0.08:
        out = f"NOT ({out})"
        simple = exact = False
    b.simple, b.exact = simple, exact
    return out


# --- select lists, ORDER BY, LIMIT -------------------------------------------

def columns(rng, pool, alias="", k=None):
    names = [c for c, _, _ in pool.cols]
    if k is None:
        k = rng.choice([1, 1, 2, 2, 3, 4, 6])
    pick = rng.sample(names, min(k, len(names)))
    pre = alias + "." if alias else ""
    out = []
    for c in pick:
        r = rng.random()
        ref = pre + ident(c)
        if r < 0.08:
            out.append(f"typeof({ref})")
        elif r < 0.12:
            out.append(f"{ref} IS NULL")
        elif r < 0.15:
            out.append(f"length({ref})")
        else:
            out.append(ref)
    return out


def order_by(rng, pool, alias="", unique=True, terms=None):
    """ORDER BY of 0-3 random terms, then (if unique) a unique key: total."""
    names = [c for c, _, _ in pool.cols]
    pre = alias + "." if alias else ""
    n = terms if terms is not None else rng.choice([0, 1, 1, 2, 2, 3])
    out = []
    for c in rng.sample(names, n):
        t = pre + ident(c)
        if pool.kind[c] in ("text", "json", "date", "datetime") and rng.random() < 0.15:
            t += " COLLATE NOCASE"
        elif rng.random() < 0.04:
            t = f"length({t})"
        t += rng.choice(["", " ASC", " DESC", " DESC"])
        if rng.random() < 0.08:
            t += rng.choice([" NULLS FIRST", " NULLS LAST"])
        out.append(t)
    if unique:
        key = rng.choice(UNIQUE[pool.name])
        out.append(pre + ident(key) + rng.choice(["", " DESC"]))
    return out


def limit(rng, b):
    """(the LIMIT/OFFSET clause, LIMIT+OFFSET or None when unlimited)."""
    r = rng.random()
    if r < 0.55:
        return "", None
    if r > 0.97:
        return f" LIMIT -1 OFFSET {rng.choice([1, 3, 40])}", None
    n = rng.choice([0, 1, 1, 2, 3, 5, 5, 10, 25, 99, 100, 101, 250])
    s = f" LIMIT {b.val(n, rng.random() < 0.25)}"
    total = n
    if rng.random() < 0.35:
        off = rng.choice([0, 1, 2, 5, 50, 99, 100, 101])
        s += f" OFFSET {b.val(off, rng.random() < 0.25)}"
        total += off
    return s, total


# --- query kinds --------------------------------------------------------------

def q_scan(rng, pools, table):
    """SELECT cols FROM table [WHERE pred] [ORDER BY ..., key] [LIMIT/OFFSET]."""
    pool = pools[DECLARED[table][2]]
    b = Builder(rng)
    flags = {"single", table}
    if DECLARED[table][1]:
        flags.add("view")
    cols = ["*"] if rng.random() < 0.12 else columns(rng, pool)
    if cols != ["*"] and rng.random() < 0.5:
        cols = ["id"] + cols
    if cols != ["*"]:
        flags.add("cols")
    sql = f"SELECT {', '.join(cols)} FROM {table}"
    if rng.random() < 0.88:
        sql += " WHERE " + predicate(rng, b, pool)
        flags.add("where")
        if b.simple:
            flags.add("where_simple")
        if b.exact:
            flags.add("where_exact")
    r = rng.random()
    if pool.name == "tasks" and r < 0.2:
        # ORDER BY "Task Number" alone: a number never blank, Airtable's sort
        sql += ' ORDER BY "Task Number"' + rng.choice(["", " ASC", " DESC"])
        flags.add("order_key")
    elif r < 0.7:
        sql += " ORDER BY " + ", ".join(order_by(rng, pool))
        flags.add("order")
    lim, total = limit(rng, b)
    if lim:
        flags.add("limit")
        # The rows to keep are the server's first ones, fewer than a page:
        # the first page is sized to them (pageSize).
        if ("order" not in flags and total is not None and 0 < total < 100
                and ("where" not in flags or "where_exact" in flags)):
            flags.add("limit_ok")
    return Query("scan", sql + lim, b.params, flags)


def q_plain(rng, pools, table):
    """The common cases: one field compared with one of its own values (text
    by =, numbers by any comparison), or no WHERE at all; perhaps a LIMIT,
    perhaps ORDER BY "Task Number": what pushdown must always send."""
    pool = pools[DECLARED[table][2]]
    b = Builder(rng)
    flags = {"single", "cols", table}
    sql = f"SELECT id, {', '.join(columns(rng, pool))} FROM {table}"
    if rng.random() < 0.75:
        cols = [c for c, _, k in pool.cols if k in ("text", "date", "integer", "real")
                and c not in ("id", "created_time") and pool.values[c]]
        col = rng.choice(cols)
        v = rng.choice(pool.values[col])
        numeric = pool.kind[col] in ("integer", "real")
        op = rng.choice(["=", "=", "<", "<=", ">", ">="]) if numeric else "="
        sql += f" WHERE {ident(col)} {op} {b.val(v)}"
        flags |= {"where", "where_simple"}
        if op == "=" and numeric:
            flags.add("where_exact")     # a number's = is exact on the server too
    if pool.name == "tasks" and rng.random() < 0.7:
        sql += ' ORDER BY "Task Number"' + rng.choice(["", " DESC"])
        flags.add("order_key")
    if "where" not in flags or rng.random() < 0.5:
        n = rng.choice([1, 2, 5, 10, 100, 101])
        sql += f" LIMIT {b.val(n, rng.random() < 0.3)}"
        flags.add("limit")
        if n < 100 and ("where" not in flags or "where_exact" in flags):
            flags.add("limit_ok")     # fewer than a page: pageSize
    return Query("plain", sql, b.params, flags)


def q_agg(rng, pools, table):
    pool = pools[DECLARED[table][2]]
    b = Builder(rng)
    names = [c for c, _, _ in pool.cols]
    where = " WHERE " + predicate(rng, b, pool) if rng.random() < 0.8 else ""
    r = rng.random()
    c = ident(rng.choice(names))
    if r < 0.35:
        sql = f"SELECT count(*) FROM {table}{where}"
    elif r < 0.55:
        sql = f"SELECT count({c}), min({c}), max({c}), count(DISTINCT {c}) FROM {table}{where}"
    elif r < 0.65:
        ints = [n for n in names if pool.kind[n] in ("integer", "boolean")] or names
        i = ident(rng.choice(ints))
        sql = f"SELECT sum({i}), total({i}) > 0, count(*) FROM {table}{where}"
    else:
        # few distinct values make groups; the groups' keys are unique, so
        # ORDER BY the key is total.
        g = ident(rng.choice(names))
        sql = (f"SELECT {g}, count(*), min(id), max({c}) FROM {table}{where} "
               f"GROUP BY {g} ORDER BY {g}{rng.choice(['', ' DESC'])}")
        if rng.random() < 0.3:
            sql += f" LIMIT {rng.choice([1, 3, 10])}"
    return Query("agg", sql, b.params, {"agg", table})


def q_id(rng, pools, table):
    """Lookups by record id: =, IN (literal, parameters, json_each), ranges."""
    pool = pools[DECLARED[table][2]]
    b = Builder(rng)
    ids = pool.ids
    cols = ["*"] if rng.random() < 0.3 else ["id"] + columns(rng, pool)
    flags = {"single", table} | ({"cols"} if cols != ["*"] else set())
    r = rng.random()
    missing = "recNOTTHERE0000000"
    if r < 0.45:
        v = rng.choice(ids + [missing, ids[0].lower(), ids[0] + " ", "", None]) if rng.random() < 0.2 \
            else rng.choice(ids)
        o = rng.choice(['=', '=', '==', 'IS'])
        if rng.random() < 0.2:
            o, where = "=", f"{b.val(v)} = id"
        else:
            where = f"id {o} {b.val(v)}"
        if o != "IS" and v in ids:
            flags.add("id_eq")
        if rng.random() < 0.3:
            where += " AND " + atom(rng, b, pool)
    elif r < 0.65:
        k = rng.choice([1, 2, 3, 5, 10, 40, 100])
        pick = rng.sample(ids, min(k, len(ids)))
        if rng.random() < 0.2:
            pick += [missing, pick[0]]
        where = f"id IN ({', '.join(b.val(v) for v in pick)})"
        flags.add("id_in")
    elif r < 0.8:
        pick = rng.sample(ids, min(rng.choice([1, 3, 8, 30]), len(ids)))
        b.params.append(json.dumps(pick))
        where = "id IN (SELECT value FROM json_each(?))"
        flags.add("id_in")
    else:
        v = rng.choice(ids)
        o = rng.choice(["<", "<=", ">", ">=", "BETWEEN"])
        if o == "BETWEEN":
            w = rng.choice(ids)
            where = f"id BETWEEN {b.val(min(v, w))} AND {b.val(max(v, w))}"
        else:
            where = f"id {o} {b.val(v)}"
        if rng.random() < 0.3:
            where += f" AND id {rng.choice(['<', '>'])} {b.val(rng.choice(ids))}"
    sql = f"SELECT {', '.join(cols)} FROM {table} WHERE {where}"
    # IN lists: the order is the server's unless the list is long (the table
    # may then split it into several requests): long lists take an ORDER BY.
    if rng.random() < 0.5 or len(b.params) > 100 or where.count(",") >= 99:
        sql += " ORDER BY " + ", ".join(order_by(rng, pool, terms=rng.choice([0, 0, 1])))
    sql += limit(rng, b)[0]
    return Query("id", sql, b.params, flags | {"where"})


def restrict(rng, b, pool, alias):
    """A predicate that keeps a few rows of pool (the outer table of a join:
    with pushdown off the inner table is scanned once per outer row)."""
    ref = alias + "." if alias else ""
    ids = pool.ids
    r = rng.random()
    if r < 0.35:
        pick = rng.sample(ids, rng.choice([1, 2, 3, 5]))
        return f"{ref}id IN ({', '.join(b.val(v) for v in pick)})"
    if r < 0.55:
        i = rng.randrange(len(ids))
        j = min(len(ids) - 1, i + rng.choice([0, 2, 5, 9]))
        return f"{ref}id BETWEEN {b.val(ids[i])} AND {b.val(ids[j])}"
    if r < 0.75:
        name = rng.choice(pool.values["Name"])
        pre = name.split(" ")[0][: rng.choice([1, 3, 20])]
        return f"{ref}\"Name\" LIKE {b.val(pre + '%')}"
    # the first rows of a narrow numeric range
    col = rng.choice([c for c, _, k in pool.cols if k in ("integer", "real")])
    vals = sorted(v for v in pool.values[col] if isinstance(v, (int, float)))
    i = rng.randrange(len(vals))
    hi = vals[min(len(vals) - 1, i + rng.choice([0, 3, 8]))]
    return f"{ref}{ident(col)} BETWEEN {b.val(vals[i])} AND {b.val(hi)}"


def q_join(rng, pools):
    """Products and vendors through their link fields. The outer table keeps
    a few rows (restrict), or is forced outer with CROSS JOIN."""
    b = Builder(rng)
    p, v = pools["products"], pools["vendors"]
    ptab = rng.choice(["products", "products", "products_active"])
    shape = rng.random()
    flags = {"join"}
    join = rng.choice([", ", " CROSS JOIN "])
    if shape < 0.35:
        sql = (f"SELECT p.id, v.id, {', '.join(columns(rng, p, 'p', 2) + columns(rng, v, 'v', 2))} "
               f"FROM {ptab} p{join}json_each(p.\"Vendor\") j{join}vendors v "
               f"WHERE v.id = j.value AND {restrict(rng, b, p, 'p')}")
        if rng.random() < 0.5:
            sql += " AND " + predicate(rng, b, p, "p", 1)
        if rng.random() < 0.6:
            sql += " AND " + predicate(rng, b, v, "v", 1)
        order = ", ".join(order_by(rng, p, "p", terms=rng.choice([0, 1]))) + ", j.key, v.id"
    elif shape < 0.6:
        sql = (f"SELECT v.id, p.id, {', '.join(columns(rng, v, 'v', 2) + columns(rng, p, 'p', 2))} "
               f"FROM vendors v{join}json_each(v.\"Products\") j{join}{ptab} p "
               f"WHERE p.id = j.value AND {restrict(rng, b, v, 'v')}")
        if rng.random() < 0.6:
            sql += " AND " + predicate(rng, b, p, "p", 1)
        if rng.random() < 0.5:
            sql += " AND " + predicate(rng, b, v, "v", 1)
        order = ", ".join(order_by(rng, v, "v", terms=rng.choice([0, 1]))) + ", j.key, p.id"
    elif shape < 0.72:
        sql = (f"SELECT p.id, p.\"Name\", v.\"Name\", v.\"Country\" FROM {ptab} p "
               f"LEFT JOIN vendors v ON v.id = json_extract(p.\"Vendor\", '$[0]') "
               f"WHERE {restrict(rng, b, p, 'p')}")
        if rng.random() < 0.5:
            sql += " AND " + predicate(rng, b, v, "v", 1)
        order = "p.id, v.id"
    elif shape < 0.85:
        # vendors (15 rows) outer, products inner once per vendor
        sql = (f"SELECT v.\"Name\", count(*), count(DISTINCT p.id), max(p.\"Unit Price\") "
               f"FROM vendors v CROSS JOIN {ptab} p CROSS JOIN json_each(p.\"Vendor\") j "
               f"WHERE j.value = v.id")
        if rng.random() < 0.7:
            sql += " AND " + predicate(rng, b, p, "p", 1)
        sql += " GROUP BY v.id"
        order = "v.id"
    else:
        # a self join: products sharing a vendor list (pushdown: b.id > ?)
        sql = (f"SELECT a.id, b.id FROM products a CROSS JOIN products b "
               f"WHERE a.\"Vendor\" = b.\"Vendor\" AND a.id < b.id AND {restrict(rng, b, p, 'a')}")
        order = "a.id, b.id"
    sql += " ORDER BY " + order
    sql += limit(rng, b)[0]
    return Query("join", sql, b.params, flags)


def q_tasks_join(rng, pools):
    """A few tasks (by "Task Number": scanned once, the outer table of a CROSS
    JOIN) with their products or vendors (the inner table, once per task)."""
    b = Builder(rng)
    t = pools["tasks"]
    lo = rng.randrange(1, 2490)
    hi = lo + rng.choice([0, 3, 8, 15])
    link, other = rng.choice([("Product", "products"), ("Vendor", "vendors")])
    o = pools[other]
    sql = (f"SELECT t.\"Task Number\", t.\"Task\", x.id, {', '.join(columns(rng, o, 'x', 2))} "
           f"FROM tasks t CROSS JOIN json_each(t.\"{link}\") j CROSS JOIN {other} x "
           f"WHERE x.id = j.value AND t.\"Task Number\" BETWEEN {b.val(lo)} AND {b.val(hi)}")
    if rng.random() < 0.5:
        sql += " AND " + predicate(rng, b, t, "t", 1)
    if rng.random() < 0.4:
        sql += " AND " + predicate(rng, b, o, "x", 1)
    sql += " ORDER BY t.\"Task Number\", j.key, x.id"
    return Query("tasks_join", sql, b.params, {"join", "tasks"})


def q_in_subquery(rng, pools):
    """id IN (SELECT value FROM json_each(...)): one table's links select the
    records of another (tasks too: the subquery runs once)."""
    b = Builder(rng)
    r = rng.random()
    if r < 0.15:
        # the tasks of one product (about 40)
        target, src, link = "tasks", "products", "Packaging Tasks"
    elif r < 0.7:
        target, src, link = "vendors", "products", "Vendor"
    else:
        target, src, link = "products", "vendors", "Products"
    tp, sp = pools[target], pools[src]
    cols = ["id"] + columns(rng, tp)
    if src == "products" and target == "tasks":
        inner = (f"SELECT j.value FROM products s, json_each(s.{ident(link)}) j "
                 f"WHERE s.id = {b.val(rng.choice(sp.ids))}")
    else:
        inner = f"SELECT j.value FROM {src} s, json_each(s.{ident(link)}) j WHERE " + \
            predicate(rng, b, sp, "s", 1)
    sql = f"SELECT {', '.join(cols)} FROM {target} WHERE id IN ({inner})"
    if rng.random() < 0.4:
        sql += " AND " + predicate(rng, b, tp, "", 1)
    if target != "tasks" or rng.random() < 0.5:
        sql += " ORDER BY " + ", ".join(order_by(rng, tp, terms=rng.choice([0, 1])))
    # else: no ORDER BY, the ids of one product are far fewer than 100
    return Query("in_subquery", sql, b.params, {"where", target})


def q_correlated(rng, pools):
    """Correlated subqueries: the inner table filtered once per outer row."""
    b = Builder(rng)
    p, v = pools["products"], pools["vendors"]
    r = rng.random()
    if r < 0.4:
        sql = (f"SELECT v.id, v.\"Name\" FROM vendors v WHERE {restrict(rng, b, v, 'v')} AND "
               f"EXISTS (SELECT 1 FROM products p WHERE p.id IN (SELECT value FROM "
               f"json_each(v.\"Products\")) AND {predicate(rng, b, p, 'p', 1)}) ORDER BY v.id")
    elif r < 0.7:
        sql = (f"SELECT p.id, (SELECT v.\"Name\" FROM vendors v WHERE v.id = "
               f"json_extract(p.\"Vendor\", '$[0]')) AS vn FROM products p "
               f"WHERE {restrict(rng, b, p, 'p')} ORDER BY p.id")
    else:
        sql = (f"SELECT v.id, (SELECT count(*) FROM products p WHERE p.\"Vendor\" LIKE "
               f"'%' || v.id || '%') FROM vendors v WHERE {restrict(rng, b, v, 'v')} "
               f"ORDER BY v.id")
    return Query("correlated", sql, b.params, {"join"})


def q_error(rng, pools):
    """Statements that fail while running: both sides must fail alike (or
    not at all, when the filter leaves no row to fail on)."""
    b = Builder(rng)
    table = rng.choice(["products", "vendors", "tasks_prio"])
    pool = pools[DECLARED[table][2]]
    text_cols = [c for c, _, k in pool.cols if k == "text"]
    c = ident(rng.choice(text_cols))
    where = predicate(rng, b, pool, "", 1)
    sql = rng.choice([
        f"SELECT json({c}) FROM {table} WHERE {where}",
        f"SELECT id FROM {table} WHERE {where} LIMIT 'x'",
        f"SELECT id FROM {table} WHERE {where} AND json_extract({c}, '$[') IS NULL",
        f"SELECT id, abs(-9223372036854775807 - length({c}) - 1) FROM {table} WHERE {where}",
    ])
    return Query("error", sql, b.params, {table})


# Kinds and weights: of 500 queries about 40 read a tasks table (each a
# 25-request scan with pushdown off).
KINDS = [
    (3, q_plain, ("products",)), (1.5, q_plain, ("vendors",)), (0.8, q_plain, ("tasks",)),
    (0.3, q_plain, ("tasks_open",)), (0.5, q_plain, ("products_active",)),
    (20, q_scan, ("products",)), (10, q_scan, ("vendors",)), (2.2, q_scan, ("tasks",)),
    (5, q_scan, ("products_active",)), (0.5, q_scan, ("tasks_open",)),
    (0.5, q_scan, ("tasks_prio",)),
    (4, q_agg, ("products",)), (3, q_agg, ("vendors",)), (0.4, q_agg, ("tasks",)),
    (1, q_agg, ("products_active",)),
    (4, q_id, ("products",)), (3, q_id, ("vendors",)), (0.6, q_id, ("tasks",)),
    (12, q_join, ()), (0.6, q_tasks_join, ()), (4, q_in_subquery, ()), (3, q_correlated, ()),
    (1, q_error, ()),
]


def generate(pools, seed, n):
    """n queries, the same for the same seed and pools."""
    rng = random.Random(seed)
    out = []
    weights = [w for w, _, _ in KINDS]
    for _ in range(n):
        _, fn, args = rng.choices(KINDS, weights)[0]
        out.append(fn(rng, pools, *args))
    return out


def fixed_queries(pools, cache_corpus):
    """The issue's queries and the cache tests' corpus (on Products)."""
    tasks_ids = pools["tasks"].ids
    rng = random.Random(10)
    ids150 = rng.sample(tasks_ids, 150)
    rid = pools["products"].ids[17]
    q = [
        Query("fixed", 'SELECT "Task" FROM tasks WHERE "Status" = \'Done\' LIMIT 5',
              flags={"single", "where", "where_simple", "limit", "cols", "tasks"}),
        Query("fixed", 'SELECT count(*) FROM tasks WHERE "Status" = \'Done\'',
              flags={"agg", "where", "tasks"}),
        Query("fixed", 'SELECT "Task Number", "Task" FROM tasks WHERE "Priority" = 5 '
              'ORDER BY "Task Number" DESC LIMIT 10',
              flags={"single", "where", "where_simple", "order_key", "limit", "limit_ok", "cols",
                     "tasks"}),
        Query("fixed", "SELECT * FROM tasks WHERE id = ?", (tasks_ids[1234],),
              flags={"single", "where", "id_eq", "tasks"}),
        Query("fixed", f"SELECT id, \"Task\" FROM tasks WHERE id = '{tasks_ids[7]}'",
              flags={"single", "where", "id_eq", "cols", "tasks"}),
        Query("fixed", "SELECT id, \"Task Number\" FROM tasks WHERE id IN (%s) ORDER BY id"
              % ", ".join(lit(i) for i in ids150), flags={"single", "where", "id_in", "tasks"}),
        Query("fixed", "SELECT id, \"Status\" FROM tasks WHERE id IN (%s) ORDER BY \"Task Number\""
              % ", ".join("?" * 150), ids150, flags={"single", "where", "id_in", "tasks"}),
        Query("fixed", "SELECT count(*), min(\"Task Number\") FROM tasks WHERE id IN (%s)"
              % ", ".join(lit(i) for i in ids150[:120]), flags={"where", "id_in", "tasks"}),
    ]
    # test_cache.py's corpus, on Products
    for sql in cache_corpus:
        q.append(Query("cache_corpus", sql.format(t="products", rid=rid), flags={"products"}))
    return q
