#!/usr/bin/env node
// bench/official_scan.js: baseline for scripts/bench, a full table scan with
// the official Airtable JavaScript client (airtable 0.12.2, pinned in
// bench/package.json and bench/package-lock.json).
//
// Install (no shell needed, from the repository root):
//     npm ci --prefix bench
// Run:
//     node bench/official_scan.js API_URL BASE TABLE TOKEN
// Prints one JSON line: {"records": N, "pages": P, "fields": F}
//
// Delays the client could add on its own (checked in airtable 0.12.2,
// lib/run_action.js, lib/exponential_backoff_with_jitter.js,
// lib/internal_config.json): there is no client-side throttle; pages are
// requested one after another as soon as fetchNextPage() is called.  The one
// timer is the retry after a 429: a random sleep of up to 5 s * 2^n (capped at
// 600 s).  noRetryIfRateLimited turns that off, so a 429 ends the run with an
// error instead of sleeping inside the measurement.  The other timer is the
// request timeout (requestTimeout, 300 s by default), cleared on the answer.
// Requests go through node-fetch 2 (Accept-Encoding: gzip,deflate) on Node's
// global http agent, which keeps connections alive from Node 19 on.
'use strict';

const path = require('path');

let Airtable;
try {
    Airtable = require(path.join(__dirname, 'node_modules', 'airtable'));
} catch (e) {
    process.stderr.write('official_scan: airtable not installed; run: npm ci --prefix bench\n');
    process.exit(2);
}

function main(argv) {
    if (argv.length !== 4) {
        process.stderr.write('usage: node bench/official_scan.js API_URL BASE TABLE TOKEN\n');
        process.exit(2);
    }
    const [apiUrl, baseId, table, token] = argv;
    const base = new Airtable({
        apiKey: token,
        endpointUrl: apiUrl.replace(/\/+$/, ''),
        noRetryIfRateLimited: true,
    }).base(baseId);

    let records = 0;
    let pages = 0;
    let fields = 0;
    base(table).select({pageSize: 100}).eachPage(
        (page, fetchNextPage) => {
            pages++;
            for (const record of page) {
                records++;
                // Touch every value once, as a user reading the row would.
                const f = record.fields;
                for (const name in f) {
                    if (f[name] !== undefined) fields++;
                }
            }
            fetchNextPage();
        },
        (err) => {
            if (err) {
                process.stderr.write('official_scan: ' + (err.stack || err.message || String(err)) + '\n');
                process.exit(1);
            }
            process.stdout.write(JSON.stringify({records, pages, fields}) + '\n');
        });
}

main(process.argv.slice(2));
