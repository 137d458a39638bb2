/*
** airtable_int.h: the internal interface between the extension's modules.
**
** Each file in ext/ owns one concern; this header is the contract between
** them and what the C unit tests in tests/unit/ reach. Nothing here is
** exported from the shared library: only sqlite3_airtable_init() is.
**
** Memory: every string or object a function hands back is allocated with
** sqlite3_malloc64() (or sqlite3_mprintf()) and freed with sqlite3_free(),
** unless the comment says it is a cJSON tree (free with cJSON_Delete()).
** Error messages (*pzErr) follow the same rule and always start "airtable: ".
*/
#ifndef AIRTABLE_INT_H
#define AIRTABLE_INT_H

#include <locale.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#ifdef SQLITE_CORE
# include <sqlite3.h>
#else
# include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3
#endif

#include "airtable.h"
#define AT_VERSION AIRTABLE_SQLITE_VERSION
#define AT_DEFAULT_API_URL "https://api.airtable.com"
#define AT_DEFAULT_TOKEN_ENV "AIRTABLE_TOKEN"
#define AT_MAX_URL 15000                 /* longer list requests go by POST */
#define AT_MAX_RESPONSE (64*1024*1024)   /* bigger response bodies are refused */
#define AT_MAX_TOKEN_FILE 4096           /* bigger token files are refused */
/* Consecutive empty pages that carry an offset before a listing gives up.
** Airtable fills every page but the last; a server that kept sending empty
** pages would otherwise keep a scan asking forever. */
#define AT_MAX_EMPTY_PAGES 10

/* ---------------------------------------------------------------- util.c */

/* Replace *pzErr (freeing what it held) with a message formatted from zFmt.
** The message is prefixed with "airtable: ". On OOM *pzErr is set to NULL. */
void atSetError(char **pzErr, const char *zFmt, ...);

/* Put the context formatted from zFmt in front of the message in *pzErr:
** "airtable: <context>: <old message without its prefix>". */
void atPrefixError(char **pzErr, const char *zFmt, ...);

/* Return a sqlite3_malloc'd copy of z (NULL if z is NULL or on OOM). */
char *atStrdup(const char *z);

/* True if z is zPrefix followed by exactly 14 ASCII letters or digits: the
** shape of every Airtable id ("app", "tbl", "viw", "fld", "rec"). */
int atIsId(const char *z, const char *zPrefix);

/* The time now, Unix seconds, and a time as ISO 8601 UTC with milliseconds
** ("2026-12-01T09:30:00.000Z", the form Airtable uses). sqlite3_malloc'd. */
double atNow(void);
char *atIsoTime(double r);

/* The "C" locale, made once for the process and never installed as its
** locale (NULL if it could not be made), and strtod() read in it: numbers
** in JSON, option values and stored times use '.' whatever LC_NUMERIC the
** host program set. */
locale_t atCLocale(void);
double atStrtod(const char *z, char **pzEnd);

/* ------------------------------------------------------------- options.c */

/* How requests are made and retried (README: "Reliability options"). */
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


/* The arguments of CREATE VIRTUAL TABLE ... USING airtable(...). */
typedef struct AtOptions AtOptions;
struct AtOptions {
  char *zBase;        /* base=      app id (required) */
  char *zTable;       /* table=     table name or tbl id (required) */
  char *zView;        /* view=      view name or viw id, or NULL */
  char *zApiUrl;      /* api_url=   or $AIRTABLE_API_URL, or the default */
  char *zTokenEnv;    /* token_env= name of the variable holding the token */
  char *zTokenFile;   /* token_file= path of a file holding the token */
  char *zCaFile;      /* ca_file=   CA bundle for https, or NULL */
  char *azNumber[9];  /* rate_limit= ... timeout=, max_age=, sync_overlap= */
  char *zCache;       /* cache=     off, on or offline, as given */
  char *zPushdown;    /* pushdown=  on or off, as given */
  AtHttpConfig cfg;   /* the retry policy they make (cfg.zCaFile = zCaFile) */
  int eCache;         /* AT_CACHE_*, from cache= and $AIRTABLE_OFFLINE */
  int bNoNetwork;     /* $AIRTABLE_OFFLINE: not even airtable_sync() may ask */
  double rMaxAge;     /* max_age: seconds a cache stays fresh */
  double rSyncOverlap;/* sync_overlap: seconds an incremental sync looks back */
  int bNoPushdown;    /* pushdown='off': every query is a full scan */
};

/* The cache modes (cache= option; README: "The staging cache"). */
#define AT_CACHE_OFF      0   /* every query asks the API */
#define AT_CACHE_ON       1   /* answer from the cache, refreshed past max_age */
#define AT_CACHE_OFFLINE  2   /* queries read only the cache: no token, no
                              ** network; only airtable_sync() asks the API */
#define AT_DEFAULT_MAX_AGE       3600.0
#define AT_DEFAULT_SYNC_OVERLAP  300.0

/* Parse the module arguments azArg[0..nArg-1] (already past the module,
** database and table names). On error returns SQLITE_ERROR and sets *pzErr
** to a message naming the option. The caller frees *p with atOptionsClear()
** whatever the result. */
int atOptionsParse(int nArg, const char *const *azArg, AtOptions *p, char **pzErr);
void atOptionsClear(AtOptions *p);

