"""Faults (what a script asks the server to do to matching API requests)
and the control API under /_test/: the request log, faults, config, the
in-flight count, rate-limit windows, offsets, reset, and record and schema
edits.  The control API needs no token, is never rate limited, faulted or
logged."""

import json
import random
import re
import urllib.parse

from .errors import ERR_NOT_FOUND, ApiError, invalid_edit
from .response import WIRE_ENCODINGS, Response
from .state import reading_list

# --- Faults ------------------------------------------------------------------

class Fault:
    def __init__(self, spec):
        if not isinstance(spec, dict) or "action" not in spec:
            raise ValueError("a fault needs an action")
        if spec["action"] not in ("status", "stall", "reset", "malformed", "truncated", "body",
                                  "expired_offset", "pad", "encoding", "drip", "repeat"):
            raise ValueError("unknown fault action %r" % spec["action"])
        if spec["action"] == "encoding" and spec.get("how") not in WIRE_ENCODINGS:
            raise ValueError("fault action encoding: \"how\" must be one of %s"
                             % ", ".join(sorted(WIRE_ENCODINGS)))
        if spec["action"] == "repeat" and spec.get("what") not in ("offset", "record"):
            raise ValueError('fault action repeat: "what" must be offset or record')
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


# --- Control API -------------------------------------------------------------

def control_table(state, rest):
    """The table of a control path's "{base}/{table}" (percent-encoded)."""
    segs = [urllib.parse.unquote(s) for s in rest.split("/")]
    if len(segs) != 2:
        raise ApiError(404, ERR_NOT_FOUND)
    return state.find_table(state.find_base(segs[0]), segs[1])


def get_requests(state, data):
    with state.lock:
        return Response(200, {"requests": list(state.log)})


def delete_requests(state, data):
    with state.lock:
        state.log = []
    return Response(200, {"ok": True})


def get_faults(state, data):
    with state.lock:
        return Response(200, {"faults": [f.describe() for f in state.faults]})


def delete_faults(state, data):
    with state.lock:
        state.faults = []
    return Response(200, {"ok": True})


def post_faults(state, data):
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


def get_config(state, data):
    return Response(200, dict(state.config))


def post_config(state, data):
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


def get_inflight(state, data):
    # How many API requests are being served (sleeping out latency or
    # a stall included): tests wait for this instead of a fixed time.
    with state.lock:
        return Response(200, {"inflight": state.inflight})


def reset_rate_limit(state, data):
    with state.lock:
        state.windows = {}
        state.penalties = {}
    return Response(200, {"ok": True})


def expire_offsets(state, data):
    with state.lock:
        state.offsets.clear()
    return Response(200, {"ok": True})


def reset(state, data):
    state.reset()
    return Response(200, {"ok": True})


def edit_records(state, rest, data):
    # {"create"?: [{id?, fields, createdTime?, modifiedTime?}],
    #  "update"?: [{id, fields, modifiedTime?}], "delete"?: [id]}
    table = control_table(state, rest)
    if not isinstance(data, dict) or set(data) - {"create", "update", "delete"} \
            or not all(isinstance(data.get(k) or [], list) for k in ("create", "update", "delete")):
        raise invalid_edit("expected {create?, update?, delete?}")
    return Response(200, table.edit(data.get("create") or [], data.get("update") or [],
                                     data.get("delete") or []))


def edit_fields(state, rest, data):
    # {"add"?: [{name, type, options?, id?, description?, values?}],
    #  "remove"?: [name or id], "rename"?: {name or id: new name},
    #  "retype"?: {name or id: {type, options?, values?}}}
    table = control_table(state, rest)
    if not isinstance(data, dict) or set(data) - {"add", "remove", "rename", "retype"} \
            or not isinstance(data.get("add", []), list) or not isinstance(data.get("remove", []), list) \
            or not isinstance(data.get("rename", {}), dict) or not isinstance(data.get("retype", {}), dict):
        raise invalid_edit("expected {add?: [...], remove?: [...], rename?: {...}, retype?: {...}}")
    return Response(200, table.edit_fields(data.get("add") or [], data.get("remove") or [],
                                           data.get("rename"), data.get("retype")))


# (path without trailing slashes, method) -> route(state, data)
ROUTES = {
    ("/_test/requests", "GET"): get_requests,
    ("/_test/requests", "DELETE"): delete_requests,
    ("/_test/faults", "GET"): get_faults,
    ("/_test/faults", "DELETE"): delete_faults,
    ("/_test/faults", "POST"): post_faults,
    ("/_test/config", "GET"): get_config,
    ("/_test/config", "POST"): post_config,
    ("/_test/inflight", "GET"): get_inflight,
    ("/_test/rate_limit/reset", "POST"): reset_rate_limit,
    ("/_test/offsets/expire", "POST"): expire_offsets,
    ("/_test/reset", "POST"): reset,
}

# (path prefix, method, route(state, rest of the path: "{base}/{table}", data))
TABLE_ROUTES = [
    ("/_test/records/", "POST", edit_records),
    ("/_test/fields/", "POST", edit_fields),
]


def control(state, method, raw_path, body):
    """The answer to a control API request (ApiError for an error)."""
    try:
        data = json.loads(body.decode("utf-8")) if body else {}
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, {"error": {"type": "INVALID_JSON", "message": "control API body is not JSON"}})
    path = raw_path.rstrip("/")
    route = ROUTES.get((path, method))
    if route is not None:
        return route(state, data)
    for prefix, route_method, route in TABLE_ROUTES:
        if path.startswith(prefix) and method == route_method:
            return route(state, path[len(prefix):], data)
    raise ApiError(404, ERR_NOT_FOUND)
