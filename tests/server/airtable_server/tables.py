"""The data: a base's tables, each an immutable Snapshot (schema and
records) swapped whole on every edit, and the record and schema edits of the
control API."""

import copy
import datetime
import json
import random
import string
import threading

from . import formula as formula_eval   # the filterByFormula evaluator
from .errors import ApiError, duplicate_field_name, invalid_edit, unknown_field
from .response import dumps

ALNUM = string.ascii_letters + string.digits

# --- Data model --------------------------------------------------------------

def is_empty(value):
    # Airtable docs, List records: empty values ("", [], false) are left out of "fields".
    return value is None or value == "" or value == [] or value is False


def now_iso():
    """The current UTC time as Airtable writes times: "2024-01-10T18:00:00.123Z"."""
    return formula_eval.date_text(datetime.datetime.now(datetime.timezone.utc))


class Schema:
    """Immutable description of a table's fields and views.  A schema edit
    builds a new one; it lives in the Snapshot, so a listing in flight sees the
    fields and the records of one moment."""

    __slots__ = ("fields", "field_by_name", "field_by_id", "name_to_id", "views", "primary_field_id")

    def __init__(self, fields, views, primary_field_id):
        self.fields = fields                # field dicts (metadata form), in order
        self.field_by_name = {f["name"]: f for f in fields}
        self.field_by_id = {f["id"]: f for f in fields}
        self.name_to_id = {f["name"]: f["id"] for f in fields}
        self.views = views                  # fixture view dicts (visibleFields, filter, sort by name)
        self.primary_field_id = primary_field_id

    def field(self, name_or_id):
        """Field by exact name, else by id; None when neither matches."""
        f = self.field_by_name.get(name_or_id)
        if f is None:
            f = self.field_by_id.get(name_or_id)
        return f

    def view(self, name_or_id):
        for v in self.views:
            if v["name"] == name_or_id:
                return v
        for v in self.views:
            if v["id"] == name_or_id:
                return v
        return None


class Snapshot:
    """Immutable view of a table: schema, records and their modified times;
    edits build a new one and swap it in."""

    __slots__ = ("schema", "records", "by_id", "json_by_name", "json_by_id", "modified", "version")

    def __init__(self, schema, records, by_id, json_by_name, json_by_id, modified, version):
        self.schema = schema              # Schema the records are keyed by
        self.records = records            # list of record dicts, fixture order
        self.by_id = by_id                # record id -> record dict
        self.json_by_name = json_by_name  # record id -> compact JSON, fields keyed by name
        self.json_by_id = json_by_id      # record id -> compact JSON, fields keyed by field id
        self.modified = modified          # record id -> last-modified time (ISO text), not in the JSON
        self.version = version            # bumped on every edit, of records or schema


def fixture_modified_time(rec, schema):
    """A fixture record's last change: its lastModifiedTime field that watches
    every field, when the table has one and the cell is set, else its
    createdTime (docs/airtable-api.md, Changes and deletions: a record has no
    modified time of its own; this server keeps one so LAST_MODIFIED_TIME()
    follows edits)."""
    for f in schema.fields:
        if formula_eval.watches_every_field(f):
            dt = formula_eval.parse_iso(rec["fields"].get(f["name"]) or "")
            if dt is not None:
                return formula_eval.date_text(dt)
    return rec["createdTime"]


def edit_time(spec, now):
    """One record's time in a control-API edit: its "modifiedTime" (ISO 8601,
    written back in Airtable's "...000Z" form) if given, else now."""
    text = spec.get("modifiedTime")
    if text is None:
        return now
    dt = formula_eval.parse_iso(text) if isinstance(text, str) else None
    if dt is None:
        raise invalid_edit("modifiedTime must be an ISO 8601 date-time, got %s" % json.dumps(text))
    return formula_eval.date_text(dt)


def stamp_modified_fields(schema, old_fields, fields, when):
    """Set, in fields (a record's new cells), the lastModifiedTime cells an
    edit changes, as Airtable computes them (Field model: lastModifiedTime,
    options.referencedFieldIds are the fields it tracks).  A field tracking
    every field takes the edit's time; one tracking some fields only when one
    of them now holds a different value (this server's reading for creates:
    a field set on creation changed from empty)."""
    for f in schema.fields:
        if f["type"] != "lastModifiedTime":
            continue
        if not formula_eval.watches_every_field(f):
            names = [schema.field_by_id[i]["name"] for i in f["options"]["referencedFieldIds"]
                     if i in schema.field_by_id]
            if all(old_fields.get(n) == fields.get(n) for n in names):
                continue
        fields[f["name"]] = when


