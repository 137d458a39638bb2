r"""filterByFormula for the test server: a tokenizer, a recursive-descent parser
that turns a formula into nested closures, and the values those closures compute.

    keep = compile_filter(text, table, modified, readings)   # FormulaError (a 422) when it does not parse
    keep(record) -> bool        # False also when the formula errors on the record

table is the server's Table or Schema (duck-typed: .field(name_or_id) -> field
dict or None, and .fields); a record is {"id", "createdTime", "fields": {name:
cell JSON}}; modified (optional) maps record ids to their last-modified time;
readings (optional) is a set of reading names (see "Readings" below; none:
the default reading of every open point).

What Airtable documents is cited below: "Formula field reference" means
https://support.airtable.com/docs/formula-field-reference; the facts the project
checked are in docs/airtable-api.md ("Formulas").  Where Airtable documents
nothing, the comment says "this server's reading" (the extension
must not rely on such a point either way).

The subset:
  - literals: numbers (12, 1.5, .5, 1e3), text in '...' or "..." with the
    escapes \\ \' \" (docs/airtable-api.md, Formulas: checked); no other escape is accepted
    (this server's reading: an unknown escape is a syntax error; raw newlines
    and other characters stand for themselves).
  - fields: {Field Name} or {fldXXXXXXXXXXXXXX}, inside braces \} stands for
    "}"; a bare name (Price) is a field too (Formula field reference:
    "simply input the name of that field").
  - operators, lowest precedence first: = != < > <= >=, then &, then + -,
    then * /, then unary minus; parentheses; all binary operators are
    left-associative (Airtable's docs give examples, not a precedence table:
    this order is this server's reading).
  - functions (names case-insensitive): AND OR NOT XOR IF ISERROR BLANK TRUE
    FALSE RECORD_ID CREATED_TIME LAST_MODIFIED_TIME CONCATENATE FIND SEARCH MID
    LEFT RIGHT LEN LOWER UPPER VALUE REGEX_MATCH IS_AFTER IS_BEFORE IS_SAME
    DATETIME_PARSE.  An unknown function or a wrong number of arguments is a
    422 like any syntax error.

Readings.  Where Airtable documents nothing (docs/airtable-api.md lists those points
as "Open") the default evaluator picks one behaviour.  A reading names another
plausible behaviour for one such point, so that tests can check that a formula
the extension pushes down keeps at least the records SQL keeps whichever way
Airtable goes.  Each reading changes exactly one point; with no readings the
evaluator behaves as described in the rest of this file.
  - text_nocase: text compared with text by = != < <= > >= ignores case
    (both sides casefolded) and leading/trailing white space.  Open point:
    "whether text = is case-sensitive" (default: case-sensitive, by code point).
  - blank_strict: a blank equals only a blank (BLANK() = "" and BLANK() = 0
    are false), < <= > >= between a blank and anything not blank are false,
    and != between a blank and anything not blank is true.  Open point: "how
    blanks compare with "" and 0" (default: a blank is "" against text, 0
    against a number).
  - blank_text: a blank compared with anything not blank compares as the
    text "" with the other side's text (so BLANK() < 5 is true, "" < "5";
    BLANK() = 0 is false).  Same open point.  Exclusive with blank_strict.
  - find_nocase: FIND ignores case, like SEARCH.  Open point: FIND's case
    (docs/airtable-api.md checks only that FIND gives 0 when it finds nothing;
    default: case-sensitive, as fn_find says).
  - lower_ascii: LOWER and UPPER change only the ASCII letters A-Z/a-z.  Open
    point: which letters LOWER/UPPER map (default: every Unicode letter, as
    JavaScript's toLowerCase does).
  - zero_text_falsy: the text "0" is falsy (a filter drops it, NOT("0") is
    true).  Open point: which texts are falsy (docs/airtable-api.md lists "" only;
    default: every other text is truthy).
The server (render.py, records.py) takes three more readings, which are not about
formulas: omit_zero (a numeric 0 cell is left out of "fields" in responses:
"Open: whether a numeric 0 is left out"), sort_blanks_last and
sort_text_nocase (where blanks sort and whether text sorts ignoring case:
"Open: text sort collation, case, where blanks sort").  READINGS lists them all.
Readings are passed to compile_filter and captured by the closures it builds
(no module state: the server is threaded and each request has its own).
"""

