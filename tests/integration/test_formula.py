"""Tests of the test server's filterByFormula evaluator
(tests/server/airtable_server/formula.py): the evaluator directly, then
through the HTTP server.

    /usr/bin/python3 -m pytest -q tests/integration/test_formula.py
"""
import datetime
import json
import math
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import pytest

import airtable_server
from airtable_server import formula as F
from conftest import SAMPLE, SERVER_COMMAND, Server, load_fixture, server_env

SAMPLE_BASE = load_fixture(SAMPLE)
TASKS = airtable_server.Table(None, SAMPLE_BASE["tables"][0])
assert TASKS.name == "Packaging Tasks"
TASK_IDS = [r["id"] for r in TASKS.snapshot.records]
SYNTAX = {"error": {"type": "INVALID_FILTER_BY_FORMULA",
                    "message": "The formula for filtering records is invalid: please check your formula text."}}


def unknown_fields(names):
    return {"error": {"type": "INVALID_FILTER_BY_FORMULA",
                      "message": "The formula for filtering records is invalid: Unknown field names: " + names}}


def utc(*args):
    return datetime.datetime(*args, tzinfo=datetime.timezone.utc)


# A small table with one field of each kind the evaluator tells apart.
MINI = airtable_server.Table(None, {
    "id": "tblMini0000000001", "name": "Mini",
    "fields": [
        {"id": "fldName0000000001", "name": "Name", "type": "singleLineText"},
        {"id": "fldCount000000001", "name": "Count", "type": "number"},
        {"id": "fldDone0000000001", "name": "Done", "type": "checkbox"},
        {"id": "fldTags0000000001", "name": "Tags", "type": "multipleSelects"},
        {"id": "fldWhen0000000001", "name": "When", "type": "dateTime"},
        {"id": "fldDay00000000001", "name": "Day", "type": "date"},
        {"id": "fldCalc0000000001", "name": "Calc", "type": "formula",
         "options": {"result": {"type": "number"}}},
        {"id": "fldOdd00000000001", "name": "Odd} name", "type": "singleLineText"},
        {"id": "fldOwner000000001", "name": "Owner", "type": "singleCollaborator"},
    ],
    "records": [],
})
FULL = {"id": "recAAAAAAAAAAAAA1", "createdTime": "2024-01-02T03:04:05.000Z", "fields": {
    "Name": "Alpha", "Count": 3, "Done": True, "Tags": ["red", "blue"],
    "When": "2024-03-01T12:30:00.000Z", "Day": "2024-03-01", "Calc": 1.5, "Odd} name": "odd",
    "Owner": {"id": "usrAAAAAAAAAAAAA1", "email": "ada@example.com", "name": "Ada"}}}
EMPTY = {"id": "recBBBBBBBBBBBBB2", "createdTime": "2024-01-03T00:00:00.000Z", "fields": {}}
ERROR = {"id": "recCCCCCCCCCCCCC3", "createdTime": "2024-01-04T00:00:00.000Z",
         "fields": {"Name": "Err", "Calc": {"error": "#ERROR!"}}}
NAN = {"id": "recDDDDDDDDDDDDD4", "createdTime": "2024-01-05T00:00:00.000Z",
       "fields": {"Calc": {"specialValue": "NaN"}}}
MINI_RECORDS = [FULL, EMPTY, ERROR, NAN]


def ev(text, rec=FULL, table=MINI):
    return F.compile_expression(text, table)(rec)


def kept(text, records=MINI_RECORDS, table=MINI):
    keep = F.compile_filter(text, table)
    return [r["id"] for r in records if keep(r)]


def is_error(cell):
    return isinstance(cell, dict) and "error" in cell


def same(got, want):
    """Equal, and of the same type (1 is not True, 3 is not 3.0)."""
    return type(got) is type(want) and got == want


# --- Literals and operators --------------------------------------------------

@pytest.mark.parametrize("text,want", [
    ("1", 1), ("1.5", 1.5), (".5", 0.5), ("1e3", 1000.0), ("007", 7),
    ("'it\\'s'", "it's"), ('"say \\"hi\\""', 'say "hi"'), ("'a\\\\b'", "a\\b"),
    ("'x\"y'", 'x"y'), ('"x\'y"', "x'y"), ("'two\nlines'", "two\nlines"), ("''", ""),
    ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("7 / 2", 3.5), ("8 / 4 / 2", 1.0),
    ("2 - 3 - 4", -5), ("-2 * 3", -6), ("- -2", 2), ("-(1 + 2)", -3), ("2--3", 5),
    # & binds looser than + - * /, comparisons looser than &.
    ("1 + 2 & 3", "33"), ("'a' & 1 + 1", "a2"), ("2 * 3 & ''", "6"), ("1 & 2 = '12'", True),
    ("'a' & 'b' = 'ab'", True), ("1 + 1 = 2", True), ("1 < 2 = TRUE()", True),
    ("1.5 * 2 & ''", "3"), ("0.1 + 0.2 & ''", "0.30000000000000004"), ("1 / 4 & ''", "0.25"),
    ("1 = 1", True), ("1 != 1", False), ("1 < 2", True), ("2 > 1", True), ("2 <= 2", True),
    ("3 >= 4", False), ("2 < 1", False), ("1 != 2", True),
    # Text: case-sensitive, by code point.
    ("'abc' = 'abc'", True), ("'abc' = 'ABC'", False), ("'abc' != 'ABC'", True),
    ("'abc' < 'abd'", True), ("'B' < 'a'", True), ("'b' > 'a'", True),
    # Numbers against text: the text read as a number when it plainly is one.
    ("'3' = 3", True), ("3 = ' 3 '", True), ("3 < '10'", True), ("'0' = 0", True), ("'x' = 0", False),
    ("'' = 0", False), ("3 = 'three'", False),
    # Blanks.
    ("BLANK() = ''", True), ("BLANK() = 0", True), ("BLANK() = BLANK()", True),
    ("BLANK() != ''", False), ("BLANK() = 'x'", False), ("BLANK() = 1", False), ("BLANK() < 1", True),
    ("BLANK() + 1", 1), ("BLANK() & 'x'", "x"),
    # TRUE() is 1, FALSE() is 0.
    ("TRUE() = 1", True), ("FALSE() = 0", True), ("TRUE() & ''", "1"), ("FALSE() & ''", "0"),
    ("TRUE() + TRUE()", 2), ("'1' = TRUE()", True),
])
def test_literals_and_operators(text, want):
    assert same(ev(text), want)


def test_nan_and_errors_of_operators():
    assert math.isnan(ev("'a' + 1"))
    assert math.isnan(ev("VALUE('1') * 'x'"))
    assert ev("('a' + 1) = ('a' + 1)") is False        # NaN equals nothing
    assert ev("('a' + 1) != 1") is True
    assert ev("('a' + 1) < 1") is False and ev("('a' + 1) >= 1") is False
    for text in ("1 / 0", "0 / 0", "1 / BLANK()", "DATETIME_PARSE('2024-01-01') + 1", "-DATETIME_PARSE('2024-01-01')"):
        with pytest.raises(F.EvalError):
            ev(text)


# --- Functions ---------------------------------------------------------------

