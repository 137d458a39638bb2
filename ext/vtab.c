/*
** vtab.c: the "airtable" virtual table: one Airtable table as SQL rows.
**
**   CREATE VIRTUAL TABLE tasks USING airtable(
**     base='appPackagingOps01', table='Packaging Tasks' [, view='Open tasks']
**     [, api_url='https://api.airtable.com'] [, token_env='AIRTABLE_TOKEN']
**     [, token_file='~/.airtable-token']);
**   SELECT id, "Task", "Status" FROM tasks LIMIT 5;
**
** xConnect reads the base's metadata once to declare the columns: id,
** created_time, then one per field in the base's order. A scan pages
** through list-records lazily: xFilter fetches the first page, xNext the
** next one only when the current one is used up, so memory holds one page
** and "LIMIT 5" costs one request.
**
** This file holds the module's methods and the scan of the API. A table
** with a cache (cache='on' or 'offline') is answered from its shadow
** tables by cachequery.c, to which each method hands over; the functions
** that name a table (airtable_sync(), airtable_spark_schema()) are in
** functions.c. vtab.h has the table's struct they share.
*/
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "vtab.h"
#include "json.h"
#include "listing.h"
#include "plan.h"
#include "pushdown.h"
#include "util.h"
#include "value.h"

/* A cursor over the API: a listing (or id batches, or one GET). A table
** with a cache has cursors of its own (cachequery.c). */
typedef struct AtCursor AtCursor;
struct AtCursor {
  sqlite3_vtab_cursor base;  /* base class: must be first */
  AtListing list;            /* the scan: one page at a time */
  AtPushQuery q;             /* what the listing asks (pushdown plans) */
  int iBatch;                /* the id IN batch being listed */
  sqlite3_int64 nRowBase;    /* rows of earlier batches (for the rowid) */
};

static int airtableDisconnect(sqlite3_vtab *pVtab){
  AtVtab *p = (AtVtab*)pVtab;
  atContextRemoveTable(p->pCtx, p);
  atContextUnref(p->pCtx);
  atCacheClear(&p->cache);
  atOptionsClear(&p->opt);
  atCacheStateClear(&p->cs);
  sqlite3_free(p->aPush);
  cJSON_Delete(p->pTableMeta);
  atHttpFree(p->pHttp);
  atSchemaClear(&p->schema);
  sqlite3_free(p->zApiUrl);
  sqlite3_free(p->zBase);
  sqlite3_free(p->zName);
  sqlite3_free(p->base.zErrMsg);
  sqlite3_free(p);
  return SQLITE_OK;
}

/* True if URLs a and b are the same but for trailing slashes. */
static int sameUrl(const char *a, const char *b){
  size_t na = strlen(a), nb = strlen(b);
  while( na>0 && a[na-1]=='/' ) na--;
  while( nb>0 && b[nb-1]=='/' ) nb--;
  return na==nb && memcmp(a, b, na)==0;
}

