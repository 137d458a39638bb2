#!/usr/bin/python3
"""An Airtable-compatible HTTP server for tests: the Web API's read side, served
from JSON fixtures, plus a control API under /_test/ that scripts faults,
latency, rate limits, record edits (which move each record's last-modified
time, the one LAST_MODIFIED_TIME() reads) and schema edits.  Python standard
library only.

    scripts/test-server [--fixture FILE]... [--port N] [--token T]
                        [--latency-ms N] [--rate-limit N] [--rate-limit-penalty S]
                        [--readings NAME,...] [--bench-records N,...] [--bench-full-max N]

Prints exactly "http://127.0.0.1:PORT" on stdout, then serves until SIGTERM or
SIGINT.  The behaviour modelled here is documented in /work/shared/AIRTABLE_API.md
(facts checked against Airtable's documentation); where Airtable leaves a choice
open, the comment says "test server's choice".

Readings: POST /_test/config {"readings": [...]} (or --readings a,b) makes the
server read open points another way, so that tests can check the extension
against each plausible behaviour of Airtable: the formula readings are
formula.py's (see its docstring), and three are this file's: omit_zero
(render_records), sort_blanks_last and sort_text_nocase (sort_key).  The
readings are taken once per request; formula.READINGS lists them all.
"""

import argparse
import collections
import copy
import datetime
import gzip
import http.server
import json
import os
import random
import re
import signal
import socket
import string
import struct
import sys
import threading
import time
import urllib.parse

import formula as formula_eval   # tests/server/formula.py: the filterByFormula evaluator

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_FIXTURES = [
    os.path.join(REPO_ROOT, "tests", "fixtures", "appPackagingOps01.json"),
    os.path.join(REPO_ROOT, "tests", "fixtures", "appSizeTests00001.json"),
]

ALNUM = string.ascii_letters + string.digits
JSON_TYPE = "application/json; charset=utf-8"

OFFSET_TTL = 600.0          # seconds an offset lives (Airtable: undocumented; test server's choice)
OFFSET_MAX = 10000          # bound on outstanding offsets
LOG_MAX = 100000            # bound on the request log
BASES_PAGE = 1000           # Airtable docs, List bases: 1,000 bases a page

# --- Error bodies ------------------------------------------------------------

PERMISSIONS_MESSAGE = (
    "Invalid permissions, or the requested model was not found. Check that both your user and "
    "your token have the required permissions, and that the model names and/or ids are correct.")
ERR_AUTH = {"error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}}
ERR_PERMISSIONS = {"error": {"type": "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
                             "message": PERMISSIONS_MESSAGE}}
ERR_NOT_FOUND = {"error": "NOT_FOUND"}
ERR_RATE_LIMIT = {"error": {"type": "RATE_LIMIT_REACHED",
                            "message": "Rate limit exceeded. Please try again later"}}
ERR_ITERATOR = {"error": {"type": "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"}}
INVALID_REQUEST_MESSAGE = "Invalid request: parameter validation failed. Check your request data."

# Bodies a "status" fault sends when the script gives none.
DEFAULT_STATUS_BODIES = {
    401: ERR_AUTH,
    403: ERR_PERMISSIONS,
    404: ERR_NOT_FOUND,
    413: {"error": {"type": "REQUEST_TOO_LARGE"}},
    422: {"error": {"type": "INVALID_REQUEST_UNKNOWN", "message": INVALID_REQUEST_MESSAGE}},
    429: ERR_RATE_LIMIT,
    500: {"error": {"type": "SERVER_ERROR", "message": "Server error"}},
    502: {"error": {"type": "BAD_GATEWAY"}},
    503: {"error": {"type": "RETRIABLE_ERROR"}},
}


class ApiError(Exception):
    """An error answer: HTTP status and JSON body."""

    def __init__(self, status, body):
        super().__init__(status, body)
        self.status = status
        self.body = body


def invalid_request(message=INVALID_REQUEST_MESSAGE):
    # Airtable docs, Errors: 422 INVALID_REQUEST_UNKNOWN for requests that fail validation.
    return ApiError(422, {"error": {"type": "INVALID_REQUEST_UNKNOWN", "message": message}})


def unknown_field(name):
    # Seen in the wild (not documented): 422 UNKNOWN_FIELD_NAME for an unknown fields[] entry.
    return ApiError(422, {"error": {"type": "UNKNOWN_FIELD_NAME",
                                    "message": "Unknown field name: %s" % json.dumps(name, ensure_ascii=False)}})


def dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --- Data model --------------------------------------------------------------

def is_empty(value):
    # Airtable docs, List records: empty values ("", [], false) are left out of "fields".
    return value is None or value == "" or value == [] or value is False


def is_number_zero(value):
    # Reading omit_zero: a cell whose JSON value is the number 0 (or -0.0).
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0


def reading_list(value):
    """A config's or the command line's readings as a sorted list of names;
    ValueError for anything but a list of known, compatible reading names."""
    if not isinstance(value, list):
        raise ValueError("readings is a list of names, known: %s" % ", ".join(sorted(formula_eval.READINGS)))
    return sorted(formula_eval.check_readings(value))


def invalid_edit(message):
    # Control API (test server's own): a body it cannot read is 400 INVALID_EDIT.
    return ApiError(400, {"error": {"type": "INVALID_EDIT", "message": message}})


def duplicate_field_name(name):
    # A field name that is taken or empty.  The error type is test server's
    # choice (not in AIRTABLE_API.md: Airtable's field edits were not checked).
    return ApiError(422, {"error": {"type": "DUPLICATE_OR_EMPTY_FIELD_NAME",
                                    "message": "Duplicate or empty field name: %s" % json.dumps(name, ensure_ascii=False)}})


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
    createdTime (AIRTABLE_API.md, changes: a record has no modified time of its
    own; this server keeps one so LAST_MODIFIED_TIME() follows edits)."""
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
    bench = None    # a generated bench table's hook (bench_data.py): pre-rendered pages

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


# --- Sorting, filtering, rendering ------------------------------------------

# What Airtable documents about sorting a listing, and what it leaves open.
#
# List records (https://airtable.com/developers/web/api/list-records, as
# copied into client libraries' docs): "sort: A list of sort objects that
# specifies how the records will be ordered.  Each sort object must have a
# field key specifying the name of the field to sort on, and an optional
# direction key that is either "asc" or "desc".  The default direction is
# "asc".  The sort parameter overrides the sorting of the view specified in
# the view parameter.  If neither the sort nor the view parameter is included,
# the order of records is arbitrary."  The field may be named or given by id
# (AIRTABLE_API.md, Listing records); an unknown field is refused (422
# UNKNOWN_FIELD_NAME here: seen in the wild for fields[], the same check).  The
# view's filter still applies under a sort (view: "If set, only the records in
# that view will be returned").  Support article "Airtable Web API - Using
# filterByFormula or sort parameters"
# (https://support.airtable.com/docs/airtable-web-api-using-filterbyformula-or-sort-parameters)
# shows the same parameters and says nothing more about order.
#
# The Extensions SDK documents its own record queries
# (https://airtable.com/developers/extensions/api/RecordQueryResultOpts):
# "The first sort in the array has the highest priority" and "Record creation
# time is used as a tiebreaker".  The Web API does not say either; this server
# does both (sort_records sorts by the last key first, stably, and its input is
# in fixture order, which is createdTime order in every fixture).
#
# Nothing Airtable publishes says how values of one field compare: not the
# collation or case of text, not where blanks go, not how a field holding
# numbers and text (a formula) orders them.  The support pages on sorting a
# view describe the toolbar, not the order.  So everything sort_key does
# beyond "numbers numerically, dates by instant" is test server's choice
# (AIRTABLE_API.md: "Open: text sort collation, case, where blanks sort, tie
# order"), and the readings sort_blanks_last and sort_text_nocase read two of
# those points the other way.

def sort_key(value, readings=formula_eval.NO_READINGS):
    """Test server's choice (Airtable's collation is undocumented): blanks first
    in asc (last in desc), numbers and booleans numerically, before strings,
    strings by Python's default comparison (code point, so case-sensitive;
    dates, createdTime and lastModifiedTime cells are ISO 8601 text in one
    form, so this is their time order); other values by their text.
    Reading sort_blanks_last: blanks after every value in asc (first in desc).
    Reading sort_text_nocase: text casefolded first (ties keep their order)."""
    if is_empty(value):
        return (3, 0) if "sort_blanks_last" in readings else (0, 0)
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, (int, float)):
        return (1, value)
    text = value if isinstance(value, str) else to_text(value, None)
    return (2, text.casefold() if "sort_text_nocase" in readings else text)


def sort_records(records, sort_spec, readings=formula_eval.NO_READINGS):
    """sort_spec: [(field name, descending)], the first key the most
    significant.  Stable, so ties keep the incoming order."""
    out = list(records)
    for name, desc in reversed(sort_spec):
        out.sort(key=lambda r: sort_key(r["fields"].get(name), readings), reverse=desc)
    return out


def view_filter(spec):
    """Predicate for a fixture view's simple filter (test-server fixture format)."""
    name, op, want = spec["field"], spec["op"], spec.get("value")
    if op == "=":
        return lambda r: r["fields"].get(name) == want
    if op == "!=":
        # Airtable's "is not" keeps records whose cell is empty.
        return lambda r: r["fields"].get(name) != want
    if op == "notEmpty":
        return lambda r: not is_empty(r["fields"].get(name))
    if op == "empty":
        return lambda r: is_empty(r["fields"].get(name))
    raise ValueError("unknown view filter op %r" % op)