@pytest.mark.parametrize("text,want", [
    ("AND(1, 'x')", True), ("AND(1, 0)", False), ("AND('')", False), ("AND(1, 2, 3)", True),
    ("OR(0, '', BLANK())", False), ("OR(0, 'x')", True), ("OR(FALSE(), 1 > 0)", True),
    ("NOT(0)", True), ("NOT('a')", False), ("NOT(BLANK())", True),
    ("XOR(1, 1)", False), ("XOR(1, 0)", True), ("XOR(1, 1, 1)", True), ("XOR(0)", False),
    ("IF(1, 'y', 'n')", "y"), ("IF(0, 'y', 'n')", "n"), ("IF(0, 'y')", None), ("IF('x', 1, 2)", 1),
    ("IF(1, 'ok', 1 / 0)", "ok"), ("IF(0, 1 / 0, 'ok')", "ok"),
    ("ISERROR(1 / 0)", True), ("ISERROR(1)", False), ("ISERROR('a' + 1)", False),
    ("ISERROR(DATETIME_PARSE('nope'))", True),
    ("BLANK()", None), ("TRUE()", True), ("FALSE()", False),
    ("FIND('b', 'abcb')", 2), ("FIND('B', 'abc')", 0), ("FIND('b', 'abcb', 3)", 4),
    ("FIND('b', 'abcb', 5)", 0), ("FIND('a', 'abc', 0)", 1), ("FIND('a', 'abc', 1)", 1),
    ("FIND('a', 'abc', 2)", 0), ("FIND('', 'abc')", 1), ("FIND('c', BLANK())", 0),
    ("FIND('cd', 'abcd')", 3), ("FIND(1, 'a1')", 2), ("FIND('a', 'bab', 1.9)", 2),
    ("SEARCH('B', 'abc')", 2), ("SEARCH('x', 'abc')", None), ("SEARCH('B', 'abcb', 3)", 4),
    ("SEARCH('é', 'CAFÉ')", 4),
    ("MID('abcdef', 2, 3)", "bcd"), ("MID('abc', 3, 5)", "c"), ("MID('abc', 4, 1)", ""),
    ("MID('abc', 2, 0)", ""), ("MID('abc', 1, 1)", "a"), ("MID(12345, 2, 2)", "23"),
    ("ISERROR(MID('abc', 0, 1))", True), ("ISERROR(MID('abc', 1, -1))", True),
    ("LEFT('abc', 2)", "ab"), ("LEFT('abc', 5)", "abc"), ("LEFT('abc', 0)", ""),
    ("RIGHT('abc', 2)", "bc"), ("RIGHT('abc', 0)", ""), ("RIGHT('abc', 9)", "abc"),
    ("ISERROR(LEFT('abc', -1))", True), ("ISERROR(RIGHT('abc', -1))", True),
    ("LEN('héllo')", 5), ("LEN(BLANK())", 0), ("LEN(123)", 3), ("LEN('')", 0),
    ("LOWER('AbC')", "abc"), ("UPPER('aBc')", "ABC"), ("LOWER(BLANK())", ""),
    ("VALUE('42')", 42), ("VALUE('-1.5')", -1.5), ("VALUE('$1,000')", 1000), ("VALUE('123-XYZ')", -123),
    ("VALUE('123-XYZ-ABC')", 123), ("VALUE('50%')", 0.5), ("VALUE('abc')", None), ("VALUE(7)", 7),
    ("VALUE(BLANK())", None),
    ("CONCATENATE('a', 1, BLANK(), TRUE())", "a11"),
    ("REGEX_MATCH('abc123', '[0-9]+$')", True), ("REGEX_MATCH('abc', '^B')", False),
    ("REGEX_MATCH('abc', 'B')", False), ("REGEX_MATCH(BLANK(), '^$')", True),
    ("ISERROR(REGEX_MATCH('a', '('))", True),
    ("DATETIME_PARSE('2024-01-02T03:04:05.678Z')", utc(2024, 1, 2, 3, 4, 5, 678000)),
    ("DATETIME_PARSE('2024-01-02')", utc(2024, 1, 2)),
    ("DATETIME_PARSE('2024-01-02T05:04:05+02:00')", utc(2024, 1, 2, 3, 4, 5)),
    ("DATETIME_PARSE('2024-01-02 03:04')", utc(2024, 1, 2, 3, 4)),
    ("DATETIME_PARSE('2024-01-02', 'YYYY-MM-DD')", utc(2024, 1, 2)),
    ("DATETIME_PARSE('2024-01-02T03:04:05Z') & ''", "2024-01-02T03:04:05.000Z"),
    ("DATETIME_PARSE(BLANK())", None),
    ("ISERROR(DATETIME_PARSE('2024-13-01'))", True), ("ISERROR(DATETIME_PARSE('1/2/2024'))", True),
    ("IS_AFTER('2024-01-02', '2024-01-01')", True),
    ("IS_AFTER(DATETIME_PARSE('2024-01-01'), '2024-01-01')", False),
    ("IS_BEFORE('2024-01-01', '2024-01-01T00:00:00.001Z')", True),
    ("IS_BEFORE('2024-01-02', '2024-01-01')", False),
    ("IS_AFTER(BLANK(), '2024-01-01')", None), ("IS_BEFORE('2024-01-01', BLANK())", None),
    ("ISERROR(IS_AFTER('soon', '2024-01-01'))", True),
    ("IS_SAME('2024-01-02T03:00:00Z', '2024-01-02T23:59:59Z', 'day')", True),
    ("IS_SAME('2024-01-02T03:00:00Z', '2024-01-03T00:00:00Z', 'day')", False),
    ("IS_SAME('2024-01-02T03:00:00Z', '2024-01-02T23:59:59Z', 'days')", True),
    ("IS_SAME('2024-01-02T03:00:00Z', '2024-01-02T23:59:59Z', 'hour')", False),
    ("IS_SAME('2024-01-02T03:00:00Z', '2024-01-02T03:59:59Z', 'hours')", True),
    ("IS_SAME('2024-01-02T03:04:00Z', '2024-01-02T03:04:59Z', 'minute')", True),
    ("IS_SAME('2024-01-02T03:04:05.100Z', '2024-01-02T03:04:05.900Z', 'second')", True),
    ("IS_SAME('2024-01-31', '2024-01-01', 'month')", True),
    ("IS_SAME('2024-01-31', '2024-02-01', 'month')", False),
    ("IS_SAME('2024-01-01', '2024-12-31', 'year')", True),
    ("IS_SAME('2024-01-01', '2024-03-31', 'quarter')", True),
    ("IS_SAME('2024-01-07', '2024-01-13', 'week')", True),      # Sunday to Saturday
    ("IS_SAME('2024-01-06', '2024-01-07', 'week')", False),
    ("IS_SAME('2024-01-02T03:00:00Z', '2024-01-02T03:00:00.000Z')", True),
    ("IS_SAME('2024-01-02T03:00:00Z', '2024-01-02T03:00:00.001Z')", False),
    ("IS_SAME('2024-01-02', DATETIME_PARSE('2024-01-02'))", True),
    ("ISERROR(IS_SAME('2024-01-02', '2024-01-02', 'fortnight'))", True),
    # Function names are case-insensitive.
    ("find('b', 'abc')", 2), ("If(TRUE(), 'y', 'n')", "y"), ("mid('abc', 2, 1)", "b"),
])
def test_functions(text, want):
    assert same(ev(text), want)


def test_record_functions():
    assert ev("RECORD_ID()") == "recAAAAAAAAAAAAA1"
    assert ev("record_id() = 'recAAAAAAAAAAAAA1'") is True
    assert ev("CREATED_TIME()") == utc(2024, 1, 2, 3, 4, 5)
    assert ev("CREATED_TIME() = DATETIME_PARSE('2024-01-02T03:04:05.000Z')") is True
    assert ev("IS_AFTER(CREATED_TIME(), '2024-01-02')") is True
    # No lastModifiedTime field in MINI: the record's createdTime.
    assert ev("LAST_MODIFIED_TIME()") == utc(2024, 1, 2, 3, 4, 5)
    # The sample base's "Last Modified" field watches every field.
    first = TASKS.snapshot.records[0]
    assert first["fields"]["Last Modified"] == "2024-01-20T06:18:00.000Z"
    assert ev("LAST_MODIFIED_TIME()", first, TASKS) == utc(2024, 1, 20, 6, 18)
    assert ev("LAST_MODIFIED_TIME() & ''", first, TASKS) == "2024-01-20T06:18:00.000Z"


