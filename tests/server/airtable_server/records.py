"""The records endpoints: List records (GET /v0/{base}/{table}, and POST
/v0/{base}/{table}/listRecords), Get record (GET /v0/{base}/{table}/{record
id}); and what a listing does to the records: view filter, filterByFormula,
sort, pages and offsets."""

import json

from . import formula as formula_eval   # the filterByFormula evaluator
from .errors import ERR_NOT_FOUND, ApiError, invalid_request, unknown_field
from .options import (ListOptions, check_cell_format, parse_body_options, parse_format_param,
                      parse_query_options)
from .render import render_records, to_text
from .response import Response, dumps
from .tables import is_empty


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
# (docs/airtable-api.md, Listing records); an unknown field is refused (422
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
# (docs/airtable-api.md, Formulas: "Open: text sort collation, case, where
# blanks sort, the order of ties"), and the readings sort_blanks_last and
# sort_text_nocase read two of those points the other way.

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



def ordered(table, snap, view, sort_spec, formula, readings=formula_eval.NO_READINGS):
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


def bench_answer(state, table, opts, ask):
    """Check the cell format and take the readings; then what a bench table
    answers itself (ask(bench)), or None to answer from the snapshot."""
    check_cell_format(opts)
    opts.readings = state.readings()
    return ask(table.bench) if table.bench is not None else None


def list_records(state, table, opts):
    """List records: one page of table's listing as opts ask."""
    resp = bench_answer(state, table, opts, lambda b: b.list_records(state, table, opts))
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
    records = ordered(table, snap, view, sort_spec, opts.formula, opts.readings)
    signature = opts.signature(table)
    position = state.take_offset(opts.offset, signature) if opts.offset else 0
    total = len(records) if opts.max_records is None else min(len(records), opts.max_records)
    end = min(position + opts.page_size, total)
    page = records[position:end] if position < total else []
    parts = render_records(snap, page, opts, field_names)
    text = '{"records":[' + ",".join(parts) + "]"
    if end < total:
        token = state.new_offset(signature, end, records[end]["id"])
        text += ',"offset":' + dumps(token)
    return Response(200, text + "}", records=len(page))


def list_records_get(state, table, pairs):
    """List records: GET /v0/{base}/{table}, the options in the query."""
    opts = ListOptions()
    parse_query_options(pairs, opts)
    return list_records(state, table, opts)


def list_records_post(state, table, pairs, body):
    """List records: POST /v0/{base}/{table}/listRecords, the options in the
    JSON body (the query may hold timeZone and userLocale only)."""
    opts = ListOptions()
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
    return list_records(state, table, opts)


def get_record(state, table, record_id, pairs):
    """Get record: GET /v0/{base}/{table}/{record id}."""
    # Airtable docs, Get record: returnFieldsByFieldId and cellFormat apply.
    opts = ListOptions()
    for key, value in pairs:
        if not parse_format_param(opts, key, value):
            raise invalid_request()
    resp = bench_answer(state, table, opts, lambda b: b.get_record(table, record_id, opts))
    if resp is not None:
        return resp
    snap = table.snapshot
    rec = snap.by_id.get(record_id)
    if rec is None:
        raise ApiError(404, ERR_NOT_FOUND)
    return Response(200, render_records(snap, [rec], opts, None)[0])
