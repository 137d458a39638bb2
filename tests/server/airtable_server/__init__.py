"""An Airtable-compatible HTTP server for tests: the Web API's read side, served
from JSON fixtures, plus a control API under /_test/ that scripts faults,
latency, rate limits, record edits (which move each record's last-modified
time, the one LAST_MODIFIED_TIME() reads) and schema edits.  Python standard
library only.

    scripts/test-server [--fixture FILE]... [--port N] [--token T]
                        [--latency-ms N] [--rate-limit N] [--rate-limit-penalty S]
                        [--readings NAME,...] [--bench-records N,...] [--bench-full-max N]

(that is, PYTHONPATH=tests/server python3 -m airtable_server [args]: __main__.py)
prints exactly "http://127.0.0.1:PORT" on stdout, then serves until SIGTERM
or SIGINT.  The behaviour modelled here is documented in docs/airtable-api.md
(facts checked against Airtable's documentation); where Airtable leaves a
choice open, the comment says "test server's choice".

The package, by concern (no module imports one that imports it back):

    __main__.py   the command line: arguments, start, stop on a signal
    routing.py    HTTP: the handler (plumbing, request log, latency, faults
                  applied) and the routing of paths to the modules below
    records.py    List records (GET and POST listRecords), Get record: view
                  filter, filterByFormula, sort, pages, offsets
    metadata.py   List bases, Get base schema
    control.py    faults and the /_test/ control API
    state.py      the server's state: bases, config, offsets, rate-limit
                  windows, faults, request log; loading fixtures
    tables.py     the data: tables as immutable snapshots, record and schema edits
    options.py    List records options from a query or a JSON body
    render.py     a record's JSON text in a response; cellFormat=string text
    response.py   a Response, the server's JSON text, forced wire encodings
    errors.py     error answers (ApiError and the bodies)
    formula.py    the filterByFormula evaluator
    bench.py      generated bench tables (--bench-records), pages pre-rendered

Readings: POST /_test/config {"readings": [...]} (or --readings a,b) makes the
server read open points another way, so that tests can check the extension
against each plausible behaviour of Airtable: the formula readings are
formula.py's (see its docstring), and three are the server's: omit_zero
(render.py, render_records), sort_blanks_last and sort_text_nocase
(records.py, sort_key).  The readings are taken once per request;
formula.READINGS lists them all.

What tests use is importable from the package: Table, compile_formula,
sort_records, ApiError and the rest below; the evaluator is
airtable_server.formula.
"""

from . import formula
from .errors import ApiError, invalid_request
from .options import ListOptions
from .records import compile_formula, sort_key, sort_records, view_filter
from .render import render_records, to_text
from .response import Response, dumps
from .routing import Handler, Server
from .state import State, load_fixtures
from .tables import Base, Schema, Snapshot, Table

__all__ = ["ApiError", "Base", "Handler", "ListOptions", "Response", "Schema", "Server", "Snapshot",
           "State", "Table", "compile_formula", "dumps", "formula", "invalid_request", "load_fixtures",
           "render_records", "sort_key", "sort_records", "to_text", "view_filter"]
