"""HTTP: the request handler (plumbing, the request log, latency and
faults) and the routing of /v0 API paths to their endpoints (records.py,
metadata.py) and of /_test/ paths to the control API (control.py)."""

import gzip
import http.server
import json
import socket
import struct
import sys
import time
import urllib.parse

from . import control, metadata, records
from .errors import DEFAULT_STATUS_BODIES, ERR_AUTH, ERR_ITERATOR, ERR_NOT_FOUND, ApiError
from .response import JSON_TYPE, WIRE_ENCODINGS, Response


def route(state, auth, method, raw_path, raw_query, body):
    """The /v0 API.  Order: auth, path, rate limit, base/table lookup."""
    if auth != "Bearer " + str(state.config["token"]):
        raise ApiError(401, ERR_AUTH)
    segs = raw_path.split("/")[1:]  # split before percent-decoding each segment
    if len(segs) < 2 or segs[0] != "v0" or "" in segs[1:]:
        raise ApiError(404, ERR_NOT_FOUND)
    segs = [urllib.parse.unquote(s) for s in segs[1:]]
    pairs = urllib.parse.parse_qsl(raw_query, keep_blank_values=True)

    if segs[0] == "meta":
        if segs == ["meta", "bases"] and method == "GET":
            return metadata.list_bases(state, pairs)
        if len(segs) == 4 and segs[1] == "bases" and segs[3] == "tables" and method == "GET":
            state.rate_check(segs[2])
            return metadata.base_schema(state.find_base(segs[2]), pairs)
        raise ApiError(404, ERR_NOT_FOUND)

    if len(segs) == 2 and method == "GET":
        def serve(table):
            return records.list_records_get(state, table, pairs)
    elif len(segs) == 3 and method == "POST" and segs[2] == "listRecords":
        def serve(table):
            return records.list_records_post(state, table, pairs, body)
    elif len(segs) == 3 and method == "GET":
        def serve(table):
            return records.get_record(state, table, segs[2], pairs)
    else:
        raise ApiError(404, ERR_NOT_FOUND)
    state.rate_check(segs[0])
    return serve(state.find_table(state.find_base(segs[0]), segs[1]))


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

    def send(self, resp, entry=None, body_limit=None, drip=None):
        """Send resp; with body_limit, send only that many body bytes.  With entry,
        log the request first (so the log is complete once the client has the
        answer).  With drip (bytes, seconds): the body that many bytes at a
        time, a pause between, as a hostile server keeps a transfer alive."""
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
        if self.command != "HEAD" and drip is None:
            self.wfile.write(body)
        elif self.command != "HEAD":
            step, pause = drip
            self.wfile.flush()
            for i in range(0, len(body), step):
                # A reset (/_test/reset) ends the drip of the test before.
                if self.state.stall_cancel.wait(pause):
                    self.abort_connection()
                    return
                self.wfile.write(body[i:i + step])
                self.wfile.flush()

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
                resp = control.control(self.state, method, raw_path, body)
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
            resp = self.route(method, raw_path, raw_query, body)
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
                    resp = self.route(method, raw_path, raw_query, body)
                except ApiError as e:
                    resp = Response(e.status, e.body)
            resp.wire = spec["how"]
        elif action == "pad":
            # A normal answer padded with "pad_bytes" spaces of JSON white
            # space: an oversized but valid response.
            try:
                resp = self.route(method, raw_path, raw_query, body)
            except ApiError as e:
                resp = Response(e.status, e.body)
            resp.body += b" " * int(spec.get("pad_bytes", 0))
        elif action == "drip":
            # A normal answer sent "bytes" bytes (default 1) every "seconds"
            # (default 0.4): data keeps coming, so a no-data timeout never
            # fires (issue 20: 2.5 bytes a second outlasted every limit).
            try:
                resp = self.route(method, raw_path, raw_query, body)
            except ApiError as e:
                resp = Response(e.status, e.body)
            self.send(resp, entry, drip=(int(spec.get("bytes", 1)),
                                         float(spec.get("seconds", 0.4))))
            self.close_connection = True
            return True
        elif action == "repeat":
            # A hostile listing (issue 20): "offset" answers the page with
            # the offset it was asked for (so the listing would never end);
            # "record" repeats the page's first record at its end.
            try:
                resp = self.route(method, raw_path, raw_query, body)
            except ApiError as e:
                resp = Response(e.status, e.body)
            page = json.loads(resp.body)
            if resp.status == 200 and isinstance(page.get("records"), list):
                if spec["what"] == "record" and page["records"]:
                    page["records"].append(page["records"][0])
                elif spec["what"] == "offset":
                    asked = urllib.parse.parse_qs(raw_query).get("offset", [None])[0]
                    if asked is None and body:
                        asked = json.loads(body).get("offset")
                    if asked is not None:
                        page["offset"] = asked
                resp = Response(200, page, records=len(page["records"]))
        elif action == "truncated":
            try:
                resp = self.route(method, raw_path, raw_query, body)
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

    def route(self, method, raw_path, raw_query, body):
        """The /v0 API's answer (ApiError for an error): route() above."""
        return route(self.state, self.headers.get("Authorization") or "", method, raw_path, raw_query, body)


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