/* The pieces atOptionsParse is made of, for callers with options of their
** own (the export). Split argument number iArg "key = value" into the key
** (*pzKey, *pnKey: pointing into zArg) and the dequoted value (*pzValue,
** sqlite3_malloc'd). Set one option of the table on p, taking *pzValue
** (then NULL): SQLITE_NOTFOUND if zKey is none of them (*pzValue left).
** Finish checks the rules across options and fills p->cfg and p->zApiUrl;
** table is required only if bNeedTable. Each sets *pzErr on error. */
int atOptionSplit(const char *zArg, int iArg, const char **pzKey, int *pnKey,
                  char **pzValue, char **pzErr);
int atOptionsSet(AtOptions *p, const char *zKey, int nKey, char **pzValue,
                 char **pzErr);
int atOptionsFinish(AtOptions *p, int bNeedTable, char **pzErr);

/* Read the token named by p (token_file, else the token_env variable, else
** $AIRTABLE_TOKEN). Returns SQLITE_OK and a sqlite3_malloc'd *pzToken, or
** SQLITE_ERROR with *pzErr. The error never contains the token. */
int atTokenLoad(const char *zTokenEnv, const char *zTokenFile, char **pzToken,
                char **pzErr);

/* Check an API base URL: http or https, no query or fragment; plain http only
** to a loopback host. Returns SQLITE_OK or SQLITE_ERROR with *pzErr naming
** zWhat (the option or variable the URL came from). */
int atApiUrlCheck(const char *zUrl, const char *zWhat, char **pzErr);

/* ------------------------------------------------------------- request.c */

/* One sort key of a list request. */
typedef struct AtSort AtSort;
struct AtSort {
  const char *zField;  /* field name or id */
  int bDesc;           /* 1 for descending */
};

/* What a list-records request asks for. Everything is optional: a zeroed
** struct asks for every field of every record, Airtable's default order. */
typedef struct AtListQuery AtListQuery;
struct AtListQuery {
  const char *zView;          /* view name or id, or NULL */
  int nField;                 /* number of entries in azField; 0 means all */
  const char *const *azField; /* field names or ids for fields[] */
  const char *zFormula;       /* filterByFormula, or NULL */
  int nSort;                  /* number of entries in aSort */
  const AtSort *aSort;        /* sort[i][field], sort[i][direction] */
  int nPageSize;              /* pageSize, 1..100; 0 leaves Airtable's default */
  sqlite3_int64 nMaxRecords;  /* maxRecords; 0 for no limit */
  int bFieldsById;            /* returnFieldsByFieldId=true */
  const char *zOffset;        /* offset of the page wanted; NULL for the first */
};

/* A built HTTP request. zBody is NULL for GET. Free with atRequestClear(). */
typedef struct AtRequest AtRequest;
struct AtRequest {
  const char *zMethod;  /* "GET" or "POST" (static strings) */
  char *zUrl;           /* full URL */
  char *zBody;          /* JSON body for POST, or NULL */
  const char *zFormula; /* for the log: its filterByFormula (not owned), or NULL */
  char *zFields;        /* for the log: its fields[] as a JSON array, or NULL */
};

/* Build the list-records request for table zTable (name or id) of base zBase
** at API root zApiUrl. Uses GET, or POST .../listRecords when the GET URL
** would be longer than nMaxUrl characters (pass AT_MAX_URL). Returns
** SQLITE_OK or SQLITE_NOMEM. */
int atListRequest(const char *zApiUrl, const char *zBase, const char *zTable,
                  const AtListQuery *q, int nMaxUrl, AtRequest *pReq);
void atRequestClear(AtRequest *pReq);

/* Return "zApiUrl/v0/seg1/seg2..." with each segment percent-encoded, for the
** nSeg segments in azSeg. sqlite3_malloc'd; NULL on OOM. */
char *atUrlPath(const char *zApiUrl, int nSeg, const char *const *azSeg);

/* ------------------------------------------------------------- context.c */

#define AT_LOG_MAX 1000   /* requests airtable_requests remembers per connection */

/* One request, as airtable_requests shows it. */
typedef struct AtLogEntry AtLogEntry;
struct AtLogEntry {
  sqlite3_int64 iSeq;     /* 1, 2, ... in this database connection */
  double rTime;           /* when it started, Unix time in seconds */
  const char *zMethod;    /* "GET" or "POST" (a static string) */
  char *zUrl;             /* the URL; the token is never in it */
  int iStatus;            /* the last HTTP status, 0 if none came */
  int nMs;                /* start to end, retries and waits included */
  sqlite3_int64 nBytes;   /* bytes of the last response body */
  int nRecords;           /* records on the page; -1 if not a listing */
  int nRetries;           /* retries made */
  int nWaitMs;            /* time spent waiting on the rate limit or a retry */
  char *zError;           /* the error, or NULL if the request succeeded */
  char *zFormula;         /* a listing's filterByFormula, or NULL */
  char *zFields;          /* a listing's fields[] as a JSON array, or NULL */
};

/* What the tables of one database connection share. Reference counted:
** atContextNew() returns it with one reference; atContextUnref (usable as
** a module destructor) frees it with the last. */
typedef struct AtContext AtContext;
AtContext *atContextNew(void);
void atContextRef(AtContext *p);
void atContextUnref(void *p);

/* Add a finished request to the log, with the next seq (the oldest beyond
** AT_LOG_MAX is dropped); takes ownership of pNew->zUrl and zError (freed
** at once if p is NULL). Returns the seq. Thread-safe. */
sqlite3_int64 atLogAdd(AtContext *p, AtLogEntry *pNew);
/* Set the records count of entry iSeq, if it is still there. Thread-safe. */
void atLogSetRecords(AtContext *p, sqlite3_int64 iSeq, int nRecords);
/* The entry with seq iSeq, or NULL if it is gone or never was. For the
** connection's own thread, while no export of that connection runs. */
AtLogEntry *atLogGet(AtContext *p, sqlite3_int64 iSeq);
sqlite3_int64 atLogLastSeq(AtContext *p);

