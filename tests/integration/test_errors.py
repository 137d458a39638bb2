"""Every failure the read path can meet gives a clear error naming what was
wrong, never a crash, a partial result presented as complete, or the token."""
import os
import re
import sqlite3

import pytest

from conftest import SAMPLE, SIZES, TOKEN, connect, create, table_fixture

FORBIDDEN = ("airtable: HTTP 403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND: Invalid "
             "permissions, or the requested model was not found. Check that both "
             "your user and your token have the required permissions, and that the "
             "model names and/or ids are correct.")
# Issue 19: a 401 says where the token was read, a 403 which base it was
# refused for (never the token itself).
REFUSED = " (the token from environment variable AIRTABLE_TOKEN was refused)"


def error_of(conn, sql, *args):
    with pytest.raises(sqlite3.Error) as e:
        conn.execute(sql, *args).fetchall()
    assert TOKEN not in str(e.value)
    return str(e.value)


def create_error(conn, base, table, **opts):
    with pytest.raises(sqlite3.Error) as e:
        create(conn, "t", base, table, **opts)
    assert TOKEN not in str(e.value)
    return str(e.value)


# --- options ---------------------------------------------------------------

def test_literal_token_is_refused_and_not_stored(tmp_path):
    path = tmp_path / "x.db"
    conn = connect(str(path))
    msg = create_error(conn, SAMPLE, "T", token="patSECRETSECRET1.abcdef")
    assert msg == ("airtable: option token= is refused: virtual table arguments "
                   "are stored in plain text in the database file; put the token "
                   "in the AIRTABLE_TOKEN environment variable, or name another "
                   "variable with token_env= or a file with token_file=")
    conn.close()
    assert b"patSECRETSECRET1" not in path.read_bytes()


@pytest.mark.parametrize("args,message", [
    ("table='T'", "airtable: option base is required (the base id, app...)"),
    (f"base='{SAMPLE}'", "airtable: option table is required (a table name or tbl... id)"),
    ("base='appNope', table='T'", "airtable: option base: 'appNope' is not an "
     "Airtable base id ('app' followed by 14 letters or digits)"),
    (f"base='{SAMPLE}', table='T', colour='red'", "airtable: unknown option 'colour' "
     "(known options: base, table, view, api_url, token_env, token_file, rate_limit, "
     "max_retries, rate_limit_wait, retry_backoff, retry_budget, connect_timeout, "
     "timeout, ca_file, cache, max_age, sync_overlap, pushdown)"),
    (f"base='{SAMPLE}', base='{SAMPLE}', table='T'",
     "airtable: option base is given more than once"),
    (f"base='{SAMPLE}', table='T', api_url='http://example.com'",
     "airtable: option api_url: 'http://example.com' uses plain http to a host "
     "that is not this machine; the token would cross the network unencrypted: "
     "use https (plain http is allowed only to 127.0.0.1, ::1 and localhost, "
     "for test servers)"),
])
def test_bad_options_name_the_option(db, args, message):
    assert error_of(db, f"CREATE VIRTUAL TABLE t USING airtable({args})") == message


def test_missing_token(db, server, monkeypatch):
    monkeypatch.delenv("AIRTABLE_TOKEN")
    assert create_error(db, SAMPLE, "Packaging Tasks") == (
        "airtable: no API token: the environment variable AIRTABLE_TOKEN is not "
        "set (set it, or name another variable with token_env= or a file with "
        "token_file=)")


def test_token_env_and_token_file(db, server, monkeypatch, tmp_path):
    monkeypatch.delenv("AIRTABLE_TOKEN")
    monkeypatch.setenv("MY_AIRTABLE", TOKEN)
    create(db, "a", SIZES, "One", token_env="MY_AIRTABLE")
    assert db.execute('SELECT "N" FROM a').fetchall() == [(1,)]
    tok = tmp_path / "token"
    tok.write_text(TOKEN + "\n")
    tok.chmod(0o600)
    create(db, "b", SIZES, "One", token_file=str(tok))
    assert db.execute('SELECT "N" FROM b').fetchall() == [(1,)]
    tok.chmod(0o644)
    assert create_error(db, SIZES, "One", token_file=str(tok)) == (
        f"airtable: option token_file: '{tok}' is readable by group or others "
        f"(mode 644); a token file must be private, as ssh requires of keys: "
        f"chmod 600 '{tok}'")


