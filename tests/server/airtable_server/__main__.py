"""The command line: python3 -m airtable_server [args] (scripts/test-server).

Prints exactly "http://127.0.0.1:PORT" (https with --tls-cert) on stdout,
then serves until SIGTERM or SIGINT; --help lists the arguments.
"""

import argparse
import os
import signal
import sys
import threading

from . import formula as formula_eval   # the filterByFormula evaluator
from .routing import Server
from .state import DEFAULT_FIXTURES, State, load_fixtures, reading_list, resolve_fixture


def parse_readings_arg(text):
    names = [n.strip() for n in text.split(",") if n.strip()]
    try:
        return reading_list(names)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def parse_bench_sizes(text):
    from . import bench   # generated tables for benchmarks
    try:
        return bench.parse_sizes(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python3 -m airtable_server", description="Airtable-compatible test server")
    p.add_argument("--fixture", action="append", help="base fixture JSON (repeatable)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0: a free port chosen by the OS")
    p.add_argument("--token", default="test-token")
    p.add_argument("--latency-ms", type=float, default=0)
    p.add_argument("--rate-limit", type=int, default=5, help="requests per second per base; 0 = off")
    p.add_argument("--rate-limit-penalty", type=float, default=30,
                   help="seconds a base is refused after exceeding the limit")
    p.add_argument("--readings", type=parse_readings_arg, default=[],
                   help="comma-separated readings of open points (formula.READINGS): %s"
                        % ", ".join(sorted(formula_eval.READINGS)))
    p.add_argument("--bench-records", type=parse_bench_sizes, default=[],
                   help="comma-separated sizes: add the base appBenchData00001 with a generated "
                        "table \"Bench N\" of each size, plain listings pre-rendered (bench.py)")
    p.add_argument("--bench-full-max", type=int, default=None,
                   help="bench tables above this many records serve only plain listings and GET "
                        "of one record (default 100000)")
    p.add_argument("--verbose", action="store_true", help="log requests on stderr")
    p.add_argument("--tls-cert", help="serve https with this certificate (PEM)")
    p.add_argument("--tls-key", help="the certificate's private key (PEM)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    paths = [resolve_fixture(p) for p in (args.fixture or DEFAULT_FIXTURES)]
    config = {"latency_ms": args.latency_ms, "rate_limit": args.rate_limit,
              "rate_limit_penalty": args.rate_limit_penalty, "token": args.token,
              "readings": args.readings}
    extra = []
    if args.bench_records:
        from . import bench   # generated tables for benchmarks: a base State registers
        full_max = bench.FULL_MAX if args.bench_full_max is None else args.bench_full_max
        extra.append(bench.BenchBase(args.bench_records, full_max))
    state = State(load_fixtures(paths), config, extra)
    server = Server((args.host, args.port), state, verbose=args.verbose)
    scheme = "http"
    if args.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"

    def stop(signum, frame):
        # serve_forever() runs in this thread, so shut it down from another one.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.stdout.write("%s://%s:%d\n" % (scheme, args.host, server.server_address[1]))
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    rc = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)  # do not wait for handler threads stalled by faults