def compile_formula(formula, table, snap=None, readings=formula_eval.NO_READINGS):
    """Return a predicate record -> bool for filterByFormula, or raise ApiError.
    The formula reads snap's schema and record times (default: the table's
    current snapshot): LAST_MODIFIED_TIME() is the server's per-record time.
    readings: reading names (formula.py's docstring) to evaluate under.

    Airtable docs, List records: a record is kept when the formula is truthy
    (not 0, false, "", NaN, [] or an error).  The evaluator is formula.py beside
    this file: the formula is parsed once here, and a formula that does not
    parse or names an unknown field is 422 INVALID_FILTER_BY_FORMULA; an error
    while evaluating one record drops that record."""
    try:
        snap = snap or table.snapshot
        return formula_eval.compile_filter(formula, snap.schema, snap.modified, readings)
    except formula_eval.FormulaError as e:
        raise ApiError(e.status, e.body)


def format_number(value, precision):
    if precision is None:
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return "%.*f" % (precision, value)


def format_duration(seconds, fmt):
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    if fmt == "h:mm":
        return "%s%d:%02d" % (sign, h, m)
    decimals = len(fmt.split(".")[1]) if "." in fmt else 0
    if decimals:
        return "%s%d:%02d:%0*.*f" % (sign, h, m, 3 + decimals, decimals, s)
    return "%s%d:%02d:%02d" % (sign, h, m, int(s))


def to_text(value, f):
    """cellFormat=string rendering (test server's approximation of Airtable's:
    numbers honour precision/symbol/percent/duration options, arrays joined by
    ", ", objects by their name/filename/label/text, dates left in ISO form)."""
    if value is None:
        return ""
    ftype = f["type"] if f else None
    opts = (f.get("options") or {}) if f else {}
    if ftype in ("formula", "rollup", "multipleLookupValues") and isinstance(opts.get("result"), dict):
        res = opts["result"]
        if not isinstance(value, list) or ftype != "multipleLookupValues":
            return to_text(value, {"type": res.get("type"), "options": res.get("options") or {}})
        inner = {"type": res.get("type"), "options": res.get("options") or {}}
        return ", ".join(to_text(v, inner) for v in value)
    if isinstance(value, bool):
        return "checked" if value else ""
    if isinstance(value, (int, float)):
        if ftype == "currency":
            return "%s%s" % (opts.get("symbol", ""), format_number(value, opts.get("precision")))
        if ftype == "percent":
            return "%s%%" % format_number(value * 100, opts.get("precision"))
        if ftype == "duration":
            return format_duration(value, opts.get("durationFormat", "h:mm"))
        return format_number(value, opts.get("precision"))
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ", ".join(to_text(v, None if ftype == "multipleRecordLinks" else f) for v in value)
    if isinstance(value, dict):
        if "error" in value:
            return str(value["error"])
        if "specialValue" in value:
            return str(value["specialValue"])
        for key in ("name", "filename", "label", "text", "value", "email", "id"):
            if key in value:
                return str(value[key])
        return dumps(value)
    return str(value)


# --- List options ------------------------------------------------------------