/* The airtable tables connected in this connection, by schema and name
** (the connection's thread only). Find looks in zDb, or with zDb NULL in
** "main" first, then in any schema. */
int atContextAddTable(AtContext *p, const char *zDb, const char *zName, void *pTab);
void atContextRemoveTable(AtContext *p, void *pTab);
void *atContextFindTable(AtContext *p, const char *zDb, const char *zName);

/* ---------------------------------------------------------------- http.c */

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

/* ----------------------------------------------------------- ratelimit.c */

/* A request's claim on its base's window, from acquire to release. */
typedef struct AtRateTicket AtRateTicket;
struct AtRateTicket {
  int iWin;             /* window index */
  int iSlot;            /* slot in the window's ring */
  sqlite3_int64 iSeq;   /* ticket number: a recycled slot is not stamped */
};

/* Block until one more request under zKey keeps at most nPerSec requests in
** any one-second window, counting each earlier request from when it
** completed; process-wide and thread-safe. Fills *pTicket, which the caller
** must pass to atRateLimitRelease() when the request is over (whatever its
** outcome). Returns the number of milliseconds waited, or -1 without a
** ticket if xAbort (may be NULL; polled while waiting) returned true. */
int atRateLimitAcquire(const char *zKey, int nPerSec, AtRateTicket *pTicket,
                       int (*xAbort)(void*), void *pAbortArg);
void atRateLimitRelease(AtRateTicket *pTicket);

/* ---------------------------------------------------------------- json.c */

/* A strict JSON parser (RFC 8259) for the read path's pages. It builds the
** same cJSON tree cJSON_Parse would (same types, valuestring, valueint,
** valuedouble, object keys in ->string, ->prev of a first child pointing at
** the last, duplicate keys kept in order), so every reader of records stays
** a cJSON reader; but the nodes and the strings live in one arena, with the
** text copied once and strings decoded in place: parsing makes a few large
** allocations, and freeing is freeing the arena. cJSON allocates and frees
** every node and string (46% of a scan's instructions, issue 11).
**
** Such a tree is read-only: never cJSON_Delete it, nor detach, replace or
** add items (cJSON would free or keep arena memory). cJSON_Print and the
** other readers work on it. Stricter than cJSON: no trailing text after the
** value, no leading zeros, no lone "-" or "1.", no raw control characters
** in strings; nesting deeper than CJSON_NESTING_LIMIT (1000) is an error.
** Numbers convert exactly as strtod() does; a \u0000 escape ends the
** C string there, as with cJSON. */
typedef struct AtJsonChunk AtJsonChunk;
typedef struct AtJson AtJson;
struct AtJson {
  cJSON *pRoot;          /* the value; valid until atJsonFree() */
  AtJsonChunk *pChunk;   /* the arena's blocks, newest first */
  size_t iErr;           /* after SQLITE_ERROR: byte offset of the error */
};

/* Parse z[0..n-1] into *p. SQLITE_OK; SQLITE_ERROR with p->iErr set (the
** text is not valid JSON); or SQLITE_NOMEM. *p needs no atJsonFree() after
** an error, but atJsonFree() is harmless then. */
int atJsonParse(const char *z, size_t n, AtJson *p);
void atJsonFree(AtJson *p);

/* ---------------------------------------------------------------- page.c */

/* One parsed page of list-records. Records are walked in order. */
typedef struct AtPage AtPage;
struct AtPage {
  AtJson json;         /* the parsed response and its arena (json.c) */
  cJSON *pRoot;        /* the whole parsed response: json.pRoot, read-only */
  cJSON *pRecord;      /* the current record, NULL when the page is used up */
  char *zOffset;       /* offset of the next page (sqlite3_malloc'd), or NULL */
  int nRecord;         /* number of records on the page */
};

/* Parse a list-records (or metadata) response body. zArray names the array
** of rows ("records", "bases", "tables"). Checks the shape: an object, the
** array present, each element an object (with a string "id" for records),
** and "offset" absent or a string. On error returns SQLITE_ERROR with
** *pzErr saying what was wrong; *p is left cleared. */
int atPageParse(const char *zBody, size_t nBody, const char *zArray,
                AtPage *p, char **pzErr);

/* The shape every record must have, in a page or alone (GET of one
** record): a string "id", and "fields" absent or an object. SQLITE_ERROR
** with *pzErr saying what was wrong. */
int atPageCheckRecord(const cJSON *pRec, char **pzErr);
void atPageClear(AtPage *p);

/* --------------------------------------------------------------- value.c */

/* How a field's values become SQL values. */
#define AT_KIND_TEXT      1   /* TEXT as given */
#define AT_KIND_INTEGER   2   /* INTEGER (REAL if a value is not integral) */
#define AT_KIND_REAL      3   /* REAL */
#define AT_KIND_BOOLEAN   4   /* INTEGER 1, or 0 when absent */
#define AT_KIND_DATE      5   /* TEXT 'YYYY-MM-DD' */
#define AT_KIND_DATETIME  6   /* TEXT 'YYYY-MM-DDTHH:MM:SS.sssZ' (UTC) */
#define AT_KIND_JSON      7   /* TEXT holding compact JSON */

/* A converted cell: what one Airtable value becomes in SQL. */
typedef struct AtCell AtCell;
struct AtCell {
  int eType;            /* SQLITE_NULL, _INTEGER, _FLOAT or _TEXT */
  sqlite3_int64 i;      /* the value if SQLITE_INTEGER */
  double r;             /* the value if SQLITE_FLOAT */
  const char *z;        /* the text if SQLITE_TEXT (owned by the JSON tree or
                        ** zFree); z[n] is 0 and z holds no other 0 byte */
  int n;                /* bytes in z */
  char *zFree;          /* sqlite3_malloc'd text to free with atCellClear() */
};

