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
*/
#include <stdlib.h>
#include <string.h>
#include "airtable_int.h"

#define AT_SCAN_CACHE 4   /* prepared scans a cached table keeps */

typedef struct AtVtab AtVtab;
struct AtVtab {
  sqlite3_vtab base;   /* base class: must be first */
  char *zApiUrl;       /* API root, e.g. https://api.airtable.com */
  char *zBase;         /* base id */
  AtSchema schema;     /* table id, view id, fields and column names */
  AtPushCol *aPush;    /* per column: how pushdown writes its constraints */
  cJSON *pTableMeta;   /* the table's metadata (fields with their options) */
  AtHttp *pHttp;       /* connection (curl handle + token) for this table;
                       ** with a cache, made when a sync first needs it */
  AtContext *pCtx;     /* where the table is listed by name (a reference) */
  sqlite3 *db;         /* the database connection */
  AtOptions opt;       /* the options (token, retry policy, cache, view) */
  AtCache cache;       /* the shadow tables, if opt.eCache!=AT_CACHE_OFF */
  double rFreshUntil;  /* cache=on: no need to look before this time */
  char *zLayout;       /* the cache's field ids in packed order, as read */
  int nLayout;         /* number of them */
  int *aMap;           /* per field of schema: its packed index, or -1 */
  unsigned int iDataVersion;  /* the file's data version zLayout was read at */
  int bLayoutTrusted;  /* zLayout was read outside a transaction (and no sync
                       ** of this connection ran since): the version tells */
  int nScan;           /* cursors with a cached scan open */
  /* Prepared scans of the rows table, kept for the next xFilter that needs
  ** the same SQL (a join's inner loop filters once per outer row). */
  char *azScanSql[AT_SCAN_CACHE];
  sqlite3_stmt *apScan[AT_SCAN_CACHE];
  int abScanBusy[AT_SCAN_CACHE];
};

typedef struct AtCursor AtCursor;
struct AtCursor {
  sqlite3_vtab_cursor base;  /* base class: must be first */
  AtListing list;            /* the scan: one page at a time */
  AtPushQuery q;             /* what the listing asks (pushdown plans) */
  int iBatch;                /* the id IN batch being listed */
  sqlite3_int64 nRowBase;    /* rows of earlier batches (for the rowid) */
  sqlite3_stmt *pStmt;       /* with a cache: the scan of NAME_rows */
  int iScan;                 /* its slot in AtVtab.apScan, or -1: owned */
  int bEof;                  /* with a cache: no more rows */
  int *aOff;                 /* with a cache: where each packed value starts */
  int nOff;                  /* entries allocated in aOff */
  int bOffValid;             /* aOff, aVals and nVals are for the current row */
  const unsigned char *aVals;/* the current row's packed values */
  int nVals;                 /* their size in bytes */
};

static int airtableDisconnect(sqlite3_vtab *pVtab){
  AtVtab *p = (AtVtab*)pVtab;
  atContextRemoveTable(p->pCtx, p);
  atContextUnref(p->pCtx);
  atCacheClear(&p->cache);
  atOptionsClear(&p->opt);
  sqlite3_free(p->zLayout);
  sqlite3_free(p->aMap);
  {
    int i;
    for(i=0; i<AT_SCAN_CACHE; i++){
      sqlite3_finalize(p->apScan[i]);
      sqlite3_free(p->azScanSql[i]);
    }
  }
  sqlite3_free(p->aPush);
  cJSON_Delete(p->pTableMeta);
  atHttpFree(p->pHttp);
  atSchemaClear(&p->schema);
  sqlite3_free(p->zApiUrl);
  sqlite3_free(p->zBase);
  sqlite3_free(p->base.zErrMsg);
  sqlite3_free(p);
  return SQLITE_OK;
}

