"""Generated bench tables for the test server (issue 11, benchmarks).

    python3 -m airtable_server --bench-records 10000,100000,1000000 [--bench-full-max N]

adds the base appBenchData00001 ("Bench Data") with one table per size,
"Bench <size>", each with the same 30 fields of mixed types (FIELDS below).
Everything is a function of the size and a fixed seed (no wall clock, no
hash randomisation), so two servers serve the same bytes, and a table does
not depend on which other sizes were asked for (its links point into the
table itself).

Plain listings come from pages rendered once at startup: GET (or POST
listRecords) with no filterByFormula, sort, view, fields[], maxRecords,
recordMetadata or timeZone/userLocale, pageSize 100 or absent, cellFormat
json, returnFieldsByFieldId true or false, and no omit_zero reading in force.
Each page is kept as its JSON bytes and as those bytes gzipped (exactly as the
server would gzip them), so such a request costs the server its HTTP
handling only.  The pages' offsets are opaque strings like the server's
others ("itr" + 14 + "/" + the next record's id), but fixed: a function of
the table, the page and the key form, so following them walks the pages in
order, they can be re-fetched any number of times, and two servers give the
same ones (test server's choice: Airtable's iterators expire; these do not,
and /_test/offsets/expire leaves them alone).  An offset bound to names is
not valid for a listing by field id, nor the other way round, as the
server's own offsets are bound to their query.  Any other offset is 422
LIST_RECORDS_ITERATOR_NOT_AVAILABLE (or, on a full table, whatever the
normal path says of it).

Tables of at most --bench-full-max records (default 100,000) are also
ordinary server Tables: every other query (filterByFormula, fields[], sort,
view, pageSize, maxRecords, cellFormat string, record edits through the
control API) takes the normal path, and their pre-rendered pages are the
normal renderer's records (the pages serve only while the table is unedited;
/_test/reset restores it).  Larger tables keep no records at all, only the
rendered pages: they answer a plain listing and GET of one record (its
record is generated again from its id), and refuse anything else with 422
INVALID_REQUEST_UNKNOWN saying so, never ignoring a parameter.

Sizes and costs, measured on a 2-core machine: a page of 100 records is
about 90 KB by name, 117 KB by field id (21 and 22 KB gzipped).  From 500
pages on, pages are generated and gzipped in worker processes (one per CPU,
forked before anything large is built).  10,000 records: 2.5 s to start,
140 MB; 100,000: 12 s, 860 MB; 1,000,000 (pages only): 52 s (99 s of CPU),
2.5 GB.  Serving a pre-rendered page costs the server about 0.3 ms of CPU.

Nothing here calls back into the server: BenchBase builds a Base of Tables
(tables.py) that the server's State registers beside the fixtures' bases
(State's "extra"), each table with a Bench hook (Table.bench) that the
records endpoints (records.py) ask first.
"""

import gzip
import hashlib
import json
import json.encoder
import multiprocessing
import os
import random
import re
import string

from .errors import ERR_ITERATOR, ERR_NOT_FOUND, ApiError, invalid_edit, invalid_request
from .render import render_records
from .response import Response, dumps
from .tables import Base, Snapshot, Table

BASE_ID = "appBenchData00001"
BASE_NAME = "Bench Data"
SEED = 11                   # issue 11
PAGE = 100                  # records a page (the largest pageSize); also the generation block
FULL_MAX = 100000           # default --bench-full-max
ALNUM = string.ascii_letters + string.digits
T0 = 1641196800             # 2022-01-03T08:00:00Z: the first record's creation (plus jitter)
STRIDE = 37                 # seconds between two records' creations (before jitter)

