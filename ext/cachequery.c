/*
** cachequery.c: the airtable table answered from its staging cache
** (cache='on' or 'offline'). A query reads the rows table NAME_rows, where
** id is the primary key and a record's fields are packed in one blob
** (cache.c); cache='on' syncs first when the last sync is older than
** max_age. vtab.c's methods hand over to these when the table has a cache.
**
**   CREATE VIRTUAL TABLE t USING airtable(base=..., table=..., cache='on');
**   SELECT * FROM t WHERE id = 'rec...';   -- the rows table's primary key
*/
#include <string.h>
#include "vtab.h"
#include "plan.h"
#include "util.h"

/* A cursor over the rows table. */
typedef struct AtCacheCursor AtCacheCursor;
struct AtCacheCursor {
  sqlite3_vtab_cursor base;  /* base class: must be first */
  sqlite3_stmt *pStmt;       /* the scan of NAME_rows, or NULL */
  int iScan;                 /* its slot in AtCacheState.apScan, or -1: owned */
  int bEof;                  /* no more rows */
  int *aOff;                 /* where each packed value starts */
  int nOff;                  /* entries allocated in aOff */
  int bOffValid;             /* aOff, aVals and nVals are for the current row */
  const unsigned char *aVals;/* the current row's packed values */
  int nVals;                 /* their size in bytes */
};

void atCacheStateClear(AtCacheState *p){
  int i;
  sqlite3_free(p->zLayout);
  sqlite3_free(p->aMap);
  for(i=0; i<AT_SCAN_CACHE; i++){
    sqlite3_finalize(p->apScan[i]);
    sqlite3_free(p->azScanSql[i]);
  }
  memset(p, 0, sizeof(*p));
}

/* ---- syncs and freshness ------------------------------------------------ */

int atVtabSync(AtVtab *p, int bFull, AtSyncResult *pRes, char **pzErr){
  AtSyncArgs args;
  int rc = atVtabHttp(p, pzErr);
  if( rc!=SQLITE_OK ){
    char *zMsg;
    atPrefixError(pzErr, "table '%s': syncing the cache needs the API", p->cache.zName);
    zMsg = *pzErr ? sqlite3_mprintf("%s; to answer from the cache as it is, "
                                    "set AIRTABLE_OFFLINE=1", *pzErr) : 0;
    if( zMsg ){
      sqlite3_free(*pzErr);
      *pzErr = zMsg;
    }
    return rc;
  }
  memset(&args, 0, sizeof(args));
  args.pCache = &p->cache;
  args.pHttp = p->pHttp;
  args.zApiUrl = p->zApiUrl;
  args.zBase = p->zBase;
  args.zTable = p->opt.zTable;
  args.zView = p->opt.zView;
  args.rOverlap = p->opt.rSyncOverlap;
  args.bFull = bFull;
  rc = atCacheSync(&args, pRes, pzErr);
  p->cs.bLayoutTrusted = 0;     /* reread it: the sync may have changed it */
  if( rc==SQLITE_OK ){
    p->cs.rFreshUntil = atNow() + p->opt.rMaxAge;
  }else if( *pzErr && strstr(*pzErr, "cache is unchanged")==0 ){
    char *zMsg = sqlite3_mprintf("%s (the cache of '%s' is unchanged)",
                                 *pzErr, p->cache.zName);
    if( zMsg ){
      sqlite3_free(*pzErr);
      *pzErr = zMsg;
    }
  }
  return rc;
}