/* The kind for a field of Airtable type zType with options pOptions (may be
** NULL). formula, rollup and lookups follow options.result. Unknown types
** are AT_KIND_JSON. */
int atFieldKind(const char *zType, const cJSON *pOptions);

/* The declared SQL column type of a kind ("TEXT", "INTEGER", "REAL") and its
** name ("text", "integer", "real", "boolean", "date", "datetime", "json"). */
const char *atKindDeclType(int eKind);
const char *atKindName(int eKind);

/* Convert value pVal (NULL when the field is absent from the record) of a
** field of kind eKind. Returns SQLITE_OK or SQLITE_NOMEM. Free with
** atCellClear(). Rules are in README.md ("Field types"). */
int atCellFromJson(int eKind, const cJSON *pVal, AtCell *pCell);
void atCellClear(AtCell *pCell);

/* Compact JSON text of v, byte for byte what cJSON_PrintUnformatted()
** gives, appended to p (atJsonPrint: SQLITE_OK, SQLITE_NOMEM, or
** SQLITE_ERROR for a node of no JSON type), or as a sqlite3_malloc'd
** string with its length in *pn (atJsonText: NULL on error or OOM). */
struct AtBuf;
int atJsonPrint(struct AtBuf *p, const cJSON *v);
char *atJsonText(const cJSON *v, int *pn);

/* Hand a cell to SQLite as a function result. Text the cell owns (JSON
** it printed) is handed over, not copied; text in the JSON tree is copied.
** Clear the cell afterwards as usual. */
void atCellResult(sqlite3_context *ctx, AtCell *pCell);

/* -------------------------------------------------------------- schema.c */

typedef struct AtField AtField;
struct AtField {
  char *zId;        /* fld id */
  char *zName;      /* field name as in the base */
  char *zType;      /* Airtable type name */
  char *zColumn;    /* SQL column name (see atColumnNames) */
  int eKind;        /* AT_KIND_* */
};

typedef struct AtSchema AtSchema;
struct AtSchema {
  char *zTableId;   /* tbl id */
  char *zTableName; /* table name */
  char *zViewId;    /* viw id of the chosen view, or NULL */
  int nField;       /* number of fields */
  AtField *aField;  /* the fields, in the base's order */
  int *aById;       /* field indexes sorted by zId, for atSchemaFieldById */
};

/* Columns ahead of the fields in every airtable table. */
#define AT_COL_ID            0   /* record id */
#define AT_COL_CREATED_TIME  1   /* record createdTime */
#define AT_COL_FIRST_FIELD   2   /* column of aField[0] */

/* Give each of the n names azName[] a unique SQL column name in azCol[]
** (sqlite3_malloc'd). Names are compared as SQLite compares identifiers
** (ASCII case-insensitively) against "id", "created_time" and every earlier
** column; a name already taken gets "_2", "_3", ... appended. Returns
** SQLITE_OK or SQLITE_NOMEM (azCol then holds NULLs for names not done). */
int atColumnNames(int n, const char *const *azName, char **azCol);

/* "'a', 'b', 'c'": the "name" members of the objects in array pArr ("none"
** if there are none), for messages that list the choices. NULL on OOM. */
char *atNameList(const cJSON *pArr);

/* Find table zTable (id, else exact name) in a metadata "tables" array.
** Returns NULL if absent. */
const cJSON *atMetaFindTable(const cJSON *pTables, const char *zTable);

/* Build *p from one table object of the metadata API, selecting view zView
** (id or name; NULL for none). On error returns SQLITE_ERROR with *pzErr
** (an unknown view names the views there are). Clear with atSchemaClear(). */
int atSchemaBuild(const cJSON *pTable, const char *zView, AtSchema *p,
                  char **pzErr);
void atSchemaClear(AtSchema *p);

/* The one field to ask for when a listing needs no field's values (a
** listing without fields[] sends them all): the smallest values a table
** is likely to have (a checkbox, absent when unchecked; a number), else
** the primary field of pTable (its metadata; may be NULL), else the first.
** NULL if the table has no fields. */
const char *atSchemaSmallField(const AtSchema *p, const cJSON *pTable);

/* The index in p->aField of the field with id zId, or -1. */
int atSchemaFieldById(const AtSchema *p, const char *zId);

/* The CREATE TABLE statement to declare for p. sqlite3_malloc'd. */
char *atSchemaDeclare(const AtSchema *p);

/* Fetch the metadata "tables" array of base zBase. Returns SQLITE_OK and a
** cJSON tree (the whole response; free with cJSON_Delete) in *ppRoot, or an
** error with *pzErr. */
int atMetaFetchTables(AtHttp *pHttp, const char *zApiUrl, const char *zBase,
                      cJSON **ppRoot, char **pzErr);

/* --------------------------------------------------------------- names.c */

/* The Delta-safe column name of a field named zName, the one the connector
** this project replaces gave it: space to '_'; '(' ')' ',' ';' '{' '}' '='
** newline and tab dropped; '$' to "dollar", '#' to "num"; any other
** character that is not a letter, digit or '_' to '_'; a leading digit
** prefixed with "col_"; lower case; "col" if nothing is left. Not yet
** unique (atUniqueNames). sqlite3_malloc'd; NULL on OOM. */
char *atDeltaColumnName(const char *zName);