class ListOptions:
    """Normalised List records options, from a query string or a JSON body."""

    def __init__(self):
        self.page_size = 100        # Airtable docs, List records: pageSize 1..100, default 100
        self.max_records = None     # total cap across all pages
        self.offset = None
        self.view = None
        self.fields = None          # list of names/ids, or None for all
        self.sort = []              # [(field, direction)]
        self.formula = ""
        self.cell_format = "json"
        self.time_zone = None
        self.user_locale = None
        self.by_field_id = False
        self.comment_count = False
        self.readings = formula_eval.NO_READINGS   # the server's config, taken once per request

    def signature(self, table):
        """What an offset is bound to: everything but pageSize and offset (and
        the readings: a later page read another way would not continue it)."""
        return (table.base.id, table.id, self.view, tuple(self.fields) if self.fields is not None else None,
                tuple(self.sort), self.formula, self.cell_format, self.time_zone, self.user_locale,
                self.by_field_id, self.comment_count, self.max_records, tuple(sorted(self.readings)))


def parse_int(value, name, low, high=None):
    if isinstance(value, bool):
        value = None
    try:
        n = int(value)
        if isinstance(value, float) and value != n:
            raise ValueError
    except (TypeError, ValueError):
        n = None
    if n is None or n < low or (high is not None and n > high):
        bounds = "from %d to %d" % (low, high) if high is not None else "of at least %d" % low
        raise invalid_request("Invalid request: %s must be an integer %s, got %s"
                              % (name, bounds, json.dumps(value, ensure_ascii=False)))
    return n


def parse_direction(value):
    # Airtable docs, List records: direction "asc" (default) or "desc".  The error
    # type for other values is undocumented; test server's choice: the generic
    # validation failure, INVALID_REQUEST_UNKNOWN.
    if value is None:
        return "asc"
    if value not in ("asc", "desc"):
        raise invalid_request("Invalid request: sort direction must be \"asc\" or \"desc\", got %s"
                              % json.dumps(value, ensure_ascii=False))
    return value


def parse_bool_param(value, name):
    # Airtable docs: returnFieldsByFieldId accepts true or 1.
    if value in ("true", "1"):
        return True
    if value in ("false", "0", ""):
        return False
    raise invalid_request("Invalid request: %s must be true or false" % name)


def parse_format_param(opts, key, value):
    """Take one of the output-format parameters that List records and Get
    record share (Airtable docs: cellFormat with timeZone and userLocale,
    returnFieldsByFieldId). True if key was one of them."""
    if key == "cellFormat":
        opts.cell_format = value
    elif key == "timeZone":
        opts.time_zone = value
    elif key == "userLocale":
        opts.user_locale = value
    elif key == "returnFieldsByFieldId":
        opts.by_field_id = parse_bool_param(value, key)
    else:
        return False
    return True


def parse_query_options(pairs, opts):
    """Fill opts from decoded query pairs (GET List records)."""
    sorts = {}
    fields = []
    for key, value in pairs:
        if key == "pageSize":
            opts.page_size = parse_int(value, "pageSize", 1, 100)
        elif key == "maxRecords":
            opts.max_records = parse_int(value, "maxRecords", 1)
        elif key == "offset":
            opts.offset = value
        elif key == "view":
            opts.view = value
        elif key == "fields[]":
            fields.append(value)
        elif key == "filterByFormula":
            opts.formula = value
        elif parse_format_param(opts, key, value):
            pass
        elif key == "recordMetadata[]":
            if value != "commentCount":
                raise invalid_request()
            opts.comment_count = True
        else:
            m = re.fullmatch(r"sort\[(\d+)\]\[(field|direction)\]", key)
            if m is None:
                raise invalid_request()
            sorts.setdefault(int(m.group(1)), {})[m.group(2)] = value
    if fields:
        opts.fields = fields
    for idx in sorted(sorts):
        entry = sorts[idx]
        if "field" not in entry:
            raise invalid_request("Invalid request: sort[%d] has no field" % idx)
        opts.sort.append((entry["field"], parse_direction(entry.get("direction"))))


BODY_KEYS = {"pageSize", "maxRecords", "offset", "view", "fields", "sort", "filterByFormula",
             "cellFormat", "returnFieldsByFieldId", "recordMetadata", "timeZone", "userLocale"}


def parse_body_options(body, opts):
    """Fill opts from a POST listRecords JSON body."""
    if not isinstance(body, dict) or set(body) - BODY_KEYS:
        raise invalid_request()

    def want(key, kinds):
        value = body[key]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise invalid_request("Invalid request: %s has the wrong type" % key)
        return value

    if "pageSize" in body:
        opts.page_size = parse_int(want("pageSize", (int,)), "pageSize", 1, 100)
    if "maxRecords" in body:
        opts.max_records = parse_int(want("maxRecords", (int,)), "maxRecords", 1)
    for key, attr in (("offset", "offset"), ("view", "view"), ("filterByFormula", "formula"),
                      ("cellFormat", "cell_format"), ("timeZone", "time_zone"), ("userLocale", "user_locale")):
        if key in body and body[key] is not None:
            setattr(opts, attr, want(key, (str,)))
    if "fields" in body:
        fields = want("fields", (list,))
        if not all(isinstance(x, str) for x in fields):
            raise invalid_request("Invalid request: fields must be an array of strings")
        # Test server's choice: an empty array in the body asks for no fields.
        opts.fields = list(fields)
    if "sort" in body:
        for entry in want("sort", (list,)):
            if not isinstance(entry, dict) or not isinstance(entry.get("field"), str) or set(entry) - {"field", "direction"}:
                raise invalid_request("Invalid request: sort entries must be {field, direction}")
            opts.sort.append((entry["field"], parse_direction(entry.get("direction"))))
    if "returnFieldsByFieldId" in body:
        opts.by_field_id = want("returnFieldsByFieldId", (bool,))
    if "recordMetadata" in body:
        meta = want("recordMetadata", (list,))
        if any(m != "commentCount" for m in meta):
            raise invalid_request()
        opts.comment_count = "commentCount" in meta


def check_cell_format(opts):
    # Airtable docs, List records: cellFormat "json" (default) or "string"; "string"
    # requires timeZone and userLocale.
    if opts.cell_format not in ("json", "string"):
        raise invalid_request("Invalid request: cellFormat must be \"json\" or \"string\"")
    if opts.cell_format == "string" and (not opts.time_zone or not opts.user_locale):
        raise invalid_request("Invalid request: cellFormat \"string\" requires timeZone and userLocale")