/* cache='on': sync first if the last sync is older than max_age (or there
** was none). cache='offline': fail if there was none. */
static int ensureFresh(AtVtab *p, char **pzErr){
  double rNow = atNow();
  char *zEnd = 0;
  AtSyncResult res;
  int rc;
  if( rNow<p->cs.rFreshUntil ) return SQLITE_OK;
  if( p->opt.eCache==AT_CACHE_ON && p->cs.nScan>0 ){
    /* Another cursor of this table is reading (a join): one statement sees
    ** one state of the cache, so the sync waits for the next statement. */
    return SQLITE_OK;
  }
  rc = atCacheGet(&p->cache, "last_sync_end", &zEnd, pzErr);
  if( rc!=SQLITE_OK ) return rc;
  if( p->opt.eCache==AT_CACHE_OFFLINE ){
    /* Offline: whatever the cache holds, however old, but something. */
    if( zEnd==0 ){
      atSetError(pzErr, "table '%s' was never synced: cache='offline' "
          "answers only from the cache; fill it with SELECT airtable_sync('%s')%s",
          p->cache.zName, p->cache.zName,
          p->opt.bNoNetwork ? " where the API can be reached (AIRTABLE_OFFLINE "
                              "is set here)" : "");
      return SQLITE_ERROR;
    }
    sqlite3_free(zEnd);
    p->cs.rFreshUntil = 1e300;   /* a synced table stays synced */
    return SQLITE_OK;
  }
  if( zEnd && rNow - atStrtod(zEnd, 0) < p->opt.rMaxAge ){
    p->cs.rFreshUntil = atStrtod(zEnd, 0) + p->opt.rMaxAge;
    sqlite3_free(zEnd);
    return SQLITE_OK;
  }
  sqlite3_free(zEnd);
  return atVtabSync(p, 0, &res, pzErr);
}

/* Read the cache's layout (the field ids of the packed values, in order)
** and map this table's fields to it. A field the cache does not have (the
** connection declared its columns before a sync changed the fields) reads
** as NULL. */
static int readLayout(AtVtab *p, char **pzErr){
  AtCacheState *s = &p->cs;
  char *zLayout = 0;
  unsigned int iVersion = 0;
  int *aMap, nLayout = 0, i, rc;
  /* The layout changes only with a sync, which changes the file: while the
  ** file's data version is the one the layout was read at, it holds. The
  ** version does not move with this connection's own uncommitted writes,
  ** nor back with a rollback: inside a transaction, read it every time. */
  sqlite3_file_control(p->db, p->cache.zDb, SQLITE_FCNTL_DATA_VERSION, &iVersion);
  if( s->zLayout && s->bLayoutTrusted && sqlite3_get_autocommit(p->db)
   && iVersion==s->iDataVersion ){
    return SQLITE_OK;
  }
  rc = atCacheGet(&p->cache, "layout", &zLayout, pzErr);
  if( rc!=SQLITE_OK ) return rc;
  if( zLayout==0 ){
    zLayout = atStrdup("");
    if( zLayout==0 ) return SQLITE_NOMEM;
  }
  if( s->zLayout && strcmp(s->zLayout, zLayout)==0 ){
    sqlite3_free(zLayout);
  }else{
    aMap = sqlite3_malloc64(sizeof(int)*(p->schema.nField+1));
    if( aMap==0 ){
      sqlite3_free(zLayout);
      return SQLITE_NOMEM;
    }
    for(i=0; i<p->schema.nField; i++) aMap[i] = -1;
    if( zLayout[0] ){
      const char *z = zLayout;
      for(;;){
        const char *zEnd = strchr(z, ',');
        int n = zEnd ? (int)(zEnd-z) : (int)strlen(z);
        for(i=0; i<p->schema.nField; i++){
          const char *zId = p->schema.aField[i].zId;
          if( (int)strlen(zId)==n && memcmp(zId, z, n)==0 ) aMap[i] = nLayout;
        }
        nLayout++;
        if( zEnd==0 ) break;
        z = zEnd+1;
      }
    }
    sqlite3_free(s->zLayout);
    sqlite3_free(s->aMap);
    s->zLayout = zLayout;
    s->aMap = aMap;
    s->nLayout = nLayout;
  }
  s->iDataVersion = iVersion;
  s->bLayoutTrusted = sqlite3_get_autocommit(p->db);
  return SQLITE_OK;
}

/* ---- the plan ------------------------------------------------------------ */