/*
** A table's declaration is stored in the database file, and a file may come
** from someone else: its api_url, token_env and token_file must not decide
** where the user's token is read from or sent (issue 20; SQLite's guidance
** for extensions: a schema from an untrusted file must be harmless). Before
** a token is read, each that the declaration names beyond the defaults must
** be confirmed by the person running this process: the environment
** (AIRTABLE_API_URL, AIRTABLE_TOKEN_ENV, AIRTABLE_TOKEN_FILE), or this
** connection (a CREATE VIRTUAL TABLE it ran, or airtable_allow()). A table
** that needs no token (a cache read offline) is never asked.
*/
static int trustCheck(AtVtab *p, char **pzErr){
  static const struct {
    const char *zOption, *zEnv;
  } aCheck[] = {
    { "api_url",    "AIRTABLE_API_URL" },
    { "token_env",  "AIRTABLE_TOKEN_ENV" },
    { "token_file", "AIRTABLE_TOKEN_FILE" },
    { "ca_file",    "AIRTABLE_CA_FILE" },     /* whom https trusts with it */
  };
  int i;
  if( p->bCreatedHere ) return SQLITE_OK;   /* the user's own CREATE */
  for(i=0; i<4; i++){
    const char *zVal = i==0 ? p->zApiUrl : i==1 ? p->opt.zTokenEnv
                     : i==2 ? p->opt.zTokenFile : p->opt.zCaFile;
    const char *zEnv = getenv(aCheck[i].zEnv);
    if( zVal==0 ) continue;
    if( i==0 && sameUrl(zVal, AT_DEFAULT_API_URL) ) continue;
    if( i==1 && strcmp(zVal, AT_DEFAULT_TOKEN_ENV)==0 ) continue;
    if( zEnv && (i==0 ? sameUrl(zVal, zEnv) : strcmp(zVal, zEnv)==0) ) continue;
    if( atContextAllowed(p->pCtx, aCheck[i].zOption, zVal) ) continue;
    atSetError(pzErr, "table '%s': its declaration says %s='%s', which nobody "
        "running this process confirmed: a database file does not decide %s "
        "(one from someone else could %s). If it is yours, set %s=%s, or run "
        "SELECT airtable_allow('%s', '%s') in this connection",
        p->zName, aCheck[i].zOption, zVal,
        i==0 ? "where your token is sent" : i==3 ? "whom your token is trusted to"
             : "where your token is read from",
        i==0 ? "send it to their server" : i==3 ? "trust its own certificate "
             "authority, and so a server that poses as Airtable"
             : "send another secret of yours",
        aCheck[i].zEnv, zVal, aCheck[i].zOption, zVal);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

int atVtabHttp(AtVtab *p, char **pzErr){
  char *zToken = 0, *zKey = 0;
  int rc;
  if( p->pHttp ) return SQLITE_OK;
  rc = trustCheck(p, pzErr);
  if( rc!=SQLITE_OK ) return rc;
  rc = atTokenLoad(p->opt.zTokenEnv, p->opt.zTokenFile, &zToken, pzErr);
  if( rc!=SQLITE_OK ) return rc;
  zKey = sqlite3_mprintf("%s %s", p->zApiUrl, p->zBase);
  if( zKey ) p->pHttp = atHttpNew(zToken, zKey, &p->opt.cfg, p->db, p->pCtx);
  if( p->pHttp ){
    char *zWhere = atTokenWhere(p->opt.zTokenEnv, p->opt.zTokenFile);
    atHttpSetTokenWhere(p->pHttp, zWhere);
    sqlite3_free(zWhere);
  }
  memset(zToken, 0, strlen(zToken));
  sqlite3_free(zToken);
  sqlite3_free(zKey);
  return p->pHttp ? SQLITE_OK : SQLITE_NOMEM;
}

/* The table's metadata: from the cache if it was synced, else (cache off,
** or on but never synced) from the API. */
static int readTableMeta(AtVtab *p, const char *zTable, cJSON **ppTable,
                         char **pzErr){
  cJSON *pMeta = 0;
  const cJSON *pTable;
  int rc;
  *ppTable = 0;
  if( p->opt.eCache!=AT_CACHE_OFF ){
    rc = atCacheTableMeta(&p->cache, ppTable, pzErr);
    if( rc!=SQLITE_OK || *ppTable ) return rc;
    if( p->opt.bNoNetwork ){
      atSetError(pzErr, "table '%s' has no cache to answer from: it was never "
          "synced, and AIRTABLE_OFFLINE forbids the network; sync it first "
          "(SELECT airtable_sync('%s')) where the API can be reached",
          p->cache.zName, p->cache.zName);
      return SQLITE_ERROR;
    }
    /* Never synced: its columns come from the API this once. */
  }
  rc = atVtabHttp(p, pzErr);
  if( rc==SQLITE_ERROR && p->opt.eCache!=AT_CACHE_OFF ){
    /* What the user needs first is that the table has no cache yet; the
    ** token is why its columns cannot be had (docs/staging-cache.md). */
    char *zWhy = *pzErr ? sqlite3_mprintf("%s", *pzErr + 10) : 0;  /* "airtable: " */
    if( p->opt.eCache==AT_CACHE_OFFLINE ){
      atSetError(pzErr, "table '%s' was never synced: cache='offline' answers "
          "only from the cache; fill it with SELECT airtable_sync('%s'), which "
          "needs the API the first time, for the table's columns (%s)",
          p->cache.zName, p->cache.zName, zWhy ? zWhy : "out of memory");
    }else{
      atSetError(pzErr, "table '%s' was never synced, and its columns come "
          "from the API the first time (%s)", p->cache.zName,
          zWhy ? zWhy : "out of memory");
    }
    sqlite3_free(zWhy);
    return rc;
  }
  if( rc==SQLITE_OK ) rc = atMetaFetchTables(p->pHttp, p->zApiUrl, p->zBase, &pMeta, pzErr);
  if( rc!=SQLITE_OK ) return rc;
  pTable = atMetaFindTable(cJSON_GetObjectItemCaseSensitive(pMeta, "tables"),
                           zTable);
  if( pTable==0 ){
    char *zList = atNameList(cJSON_GetObjectItemCaseSensitive(pMeta, "tables"));
    atSetError(pzErr, "option table: base %s has no table '%s' (tables: %s)",
               p->zBase, zTable, zList ? zList : "?");
    sqlite3_free(zList);
    cJSON_Delete(pMeta);
    return SQLITE_ERROR;
  }
  *ppTable = atJsonDuplicate(pTable);
  cJSON_Delete(pMeta);
  return *ppTable ? SQLITE_OK : SQLITE_NOMEM;
}

/*
** xConnect and xCreate: argv[0] is the module name, argv[1] the database,
** argv[2] the table name, argv[3..] the options (see options.c). xCreate
** also makes the shadow tables of a table with a cache.
*/
static int airtableInit(sqlite3 *db, void *pAux, int argc,
                        const char *const *argv, sqlite3_vtab **ppVtab,
                        char **pzErr, int bCreate){
  AtContext *pCtx = (AtContext*)pAux;
  AtVtab *p = 0;
  char *zSql = 0;
  int rc;

  *ppVtab = 0;
  rc = SQLITE_NOMEM;
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) goto done;
  memset(p, 0, sizeof(*p));
  p->db = db;
  p->pCtx = pCtx;
  atContextRef(pCtx);
  rc = atOptionsParse(argc-3, argv+3, &p->opt, pzErr);
  if( rc!=SQLITE_OK ) goto done;
  p->zApiUrl = p->opt.zApiUrl;  p->opt.zApiUrl = 0;
  p->zBase = p->opt.zBase;      p->opt.zBase = 0;
  p->zName = atStrdup(argv[2]);
  if( p->zName==0 ){
    rc = SQLITE_NOMEM;
    goto done;
  }
  p->bCreatedHere = bCreate;
  p->opt.cfg.zCaFile = p->opt.zCaFile;
  if( p->opt.eCache!=AT_CACHE_OFF ){
    rc = atCacheInit(&p->cache, db, argv[1], argv[2]);
    if( rc==SQLITE_OK && bCreate ) rc = atCacheCreateTables(&p->cache, pzErr);
    if( rc!=SQLITE_OK ) goto done;
  }else{
    /* Without a cache every query needs the token: fail now if it is missing. */
    rc = atVtabHttp(p, pzErr);
    if( rc!=SQLITE_OK ) goto done;
  }

  rc = readTableMeta(p, p->opt.zTable, &p->pTableMeta, pzErr);
  if( rc!=SQLITE_OK ) goto done;
  rc = atSchemaBuild(p->pTableMeta, p->opt.zView, &p->schema, pzErr);
  if( rc!=SQLITE_OK ) goto done;
  rc = atPushColsBuild(&p->schema, &p->aPush);
  if( rc!=SQLITE_OK ) goto done;

  zSql = atSchemaDeclare(&p->schema);
  if( zSql==0 ){
    rc = SQLITE_NOMEM;
    goto done;
  }
  rc = sqlite3_declare_vtab(db, zSql);
  if( rc!=SQLITE_OK ){
    atSetError(pzErr, "cannot declare the columns of table '%s': %s",
               p->schema.zTableName, sqlite3_errmsg(db));
    goto done;
  }
  /* The table acts with the user's credential: only the user's own SQL may
  ** use it, never a trigger or view of a database someone else wrote. */
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  rc = atContextAddTable(pCtx, argv[1], argv[2], p);
  if( rc==SQLITE_OK && bCreate ){
    /* The user's own CREATE VIRTUAL TABLE, done: what it names, this
    ** connection may use (the file read later, or elsewhere, is asked
    ** again). A CREATE that failed confirms nothing. */
    static const char *const azOpt[] = { "api_url", "token_env", "token_file", "ca_file" };
    const char *azVal[4];
    int i;
    azVal[0] = p->zApiUrl; azVal[1] = p->opt.zTokenEnv;
    azVal[2] = p->opt.zTokenFile; azVal[3] = p->opt.zCaFile;
    for(i=0; rc==SQLITE_OK && i<4; i++){
      if( azVal[i] ) rc = atContextAllow(pCtx, azOpt[i], azVal[i]);
    }
  }
  if( rc!=SQLITE_OK ) goto done;
  *ppVtab = &p->base;
  p = 0;

done:
  if( rc==SQLITE_NOMEM && *pzErr==0 ) atSetError(pzErr, "out of memory");
  if( p ) airtableDisconnect(&p->base);
  sqlite3_free(zSql);
  return rc;
}

static int airtableConnect(sqlite3 *db, void *pAux, int argc,
                           const char *const *argv, sqlite3_vtab **ppVtab,
                           char **pzErr){
  return airtableInit(db, pAux, argc, argv, ppVtab, pzErr, 0);
}

static int airtableCreate(sqlite3 *db, void *pAux, int argc,
                          const char *const *argv, sqlite3_vtab **ppVtab,
                          char **pzErr){
  return airtableInit(db, pAux, argc, argv, ppVtab, pzErr, 1);
}

static int airtableDestroy(sqlite3_vtab *pVtab){
  AtVtab *p = (AtVtab*)pVtab;
  if( p->opt.eCache!=AT_CACHE_OFF ){
    char *zErr = 0;
    int rc = atCacheDropTables(&p->cache, &zErr);
    if( rc!=SQLITE_OK ){
      sqlite3_free(p->base.zErrMsg);
      p->base.zErrMsg = zErr;
      return rc;
    }
  }
  return airtableDisconnect(pVtab);
}

static int airtableRename(sqlite3_vtab *pVtab, const char *zNew){
  AtVtab *p = (AtVtab*)pVtab;
  if( p->opt.eCache!=AT_CACHE_OFF ){
    char *zErr = 0;
    int rc = atCacheRenameTables(&p->cache, zNew, &zErr);
    if( rc!=SQLITE_OK ){
      sqlite3_free(p->base.zErrMsg);
      p->base.zErrMsg = zErr;
      return rc;
    }
  }
  return SQLITE_OK;
}

/* ---- the table's methods ----------------------------------------------- */

/*
** With a cache, comparisons go to the rows table, where id is the primary
** key. Without one, the plan is what the query asks of the API
** (pushdown.c): the fields it uses, a formula for its constraints, sort,
** a first page no larger than LIMIT, or one GET by id; with pushdown='off', every record of every
** field, paged lazily (a LIMIT still stops the paging early).
*/
static int airtableBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  AtVtab *p = (AtVtab*)pVtab;
  if( p->opt.eCache!=AT_CACHE_OFF ) return atCacheBestIndex(pInfo);
  if( !p->opt.bNoPushdown ) return atPushBestIndex(pInfo, &p->schema, p->aPush);
  pInfo->idxNum = AT_IDX_SCAN;
  pInfo->estimatedCost = 1000000.0;
  pInfo->estimatedRows = 100000;
  return SQLITE_OK;
}

