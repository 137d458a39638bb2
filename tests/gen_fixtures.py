#!/usr/bin/python3
"""Generate the test server's fixture bases (one JSON file per base).

Deterministic: fixed random seeds, fixed base dates, no clock or environment
input, so re-running gives byte-identical files.

    /usr/bin/python3 tests/gen_fixtures.py [OUTPUT_DIR]   # default: tests/fixtures

Writes appPackagingOps01.json (the sample base "Packaging Operations") and
appSizeTests00001.json (tables of 0, 1, 99, 100, 101 records and an awkwardly
named table).  The file format is described in tests/fixtures/README.md.
"""

import datetime
import json
import os
import random
import string
import sys

ALNUM = string.ascii_letters + string.digits
EPOCH = datetime.datetime(2024, 1, 8, 9, 0, 0, tzinfo=datetime.timezone.utc)

N_TASKS = 2500
N_PRODUCTS = 60
N_VENDORS = 15


class Ids:
    """Deterministic Airtable-style ids: prefix + exactly 14 alphanumerics."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.seen = set()

    def __call__(self, prefix):
        while True:
            zId = prefix + "".join(self.rng.choice(ALNUM) for _ in range(14))
            if zId not in self.seen:
                self.seen.add(zId)
                return zId


def iso_ms(dt):
    """UTC timestamp as Airtable writes it: 2022-09-05T07:00:00.000Z."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def field(ids, name, ftype, options=None, description=None):
    f = {"id": ids("fld"), "name": name, "type": ftype}
    if description is not None:
        f["description"] = description
    if options is not None:
        f["options"] = options
    return f


def view(ids, name, **private):
    v = {"id": ids("viw"), "name": name, "type": "grid"}
    v.update(private)
    return v


def put(fields, name, value):
    """Set a cell the way Airtable returns it: empty values are left out."""
    if value is None or value == "" or value == [] or value is False:
        return
    fields[name] = value


# --- Shared vocabulary -------------------------------------------------------

COLORS = ["blueLight2", "cyanLight2", "tealLight2", "greenLight2", "yellowLight2",
          "orangeLight2", "redLight2", "pinkLight2", "purpleLight2", "grayLight2"]

USERS_RAW = [
    ("Ada Lovelace", "ada@example.com"),
    ("José Álvarez-Núñez", "jose.alvarez@example.es"),
    ("王芳", "wang.fang@example.cn"),
    ("نور الهدى", "nour@example.ae"),
    ("Zoë O'Brien", "zoe.obrien@example.ie"),
    ("Søren \"Sonny\" Kierkegaard", "soren@example.dk"),
]

WORDS = ["carton", "pallet", "shrink wrap", "label", "insert", "tray", "sleeve",
         "blister", "pouch", "crate", "tape", "void fill", "corner guard", "bag"]

AWKWARD_TASK_NAMES = [
    "Café crème pack — 12×",
    "包装任务：礼盒",
    "مهمة التغليف",
    "Family kit 👩‍👩‍👧‍👦 bundle",
    "Pride set 🏳️‍🌈 ✨",
    'Box "XL", reinforced',
    "Line 1\nLine 2\nLine 3",
    "Comma, separated, name",
    "  leading and trailing spaces  ",
    "Tab\tseparated",
    "Apostrophe's task",
    "Backslash \\ and {braces}",
    "Ünïcödé ßtraße 🚚",
    "000123",
]

TAGS = ["fragile", "export", "rush", "eco", "cold chain", "hazmat", "gift", "bulk",
        "retail-ready", "oversize"]
STATUSES = ["To do", "In progress", "Blocked", "Done"]
SYNC_SOURCES = ["ERP (SAP)", "Warehouse CSV"]
COUNTRIES = ["Germany", "Japan", "Brazil", "United States", "Egypt", "Türkiye"]