# --- what the API answers ----------------------------------------------------

def test_wrong_token_is_401(db, server, monkeypatch):
    monkeypatch.setenv("AIRTABLE_TOKEN", "wrong-token")
    assert create_error(db, SAMPLE, "Packaging Tasks") == (
        "airtable: HTTP 401 AUTHENTICATION_REQUIRED: Authentication required" + REFUSED)


def test_token_revoked_after_connect_fails_the_scan(db, server):
    create(db, "t", SIZES, "One")
    server.config(token="another-token")
    assert error_of(db, "SELECT * FROM t") == (
        "airtable: HTTP 401 AUTHENTICATION_REQUIRED: Authentication required" + REFUSED)


def test_unknown_base_is_403(db, server):
    assert create_error(db, "appDoesNotExist01", "Packaging Tasks") == (
        FORBIDDEN + " (base appDoesNotExist01, with the token from environment variable "
        "AIRTABLE_TOKEN)")


def test_unknown_table_lists_the_tables(db, server):
    assert create_error(db, SIZES, "one") == (
        "airtable: option table: base appSizeTests00001 has no table 'one' "
        "(tables: 'Empty', 'One', 'Ninety Nine', 'One Hundred', 'One Hundred One', "
        "'Odd/Name?#% \"quoted\" ☃')")


def test_unknown_view_lists_the_views(db, server):
    assert create_error(db, SAMPLE, "Packaging Tasks", view="Closed") == (
        "airtable: option view: table 'Packaging Tasks' has no view 'Closed' "
        "(views: 'Grid view', 'Open tasks', 'By priority')")


def test_rate_limit_429(db, server):
    create(db, "t", SIZES, "One", max_retries=0)
    server.config(rate_limit=1, rate_limit_penalty=1)
    errors = []
    for _ in range(2):   # two requests within a second: the second at least fails
        try:
            db.execute("SELECT * FROM t").fetchall()
        except sqlite3.OperationalError as e:
            errors.append(str(e))
    assert errors and errors[0] == (
        "airtable: HTTP 429 RATE_LIMIT_REACHED: Rate limit exceeded. Please try again later")
    server.control("POST", "/_test/rate_limit/reset")


@pytest.mark.parametrize("status,message", [
    (500, "airtable: HTTP 500 SERVER_ERROR: Server error"),
    (502, "airtable: HTTP 502 BAD_GATEWAY"),
    (503, "airtable: HTTP 503 RETRIABLE_ERROR"),
    (404, "airtable: HTTP 404 NOT_FOUND"),
])
def test_server_errors_fail_the_statement(db, server, status, message):
    create(db, "t", SIZES, "One", max_retries=0)
    body = {404: {"error": "NOT_FOUND"}}.get(status)
    fault = {"path": "^/v0/appSize", "action": "status", "status": status}
    if body:
        fault["body"] = body
    server.faults(fault)
    assert error_of(db, "SELECT * FROM t") == message


def test_422_unknown_field_and_bad_formula_bodies(db, server):
    create(db, "t", SIZES, "One")
    server.faults({"path": "^/v0/appSize", "action": "status", "status": 422,
                   "body": {"error": {"type": "UNKNOWN_FIELD_NAME",
                                      "message": "Unknown field name: \"Nope\""}}})
    assert error_of(db, "SELECT * FROM t") == (
        'airtable: HTTP 422 UNKNOWN_FIELD_NAME: Unknown field name: "Nope"')
    server.faults({"path": "^/v0/appSize", "action": "status", "status": 422,
                   "body": {"error": {"type": "INVALID_FILTER_BY_FORMULA",
                                      "message": "The formula for filtering records is invalid"}}})
    assert error_of(db, "SELECT * FROM t") == (
        "airtable: HTTP 422 INVALID_FILTER_BY_FORMULA: The formula for filtering "
        "records is invalid")


def test_error_body_that_is_not_json(db, server):
    create(db, "t", SIZES, "One", max_retries=0)
    server.faults({"path": "^/v0/appSize", "action": "body", "status": 502,
                   "raw": "<html>Bad gateway</html>"})
    assert error_of(db, "SELECT * FROM t") == "airtable: HTTP 502"