def test_last_modified_time_is_the_servers_record_time():
    # The server's per-record time wins over the field and createdTime.
    modified = {FULL["id"]: "2026-12-01T08:00:00.250Z", TASK_IDS[0]: "2026-11-30T00:00:00.000Z"}
    assert F.compile_expression("LAST_MODIFIED_TIME()", MINI, modified)(FULL) == utc(2026, 12, 1, 8, 0, 0, 250000)
    first = TASKS.snapshot.records[0]
    assert F.compile_expression("LAST_MODIFIED_TIME()", TASKS, modified)(first) == utc(2026, 11, 30)
    # A record the mapping does not know falls back as before.
    assert F.compile_expression("LAST_MODIFIED_TIME()", MINI, modified)(EMPTY) == utc(2024, 1, 3)
    # What the extension sends for "changed since".
    after = "IS_AFTER(LAST_MODIFIED_TIME(), DATETIME_PARSE('2026-12-01T00:00:00.000Z'))"
    assert [r["id"] for r in MINI_RECORDS if F.compile_filter(after, MINI, modified)(r)] == [FULL["id"]]
    since = ("OR(IS_AFTER(LAST_MODIFIED_TIME(), DATETIME_PARSE('2026-12-01T00:00:00.000Z')), "
             "IS_AFTER(CREATED_TIME(), DATETIME_PARSE('2024-01-03T12:00:00.000Z')))")
    assert [r["id"] for r in MINI_RECORDS if F.compile_filter(since, MINI, modified)(r)] == [
        FULL["id"], ERROR["id"], NAN["id"]]
    # The server's snapshot starts from the fixture: "Last Modified", else createdTime.
    assert TASKS.snapshot.modified[TASK_IDS[0]] == "2024-01-20T06:18:00.000Z"
    keep = airtable_server.compile_formula(after.replace("2026-12-01", "2024-02-28"), TASKS)
    assert [r["id"] for r in TASKS.snapshot.records if keep(r)] == [
        r["id"] for r in TASKS.snapshot.records if r["fields"]["Last Modified"] > "2024-02-28"]


def record_id_or(ids):
    return "OR(%s)" % ", ".join("RECORD_ID()='%s'" % i for i in ids)


def test_record_id_or_with_100_arguments():
    # The extension fetches changed records by id, 100 to a formula.
    wanted = TASK_IDS[::25]
    assert len(wanted) == 100
    keep = F.compile_filter(record_id_or(wanted), TASKS)
    assert [r["id"] for r in TASKS.snapshot.records if keep(r)] == wanted
    assert F.compile_filter(record_id_or(["recNOPENOPENOPE01"] * 100), TASKS)(TASKS.snapshot.records[0]) is False


# --- Fields --------------------------------------------------------------------

def test_field_references():
    assert ev("{Name}") == "Alpha"
    assert ev("{fldName0000000001}") == "Alpha"                 # by id
    assert ev("Name") == "Alpha"                                # a bare name
    assert ev("{Odd\\} name}") == "odd"                         # \} in a name
    assert ev("{Count} >= 3") is True and ev("{Count} + 1") == 4
    assert ev("{Owner}") == "Ada"
    assert ev("{Tags}") == ["red", "blue"]
    assert ev("{Tags} & ''") == "red, blue"
    assert ev("{Tags} = 'red, blue'") is True
    assert ev("LEN({Tags})") == 9
    assert ev("FIND('blue', {Tags})") == 6
    assert ev("{Done}") is True and ev("{Done} = TRUE()") is True and ev("{Done} = 1") is True
    assert ev("{When}") == utc(2024, 3, 1, 12, 30)
    assert ev("{When} = DATETIME_PARSE('2024-03-01T12:30:00.000Z')") is True
    assert ev("{When} = '2024-03-01T12:30:00.000Z'") is True
    assert ev("{When} = '2024-03-01T12:30:00Z'") is True        # text read as a date
    assert ev("{When} & ''") == "2024-03-01T12:30:00.000Z"
    assert ev("{Day} = '2024-03-01'") is True and ev("{Day} & ''") == "2024-03-01T00:00:00.000Z"
    assert ev("IS_SAME({Day}, {When}, 'day')") is True
    assert ev("IS_AFTER({When}, {Day})") is True and ev("{When} > {Day}") is True
    assert ev("{Calc} * 2") == 3.0


def test_blank_fields():
    assert ev("{Name}", EMPTY) is None
    assert ev("{Name} = ''", EMPTY) is True
    assert ev("{Name} = BLANK()", EMPTY) is True
    assert ev("{Count} = 0", EMPTY) is True
    assert ev("{Count} >= 0", EMPTY) is True and ev("{Count} > 0", EMPTY) is False
    assert ev("LEN({Name}) > 0", EMPTY) is False
    assert ev("{Done} = TRUE()", EMPTY) is False and ev("{Done} = FALSE()", EMPTY) is True
    assert ev("{Tags}", EMPTY) is None
    assert ev("{When} = BLANK()", EMPTY) is True
    assert ev("{When} = BLANK()") is False and ev("{When} != BLANK()") is True
    assert ev("IS_AFTER({When}, '2024-01-01')", EMPTY) is None


def test_error_and_nan_values():
    with pytest.raises(F.EvalError):
        ev("{Calc}", ERROR)
    with pytest.raises(F.EvalError):
        ev("{Calc} & 'x'", ERROR)
    with pytest.raises(F.EvalError):
        ev("OR(TRUE(), {Calc})", ERROR)                        # every argument counts
    assert ev("ISERROR({Calc})", ERROR) is True and ev("ISERROR({Calc})") is False
    assert ev("IF({Name} = 'Err', 'skip', {Calc})", ERROR) == "skip"
    assert math.isnan(ev("{Calc}", NAN))
    assert ev("{Calc} = {Calc}", NAN) is False and ev("{Calc} & ''", NAN) == "NaN"
    assert ev("ISERROR({Calc})", NAN) is False


# --- Filtering -----------------------------------------------------------------

@pytest.mark.parametrize("text,want", [
    ("0", False), ("1", True), ("-1", True), ("''", False), ("'x'", True), ("' '", True),
    ("BLANK()", False), ("FALSE()", False), ("TRUE()", True), ("VALUE('x')", False),
    ("'a' + 1", False), ("DATETIME_PARSE('2024-01-01')", True), ("1 / 0", False),
    ("SEARCH('x', 'abc')", False), ("SEARCH('a', 'abc')", True), ("{Tags}", True), ("{Name}", True),
])
def test_truthiness(text, want):
    assert kept(text, [FULL]) == (["recAAAAAAAAAAAAA1"] if want else [])


def test_an_error_drops_only_its_record():
    assert kept("{Calc} > 0") == ["recAAAAAAAAAAAAA1"]
    assert kept("NOT({Calc} > 0)") == ["recBBBBBBBBBBBBB2", "recDDDDDDDDDDDDD4"]
    assert kept("OR(TRUE(), {Calc})") == ["recAAAAAAAAAAAAA1", "recBBBBBBBBBBBBB2", "recDDDDDDDDDDDDD4"]
    assert kept("ISERROR({Calc})") == ["recCCCCCCCCCCCCC3"]
    assert kept("{Name} = 'Err'") == ["recCCCCCCCCCCCCC3"]           # no error used: kept
    assert kept("{Tags}") == ["recAAAAAAAAAAAAA1"]
    assert kept("{Name} = ''") == ["recBBBBBBBBBBBBB2", "recDDDDDDDDDDDDD4"]
    # The sample base: 192 computed errors in "Cost per kg", 29 NaNs.
    recs = TASKS.snapshot.records
    errors = [r["id"] for r in recs if is_error(r["fields"].get("Cost per kg"))]
    assert len(errors) == 192
    assert kept("ISERROR({Cost per kg})", recs, TASKS) == errors
    positive = [r["id"] for r in recs if isinstance(r["fields"].get("Cost per kg"), (int, float))
                and r["fields"]["Cost per kg"] > 0]
    assert kept("{fldnFU1x1H3GBTv0C} > 0", recs, TASKS) == positive
    assert len(kept("{Cost per kg} = {Cost per kg}", recs, TASKS)) == 2500 - 192 - 29


