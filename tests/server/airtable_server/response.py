"""What goes on the wire: the server's JSON text (dumps), an answer
(Response), and the encodings a fault can force on a body (WIRE_ENCODINGS)."""

import gzip
import json

JSON_TYPE = "application/json; charset=utf-8"


def dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Response:
    def __init__(self, status, body, records=None, headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else (
            body.encode("utf-8") if isinstance(body, str) else dumps(body).encode("utf-8"))
        self.records = records
        self.headers = headers or {}


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