def test_failure_on_a_later_page_fails_the_whole_statement(db, server):
    """No partial result: rows of pages 1-2 are not returned as if complete."""
    create(db, "t", SAMPLE, "Packaging Tasks", max_retries=0)
    server.faults({"path": "^/v0/appPackaging", "action": "status", "status": 503,
                   "skip": 2})
    cur = db.execute("SELECT id FROM t")
    with pytest.raises(sqlite3.OperationalError, match=r"^airtable: HTTP 503 RETRIABLE_ERROR$"):
        cur.fetchall()
    assert len(server.list_requests()) == 3


def test_expired_offset_after_rows_were_returned_fails_clearly(db, server):
    create(db, "t", SIZES, "One Hundred One")
    server.faults({"path": "^/v0/appSize", "action": "expired_offset", "skip": 1})
    assert error_of(db, "SELECT * FROM t") == (
        "airtable: table 'One Hundred One': Airtable expired the listing's offset "
        "after 100 rows had been returned (HTTP 422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE); "
        "starting over would repeat or miss rows, so the statement fails: run it again")


@pytest.mark.parametrize("fault,message", [
    ({"action": "malformed"},
     r"^airtable: table 'One': the response is not valid JSON \(error at byte \d+ of \d+\) "
     r"\(GET http://127\.0\.0\.1:\d+/v0/appSizeTests00001/tbl\w{14}\?returnFieldsByFieldId=true\)$"),
    ({"action": "body", "body": {"recs": []}},
     r"^airtable: table 'One': the response has no \"records\" array \(GET .*\)$"),
    ({"action": "body", "body": {"records": [{"id": 5}]}},
     r"^airtable: table 'One': element 0 of \"records\" has no string \"id\" \(GET .*\)$"),
    ({"action": "body", "body": {"records": [], "offset": 7}},
     r"^airtable: table 'One': the response's \"offset\" is not a non-empty string \(GET .*\)$"),
    ({"action": "body", "body": {"records": [{"id": "recA", "fields": "x"}]}},
     r"^airtable: table 'One': record recA: \"fields\" is not an object \(GET .*\)$"),
    ({"action": "truncated"},
     r"^airtable: transfer closed with \d+ bytes remaining to read \(GET http://127\.0\.0\.1:\d+/v0/.*\)$"),
    ({"action": "reset", "times": 2},
     r"^airtable: (Recv failure: Connection reset by peer|Empty reply from server) \(GET .*\)$"),
])
def test_bad_responses_are_errors_not_crashes(db, server, fault, message):
    create(db, "t", SIZES, "One", max_retries=0)
    server.faults({"path": "^/v0/appSize", **fault})
    with pytest.raises(sqlite3.OperationalError, match=message) as e:
        db.execute("SELECT * FROM t").fetchall()
    assert TOKEN not in str(e.value)


@pytest.mark.parametrize("fault,message", [
    ({"action": "body", "body": {"id": "recA", "fields": ["x"]}},
     r"record recA: \"fields\" is not an object"),
    ({"action": "body", "body": {"id": 5, "fields": {}}},
     r"the record has no string \"id\""),
    ({"action": "body", "body": [1]}, r"the response is not a JSON object"),
    ({"action": "malformed"}, r"the response is not valid JSON \(error at byte \d+ of \d+\)"),
])
def test_a_malformed_record_from_an_id_lookup_is_an_error_not_a_crash(db, server, fault, message):
    """WHERE id = 'rec...' is one GET of the record: its body gets the checks
    a page's records get ("fields" an array crashed the lookup of fields)."""
    create(db, "t", SIZES, "One", max_retries=0)
    rec = db.execute("SELECT id FROM t").fetchone()[0]
    server.faults({"path": "^/v0/appSize.*/rec", **fault})
    with pytest.raises(sqlite3.OperationalError) as e:
        db.execute("SELECT * FROM t WHERE id = ?", (rec,)).fetchall()
    assert re.fullmatch(r"airtable: table 'One': " + message + r" \(GET http://127\.0\.0\.1:\d+"
                        r"/v0/appSizeTests00001/tbl\w{14}/" + rec + r"\?returnFieldsByFieldId=true\)",
                        str(e.value)), str(e.value)
    assert [r["path"].rsplit("/", 1)[1] for r in server.list_requests()][-1] == rec