static int airtableOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  AtVtab *p = (AtVtab*)pVtab;
  AtCursor *pCur;
  if( p->opt.eCache!=AT_CACHE_OFF ) return atCacheOpen(p, ppCur);
  pCur = sqlite3_malloc64(sizeof(*pCur));
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  if( atListingInit(&pCur->list, p->pHttp, p->zApiUrl, p->zBase, &p->schema) ){
    atListingClear(&pCur->list);
    sqlite3_free(pCur);
    return SQLITE_NOMEM;
  }
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

static int airtableClose(sqlite3_vtab_cursor *cur){
  AtCursor *pCur = (AtCursor*)cur;
  if( ((AtVtab*)cur->pVtab)->opt.eCache!=AT_CACHE_OFF ) return atCacheClose(cur);
  atListingClear(&pCur->list);
  atPushQueryClear(&pCur->q);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

/* Point the listing at what pCur->q asks (batch pCur->iBatch). */
static void pushListing(AtCursor *pCur){
  AtListing *l = &pCur->list;
  l->zFormula = pCur->q.zFormula;
  l->nOnly = pCur->q.nField;
  l->azOnly = pCur->q.azField;
  l->aSort = pCur->q.aSort;
  l->nSort = pCur->q.nSort;
  l->nPageSize = pCur->q.nPageSize;
}

/* A pushdown plan: build the request from the plan and the values, then
** list (or GET). */
static int pushFilter(AtCursor *pCur, AtVtab *p, const char *idxStr,
                      int argc, sqlite3_value **argv){
  char **pzErr = &p->base.zErrMsg;
  AtPlan plan;
  int rc;
  atPushQueryClear(&pCur->q);
  pushListing(pCur);
  atListingReset(&pCur->list);
  pCur->iBatch = 0;
  pCur->nRowBase = 0;
  rc = atPlanParse(idxStr, p->schema.nField+AT_COL_FIRST_FIELD, &plan);
  if( rc==SQLITE_OK ){
    rc = atPushQueryBuild(&plan, &p->schema, p->aPush, argc, argv, &pCur->q, pzErr);
  }else if( rc==SQLITE_ERROR ){
    atSetError(pzErr, "internal error: table '%s': unreadable plan '%s'",
               p->schema.zTableName, idxStr ? idxStr : "");
  }
  atPlanClear(&plan);
  if( rc!=SQLITE_OK ) return rc;
  pushListing(pCur);
  if( pCur->q.bEmpty ) return SQLITE_OK;     /* no row; no request */
  if( pCur->q.zGetId ) return atListingGet(&pCur->list, pCur->q.zGetId, pzErr);
  return atListingFirst(&pCur->list, pzErr);
}

/* At the end of one id IN batch's listing, start the next. */
static int pushNextBatch(AtCursor *pCur, AtVtab *p){
  char **pzErr = &p->base.zErrMsg;
  int rc = SQLITE_OK;
  if( pCur->q.bEmpty ) return SQLITE_OK;     /* no batch can match */
  while( rc==SQLITE_OK && pCur->list.bEof && pCur->iBatch+1<pCur->q.nBatch ){
    char *z = atPushBatchFormula(&pCur->q, ++pCur->iBatch);
    if( z==0 ) return SQLITE_NOMEM;
    sqlite3_free(pCur->q.zFormula);
    pCur->q.zFormula = z;
    pushListing(pCur);
    pCur->nRowBase += pCur->list.nRow;
    rc = atListingFirst(&pCur->list, pzErr);
  }
  return rc;
}

static int airtableFilter(sqlite3_vtab_cursor *cur, int idxNum,
                          const char *idxStr, int argc, sqlite3_value **argv){
  AtCursor *pCur = (AtCursor*)cur;
  AtVtab *p = (AtVtab*)cur->pVtab;
  int rc;
  if( idxNum==AT_IDX_CACHE ) return atCacheFilter(cur, idxStr, argc, argv);
  if( idxNum==AT_IDX_PUSHDOWN ){
    rc = pushFilter(pCur, p, idxStr, argc, argv);
    return rc==SQLITE_OK ? pushNextBatch(pCur, p) : rc;
  }
  atPushQueryClear(&pCur->q);
  pushListing(pCur);
  pCur->nRowBase = 0;
  return atListingFirst(&pCur->list, &cur->pVtab->zErrMsg);
}

static int airtableNext(sqlite3_vtab_cursor *cur){
  AtCursor *pCur = (AtCursor*)cur;
  int rc;
  if( ((AtVtab*)cur->pVtab)->opt.eCache!=AT_CACHE_OFF ) return atCacheNext(cur);
  rc = atListingNext(&pCur->list, &cur->pVtab->zErrMsg);
  if( rc==SQLITE_OK && pCur->list.bEof && pCur->q.nBatch>1 ){
    rc = pushNextBatch(pCur, (AtVtab*)cur->pVtab);
  }
  return rc;
}

static int airtableEof(sqlite3_vtab_cursor *cur){
  if( ((AtVtab*)cur->pVtab)->opt.eCache!=AT_CACHE_OFF ) return atCacheEof(cur);
  return ((AtCursor*)cur)->list.bEof;
}

static int airtableColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx,
                          int iCol){
  AtCursor *pCur = (AtCursor*)cur;
  AtVtab *p = (AtVtab*)cur->pVtab;
  const cJSON *pRec;
  AtCell cell;
  if( p->opt.eCache!=AT_CACHE_OFF ) return atCacheColumn(cur, ctx, iCol);
  pRec = pCur->list.page.pRecord;
  if( iCol==AT_COL_ID || iCol==AT_COL_CREATED_TIME ){
    const cJSON *pVal = cJSON_GetObjectItemCaseSensitive(pRec,
                          iCol==AT_COL_ID ? "id" : "createdTime");
    if( cJSON_IsString(pVal) ){
      sqlite3_result_text(ctx, pVal->valuestring, -1, SQLITE_TRANSIENT);
    }
    return SQLITE_OK;
  }
  iCol -= AT_COL_FIRST_FIELD;
  if( iCol<0 || iCol>=p->schema.nField ) return SQLITE_OK;
  if( atCellFromJson(p->schema.aField[iCol].eKind, pCur->list.apCell[iCol], &cell) ){
    sqlite3_result_error_nomem(ctx);
    return SQLITE_NOMEM;
  }
  atCellResult(ctx, &cell);
  atCellClear(&cell);
  return SQLITE_OK;
}