# --- Server state ------------------------------------------------------------

class Fault:
    def __init__(self, spec):
        if not isinstance(spec, dict) or "action" not in spec:
            raise ValueError("a fault needs an action")
        if spec["action"] not in ("status", "stall", "reset", "malformed", "truncated", "body",
                                  "expired_offset", "pad", "encoding"):
            raise ValueError("unknown fault action %r" % spec["action"])
        if spec["action"] == "encoding" and spec.get("how") not in WIRE_ENCODINGS:
            raise ValueError("fault action encoding: \"how\" must be one of %s"
                             % ", ".join(sorted(WIRE_ENCODINGS)))
        self.spec = spec
        self.path_re = re.compile(spec.get("path", ""))
        self.query_re = re.compile(spec["query"]) if "query" in spec else None
        self.method = spec.get("method")
        self.skip = int(spec.get("skip", 0))
        self.times = int(spec.get("times", 1))
        self.hits = 0
        # "probability": fire on that share of the requests it would take,
        # drawn from a generator seeded with "seed", so runs repeat exactly.
        self.probability = float(spec.get("probability", 1.0))
        self.rng = random.Random(spec.get("seed", 0))

    def matches(self, method, path, query):
        if self.times == 0:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self.query_re is not None and not self.query_re.search(query):
            return False
        return self.path_re.search(path) is not None

    def describe(self):
        out = dict(self.spec)
        out["remaining_skip"] = self.skip
        out["remaining_times"] = self.times
        out["hits"] = self.hits
        return out