@pytest.mark.parametrize("how", ["identity", "gzip_members", "gzip_listed", "gzip_two_headers",
                                 "gzip_folded"])
def test_bodies_plain_or_in_several_gzip_members_read_the_same(db, server, how):
    """The extension asks for gzip and inflates it itself (libdeflate): a
    server that answers plain, or with several gzip members, reads the same."""
    create(db, "t", SIZES, "One Hundred One")
    want = db.execute("SELECT * FROM t ORDER BY id").fetchall()
    server.faults({"path": "^/v0/appSize", "action": "encoding", "how": how, "times": -1})
    assert db.execute("SELECT * FROM t ORDER BY id").fetchall() == want
    assert len(want) == 101
    assert all(r["gzip"] for r in server.list_requests())   # asked for gzip each time


@pytest.mark.parametrize("how,message", [
    ("br", r"the response to GET \S+ has Content-Encoding 'br', which was not asked for "
           r"\(only gzip is, once\)"),
    # Twice gzipped: refused, not handed over still compressed once.
    ("gzip_gzip", r"the response to GET \S+ has Content-Encoding 'gzip, gzip', which was not "
                  r"asked for \(only gzip is, once\)"),
    ("gzip_corrupt", r"the response to GET \S+ is not valid gzip \(Content-Encoding: gzip, "
                     r"\d+ bytes\)"),
])
def test_a_body_that_cannot_be_decoded_is_an_error(db, server, how, message):
    create(db, "t", SIZES, "One", max_retries=0)
    server.faults({"path": "^/v0/appSize", "action": "encoding", "how": how})
    with pytest.raises(sqlite3.OperationalError) as e:
        db.execute("SELECT * FROM t").fetchall()
    assert re.fullmatch("airtable: " + message, str(e.value)), str(e.value)
    assert TOKEN not in str(e.value)


def test_an_error_status_with_an_undecodable_body_names_the_status(db, server):
    create(db, "t", SIZES, "One", max_retries=0)
    server.faults({"path": "^/v0/appSize", "action": "encoding", "how": "gzip_corrupt",
                   "status": 503})
    with pytest.raises(sqlite3.OperationalError) as e:
        db.execute("SELECT * FROM t").fetchall()
    assert re.fullmatch(r"airtable: HTTP 503: the response to GET \S+ is not valid gzip "
                        r"\(Content-Encoding: gzip, \d+ bytes\)", str(e.value)), str(e.value)


def test_one_reset_of_a_kept_alive_connection_is_retried_by_curl(db, server):
    """libcurl retries a request once on a fresh connection when a reused
    keep-alive connection turns out dead; a second reset is an error."""
    create(db, "t", SIZES, "One")
    server.faults({"path": "^/v0/appSize", "action": "reset", "times": 1})
    assert db.execute('SELECT "N" FROM t').fetchall() == [(1,)]


def test_wrongly_typed_values_keep_their_data(db, server):
    create(db, "t", SIZES, "One")
    fields = {f["name"]: f["id"] for f in table_fixture(SIZES, "One")["fields"]}
    server.faults({"path": "^/v0/appSize", "action": "body", "body": {"records": [
        {"id": "recAAAAAAAAAAAAAA", "createdTime": 5,
         "fields": {fields["Name"]: 12, fields["N"]: "twelve"}}]}})
    assert db.execute('SELECT id, created_time, "Name", typeof("Name"), "N" FROM t').fetchall() \
        == [("recAAAAAAAAAAAAAA", None, 12, "integer", "twelve")]


def test_connection_refused_is_retried_then_named(db, server):
    with pytest.raises(sqlite3.OperationalError) as e:
        create(db, "t", SIZES, "One", api_url="http://127.0.0.1:9",
               max_retries=2, retry_backoff=0.01)
    assert re.fullmatch(
        r"airtable: Failed to connect to 127\.0\.0\.1 port 9 after \d+ ms: "
        r"(Connection refused|Couldn't connect to server) "
        r"\(GET http://127\.0\.0\.1:9/v0/meta/bases/appSizeTests00001/tables\) "
        r"\(gave up after 2 retries in \d+\.\d s\)", str(e.value)), str(e.value)