def long_text(rng, n_chars):
    parts = []
    total = 0
    i = 0
    while total < n_chars:
        s = "Paragraph %d: %s; %s — «%s» %s.\n" % (
            i, rng.choice(WORDS), rng.choice(WORDS), rng.choice(AWKWARD_TASK_NAMES).replace("\n", " "),
            "".join(rng.choice(ALNUM) for _ in range(40)))
        parts.append(s)
        total += len(s)
        i += 1
    return "".join(parts)


# --- Sample base -------------------------------------------------------------

def build_packaging_base():
    ids = Ids(20240108)
    rng = random.Random(424242)

    base = {"id": "appPackagingOps01", "name": "Packaging Operations", "permissionLevel": "create"}
    tbl_tasks, tbl_products, tbl_vendors = ids("tbl"), ids("tbl"), ids("tbl")
    users = [{"id": ids("usr"), "email": e, "name": n} for n, e in USERS_RAW]

    def choices(names):
        return {"choices": [{"id": ids("sel"), "name": n, "color": COLORS[i % len(COLORS)]}
                            for i, n in enumerate(names)]}

    date_fmt = {"name": "iso", "format": "YYYY-MM-DD"}
    time_fmt = {"name": "24hour", "format": "HH:mm"}
    dt_result = {"type": "dateTime", "options": {"dateFormat": date_fmt, "timeFormat": time_fmt,
                                                 "timeZone": "utc"}}

    # ---- Vendors fields
    v_name = field(ids, "Name", "singleLineText")
    v_country = field(ids, "Country", "singleSelect", choices(COUNTRIES))
    v_email = field(ids, "Contact Email", "email")
    v_phone = field(ids, "Phone", "phoneNumber")
    v_site = field(ids, "Website", "url")
    v_products = field(ids, "Products", "multipleRecordLinks")
    v_tasks = field(ids, "Packaging Tasks", "multipleRecordLinks")
    v_rating = field(ids, "Reliability", "rating", {"max": 5, "icon": "star", "color": "yellowBright"})

    # ---- Products fields
    p_name = field(ids, "Name", "singleLineText")
    p_sku = field(ids, "SKU", "singleLineText", description="Leading zeros are significant")
    p_price = field(ids, "Unit Price", "currency", {"precision": 2, "symbol": "€"})
    p_weight = field(ids, "Weight (kg)", "number", {"precision": 3})
    p_vendor = field(ids, "Vendor", "multipleRecordLinks")
    p_tasks = field(ids, "Packaging Tasks", "multipleRecordLinks")
    p_active = field(ids, "Active", "checkbox", {"icon": "check", "color": "greenBright"})

    # ---- Packaging Tasks fields (every field type in AIRTABLE_API.md)
    F = {}

    def tf(key, *a, **kw):
        F[key] = field(ids, *a, **kw)

    tf("task", "Task", "singleLineText", description="What to pack")
    tf("id", "id", "singleLineText", description="A field literally named id")
    tf("created_time", "Created_Time", "singleLineText",
       description="Collides case-insensitively with the created_time column")
    tf("Status", "Status", "singleSelect", choices(STATUSES))
    tf("status", "status", "singleLineText", description="Differs from Status only in case")
    tf("notes", "Notes", "multilineText")
    tf("internal", "Notes {internal}", "richText")
    tf("email", "Contact Email", "email")
    tf("url", "Spec URL", "url")
    tf("phone", "Phone", "phoneNumber")
    tf("qty", "Quantity", "number", {"precision": 0})
    tf("weight", "Weight (kg)", "number", {"precision": 2})
    tf("cost", "Unit Cost (USD).net", "currency", {"precision": 2, "symbol": "$"})
    tf("discount", "Discount", "percent", {"precision": 1})
    tf("lw", "Length/Width", "number", {"precision": 2})
    tf("setup", "Setup Time", "duration", {"durationFormat": "h:mm"})
    tf("cycle", "Cycle Time", "duration", {"durationFormat": "h:mm:ss.S"})
    tf("priority", "Priority", "rating", {"max": 5, "icon": "star", "color": "yellowBright"})
    tf("due", "Due Date", "date", {"dateFormat": {"name": "iso", "format": "YYYY-MM-DD"}})
    tf("started", "Started At", "dateTime",
       {"dateFormat": {"name": "european", "format": "D/M/YYYY"}, "timeFormat": time_fmt,
        "timeZone": "Europe/Berlin"})
    tf("fragile", "Fragile", "checkbox", {"icon": "check", "color": "greenBright"})
    tf("tags", "Tags", "multipleSelects", choices(TAGS))
    tf("owner", "Owner", "singleCollaborator")
    tf("reviewers", "Reviewers", "multipleCollaborators")
    tf("created_by", "Created By", "createdBy")
    tf("modified_by", "Last Modified By", "lastModifiedBy")
    tf("created", "Created", "createdTime", {"result": dt_result})
    tf("modified", "Last Modified", "lastModifiedTime",
       {"isValid": True, "referencedFieldIds": None, "result": dt_result})
    tf("num", "Task Number", "autoNumber")
    tf("product", "Product", "multipleRecordLinks")
    tf("vendor", "Vendor", "multipleRecordLinks")
    tf("sku", "Product SKU", "multipleLookupValues")
    tf("vendor_count", "Vendor Count", "count")
    tf("price_total", "Product Price Total", "rollup")
    tf("line_total", "Line Total", "formula")
    tf("label", "Label", "formula")
    tf("heavy", "Is Heavy", "formula")
    tf("per_kg", "Cost per kg", "formula")
    tf("photos", "Photos", "multipleAttachments", {"isReversed": False})
    tf("barcode", "Barcode", "barcode")
    tf("button", "Open Spec", "button")
    tf("ai", "Summary (AI)", "aiText")
    tf("sync", "Sync Source", "externalSyncSource", choices(SYNC_SOURCES))
    tf("future", "Legacy Widget", "futureFieldType", {"someNewOption": True},
       description="A field type this project has never heard of")
    tf("quotes", "Customer's \"Nickname\"", "singleLineText")

    # Options that reference other fields (filled in now that ids exist).
    def link_opts(linked_table, inverse_field, single=False):
        return {"linkedTableId": linked_table, "isReversed": False,
                "prefersSingleRecordLink": single, "inverseLinkFieldId": inverse_field["id"]}

    F["product"]["options"] = link_opts(tbl_products, p_tasks, single=True)
    F["vendor"]["options"] = link_opts(tbl_vendors, v_tasks)
    p_tasks["options"] = link_opts(tbl_tasks, F["product"])
    v_tasks["options"] = link_opts(tbl_tasks, F["vendor"])
    p_vendor["options"] = link_opts(tbl_vendors, v_products, single=True)
    v_products["options"] = link_opts(tbl_products, p_vendor)
    F["sku"]["options"] = {"isValid": True, "recordLinkFieldId": F["product"]["id"],
                           "fieldIdInLinkedTable": p_sku["id"],
                           "result": {"type": "singleLineText"}}
    F["vendor_count"]["options"] = {"isValid": True, "recordLinkFieldId": F["vendor"]["id"]}
    F["price_total"]["options"] = {"isValid": True, "recordLinkFieldId": F["product"]["id"],
                                   "fieldIdInLinkedTable": p_price["id"],
                                   "referencedFieldIds": [p_price["id"]],
                                   "result": {"type": "number", "options": {"precision": 2}}}
    F["line_total"]["options"] = {"isValid": True, "formula": "{%s} * {%s}" % (F["qty"]["id"], F["cost"]["id"]),
                                  "referencedFieldIds": [F["qty"]["id"], F["cost"]["id"]],
                                  "result": {"type": "number", "options": {"precision": 2}}}
    F["label"]["options"] = {"isValid": True,
                             "formula": "CONCATENATE({%s}, ' #', {%s})" % (F["task"]["id"], F["num"]["id"]),
                             "referencedFieldIds": [F["task"]["id"], F["num"]["id"]],
                             "result": {"type": "singleLineText"}}
    F["heavy"]["options"] = {"isValid": True, "formula": "IF({%s} > 20, TRUE())" % F["weight"]["id"],
                             "referencedFieldIds": [F["weight"]["id"]],
                             "result": {"type": "checkbox", "options": {"icon": "check", "color": "greenBright"}}}
    F["per_kg"]["options"] = {"isValid": True, "formula": "{%s} / {%s}" % (F["cost"]["id"], F["weight"]["id"]),
                              "referencedFieldIds": [F["cost"]["id"], F["weight"]["id"]],
                              "result": {"type": "number", "options": {"precision": 2}}}
    F["button"]["options"] = {"label": "Open spec", "url": None}
    F["ai"]["options"] = {"prompt": ["Summarise ", {"field": {"fieldId": F["notes"]["id"]}}],
                          "referencedFieldIds": [F["notes"]["id"]]}

    # ---- Records: vendors
    vendors = []
    vendor_names = ["Acme Corrugated", "Müller Verpackung GmbH", "株式会社パック", "Embalagens São Paulo",
                    "Cairo Cartons مصر", "Boxes & Co., Ltd.", "\"Quoted\" Supplies", "Öko-Pack",
                    "Pallet Kings", "Tape Masters", "FoamWorks", "Nordic Crate AB", "Shrink Heroes",
                    "Label Lab 🏷️", "Last Vendor"]
    for i in range(N_VENDORS):
        vf = {}
        put(vf, "Name", vendor_names[i])
        put(vf, "Country", COUNTRIES[i % len(COUNTRIES)] if i % 5 != 4 else None)
        put(vf, "Contact Email", "sales%d@vendor%d.example.com" % (i, i) if i % 3 else None)
        put(vf, "Phone", "+49 30 %07d" % (1000000 + i * 7919) if i % 2 == 0 else None)
        put(vf, "Website", "https://vendor%d.example.com/" % i)
        put(vf, "Reliability", 1 + i % 5)
        vendors.append({"id": ids("rec"), "createdTime": iso_ms(EPOCH + datetime.timedelta(minutes=i)),
                        "fields": vf})

    # ---- Records: products
    products = []
    for i in range(N_PRODUCTS):
        pf = {}
        put(pf, "Name", "%s %s %d" % (rng.choice(["Small", "Medium", "Large", "Jumbo", "Mini"]),
                                      WORDS[i % len(WORDS)], i + 1))
        put(pf, "SKU", "%06d" % (123 + i * 37) if i % 10 != 9 else None)
        put(pf, "Unit Price", round(rng.uniform(0.05, 250), 2) if i % 12 != 11 else None)
        put(pf, "Weight (kg)", 0 if i % 20 == 0 else round(rng.uniform(0.01, 40), 3))
        put(pf, "Active", i % 4 != 0)
        vendor = vendors[i % N_VENDORS] if i % 15 != 14 else None
        if vendor is not None:
            put(pf, "Vendor", [vendor["id"]])
        products.append({"id": ids("rec"), "createdTime": iso_ms(EPOCH + datetime.timedelta(hours=1, minutes=i)),
                         "fields": pf})
    vendor_by_id = {v["id"]: v for v in vendors}
    for p in products:  # inverse links, in product order
        for vid in p["fields"].get("Vendor", []):
            vendor_by_id[vid]["fields"].setdefault("Products", []).append(p["id"])

    # ---- Records: tasks
    tasks = []
    product_by_id = {p["id"]: p for p in products}
    for i in range(N_TASKS):
        created = EPOCH + datetime.timedelta(days=1, minutes=17 * i, seconds=i % 60,
                                             milliseconds=(i * 37) % 1000)
        modified = created + datetime.timedelta(hours=rng.randint(0, 500), minutes=rng.randint(0, 59))
        tf_ = {}
        if i < len(AWKWARD_TASK_NAMES):
            name = AWKWARD_TASK_NAMES[i]
        elif i % 211 == 0:
            name = None  # a few records with an empty primary field
        else:
            name = "Pack %s for order %05d" % (rng.choice(WORDS), 10000 + i)
        put(tf_, "Task", name)
        put(tf_, "id", "ext-%04d" % i if i % 3 else None)
        put(tf_, "Created_Time", "batch %d, shift %s" % (i // 100, "ABC"[i % 3]) if i % 4 else None)
        status = STATUSES[rng.randrange(4)] if i % 9 else None
        put(tf_, "Status", status)
        put(tf_, "status", ["todo", "TODO", "done", "Done ✅", "n/a"][i % 5] if i % 6 else None)
        if i in (3, 1000, 2499):
            notes = long_text(rng, 10500 + i)
        elif i % 5 == 0:
            notes = "Line one for %d\nLine two, with \"quotes\" and commas\n\nLast line — ok" % i
        elif i % 7 == 0:
            notes = "Single line note %d" % i
        else:
            notes = None
        put(tf_, "Notes", notes)
        put(tf_, "Notes {internal}",
            "**Bold** step %d\n\n- item _one_\n- item `two`\n\n[spec](https://example.com/spec/%d)\n" % (i, i)
            if i % 8 == 1 else None)
        put(tf_, "Contact Email", "packer%d@example.com" % (i % 40) if i % 3 == 1 else None)
        put(tf_, "Spec URL", "https://example.com/specs/%d?rev=%d&lang=de" % (i, i % 4) if i % 4 == 2 else None)
        put(tf_, "Phone", "(555) 01%02d-%04d" % (i % 100, i) if i % 5 == 3 else None)
        if i % 10 == 0:
            qty = 0
        elif i % 97 == 3:
            qty = -(i % 50) - 1
        elif i % 131 == 5:
            qty = 3000000000 + i  # beyond 2^31
        elif i % 11 == 4:
            qty = None
        else:
            qty = rng.randint(1, 5000)
        if qty is not None:
            tf_["Quantity"] = qty  # 0 is returned by Airtable, so keep it
        if i % 13 == 0:
            weight = 0
        elif i % 6 == 5:
            weight = None
        else:
            weight = round(rng.uniform(0.1, 45), 2)
        if weight is not None:
            tf_["Weight (kg)"] = weight
        cost = None if i % 8 == 7 else round(rng.uniform(-5, 120), 2) if i % 50 == 0 else round(rng.uniform(0.01, 120), 2)
        if cost is not None:
            tf_["Unit Cost (USD).net"] = cost
        if i % 4 == 0:
            tf_["Discount"] = [0, 0.05, 0.125, 0.3333, 1][i % 5]
        put(tf_, "Length/Width", round(rng.uniform(0.2, 5), 2) if i % 3 == 0 else None)
        if i % 5 != 4:
            tf_["Setup Time"] = 60 * rng.randint(0, 600)  # 0 seconds is a value
        put(tf_, "Cycle Time", round(rng.uniform(0.5, 4000), 1) if i % 2 else None)
        put(tf_, "Priority", rng.randint(1, 5) if i % 7 != 6 else None)
        due = EPOCH.date() + datetime.timedelta(days=rng.randint(-30, 400))
        put(tf_, "Due Date", due.isoformat() if i % 10 != 9 else None)
        put(tf_, "Started At", iso_ms(created + datetime.timedelta(hours=rng.randint(1, 72)))
            if i % 3 != 2 else None)
        put(tf_, "Fragile", i % 3 == 0)
        put(tf_, "Tags", sorted(rng.sample(TAGS, rng.randint(0, 3)), key=TAGS.index))
        put(tf_, "Owner", dict(users[i % len(users)]) if i % 4 != 3 else None)
        put(tf_, "Reviewers", [dict(u) for u in rng.sample(users, rng.randint(0, 3))])
        tf_["Created By"] = dict(users[i % 2])
        tf_["Last Modified By"] = dict(users[(i // 7) % len(users)])
        tf_["Created"] = iso_ms(created)
        tf_["Last Modified"] = iso_ms(modified)
        tf_["Task Number"] = i + 1
        product = products[rng.randrange(N_PRODUCTS)] if i % 17 != 16 else None
        if product is not None:
            tf_["Product"] = [product["id"]]
        if i % 6 != 1:
            vsample = rng.sample(vendors, 1 if i % 5 else 2)
            tf_["Vendor"] = [v["id"] for v in vsample]
        tf_["Vendor Count"] = len(tf_.get("Vendor", []))  # count fields return 0
        if product is not None:
            psku = product["fields"].get("SKU")
            if psku is not None:
                tf_["Product SKU"] = [psku]
            tf_["Product Price Total"] = product["fields"].get("Unit Price", 0)
        else:
            tf_["Product Price Total"] = 0
        if qty is not None and cost is not None:
            tf_["Line Total"] = round(qty * cost, 2)
        put(tf_, "Label", "%s #%d" % (name or "", i + 1))
        put(tf_, "Is Heavy", bool(weight is not None and weight > 20))
        if i % 97 == 5:
            tf_["Cost per kg"] = {"error": "#ERROR!"}
        elif i % 89 == 7:
            tf_["Cost per kg"] = {"specialValue": "NaN"}
        elif cost is not None and weight:
            tf_["Cost per kg"] = round(cost / weight, 2)
        elif cost is not None and weight == 0:
            tf_["Cost per kg"] = {"error": "#ERROR!"}
        if i % 25 == 0:
            att = []
            for k in range(1 + i % 3):
                aid = ids("att")
                att.append({
                    "id": aid, "width": 640, "height": 480,
                    "url": "https://v5.airtableusercontent.com/v3/u/1/%s/%d/photo-%d.jpg" % (aid, i, k),
                    "filename": ["photo.jpg", "Kartón ü.jpg", "box \"front\".jpg"][k],
                    "size": 10000 + 37 * i + k, "type": "image/jpeg",
                    "thumbnails": {"small": {"url": "https://v5.airtableusercontent.com/thumb/s/%s" % aid,
                                             "width": 48, "height": 36},
                                   "large": {"url": "https://v5.airtableusercontent.com/thumb/l/%s" % aid,
                                             "width": 512, "height": 384}}})
            tf_["Photos"] = att
        if i % 3 == 1:
            tf_["Barcode"] = {"text": "%013d" % (4006381333931 + i), "type": "ean13"}
        elif i % 29 == 0:
            tf_["Barcode"] = {"text": "000%d" % i}
        tf_["Open Spec"] = {"label": "Open spec", "url": "https://example.com/specs/%d" % i if i % 2 == 0 else None}
        if tf_["Open Spec"]["url"] is None:
            del tf_["Open Spec"]["url"]
        if notes:
            tf_["Summary (AI)"] = {"state": "generated", "isStale": i % 10 == 0,
                                   "value": "Pack %d: %s" % (i, notes[:40].replace("\n", " "))}
        put(tf_, "Sync Source", SYNC_SOURCES[i % 2] if i % 3 == 0 else None)
        if i % 50 == 7:
            tf_["Legacy Widget"] = {"kind": "gizmo", "level": i % 5, "nested": {"ok": True}}
        put(tf_, "Customer's \"Nickname\"", ["O'Neil", "\"Big\" Joe", "", "Ça va"][i % 4])
        tasks.append({"id": ids("rec"), "createdTime": iso_ms(created), "fields": tf_})

    for t in tasks:  # inverse links, in task order
        for pid in t["fields"].get("Product", []):
            product_by_id[pid]["fields"].setdefault("Packaging Tasks", []).append(t["id"])
        for vid in t["fields"].get("Vendor", []):
            vendor_by_id[vid]["fields"].setdefault("Packaging Tasks", []).append(t["id"])

    task_fields = list(F.values())
    tables = [
        {"id": tbl_tasks, "name": "Packaging Tasks", "primaryFieldId": F["task"]["id"],
         "description": "Every packaging job, one record per job",
         "fields": task_fields,
         "views": [
             view(ids, "Grid view"),
             view(ids, "Open tasks", filter={"field": "Status", "op": "!=", "value": "Done"},
                  sort=[{"field": "Due Date", "direction": "asc"}],
                  visibleFields=["Task", "Status", "Due Date", "Owner", "Priority"]),
             view(ids, "By priority", sort=[{"field": "Priority", "direction": "desc"}]),
         ],
         "records": tasks},
        {"id": tbl_products, "name": "Products", "primaryFieldId": p_name["id"],
         "fields": [p_name, p_sku, p_price, p_weight, p_vendor, p_tasks, p_active],
         "views": [view(ids, "Grid view"),
                   view(ids, "Active products", filter={"field": "Active", "op": "notEmpty"},
                        sort=[{"field": "Name", "direction": "asc"}])],
         "records": products},
        {"id": tbl_vendors, "name": "Vendors", "primaryFieldId": v_name["id"],
         "description": "Suppliers of packaging material",
         "fields": [v_name, v_country, v_email, v_phone, v_site, v_products, v_tasks, v_rating],
         "views": [view(ids, "Grid view")],
         "records": vendors},
    ]
    base["tables"] = tables
    return base


# --- Size-test base ----------------------------------------------------------

def build_size_base():
    ids = Ids(1)
    base = {"id": "appSizeTests00001", "name": "Size Tests", "permissionLevel": "read", "tables": []}
    specs = [("Empty", 0), ("One", 1), ("Ninety Nine", 99), ("One Hundred", 100),
             ("One Hundred One", 101), ('Odd/Name?#% "quoted" ☃', 3)]
    for t, (name, n) in enumerate(specs):
        f_name = field(ids, "Name", "singleLineText")
        f_n = field(ids, "N", "number", {"precision": 0})
        records = []
        for k in range(n):
            created = datetime.datetime(2024, 2, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(
                days=t, seconds=k)
            records.append({"id": ids("rec"), "createdTime": iso_ms(created),
                            "fields": {"Name": "%s #%d" % (name, k + 1), "N": k + 1}})
        table_id = ids("tbl")
        views = [view(ids, "Grid view")]
        if n == 3:
            # A view whose name needs encoding everywhere it could go.
            views.append(view(ids, 'Odd/View?#% "q" \u2603', sort=[{"field": "N", "direction": "desc"}]))
        base["tables"].append({"id": table_id, "name": name, "primaryFieldId": f_name["id"],
                               "fields": [f_name, f_n], "views": views,
                               "records": records})
    return base


# --- Output ------------------------------------------------------------------

def js_numbers(value):
    """Integral floats as ints, as Airtable's JSON (JavaScript) writes them: 0, not 0.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [js_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: js_numbers(v) for k, v in value.items()}
    return value


def dumps(value):
    return json.dumps(js_numbers(value), ensure_ascii=False, separators=(",", ":"))


def render_base(base):
    """JSON text with one field, view or record per line (diff-friendly, compact)."""
    out = ["{%s,%s,%s,\n\"tables\":[\n" % (
        dumps("id") + ":" + dumps(base["id"]), dumps("name") + ":" + dumps(base["name"]),
        dumps("permissionLevel") + ":" + dumps(base["permissionLevel"]))]
    for ti, t in enumerate(base["tables"]):
        head = {k: t[k] for k in ("id", "name", "primaryFieldId", "description") if k in t}
        out.append(dumps(head)[:-1] + ",\n\"fields\":[\n")
        out.append(",\n".join(dumps(f) for f in t["fields"]))
        out.append("],\n\"views\":[\n")
        out.append(",\n".join(dumps(v) for v in t["views"]))
        out.append("],\n\"records\":[\n")
        out.append(",\n".join(dumps(r) for r in t["records"]))
        out.append("]}" + (",\n" if ti + 1 < len(base["tables"]) else "\n"))
    out.append("]}\n")
    text = "".join(out)
    assert json.loads(text) == js_numbers(base)
    return text


def main(argv):
    out_dir = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
    os.makedirs(out_dir, exist_ok=True)
    for base in (build_packaging_base(), build_size_base()):
        path = os.path.join(out_dir, base["id"] + ".json")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(render_base(base))
        print("wrote %s (%d bytes)" % (path, os.path.getsize(path)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