class State:
    """Everything the handlers share; one lock guards the mutable parts."""

    def __init__(self, fixture_specs, config, extra=()):
        self.fixture_specs = fixture_specs      # pristine parsed fixtures, never mutated
        self.extra = list(extra)                # bases built once (bench_data.BenchBase): .base, .reset()
        self.initial_config = dict(config)
        self.lock = threading.RLock()
        self.inflight = 0   # API requests being served now (not reset: they are real)
        self.rng = random.Random()
        self.reset()

    def reset(self):
        with self.lock:
            # Wake the stalled requests of earlier tests (see apply_fault).
            if getattr(self, "stall_cancel", None) is not None:
                self.stall_cancel.set()
            self.stall_cancel = threading.Event()
            # Rebuild only bases whose records or schema were edited; the rest are unchanged.
            old = getattr(self, "bases", None)
            self.bases = [b if old is not None and all(t.snapshot.version == 0 for t in b.tables)
                          else Base(copy.deepcopy(s))
                          for s, b in zip(self.fixture_specs, old or [None] * len(self.fixture_specs))]
            for x in self.extra:
                x.reset()
                self.bases.append(x.base)
            self.base_by_id = {b.id: b for b in self.bases}
            self.config = dict(self.initial_config)
            self.log = []
            self.seq = 0
            self.faults = []
            self.offsets = collections.OrderedDict()
            self.windows = {}
            self.penalties = {}

    # -- offsets --

    def new_offset(self, signature, position, next_id):
        with self.lock:
            now = time.monotonic()
            while self.offsets:
                token, (_, _, created) = next(iter(self.offsets.items()))
                if now - created > OFFSET_TTL or len(self.offsets) >= OFFSET_MAX:
                    self.offsets.popitem(last=False)
                else:
                    break
            token = "itr%s/%s" % ("".join(self.rng.choice(ALNUM) for _ in range(14)), next_id)
            self.offsets[token] = (signature, position, now)
            return token

    def take_offset(self, token, signature):
        # Airtable docs, List records: an expired or unusable offset gives 422
        # LIST_RECORDS_ITERATOR_NOT_AVAILABLE (no message).
        with self.lock:
            entry = self.offsets.get(token)
            if entry is None or entry[0] != signature or time.monotonic() - entry[2] > OFFSET_TTL:
                raise ApiError(422, ERR_ITERATOR)
            return entry[1]

    # -- rate limit --

    def rate_check(self, base_id):
        """Raise 429 when base_id is over its limit or serving a penalty.

        Airtable docs, Rate limits: 5 requests per second per base; after a 429,
        wait 30 seconds.  Refused requests do not count toward the window."""
        with self.lock:
            limit = self.config["rate_limit"]
            if not limit:
                return
            now = time.monotonic()
            if now < self.penalties.get(base_id, 0.0):
                raise ApiError(429, ERR_RATE_LIMIT)
            window = self.windows.setdefault(base_id, collections.deque())
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= limit:
                self.penalties[base_id] = now + float(self.config["rate_limit_penalty"])
                raise ApiError(429, ERR_RATE_LIMIT)
            window.append(now)

    # -- faults --

    def take_fault(self, method, path, query):
        """The fault to apply to this request, or None.  The first non-exhausted
        fault (list order) whose path/method/query match takes the request: while
        its skip count lasts the request passes untouched, then it fires "times"
        times (-1: forever).  A request is consumed by at most one fault."""
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path, query):
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    if fault.probability < 1.0 and fault.rng.random() >= fault.probability:
                        return None
                    if fault.times > 0:
                        fault.times -= 1
                    fault.hits += 1
                    return fault
            return None

    # -- request log --

    def record(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.log.append(entry)
            if len(self.log) > LOG_MAX:
                del self.log[: len(self.log) - LOG_MAX]


# --- HTTP --------------------------------------------------------------------

def _gzip_corrupt(body):
    """gzip with the CRC trailer wrong: inflates, then fails its check."""
    gz = bytearray(gzip.compress(body, compresslevel=5, mtime=0))
    gz[-8] ^= 0xFF
    return "gzip", bytes(gz)


# Fault action "encoding": how a body goes on the wire whatever the client
# asked (RFC 9110, Content-Encoding: a server should send only what
# Accept-Encoding allows, and gzip may be several members, RFC 1952 2.2).
WIRE_ENCODINGS = {
    "identity": lambda body: (None, body),                     # asked gzip, sent plain
    "br": lambda body: ("br", body),                           # an encoding not asked for
    "gzip_members": lambda body: ("gzip", gzip.compress(body[:len(body) // 2], mtime=0)
                                  + gzip.compress(body[len(body) // 2:], mtime=0)),
    "gzip_corrupt": _gzip_corrupt,
    # One list, however it is spelled: items, and several headers.
    "gzip_listed": lambda body: ("identity, gzip", gzip.compress(body, mtime=0)),
    "gzip_two_headers": lambda body: (["gzip", "identity"], gzip.compress(body, mtime=0)),
    # An obsolete folded line (RFC 9112 5.2): "Content-Encoding:" then " gzip".
    "gzip_folded": lambda body: ("\r\n gzip", gzip.compress(body, mtime=0)),
    "gzip_gzip": lambda body: (["gzip", "gzip"], gzip.compress(gzip.compress(body, mtime=0),
                                                              mtime=0)),
}


class Response:
    def __init__(self, status, body, records=None, headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else (
            body.encode("utf-8") if isinstance(body, str) else dumps(body).encode("utf-8"))
        self.records = records
        self.headers = headers or {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AirtableTestServer/1.0"

    def setup(self):
        super().setup()
        # No Nagle: keep-alive requests must not wait for a delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def parse_request(self):
        # The request's arrival, stamped as soon as its request line is read
        # (before headers and routing): "time" on the wall clock, and "mono"
        # on the monotonic clock, the one the extension's limiter counts with.
        # Tests check the rate limit against "mono": the wall clock can be
        # stepped (a virtual machine's time sync) between two requests.
        self.arrival = time.time()
        self.arrival_mono = time.monotonic()
        return super().parse_request()

    def log_message(self, format, *args):  # noqa: A002 (signature from the base class)
        if self.server.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))

    @property
    def state(self):
        return self.server.state

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_OPTIONS(self):
        self.dispatch("OPTIONS")

    # -- plumbing --

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def wants_gzip(self):
        for item in (self.headers.get("Accept-Encoding") or "").split(","):
            parts = [p.strip() for p in item.split(";")]
            if parts[0].lower() in ("gzip", "*"):
                q = [p for p in parts[1:] if p.startswith("q=")]
                if not q or float(q[0][2:] or 0) > 0:
                    return True
        return False

    def encode(self, resp):
        """(headers, body) as they go on the wire."""
        body = resp.body
        headers = [("Content-Type", JSON_TYPE)]
        how = getattr(resp, "wire", None)
        if how is not None:
            encoding, body = WIRE_ENCODINGS[how](body)
            for e in ([encoding] if isinstance(encoding, str) else encoding or []):
                headers.append(("Content-Encoding", e))
        elif self.wants_gzip() and body:
            pre = getattr(resp, "gzip_of", None)    # (body, its gzip) compressed beforehand
            body = pre[1] if pre is not None and pre[0] is body else gzip.compress(body, compresslevel=5, mtime=0)
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Vary", "Accept-Encoding"))
        headers.extend(resp.headers.items())
        headers.append(("Content-Length", str(len(body))))
        return headers, body

    def send(self, resp, entry=None, body_limit=None):
        """Send resp; with body_limit, send only that many body bytes.  With entry,
        log the request first (so the log is complete once the client has the
        answer)."""
        headers, body = self.encode(resp)
        if body_limit is not None:
            body = body[:body_limit]
        if entry is not None:
            entry["status"] = resp.status
            entry["bytes"] = len(body)
            if entry["records"] is None:
                entry["records"] = resp.records
            self.state.record(entry)
        self.send_response(resp.status)
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def abort_connection(self):
        """Close with a TCP reset: SO_LINGER 0, then close every reference."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        # rfile holds a makefile() reference that would defer the real close;
        # wfile writes straight to the socket and holds none.
        try:
            self.rfile.close()
        except OSError:
            pass
        self.connection.close()

    # -- dispatch --

    def dispatch(self, method):
        raw_path, _, raw_query = self.path.partition("?")
        body = self.read_body()
        if raw_path.startswith("/_test/") or raw_path == "/_test":
            try:
                resp = self.control(method, raw_path, body)
            except ApiError as e:
                resp = Response(e.status, e.body)
            self.send(resp)
            return
        self.serve_api(method, raw_path, raw_query, body)

    def serve_api(self, method, raw_path, raw_query, body):
        with self.state.lock:
            self.state.inflight += 1
        try:
            self.serve_api_counted(method, raw_path, raw_query, body)
        finally:
            with self.state.lock:
                self.state.inflight -= 1

    def serve_api_counted(self, method, raw_path, raw_query, body):
        state = self.state
        # client_port tells tests which requests shared a keep-alive
        # connection; gzip whether the client accepted a compressed body;
        # nodelay that Nagle is off on the connection (no delayed-ACK stalls).
        entry = {"seq": 0, "time": self.arrival, "mono": self.arrival_mono, "method": method, "path": raw_path, "query": raw_query,
                 "base": None, "status": None, "bytes": 0, "records": None,
                 "client_port": self.client_address[1], "gzip": self.wants_gzip(),
                 "nodelay": bool(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))}
        segs = raw_path.split("/")
        if len(segs) >= 3 and segs[1] == "v0":
            if segs[2] == "meta":
                if len(segs) >= 5 and segs[3] == "bases":
                    entry["base"] = urllib.parse.unquote(segs[4])
            elif segs[2]:
                entry["base"] = urllib.parse.unquote(segs[2])
        try:
            latency = state.config["latency_ms"]
            if latency:
                time.sleep(latency / 1000.0)
            fault = state.take_fault(method, raw_path, raw_query)
            if fault is not None:
                entry["fault"] = fault.spec["action"]
                if self.apply_fault(fault, entry, method, raw_path, raw_query, body):
                    return
            resp = self.route(method, raw_path, raw_query, body, entry)
        except ApiError as e:
            resp = Response(e.status, e.body)
        except Exception as e:  # a server bug: answer 500 and say what broke on stderr
            import traceback
            traceback.print_exc(file=sys.stderr)
            resp = Response(500, {"error": {"type": "SERVER_ERROR", "message": "Test server bug: %r" % e}})
        self.send(resp, entry)

    def apply_fault(self, fault, entry, method, raw_path, raw_query, body):
        """Apply fault; True when the request is fully handled (and logged)."""
        spec = fault.spec
        action = spec["action"]
        state = self.state
        if action == "stall":
            # A reset (/_test/reset, which every test starts with) ends the
            # stalls of the test before: the request is dropped unanswered
            # and unlogged, so it can neither be counted in a later test's
            # rate-limit window nor appear in its log.
            if state.stall_cancel.wait(float(spec.get("seconds", 1))):
                self.abort_connection()
                return True
            if spec.get("then") == "close":
                self.close_connection = True
                state.record(entry)
                return True
            return False
        if action == "reset":
            state.record(entry)
            self.abort_connection()
            return True
        if action == "status":
            status = int(spec.get("status", 500))
            resp = Response(status, spec["body"] if "body" in spec else
                            DEFAULT_STATUS_BODIES.get(status, {"error": {"type": "UNKNOWN_ERROR"}}),
                            headers=spec.get("headers"))
        elif action == "body":
            raw = spec.get("raw")
            resp = Response(int(spec.get("status", 200)), raw if raw is not None else spec.get("body"),
                            headers=spec.get("headers"))
        elif action == "malformed":
            resp = Response(200, '{"records": [ {"id": "rec', headers=spec.get("headers"))
            resp.body += b"\x00 <<junk>> not json ]]"
        elif action == "expired_offset":
            resp = Response(422, ERR_ITERATOR)
        elif action == "encoding":
            # A normal answer (or, with "status", that status's usual body)
            # with its body sent as "how" says (WIRE_ENCODINGS).
            if "status" in spec:
                status = int(spec["status"])
                resp = Response(status, DEFAULT_STATUS_BODIES.get(
                    status, {"error": {"type": "UNKNOWN_ERROR"}}))
            else:
                try:
                    resp = self.route(method, raw_path, raw_query, body, entry)
                except ApiError as e:
                    resp = Response(e.status, e.body)
            resp.wire = spec["how"]
        elif action == "pad":
            # A normal answer padded with "pad_bytes" spaces of JSON white
            # space: an oversized but valid response.
            try:
                resp = self.route(method, raw_path, raw_query, body, entry)
            except ApiError as e:
                resp = Response(e.status, e.body)
            resp.body += b" " * int(spec.get("pad_bytes", 0))
        elif action == "truncated":
            try:
                resp = self.route(method, raw_path, raw_query, body, entry)
            except ApiError as e:
                resp = Response(e.status, e.body)
            _, wire = self.encode(resp)
            self.send(resp, entry, body_limit=len(wire) // 2)
            self.close_connection = True
            return True
        else:
            return False
        self.send(resp, entry)
        return True

    def route(self, method, raw_path, raw_query, body, entry):
        """The /v0 API.  Order: auth, path, rate limit, base/table lookup."""
        state = self.state
        auth = self.headers.get("Authorization") or ""
        if auth != "Bearer " + str(state.config["token"]):
            raise ApiError(401, ERR_AUTH)
        segs = raw_path.split("/")[1:]  # split before percent-decoding each segment
        if len(segs) < 2 or segs[0] != "v0" or "" in segs[1:]:
            raise ApiError(404, ERR_NOT_FOUND)
        segs = [urllib.parse.unquote(s) for s in segs[1:]]
        pairs = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)

        if segs[0] == "meta":
            if segs == ["meta", "bases"] and method == "GET":
                return self.list_bases(pairs)
            if len(segs) == 4 and segs[1] == "bases" and segs[3] == "tables" and method == "GET":
                state.rate_check(segs[2])
                return self.base_schema(self.find_base(segs[2]), pairs)
            raise ApiError(404, ERR_NOT_FOUND)

        if len(segs) == 2 and method == "GET":
            kind = "list"
        elif len(segs) == 3 and method == "POST" and segs[2] == "listRecords":
            kind = "post"
        elif len(segs) == 3 and method == "GET":
            kind = "get"
        else:
            raise ApiError(404, ERR_NOT_FOUND)
        state.rate_check(segs[0])
        table = self.find_table(self.find_base(segs[0]), segs[1])
        if kind == "get":
            return self.get_record(table, segs[2], pairs)
        opts = ListOptions()
        if kind == "list":
            parse_query_options(pairs, opts)
        else:
            for key, value in pairs:
                if key == "timeZone":
                    opts.time_zone = value
                elif key == "userLocale":
                    opts.user_locale = value
                else:
                    raise invalid_request()
            try:
                parsed = json.loads(body.decode("utf-8")) if body else {}
            except (UnicodeDecodeError, ValueError):
                raise invalid_request("Invalid request: the body is not valid JSON")
            parse_body_options(parsed, opts)
        return self.list_records(table, opts)

    def find_base(self, base_id):
        # Airtable docs, Errors: 403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND covers unknown bases.
        base = self.state.base_by_id.get(base_id)
        if base is None:
            raise ApiError(403, ERR_PERMISSIONS)
        return base

    def find_table(self, base, name_or_id):
        # ... and unknown tables (never TABLE_NOT_FOUND).
        table = base.table(name_or_id)
        if table is None:
            raise ApiError(403, ERR_PERMISSIONS)
        return table

    # -- endpoints --

    def list_bases(self, pairs):
        # Airtable docs, List bases: {"bases": [...], "offset"?}, 1,000 a page.
        offset = None
        for key, value in pairs:
            if key != "offset":
                raise invalid_request()
            offset = value
        bases = self.state.bases
        start = self.state.take_offset(offset, ("bases",)) if offset is not None else 0
        page = bases[start:start + BASES_PAGE]
        out = {"bases": [{"id": b.id, "name": b.name, "permissionLevel": b.permission_level} for b in page]}
        if start + BASES_PAGE < len(bases):
            out["offset"] = self.state.new_offset(("bases",), start + BASES_PAGE, bases[start + BASES_PAGE].id)
        return Response(200, out)

    def base_schema(self, base, pairs):
        # Airtable docs, Get base schema: not paged; include[]=visibleFieldIds adds
        # each grid view's visible fields.
        include_visible = False
        for key, value in pairs:
            if key == "include[]" and value == "visibleFieldIds":
                include_visible = True
            else:
                raise invalid_request()
        return Response(200, {"tables": [t.meta(include_visible) for t in base.tables]})

    def get_record(self, table, record_id, pairs):
        # Airtable docs, Get record: returnFieldsByFieldId and cellFormat apply.
        opts = ListOptions()
        for key, value in pairs:
            if not parse_format_param(opts, key, value):
                raise invalid_request()
        check_cell_format(opts)
        opts.readings = self.readings()
        if table.bench is not None:
            resp = table.bench.get_record(self, table, record_id, opts)
            if resp is not None:
                return resp
        snap = table.snapshot
        rec = snap.by_id.get(record_id)
        if rec is None:
            raise ApiError(404, ERR_NOT_FOUND)
        return Response(200, self.render_records(table, snap, [rec], opts, None)[0])

    def readings(self):
        """The readings in force for this request (one look at the config, so
        a request sees one set even when the control API changes it)."""
        return frozenset(self.state.config.get("readings") or ())

    def ordered(self, table, snap, view, sort_spec, formula, readings=formula_eval.NO_READINGS):
        """Records in response order.  Cached per table version and readings."""
        key = (snap.version, view["id"] if view else None, tuple(sort_spec), formula, readings)
        cached = table.order_cache.get(key)
        if cached is not None:
            return cached
        records = snap.records
        if view is not None and view.get("filter"):
            keep = view_filter(view["filter"])
            records = [r for r in records if keep(r)]
        if formula:
            keep = compile_formula(formula, table, snap, readings)
            records = [r for r in records if keep(r)]
        # Airtable docs, List records (https://airtable.com/developers/web/api/list-records),
        # view: "The records will be sorted according to the order of the view
        # unless the sort parameter is included, which overrides that order";
        # without either the order is unspecified (here: fixture order, which
        # is createdTime order in every fixture).
        if sort_spec:
            records = sort_records(records, sort_spec, readings)
        elif view is not None and view.get("sort"):
            records = sort_records(records, [(s["field"], s.get("direction") == "desc") for s in view["sort"]],
                                   readings)
        if len(table.order_cache) > 64:
            table.order_cache.clear()
        table.order_cache[key] = records
        return records

    def render_records(self, table, snap, records, opts, field_names):
        """JSON text of each record.  field_names: names to keep, or None for all.

        Reading omit_zero (AIRTABLE_API.md, Listing records: "Open: whether a
        numeric 0 is left out"; by default it is returned): a cell whose JSON
        value is the number 0 (number, currency, percent, duration, rating,
        count, a formula's or rollup's number, ...) is left out of "fields",
        whatever the cellFormat; formulas still see the 0.  The snapshot's
        pre-rendered JSON holds every cell, so it serves only the default."""
        schema = snap.schema
        omit_zero = "omit_zero" in opts.readings
        if field_names is None and opts.cell_format == "json" and not omit_zero:
            cache = snap.json_by_id if opts.by_field_id else snap.json_by_name
            out = [cache[r["id"]] for r in records]
        else:
            out = []
            for r in records:
                fields = r["fields"]
                if field_names is not None:
                    fields = {n: fields[n] for n in field_names if n in fields}
                if omit_zero:
                    fields = {n: v for n, v in fields.items() if not is_number_zero(v)}
                if opts.cell_format == "string":
                    fields = {n: to_text(v, schema.field_by_name.get(n)) for n, v in fields.items()}
                    fields = {n: v for n, v in fields.items() if v != ""}
                if opts.by_field_id:
                    fields = {schema.name_to_id.get(n, n): v for n, v in fields.items()}
                out.append(dumps({"id": r["id"], "createdTime": r["createdTime"], "fields": fields}))
        if opts.comment_count:
            # Airtable docs, List records: recordMetadata[]=commentCount adds commentCount.
            out = [s[:-1] + ',"commentCount":0}' for s in out]
        return out

    def list_records(self, table, opts):
        check_cell_format(opts)
        opts.readings = self.readings()
        if table.bench is not None:
            resp = table.bench.list_records(self, table, opts)
            if resp is not None:
                return resp
        # One snapshot for the whole request: schema, order and cells agree.
        snap = table.snapshot
        schema = snap.schema
        view = None
        if opts.view is not None and opts.view != "":
            view = schema.view(opts.view)
            if view is None:
                # Observed behaviour (undocumented): 404 VIEW_NAME_NOT_FOUND.
                raise ApiError(404, {"error": {"type": "VIEW_NAME_NOT_FOUND",
                                               "message": "Could not find view %s" % opts.view}})
        field_names = None
        if opts.fields is not None:
            field_names = []
            for key in opts.fields:
                f = schema.field(key)
                if f is None:
                    raise unknown_field(key)
                if f["name"] not in field_names:
                    field_names.append(f["name"])
        sort_spec = []
        for key, direction in opts.sort:
            f = schema.field(key)
            if f is None:
                raise unknown_field(key)
            sort_spec.append((f["name"], direction == "desc"))
        records = self.ordered(table, snap, view, sort_spec, opts.formula, opts.readings)
        signature = opts.signature(table)
        position = self.state.take_offset(opts.offset, signature) if opts.offset else 0
        total = len(records) if opts.max_records is None else min(len(records), opts.max_records)
        end = min(position + opts.page_size, total)
        page = records[position:end] if position < total else []
        parts = self.render_records(table, snap, page, opts, field_names)
        text = '{"records":[' + ",".join(parts) + "]"
        if end < total:
            token = self.state.new_offset(signature, end, records[end]["id"])
            text += ',"offset":' + dumps(token)
        return Response(200, text + "}", records=len(page))

    # -- control API --

    def control_table(self, rest):
        """The table of a control path's "{base}/{table}" (percent-encoded)."""
        segs = [urllib.parse.unquote(s) for s in rest.split("/")]
        if len(segs) != 2:
            raise ApiError(404, ERR_NOT_FOUND)
        return self.find_table(self.find_base(segs[0]), segs[1])

    def control(self, method, raw_path, body):
        state = self.state
        try:
            data = json.loads(body.decode("utf-8")) if body else {}
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, {"error": {"type": "INVALID_JSON", "message": "control API body is not JSON"}})
        path = raw_path.rstrip("/")
        if path == "/_test/requests":
            if method == "GET":
                with state.lock:
                    return Response(200, {"requests": list(state.log)})
            if method == "DELETE":
                with state.lock:
                    state.log = []
                return Response(200, {"ok": True})
        elif path == "/_test/faults":
            if method == "GET":
                with state.lock:
                    return Response(200, {"faults": [f.describe() for f in state.faults]})
            if method == "DELETE":
                with state.lock:
                    state.faults = []
                return Response(200, {"ok": True})
            if method == "POST":
                specs = data.get("faults") if isinstance(data, dict) else None
                if not isinstance(specs, list):
                    raise ApiError(400, {"error": {"type": "INVALID_FAULT", "message": "expected {\"faults\": [...]}"}})
                try:
                    faults = [Fault(s) for s in specs]
                except (ValueError, TypeError, re.error) as e:
                    raise ApiError(400, {"error": {"type": "INVALID_FAULT", "message": str(e)}})
                with state.lock:
                    state.faults.extend(faults)
                    return Response(200, {"faults": [f.describe() for f in state.faults]})
        elif path == "/_test/config":
            if method == "GET":
                return Response(200, dict(state.config))
            if method == "POST":
                if not isinstance(data, dict) or set(data) - set(state.config):
                    raise ApiError(400, {"error": {"type": "INVALID_CONFIG",
                                                   "message": "known keys: %s" % sorted(state.config)}})
                if "readings" in data:
                    try:
                        data = dict(data, readings=reading_list(data["readings"]))
                    except (ValueError, TypeError) as e:
                        raise ApiError(400, {"error": {"type": "INVALID_CONFIG", "message": str(e)}})
                with state.lock:
                    state.config.update(data)
                    return Response(200, dict(state.config))
        elif path == "/_test/inflight" and method == "GET":
            # How many API requests are being served (sleeping out latency or
            # a stall included): tests wait for this instead of a fixed time.
            with state.lock:
                return Response(200, {"inflight": state.inflight})
        elif path == "/_test/rate_limit/reset" and method == "POST":
            with state.lock:
                state.windows = {}
                state.penalties = {}
            return Response(200, {"ok": True})
        elif path == "/_test/offsets/expire" and method == "POST":
            with state.lock:
                state.offsets.clear()
            return Response(200, {"ok": True})
        elif path == "/_test/reset" and method == "POST":
            state.reset()
            return Response(200, {"ok": True})
        elif path.startswith("/_test/records/") and method == "POST":
            # {"create"?: [{id?, fields, createdTime?, modifiedTime?}],
            #  "update"?: [{id, fields, modifiedTime?}], "delete"?: [id]}
            table = self.control_table(path[len("/_test/records/"):])
            if not isinstance(data, dict) or set(data) - {"create", "update", "delete"} \
                    or not all(isinstance(data.get(k) or [], list) for k in ("create", "update", "delete")):
                raise invalid_edit("expected {create?, update?, delete?}")
            return Response(200, table.edit(data.get("create") or [], data.get("update") or [],
                                             data.get("delete") or []))
        elif path.startswith("/_test/fields/") and method == "POST":
            # {"add"?: [{name, type, options?, id?, description?, values?}],
            #  "remove"?: [name or id], "rename"?: {name or id: new name},
            #  "retype"?: {name or id: {type, options?, values?}}}
            table = self.control_table(path[len("/_test/fields/"):])
            if not isinstance(data, dict) or set(data) - {"add", "remove", "rename", "retype"} \
                    or not isinstance(data.get("add", []), list) or not isinstance(data.get("remove", []), list) \
                    or not isinstance(data.get("rename", {}), dict) or not isinstance(data.get("retype", {}), dict):
                raise invalid_edit("expected {add?: [...], remove?: [...], rename?: {...}, retype?: {...}}")
            return Response(200, table.edit_fields(data.get("add") or [], data.get("remove") or [],
                                                   data.get("rename"), data.get("retype")))
        raise ApiError(404, ERR_NOT_FOUND)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address, state, verbose=False):
        self.state = state
        self.verbose = verbose
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        # Clients hanging up mid-response are routine in fault tests: stay quiet.
        if self.verbose or not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def load_fixtures(paths):
    specs = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            specs.append(json.load(f))
    return specs


def resolve_fixture(path):
    """Relative fixture paths are taken relative to the repository (falling back
    to the working directory when no such file exists there)."""
    if os.path.isabs(path):
        return path
    in_repo = os.path.join(REPO_ROOT, path)
    return in_repo if os.path.exists(in_repo) or not os.path.exists(path) else os.path.abspath(path)


def parse_readings_arg(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    try:
        return reading_list(names)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def parse_bench_sizes(text):
    import bench_data   # tests/server/bench_data.py
    try:
        return bench_data.parse_sizes(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def parse_args(argv):
    p = argparse.ArgumentParser(description="Airtable-compatible test server")
    p.add_argument("--fixture", action="append", help="base fixture JSON (repeatable)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0: a free port chosen by the OS")
    p.add_argument("--token", default="test-token")
    p.add_argument("--latency-ms", type=float, default=0)
    p.add_argument("--rate-limit", type=int, default=5, help="requests per second per base; 0 = off")
    p.add_argument("--rate-limit-penalty", type=float, default=30,
                   help="seconds a base is refused after exceeding the limit")
    p.add_argument("--readings", type=parse_readings_arg, default=[],
                   help="comma-separated readings of open points (formula.READINGS): %s"
                        % ", ".join(sorted(formula_eval.READINGS)))
    p.add_argument("--bench-records", type=parse_bench_sizes, default=[],
                   help="comma-separated sizes: add the base appBenchData00001 with a generated "
                        "table \"Bench N\" of each size, plain listings pre-rendered (bench_data.py)")
    p.add_argument("--bench-full-max", type=int, default=None,
                   help="bench tables above this many records serve only plain listings and GET "
                        "of one record (default 100000)")
    p.add_argument("--verbose", action="store_true", help="log requests on stderr")
    p.add_argument("--tls-cert", help="serve https with this certificate (PEM)")
    p.add_argument("--tls-key", help="the certificate's private key (PEM)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    paths = [resolve_fixture(p) for p in (args.fixture or DEFAULT_FIXTURES)]
    config = {"latency_ms": args.latency_ms, "rate_limit": args.rate_limit,
              "rate_limit_penalty": args.rate_limit_penalty, "token": args.token,
              "readings": args.readings}
    extra = []
    if args.bench_records:
        import bench_data   # tests/server/bench_data.py: generated tables for benchmarks
        full_max = bench_data.FULL_MAX if args.bench_full_max is None else args.bench_full_max
        extra.append(bench_data.BenchBase(sys.modules[__name__], args.bench_records, full_max))
    state = State(load_fixtures(paths), config, extra)
    server = Server((args.host, args.port), state, verbose=args.verbose)
    scheme = "http"
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"

    def stop(signum, frame):
        # serve_forever() runs in this thread, so shut it down from another one.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write("%s://%s:%d\n" % (scheme, args.host, server.server_address[1]))
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)  # do not wait for handler threads stalled by faults
