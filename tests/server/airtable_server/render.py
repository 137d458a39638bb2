"""A record as a response gives it: its JSON text (pre-rendered in the
snapshot, or rendered for fields[], cellFormat=string, returnFieldsByFieldId,
recordMetadata and the omit_zero reading) and a cell's cellFormat=string text."""

from .response import dumps


def is_number_zero(value):
    # Reading omit_zero: a cell whose JSON value is the number 0 (or -0.0).
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == 0


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



def render_records(snap, records, opts, field_names):
    """JSON text of each record.  field_names: names to keep, or None for all.

    Reading omit_zero (docs/airtable-api.md, Listing records: "Open: whether
    a numeric 0 is left out"; by default it is returned): a cell whose JSON
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