def check_record_spec(spec, keys):
    if not isinstance(spec, dict) or set(spec) - keys or not isinstance(spec.get("fields") or {}, dict):
        raise invalid_edit("a record edit is an object with keys %s" % sorted(keys))


class Table:
    bench = None    # a generated bench table's hook (bench.py): pre-rendered pages

    def __init__(self, base, spec):
        self.base = base
        self.id = spec["id"]
        self.name = spec["name"]
        self.description = spec.get("description")
        self.order_cache = {}
        self.lock = threading.Lock()
        self.id_rng = random.Random(self.id)
        schema = Schema(spec["fields"], spec.get("views", []), spec.get("primaryFieldId"))
        records = spec.get("records", [])
        modified = {r["id"]: fixture_modified_time(r, schema) for r in records}
        self.snapshot = self._build(schema, records, {}, {}, {}, modified, 0, records)

    # The current schema, for readers that need no consistency with records.
    fields = property(lambda self: self.snapshot.schema.fields)
    field_by_name = property(lambda self: self.snapshot.schema.field_by_name)
    field_by_id = property(lambda self: self.snapshot.schema.field_by_id)
    name_to_id = property(lambda self: self.snapshot.schema.name_to_id)
    views = property(lambda self: self.snapshot.schema.views)
    primary_field_id = property(lambda self: self.snapshot.schema.primary_field_id)

    def _build(self, schema, records, by_id, j_name, j_id, modified, version, changed):
        """A new Snapshot: records in order, by_id/j_name/j_id carried over from
        the one before (for records that did not change), changed re-rendered."""
        by_id = dict(by_id)
        j_name = dict(j_name)
        j_id = dict(j_id)
        for rec in changed:
            by_id[rec["id"]] = rec
            j_name[rec["id"]] = dumps(rec)
            j_id[rec["id"]] = dumps(self.record_by_field_id(rec, schema))
        return Snapshot(schema, list(records), by_id, j_name, j_id, modified, version)

    def record_by_field_id(self, rec, schema=None):
        name_to_id = (schema or self.snapshot.schema).name_to_id
        fields = {name_to_id.get(k, k): v for k, v in rec["fields"].items()}
        return {"id": rec["id"], "createdTime": rec["createdTime"], "fields": fields}

    def field(self, name_or_id):
        """Field by exact name, else by id; None when neither matches."""
        return self.snapshot.schema.field(name_or_id)

    def view(self, name_or_id):
        return self.snapshot.schema.view(name_or_id)

    def meta(self, include_visible=False):
        schema = self.snapshot.schema
        out = {"id": self.id, "name": self.name, "primaryFieldId": schema.primary_field_id}
        if self.description is not None:
            out["description"] = self.description
        out["fields"] = [{k: f[k] for k in ("type", "id", "name", "description", "options") if k in f}
                         for f in schema.fields]
        views = []
        for v in schema.views:
            mv = {"id": v["id"], "name": v["name"], "type": v["type"]}
            if include_visible and v["type"] == "grid":
                names = v.get("visibleFields")
                if names is None:   # fixture format: no list, every field
                    names = [f["name"] for f in schema.fields]
                mv["visibleFieldIds"] = [schema.name_to_id[n] for n in names]
            views.append(mv)
        out["views"] = views
        return out

    # -- record edits (control API) --

    def new_record_id(self, taken):
        while True:
            zId = "rec" + "".join(self.id_rng.choice(ALNUM) for _ in range(14))
            if zId not in taken:
                return zId

    def _field_name(self, schema, key):
        f = schema.field(key)
        if f is None:
            raise unknown_field(key)
        return f["name"]

    def edit(self, create=(), update=(), delete=()):
        """Create, update and delete records in one new snapshot.  Created and
        updated records are modified at the edit's time (now, or a spec's
        "modifiedTime"), which also goes into the lastModifiedTime cells the
        edit changes.  Raises ApiError, leaving the table as it was."""
        with self.lock:
            snap = self.snapshot
            schema = snap.schema
            records = list(snap.records)
            by_id = dict(snap.by_id)
            modified = dict(snap.modified)
            now = now_iso()
            changed = []
            created, updated, deleted = [], [], []
            for spec in create:
                check_record_spec(spec, {"id", "fields", "createdTime", "modifiedTime"})
                zId = spec.get("id") or self.new_record_id(by_id)
                if zId in by_id:
                    raise ApiError(422, {"error": {"type": "DUPLICATE_RECORD_ID", "message": zId}})
                when = edit_time(spec, now)
                fields = {self._field_name(schema, k): v for k, v in (spec.get("fields") or {}).items()
                          if not is_empty(v)}
                stamp_modified_fields(schema, {}, fields, when)
                rec = {"id": zId, "createdTime": spec.get("createdTime") or now, "fields": fields}
                records.append(rec)
                by_id[zId] = rec
                modified[zId] = when
                changed.append(rec)
                created.append(zId)
            for spec in update:
                check_record_spec(spec, {"id", "fields", "modifiedTime"})
                old = by_id.get(spec.get("id"))
                if old is None:
                    raise ApiError(404, {"error": "NOT_FOUND", "message": "No record %s" % spec.get("id")})
                when = edit_time(spec, now)
                fields = dict(old["fields"])
                for k, v in (spec.get("fields") or {}).items():
                    name = self._field_name(schema, k)
                    if is_empty(v):
                        fields.pop(name, None)
                    else:
                        fields[name] = v
                stamp_modified_fields(schema, old["fields"], fields, when)
                rec = {"id": old["id"], "createdTime": old["createdTime"], "fields": fields}
                records[records.index(old)] = rec
                by_id[rec["id"]] = rec
                modified[rec["id"]] = when
                changed.append(rec)
                updated.append(rec["id"])
            for zId in delete:
                old = by_id.pop(zId, None)
                if old is None:
                    raise ApiError(404, {"error": "NOT_FOUND", "message": "No record %s" % zId})
                records.remove(old)
                modified.pop(zId)
                deleted.append(zId)
            j_name = {k: v for k, v in snap.json_by_name.items() if k in by_id}
            j_id = {k: v for k, v in snap.json_by_id.items() if k in by_id}
            self.snapshot = self._build(schema, records, by_id, j_name, j_id, modified,
                                        snap.version + 1, changed)
            self.order_cache = {}
        return {"created": created, "updated": updated, "deleted": deleted, "modifiedTime": now}

    # -- schema edits (control API) --

    def new_field_id(self, taken):
        while True:
            zId = "fld" + "".join(self.id_rng.choice(ALNUM) for _ in range(14))
            if zId not in taken:
                return zId

    def edit_fields(self, add=(), remove=(), rename=None, retype=None):
        """Change the table's fields in one new snapshot; returns meta().

        Names and ids in remove, rename and retype refer to the schema before
        the edit; they apply in that order, then add appends fields.  Record
        values follow (renamed keys, removed cells dropped), views follow
        (visibleFields, filter and sort by name), and no record's modified
        time changes: Airtable does not count a schema change as a record edit,
        nor a value it computes or converts for one ("values" here) as a user's
        edit (this server's reading).  Raises ApiError, leaving the table as it
        was."""
        with self.lock:
            snap = self.snapshot
            schema = snap.schema
            edit = SchemaEdit(self, schema, snap)
            for key in remove:
                edit.remove(key)
            for key, new_name in (rename or {}).items():
                edit.rename(key, new_name)
            for key, spec in (retype or {}).items():
                edit.retype(key, spec)
            for spec in add:
                edit.add(spec)
            new_schema, records = edit.result()
            self.snapshot = self._build(new_schema, records, {}, {}, {}, snap.modified,
                                        snap.version + 1, records)
            self.order_cache = {}
        return self.meta()