# The same encoder as the server's dumps(): compact, UTF-8 (not \u escapes).
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def digest_int(*parts):
    text = "\x1f".join(str(p) for p in (SEED,) + parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")


def ident(prefix, *parts):
    """prefix + 14 letters/digits, a function of parts (Airtable ids' shape)."""
    h = digest_int(prefix, *parts)
    out = []
    for _ in range(14):
        h, d = divmod(h, 62)
        out.append(ALNUM[d])
    return prefix + "".join(out)


def table_name(size):
    return "Bench %d" % size


# --- Record ids --------------------------------------------------------------

PAIRS = [a + b for a in ALNUM for b in ALNUM]   # base 62, two digits at a time
M11 = 62 ** 11


class RecordIds:
    """Record id <-> position: "rec" + a 3-character tag of the table + the
    position scrambled (an affine bijection mod 62**11) in 11 base-62 digits,
    so ids look random, never collide, and GET of one record finds its
    position without a table of ids."""

    def __init__(self, table_id, count):
        h = digest_int("recordids", table_id)
        self.count = count
        self.prefix = "rec" + ident("", "tag", table_id)[:3]
        a = (h % M11) | 1
        while a % 31 == 0:
            a += 2
        self.a = a
        self.b = (h >> 80) % M11
        self.a_inv = pow(a, -1, M11)

    def id(self, i):
        x = (i * self.a + self.b) % M11
        x, d0 = divmod(x, 3844)
        x, d1 = divmod(x, 3844)
        x, d2 = divmod(x, 3844)
        x, d3 = divmod(x, 3844)
        x, d4 = divmod(x, 3844)
        return self.prefix + ALNUM[x] + PAIRS[d4] + PAIRS[d3] + PAIRS[d2] + PAIRS[d1] + PAIRS[d0]

    def index(self, rid):
        """The position of record id rid, or None when it is not one of this table's."""
        if not isinstance(rid, str) or len(rid) != 17 or not rid.startswith(self.prefix):
            return None
        x = 0
        for c in rid[6:]:
            d = ALNUM.find(c)
            if d < 0:
                return None
            x = x * 62 + d
        i = ((x - self.b) * self.a_inv) % M11
        return i if i < self.count and self.id(i) == rid else None


# --- Value pools (built once, from the seed) --------------------------------

WORDS = ("order", "shipment", "pallet", "carton", "label", "invoice", "customer", "warehouse",
         "delivery", "address", "courier", "fragile", "express", "returns", "stock", "supplier",
         "quality", "check", "damaged", "replaced", "confirmed", "pending", "schedule", "weekend",
         "morning", "dock", "forklift", "inventory", "backorder", "priority", "crème", "café",
         "façade", "naïve", "déjà", "Zürich", "São", "Kraków", "the", "a", "was", "is", "and",
         "with", "before", "after", "on", "for", "to", "from", "not", "please", "again")
ADJECTIVES = ("Walnut", "Oak", "Steel", "Linen", "Copper", "Matte", "Glass", "Bamboo", "Marble",
              "Velvet", "Cedar", "Ceramic", "Brass", "Wool", "Slate", "Cotton")
NOUNS = ("desk lamp", "bookshelf", "side table", "armchair", "rug", "mirror", "planter",
         "wall clock", "bench", "stool", "cabinet", "vase", "tray", "lantern", "sofa", "headboard")
FIRST = ("Ada", "Grace", "José", "Mei", "Olu", "Priya", "Lars", "Fatima", "Chen", "Zoë", "Ivan",
         "Amara", "Noah", "Sofía", "Kenji", "Leila", "Mateo", "Anika", "Tomás", "Yara")
LAST = ("Lovelace", "Hopper", "Álvarez", "Wong", "Adeyemi", "Sharma", "Nilsson", "Haddad", "Li",
        "Müller", "Petrov", "Okafor", "Smith", "García", "Tanaka", "Rahimi", "Rossi", "Kowalski")
CITIES = (("Berlin", "Germany"), ("München", "Germany"), ("Zürich", "Switzerland"),
          ("Genève", "Switzerland"), ("Paris", "France"), ("Lyon", "France"),
          ("São Paulo", "Brazil"), ("Rio de Janeiro", "Brazil"), ("Kraków", "Poland"),
          ("Warszawa", "Poland"), ("Tokyo", "Japan"), ("Ōsaka", "Japan"), ("İstanbul", "Türkiye"),
          ("Ankara", "Türkiye"), ("New York", "United States"), ("Austin", "United States"),
          ("Toronto", "Canada"), ("Montréal", "Canada"), ("Lagos", "Nigeria"), ("Cairo", "Egypt"))
COUNTRIES = sorted({c for _, c in CITIES})
STATUSES = ("New", "Processing", "Shipped", "Delivered", "Cancelled")
TAGS = ("fragile", "gift", "express", "bulk", "eco", "returning customer", "oversize", "b2b")
DOMAINS = ("example.com", "mail.example.org", "example.net", "corp.example.co.uk")
COLORS = ("blueLight2", "cyanLight2", "tealLight2", "greenLight2", "yellowLight2", "orangeLight2",
          "redLight2", "pinkLight2", "purpleLight2", "grayLight2", "blueBright", "greenBright")
COLLABORATORS = [{"id": ident("usr", f, l), "email": "%s.%s@example.com" % (f.lower(), l.lower()),
                  "name": "%s %s" % (f, l)}
                 for f, l in zip(FIRST[:12], LAST[:12])]

_pools = {}


def notes_pool():
    """2,048 paragraphs of about 300 characters, two to four lines each."""
    pool = _pools.get("notes")
    if pool is None:
        r = random.Random(digest_int("notes"))
        pool = []
        for _ in range(2048):
            lines, size = [], 0
            target = r.randint(260, 340)
            while size < target:
                words = [r.choice(WORDS) for _ in range(r.randint(6, 14))]
                line = " ".join(words)
                line = line[0].upper() + line[1:] + r.choice((".", ".", "!", " — ok.", "?"))
                lines.append(line)
                size += len(line) + 1
            text = ""
            for k, line in enumerate(lines):
                text += ("\n" if k % 2 else " ") + line if k else line
            pool.append(text[:target].rstrip())
        _pools["notes"] = pool
    return pool


# --- Fields ------------------------------------------------------------------

DATE_OPTS = {"dateFormat": {"name": "iso", "format": "YYYY-MM-DD"}}
DATETIME_OPTS = {"dateFormat": {"name": "iso", "format": "YYYY-MM-DD"},
                 "timeFormat": {"name": "24hour", "format": "HH:mm"}, "timeZone": "utc"}

# (name, type, options or None, description or None); options may name other
# fields ("@Name" becomes that field's id) and the table ("@table").
FIELDS = [
    ("Name", "singleLineText", None, "Product and order number"),
    ("SKU", "singleLineText", None, None),
    ("Customer", "singleLineText", None, None),
    ("City", "singleLineText", None, None),
    ("Postal Code", "singleLineText", None, "Text: leading zeros are significant"),
    ("Notes", "multilineText", None, None),
    ("Email", "email", None, None),
    ("Website", "url", None, None),
    ("Phone", "phoneNumber", None, None),
    ("Quantity", "number", {"precision": 0}, None),
    ("Weight (kg)", "number", {"precision": 2}, None),
    ("Price", "currency", {"precision": 2, "symbol": "$"}, None),
    ("Discount", "percent", {"precision": 1}, None),
    ("Lead Time", "duration", {"durationFormat": "h:mm"}, None),
    ("Priority", "rating", {"max": 5, "icon": "star", "color": "yellowBright"}, None),
    ("Paid", "checkbox", {"icon": "check", "color": "greenBright"}, None),
    ("Status", "singleSelect", {"choices": STATUSES}, None),
    ("Tags", "multipleSelects", {"choices": TAGS}, None),
    ("Due", "date", DATE_OPTS, None),
    ("Shipped At", "dateTime", DATETIME_OPTS, None),
    ("Created", "createdTime", {"result": {"type": "dateTime", "options": DATETIME_OPTS}}, None),
    ("Order No", "autoNumber", None, None),
    ("Related", "multipleRecordLinks", {"linkedTableId": "@table", "isReversed": False,
                                        "prefersSingleRecordLink": False}, "Links within the table"),
    ("Related Count", "count", {"isValid": True, "recordLinkFieldId": "@Related"}, None),
    ("Owner", "singleCollaborator", None, None),
    ("Total", "formula", {"isValid": True, "formula": "{@Quantity} * {@Price} * (1 - {@Discount})",
                          "referencedFieldIds": ["@Quantity", "@Price", "@Discount"],
                          "result": {"type": "currency", "options": {"precision": 2, "symbol": "$"}}},
     None),
    ("Label", "formula", {"isValid": True, "formula": "{@SKU} & ' · ' & {@Status}",
                          "referencedFieldIds": ["@SKU", "@Status"], "result": {"type": "singleLineText"}},
     None),
    ("Barcode", "barcode", None, None),
    ("Votes", "number", {"precision": 0}, None),
    ("Country", "singleSelect", {"choices": COUNTRIES}, None),
]
NAMES = [f[0] for f in FIELDS]


def field_meta(table_id):
    """The fields as the metadata API gives them (ids from the table id)."""
    ids = {name: ident("fld", table_id, name) for name in NAMES}

    def resolve(value):
        if isinstance(value, str) and value.startswith("@"):
            return table_id if value == "@table" else ids[value[1:]]
        if isinstance(value, list):
            return [resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    out = []
    for name, ftype, options, description in FIELDS:
        f = {"type": ftype, "id": ids[name], "name": name}
        if description is not None:
            f["description"] = description
        if options is not None:
            if "choices" in options:
                options = {"choices": [{"id": ident("sel", table_id, name, c), "name": c,
                                        "color": COLORS[k % len(COLORS)]}
                                       for k, c in enumerate(options["choices"])]}
            else:
                options = resolve(options)
            if ftype == "formula":
                # As Airtable's metadata gives a formula: fields referenced by id.
                options["formula"] = re.sub(r"\{@([^}]*)\}", lambda m: "{%s}" % ids[m.group(1)],
                                            options["formula"])
            f["options"] = options
        out.append(f)
    return out


# --- Records -----------------------------------------------------------------

_days = {}


def iso_time(t, ms):
    """Seconds since the epoch (UTC) and milliseconds as Airtable writes times."""
    day, sec = divmod(t, 86400)
    text = _days.get(day)
    if text is None:
        text = _days[day] = iso_date(day)
    h, rem = divmod(sec, 3600)
    m, s = divmod(rem, 60)
    return "%sT%02d:%02d:%02d.%03dZ" % (text, h, m, s, ms)


def iso_date(day):
    """Days since 1970-01-01 as "YYYY-MM-DD" (the civil-from-days algorithm)."""
    z = day + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return "%04d-%02d-%02d" % (y + (m <= 2), m, d)


def gen_block(ids, block):
    """The records of positions block*PAGE .. (block+1)*PAGE-1 (fewer at the
    table's end), as {"id", "createdTime", "fields": {name: value}} with
    empty cells left out, in field order.  One generator per block, seeded
    from the table and the block: any block is generated alone."""
    n = ids.count
    r = random.Random(digest_int("block", ids.prefix, n, block))
    rnd = r.random
    notes = notes_pool()
    n_notes = len(notes)
    out = []
    for i in range(block * PAGE, min(n, (block + 1) * PAGE)):
        t = T0 + i * STRIDE + int(rnd() * STRIDE)
        created = iso_time(t, int(rnd() * 1000))
        rid = ids.id(i)
        f = {}
        adj = ADJECTIVES[int(rnd() * 16)]
        noun = NOUNS[int(rnd() * 16)]
        f["Name"] = "%s %s #%06d" % (adj, noun, i + 1)
        sku = "SKU-%05d-%s" % (int(rnd() * 100000), ALNUM[26 + int(rnd() * 26)])
        f["SKU"] = sku
        first = FIRST[int(rnd() * 20)]
        last = LAST[int(rnd() * 18)]
        f["Customer"] = first + " " + last
        city, country = CITIES[int(rnd() * 20)]
        f["City"] = city
        if rnd() < 0.95:
            f["Postal Code"] = "%05d" % int(rnd() * 100000)
        if rnd() < 0.5:
            f["Notes"] = notes[int(rnd() * n_notes)]
        if rnd() < 0.92:
            f["Email"] = "%s.%s%d@%s" % (first.lower(), last.lower(), int(rnd() * 100),
                                        DOMAINS[int(rnd() * 4)])
        if rnd() < 0.6:
            f["Website"] = "https://www.%s-%s.example.com/orders/%d" % (
                adj.lower(), noun.split()[0], int(rnd() * 100000))
        if rnd() < 0.9:
            f["Phone"] = "+1 (%03d) 555-%04d" % (200 + int(rnd() * 800), int(rnd() * 10000))
        qty = int(rnd() * 500) if rnd() < 0.97 else 0
        f["Quantity"] = qty
        if rnd() < 0.9:
            f["Weight (kg)"] = round(rnd() * 80, 2)
        price = round(1 + rnd() * 999, 2)
        f["Price"] = price
        u = rnd()
        disc = None
        if u < 0.6:
            disc = (0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.125, 0.3)[int(rnd() * 8)]
            f["Discount"] = disc
        if rnd() < 0.85:
            f["Lead Time"] = 900 * (1 + int(rnd() * 672))
        if rnd() < 0.8:
            f["Priority"] = 1 + int(rnd() * 5)
        if rnd() < 0.55:
            f["Paid"] = True
        status = STATUSES[int(rnd() * 5)]
        f["Status"] = status
        u = rnd()
        if u < 0.75:
            tags = [TAGS[int(rnd() * 8)] for _ in range(1 + int(u * 4))]
            f["Tags"] = list(dict.fromkeys(tags))
        f["Due"] = iso_date(t // 86400 + 3 + int(rnd() * 58))
        if status in ("Shipped", "Delivered"):
            f["Shipped At"] = iso_time(t + 3600 + int(rnd() * 600000), 0)
        f["Created"] = created
        f["Order No"] = i + 1
        u = rnd()
        links = [ids.id(int(rnd() * n)) for _ in range(int(u * 4))] if u < 0.75 else []
        links = list(dict.fromkeys(links))
        if links:
            f["Related"] = links
        f["Related Count"] = len(links)
        if rnd() < 0.9:
            f["Owner"] = COLLABORATORS[int(rnd() * 12)]
        f["Total"] = qty * price * (1 - (disc or 0))
        f["Label"] = sku + " · " + status
        if rnd() < 0.5:
            f["Barcode"] = {"text": "%013d" % int(rnd() * 1e13), "type": "ean13"}
        f["Votes"] = int(rnd() * 220) - 20
        f["Country"] = country
        out.append({"id": rid, "createdTime": created, "fields": f})
    return out


# --- Pages -------------------------------------------------------------------

POOL_MIN_PAGES = 500        # from this many pages in all, render in worker processes
CHUNK = 25                  # pages a worker renders at a time

_enc_str = json.encoder.encode_basestring      # what the server's dumps() uses for text


def _enc_num(v):
    return int.__repr__(v) if type(v) is int else float.__repr__(v)


def _enc_strs(v):
    return "[" + ",".join(map(_enc_str, v)) + "]"


_collaborator_text = {c["id"]: _encode(c) for c in COLLABORATORS}


def _enc_collaborator(v):
    return _collaborator_text[v["id"]]


def _enc_barcode(v):
    return '{"text":%s,"type":%s}' % (_enc_str(v["text"]), _enc_str(v["type"]))


ENCODERS = {"number": _enc_num, "currency": _enc_num, "percent": _enc_num, "duration": _enc_num,
            "rating": _enc_num, "autoNumber": _enc_num, "count": _enc_num,
            "checkbox": lambda v: "true", "multipleSelects": _enc_strs, "multipleRecordLinks": _enc_strs,
            "singleCollaborator": _enc_collaborator, "barcode": _enc_barcode}
NUMBER_TYPES = ("number", "currency", "percent", "duration")


def value_encoders():
    """Field name -> the JSON text of one of its values, for the values
    gen_block makes: the same text as the server's dumps(), faster (the
    tests compare pages rendered both ways)."""
    out = {}
    for name, ftype, options, _ in FIELDS:
        if ftype == "formula":
            ftype = "number" if options["result"]["type"] in NUMBER_TYPES else "singleLineText"
        out[name] = ENCODERS.get(ftype, _enc_str)
    return out


def gzipped(body):
    """The bytes the server sends for body to a client accepting gzip."""
    return gzip.compress(body, compresslevel=5, mtime=0)


def offset_token(table_id, ids, by_id, k):
    """The fixed offset that asks for page k >= 1 of the plain listing, by
    field name (by_id 0) or id (1)."""
    return "%s/%s" % (ident("itr", table_id, by_id, k), ids.id(k * PAGE))


def page_body(parts, offset):
    text = '{"records":[' + ",".join(parts) + "]"
    if offset is not None:
        text += ',"offset":"%s"' % offset
    return (text + "}").encode("utf-8")


def render_pages(table_id, size, k0, k1):
    """Pages k0..k1-1 of a table kept without records, generated and
    rendered here (in a worker process for large tables): for each, its body
    by name, that gzipped, its body by field id, that gzipped."""
    ids = RecordIds(table_id, size)
    fields = field_meta(table_id)
    encs = value_encoders()
    name_keys = {f["name"]: _enc_str(f["name"]) + ":" for f in fields}
    id_keys = {f["name"]: _enc_str(f["id"]) + ":" for f in fields}
    n_pages = -(-size // PAGE)
    out = []
    for k in range(k0, k1):
        by_name, by_id = [], []
        for rec in gen_block(ids, k):
            head = '{"id":"%s","createdTime":"%s","fields":{' % (rec["id"], rec["createdTime"])
            vals = [(n, encs[n](v)) for n, v in rec["fields"].items()]
            by_name.append(head + ",".join([name_keys[n] + t for n, t in vals]) + "}}")
            by_id.append(head + ",".join([id_keys[n] + t for n, t in vals]) + "}}")
        page = []
        for by_key, parts in ((0, by_name), (1, by_id)):
            body = page_body(parts, offset_token(table_id, ids, by_key, k + 1) if k + 1 < n_pages else None)
            page += [body, gzipped(body)]
        out.append(tuple(page))
    return out


def _render_chunk(args):
    return render_pages(*args)


class Pages:
    """One bench table's pre-rendered plain listing in both key forms: page
    bodies, their gzipped bytes, and the fixed offsets leading to them."""

    def __init__(self, table_id, ids, pool, snap=None):
        """snap: the records' snapshot (a full table), else the pages are
        generated from the ids alone."""
        self.count = ids.count
        self.n_pages = n_pages = max(1, -(-self.count // PAGE))
        self.offset_page = ({}, {})     # [by_id]: offset -> page
        for by_id in (0, 1):
            for k in range(1, n_pages):
                self.offset_page[by_id][offset_token(table_id, ids, by_id, k)] = k
        self.body = ([], [])            # [by_id][page] -> bytes
        self.gzip = ([], [])
        if snap is not None:
            for k in range(n_pages):
                recs = snap.records[k * PAGE:(k + 1) * PAGE]
                for by_id, texts in ((0, snap.json_by_name), (1, snap.json_by_id)):
                    offset = offset_token(table_id, ids, by_id, k + 1) if k + 1 < n_pages else None
                    self.body[by_id].append(page_body([texts[r["id"]] for r in recs], offset))
            for by_id in (0, 1):
                self.gzip[by_id].extend(pool.imap(gzipped, self.body[by_id], 16) if pool
                                        else map(gzipped, self.body[by_id]))
        else:
            chunks = [(table_id, self.count, k, min(k + CHUNK, n_pages)) for k in range(0, n_pages, CHUNK)]
            for pages in (pool.imap(_render_chunk, chunks) if pool else map(_render_chunk, chunks)):
                for b0, g0, b1, g1 in pages:
                    self.body[0].append(b0)
                    self.gzip[0].append(g0)
                    self.body[1].append(b1)
                    self.gzip[1].append(g1)

    def records_on(self, k):
        return min(PAGE, self.count - k * PAGE) if self.count else 0

    def nbytes(self):
        return sum(len(b) for lists in (self.body, self.gzip) for pages in lists for b in pages)


class Bench:
    """The hook the server calls for a bench table (Table.bench)."""

    def __init__(self, table, ids, pages, full, full_max):
        self.ids = ids
        self.pages = pages
        self.full = full                # an ordinary Table too (records kept)
        self.full_max = full_max
        self.initial = table.snapshot if full else None

    def pages_valid(self, table):
        return not self.full or table.snapshot is self.initial

    def refuse(self, asked):
        return invalid_request(
            "Invalid request: bench tables of more than %d records serve only plain listings "
            "(no filterByFormula, sort, view, fields[], maxRecords, recordMetadata, timeZone or "
            "userLocale; pageSize 100; cellFormat json; no omit_zero reading) and GET of one "
            "record; this request has %s" % (self.full_max, ", ".join(asked)))

    @staticmethod
    def not_plain(opts):
        """What makes a listing other than plain (pageSize aside)."""
        asked = []
        if opts.formula:
            asked.append("filterByFormula")
        if opts.sort:
            asked.append("sort")
        if opts.view:
            asked.append("view")
        if opts.fields is not None:
            asked.append("fields[]")
        if opts.max_records is not None:
            asked.append("maxRecords")
        if opts.comment_count:
            asked.append("recordMetadata")
        if opts.time_zone is not None or opts.user_locale is not None:
            asked.append("timeZone/userLocale")
        if opts.cell_format != "json":
            asked.append("cellFormat %s" % opts.cell_format)
        if "omit_zero" in opts.readings:
            asked.append("the omit_zero reading")
        return asked

    def list_records(self, state, table, opts):
        """A Response, or None to let the normal path answer (full tables)."""
        asked = self.not_plain(opts)
        if asked or not self.pages_valid(table):
            if self.full:
                return None
            raise self.refuse(asked)
        by_id = 1 if opts.by_field_id else 0
        if opts.offset:
            page = self.pages.offset_page[by_id].get(opts.offset)
            if page is None:
                if self.full:
                    return None         # the normal path's offsets (or its 422)
                raise ApiError(422, ERR_ITERATOR)
        else:
            page = 0
        if opts.page_size == PAGE:
            body = self.pages.body[by_id][page]
            resp = Response(200, body, records=self.pages.records_on(page))
            resp.gzip_of = (body, self.pages.gzip[by_id][page])
            return resp
        if not self.full:
            raise self.refuse(["pageSize %d" % opts.page_size])
        # A smaller page continuing a pre-rendered walk: rendered as the normal
        # path would, with a normal offset for the rest.
        snap = table.snapshot
        start = page * PAGE
        end = min(start + opts.page_size, len(snap.records))
        parts = render_records(snap, snap.records[start:end], opts, None)
        text = '{"records":[' + ",".join(parts) + "]"
        if end < len(snap.records):
            token = state.new_offset(opts.signature(table), end, snap.records[end]["id"])
            text += ',"offset":' + dumps(token)
        return Response(200, text + "}", records=end - start)

    def get_record(self, table, record_id, opts):
        """A Response, or None to let the normal path answer (full tables)."""
        if self.full:
            return None
        i = self.ids.index(record_id)
        if i is None:
            raise ApiError(404, ERR_NOT_FOUND)
        rec = gen_block(self.ids, i // PAGE)[i % PAGE]
        schema = table.snapshot.schema
        rid = rec["id"]
        snap = Snapshot(schema, [rec], {rid: rec}, {rid: _encode(rec)},
                            {rid: _encode(table.record_by_field_id(rec, schema))},
                            {rid: rec["createdTime"]}, 0)
        return Response(200, render_records(snap, [rec], opts, None)[0])

    def reset(self, table):
        """Back to the table as generated (State.reset)."""
        if self.full and table.snapshot is not self.initial:
            table.snapshot = self.initial
            table.order_cache = {}
            table.id_rng = random.Random(table.id)


def build_table(base, size, full_max, pool):
    table_id = ident("tbl", "bench", size)
    fields = field_meta(table_id)
    ids = RecordIds(table_id, size)
    # The description still names this module's old file, tests/server/bench_data.py:
    # the metadata stays byte for byte what it was.
    spec = {"id": table_id, "name": table_name(size),
            "description": "Generated for benchmarks: %d records, %d fields (tests/server/bench_data.py)"
                           % (size, len(fields)),
            "primaryFieldId": fields[0]["id"], "fields": fields,
            "views": [{"id": ident("viw", table_id, "Grid view"), "name": "Grid view", "type": "grid"}]}
    full = size <= full_max
    if full:
        spec["records"] = [rec for k in range(-(-size // PAGE)) for rec in gen_block(ids, k)]
    table = Table(base, spec)   # a large table: no records, the schema for metadata and lookups
    if not full:
        def refuse_edit(*args, **kwargs):
            raise invalid_edit("bench tables of more than %d records are read-only" % full_max)
        table.edit = table.edit_fields = refuse_edit
    pages = Pages(table_id, ids, pool, table.snapshot if full else None)
    table.bench = Bench(table, ids, pages, full, full_max)
    return table


class BenchBase:
    """The bench base, built once at startup (State.reset calls reset())."""

    def __init__(self, sizes, full_max=FULL_MAX):
        sizes = sorted(set(sizes))
        pool = None
        if sum(-(-s // PAGE) for s in sizes) >= POOL_MIN_PAGES and (os.cpu_count() or 1) > 1:
            # Forked before anything large is built, so the workers share little.
            pool = multiprocessing.get_context("fork").Pool(os.cpu_count())
        try:
            self.base = Base({"id": BASE_ID, "name": BASE_NAME, "tables": []})
            self.base.tables = [build_table(self.base, size, full_max, pool) for size in sizes]
        finally:
            if pool is not None:
                pool.close()
                pool.join()

    def reset(self):
        for t in self.base.tables:
            t.bench.reset(t)


def parse_sizes(text):
    """"10000,100000" -> [10000, 100000]; ValueError unless positive integers."""
    try:
        sizes = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        sizes = []
    if not sizes or any(s <= 0 for s in sizes):
        raise ValueError("bench sizes are positive integers, comma-separated, got %r" % text)
    return sizes
