"""The server's state: the bases (from fixtures, and bases built once such
as the bench base), the config, offsets, rate-limit windows, faults and the
request log; and loading the fixtures."""

import collections
import copy
import json
import os
import random
import threading
import time

from . import formula as formula_eval   # the filterByFormula evaluator
from .errors import ERR_ITERATOR, ERR_PERMISSIONS, ERR_RATE_LIMIT, ApiError
from .tables import ALNUM, Base

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEFAULT_FIXTURES = [
    os.path.join(REPO_ROOT, "tests", "fixtures", "appPackagingOps01.json"),
    os.path.join(REPO_ROOT, "tests", "fixtures", "appSizeTests00001.json"),
]

OFFSET_TTL = 600.0          # seconds an offset lives (Airtable: undocumented; test server's choice)
OFFSET_MAX = 10000          # bound on outstanding offsets
LOG_MAX = 100000            # bound on the request log


class State:
    """Everything the handlers share; one lock guards the mutable parts."""

    def __init__(self, fixture_specs, config, extra=()):
        self.fixture_specs = fixture_specs      # pristine parsed fixtures, never mutated
        self.extra = list(extra)                # bases built once (bench.BenchBase): .base, .reset()
        self.initial_config = dict(config)
        self.lock = threading.RLock()
        self.inflight = 0   # API requests being served now (not reset: they are real)
        self.rng = random.Random()
        self.reset()

    def reset(self):
        with self.lock:
            # Wake the stalled requests of earlier tests (see routing.py, apply_fault).
            if getattr(self, "stall_cancel", None) is not None:
                self.stall_cancel.set()
            self.stall_cancel = threading.Event()
            # Rebuild only bases whose records or schema were edited; the rest are unchanged.
            old = getattr(self, "bases", None)
            self.bases = [b if old is not None and all(t.snapshot.version == 0 for t in b.tables)
                          else Base(copy.deepcopy(s))
                          for s, b in zip(self.fixture_specs, old or [None] * len(self.fixture_specs))]
            for x in self.extra:
                x.reset()
                self.bases.append(x.base)
            self.base_by_id = {b.id: b for b in self.bases}
            self.config = dict(self.initial_config)
            self.log = []
            self.seq = 0
            self.faults = []
            self.offsets = collections.OrderedDict()
            self.windows = {}
            self.penalties = {}

    # -- lookups --

    def find_base(self, base_id):
        # Airtable docs, Errors: 403 INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND covers unknown bases.
        base = self.base_by_id.get(base_id)
        if base is None:
            raise ApiError(403, ERR_PERMISSIONS)
        return base

    @staticmethod
    def find_table(base, name_or_id):
        # ... and unknown tables (never TABLE_NOT_FOUND).
        table = base.table(name_or_id)
        if table is None:
            raise ApiError(403, ERR_PERMISSIONS)
        return table

    def readings(self):
        """The readings in force for this request (one look at the config, so
        a request sees one set even when the control API changes it)."""
        return frozenset(self.config.get("readings") or ())

    # -- offsets --

    def new_offset(self, signature, position, next_id):
        with self.lock:
            now = time.monotonic()
            while self.offsets:
                token, (_, _, created) = next(iter(self.offsets.items()))
                if now - created > OFFSET_TTL or len(self.offsets) >= OFFSET_MAX:
                    self.offsets.popitem(last=False)
                else:
                    break
            token = "itr%s/%s" % ("".join(self.rng.choice(ALNUM) for _ in range(14)), next_id)
            self.offsets[token] = (signature, position, now)
            return token

    def take_offset(self, token, signature):
        # Airtable docs, List records: an expired or unusable offset gives 422
        # LIST_RECORDS_ITERATOR_NOT_AVAILABLE (no message).
        with self.lock:
            entry = self.offsets.get(token)
            if entry is None or entry[0] != signature or time.monotonic() - entry[2] > OFFSET_TTL:
                raise ApiError(422, ERR_ITERATOR)
            return entry[1]

    # -- rate limit --

    def rate_check(self, base_id):
        """Raise 429 when base_id is over its limit or serving a penalty.

        Airtable docs, Rate limits: 5 requests per second per base; after a 429,
        wait 30 seconds.  Refused requests do not count toward the window."""
        with self.lock:
            limit = self.config["rate_limit"]
            if not limit:
                return
            now = time.monotonic()
            if now < self.penalties.get(base_id, 0.0):
                raise ApiError(429, ERR_RATE_LIMIT)
            window = self.windows.setdefault(base_id, collections.deque())
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= limit:
                self.penalties[base_id] = now + float(self.config["rate_limit_penalty"])
                raise ApiError(429, ERR_RATE_LIMIT)
            window.append(now)

    # -- faults --

    def take_fault(self, method, path, query):
        """The fault to apply to this request, or None.  The first non-exhausted
        fault (list order) whose path/method/query match takes the request: while
        its skip count lasts the request passes untouched, then it fires "times"
        times (-1: forever).  A request is consumed by at most one fault."""
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path, query):
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    if fault.probability < 1.0 and fault.rng.random() >= fault.probability:
                        return None
                    if fault.times > 0:
                        fault.times -= 1
                    fault.hits += 1
                    return fault
            return None

    # -- request log --

    def record(self, entry):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.log.append(entry)
            if len(self.log) > LOG_MAX:
                del self.log[: len(self.log) - LOG_MAX]


def reading_list(value):
    """A config's or the command line's readings as a sorted list of names;
    ValueError for anything but a list of known, compatible reading names."""
    if not isinstance(value, list):
        raise ValueError("readings is a list of names, known: %s" % ", ".join(sorted(formula_eval.READINGS)))
    return sorted(formula_eval.check_readings(value))


def load_fixtures(paths):
    specs = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            specs.append(json.load(f))
    return specs


def resolve_fixture(path):
    """Relative fixture paths are taken relative to the repository (falling back
    to the working directory when no such file exists there)."""
    if os.path.isabs(path):
        return path
    in_repo = os.path.join(REPO_ROOT, path)
    return in_repo if os.path.exists(in_repo) or not os.path.exists(path) else os.path.abspath(path)
