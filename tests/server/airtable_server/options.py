"""List records options (and Get record's output options), from a query
string or a listRecords JSON body, checked as Airtable checks them."""

import json
import re

from . import formula as formula_eval   # the filterByFormula evaluator
from .errors import invalid_request

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
