/*
** requestlog.c: airtable_requests, the log of this database connection's
** requests to the API (the most recent 1,000), so a user sees what a query
** cost and why it was slow:
**
**   SELECT method, url, status, ms, records, retries, wait_ms
**     FROM airtable_requests ORDER BY seq DESC LIMIT 5;
**
** URLs never hold the token (it travels only in the Authorization header).
*/
#include <string.h>
#include <time.h>
#include "airtable_int.h"
#include "context.h"

#define REQ_SEQ      0
#define REQ_TIME     1
#define REQ_METHOD   2
#define REQ_URL      3
#define REQ_STATUS   4
#define REQ_MS       5
#define REQ_BYTES    6
#define REQ_RECORDS  7
#define REQ_RETRIES  8
#define REQ_WAIT_MS  9
#define REQ_ERROR    10
#define REQ_FORMULA  11
#define REQ_FIELDS   12

typedef struct ReqVtab ReqVtab;
struct ReqVtab {
  sqlite3_vtab base;   /* base class: must be first */
  AtContext *pCtx;     /* the log (owned by the module) */
};

typedef struct ReqCursor ReqCursor;
struct ReqCursor {
  sqlite3_vtab_cursor base;  /* base class: must be first */
  sqlite3_int64 iSeq;        /* current entry */
  sqlite3_int64 iLast;       /* last entry of this scan (a snapshot) */
};

static int reqConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                      sqlite3_vtab **ppVtab, char **pzErr){
  ReqVtab *p;
  int rc;
  (void)argc; (void)argv; (void)pzErr;
  rc = sqlite3_declare_vtab(db, "CREATE TABLE x(seq INTEGER, time TEXT, "
      "method TEXT, url TEXT, status INTEGER, ms INTEGER, bytes INTEGER, "
      "records INTEGER, retries INTEGER, wait_ms INTEGER, error TEXT, "
      "formula TEXT, fields TEXT)");
  if( rc!=SQLITE_OK ) return rc;
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->pCtx = (AtContext*)pAux;
  *ppVtab = &p->base;
  return SQLITE_OK;
}

static int reqDisconnect(sqlite3_vtab *pVtab){
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

static int reqBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  (void)pVtab;
  pInfo->estimatedCost = 1000.0;
  pInfo->estimatedRows = AT_LOG_MAX;
  return SQLITE_OK;
}

static int reqOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  ReqCursor *pCur = sqlite3_malloc64(sizeof(*pCur));
  (void)pVtab;
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

static int reqClose(sqlite3_vtab_cursor *cur){
  sqlite3_free(cur);
  return SQLITE_OK;
}

/* Move to the first entry at or after iSeq that still exists. */
static void reqSettle(ReqCursor *pCur){
  AtContext *pCtx = ((ReqVtab*)pCur->base.pVtab)->pCtx;
  while( pCur->iSeq<=pCur->iLast && atLogGet(pCtx, pCur->iSeq)==0 ) pCur->iSeq++;
}

static int reqFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr,
                     int argc, sqlite3_value **argv){
  ReqCursor *pCur = (ReqCursor*)cur;
  AtContext *pCtx = ((ReqVtab*)cur->pVtab)->pCtx;
  (void)idxNum; (void)idxStr; (void)argc; (void)argv;
  pCur->iLast = atLogLastSeq(pCtx);
  pCur->iSeq = pCur->iLast>AT_LOG_MAX ? pCur->iLast-AT_LOG_MAX+1 : 1;
  reqSettle(pCur);
  return SQLITE_OK;
}

static int reqNext(sqlite3_vtab_cursor *cur){
  ReqCursor *pCur = (ReqCursor*)cur;
  pCur->iSeq++;
  reqSettle(pCur);
  return SQLITE_OK;
}

static int reqEof(sqlite3_vtab_cursor *cur){
  ReqCursor *pCur = (ReqCursor*)cur;
  return pCur->iSeq>pCur->iLast;
}

static int reqColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i){
  ReqCursor *pCur = (ReqCursor*)cur;
  const AtLogEntry *e = atLogGet(((ReqVtab*)cur->pVtab)->pCtx, pCur->iSeq);
  if( e==0 ) return SQLITE_OK;
  switch( i ){
    case REQ_SEQ:     sqlite3_result_int64(ctx, e->iSeq); break;
    case REQ_TIME: {
      /* ISO 8601 UTC with milliseconds, like Airtable's own timestamps. */
      sqlite3_int64 iMs = (sqlite3_int64)(e->rTime*1000.0);
      time_t t = (time_t)(iMs/1000);
      struct tm tm;
      char zBuf[32];
      gmtime_r(&t, &tm);
      strftime(zBuf, sizeof(zBuf), "%Y-%m-%dT%H:%M:%S", &tm);
      sqlite3_result_text(ctx, sqlite3_mprintf("%s.%03dZ", zBuf, (int)(iMs%1000)),
                          -1, sqlite3_free);
      break;
    }
    case REQ_METHOD:  sqlite3_result_text(ctx, e->zMethod, -1, SQLITE_STATIC); break;
    case REQ_URL:     sqlite3_result_text(ctx, e->zUrl, -1, SQLITE_TRANSIENT); break;
    case REQ_STATUS:
      if( e->iStatus ) sqlite3_result_int(ctx, e->iStatus);
      break;
    case REQ_MS:      sqlite3_result_int(ctx, e->nMs); break;
    case REQ_BYTES:   sqlite3_result_int64(ctx, e->nBytes); break;
    case REQ_RECORDS:
      if( e->nRecords>=0 ) sqlite3_result_int(ctx, e->nRecords);
      break;
    case REQ_RETRIES: sqlite3_result_int(ctx, e->nRetries); break;
    case REQ_WAIT_MS: sqlite3_result_int(ctx, e->nWaitMs); break;
    case REQ_ERROR:
      if( e->zError ) sqlite3_result_text(ctx, e->zError, -1, SQLITE_TRANSIENT);
      break;
    case REQ_FORMULA:
      if( e->zFormula ) sqlite3_result_text(ctx, e->zFormula, -1, SQLITE_TRANSIENT);
      break;
    case REQ_FIELDS:
      if( e->zFields ){
        sqlite3_result_text(ctx, e->zFields, -1, SQLITE_TRANSIENT);
      }
      break;
  }
  return SQLITE_OK;
}

static int reqRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid){
  *pRowid = ((ReqCursor*)cur)->iSeq;
  return SQLITE_OK;
}

/* Eponymous-only: xCreate is NULL. */
static sqlite3_module requestsModule = {
  0,                /* iVersion */
  0,                /* xCreate: eponymous only */
  reqConnect,       /* xConnect */
  reqBestIndex,     /* xBestIndex */
  reqDisconnect,    /* xDisconnect */
  0,                /* xDestroy */
  reqOpen,          /* xOpen */
  reqClose,         /* xClose */
  reqFilter,        /* xFilter */
  reqNext,          /* xNext */
  reqEof,           /* xEof */
  reqColumn,        /* xColumn */
  reqRowid,         /* xRowid */
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};

int atRegisterRequestLog(sqlite3 *db, AtContext *pCtx){
  atContextRef(pCtx);
  return sqlite3_create_module_v2(db, "airtable_requests", &requestsModule,
                                  pCtx, atContextUnref);
}