/* The file name (without extension) and Delta table name of a table named
** zName: lower case; space and '-' to '_'; "()[]{}" dropped; any other
** character outside [a-z0-9_] to '_'; runs of '_' collapsed, leading and
** trailing '_' dropped; a leading digit prefixed with "table_"; "table" if
** nothing is left. Not yet unique. sqlite3_malloc'd; NULL on OOM. */
char *atTableFileName(const char *zName);

/* Make the n names azName[] unique in azOut[] (sqlite3_malloc'd): compared
** ASCII case-insensitively with the nReserved names azReserved[] and every
** earlier name, a name already taken gets "_2", "_3", ... appended. Returns
** SQLITE_OK or SQLITE_NOMEM (azOut then holds NULLs for names not done). */
int atUniqueNames(int n, const char *const *azName, int nReserved,
                  const char *const *azReserved, char **azOut);

/* --------------------------------------------------------------- spark.c */

/* The Spark type of a field of Airtable type zType with options pOptions,
** as a cJSON tree in Spark's JSON form ("long", {"type":"array",...}); free
** with cJSON_Delete. bNested 0 gives the flat form a CSV file holds: arrays
** and structs become "string" (compact JSON text). NULL on OOM. README.md
** ("Export for Spark") has the table. */
cJSON *atSparkFieldType(const char *zType, const cJSON *pOptions, int bNested);

#define AT_SPARK_ID            (-1)   /* AtSparkCol.iField of the id column */
#define AT_SPARK_CREATED_TIME  (-2)   /* ... of the createdTime column */

/* One column of an exported table. */
typedef struct AtSparkCol AtSparkCol;
struct AtSparkCol {
  char *zName;        /* column name in the files (unique in the table) */
  int iField;         /* index into AtSchema.aField, or AT_SPARK_ID/_CREATED_TIME */
  cJSON *pType;       /* Spark type (Spark's JSON form) */
  int bJsonText;      /* a field of no known shape: always its JSON text */
  int bAbsentFalse;   /* a checkbox kind: an absent value is false */
};

/* A table's columns: id, createdTime, then one per field in base order. */
typedef struct AtSparkSchema AtSparkSchema;
struct AtSparkSchema {
  int nCol;
  AtSparkCol *aCol;
};

/* Build *p for the table whose metadata object is pTable and schema
** pSchema (built from pTable). Names are Delta-safe (atDeltaColumnName)
** unless bExactNames, and unique against "id" and "createdTime". Returns
** SQLITE_OK or SQLITE_NOMEM; clear with atSparkSchemaClear() either way. */
int atSparkSchemaBuild(const cJSON *pTable, const AtSchema *pSchema,
                       int bNested, int bExactNames, AtSparkSchema *p);
void atSparkSchemaClear(AtSparkSchema *p);

/* The schema as StructType JSON (StructType.fromJson), each field's
** metadata keeping the Airtable field name, id and type; and as a DDL
** string ("`id` STRING NOT NULL, `qty` BIGINT, ..."); and one type's DDL.
** sqlite3_malloc'd; NULL on OOM. */
char *atSparkSchemaJson(const AtSparkSchema *p, const AtSchema *pSchema);
char *atSparkSchemaDdl(const AtSparkSchema *p);
char *atSparkTypeDdl(const cJSON *pType);

/* -------------------------------------------------------------- writer.c */

/* A growable byte buffer (always NUL-terminated once anything is in it). */
typedef struct AtBuf AtBuf;
struct AtBuf {
  char *z;             /* the bytes (sqlite3_malloc'd) */
  size_t n;            /* bytes used */
  size_t nAlloc;       /* bytes allocated */
  int bOom;            /* an allocation failed: appends are dropped */
  int bCsvField;       /* atJsonPrint doubles every '"' it writes: JSON
                       ** text inside an RFC 4180 quoted field */
};
void atBufAppend(AtBuf *p, const char *z, size_t n);
/* Room for n more bytes (and a NUL) in p: 1, or 0 on OOM (p->bOom set). */
int atBufReserve(AtBuf *p, size_t n);
void atBufClear(AtBuf *p);

/* A file written under a temporary name in its directory and renamed when
** complete: ".NAME.tmp-PID-N" while it is written, NAME once committed. */
typedef struct AtOutFile AtOutFile;
struct AtOutFile {
  char *zTemp;         /* temporary path, or NULL once renamed */
  char *zFinal;        /* final path */
  int fd;              /* the file, or -1 */
  void *pGz;           /* zlib gzFile writing to a dup of fd, or NULL */
};

/* Create the temporary file for zDir/zName (gzip-compressed if bGzip).
** On error returns SQLITE_ERROR with *pzErr naming the path. */
int atOutOpen(AtOutFile *p, const char *zDir, const char *zName, int bGzip,
              char **pzErr);
int atOutWrite(AtOutFile *p, const char *z, size_t n, char **pzErr);
/* Finish, sync, close and rename to the final name. On error the temporary
** file is removed. *p is cleared either way. */
int atOutCommit(AtOutFile *p, char **pzErr);
/* Close and remove the temporary file (idempotent; safe on a cleared *p). */
void atOutAbort(AtOutFile *p);
/* Write zText to zDir/zName through a temporary file. */
int atWriteFileAtomic(const char *zDir, const char *zName, const char *zText,
                      char **pzErr);

/* The shortest text that reads back as r exactly, as "%.15g" (or "%.17g"
** when that does not read back) prints it in the C locale. nBuf >= 32. */
void atFormatDouble(double r, char *aBuf, size_t nBuf);