/* The table is WITHOUT ROWID (schema.c): SQLite never asks. */
static int airtableRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid){
  AtCursor *pCur = (AtCursor*)cur;
  if( ((AtVtab*)cur->pVtab)->opt.eCache!=AT_CACHE_OFF ) return atCacheRowid(cur, pRowid);
  *pRowid = pCur->nRowBase + pCur->list.nRow;
  return SQLITE_OK;
}

/* The airtable module: read-only, not eponymous (it needs options). */
static sqlite3_module airtableModule = {
  3,                   /* iVersion: 3 for xShadowName */
  airtableCreate,      /* xCreate: makes the shadow tables of a cache */
  airtableConnect,     /* xConnect */
  airtableBestIndex,   /* xBestIndex */
  airtableDisconnect,  /* xDisconnect */
  airtableDestroy,     /* xDestroy: drops them */
  airtableOpen,        /* xOpen */
  airtableClose,       /* xClose */
  airtableFilter,      /* xFilter */
  airtableNext,        /* xNext */
  airtableEof,         /* xEof */
  airtableColumn,      /* xColumn */
  airtableRowid,       /* xRowid */
  0,                   /* xUpdate: read-only */
  0,                   /* xBegin */
  0,                   /* xSync */
  0,                   /* xCommit */
  0,                   /* xRollback */
  0,                   /* xFindFunction */
  airtableRename,      /* xRename: renames them */
  0,                   /* xSavepoint */
  0,                   /* xRelease */
  0,                   /* xRollbackTo */
  atCacheShadowName    /* xShadowName */
};

int atRegisterTable(sqlite3 *db, AtContext *pCtx){
  atContextRef(pCtx);
  return sqlite3_create_module_v2(db, "airtable", &airtableModule, pCtx,
                                  atContextUnref);
}