def test_sample_base_filters():
    recs = TASKS.snapshot.records

    def ids(pred):
        return [r["id"] for r in recs if pred(r["fields"])]

    assert kept("{fldhjz32sJs9JTk80} = 'Done'", recs, TASKS) == ids(lambda f: f.get("Status") == "Done")
    assert len(ids(lambda f: f.get("Status") == "Done")) == 565
    # "Status" and "status" are two fields: names are case-sensitive.
    assert kept("{status} = 'done'", recs, TASKS) == ids(lambda f: f.get("status") == "done")
    assert len(kept("{status} = 'done'", recs, TASKS)) == 417
    assert kept("{Fragile} = TRUE()", recs, TASKS) == ids(lambda f: f.get("Fragile") is True)
    assert len(kept("{Fragile}", recs, TASKS)) == 834
    assert kept("{Quantity} >= 1000", recs, TASKS) == ids(lambda f: f.get("Quantity", 0) >= 1000)
    assert len(kept("{Quantity} >= 1000", recs, TASKS)) == 1647
    assert kept("RECORD_ID() = 'recW2HX44cNyu47q9'", recs, TASKS) == ["recW2HX44cNyu47q9"]
    assert kept("OR(RECORD_ID() = 'recW2HX44cNyu47q9', RECORD_ID() = 'recU1WULVPQGlOG2J')",
                recs, TASKS) == ["recU1WULVPQGlOG2J", "recW2HX44cNyu47q9"]
    after = "IS_AFTER({flduJGpmu8PqX4D01}, DATETIME_PARSE('2024-03-01T00:00:00.000Z'))"
    assert kept(after, recs, TASKS) == ids(lambda f: f.get("Started At", "") > "2024-03-01T00:00:00.000Z")
    assert kept("LEN({Spec URL}) > 0", recs, TASKS) == ids(lambda f: "Spec URL" in f)
    assert kept("{Customer's \"Nickname\"} != ''", recs, TASKS) == ids(lambda f: "Customer's \"Nickname\"" in f)


# --- Errors that refuse the formula -------------------------------------------

@pytest.mark.parametrize("text,detail", [
    ("", "unexpected end at 0"), ("   ", "unexpected end at 3"), ("1 +", "unexpected end at 3"),
    ("(1", "expected ')' at 2"), ("1)", "unexpected ')' at 1"), ("'abc", "unterminated text at 0"),
    ('"abc', "unterminated text at 0"), ("{Name", "unterminated field name at 0"),
    ("{}", "empty field name at 0"), ("1 2", "unexpected '2' at 2"), ("1 == 1", "unexpected '=' at 3"),
    ("1 <> 2", "unexpected '>' at 3"), ("'a\\n'", "unknown escape at 2"), ("AND(1,)", "unexpected ')' at 6"),
    ("AND(,1)", "unexpected ',' at 4"), ("+1", "unexpected '+' at 0"), ("1 @ 2", "unexpected '@' at 2"),
    ("NOPE(1)", "unknown function NOPE at 0"), ("FIND('a')", "FIND takes 2 to 3 arguments, not 1"),
    ("MID('a', 1)", "MID takes 3 arguments, not 2"), ("NOT()", "NOT takes 1 arguments, not 0"),
    ("IF(1)", "IF takes 2 to 3 arguments, not 1"), ("IF(1, 2, 3, 4)", "IF takes 2 to 3 arguments, not 4"),
    ("AND()", "AND takes 1 to any arguments, not 0"), ("TRUE(1)", "TRUE takes 0 arguments, not 1"),
    ("RECORD_ID(1)", "RECORD_ID takes 0 arguments, not 1"), ("{Nope} +", "unexpected end at 8"),
    ("{Name} = 'a' 'b'", "unexpected 'b' at 13"),
])
def test_syntax_errors(text, detail):
    with pytest.raises(F.FormulaError) as e:
        F.compile_filter(text, MINI)
    assert (e.value.status, e.value.body, e.value.detail) == (422, SYNTAX, detail)


def test_unknown_fields():
    for text, names in [("{Nope} = 1", "nope"), ("Gone", "gone"), ("TRUE", "true"),
                        ("{Nope} & {fldNOPE0000000000} & Gone & {nope}", "nope, fldnope0000000000, gone"),
                        ("{name}", "name")]:                    # names are case-sensitive
        with pytest.raises(F.FormulaError) as e:
            F.compile_filter(text, MINI)
        assert (e.value.status, e.value.body) == (422, unknown_fields(names))


def test_server_compile_formula():
    keep = airtable_server.compile_formula("{Count} = 3", MINI)
    assert [keep(r) for r in MINI_RECORDS] == [True, False, False, False]
    with pytest.raises(airtable_server.ApiError) as e:
        airtable_server.compile_formula("AND(", MINI)
    assert (e.value.status, e.value.body) == (422, SYNTAX)
    with pytest.raises(airtable_server.ApiError) as e:
        airtable_server.compile_formula("{Missing}", MINI)
    assert (e.value.status, e.value.body) == (422, unknown_fields("missing"))


# --- The export's partition formulas ----------------------------------------
# A port of ext/partition.c: part k < N-1 is FIND(MID(RECORD_ID(),4,1),'<group
# k>')>0, the last part the complement of the others.

CLASSES = "0123456789abcdefghijklmnopqrstuvwxyz"