/* Append one row for pRecord (field values apCell[], as AtListing indexes
** them) conformed to pSpark: a CSV line or a JSON Lines object. A value
** that cannot be typed is written as null and counted in anUntyped[column].
** Returns SQLITE_OK or SQLITE_NOMEM. */
void atCsvHeader(AtBuf *p, const AtSparkSchema *pSpark);
int atCsvRow(AtBuf *p, const AtSparkSchema *pSpark, const cJSON *pRecord,
             const cJSON **apCell, sqlite3_int64 *anUntyped);
int atJsonRow(AtBuf *p, const AtSparkSchema *pSpark, const cJSON *pRecord,
              const cJSON **apCell, sqlite3_int64 *anUntyped);

/* ----------------------------------------------------------- partition.c */

/* The filterByFormula that selects part iPart (0-based) of nPart of a
** table's records, by the first character after "rec" of the record id;
** every record is in exactly one part (the proof is in partition.c).
** sqlite3_malloc'd; NULL when nPart is 1 (no formula) or on OOM. */
char *atPartitionFormula(int iPart, int nPart);
/* The part (0..nPart-1) record id zId belongs to, by the same rule. */
int atPartitionOf(const char *zId, int nPart);

/* ------------------------------------------------------------- formula.c */

/* How a column's constraints can be written as a formula (atPushKind). */
#define AT_PUSH_NONE      0   /* not pushed (computed, JSON, rich text) */
#define AT_PUSH_TEXT      1   /* text typed by a person */
#define AT_PUSH_SELECT    2   /* single select (compared as text) */
#define AT_PUSH_NUMBER    3   /* number-like, never an error value */
#define AT_PUSH_CHECKBOX  4   /* checkbox: 0 or 1 */
#define AT_PUSH_DATE      5   /* date, dateTime, created/last-modified time */
#define AT_PUSH_ID        6   /* the id column: RECORD_ID() */
#define AT_PUSH_CREATED   7   /* the created_time column: CREATED_TIME() */

/* The pushdown kind of field f: AT_PUSH_NONE..AT_PUSH_DATE. */
int atPushKind(const AtField *f);

/* A column as the formula writer sees it. */
typedef struct AtPushCol AtPushCol;
struct AtPushCol {
  int ePush;                /* AT_PUSH_* */
  const char *zFieldId;     /* fld id (fields only; not owned) */
  int bSortExact;           /* Airtable sorts it exactly as SQLite would */
};

/* A value from SQL. z is not necessarily NUL-terminated; n is its bytes. */
typedef struct AtSqlValue AtSqlValue;
struct AtSqlValue {
  int eType;                /* SQLITE_INTEGER, _FLOAT, _TEXT, _BLOB, _NULL */
  sqlite3_int64 i;
  double r;
  const char *z;
  int n;
};

/* The collating sequence of a text constraint. */
#define AT_COLL_BINARY  0
#define AT_COLL_NOCASE  1
#define AT_COLL_OTHER   2   /* RTRIM or an application's: text not pushed */

/* What atFormulaTerm wrote. */
#define AT_TERM_SKIP      0   /* nothing usable: leave it to SQLite (p may
                              ** hold a partial text: write into a scratch
                              ** string and append only what succeeded) */
#define AT_TERM_SUPERSET  1   /* keeps every record the constraint keeps */
#define AT_TERM_EXACT     2   /* keeps exactly those (may write nothing:
                              ** then every record passes) */
#define AT_TERM_CLOSE     3   /* a superset that can differ only by what a
                              ** looser reading of text equality adds (case,
                              ** spaces): SQLite checks it again, but a LIMIT
                              ** may size the first page by it */

/* Append the formula for "column OP value" to p: eOp is an
** SQLITE_INDEX_CONSTRAINT_* (EQ with nVal>1 is an IN list; ISNULL and
** ISNOTNULL take no value). Returns AT_TERM_*. */
int atFormulaTerm(sqlite3_str *p, const AtPushCol *c, int eOp, int eColl,
                  const AtSqlValue *aVal, int nVal);

/* The pieces: a string literal (0, nothing written, if the text holds a
** control character, a line/paragraph separator or invalid UTF-8), a
** number in plain decimals (0 if JavaScript would not read it back exactly
** or it needs exponent notation), a field
** reference (0 if zFieldId is not a fld id). 1 when written. */
int atFormulaString(sqlite3_str *p, const char *z, int n);
int atFormulaNumber(sqlite3_str *p, const AtSqlValue *v);
int atFormulaField(sqlite3_str *p, const char *zFieldId);

/* ------------------------------------------------------------ pushdown.c */

/* idxNum of the airtable table's plans. */
#define AT_IDX_SCAN      0   /* every record (pushdown='off') */
#define AT_IDX_CACHE     1   /* from the staging cache */
#define AT_IDX_PUSHDOWN  2   /* idxStr holds the plan (pushdown.c) */

/* The columns of a table as the formula writer sees them: an array of
** nField+AT_COL_FIRST_FIELD, by column. sqlite3_malloc'd (free it); points
** into pSchema, which must outlive it. */
int atPushColsBuild(const AtSchema *pSchema, AtPushCol **paCol);

/* xBestIndex for a table read from the API: fills pInfo (idxNum
** AT_IDX_PUSHDOWN, idxStr the plan, argvIndex, omit, orderByConsumed,
** costs). SQLITE_OK or SQLITE_NOMEM. */
int atPushBestIndex(sqlite3_index_info *pInfo, const AtSchema *pSchema,
                    const AtPushCol *aCol);

