"""bench/fetch.py: the CPU baselines of scripts/bench (issue 11), measured on
a full table scan: client CPU (user+sys of the client process) per records.

    walk_pages(api_url, base, table, token)   -> page URLs (a list, .records set)
    save_pages(urls, token, dir)              -> the page files, for bench-floor
    run_official(api_url, base, table, token) -> the official JS client's scan
    run_curl(urls, token)                     -> one curl fetching every page
    run_floor(floor_binary, dir, repeat)      -> cJSON parse+walk of the saved pages
    run_extension(api_url, base, table, token)-> this repository's extension

Every run_* returns {"records", "cpu_s", "maxrss_kb", "wall_s", ...}: cpu_s
is user+sys and maxrss_kb the peak RSS of that one child (a server started by
the caller, also a child, never counts), measured by build/bench-runstat
(bench/runstat.c: gcc -O2 bench/runstat.c -o build/bench-runstat) when it is
built, else by os.wait4 on the pid here (cpu_s as exact; maxrss_kb then at
least this Python process's own peak, see _run); wall_s runs from the spawn
to the reaping.  per_100k(result) scales cpu_s.

Standard library only (Debian's /usr/bin/python3).  Try it end to end:

    /usr/bin/python3 bench/fetch.py API_URL BASE TABLE [--token T] [--repeat R]

Re-fetching by URL: the test server keeps an offset usable until it expires
(600 s after it was minted) or is pushed out by newer ones (10,000 offsets
outstanding, the oldest dropped first, every listing page with a next page
mints one); using an offset does not consume it.  So the URLs walk_pages
returns stay valid for re-fetching for 10 minutes, and until about
10,000 - len(urls) more pages with an offset have been served by anyone
(each scan by the official client or the extension mints len(urls) - 1).  With
1,000,000 records (10,000 pages) the walk alone fills the table: run curl
straight after walk_pages, nothing in between; for smaller tables walking once
before each curl run is the safe habit too (the walk costs no client CPU that
is measured).  run_curl raises if any page does not answer 200.
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OFFICIAL = BENCH / "official_scan.js"
PAGE_SIZE = 100


class Pages(list):
    """The page URLs of one listing, in order; .records is how many records
    the walk saw and .bytes how many body bytes (uncompressed)."""
    records = 0
    bytes = 0


def _list_url(api_url, base, table, offset=None, by_field_id=False):
    params = [("pageSize", str(PAGE_SIZE))]
    if by_field_id:
        params.append(("returnFieldsByFieldId", "true"))
    if offset is not None:
        params.append(("offset", offset))
    return "%s/v0/%s/%s?%s" % (api_url.rstrip("/"), urllib.parse.quote(base, safe=""),
                               urllib.parse.quote(table, safe=""), urllib.parse.urlencode(params))


def _get(url, token, timeout=60):
    # No Accept-Encoding: the body comes back as plain JSON.
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.read()


def walk_pages(api_url, base, table, token, by_field_id=False):
    """The URLs of every page of the plain listing (pageSize=100), found by
    following the offsets; fetching URL i again returns page i.  by_field_id
    adds returnFieldsByFieldId=true, as the extension asks."""
    pages = Pages()
    offset = None
    while True:
        url = _list_url(api_url, base, table, offset, by_field_id)
        body = _get(url, token)
        page = json.loads(body)
        pages.append(url)
        pages.records += len(page["records"])
        pages.bytes += len(body)
        offset = page.get("offset")
        if offset is None:
            return pages


def save_pages(urls, token, dir):
    """Fetch each URL and write its body to DIR/page-NNNNNN.json (names sort
    in page order); returns the paths."""
    os.makedirs(dir, exist_ok=True)
    paths = []
    for i, url in enumerate(urls):
        path = os.path.join(dir, "page-%06d.json" % i)
        with open(path, "wb") as f:
            f.write(_get(url, token))
        paths.append(path)
    return paths


RUNSTAT = ROOT / "build" / "bench-runstat"


def _run(argv, env=None, stdout=None, runstat=None):
    """Run argv to completion; (stdout, stderr, returncode, cpu_s, maxrss_kb,
    wall_s) with the rusage of that child alone.  Through bench-runstat
    (bench/runstat.c; RUNSTAT unless runstat= says otherwise) when it is
    built, so that maxrss_kb is the child's own: a child reaped straight from
    here (os.wait4) reports at least this Python process's peak RSS, which
    Linux carries over the exec.  Without it, cpu_s is still exact (wait4 on
    the pid) and maxrss_kb only an upper bound.  stdout=subprocess.DEVNULL
    discards the output (returned as "")."""
    runstat = RUNSTAT if runstat is None else runstat
    use_runstat = bool(runstat) and os.access(str(runstat), os.X_OK)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json") as stat:
        full = [str(runstat), stat.name, *map(str, argv)] if use_runstat else list(map(str, argv))
        t0 = time.monotonic()
        proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=out if stdout is None else stdout,
                                stderr=err, env=env)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)   # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        outtext = out.read().decode("utf-8", "replace")
        errtext = err.read().decode("utf-8", "replace")
        cpu, rss = ru.ru_utime + ru.ru_stime, ru.ru_maxrss
        if use_runstat:
            raw = stat.read()
            if not raw:
                raise RuntimeError("bench-runstat wrote nothing: %s" % errtext.strip())
            st = json.loads(raw)
            cpu, rss = st["user_s"] + st["sys_s"], st["maxrss_kb"]
        return outtext, errtext, proc.returncode, cpu, rss, wall


def _check(name, argv, rc, stderr):
    if rc != 0:
        raise RuntimeError("%s failed (exit %d): %s\n%s" % (name, rc, " ".join(map(str, argv)), stderr.strip()))


def run_official(api_url, base, table, token, node="node"):
    """The official client (bench/official_scan.js; install it with
    `npm ci --prefix bench`) listing every record, pageSize 100."""
    argv = [node, str(OFFICIAL), api_url, base, table, token]
    out, err, rc, cpu, rss, wall = _run(argv)
    _check("official client", argv, rc, err)
    res = json.loads(out.strip().splitlines()[-1])
    return {"records": res["records"], "pages": res["pages"], "cpu_s": cpu, "maxrss_kb": rss, "wall_s": wall}


def _cfg_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def run_curl(urls, token, records=None, curl="curl"):
    """ONE curl process fetching every URL over a kept-alive connection,
    bodies to /dev/null, asking gzip (--compressed) as the extension does.
    records defaults to urls.records when urls came from walk_pages."""
    if records is None:
        records = getattr(urls, "records", None)
    with tempfile.NamedTemporaryFile("w", suffix=".curl", delete=False) as cfg:
        # Options in the config file, so the token never shows in ps.
        cfg.write("silent\nshow-error\ncompressed\n")
        cfg.write("header = %s\n" % _cfg_quote("Authorization: Bearer " + token))
        cfg.write("write-out = %s\n" % _cfg_quote("%{http_code} %{size_download}\\n"))
        for url in urls:
            cfg.write("url = %s\noutput = \"/dev/null\"\n" % _cfg_quote(url))
    try:
        argv = [curl, "-K", cfg.name]
        out, err, rc, cpu, rss, wall = _run(argv)
    finally:
        os.unlink(cfg.name)
    _check("curl", argv, rc, err)
    lines = out.split()
    codes, sizes = lines[0::2], lines[1::2]
    bad = [(i, c) for i, c in enumerate(codes) if c != "200"]
    if len(codes) != len(urls) or bad:
        raise RuntimeError("curl: %d of %d pages answered, not 200: %s (offsets expired? see bench/fetch.py)"
                           % (len(codes), len(urls), bad[:5]))
    return {"records": records, "pages": len(urls), "wire_bytes": sum(int(s) for s in sizes),
            "cpu_s": cpu, "maxrss_kb": rss, "wall_s": wall}


def run_floor(floor_binary, dir, repeat):
    """bench-floor over the page files in DIR, the set parsed REPEAT times.
    records is the records parsed in all (per pass times repeat); parse_cpu_s
    (self-measured, the parse loop only) is the floor, cpu_s the whole process
    (start-up and reading the files once included; read_cpu_s the reading).
    inflate_cpu_s: inflating the same pages gzip-compressed, REPEAT times, with
    zlib (as curl does); libdeflate_cpu_s: the same with libdeflate (as the
    extension does)."""
    argv = [str(floor_binary), "-r", str(repeat), "-z", str(dir)]
    out, err, rc, cpu, rss, wall = _run(argv)
    _check("bench-floor", argv, rc, err)
    res = json.loads(out)
    return {"records": res["records"] * res["repeat"], "records_per_pass": res["records"],
            "pages": res["pages"], "bytes": res["bytes"], "repeat": res["repeat"],
            "parse_cpu_s": res["parse_cpu_s"], "read_cpu_s": res["read_cpu_s"],
            "inflate_cpu_s": res["inflate_cpu_s"], "gzip_bytes": res["gzip_bytes"],
            "libdeflate_cpu_s": res["libdeflate_cpu_s"],
            "cpu_s": cpu, "maxrss_kb": rss, "wall_s": wall}


def _sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def run_extension(api_url, base, table, token, records=None, sqlite3="sqlite3",
                  extension=ROOT / "build" / "airtable"):
    """The sqlite3 shell scanning the table through the extension:
    SELECT * FROM t, output to /dev/null.  rate_limit=0 (loopback only)."""
    sql = ("CREATE VIRTUAL TABLE t USING airtable(base=%s, table=%s, api_url=%s, rate_limit=0); "
           "SELECT * FROM t;" % (_sql_str(base), _sql_str(table), _sql_str(api_url)))
    argv = [sqlite3, "-batch", ":memory:", "-cmd", ".load " + str(extension), sql]
    env = dict(os.environ, AIRTABLE_TOKEN=token)
    _, errtext, rc, cpu, rss, wall = _run(argv, env=env, stdout=subprocess.DEVNULL)
    # The shell exits 0 on some errors: stderr must be empty as well.
    if rc != 0 or errtext.strip():
        raise RuntimeError("extension scan failed (exit %d): %s" % (rc, errtext.strip()))
    return {"records": records, "cpu_s": cpu, "maxrss_kb": rss, "wall_s": wall}


def per_100k(result, key="cpu_s"):
    """result[key] scaled to 100,000 records."""
    return result[key] * 100000.0 / result["records"]


def main(argv):
    import argparse
    import statistics
    ap = argparse.ArgumentParser(description="CPU per 100,000 records of a full table scan.")
    ap.add_argument("api_url")
    ap.add_argument("base")
    ap.add_argument("table")
    ap.add_argument("--token", default="test-token")
    ap.add_argument("--floor", default=str(ROOT / "build" / "bench-floor"))
    ap.add_argument("--repeat", type=int, default=40, help="passes of bench-floor over the pages")
    ap.add_argument("--runs", type=int, default=5, help="runs of each; the median is shown")
    args = ap.parse_args(argv)

    rows = {"official": [], "curl": [], "floor": [], "floor (process)": [], "extension": []}
    with tempfile.TemporaryDirectory() as d:
        urls = walk_pages(args.api_url, args.base, args.table, args.token)
        save_pages(urls, args.token, d)
        for _ in range(args.runs):
            off = run_official(args.api_url, args.base, args.table, args.token)
            assert off["records"] == urls.records, off
            rows["official"].append(off)
            urls = walk_pages(args.api_url, args.base, args.table, args.token)   # fresh offsets
            rows["curl"].append(run_curl(urls, args.token))
            fl = run_floor(args.floor, d, args.repeat)
            rows["floor"].append(dict(fl, cpu_s=fl["parse_cpu_s"]))
            rows["floor (process)"].append(fl)
            rows["extension"].append(run_extension(args.api_url, args.base, args.table, args.token,
                                                   records=urls.records))
    print("%d records, %d pages, %d body bytes; median of %d runs"
          % (urls.records, len(urls), urls.bytes, args.runs))
    print("%-16s %12s %10s %10s %10s" % ("", "cpu/100k s", "cpu s", "maxrss kB", "wall s"))
    for name, rs in rows.items():
        print("%-16s %12.3f %10.4f %10d %10.3f" % (
            name, statistics.median(per_100k(r) for r in rs), statistics.median(r["cpu_s"] for r in rs),
            statistics.median(r["maxrss_kb"] for r in rs), statistics.median(r["wall_s"] for r in rs)))


if __name__ == "__main__":
    main(sys.argv[1:])