def class_group(j, n):
    w = j if j < 10 else 10 + 2 * (j - 10)
    return min(w * n // 62, n - 1)


def group_chars(g, n):
    return "".join(c + (c.upper() if j >= 10 else "") for j, c in enumerate(CLASSES) if class_group(j, n) == g)


def partition_formula(k, n):
    if k < n - 1:
        return "FIND(MID(RECORD_ID(),4,1),'%s')>0" % group_chars(k, n)
    parts = ["FIND(MID(RECORD_ID(),4,1),'%s')=0" % group_chars(g, n) for g in range(n - 1)]
    return "AND(%s)" % ",".join(parts) if n > 2 else parts[0]


def partition_of(record_id, n):
    c = record_id[3:4].lower()
    return class_group(CLASSES.index(c), n) if c and c in CLASSES else n - 1


def test_partition_formula_text():
    assert partition_formula(0, 2) == "FIND(MID(RECORD_ID(),4,1),'0123456789aAbBcCdDeEfFgGhHiIjJkK')>0"
    assert partition_formula(1, 2) == "FIND(MID(RECORD_ID(),4,1),'0123456789aAbBcCdDeEfFgGhHiIjJkK')=0"
    assert partition_formula(2, 3) == ("AND(FIND(MID(RECORD_ID(),4,1),'0123456789aAbBcCdDeEfF')=0,"
                                       "FIND(MID(RECORD_ID(),4,1),'gGhHiIjJkKlLmMnNoOpP')=0)")


def test_partition_of_the_sample_base():
    """Every record of Packaging Tasks is in exactly one part, the one the
    extension's atPartitionOf() says."""
    recs = TASKS.snapshot.records
    for n in (2, 3, 4, 7, 36):
        parts = [kept(partition_formula(k, n), recs, TASKS) for k in range(n)]
        for k in range(n):
            assert parts[k] == [i for i in TASK_IDS if partition_of(i, n) == k]
        assert sorted(sum(parts, [])) == sorted(TASK_IDS)
        if n == 2:
            assert [len(p) for p in parts] == [1319, 1181]
        if n == 3:
            assert [len(p) for p in parts] == [873, 819, 808]


def test_partition_of_every_character():
    """All 62 characters an id can start with, and one it cannot, in both
    halves of the string each part names."""
    ids = ["rec%s0000000000000" % c for c in CLASSES + CLASSES.upper()[10:] + "_"]
    records = [{"id": i, "createdTime": "2024-01-01T00:00:00.000Z", "fields": {}} for i in ids]
    for n in range(2, 37):
        parts = [kept(partition_formula(k, n), records, None) for k in range(n)]
        assert parts == [[i for i in ids if partition_of(i, n) == k] for k in range(n)]


# --- The shapes the extension pushes down, under every reading -----------------
# The extension writes filterByFormula in a few shapes only (fields by id,
# literals in single quotes, numbers as %.17g writes them).  Each shape gets
# its exact record set on a small table, under the default reading and under
# every reading (formula.READINGS): a reading that does not touch the shape
# must not change its result, so one table of cases checks both.

def push_field_id(name):
    return "fld" + ("Push" + name).ljust(14, "0")


def push_record_id(n):
    return "recPush%010d" % n


PUSH_FIELDS = [("Name", "singleLineText"), ("Num", "number"), ("Done", "checkbox"), ("Day", "date"),
               ("When", "dateTime"), ("Made", "createdTime"), ("Edit", "lastModifiedTime"),
               ("Auto", "autoNumber")]
PUSH_CREATED = ["2024-02-26T00:00:00.000Z", "2024-02-27T00:00:00.000Z", "2024-02-28T00:00:00.000Z",
                "2024-02-28T00:00:00.001Z", "2024-02-29T00:00:00.000Z", "2024-03-01T00:00:00.000Z",
                "2024-03-02T00:00:00.000Z", "2024-03-03T00:00:00.000Z"]
PUSH_CELLS = [   # records 1..8 (cells left out are blank, as Airtable leaves them out)
    {"Name": "Alpha", "Num": 5, "Done": True, "Day": "2024-03-01", "When": "2024-03-01T12:00:00.000Z",
     "Edit": "2024-03-05T00:00:00.000Z"},
    {"Name": "alpha ", "Num": -5, "Day": "2024-02-28", "When": "2024-02-28T00:00:00.000Z",
     "Edit": "2024-02-01T00:00:00.000Z"},
    {"Name": "Beta", "Num": 0, "When": "2024-02-27T23:59:59.999Z"},
    {},
    {"Name": "0", "Num": 1.5, "Done": True, "Day": "2024-02-29"},
    {"Name": "ÄBC Straße", "Num": 1.0000000000000001e-05},
    {"Name": "abc", "Num": -2.5e+20},
    {"Name": "5", "Num": 10},
]
PUSH = airtable_server.Table(None, {
    "id": "tblPush000000001", "name": "Push",
    "fields": [{"id": push_field_id(n), "name": n, "type": t} for n, t in PUSH_FIELDS],
    "records": [{"id": push_record_id(i + 1), "createdTime": PUSH_CREATED[i],
                 "fields": dict(cells, Made=PUSH_CREATED[i], Auto=i + 1)} for i, cells in enumerate(PUSH_CELLS)],
})
PUSH_RECORDS = PUSH.snapshot.records
ALL8 = set(range(1, 9))


def by_id(text):
    """text with every {Name} written as the extension writes it, {fldId}."""
    return re.sub(r"\{(\w+)\}", lambda m: "{%s}" % push_field_id(m.group(1)), text)


def push_kept(text, readings=()):
    keep = F.compile_filter(by_id(text), PUSH, None, readings)
    return {int(r["id"][-10:]) for r in PUSH_RECORDS if keep(r)}


AFTER = "DATETIME_PARSE('2024-02-28T00:00:00.000Z')"
# (formula, records kept by default, {reading: records kept under it}).
PUSH_CASES = [
    # Text =, != and < against a literal: case, white space, blanks.
    ("{Name}='abc'", {7}, {}),
    ("{Name}='alpha'", set(), {"text_nocase": {1, 2}}),
    ("{Name}!='abc'", ALL8 - {7}, {}),
    ("{Name}=''", {4}, {"blank_strict": set()}),
    ("{Name}<'b'", {1, 2, 3, 4, 5, 7, 8}, {"text_nocase": {1, 2, 4, 5, 7, 8}, "blank_strict": {1, 2, 3, 5, 7, 8}}),
    ("{Name}=5", {8}, {}),
    ("{Name}=0", {4, 5}, {"blank_strict": {5}, "blank_text": {5}}),
    # Numbers against literals, negative and exponent forms included.
    ("{Num}=5", {1}, {}),
    ("{Num}!=5", ALL8 - {1}, {}),
    ("{Num}<5", {2, 3, 4, 5, 6, 7}, {"blank_strict": {2, 3, 5, 6, 7}}),
    ("{Num}<=5", ALL8 - {8}, {"blank_strict": ALL8 - {4, 8}}),
    ("{Num}>5", {8}, {}),
    ("{Num}>=5", {1, 8}, {}),
    ("{Num}=0", {3, 4}, {"blank_strict": {3}, "blank_text": {3}}),
    ("{Num}>=0", {1, 3, 4, 5, 6, 8}, {"blank_strict": {1, 3, 5, 6, 8}, "blank_text": {1, 3, 5, 6, 8}}),
    ("{Num}<=0", {2, 3, 4, 7}, {"blank_strict": {2, 3, 7}}),
    ("{Num}>-5", {1, 3, 4, 5, 6, 8}, {"blank_strict": {1, 3, 5, 6, 8}, "blank_text": {1, 3, 5, 6, 8}}),
    ("{Num}>=-5", ALL8 - {7}, {"blank_strict": ALL8 - {4, 7}, "blank_text": ALL8 - {4, 7}}),
    ("{Num}<-5", {7}, {"blank_text": {4, 7}}),               # "" < "-5" as text
    ("{Num}=1.0000000000000001e-05", {6}, {}),
    ("{Num}>1.0000000000000001e-05", {1, 5, 8}, {}),
    ("{Num}<1.5", {2, 3, 4, 6, 7}, {"blank_strict": {2, 3, 6, 7}}),
    ("{Num}<=-2.5e+20", {7}, {"blank_text": {4, 7}}),
    ("{Num}>-2.5e+20", ALL8 - {7}, {"blank_strict": ALL8 - {4, 7}, "blank_text": ALL8 - {4, 7}}),
    ("{Num}!=-2.5e+20", ALL8 - {7}, {}),
    # OR and AND.
    ("OR({Name}='abc',{Name}='Beta')", {3, 7}, {}),
    ("OR({Name}='ABC',{Name}='beta')", set(), {"text_nocase": {3, 7}}),
    ("AND({Num}>0,{Done})", {1, 5}, {}),
    ("AND({Num}>=-5,{Num}<=5,NOT({Done}))", {2, 3, 4, 6}, {"blank_strict": {2, 3, 6}, "blank_text": {2, 3, 6}}),
    # Emptiness, checkboxes, truthiness.
    ("LEN({Name}&'')=0", {4}, {}),
    ("LEN({Name}&'')>0", ALL8 - {4}, {}),
    ("LEN({Num}&'')=0", {4}, {}),                            # 0 is "0", not empty
    ("NOT({Done})", ALL8 - {1, 5}, {}),
    ("{Done}", {1, 5}, {}),
    ("FALSE()", set(), {}),
    ("{Name}", ALL8 - {4}, {"zero_text_falsy": ALL8 - {4, 5}}),
    ("NOT({Name})", {4}, {"zero_text_falsy": {4, 5}}),
    ("{Num}", {1, 2, 5, 6, 7, 8}, {}),
    # FIND, LOWER, UPPER.
    ("FIND('abc',LOWER({Name}))=1", {7}, {}),
    ("FIND('abc',LOWER({Name}))>0", {7}, {}),
    ("FIND('äbc',LOWER({Name}))=1", {6}, {"lower_ascii": set()}),
    ("FIND('STRASSE',UPPER({Name}))>0", {6}, {"lower_ascii": set()}),
    ("FIND('Abc',{Name})=1", set(), {"find_nocase": {7}}),
    ("FIND('Abc',{Name})>0", set(), {"find_nocase": {7}}),
    ("FIND('Alp',{Name})>0", {1}, {"find_nocase": {1, 2}}),
    # Dates: a date field, dateTime, createdTime, lastModifiedTime, CREATED_TIME().
    ("IS_AFTER({Day}," + AFTER + ")", {1, 5}, {}),
    ("IS_AFTER({Day},DATETIME_PARSE('2024-02-28T23:59:59.999Z'))", {1, 5}, {}),
    ("IS_BEFORE({Day},DATETIME_PARSE('2024-02-29T00:00:00.000Z'))", {2}, {}),
    ("IS_AFTER({When}," + AFTER + ")", {1}, {}),
    ("IS_BEFORE({When}," + AFTER + ")", {3}, {}),
    ("IS_AFTER({Made}," + AFTER + ")", {4, 5, 6, 7, 8}, {}),
    ("IS_BEFORE({Made}," + AFTER + ")", {1, 2}, {}),
    ("IS_AFTER(CREATED_TIME()," + AFTER + ")", {4, 5, 6, 7, 8}, {}),
    ("IS_BEFORE(CREATED_TIME()," + AFTER + ")", {1, 2}, {}),
    ("IS_AFTER({Edit}," + AFTER + ")", {1}, {}),
    ("IS_BEFORE({Edit}," + AFTER + ")", {2}, {}),
    # Record ids.
    ("RECORD_ID()='recPush0000000003'", {3}, {}),
    ("RECORD_ID()='RECPUSH0000000003'", set(), {"text_nocase": {3}}),
    ("OR(RECORD_ID()='recPush0000000003',RECORD_ID()='recPush0000000008')", {3, 8}, {}),
]


@pytest.mark.parametrize("text,default,changed", PUSH_CASES, ids=[c[0] for c in PUSH_CASES])
def test_pushed_shapes_under_every_reading(text, default, changed):
    assert set(changed) <= set(F.READINGS)
    assert push_kept(text) == default
    for reading in F.READINGS:
        assert push_kept(text, [reading]) == changed.get(reading, default), reading


def test_readings_combine():
    # Two readings of two points apply together.
    assert push_kept("OR({Name}='ALPHA',{Name}='')", ["text_nocase", "blank_strict"]) == {1, 2}
    assert push_kept("OR({Name}='ALPHA',{Name}='')", ["text_nocase", "blank_text"]) == {1, 2, 4}
    assert push_kept("AND(NOT({Name}),FIND('A',{Name}&'a')=0)", ["zero_text_falsy", "find_nocase"]) == set()
    assert push_kept("NOT({Name})", ["zero_text_falsy", "lower_ascii", "omit_zero"]) == {4, 5}


@pytest.mark.parametrize("text,readings,want", [
    # text_nocase: casefolded, stripped; ordering too.
    ("'ABC' = 'abc'", ["text_nocase"], True), ("' abc ' = 'ABC'", ["text_nocase"], True),
    ("'straße' = 'STRASSE'", ["text_nocase"], True), ("'B' < 'a'", ["text_nocase"], False),
    ("'a b' = 'ab'", ["text_nocase"], False), ("'X' = 0", ["text_nocase"], False),
    ("3 < ' 10 '", ["text_nocase"], True),                  # numbers still compare as numbers
    # blank_strict: a blank equals only a blank.
    ("BLANK() = ''", ["blank_strict"], False), ("BLANK() = 0", ["blank_strict"], False),
    ("BLANK() = BLANK()", ["blank_strict"], True), ("BLANK() != ''", ["blank_strict"], True),
    ("BLANK() != BLANK()", ["blank_strict"], False), ("BLANK() < 1", ["blank_strict"], False),
    ("BLANK() >= -1", ["blank_strict"], False), ("'' <= BLANK()", ["blank_strict"], False),
    ("BLANK() <= BLANK()", ["blank_strict"], True), ("BLANK() = FALSE()", ["blank_strict"], False),
    # blank_text: a blank is "" compared as text.
    ("BLANK() = ''", ["blank_text"], True), ("BLANK() = 0", ["blank_text"], False),
    ("BLANK() < 5", ["blank_text"], True), ("BLANK() < -5", ["blank_text"], True),
    ("BLANK() > -5", ["blank_text"], False), ("0 > BLANK()", ["blank_text"], True),
    ("BLANK() = FALSE()", ["blank_text"], False), ("BLANK() < 'a'", ["blank_text"], True),
    ("BLANK() = BLANK()", ["blank_text"], True),
    # find_nocase, lower_ascii.
    ("FIND('B', 'abc')", ["find_nocase"], 2), ("FIND('x', 'abc')", ["find_nocase"], 0),
    ("FIND('b', 'ABCB', 3)", ["find_nocase"], 4), ("SEARCH('x', 'abc')", ["find_nocase"], None),
    ("LOWER('ÀBC Ω')", ["lower_ascii"], "Àbc Ω"), ("UPPER('àbc ω ß')", ["lower_ascii"], "àBC ω ß"),
    ("LOWER('ÀBC Ω')", [], "àbc ω"), ("UPPER('àbc ω ß')", [], "ÀBC Ω SS"),
    # zero_text_falsy: only the text "0".
    ("NOT('0')", ["zero_text_falsy"], True), ("NOT('00')", ["zero_text_falsy"], False),
    ("NOT(0 & '')", ["zero_text_falsy"], True), ("IF('0', 'y', 'n')", ["zero_text_falsy"], "n"),
    ("AND('0')", ["zero_text_falsy"], False), ("OR('0', 1)", ["zero_text_falsy"], True),
    ("XOR('0', 1)", ["zero_text_falsy"], True), ("NOT('0')", [], False), ("IF('0', 'y', 'n')", [], "y"),
])
def test_readings_of_operators_and_functions(text, readings, want):
    assert same(F.compile_expression(text, MINI, None, readings)(FULL), want)


def test_numbers_compare_as_doubles():
    # JavaScript compares numbers as doubles: 2**53 + 1 is 2**53 (docs/airtable-api.md
    # is silent; Airtable's formulas are JavaScript).  So a pushed `x < 2**53 + 1`
    # leaves out a cell holding 2**53, which SQLite's integer comparison keeps.
    rec = {"id": "recBig0000000001", "createdTime": "2024-01-01T00:00:00.000Z",
           "fields": {"Count": 9007199254740992}}
    assert ev("{Count} = 9007199254740993", rec) is True
    assert ev("{Count} < 9007199254740993", rec) is False
    assert ev("9223372036854775807 = 9223372036854775808", rec) is True
    big = {"id": "recBig0000000002", "createdTime": "2024-01-01T00:00:00.000Z", "fields": {"Count": 10 ** 400}}
    assert ev("{Count} > 1e300", big) is True and ev("{Count} = {Count}", big) is True


def test_readings_are_checked():
    for bad, message in [(["nope"], "unknown readings nope"), (["text_nocase", "Text_Nocase"], "unknown readings Text_Nocase"),
                         (["blank_strict", "blank_text"], "readings blank_strict and blank_text read one point two ways"),
                         ("text_nocase", "readings is a list of names"), ([1], "readings is a list of names")]:
        with pytest.raises(ValueError) as e:
            F.compile_filter("1", MINI, None, bad)
        assert message in str(e.value)
    assert F.check_readings(("find_nocase", "find_nocase")) == frozenset({"find_nocase"})
    # No readings: the very tables of the default language.
    lang = F.language(F.NO_READINGS)
    assert lang.binary == F.BINARY and lang.functions == F.FUNCTIONS and lang.truthy is F.truthy


@pytest.mark.parametrize("text,detail", [
    ("FOO({Name})", "unknown function FOO at 0"), ("TODAY()", "unknown function TODAY at 0"),
    ("LOWER()", "LOWER takes 1 arguments, not 0"), ("FIND('a')", "FIND takes 2 to 3 arguments, not 1"),
    ("IS_AFTER({Day})", "IS_AFTER takes 2 arguments, not 1"), ("IS_BEFORE({Day},1,2)", "IS_BEFORE takes 2 arguments, not 3"),
    ("DATETIME_PARSE()", "DATETIME_PARSE takes 1 to 3 arguments, not 0"),
    ("RECORD_ID('x')", "RECORD_ID takes 0 arguments, not 1"), ("CREATED_TIME(1)", "CREATED_TIME takes 0 arguments, not 1"),
    ("LEN({Name},1)", "LEN takes 1 arguments, not 2"), ("FALSE(1)", "FALSE takes 0 arguments, not 1"),
    ("{Name}='a", "unterminated text at 20"), ("{Name}='a\\n'", "unknown escape at 22"),
    ("{Num}=5 5", "unexpected '5' at 22"), ("OR({Num}=1 {Num}=2)", "expected ')' at 25"),
])
def test_what_cannot_be_evaluated_is_refused(text, detail):
    """A formula the evaluator cannot evaluate fails the request with 422, under
    every reading, rather than keeping every record or none."""
    for readings in [()] + [[r] for r in F.READINGS]:
        with pytest.raises(F.FormulaError) as e:
            F.compile_filter(by_id(text), PUSH, None, readings)
        assert (e.value.status, e.value.body, e.value.detail) == (422, SYNTAX, detail)
    with pytest.raises(F.FormulaError) as e:
        F.compile_filter("AND({fldPushNope000000}=1,{%s}>0)" % push_field_id("Num"), PUSH, None, ["text_nocase"])
    assert (e.value.status, e.value.body) == (422, unknown_fields("fldpushnope000000"))


def push_sorted(spec, readings=()):
    return [int(r["id"][-10:]) for r in airtable_server.sort_records(PUSH_RECORDS, spec, frozenset(readings))]


@pytest.mark.parametrize("spec,readings,want", [
    # Numbers numerically, blanks first in asc and last in desc; ties keep the
    # incoming (createdTime) order.
    ([("Num", False)], [], [4, 7, 2, 3, 6, 5, 1, 8]),
    ([("Num", True)], [], [8, 1, 5, 6, 3, 2, 7, 4]),
    ([("Num", False)], ["sort_blanks_last"], [7, 2, 3, 6, 5, 1, 8, 4]),
    ([("Num", True)], ["sort_blanks_last"], [4, 8, 1, 5, 6, 3, 2, 7]),
    ([("Auto", False)], [], [1, 2, 3, 4, 5, 6, 7, 8]),
    ([("Auto", True)], [], [8, 7, 6, 5, 4, 3, 2, 1]),
    ([("Made", False)], [], [1, 2, 3, 4, 5, 6, 7, 8]),
    ([("Made", True)], ["sort_text_nocase"], [8, 7, 6, 5, 4, 3, 2, 1]),
    # Dates (date-only ISO text sorts as time), blanks keep their order.
    ([("Day", False)], [], [3, 4, 6, 7, 8, 2, 5, 1]),
    ([("Day", True)], [], [1, 5, 2, 3, 4, 6, 7, 8]),
    ([("Day", False)], ["sort_blanks_last"], [2, 5, 1, 3, 4, 6, 7, 8]),
    ([("Day", True)], ["sort_blanks_last"], [3, 4, 6, 7, 8, 1, 5, 2]),
    ([("When", False)], [], [4, 5, 6, 7, 8, 3, 2, 1]),
    # Text by code point, or casefolded.
    ([("Name", False)], [], [4, 5, 8, 1, 3, 7, 2, 6]),
    ([("Name", True)], [], [6, 2, 7, 3, 1, 8, 5, 4]),
    ([("Name", False)], ["sort_text_nocase"], [4, 5, 8, 7, 1, 2, 3, 6]),
    ([("Name", True)], ["sort_text_nocase", "sort_blanks_last"], [4, 6, 3, 2, 1, 7, 8, 5]),
    # Several keys: the first is the most significant.
    ([("Done", True), ("Num", False)], [], [5, 1, 4, 7, 2, 3, 6, 8]),
    ([("Done", False), ("Auto", True)], [], [8, 7, 6, 4, 3, 2, 5, 1]),
])
def test_sort(spec, readings, want):
    assert push_sorted(spec, readings) == want


def test_sort_text_nocase_keeps_ties_in_order():
    names = ["b", "B", "a", "A", "a", "Ab", "aB"]
    recs = [{"id": "rec%014d" % i, "createdTime": "", "fields": {"T": n}} for i, n in enumerate(names)]
    order = airtable_server.sort_records(recs, [("T", False)], frozenset({"sort_text_nocase"}))
    assert [r["fields"]["T"] for r in order] == ["a", "A", "a", "Ab", "aB", "b", "B"]
    order = airtable_server.sort_records(recs, [("T", True)], frozenset({"sort_text_nocase"}))
    assert [r["fields"]["T"] for r in order] == ["b", "B", "Ab", "aB", "a", "A", "a"]
    assert [r["fields"]["T"] for r in airtable_server.sort_records(recs, [("T", False)])] == [
        "A", "Ab", "B", "a", "a", "aB", "b"]


# --- Through the HTTP server -------------------------------------------------

TASKS_PATH = "/v0/%s/Packaging%%20Tasks" % SAMPLE


def list_ids(server, formula):
    ids, offset = [], None
    while True:
        query = [("filterByFormula", formula)] + ([("offset", offset)] if offset else [])
        page = server.api(TASKS_PATH + "?" + urllib.parse.urlencode(query))
        ids += [r["id"] for r in page["records"]]
        offset = page.get("offset")
        if offset is None:
            return ids


def api_error(server, formula):
    with pytest.raises(urllib.error.HTTPError) as e:
        server.api(TASKS_PATH + "?" + urllib.parse.urlencode([("filterByFormula", formula)]))
    return e.value.code, json.loads(e.value.read())


def test_http_partitions(server):
    server.config(rate_limit=0)      # 25 pages a part; the next test's reset restores it
    for n in (2, 3):
        parts = [list_ids(server, partition_formula(k, n)) for k in range(n)]
        assert parts == [[i for i in TASK_IDS if partition_of(i, n) == k] for k in range(n)]
        assert sum(len(p) for p in parts) == 2500


def test_http_record_id_or_and_modified_time(server):
    wanted = TASK_IDS[1::25]
    assert list_ids(server, record_id_or(wanted)) == wanted
    # An edit moves LAST_MODIFIED_TIME() (explicit time: the control API's modifiedTime).
    server.control("POST", "/_test/records/%s/Packaging%%20Tasks" % SAMPLE, {"update": [
        {"id": TASK_IDS[7], "fields": {"Priority": 2}, "modifiedTime": "2026-12-01T00:00:00.001Z"}]})
    after = "IS_AFTER(LAST_MODIFIED_TIME(), DATETIME_PARSE('2026-12-01T00:00:00.000Z'))"
    assert list_ids(server, after) == [TASK_IDS[7]]
    assert list_ids(server, "AND(%s, %s)" % (after, record_id_or(wanted[:99] + [TASK_IDS[7]]))) == [TASK_IDS[7]]


def test_http_filters_and_errors(server):
    server.config(rate_limit=0)
    fixture = SAMPLE_BASE["tables"][0]["records"]
    done = [r["id"] for r in fixture if r["fields"].get("Status") == "Done"]
    assert list_ids(server, "{fldhjz32sJs9JTk80} = 'Done'") == done
    assert list_ids(server, "RECORD_ID() = 'recW2HX44cNyu47q9'") == ["recW2HX44cNyu47q9"]
    page = server.api(TASKS_PATH + "?" + urllib.parse.urlencode(
        [("filterByFormula", "AND({Priority} = 5, ISERROR({Cost per kg}))"), ("fields[]", "Priority")]))
    assert page == {"records": [{"id": r["id"], "createdTime": r["createdTime"], "fields": {"Priority": 5}}
                                for r in fixture if r["fields"].get("Priority") == 5
                                and is_error(r["fields"].get("Cost per kg"))]}
    assert len(page["records"]) == 29
    assert api_error(server, "AND(") == (422, SYNTAX)
    assert api_error(server, "{Nope} = 1") == (422, unknown_fields("nope"))


# --- Readings through the HTTP server ------------------------------------------

def post_config(server, body):
    """(status, JSON answer) of POST /_test/config, errors included."""
    req = urllib.request.Request(server.url + "/_test/config", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def read_as(server, *readings):
    server.config(rate_limit=0, readings=list(readings))


def list_all(server, query, path=TASKS_PATH):
    """Every record a listing returns for query (pairs), following offsets."""
    records, offset = [], None
    while True:
        page = server.api(path + "?" + urllib.parse.urlencode(list(query) + ([("offset", offset)] if offset else [])))
        records += page["records"]
        offset = page.get("offset")
        if offset is None:
            return records


def fixture_tasks():
    return SAMPLE_BASE["tables"][0]["records"]


def without_zeros(fields):
    return {k: v for k, v in fields.items() if not (type(v) in (int, float) and v == 0)}


def test_http_readings_config(server):
    assert server.control("GET", "/_test/config")["readings"] == []
    status, cfg = post_config(server, {"readings": ["text_nocase", "omit_zero", "text_nocase"]})
    assert (status, cfg["readings"]) == (200, ["omit_zero", "text_nocase"])
    known = ", ".join(sorted(F.READINGS))
    for body, message in [
            ({"readings": ["nope"]}, "unknown readings nope; known: " + known),
            ({"readings": ["blank_text", "blank_strict"]},
             "readings blank_strict and blank_text read one point two ways: choose one"),
            ({"readings": "text_nocase"}, "readings is a list of names, known: " + known),
            ({"readings": [["text_nocase"]]}, "readings is a list of names, known: " + known),
            ({"readings": None}, "readings is a list of names, known: " + known),
            ({"latency_ms": 5, "readings": ["sort_blanks_last", "zero"]}, "unknown readings zero; known: " + known)]:
        assert post_config(server, body) == (400, {"error": {"type": "INVALID_CONFIG", "message": message}})
    # A refused post changes nothing, not even its other keys.
    cfg = server.control("GET", "/_test/config")
    assert (cfg["readings"], cfg["latency_ms"]) == (["omit_zero", "text_nocase"], 0)
    assert post_config(server, {"readings": []})[1]["readings"] == []
    server.config(readings=sorted(set(F.READINGS) - {"blank_text"}))
    server.reset()
    assert server.control("GET", "/_test/config")["readings"] == []


def test_command_line_readings():
    s = Server("--readings", "text_nocase, omit_zero", "--fixture", "tests/fixtures/appSizeTests00001.json")
    try:
        assert s.control("GET", "/_test/config")["readings"] == ["omit_zero", "text_nocase"]
        s.reset()    # the command line's readings are the ones a reset restores
        assert s.control("GET", "/_test/config")["readings"] == ["omit_zero", "text_nocase"]
    finally:
        s.stop()
    for arg, message in [("nope", "unknown readings nope"), ("blank_strict,blank_text", "read one point two ways")]:
        p = subprocess.run([*SERVER_COMMAND, "--readings", arg], capture_output=True, text=True, timeout=30,
                           env=server_env())
        assert p.returncode == 2 and p.stdout == "" and message in p.stderr, p.stderr


def test_http_formula_readings_and_their_cache(server):
    todo = [r["id"] for r in fixture_tasks() if r["fields"].get("status") == "TODO"]
    any_case = [r["id"] for r in fixture_tasks() if r["fields"].get("status", "").casefold() == "todo"]
    assert (len(todo), len(any_case)) == (416, 832)
    read_as(server)
    assert list_ids(server, "{fld6OgmV8EThNm6FB} = 'TODO'") == todo
    read_as(server, "text_nocase")       # the same formula, read another way: not the cached order
    assert list_ids(server, "{fld6OgmV8EThNm6FB} = 'TODO'") == any_case
    read_as(server)
    assert list_ids(server, "{fld6OgmV8EThNm6FB} = 'TODO'") == todo


def test_http_omit_zero(server):
    zero = [r for r in fixture_tasks() if r["fields"].get("Quantity") == 0]
    # {Quantity} = 0 keeps the zeros and (default reading) the blanks.
    kept = [r for r in fixture_tasks() if r["fields"].get("Quantity", 0) == 0]
    assert (len(zero), len(kept)) == (250, 450)
    query = [("filterByFormula", "{fldCcBEpzsaJI6ZXo} = 0"), ("fields[]", "Quantity")]
    read_as(server)
    assert [(r["id"], r["fields"]) for r in list_all(server, query)] == [
        (r["id"], {k: v for k, v in r["fields"].items() if k == "Quantity"}) for r in kept]
    read_as(server, "omit_zero")         # formulas still see the 0; the response leaves it out
    assert [(r["id"], r["fields"]) for r in list_all(server, query)] == [(r["id"], {}) for r in kept]
    # Every field, by name and by id (the paths that use pre-rendered JSON by default).
    page = server.api(TASKS_PATH + "?pageSize=100")["records"]
    assert page == [{"id": r["id"], "createdTime": r["createdTime"], "fields": without_zeros(r["fields"])}
                    for r in fixture_tasks()[:100]]
    assert sum(len(without_zeros(r["fields"])) < len(r["fields"]) for r in fixture_tasks()[:100]) == 43
    page = server.api(TASKS_PATH + "?pageSize=100&returnFieldsByFieldId=true")["records"]
    assert page == [{"id": r["id"], "createdTime": r["createdTime"],
                     "fields": {TASKS.name_to_id[k]: v for k, v in without_zeros(r["fields"]).items()}}
                    for r in fixture_tasks()[:100]]
    # Get record, and cellFormat=string: the cell is left out whatever the format.
    one = zero[0]
    assert server.api(TASKS_PATH + "/" + one["id"])["fields"] == without_zeros(one["fields"])
    text = server.api(TASKS_PATH + "/" + one["id"] + "?cellFormat=string&timeZone=UTC&userLocale=en")["fields"]
    assert "Quantity" not in text and "Task" in text
    read_as(server)
    assert server.api(TASKS_PATH + "/" + one["id"])["fields"] == one["fields"]
    assert server.api(TASKS_PATH + "/" + one["id"] + "?cellFormat=string&timeZone=UTC&userLocale=en")[
        "fields"]["Quantity"] == "0"


def stable_sorted(records, key, desc=False):
    return [r["id"] for r in sorted(records, key=key, reverse=desc)]


def test_http_sort_readings(server):
    tasks = fixture_tasks()

    def priority(blanks_last):
        def key(r):
            p = r["fields"].get("Priority")
            return (2, 0) if p is None and blanks_last else (0, 0) if p is None else (1, p)
        return key

    def status(nocase, blanks_last):
        # "status" holds "done", "Done ✅", "n/a", "TODO", "todo" and blanks.
        def key(r):
            t = r["fields"].get("status")
            return ((2 if blanks_last else 0), "") if not t else (1, t.casefold() if nocase else t)
        return key

    def ids(query):
        return [r["id"] for r in list_all(server, query + [("fields[]", "status")])]

    by_priority = [("sort[0][field]", "fldZnHS3SFbrGZUtg")]
    by_status = [("sort[0][field]", "fld6OgmV8EThNm6FB")]
    desc = [("sort[0][direction]", "desc")]
    for readings in [(), ("sort_blanks_last",), ("sort_text_nocase",), ("sort_blanks_last", "sort_text_nocase")]:
        read_as(server, *readings)
        last, nocase = "sort_blanks_last" in readings, "sort_text_nocase" in readings
        assert ids(by_priority) == stable_sorted(tasks, priority(last))
        assert ids(by_priority + desc) == stable_sorted(tasks, priority(last), desc=True)
        assert ids(by_status) == stable_sorted(tasks, status(nocase, last))
        assert ids(by_status + desc) == stable_sorted(tasks, status(nocase, last), desc=True)
    # Each reading is a different order on this base.
    orders = [stable_sorted(tasks, status(nocase, last)) for nocase in (False, True) for last in (False, True)]
    assert len(set(map(tuple, orders))) == 4
    # A view's own sort reads the same way ("Open tasks": Due Date ascending).
    read_as(server, "sort_blanks_last")
    due = [r["fields"].get("Due Date") for r in list_all(server, [("view", "Open tasks")])]
    blanks = due.count(None)
    assert blanks > 0 and due[-blanks:] == [None] * blanks and due[:-blanks] == sorted(due[:-blanks])


def test_http_offsets_are_bound_to_the_readings(server):
    read_as(server)
    first = server.api(TASKS_PATH + "?pageSize=10&sort%5B0%5D%5Bfield%5D=Priority")
    read_as(server, "sort_blanks_last")
    with pytest.raises(urllib.error.HTTPError) as e:
        server.api(TASKS_PATH + "?pageSize=10&sort%5B0%5D%5Bfield%5D=Priority&offset=" + first["offset"])
    assert (e.value.code, json.loads(e.value.read())) == (422, {"error": {"type": "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"}})


def test_http_what_cannot_be_evaluated_is_422(server):
    for readings in [(), ("text_nocase", "blank_strict", "sort_blanks_last", "omit_zero")]:
        read_as(server, *readings)
        assert api_error(server, "FOO({fldhjz32sJs9JTk80})") == (422, SYNTAX)
        assert api_error(server, "FIND('a')") == (422, SYNTAX)
        assert api_error(server, "IS_AFTER({flduJGpmu8PqX4D01})") == (422, SYNTAX)
        assert api_error(server, "AND({fldNOPE0000000000}=1,{fldhjz32sJs9JTk80}='Done')") == (
            422, unknown_fields("fldnope0000000000"))
        with pytest.raises(urllib.error.HTTPError) as e:
            server.api(TASKS_PATH + "?sort%5B0%5D%5Bfield%5D=fldNOPE0000000000")
        assert (e.value.code, json.loads(e.value.read())) == (422, {"error": {
            "type": "UNKNOWN_FIELD_NAME", "message": 'Unknown field name: "fldNOPE0000000000"'}})