/* The connection to the API, made on first use for a table with a cache
** (an offline table, or one whose cache is fresh, needs no token). */
static int vtabHttp(AtVtab *p, char **pzErr){
  char *zToken = 0, *zKey = 0;
  int rc;
  if( p->pHttp ) return SQLITE_OK;
  rc = atTokenLoad(p->opt.zTokenEnv, p->opt.zTokenFile, &zToken, pzErr);
  if( rc!=SQLITE_OK ) return rc;
  zKey = sqlite3_mprintf("%s %s", p->zApiUrl, p->zBase);
  if( zKey ) p->pHttp = atHttpNew(zToken, zKey, &p->opt.cfg, p->db, p->pCtx);
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
  rc = vtabHttp(p, pzErr);
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
  *ppTable = cJSON_Duplicate(pTable, 1);
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
  p->opt.cfg.zCaFile = p->opt.zCaFile;
  if( p->opt.eCache!=AT_CACHE_OFF ){
    rc = atCacheInit(&p->cache, db, argv[1], argv[2]);
    if( rc==SQLITE_OK && bCreate ) rc = atCacheCreateTables(&p->cache, pzErr);
    if( rc!=SQLITE_OK ) goto done;
  }else{
    /* Without a cache every query needs the token: fail now if it is missing. */
    rc = vtabHttp(p, pzErr);
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

/* ---- the cache: sync, freshness, scans ---------------------------------- */

/* Sync the table's cache (bFull: a full refresh). */
static int vtabSync(AtVtab *p, int bFull, AtSyncResult *pRes, char **pzErr){
  AtSyncArgs args;
  int rc = vtabHttp(p, pzErr);
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
  p->bLayoutTrusted = 0;     /* reread it: the sync may have changed it */
  if( rc==SQLITE_OK ){
    p->rFreshUntil = atNow() + p->opt.rMaxAge;
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
static int cacheEnsureFresh(AtVtab *p, char **pzErr){
  double rNow = atNow();
  char *zEnd = 0;
  AtSyncResult res;
  int rc;
  if( rNow<p->rFreshUntil ) return SQLITE_OK;
  if( p->opt.eCache==AT_CACHE_ON && p->nScan>0 ){
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
    p->rFreshUntil = 1e300;   /* a synced table stays synced */
    return SQLITE_OK;
  }
  if( zEnd && rNow - atStrtod(zEnd, 0) < p->opt.rMaxAge ){
    p->rFreshUntil = atStrtod(zEnd, 0) + p->opt.rMaxAge;
    sqlite3_free(zEnd);
    return SQLITE_OK;
  }
  sqlite3_free(zEnd);
  return vtabSync(p, 0, &res, pzErr);
}

/* Read the cache's layout (the field ids of the packed values, in order)
** and map this table's fields to it. A field the cache does not have (the
** connection declared its columns before a sync changed the fields) reads
** as NULL. */
static int cacheLayout(AtVtab *p, char **pzErr){
  char *zLayout = 0;
  unsigned int iVersion = 0;
  int *aMap, nLayout = 0, i, rc;
  /* The layout changes only with a sync, which changes the file: while the
  ** file's data version is the one the layout was read at, it holds. The
  ** version does not move with this connection's own uncommitted writes,
  ** nor back with a rollback: inside a transaction, read it every time. */
  sqlite3_file_control(p->db, p->cache.zDb, SQLITE_FCNTL_DATA_VERSION, &iVersion);
  if( p->zLayout && p->bLayoutTrusted && sqlite3_get_autocommit(p->db)
   && iVersion==p->iDataVersion ){
    return SQLITE_OK;
  }
  rc = atCacheGet(&p->cache, "layout", &zLayout, pzErr);
  if( rc!=SQLITE_OK ) return rc;
  if( zLayout==0 ){
    zLayout = atStrdup("");
    if( zLayout==0 ) return SQLITE_NOMEM;
  }
  if( p->zLayout && strcmp(p->zLayout, zLayout)==0 ){
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
    sqlite3_free(p->zLayout);
    sqlite3_free(p->aMap);
    p->zLayout = zLayout;
    p->aMap = aMap;
    p->nLayout = nLayout;
  }
  p->iDataVersion = iVersion;
  p->bLayoutTrusted = sqlite3_get_autocommit(p->db);
  return SQLITE_OK;
}

/* The SQL operators xBestIndex hands to a cached scan. Each is only a
** prefilter: SQLite checks every constraint again (omit stays 0). */
static const char *cacheOp(int op){
  switch( op ){
    case SQLITE_INDEX_CONSTRAINT_EQ: return "=";
    case SQLITE_INDEX_CONSTRAINT_GT: return ">";
    case SQLITE_INDEX_CONSTRAINT_LE: return "<=";
    case SQLITE_INDEX_CONSTRAINT_LT: return "<";
    case SQLITE_INDEX_CONSTRAINT_GE: return ">=";
  }
  return 0;
}

/* A cached plan: idxNum 1, idxStr "COL:OP," per constraint in argv order.
** Only id (the rows table's primary key) and created_time are kept as
** columns; field values are packed, so SQLite filters those itself. */
static int cacheBestIndex(sqlite3_index_info *pInfo){
  sqlite3_str *pStr = sqlite3_str_new(0);
  int i, n = 0, bIdEq = 0;
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *c = &pInfo->aConstraint[i];
    const char *zColl;
    if( !c->usable || c->iColumn<0 || c->iColumn>=AT_COL_FIRST_FIELD
     || cacheOp(c->op)==0 ) continue;
    zColl = sqlite3_vtab_collation(pInfo, i);
    if( zColl && sqlite3_stricmp(zColl, "BINARY")!=0 ) continue;
    pInfo->aConstraintUsage[i].argvIndex = ++n;
    sqlite3_str_appendf(pStr, "%d:%d,", c->iColumn, c->op);
    if( c->iColumn==AT_COL_ID && c->op==SQLITE_INDEX_CONSTRAINT_EQ ) bIdEq = 1;
  }
  pInfo->idxNum = AT_IDX_CACHE;
  pInfo->idxStr = sqlite3_str_finish(pStr);
  pInfo->needToFreeIdxStr = 1;
  if( n>0 && pInfo->idxStr==0 ) return SQLITE_NOMEM;
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

/* Give the cursor a prepared statement for zSql (taking it): a free one
** the table kept, else a new one, kept if a slot is free. */
static int cacheStatement(AtCursor *pCur, AtVtab *p, char *zSql){
  int i, iFree = -1, rc;
  for(i=0; i<AT_SCAN_CACHE; i++){
    if( p->abScanBusy[i] ) continue;
    if( p->azScanSql[i] && strcmp(p->azScanSql[i], zSql)==0 ){
      p->abScanBusy[i] = 1;
      pCur->pStmt = p->apScan[i];
      pCur->iScan = i;
      p->nScan++;
      sqlite3_free(zSql);
      return SQLITE_OK;
    }
    if( iFree<0 ) iFree = i;
  }
  rc = sqlite3_prepare_v3(p->db, zSql, -1, SQLITE_PREPARE_PERSISTENT, &pCur->pStmt, 0);
  if( rc==SQLITE_OK ) p->nScan++;
  if( rc!=SQLITE_OK || iFree<0 ){
    pCur->iScan = -1;
    sqlite3_free(zSql);
    return rc;
  }
  /* Evict what the free slot held. */
  sqlite3_finalize(p->apScan[iFree]);
  sqlite3_free(p->azScanSql[iFree]);
  p->apScan[iFree] = pCur->pStmt;
  p->azScanSql[iFree] = zSql;
  p->abScanBusy[iFree] = 1;
  pCur->iScan = iFree;
  return SQLITE_OK;
}

/* Give back the cursor's statement: reset into its slot, or finalized. */
static void cacheRelease(AtCursor *pCur, AtVtab *p){
  if( pCur->pStmt ){
    p->nScan--;
    if( pCur->iScan>=0 ){
      sqlite3_reset(pCur->pStmt);
      sqlite3_clear_bindings(pCur->pStmt);
      p->abScanBusy[pCur->iScan] = 0;
    }else{
      sqlite3_finalize(pCur->pStmt);
    }
  }
  pCur->pStmt = 0;
  pCur->iScan = -1;
  pCur->bEof = 1;
}

static int cacheFilter(AtCursor *pCur, AtVtab *p, const char *idxStr,
                       int argc, sqlite3_value **argv){
  char **pzErr = &p->base.zErrMsg;
  sqlite3_str *pStr;
  char *zSql;
  int i, rc, nBind = 0, aBind[16];
  const char *z = idxStr ? idxStr : "";

  cacheRelease(pCur, p);
  rc = cacheEnsureFresh(p, pzErr);
  if( rc==SQLITE_OK ) rc = cacheLayout(p, pzErr);
  if( rc!=SQLITE_OK ) return rc;
  if( pCur->nOff<p->nLayout ){
    int *a = sqlite3_realloc64(pCur->aOff, sizeof(int)*p->nLayout);
    if( a==0 ) return SQLITE_NOMEM;
    pCur->aOff = a;
    pCur->nOff = p->nLayout;
  }
  pStr = sqlite3_str_new(0);
  sqlite3_str_appendf(pStr, "SELECT rowid, id, created_time, vals"
                      " FROM \"%w\".\"%w_rows\" WHERE 1",
                      p->cache.zDb, p->cache.zName);
  for(i=0; i<argc && *z; i++){
    int iCol = (int)strtol(z, (char**)&z, 10), op;
    if( *z==':' ) z++;
    op = (int)strtol(z, (char**)&z, 10);
    if( *z==',' ) z++;
    /* Text values only. id and created_time are declared TEXT in both
    ** tables, so any value would compare the same; but a value of another
    ** type matches no record id or time, and leaving those comparisons to
    ** SQLite alone keeps the prepared scans few. */
    if( iCol<0 || iCol>=AT_COL_FIRST_FIELD || cacheOp(op)==0
     || sqlite3_value_type(argv[i])!=SQLITE_TEXT || nBind>=16 ) continue;
    sqlite3_str_appendf(pStr, " AND %s %s ?%d",
        iCol==AT_COL_ID ? "id" : "created_time", cacheOp(op), nBind+1);
    aBind[nBind++] = i;
  }
  zSql = sqlite3_str_finish(pStr);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = cacheStatement(pCur, p, zSql);
  if( rc!=SQLITE_OK ){
    atSetError(pzErr, "cache of '%s': %s", p->cache.zName, sqlite3_errmsg(p->db));
    return rc;
  }
  for(i=0; i<nBind; i++) sqlite3_bind_value(pCur->pStmt, i+1, argv[aBind[i]]);
  pCur->bEof = 0;
  return SQLITE_OK;
}

static int cacheNext(AtCursor *pCur, AtVtab *p){
  int rc = sqlite3_step(pCur->pStmt);
  pCur->bOffValid = 0;
  if( rc==SQLITE_ROW ) return SQLITE_OK;
  pCur->bEof = 1;
  if( rc==SQLITE_DONE ) return SQLITE_OK;
  atSetError(&p->base.zErrMsg, "cache of '%s': %s", p->cache.zName,
             sqlite3_errmsg(p->db));
  return rc;
}

/* Column iCol of the cached row: id and created_time as stored, a field
** unpacked from vals. */
static int cacheColumn(AtCursor *pCur, AtVtab *p, sqlite3_context *ctx,
                       int iCol){
  int k;
  if( iCol<AT_COL_FIRST_FIELD ){
    sqlite3_result_value(ctx, sqlite3_column_value(pCur->pStmt, iCol+1));
    return SQLITE_OK;
  }
  iCol -= AT_COL_FIRST_FIELD;
  if( iCol>=p->schema.nField || (k = p->aMap[iCol])<0 ) return SQLITE_OK;
  if( pCur->nOff<p->nLayout ){
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
    if( atCacheUnpackOffsets(pCur->aVals, pCur->nVals, p->nLayout, pCur->aOff)!=SQLITE_OK ){
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
  if( p->opt.eCache!=AT_CACHE_OFF ) return cacheBestIndex(pInfo);
  if( !p->opt.bNoPushdown ) return atPushBestIndex(pInfo, &p->schema, p->aPush);
  pInfo->idxNum = AT_IDX_SCAN;
  pInfo->estimatedCost = 1000000.0;
  pInfo->estimatedRows = 100000;
  return SQLITE_OK;
}

static int airtableOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  AtVtab *p = (AtVtab*)pVtab;
  AtCursor *pCur = sqlite3_malloc64(sizeof(*pCur));
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  pCur->bEof = 1;
  pCur->iScan = -1;
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
  atListingClear(&pCur->list);
  atPushQueryClear(&pCur->q);
  cacheRelease(pCur, (AtVtab*)cur->pVtab);
  sqlite3_free(pCur->aOff);
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
  if( idxNum==AT_IDX_CACHE ){
    rc = cacheFilter(pCur, p, idxStr, argc, argv);
    return rc==SQLITE_OK ? cacheNext(pCur, p) : rc;
  }
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
  if( pCur->pStmt ) return cacheNext(pCur, (AtVtab*)cur->pVtab);
  rc = atListingNext(&pCur->list, &cur->pVtab->zErrMsg);
  if( rc==SQLITE_OK && pCur->list.bEof && pCur->q.nBatch>1 ){
    rc = pushNextBatch(pCur, (AtVtab*)cur->pVtab);
  }
  return rc;
}

static int airtableEof(sqlite3_vtab_cursor *cur){
  AtCursor *pCur = (AtCursor*)cur;
  return pCur->pStmt ? pCur->bEof : pCur->list.bEof;
}

static int airtableColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx,
                          int iCol){
  AtCursor *pCur = (AtCursor*)cur;
  AtVtab *p = (AtVtab*)cur->pVtab;
  const cJSON *pRec = pCur->list.page.pRecord;
  AtCell cell;
  if( pCur->pStmt ) return cacheColumn(pCur, p, ctx, iCol);
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
  if( pCur->pStmt ){
    *pRowid = sqlite3_column_int64(pCur->pStmt, 0);
  }else{
    *pRowid = pCur->nRowBase + pCur->list.nRow;
  }
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

/* The airtable table named zName in this connection, connecting it first
** if no statement has yet. NULL after setting the function's error. */
static AtVtab *findTable(sqlite3_context *ctx, const char *zName,
                         const char *zFunc){
  AtContext *pCtx = (AtContext*)sqlite3_user_data(ctx);
  AtVtab *p = (AtVtab*)atContextFindTable(pCtx, 0, zName);
  if( p==0 ){
    /* Preparing a statement that names the table connects it. */
    sqlite3 *db = sqlite3_context_db_handle(ctx);
    char *zSql = sqlite3_mprintf("SELECT 0 FROM \"%w\" WHERE 0", zName);
    sqlite3_stmt *pStmt = 0;
    int rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    sqlite3_finalize(pStmt);
    if( rc!=SQLITE_OK ){
      char *zErr = sqlite3_mprintf("%s: %s", zFunc, sqlite3_errmsg(db));
      sqlite3_result_error(ctx, zErr ? zErr : "out of memory", -1);
      sqlite3_free(zErr);
      return 0;
    }
    p = (AtVtab*)atContextFindTable(pCtx, 0, zName);
    if( p==0 ){
      char *zErr = sqlite3_mprintf("%s: '%s' is not an airtable table",
                                   zFunc, zName);
      sqlite3_result_error(ctx, zErr ? zErr : "out of memory", -1);
      sqlite3_free(zErr);
    }
  }
  return p;
}

/*
** airtable_sync(TABLE [, MODE]): bring the cache of airtable table TABLE
** up to date; MODE 'full' forces a full refresh, 'auto' (the default) lets
** the sync choose (sync.c). Returns what it did as JSON text:
**   {"table":"tasks","mode":"incremental","added":1,"changed":2,
**    "deleted":0,"rows":120,"requests":4,"sync":7}
** (with "reason" when the sync was full). A failed sync leaves the cache as
** it was.
*/
static void syncFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zName = (const char*)sqlite3_value_text(argv[0]);
  const char *zMode = argc>1 ? (const char*)sqlite3_value_text(argv[1]) : "auto";
  AtSyncResult res;
  char *zErr = 0, *zJson;
  AtVtab *p;
  int rc, bFull;
  if( zName==0 || zMode==0 ){
    sqlite3_result_error(ctx, "airtable_sync: the arguments must not be NULL", -1);
    return;
  }
  bFull = sqlite3_stricmp(zMode, "full")==0;
  if( !bFull && sqlite3_stricmp(zMode, "auto")!=0 ){
    sqlite3_result_error(ctx, "airtable_sync: mode must be 'auto' or 'full'", -1);
    return;
  }
  p = findTable(ctx, zName, "airtable_sync");
  if( p==0 ) return;
  if( p->opt.eCache==AT_CACHE_OFF || p->opt.bNoNetwork ){
    zErr = sqlite3_mprintf(p->opt.eCache==AT_CACHE_OFF
        ? "airtable_sync: table '%s' has no cache: declare it with cache='on' "
          "or cache='offline'"
        : "airtable_sync: table '%s' cannot be synced: AIRTABLE_OFFLINE is "
          "set (no network)", zName);
    sqlite3_result_error(ctx, zErr ? zErr : "out of memory", -1);
    sqlite3_free(zErr);
    return;
  }
  if( p->nScan>0 ){
    zErr = sqlite3_mprintf("airtable_sync: table '%s' is being read by a "
        "statement in progress; sync it in a statement of its own", zName);
    sqlite3_result_error(ctx, zErr ? zErr : "out of memory", -1);
    sqlite3_free(zErr);
    return;
  }
  rc = vtabSync(p, bFull, &res, &zErr);
  if( rc!=SQLITE_OK ){
    if( rc==SQLITE_NOMEM ){
      sqlite3_result_error_nomem(ctx);
    }else{
      sqlite3_result_error(ctx, zErr ? zErr : "airtable: sync failed", -1);
      if( rc==SQLITE_INTERRUPT ) sqlite3_result_error_code(ctx, rc);
    }
    sqlite3_free(zErr);
    return;
  }
  zJson = atSyncResultJson(p->cache.zName, &res);
  if( zJson==0 ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_text(ctx, zJson, -1, sqlite3_free);
  sqlite3_result_subtype(ctx, 'J');
}

/*
** airtable_spark_schema(TABLE [, FORMAT [, NAMES]]): the Spark schema of the
** airtable table TABLE as a DDL string, the one an export writes beside the
** data (FORMAT 'csv', the default, or 'jsonl'; NAMES 'delta', the default,
** or 'exact'). Connects the table first if this connection has not yet.
*/
static void sparkSchemaFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zName = (const char*)sqlite3_value_text(argv[0]);
  const char *zFormat = argc>1 ? (const char*)sqlite3_value_text(argv[1]) : "csv";
  const char *zNames = argc>2 ? (const char*)sqlite3_value_text(argv[2]) : "delta";
  AtVtab *p;
  AtSparkSchema spark;
  char *zDdl;
  int bNested, bExact;

  if( zName==0 || zFormat==0 || zNames==0 ){
    sqlite3_result_error(ctx, "airtable_spark_schema: the arguments must not be NULL", -1);
    return;
  }
  bNested = sqlite3_stricmp(zFormat, "jsonl")==0;
  bExact = sqlite3_stricmp(zNames, "exact")==0;
  if( !bNested && sqlite3_stricmp(zFormat, "csv")!=0 ){
    sqlite3_result_error(ctx, "airtable_spark_schema: format must be 'csv' or 'jsonl'", -1);
    return;
  }
  if( !bExact && sqlite3_stricmp(zNames, "delta")!=0 ){
    sqlite3_result_error(ctx, "airtable_spark_schema: names must be 'delta' or 'exact'", -1);
    return;
  }
  p = findTable(ctx, zName, "airtable_spark_schema");
  if( p==0 ) return;
  if( atSparkSchemaBuild(p->pTableMeta, &p->schema, bNested, bExact, &spark) ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  zDdl = atSparkSchemaDdl(&spark);
  atSparkSchemaClear(&spark);
  if( zDdl==0 ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_text(ctx, zDdl, -1, sqlite3_free);
}

int atRegisterTable(sqlite3 *db, AtContext *pCtx){
  int rc, n;
  atContextRef(pCtx);
  rc = sqlite3_create_module_v2(db, "airtable", &airtableModule, pCtx,
                                atContextUnref);
  for(n=1; rc==SQLITE_OK && n<=3; n++){
    rc = sqlite3_create_function(db, "airtable_spark_schema", n,
                                 SQLITE_UTF8, pCtx, sparkSchemaFunc, 0, 0);
  }
  for(n=1; rc==SQLITE_OK && n<=2; n++){
    rc = sqlite3_create_function(db, "airtable_sync", n,
                                 SQLITE_UTF8|SQLITE_DIRECTONLY, pCtx, syncFunc, 0, 0);
  }
  return rc;
}