#define AT_PLAN_MAX 64
typedef struct AtPlanTerm AtPlanTerm;
struct AtPlanTerm {
  int iCol, eOp, eColl;   /* column, SQLITE_INDEX_CONSTRAINT_*, AT_COLL_* */
  int bIn;                /* an IN list, all values in one argv */
  int bExact;             /* SQLite does not check it again */
  int iArg;               /* its value in xFilter's argv, or -1 */
};
typedef struct AtPlan AtPlan;
struct AtPlan {
  int bGet;                     /* GET the record aTerm[0]'s value names */
  int nTerm;
  AtPlanTerm aTerm[AT_PLAN_MAX];
  int nSort;
  int aSortCol[AT_PLAN_MAX];
  int abSortDesc[AT_PLAN_MAX];
  int iLimitArg, iOffsetArg;    /* argv of LIMIT and OFFSET, or -1 */
  int bFields;                  /* abUsed says which columns are used */
  unsigned char *abUsed;        /* per column (sqlite3_malloc'd) */
};
/* Read back the plan atPushBestIndex wrote for a table of nCol columns.
** SQLITE_ERROR if it is not one. Clear with atPlanClear() either way. */
int atPlanParse(const char *zIdxStr, int nCol, AtPlan *p);
void atPlanClear(AtPlan *p);

/* The request(s) a plan makes with xFilter's values. */
typedef struct AtPushQuery AtPushQuery;
struct AtPushQuery {
  int bEmpty;                /* nothing can match: make no request */
  char *zGetId;              /* GET this record, or NULL */
  char *zFormula;            /* filterByFormula of the first listing, or NULL */
  const char **azField;      /* fields[] (ids, not owned), or NULL for all */
  int nField;
  AtSort *aSort;             /* sort[] */
  int nSort;
  int nPageSize;             /* pageSize, or 0 */
  char **azId;               /* id IN: the ids, sorted, distinct */
  int nId;
  int nBatch;                /* listings the ids take (100 ids each) */
  char *zRest;               /* with ids: the other terms' formula, or NULL */
};
int atPushQueryBuild(const AtPlan *pPlan, const AtSchema *pSchema,
                     const AtPushCol *aCol, int argc, sqlite3_value **argv,
                     AtPushQuery *q, char **pzErr);
/* The formula of batch iBatch (0-based) of an id IN list. NULL on OOM. */
char *atPushBatchFormula(const AtPushQuery *q, int iBatch);
void atPushQueryClear(AtPushQuery *q);

/* ------------------------------------------------------------- listing.c */

/* One table's records, page by page: one page in memory at a time. */
typedef struct AtListing AtListing;
struct AtListing {
  AtHttp *pHttp;             /* the connection (not owned) */
  const char *zApiUrl;       /* API root (not owned) */
  const char *zBase;         /* base id (not owned) */
  const AtSchema *pSchema;   /* table id, view id, fields (not owned) */
  const char *zFormula;      /* filterByFormula, or NULL (not owned) */
  AtPage page;               /* the page being read */
  const cJSON **apCell;      /* per field: its value in the current record */
  sqlite3_int64 nRow;        /* rows reached so far: 1 at the first */
  int nRestart;              /* restarts after an expired offset */
  int bEof;                  /* no more rows */
  int nOnly;                 /* fields[] asked for (0: every field) */
  const char *const *azOnly; /* their ids (not owned) */
  const AtSort *aSort;       /* sort[] (not owned) */
  int nSort;
  int nPageSize;             /* pageSize, or 0 */
};

/* Set up *p to list pSchema's table (and view). Returns SQLITE_OK or
** SQLITE_NOMEM; free with atListingClear() either way. */
int atListingInit(AtListing *p, AtHttp *pHttp, const char *zApiUrl,
                  const char *zBase, const AtSchema *pSchema);
/* Start (or start over) at the first row; then step with atListingNext().
** After either, p->bEof, or p->page.pRecord is the row and p->apCell[i]
** the value of field i (NULL when absent). On error returns SQLITE_ERROR,
** SQLITE_INTERRUPT or SQLITE_NOMEM with *pzErr naming the table. */
int atListingFirst(AtListing *p, char **pzErr);
int atListingNext(AtListing *p, char **pzErr);
/* Instead of a listing: the one record zId (GET .../RECORD_ID), read like
** a page of one record. A record that does not exist (HTTP 404) is no
** row, not an error. */
int atListingGet(AtListing *p, const char *zId, char **pzErr);
/* Forget the page (a new listing starts with atListingFirst). */
void atListingReset(AtListing *p);
void atListingClear(AtListing *p);

/* --------------------------------------------------------------- cache.c */

/* The shadow tables of airtable table zName in schema zDb (cache.c has
** their layout): NAME_rows, NAME_sync and NAME_deleted. */
typedef struct AtCache AtCache;
struct AtCache {
  sqlite3 *db;          /* the connection (not owned) */
  char *zDb;            /* schema: "main", "temp" or an attached name */
  char *zName;          /* the airtable table's name */
};

/* True if zSuffix ends the name of one of the shadow tables (xShadowName). */
int atCacheShadowName(const char *zSuffix);
int atCacheInit(AtCache *p, sqlite3 *db, const char *zDb, const char *zName);
void atCacheClear(AtCache *p);
/* Create (if missing), drop, or rename the shadow tables. */
int atCacheCreateTables(AtCache *p, char **pzErr);
int atCacheDropTables(AtCache *p, char **pzErr);
int atCacheRenameTables(AtCache *p, const char *zNew, char **pzErr);
/* Run SQL formatted from zFmt (sqlite3_mprintf), or prepare one statement.
** On error *pzErr says "cache of 'NAME': <SQLite's message>". */
int atCacheExec(AtCache *p, char **pzErr, const char *zFmt, ...);
int atCachePrepare(AtCache *p, sqlite3_stmt **ppStmt, char **pzErr,
                   const char *zFmt, ...);