/* The operators a cached scan takes to the rows table. Each is only a
** prefilter: SQLite checks every constraint again (omit stays 0). */
static int cacheOpUsable(int eOp){
  return eOp==SQLITE_INDEX_CONSTRAINT_EQ || eOp==SQLITE_INDEX_CONSTRAINT_GT
      || eOp==SQLITE_INDEX_CONSTRAINT_LE || eOp==SQLITE_INDEX_CONSTRAINT_LT
      || eOp==SQLITE_INDEX_CONSTRAINT_GE;
}

static const char *cacheColumnName(int iCol){
  return iCol==AT_COL_ID ? "id" : "created_time";
}

/* A cached plan: idxNum AT_IDX_CACHE, idxStr one term (plan.h) per
** constraint, never exact, in argv order. Only id (the rows table's primary
** key) and created_time are kept as columns; field values are packed, so
** SQLite filters those itself. */
int atCacheBestIndex(sqlite3_index_info *pInfo){
  sqlite3_str *pM = sqlite3_str_new(0);
  sqlite3_str *pH = sqlite3_str_new(0);
  char *zHuman;
  int i, n = 0, bIdEq = 0;
  sqlite3_str_appendall(pM, "v1");
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *c = &pInfo->aConstraint[i];
    AtPlanTerm t;
    if( !c->usable || c->iColumn<0 || c->iColumn>=AT_COL_FIRST_FIELD
     || !cacheOpUsable(c->op) ) continue;
    if( atPlanCollation(pInfo, i)!=AT_COLL_BINARY ) continue;
    memset(&t, 0, sizeof(t));
    t.iCol = c->iColumn;
    t.eOp = c->op;
    t.eColl = AT_COLL_BINARY;
    t.iArg = n;
    pInfo->aConstraintUsage[i].argvIndex = ++n;
    atPlanWriteTerm(pM, &t);
    sqlite3_str_appendf(pH, "%s%s %s ?", n>1 ? " AND " : "",
                        cacheColumnName(t.iCol), atPlanOpName(t.eOp));
    if( c->iColumn==AT_COL_ID && c->op==SQLITE_INDEX_CONSTRAINT_EQ ) bIdEq = 1;
  }
  zHuman = sqlite3_str_finish(pH);
  sqlite3_str_appendf(pM, " -- cache: %s", zHuman ? zHuman : "every row");
  sqlite3_free(zHuman);
  pInfo->idxNum = AT_IDX_CACHE;
  pInfo->idxStr = sqlite3_str_finish(pM);
  pInfo->needToFreeIdxStr = 1;
  if( pInfo->idxStr==0 ) return SQLITE_NOMEM;
  if( bIdEq ){
    /* id is the rows table's primary key. */
    pInfo->estimatedCost = 10.0;
    pInfo->estimatedRows = 1;
    pInfo->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
  }else{
    pInfo->estimatedRows = 10000 >> (n>4 ? 4 : n);
    pInfo->estimatedCost = 10000.0;
  }
  return SQLITE_OK;
}

/* ---- the scan ------------------------------------------------------------ */

/* Give the cursor a prepared statement for zSql (taking it): a free one
** the table kept, else a new one, kept if a slot is free. */
static int scanStatement(AtCacheCursor *pCur, AtVtab *p, char *zSql){
  AtCacheState *s = &p->cs;
  int i, iFree = -1, rc;
  for(i=0; i<AT_SCAN_CACHE; i++){
    if( s->abScanBusy[i] ) continue;
    if( s->azScanSql[i] && strcmp(s->azScanSql[i], zSql)==0 ){
      s->abScanBusy[i] = 1;
      pCur->pStmt = s->apScan[i];
      pCur->iScan = i;
      s->nScan++;
      sqlite3_free(zSql);
      return SQLITE_OK;
    }
    if( iFree<0 ) iFree = i;
  }
  rc = sqlite3_prepare_v3(p->db, zSql, -1, SQLITE_PREPARE_PERSISTENT, &pCur->pStmt, 0);
  if( rc==SQLITE_OK ) s->nScan++;
  if( rc!=SQLITE_OK || iFree<0 ){
    pCur->iScan = -1;
    sqlite3_free(zSql);
    return rc;
  }
  /* Evict what the free slot held. */
  sqlite3_finalize(s->apScan[iFree]);
  sqlite3_free(s->azScanSql[iFree]);
  s->apScan[iFree] = pCur->pStmt;
  s->azScanSql[iFree] = zSql;
  s->abScanBusy[iFree] = 1;
  pCur->iScan = iFree;
  return SQLITE_OK;
}