import datetime
import functools
import math
import re
import string

# --- Errors ------------------------------------------------------------------

INVALID = "The formula for filtering records is invalid: "
# Seen in the wild (not documented): 422 INVALID_FILTER_BY_FORMULA, "The formula
# for filtering records is invalid: please check your formula text." for a
# formula that does not parse (Airtable/airtable-ruby#4), and "...: Unknown
# field names: firstname, lastname" for unknown fields (docs/airtable-api.md, Errors).
SYNTAX_MESSAGE = INVALID + "please check your formula text."


class FormulaError(Exception):
    """The formula is refused: HTTP 422 INVALID_FILTER_BY_FORMULA.  detail says
    what this server found wrong (Airtable's message does not say)."""

    status = 422

    def __init__(self, message, detail):
        super().__init__(message, detail)
        self.message = message
        self.detail = detail

    @property
    def body(self):
        return {"error": {"type": "INVALID_FILTER_BY_FORMULA", "message": self.message}}


def syntax_error(detail):
    return FormulaError(SYNTAX_MESSAGE, detail)


class EvalError(Exception):
    """An error value (#ERROR!) met while evaluating one record: it drops the
    record, it does not fail the request (docs/airtable-api.md, Formulas)."""


# --- Readings ------------------------------------------------------------------

# Every reading: name -> what it changes (the module docstring gives the open
# point each one reads).  The last three are the server's (rendering, sorting).
READINGS = {
    "text_nocase": "text compared with text by = != < <= > >= ignores case and leading/trailing white space",
    "blank_strict": "a blank equals only a blank; < <= > >= with a non-blank are false, != is true",
    "blank_text": "a blank compared with a non-blank compares as the text \"\" with the other side's text",
    "find_nocase": "FIND ignores case, like SEARCH",
    "lower_ascii": "LOWER and UPPER change only ASCII letters",
    "zero_text_falsy": "the text \"0\" is falsy (NOT(\"0\") is true)",
    "omit_zero": "a numeric 0 cell is left out of \"fields\" in list-records and get-record responses",
    "sort_blanks_last": "blanks sort after every value in ascending order (first in descending)",
    "sort_text_nocase": "text sorts ignoring case (casefolded); ties keep their order",
}
EXCLUSIVE_READINGS = [("blank_strict", "blank_text")]   # two readings of one point
NO_READINGS = frozenset()


def check_readings(names):
    """names (an iterable of reading names) as a frozenset; ValueError saying
    what is wrong for a name that is not a reading or two that exclude each
    other."""
    if isinstance(names, (str, bytes)) or not all(isinstance(n, str) for n in names):
        raise ValueError("readings is a list of names, known: %s" % ", ".join(sorted(READINGS)))
    out = frozenset(names)
    unknown = sorted(out - set(READINGS))
    if unknown:
        raise ValueError("unknown readings %s; known: %s" % (", ".join(unknown), ", ".join(sorted(READINGS))))
    for a, b in EXCLUSIVE_READINGS:
        if a in out and b in out:
            raise ValueError("readings %s and %s read one point two ways: choose one" % (a, b))
    return out


# --- Values ------------------------------------------------------------------
#
# A formula value is None (blank), bool, int or float (NaN included), str,
# datetime (aware, UTC) or a list (multiple selects, lookups, links).

UTC = datetime.timezone.utc
PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})"
                      r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
                      r"(Z|[+-]\d{2}:?\d{2})?")
DATE_TYPES = {"date", "dateTime", "createdTime", "lastModifiedTime"}


def parse_iso(text):
    """An ISO 8601 date or date-time as an aware UTC datetime, or None.  A
    time without an offset is read as UTC (formulas work in GMT unless
    SET_TIMEZONE is used: Formula field reference, date and time functions)."""
    m = ISO_DATE.fullmatch(text.strip())
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, zone = m.groups()
    try:
        dt = datetime.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                               int((frac or "0").ljust(6, "0")[:6]), tzinfo=UTC)
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        dt -= sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return dt


def parse_number(text):
    """text as a number when it is plainly one ("3", "-1.5", "1e3"), else None."""
    if PLAIN_NUMBER.fullmatch(text) is None:
        return None
    return int(text) if re.fullmatch(r"[-+]?\d+", text) else float(text)


