/*
** http.h: the one HTTP layer: every request to the API goes through
** atHttpDo() (limiter, retries, timeouts, interrupts, the request log).
** Responses are asked for gzip and inflated here (atGunzip).
*/
#ifndef AT_HTTP_H
#define AT_HTTP_H

#include "airtable_int.h"
#include "context.h"
#include "request.h"

#define AT_MAX_RESPONSE (64*1024*1024)   /* bigger response bodies are refused */

/* How requests are made and retried (docs/sql-reference.md, "Rate limit and retries"). */
typedef struct AtHttpConfig AtHttpConfig;
struct AtHttpConfig {
  int nRatePerSec;          /* rate_limit: requests per second per base, 1..5;
                            ** 0: no limiter (a loopback test server only) */
  int nMaxRetries;          /* max_retries: retries of one request */
  double rRateLimitWait;    /* rate_limit_wait: seconds after a 429 without Retry-After */
  double rRetryBackoff;     /* retry_backoff: first wait (s) after a 5xx or network error */
  double rRetryBudget;      /* retry_budget: most seconds one request may take in all */
  double rConnectTimeout;   /* connect_timeout: seconds */
  int nTimeout;             /* timeout: seconds with no data before giving up */
  const char *zCaFile;      /* ca_file: CA bundle for https, or NULL (copied) */
};

/* Airtable's limits and the defaults (README documents them). */
#define AT_DEFAULT_RATE          5      /* Airtable: 5 requests/s per base */
#define AT_DEFAULT_MAX_RETRIES   5
#define AT_DEFAULT_429_WAIT      30.0   /* Airtable: wait 30 s after a 429 */
#define AT_DEFAULT_BACKOFF       1.0
#define AT_DEFAULT_BUDGET        300.0
#define AT_DEFAULT_CONNECT       30.0
#define AT_DEFAULT_TIMEOUT       60



void atHttpConfigDefault(AtHttpConfig *p);

/* Inflate the gzip body a[0..n-1] (one member or several, concatenated)
** into *pzOut, a buffer of *pnAlloc bytes that grows (sqlite3_realloc64) as
** needed: *pnOut bytes, NUL-terminated. SQLITE_OK; SQLITE_TOOBIG beyond
** nMax bytes; SQLITE_ERROR if it is not valid gzip (a bad header, data or
** CRC, a truncated member, bytes after the last); SQLITE_NOMEM. */
struct libdeflate_decompressor;
int atGunzip(struct libdeflate_decompressor *pDec, const char *a, size_t n,
             char **pzOut, size_t *pnAlloc, size_t *pnOut, size_t nMax);

/* Watching a database connection for sqlite3_interrupt() from inside a
** statement it is running (a virtual table method or an SQL function).
** Begin, then Check as often as wanted (true once interrupted), then End.
** db may be NULL: Check is then always false. */
typedef struct AtWatch AtWatch;
struct AtWatch {
  sqlite3 *db;              /* the connection watched, or NULL */
  sqlite3_stmt *pProbe;     /* SQLite < 3.41: the running probe query */
  int bFired;               /* seen interrupted */
};
void atWatchBegin(AtWatch *p, sqlite3 *db);
int atWatchCheck(AtWatch *p);
void atWatchEnd(AtWatch *p);

/* What an AtHttp has cost since it was made. */
typedef struct AtHttpStats AtHttpStats;
struct AtHttpStats {
  int nRequests;            /* atHttpDo() calls */
  int nAttempts;            /* HTTP requests sent, retries included */
  int nRetries;             /* retries */
  sqlite3_int64 nWaitMs;    /* waiting on the rate limit and before retries */
};

typedef struct AtHttp AtHttp;

/* A connection to the API: one libcurl handle (reused, so keep-alive works),
** the token, the rate limiter key, the retry policy, and where requests are
** logged (pCtx, may be NULL) and interrupts are seen (db, may be NULL).
** Returns NULL on OOM. The token is copied and wiped from memory on free. */
AtHttp *atHttpNew(const char *zToken, const char *zLimitKey,
                  const AtHttpConfig *pCfg, sqlite3 *db, AtContext *pCtx);
void atHttpFree(AtHttp *p);

/* Perform one request, retrying as the config allows: 429 after Retry-After
** or rate_limit_wait; 500, 502, 503, 504, resets, truncated bodies and
** timeouts after exponential backoff with jitter. On a 2xx answer returns
** SQLITE_OK and points *pzBody / *pnBody at the body, owned by p and valid
** until the next request on p. Otherwise returns SQLITE_ERROR (or
** SQLITE_INTERRUPT, SQLITE_NOMEM) with *pzErr set to
**   "airtable: HTTP <status> <type>: <message>"    (an Airtable error body)
**   "airtable: HTTP <status>"                       (no usable error body)
**   "airtable: <curl's error> (<method> <url>)"     (transport failure)
** followed by " (gave up after N retries in S s)" when retries were made.
** The token never appears in any message. */
int atHttpDo(AtHttp *p, const AtRequest *pReq, const char **pzBody,
             size_t *pnBody, char **pzErr);

/* The last request's HTTP status (0 if none) and Airtable error type ("" if
** none; valid until the next request). */
int atHttpLastStatus(AtHttp *p);
const char *atHttpLastErrorType(AtHttp *p);

/* Where p's token was read (atTokenWhere), named in the message of a 401
** or 403 (copied; NULL for none). */
void atHttpSetTokenWhere(AtHttp *p, const char *zWhere);

/* Record the number of records the last request returned, in its log entry. */
void atHttpNoteRecords(AtHttp *p, int nRecords);

/* Make requests on p also stop (as if interrupted) once xAbort(pArg)
** returns true. For connections used off the database connection's thread
** (export workers), which must be made with db NULL. */
void atHttpSetAbort(AtHttp *p, int (*xAbort)(void*), void *pArg);
void atHttpGetStats(AtHttp *p, AtHttpStats *pStats);

/* Parse an Airtable error body (either documented shape) into a message
** "<type>: <message>" or "<type>". Returns NULL if the body is not one.
** If pzType is not NULL, *pzType gets the type alone (sqlite3_malloc'd). */
char *atErrorBodyMessage(const char *zBody, size_t nBody, char **pzType);

#endif /* AT_HTTP_H */