/* Give back the cursor's statement: reset into its slot, or finalized. */
static void scanRelease(AtCacheCursor *pCur, AtVtab *p){
  if( pCur->pStmt ){
    p->cs.nScan--;
    if( pCur->iScan>=0 ){
      sqlite3_reset(pCur->pStmt);
      sqlite3_clear_bindings(pCur->pStmt);
      p->cs.abScanBusy[pCur->iScan] = 0;
    }else{
      sqlite3_finalize(pCur->pStmt);
    }
  }
  pCur->pStmt = 0;
  pCur->iScan = -1;
  pCur->bEof = 1;
}

int atCacheOpen(AtVtab *p, sqlite3_vtab_cursor **ppCur){
  AtCacheCursor *pCur = sqlite3_malloc64(sizeof(*pCur));
  (void)p;
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  pCur->bEof = 1;
  pCur->iScan = -1;
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

int atCacheClose(sqlite3_vtab_cursor *cur){
  AtCacheCursor *pCur = (AtCacheCursor*)cur;
  scanRelease(pCur, (AtVtab*)cur->pVtab);
  sqlite3_free(pCur->aOff);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

int atCacheNext(sqlite3_vtab_cursor *cur){
  AtCacheCursor *pCur = (AtCacheCursor*)cur;
  AtVtab *p = (AtVtab*)cur->pVtab;
  int rc = sqlite3_step(pCur->pStmt);
  pCur->bOffValid = 0;
  if( rc==SQLITE_ROW ) return SQLITE_OK;
  pCur->bEof = 1;
  if( rc==SQLITE_DONE ) return SQLITE_OK;
  atSetError(&p->base.zErrMsg, "cache of '%s': %s", p->cache.zName,
             sqlite3_errmsg(p->db));
  return rc;
}

int atCacheFilter(sqlite3_vtab_cursor *cur, const char *idxStr, int argc,
                  sqlite3_value **argv){
  AtCacheCursor *pCur = (AtCacheCursor*)cur;
  AtVtab *p = (AtVtab*)cur->pVtab;
  char **pzErr = &p->base.zErrMsg;
  sqlite3_str *pStr;
  AtPlan plan;
  char *zSql;
  int i, rc, nBind = 0, aBind[16];

  scanRelease(pCur, p);
  rc = ensureFresh(p, pzErr);
  if( rc==SQLITE_OK ) rc = readLayout(p, pzErr);
  if( rc!=SQLITE_OK ) return rc;
  if( pCur->nOff<p->cs.nLayout ){
    int *a = sqlite3_realloc64(pCur->aOff, sizeof(int)*p->cs.nLayout);
    if( a==0 ) return SQLITE_NOMEM;
    pCur->aOff = a;
    pCur->nOff = p->cs.nLayout;
  }
  rc = atPlanParse(idxStr, AT_COL_FIRST_FIELD, &plan);
  if( rc!=SQLITE_OK ){
    atPlanClear(&plan);
    if( rc==SQLITE_ERROR ){
      atSetError(pzErr, "internal error: table '%s': unreadable plan '%s'",
                 p->cache.zName, idxStr ? idxStr : "");
    }
    return rc;
  }
  pStr = sqlite3_str_new(0);
  sqlite3_str_appendf(pStr, "SELECT rowid, id, created_time, vals"
                      " FROM \"%w\".\"%w_rows\" WHERE 1",
                      p->cache.zDb, p->cache.zName);
  for(i=0; i<plan.nTerm; i++){
    const AtPlanTerm *t = &plan.aTerm[i];
    /* Text values only. id and created_time are declared TEXT in both
    ** tables, so any value would compare the same; but a value of another
    ** type matches no record id or time, and leaving those comparisons to
    ** SQLite alone keeps the prepared scans few. */
    if( t->iArg<0 || t->iArg>=argc || !cacheOpUsable(t->eOp)
     || sqlite3_value_type(argv[t->iArg])!=SQLITE_TEXT || nBind>=16 ) continue;
    sqlite3_str_appendf(pStr, " AND %s %s ?%d", cacheColumnName(t->iCol),
                        atPlanOpName(t->eOp), nBind+1);
    aBind[nBind++] = t->iArg;
  }
  atPlanClear(&plan);
  zSql = sqlite3_str_finish(pStr);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = scanStatement(pCur, p, zSql);
  if( rc!=SQLITE_OK ){
    atSetError(pzErr, "cache of '%s': %s", p->cache.zName, sqlite3_errmsg(p->db));
    return rc;
  }
  for(i=0; i<nBind; i++) sqlite3_bind_value(pCur->pStmt, i+1, argv[aBind[i]]);
  pCur->bEof = 0;
  return atCacheNext(cur);
}

int atCacheEof(sqlite3_vtab_cursor *cur){
  return ((AtCacheCursor*)cur)->bEof;
}

/* Column iCol of the cached row: id and created_time as stored, a field
** unpacked from vals. */
int atCacheColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int iCol){
  AtCacheCursor *pCur = (AtCacheCursor*)cur;
  AtVtab *p = (AtVtab*)cur->pVtab;
  int k;
  if( iCol<AT_COL_FIRST_FIELD ){
    sqlite3_result_value(ctx, sqlite3_column_value(pCur->pStmt, iCol+1));
    return SQLITE_OK;
  }
  iCol -= AT_COL_FIRST_FIELD;
  if( iCol>=p->schema.nField || (k = p->cs.aMap[iCol])<0 ) return SQLITE_OK;
  if( pCur->nOff<p->cs.nLayout ){
    /* Cannot happen (a layout changes only with a sync, which waits for
    ** open scans), but an overrun must not. */
    sqlite3_result_error(ctx, "airtable: the cache's fields changed during "
                         "the statement; run it again", -1);
    return SQLITE_ERROR;
  }
  if( !pCur->bOffValid ){
    /* Once per row: each sqlite3_column_*() call takes the connection's
    ** mutex, which cost more than the unpacking when done per column. */
    pCur->aVals = (const unsigned char*)sqlite3_column_blob(pCur->pStmt, 3);
    pCur->nVals = sqlite3_column_bytes(pCur->pStmt, 3);
    if( atCacheUnpackOffsets(pCur->aVals, pCur->nVals, p->cs.nLayout, pCur->aOff)!=SQLITE_OK ){
      char *zErr = sqlite3_mprintf("airtable: cache of '%s': the values of "
          "record %s are corrupt; run airtable_sync('%s', 'full')",
          p->cache.zName, sqlite3_column_text(pCur->pStmt, 1), p->cache.zName);
      sqlite3_result_error(ctx, zErr ? zErr : "out of memory", -1);
      sqlite3_free(zErr);
      return SQLITE_CORRUPT;
    }
    pCur->bOffValid = 1;
  }
  atCacheUnpackResult(ctx, pCur->aVals, pCur->aOff[k]);
  return SQLITE_OK;
}

/* The table is WITHOUT ROWID (schema.c): SQLite never asks. */
int atCacheRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid){
  *pRowid = sqlite3_column_int64(((AtCacheCursor*)cur)->pStmt, 0);
  return SQLITE_OK;
}