def number_text(x):
    # JavaScript's way (Airtable formulas run JavaScript): 3.0 -> "3", NaN -> "NaN".
    if isinstance(x, float):
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
        if x.is_integer() and abs(x) < 1e21:
            return str(int(x))
        return repr(x)
    return str(x)


def date_text(dt):
    # Airtable's JSON form of a date-time: "2024-01-10T18:00:00.000Z".
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (dt.microsecond // 1000)


def to_text(v):
    """Text form.  Blank is ""; TRUE() is 1 (Formula field reference: "the
    value of true is represented numerically by a 1"), so true is "1"; an
    array joins its elements with ", " (docs/airtable-api.md, Cell values)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        return number_text(v)
    if isinstance(v, datetime.datetime):
        return date_text(v)
    if isinstance(v, list):
        return ", ".join(to_text(x) for x in v)
    return v


def to_number(v):
    """Number form for arithmetic.  This server's reading: blank and "" are 0,
    true is 1, text that is not plainly a number is NaN, a date is an error."""
    if v is None:
        return 0
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, datetime.datetime):
        raise EvalError("#ERROR!")
    text = to_text(v).strip()
    if text == "":
        return 0
    n = parse_number(text)
    return math.nan if n is None else n


def to_int(v):
    """A count or position: truncated toward zero; NaN or infinity is an error."""
    n = to_number(v)
    if isinstance(n, float) and not math.isfinite(n):
        raise EvalError("#ERROR!")
    return int(n)


def to_datetime(v):
    """A date argument: blank stays blank; text must be ISO 8601 (else #ERROR!)."""
    if v is None or isinstance(v, datetime.datetime):
        return v
    if isinstance(v, (str, list)):
        dt = parse_iso(to_text(v))
        if dt is not None:
            return dt
    raise EvalError("#ERROR!")


def truthy(v, readings=NO_READINGS):
    """Airtable keeps a record unless the formula yields 0, false, "", NaN, []
    or an error (docs/airtable-api.md, Formulas); blank is falsy too.  Reading
    zero_text_falsy: the text "0" is falsy as well."""
    if v is None:
        return False
    if isinstance(v, str) and v == "0" and "zero_text_falsy" in readings:
        return False
    if isinstance(v, float) and math.isnan(v):
        return False
    if isinstance(v, (bool, int, float, str, list)):
        return bool(v)
    return True


def compare(a, b, readings=NO_READINGS):
    """-1, 0 or 1, or None when the two cannot be ordered (NaN; a date against
    blank).  Airtable does not document how values of different kinds, or
    blanks, compare: everything below beyond number against number is this
    server's reading of those open points (docs/airtable-api.md: "how blanks
    compare with "" and 0; how numbers compare with text"; case of text =),
    and the readings text_nocase, blank_strict and blank_text read them
    otherwise (see the module docstring):
      - an array compares as its text ("a, b");
      - blank equals blank, equals "" against text and 0 against a number or a
        checkbox (so BLANK() = "" and BLANK() = 0 are both true);
      - text against text is case-sensitive, by code point (community reports
        say text = is case-sensitive; Airtable does not document it);
      - true/false are 1/0;
      - numbers compare as IEEE doubles, as JavaScript compares them (an
        integer beyond 2**53 is rounded first: 9007199254740993 =
        9007199254740992);
      - a number against text: the text is read as a number when it plainly is
        one ('3' = 3, 3 < '10'), else both compare as text;
      - a date against text: the text is read as ISO 8601 when it is, else both
        compare as text; dates compare as instants."""
    if isinstance(a, list):
        a = to_text(a)
    if isinstance(b, list):
        b = to_text(b)
    if a is None and b is None:
        return 0
    if a is None or b is None:
        if "blank_strict" in readings:
            return None        # unordered: = < <= > >= false, != true
        if "blank_text" in readings:
            return compare_text(to_text(a), to_text(b), readings)
    if a is None:
        a = blank_as(b)
    if b is None:
        b = blank_as(a)
    if a is None or b is None:
        return None
    if isinstance(a, bool):
        a = int(a)
    if isinstance(b, bool):
        b = int(b)
    a, b = read_as(a, b), read_as(b, a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        a, b = as_double(a), as_double(b)
        if math.isnan(a) or math.isnan(b):
            return None
    elif not (isinstance(a, datetime.datetime) and isinstance(b, datetime.datetime)):
        return compare_text(to_text(a), to_text(b), readings)
    return (a > b) - (a < b)


def compare_text(a, b, readings=NO_READINGS):
    """Text against text: by code point; reading text_nocase: casefolded and
    stripped of leading and trailing white space first."""
    if "text_nocase" in readings:
        a, b = a.strip().casefold(), b.strip().casefold()
    return (a > b) - (a < b)


def as_double(n):
    """n as JavaScript holds a number: a double (too large: infinity)."""
    try:
        return float(n)
    except OverflowError:
        return math.inf if n > 0 else -math.inf


def read_as(v, other):
    """Text v read as a number or a date when it is compared with one and
    plainly is one; anything else unchanged."""
    if isinstance(v, str) and isinstance(other, (int, float)):
        n = parse_number(v.strip())
        return v if n is None else n
    if isinstance(v, str) and isinstance(other, datetime.datetime):
        return parse_iso(v) or v
    return v


def blank_as(other):
    if isinstance(other, str):
        return ""
    if isinstance(other, (bool, int, float)):
        return 0
    return None


def divide(a, b):
    # This server's reading: x / 0 is #ERROR! (as the sample base's Cost per kg
    # formula shows for a weight of 0); Airtable does not document it.
    a, b = to_number(a), to_number(b)
    if b == 0:
        raise EvalError("#ERROR!")
    return a / b


def comparison(test, readings=NO_READINGS):
    """A comparison operator: false when the two cannot be ordered, except !=."""
    return lambda a, b: test(compare(a, b, readings))


# What each comparison operator makes of compare()'s answer.
COMPARISONS = {
    "=": lambda c: c == 0,
    "!=": lambda c: c != 0,
    "<": lambda c: c is not None and c < 0,
    ">": lambda c: c is not None and c > 0,
    "<=": lambda c: c is not None and c <= 0,
    ">=": lambda c: c is not None and c >= 0,
}
BINARY = {
    **{op: comparison(test) for op, test in COMPARISONS.items()},
    "&": lambda a, b: to_text(a) + to_text(b),
    "+": lambda a, b: to_number(a) + to_number(b),
    "-": lambda a, b: to_number(a) - to_number(b),
    "*": lambda a, b: to_number(a) * to_number(b),
    "/": divide,
}
LEVELS = [("=", "!=", "<", ">", "<=", ">="), ("&",), ("+", "-"), ("*", "/")]


# --- Cell values -------------------------------------------------------------

def cell_value(raw, is_date):
    """A field's cell JSON as a formula value.  A computed error
    ({"error": "#ERROR!"}) is an error wherever it is used; {"specialValue":
    "NaN"} is NaN (docs/airtable-api.md, Cell values).  This server's reading for
    objects: a collaborator gives its name, an attachment its filename, a
    barcode its text, a button its label, an AI text its value."""
    if raw is None:
        return None
    if isinstance(raw, dict):
        if "error" in raw:
            raise EvalError(str(raw["error"]))
        if raw.get("specialValue") == "NaN":
            return math.nan
        for key in ("name", "filename", "text", "label", "value", "email", "id"):
            if raw.get(key) is not None:
                return str(raw[key])
        return ""
    if isinstance(raw, list):
        return [cell_value(x, is_date) for x in raw]
    if is_date and isinstance(raw, str):
        return parse_iso(raw) or raw
    return raw


def is_date_field(f):
    """Date, dateTime, created/last-modified time, and formulas or rollups
    whose result is a date: their cells are dates in a formula."""
    result = (f.get("options") or {}).get("result") or {}
    return f["type"] in DATE_TYPES or (f["type"] in ("formula", "rollup")
                                        and result.get("type") in ("date", "dateTime"))


# --- Functions ---------------------------------------------------------------
#
# Each takes (record, argument closures).  Most want their arguments' values
# (eager); IF and ISERROR evaluate only what they need.  AND, OR and XOR
# evaluate every argument, so an error in any of them is the result's error
# (this server's reading: Airtable does not document short-circuiting).

def eager(fn):
    return lambda rec, args: fn(*[a(rec) for a in args])


def make_if(test):
    """IF, deciding with test (truthy under the request's readings)."""
    def fn_if(rec, args):
        # Formula field reference: IF(expression, value1, value2); value2 may be
        # left out (blank when the expression is false).
        if test(args[0](rec)):
            return args[1](rec)
        return args[2](rec) if len(args) > 2 else None
    return fn_if


def fn_iserror(rec, args):
    try:
        args[0](rec)
    except EvalError:
        return True
    return False


def fn_find(needle, haystack, start=0, fold=False):
    # Formula field reference, FIND(stringToFind, whereToSearch,
    # [startFromPosition]): the 1-based position of the first occurrence at or
    # after startFromPosition ("0 by default"), 0 when there is none.
    # Case-sensitive.  Positions count code points (JavaScript counts UTF-16
    # units: they differ only outside the Basic Multilingual Plane).  This
    # server's reading: an empty needle is found where the search starts.
    needle, haystack = to_text(needle), to_text(haystack)
    if fold:
        needle, haystack = needle.lower(), haystack.lower()
    return haystack.find(needle, max(to_int(start) - 1, 0)) + 1


def fn_find_nocase(needle, haystack, start=0):
    # Reading find_nocase: FIND ignores case as SEARCH does (but still gives
    # 0 when not found).
    return fn_find(needle, haystack, start, fold=True)


def fn_search(needle, haystack, start=0):
    # Formula field reference: like FIND, but "returns empty rather than 0" when
    # not found; case-insensitive (docs/airtable-api.md, Formulas: checked functions).
    return fn_find(needle, haystack, start, fold=True) or None


def fn_mid(text, start, count):
    # Formula field reference: MID(string, whereToStart, count), 1-based.  This
    # server's reading: a start before 1 or a negative count is #ERROR!.
    start, count = to_int(start), to_int(count)
    if start < 1 or count < 0:
        raise EvalError("#ERROR!")
    return to_text(text)[start - 1:start - 1 + count]


def fn_left(text, count):
    count = to_int(count)
    if count < 0:
        raise EvalError("#ERROR!")
    return to_text(text)[:count]


def fn_right(text, count):
    count, text = to_int(count), to_text(text)
    if count < 0:
        raise EvalError("#ERROR!")
    return text[len(text) - count:] if count else ""


def fn_value(v):
    """Formula field reference: VALUE(text) converts text to a number.  Text
    that is not plainly a number: community reports say Airtable keeps its
    digits (and "."), divides by 100 when it holds a "%" and negates once per
    "-" (community.airtable.com/t/interesting-discovery-the-value-function-
    performs-math/37912).  This server's reading: text with no digit is blank."""
    if v is None or isinstance(v, (bool, int, float)):
        return None if v is None else to_number(v)
    text = to_text(v).strip()
    n = parse_number(text)
    if n is not None:
        return n
    digits = re.sub(r"[^0-9.]", "", text)
    try:
        n = float(digits)
    except ValueError:
        return None
    if "%" in text:
        n /= 100
    n *= (-1) ** text.count("-")
    return int(n) if n.is_integer() else n


def fn_regex_match(text, pattern):
    # Formula field reference, REGEX_MATCH(string, regex).  Airtable uses RE2;
    # Python's re agrees on the common syntax.  A bad pattern is #ERROR!.
    try:
        return re.search(to_text(pattern), to_text(text)) is not None
    except re.error:
        raise EvalError("#ERROR!")


def dates(a, b):
    a, b = to_datetime(a), to_datetime(b)
    return (None, None) if a is None or b is None else (a, b)


def fn_is_after(a, b):
    # Formula field reference: IS_AFTER([date1], [date2]) is whether date1 is
    # later.  This server's reading: a blank date gives blank (false).
    a, b = dates(a, b)
    return None if a is None else a > b


def fn_is_before(a, b):
    a, b = dates(a, b)
    return None if a is None else a < b


# IS_SAME units (moment.js names, as Airtable's docs use: 'year', 'hours', ...).
UNITS = {"y": "year", "Q": "quarter", "M": "month", "w": "week", "d": "day", "D": "day",
         "h": "hour", "m": "minute", "s": "second", "ms": "millisecond"}
UNIT_NAMES = {"year", "quarter", "month", "week", "day", "date", "hour", "minute", "second",
              "millisecond"}


def truncate(dt, unit):
    if unit == "year":
        return dt.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "quarter":
        return truncate(dt.replace(month=(dt.month - 1) // 3 * 3 + 1), "month")
    if unit == "month":
        return dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":   # weeks start on Sunday (moment's default locale)
        return truncate(dt - datetime.timedelta(days=(dt.weekday() + 1) % 7), "day")
    if unit in ("day", "date"):
        return dt.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "hour":
        return dt.replace(minute=0, second=0, microsecond=0)
    if unit == "minute":
        return dt.replace(second=0, microsecond=0)
    if unit == "second":
        return dt.replace(microsecond=0)
    return dt.replace(microsecond=dt.microsecond // 1000 * 1000)


def fn_is_same(a, b, unit=None):
    # Formula field reference: IS_SAME(date1, date2, [unit]) compares two dates
    # up to a unit.  Without a unit: the same millisecond.  In UTC.  An unknown
    # unit is #ERROR! (this server's reading).
    a, b = dates(a, b)
    if a is None:
        return None
    name = "ms" if unit is None else to_text(unit).strip()
    name = UNITS.get(name) or name.lower()
    if name.endswith("s") and name[:-1] in UNIT_NAMES:
        name = name[:-1]
    if name not in UNIT_NAMES:
        raise EvalError("#ERROR!")
    return truncate(a, name) == truncate(b, name)


def fn_datetime_parse(text, fmt=None, locale=None):
    # Formula field reference: DATETIME_PARSE(date, ['input format'],
    # ['locale']).  Only ISO 8601 input is modelled: with or without a format,
    # the text must be ISO 8601, else #ERROR!.  Blank in, blank out.
    if text is None or isinstance(text, datetime.datetime):
        return text
    dt = parse_iso(to_text(text))
    if dt is None:
        raise EvalError("#ERROR!")
    return dt


def fn_created_time(rec, args):
    return parse_iso(rec["createdTime"])


def fn_record_id(rec, args):
    return rec["id"]


def logical(combine, test=truthy):
    return eager(lambda *values: combine([test(v) for v in values]))


# Reading lower_ascii: LOWER and UPPER map only A-Z and a-z.  By default they
# map every letter, as JavaScript's toLowerCase/toUpperCase do (Python's
# str.lower/upper agree with them on all but a few special cases).
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


# name: (least arguments, most arguments or None, implementation)
FUNCTIONS = {
    "AND": (1, None, logical(all)),
    "OR": (1, None, logical(any)),
    "XOR": (1, None, logical(lambda bits: sum(bits) % 2 == 1)),   # odd number true
    "NOT": (1, 1, eager(lambda v: not truthy(v))),
    "IF": (2, 3, make_if(truthy)),
    "ISERROR": (1, 1, fn_iserror),
    "BLANK": (0, 0, eager(lambda: None)),
    "TRUE": (0, 0, eager(lambda: True)),
    "FALSE": (0, 0, eager(lambda: False)),
    "RECORD_ID": (0, 0, fn_record_id),
    "CREATED_TIME": (0, 0, fn_created_time),
    "LAST_MODIFIED_TIME": (0, 0, None),   # needs the table: see Parser.call
    "CONCATENATE": (1, None, eager(lambda *vs: "".join(to_text(v) for v in vs))),
    "FIND": (2, 3, eager(fn_find)),
    "SEARCH": (2, 3, eager(fn_search)),
    "MID": (3, 3, eager(fn_mid)),
    "LEFT": (2, 2, eager(fn_left)),
    "RIGHT": (2, 2, eager(fn_right)),
    "LEN": (1, 1, eager(lambda v: len(to_text(v)))),
    "LOWER": (1, 1, eager(lambda v: to_text(v).lower())),
    "UPPER": (1, 1, eager(lambda v: to_text(v).upper())),
    "VALUE": (1, 1, eager(fn_value)),
    "REGEX_MATCH": (2, 2, eager(fn_regex_match)),
    "IS_AFTER": (2, 2, eager(fn_is_after)),
    "IS_BEFORE": (2, 2, eager(fn_is_before)),
    "IS_SAME": (2, 3, eager(fn_is_same)),
    "DATETIME_PARSE": (1, 3, eager(fn_datetime_parse)),
}


class Language:
    """The operators, functions and truthiness of formulas under one set of
    readings.  With none: BINARY, FUNCTIONS and truthy themselves."""

    def __init__(self, readings):
        self.readings = readings
        self.binary = dict(BINARY)
        self.functions = dict(FUNCTIONS)
        if not readings:
            self.truthy = truthy
            return
        test = self.truthy = lambda v: truthy(v, readings)
        for op, outcome in COMPARISONS.items():
            self.binary[op] = comparison(outcome, readings)
        self.functions.update({
            "AND": (1, None, logical(all, test)),
            "OR": (1, None, logical(any, test)),
            "XOR": (1, None, logical(lambda bits: sum(bits) % 2 == 1, test)),
            "NOT": (1, 1, eager(lambda v: not test(v))),
            "IF": (2, 3, make_if(test)),
        })
        if "find_nocase" in readings:
            self.functions["FIND"] = (2, 3, eager(fn_find_nocase))
        if "lower_ascii" in readings:
            self.functions["LOWER"] = (1, 1, eager(lambda v: to_text(v).translate(ASCII_LOWER)))
            self.functions["UPPER"] = (1, 1, eager(lambda v: to_text(v).translate(ASCII_UPPER)))


@functools.lru_cache(maxsize=None)
def language(readings):
    """The Language of a frozenset of readings (built once per set)."""
    return Language(readings)


def watches_every_field(f):
    """Whether f is a lastModifiedTime field that tracks every field: its
    options.referencedFieldIds (Field model: the fields it tracks) are null or
    missing, as in the sample base (this server's reading; an empty list is
    read the same way, since a field tracking nothing would never change)."""
    return f["type"] == "lastModifiedTime" and not (f.get("options") or {}).get("referencedFieldIds")


def last_modified_time(table, modified=None):
    """LAST_MODIFIED_TIME() is the record's last change (docs/airtable-api.md,
    Changes and deletions).  modified maps record ids to that time (ISO text): the server
    keeps one per record and moves it on every edit.  For a record it does
    not know: the record's lastModifiedTime field that watches every field, if
    the table has one and the cell is set, else createdTime."""
    names = [f["name"] for f in (table.fields if table is not None else []) if watches_every_field(f)]

    def call(rec, args):
        known = modified.get(rec["id"]) if modified is not None else None
        if known is not None:
            return parse_iso(known)
        for name in names:
            dt = parse_iso(rec["fields"].get(name) or "")
            if dt is not None:
                return dt
        return parse_iso(rec["createdTime"])
    return call


# --- Tokens and parser ---------------------------------------------------------

TOKEN = re.compile(r"(?P<space>\s+)|(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
                   r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>!=|<=|>=|[-=<>&+*/(),])")


def tokenize(text):
    """[(kind, value, offset)]: kinds num, str, field, name, op, end."""
    tokens, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"":
            chars, j = [], i + 1
            while True:
                if j >= n:
                    raise syntax_error("unterminated text at %d" % i)
                if text[j] == "\\":
                    if j + 1 >= n or text[j + 1] not in "\\'\"":
                        raise syntax_error("unknown escape at %d" % j)
                    chars.append(text[j + 1])
                    j += 2
                elif text[j] == c:
                    break
                else:
                    chars.append(text[j])
                    j += 1
            tokens.append(("str", "".join(chars), i))
            i = j + 1
        elif c == "{":
            # pyairtable escapes "}" in a name as "\}" and notes that Airtable
            # fails on names with more than one "}"; this server accepts any number.
            chars, j = [], i + 1
            while True:
                if j >= n:
                    raise syntax_error("unterminated field name at %d" % i)
                if text.startswith("\\}", j):
                    chars.append("}")
                    j += 2
                elif text[j] == "}":
                    break
                else:
                    chars.append(text[j])
                    j += 1
            if not chars:
                raise syntax_error("empty field name at %d" % i)
            tokens.append(("field", "".join(chars), i))
            i = j + 1
        else:
            m = TOKEN.match(text, i)
            if m is None:
                raise syntax_error("unexpected %r at %d" % (c, i))
            if m.lastgroup != "space":
                tokens.append((m.lastgroup, m.group(), i))
            i = m.end()
    tokens.append(("end", "", n))
    return tokens


class Parser:
    """Recursive descent over the tokens; every rule returns a closure
    record -> value."""

    def __init__(self, text, table, modified=None, readings=NO_READINGS):
        self.tokens = tokenize(text)
        self.pos = 0
        self.table = table
        self.modified = modified   # record id -> last-modified time, for LAST_MODIFIED_TIME()
        self.lang = language(check_readings(readings))   # operators and functions to use
        self.unknown = []          # unknown field names, in order of appearance

    def peek(self):
        return self.tokens[self.pos]

    def next(self):
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def at_op(self, *ops):
        kind, value, _ = self.peek()
        return kind == "op" and value in ops

    def expect(self, op):
        kind, value, at = self.next()
        if kind != "op" or value != op:
            raise syntax_error("expected %r at %d" % (op, at))

    def formula(self):
        expr = self.binary(0)
        kind, value, at = self.peek()
        if kind != "end":
            raise syntax_error("unexpected %r at %d" % (value, at))
        if self.unknown:
            raise FormulaError(INVALID + "Unknown field names: " + ", ".join(self.unknown),
                               "unknown fields")
        return expr

    def binary(self, level):
        if level == len(LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.at_op(*LEVELS[level]):
            fn = self.lang.binary[self.next()[1]]
            right = self.binary(level + 1)
            left = (lambda fn, l, r: lambda rec: fn(l(rec), r(rec)))(fn, left, right)
        return left

    def unary(self):
        if self.at_op("-"):
            self.next()
            operand = self.unary()
            return lambda rec: -to_number(operand(rec))
        return self.primary()

    def primary(self):
        kind, value, at = self.next()
        if kind == "num":
            n = parse_number(value)
            return lambda rec: n
        if kind == "str":
            return lambda rec: value
        if kind == "field":
            return self.field(value)
        if kind == "name":
            if self.at_op("("):
                return self.call(value, at)
            return self.field(value)
        if kind == "op" and value == "(":
            expr = self.binary(0)
            self.expect(")")
            return expr
        raise syntax_error("unexpected %s at %d" % (repr(value) if value else "end", at))

    def call(self, name, at):
        self.expect("(")
        args = []
        if not self.at_op(")"):
            args.append(self.binary(0))
            while self.at_op(","):
                self.next()
                args.append(self.binary(0))
        self.expect(")")
        spec = self.lang.functions.get(name.upper())
        if spec is None:
            raise syntax_error("unknown function %s at %d" % (name, at))
        least, most, impl = spec
        if len(args) < least or (most is not None and len(args) > most):
            raise syntax_error("%s takes %s arguments, not %d" % (
                name.upper(), least if least == most else "%d to %s" % (least, most or "any"),
                len(args)))
        if name.upper() == "LAST_MODIFIED_TIME":
            impl = last_modified_time(self.table, self.modified)
        return lambda rec: impl(rec, args)

    def field(self, key):
        """{name} or {fldId}: the server's Table.field looks up a name first,
        then an id; records hold cells by field name."""
        f = self.table.field(key) if self.table is not None else None
        if f is None:
            # Reported messages list the names in lower case ("Unknown field
            # names: firstname, lastname"); this server does the same.
            if key.lower() not in self.unknown:
                self.unknown.append(key.lower())
            return None
        name, is_date = f["name"], is_date_field(f)
        return lambda rec: cell_value(rec["fields"].get(name), is_date)


def compile_expression(text, table=None, modified=None, readings=NO_READINGS):
    """The formula as a closure record -> value (raising EvalError for an
    error value), or FormulaError when it does not parse.  modified: record
    id -> ISO time of the record's last change (see last_modified_time).
    readings: reading names (READINGS; ValueError for an unknown one)."""
    try:
        return Parser(text, table, modified, readings).formula()
    except RecursionError:
        raise syntax_error("formula nested too deeply")


def compile_filter(text, table=None, modified=None, readings=NO_READINGS):
    """Predicate record -> bool: whether filterByFormula keeps the record."""
    expr = compile_expression(text, table, modified, readings)
    test = language(check_readings(readings)).truthy

    def keep(rec):
        try:
            return test(expr(rec))
        except EvalError:
            return False
    return keep