/* Set *pzErr from the connection's last error (or "out of memory"); rc. */
int atCacheError(AtCache *p, int rc, char **pzErr);
/* Read NAME_sync's value of zKey as text (*pzValue NULL if absent), or set
** it to the text zText, or to the number r. */
int atCacheGet(AtCache *p, const char *zKey, char **pzValue, char **pzErr);
int atCacheSet(AtCache *p, const char *zKey, const char *zText, char **pzErr);
int atCacheSetNumber(AtCache *p, const char *zKey, double r, char **pzErr);
/* The table's metadata kept by the last sync (a cJSON object to
** cJSON_Delete), or *ppTable NULL if the table was never synced. */
int atCacheTableMeta(AtCache *p, cJSON **ppTable, char **pzErr);

/* Append a cell to the packed values of a row (cache.c has the format). */
void atCachePack(AtBuf *p, const AtCell *pCell);
/* Find where each of the first nVal packed values of a[0..n-1] starts:
** aOff[i]. SQLITE_CORRUPT if the blob is shorter or malformed. */
int atCacheUnpackOffsets(const unsigned char *a, int n, int nVal, int *aOff);
/* Return the packed value at a+iOff as the function's result. */
void atCacheUnpackResult(sqlite3_context *ctx, const unsigned char *a, int iOff);

/* The synced caches of base zBase in database file zPath, opened read-only
** (airtable_export from_cache=): their metadata as {"tables": [...]} in the
** order the tables were declared, and per table its name in the file, the
** view it caches (id, or NULL) and the number of syncs it has had. */
typedef struct AtCacheSource AtCacheSource;
struct AtCacheSource {
  sqlite3 *db;              /* the file, read-only */
  cJSON *pMeta;             /* {"tables": [...]} */
  int nTable;
  char **azName;            /* the airtable table's name in the file */
  char **azView;            /* the view id it caches, or NULL */
  sqlite3_int64 *aSync;     /* syncs so far */
};
int atCacheSourceOpen(AtCacheSource *p, const char *zPath, const char *zBase,
                      char **pzErr);
void atCacheSourceClose(AtCacheSource *p);

/* The cached records of table zName, as list-records would give them (so
** the export's writers take them unchanged): pRec and apCell[] as in
** AtListing. Only records changed by syncs after iSince (0: all). */
typedef struct AtCacheScan AtCacheScan;
struct AtCacheScan {
  sqlite3_stmt *pStmt;
  const char *zName;        /* the table's name in the file (not owned) */
  const AtSchema *pSchema;  /* fields (not owned) */
  cJSON *pRec;              /* the current record */
  const cJSON **apCell;     /* per field: its value in it, or NULL */
  sqlite3_int64 nRow;       /* rows reached so far */
  int bEof;
};
int atCacheScanFirst(AtCacheScan *p, sqlite3 *db, const char *zName,
                     const AtSchema *pSchema, sqlite3_int64 iSince,
                     char **pzErr);
int atCacheScanNext(AtCacheScan *p, char **pzErr);
void atCacheScanClear(AtCacheScan *p);

/* ---------------------------------------------------------------- sync.c */

/* What a sync is asked to do. */
typedef struct AtSyncArgs AtSyncArgs;
struct AtSyncArgs {
  AtCache *pCache;          /* the shadow tables */
  AtHttp *pHttp;            /* the connection to the API (with the token) */
  const char *zApiUrl;      /* API root */
  const char *zBase;        /* base id */
  const char *zTable;       /* table= as declared: name or id */
  const char *zView;        /* view= as declared, or NULL */
  double rOverlap;          /* sync_overlap: seconds to look back */
  int bFull;                /* 1: a full refresh even if incremental would do */
};

/* What a sync did (README: "airtable_sync"). */
typedef struct AtSyncResult AtSyncResult;
struct AtSyncResult {
  const char *zMode;        /* "full" or "incremental" (static) */
  const char *zWhy;         /* why full: "first sync", "asked", ... (static) */
  sqlite3_int64 nAdded, nChanged, nDeleted, nRows;
  int nRequests;            /* requests made, the metadata request included */
  sqlite3_int64 iSync;      /* the sync's number: 1, 2, ... */
};

/* Bring the cache up to date with the base: a full refresh the first time,
** when asked (bFull), or when the table's fields or view changed; else an
** incremental one (sync.c has the algorithm and README its cost). Runs in
** one savepoint: on any error (HTTP, interrupt, SQL) the cache is left as it
** was and *pzErr says why. Call on the connection's thread. */
int atCacheSync(const AtSyncArgs *pArgs, AtSyncResult *pRes, char **pzErr);

/* The result as JSON text: {"table":..,"mode":..,"added":..,...}. */
char *atSyncResultJson(const char *zName, const AtSyncResult *pRes);

/* ---------------------------------------------------- vtab.c and meta.c */

/* Register the modules on db; each takes a reference to pCtx. */
int atRegisterTable(sqlite3 *db, AtContext *pCtx);    /* "airtable" */
int atRegisterMeta(sqlite3 *db, AtContext *pCtx);     /* airtable_bases/_tables/_fields */
int atRegisterRequests(sqlite3 *db, AtContext *pCtx); /* airtable_requests */
int atRegisterExport(sqlite3 *db, AtContext *pCtx);   /* airtable_export() */
int atRegisterCacheInfo(sqlite3 *db, AtContext *pCtx); /* airtable_cache_info */

#endif /* AIRTABLE_INT_H */