class SchemaEdit:
    """One schema edit in progress: copies of the fields, views and record
    cells that the steps change in place, checked as they go."""

    def __init__(self, table, schema, snap):
        self.table = table
        self.snap = snap
        self.primary_field_id = schema.primary_field_id
        self.fields = [dict(f) for f in schema.fields]
        self.by_id = {f["id"]: f for f in self.fields}
        self.views = copy.deepcopy(schema.views)
        self.cells = {r["id"]: dict(r["fields"]) for r in snap.records}
        self.resolve = schema.field      # names and ids as they were before the edit

    def target(self, key):
        """The working copy of the field key names (before the edit)."""
        if not isinstance(key, str):
            raise invalid_edit("a field is named by its name or id, got %s" % json.dumps(key))
        f = self.resolve(key)
        if f is None or f["id"] not in self.by_id:
            raise unknown_field(key)
        return self.by_id[f["id"]]

    def check_name(self, name):
        if not isinstance(name, str):
            raise invalid_edit("a field name is a string, got %s" % json.dumps(name))
        if name.strip() == "" or any(f["name"] == name for f in self.fields):
            raise duplicate_field_name(name)

    def set_values(self, name, values):
        """Cells of field name for the records values lists (empty: left out,
        as Airtable leaves empty cells out)."""
        if not isinstance(values, dict):
            raise invalid_edit("values is an object: record id -> value")
        for zId, value in values.items():
            cells = self.cells.get(zId)
            if cells is None:
                raise ApiError(404, {"error": "NOT_FOUND", "message": "No record %s" % zId})
            cells.pop(name, None)
            if not is_empty(value):
                cells[name] = value

    def computed_values(self, f):
        """Cells Airtable computes for a new time field: createdTime, and
        lastModifiedTime watching every field, from the record's times."""
        if f["type"] == "createdTime":
            return {r["id"]: r["createdTime"] for r in self.snap.records}
        if formula_eval.watches_every_field(f):
            return dict(self.snap.modified)
        return {}

    def remove(self, key):
        f = self.target(key)
        if f["id"] == self.primary_field_id:
            # Airtable never lets the primary field go (test server's choice of error).
            raise ApiError(422, {"error": {"type": "INVALID_EDIT", "message": "cannot remove the primary field"}})
        self.fields.remove(f)
        del self.by_id[f["id"]]
        for cells in self.cells.values():
            cells.pop(f["name"], None)
        for v in self.views:
            if v.get("visibleFields") is not None:
                v["visibleFields"] = [n for n in v["visibleFields"] if n != f["name"]]
            if v.get("filter") and v["filter"]["field"] == f["name"]:
                del v["filter"]
            if v.get("sort"):
                v["sort"] = [s for s in v["sort"] if s["field"] != f["name"]]

    def rename(self, key, new_name):
        f = self.target(key)
        old_name = f["name"]
        if new_name == old_name:
            return
        self.check_name(new_name)
        f["name"] = new_name
        for zId, cells in self.cells.items():
            if old_name in cells:   # the key keeps its place, as in a listing by id
                self.cells[zId] = {new_name if k == old_name else k: v for k, v in cells.items()}
        for v in self.views:
            if v.get("visibleFields") is not None:
                v["visibleFields"] = [new_name if n == old_name else n for n in v["visibleFields"]]
            if v.get("filter") and v["filter"]["field"] == old_name:
                v["filter"]["field"] = new_name
            for s in v.get("sort") or []:
                if s["field"] == old_name:
                    s["field"] = new_name

    def retype(self, key, spec):
        f = self.target(key)
        if not isinstance(spec, dict) or set(spec) - {"type", "options", "values"} \
                or not isinstance(spec.get("type"), str) or not isinstance(spec.get("options", {}), dict):
            raise invalid_edit("retype takes {type, options?, values?} per field")
        f["type"] = spec["type"]
        f.pop("options", None)      # the old type's options do not carry over
        if "options" in spec:
            f["options"] = spec["options"]
        values = spec.get("values")
        if values is None:
            values = self.computed_values(f)
        self.set_values(f["name"], values)

    def add(self, spec):
        if not isinstance(spec, dict) or set(spec) - {"name", "type", "options", "id", "description", "values"} \
                or not isinstance(spec.get("type"), str) or not isinstance(spec.get("options", {}), dict):
            raise invalid_edit("add takes [{name, type, options?, id?, description?, values?}]")
        self.check_name(spec.get("name"))
        zId = spec.get("id")
        if zId is None:
            zId = self.table.new_field_id(self.by_id)
        elif not isinstance(zId, str) or not zId.startswith("fld") or zId in self.by_id:
            raise invalid_edit("a new field's id is an unused \"fld...\" string, got %s" % json.dumps(zId))
        f = {"type": spec["type"], "id": zId, "name": spec["name"]}
        for k in ("description", "options"):
            if k in spec:
                f[k] = spec[k]
        self.fields.append(f)
        self.by_id[zId] = f
        values = spec.get("values")
        self.set_values(f["name"], self.computed_values(f) if values is None else values)

    def result(self):
        """(new Schema, new record dicts in the same order)."""
        schema = Schema(self.fields, self.views, self.primary_field_id)
        records = [{"id": r["id"], "createdTime": r["createdTime"], "fields": self.cells[r["id"]]}
                   for r in self.snap.records]
        return schema, records


class Base:
    def __init__(self, spec):
        self.id = spec["id"]
        self.name = spec["name"]
        self.permission_level = spec.get("permissionLevel", "create")
        self.tables = [Table(self, t) for t in spec["tables"]]

    def table(self, name_or_id):
        for t in self.tables:
            if t.id == name_or_id:
                return t
        for t in self.tables:
            if t.name == name_or_id:
                return t
        return None