def test_tables_are_direct_only(db, server):
    """The table acts with the user's credential: a view or trigger written
    into a database by someone else must not be able to use it."""
    create(db, "t", SIZES, "One")
    db.execute("CREATE VIEW v AS SELECT * FROM t")
    assert error_of(db, "SELECT * FROM v") == "unsafe use of virtual table \"t\""
    db.execute("CREATE VIEW w AS SELECT * FROM airtable_bases")
    assert error_of(db, "SELECT * FROM w") == "unsafe use of virtual table \"airtable_bases\""


def test_token_not_in_database_file(tmp_path, server):
    path = tmp_path / "x.db"
    conn = connect(str(path))
    create(conn, "t", SIZES, "One Hundred One")
    conn.execute("CREATE TABLE copy AS SELECT * FROM t")
    conn.commit()
    conn.close()
    data = path.read_bytes()
    assert TOKEN.encode() not in data
    assert b"appSizeTests00001" in data       # the declaration is there


def test_malformed_metadata_names_the_base(db, server):
    server.faults({"path": "^/v0/meta/bases/appSizeTests00001/tables", "action": "body",
                   "body": {"tables": 5}})
    assert create_error(db, SIZES, "One") == (
        'airtable: table metadata of base appSizeTests00001: the response has no '
        '"tables" array')


# --- a database file from someone else (issue 20) ---------------------------------

def _author_file(path, evil, **opts):
    """What an author could ship: a table declared to send the token to
    their server, or to read it from a variable or file of their choice."""
    author = connect(str(path))
    author.execute("SELECT airtable_allow('api_url', ?)", (evil.url,))
    create(author, "tasks", SIZES, "One", api_url=evil.url, **opts)
    author.close()


def test_a_file_cannot_send_your_token_to_its_server(server, tmp_path, monkeypatch):
    from conftest import Server
    evil = Server()
    try:
        _author_file(tmp_path / "evil.db", evil)
        evil.control("POST", "/_test/reset")
        victim = connect(str(tmp_path / "evil.db"))
        msg = error_of(victim, "SELECT * FROM tasks")
        assert msg == (
            f"airtable: table 'tasks': its declaration says api_url='{evil.url}', which "
            "nobody running this process confirmed: a database file does not decide where "
            "your token is sent (one from someone else could send it to their server). If "
            f"it is yours, set AIRTABLE_API_URL={evil.url}, or run SELECT "
            f"airtable_allow('api_url', '{evil.url}') in this connection")
        assert evil.requests() == []                  # nothing, the token least of all
        # Confirmed by the person running the process: the connection...
        victim.execute("SELECT airtable_allow('api_url', ?)", (evil.url,))
        assert victim.execute("SELECT count(*) FROM tasks").fetchone() == (1,)
        victim.close()
        # ... or the environment.
        monkeypatch.setenv("AIRTABLE_API_URL", evil.url + "/")
        victim = connect(str(tmp_path / "evil.db"))
        assert victim.execute("SELECT count(*) FROM tasks").fetchone() == (1,)
        victim.close()
    finally:
        evil.stop()


@pytest.mark.parametrize("option, value, env", [
    ("token_env", "MY_SECRET", "AIRTABLE_TOKEN_ENV"),
    ("token_file", "/etc/hostname", "AIRTABLE_TOKEN_FILE"),
])
def test_a_file_cannot_choose_where_your_token_is_read(server, tmp_path, monkeypatch,
                                                       option, value, env):
    author = connect(str(tmp_path / "f.db"))
    monkeypatch.setenv("MY_SECRET", TOKEN)            # the author's run works
    tok = tmp_path / "tok"
    tok.write_text(TOKEN)
    tok.chmod(0o600)
    given = str(tok) if option == "token_file" else value
    create(author, "tasks", SIZES, "One", **{option: given})
    author.close()
    monkeypatch.setenv("MY_SECRET", "the-users-other-secret")
    server.clear_log()
    victim = connect(str(tmp_path / "f.db"))
    msg = error_of(victim, "SELECT * FROM tasks")
    assert msg.startswith(f"airtable: table 'tasks': its declaration says {option}='{given}', "
                          "which nobody running this process confirmed: a database file does "
                          "not decide where your token is read from"), msg
    assert f"set {env}={given}" in msg and "the-users-other-secret" not in msg
    assert server.requests() == []
    victim.close()
    monkeypatch.setenv(env, given)
    monkeypatch.setenv("MY_SECRET", TOKEN)
    victim = connect(str(tmp_path / "f.db"))
    assert victim.execute("SELECT count(*) FROM tasks").fetchone() == (1,)
    victim.close()


def test_a_cache_copied_elsewhere_needs_no_confirmation_offline(server, tmp_path, monkeypatch):
    """The normal case stays simple: a synced cache read with no token and no
    network asks nothing of anyone, whatever its declaration names."""
    monkeypatch.setenv("MY_TOKEN_VAR", TOKEN)
    author = connect(str(tmp_path / "c.db"))
    create(author, "t", SIZES, "One", cache="on", token_env="MY_TOKEN_VAR")
    author.execute("SELECT airtable_sync('t')").fetchall()
    author.close()
    monkeypatch.delenv("AIRTABLE_TOKEN")
    monkeypatch.delenv("MY_TOKEN_VAR")
    monkeypatch.setenv("AIRTABLE_OFFLINE", "1")
    reader = connect(str(tmp_path / "c.db"))
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (1,)
    reader.close()


def test_credentials_in_api_url_are_refused_and_never_shown(db, server):
    url = server.url.replace("http://", "http://user:s3cret-pw@")
    msg = create_error(db, SIZES, "One", api_url=url)
    assert msg == ("airtable: option api_url: a URL with a user name or password is refused "
                   "(it would be stored in the database file, in airtable_requests and in "
                   "messages); give the API root alone, like https://api.airtable.com")
    assert "s3cret" not in msg
    assert db.execute("SELECT count(*) FROM sqlite_schema").fetchone() == (0,)


def test_airtable_allow_is_checked_and_direct_only(db, server):
    with pytest.raises(sqlite3.OperationalError, match="is not api_url, token_env, token_file or ca_file"):
        db.execute("SELECT airtable_allow('token', 'x')").fetchall()
    with pytest.raises(sqlite3.OperationalError, match="plain http to a host that is not"):
        db.execute("SELECT airtable_allow('api_url', 'http://example.com')").fetchall()
    db.execute("CREATE VIEW v AS SELECT airtable_allow('api_url', 'https://x.example')")
    with pytest.raises(sqlite3.OperationalError, match="unsafe use of airtable_allow"):
        db.execute("SELECT * FROM v").fetchall()


def test_a_redirect_is_not_followed_and_says_where_it_pointed(db, server):
    """Issue 20: a redirect's error was a bare HTTP 301."""
    create(db, "t", SIZES, "One")
    server.faults({"path": "^/v0/appSize", "action": "status", "status": 301,
                   "headers": {"Location": "https://elsewhere.example/v0/x"}, "body": {}})
    msg = error_of(db, "SELECT * FROM t")
    assert msg == ("airtable: HTTP 301 (a redirect to https://elsewhere.example/v0/x, not "
                   "followed: the API does not redirect; check api_url)")
    assert len(server.list_requests(SIZES)) == 1


def test_a_file_cannot_choose_whom_https_trusts_with_your_token(server, tmp_path, monkeypatch):
    """The review's case: a file keeping the default api_url but naming its
    own ca_file would let whoever holds that authority pose as Airtable."""
    ca = tmp_path / "their-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    author = connect(str(tmp_path / "f.db"))
    create(author, "tasks", SIZES, "One", ca_file=str(ca))
    author.close()
    server.clear_log()
    victim = connect(str(tmp_path / "f.db"))
    msg = error_of(victim, "SELECT * FROM tasks")
    assert msg.startswith(f"airtable: table 'tasks': its declaration says ca_file='{ca}', "
                          "which nobody running this process confirmed: a database file does "
                          "not decide whom your token is trusted to"), msg
    assert f"AIRTABLE_CA_FILE={ca}" in msg and server.requests() == []
    victim.execute("SELECT airtable_allow('ca_file', ?)", (str(ca),))
    assert victim.execute("SELECT count(*) FROM tasks").fetchone() == (1,)
    victim.close()
    # A FIFO as ca_file is refused, not opened for reading (it would block).
    fifo = tmp_path / "fifo.pem"
    os.mkfifo(fifo)
    db = connect()
    with pytest.raises(sqlite3.OperationalError,
                       match=f"^airtable: option ca_file: '{fifo}' is not a regular file$"):
        create(db, "t", SIZES, "One", ca_file=str(fifo))
