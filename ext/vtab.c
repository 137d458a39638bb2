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
#include <string.h>
#include "airtable_int.h"

typedef struct AtVtab AtVtab;
struct AtVtab {
  sqlite3_vtab base;   /* base class: must be first */
  char *zApiUrl;       /* API root, e.g. https://api.airtable.com */
  char *zBase;         /* base id */
  AtSchema schema;     /* table id, view id, fields and column names */
  cJSON *pTableMeta;   /* the table's metadata (fields with their options) */
  AtHttp *pHttp;       /* connection (curl handle + token) for this table */
  AtContext *pCtx;     /* where the table is listed by name (a reference) */
};

typedef struct AtCursor AtCursor;
struct AtCursor {
  sqlite3_vtab_cursor base;  /* base class: must be first */
  AtListing list;            /* the scan: one page at a time */
};

static int airtableDisconnect(sqlite3_vtab *pVtab){
  AtVtab *p = (AtVtab*)pVtab;
  atContextRemoveTable(p->pCtx, p);
  atContextUnref(p->pCtx);
  cJSON_Delete(p->pTableMeta);
  atHttpFree(p->pHttp);
  atSchemaClear(&p->schema);
  sqlite3_free(p->zApiUrl);
  sqlite3_free(p->zBase);
  sqlite3_free(p->base.zErrMsg);
  sqlite3_free(p);
  return SQLITE_OK;
}

/*
** xConnect and xCreate: argv[0] is the module name, argv[1] the database,
** argv[2] the table name, argv[3..] the options (see options.c).
*/
static int airtableConnect(sqlite3 *db, void *pAux, int argc,
                           const char *const *argv, sqlite3_vtab **ppVtab,
                           char **pzErr){
  AtContext *pCtx = (AtContext*)pAux;
  AtOptions opt;
  AtVtab *p = 0;
  char *zToken = 0, *zKey = 0, *zSql = 0;
  cJSON *pMeta = 0;
  const cJSON *pTable;
  int rc;

  *ppVtab = 0;
  rc = atOptionsParse(argc-3, argv+3, &opt, pzErr);
  if( rc!=SQLITE_OK ) goto done;
  rc = atTokenLoad(opt.zTokenEnv, opt.zTokenFile, &zToken, pzErr);
  if( rc!=SQLITE_OK ) goto done;

  rc = SQLITE_NOMEM;
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) goto done;
  memset(p, 0, sizeof(*p));
  p->zApiUrl = opt.zApiUrl;  opt.zApiUrl = 0;
  p->zBase = opt.zBase;      opt.zBase = 0;
  zKey = sqlite3_mprintf("%s %s", p->zApiUrl, p->zBase);
  if( zKey==0 ) goto done;
  p->pHttp = atHttpNew(zToken, zKey, &opt.cfg, db, pCtx);
  if( p->pHttp==0 ) goto done;

  rc = atMetaFetchTables(p->pHttp, p->zApiUrl, p->zBase, &pMeta, pzErr);
  if( rc!=SQLITE_OK ) goto done;
  pTable = atMetaFindTable(cJSON_GetObjectItemCaseSensitive(pMeta, "tables"),
                           opt.zTable);
  if( pTable==0 ){
    char *zList = atNameList(cJSON_GetObjectItemCaseSensitive(pMeta, "tables"));
    atSetError(pzErr, "option table: base %s has no table '%s' (tables: %s)",
               p->zBase, opt.zTable, zList ? zList : "?");
    sqlite3_free(zList);
    rc = SQLITE_ERROR;
    goto done;
  }
  rc = atSchemaBuild(pTable, opt.zView, &p->schema, pzErr);
  if( rc!=SQLITE_OK ) goto done;
  rc = SQLITE_NOMEM;
  p->pTableMeta = cJSON_Duplicate(pTable, 1);
  if( p->pTableMeta==0 ) goto done;

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
  p->pCtx = pCtx;
  atContextRef(pCtx);
  *ppVtab = &p->base;
  p = 0;

done:
  if( rc==SQLITE_NOMEM && *pzErr==0 ) atSetError(pzErr, "out of memory");
  if( p ) airtableDisconnect(&p->base);
  if( zToken ){
    memset(zToken, 0, strlen(zToken));
    sqlite3_free(zToken);
  }
  atOptionsClear(&opt);
  cJSON_Delete(pMeta);
  sqlite3_free(zKey);
  sqlite3_free(zSql);
  return rc;
}

/*
** No constraint is used yet: every plan is a full scan, paged lazily, so a
** LIMIT stops the paging early. (Pushdown of WHERE, ORDER BY, LIMIT and
** columns into the request comes with the pushdown issue.)
*/
static int airtableBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  (void)pVtab;
  pInfo->idxNum = 0;
  pInfo->estimatedCost = 1000000.0;
  pInfo->estimatedRows = 100000;
  return SQLITE_OK;
}

static int airtableOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  AtVtab *p = (AtVtab*)pVtab;
  AtCursor *pCur = sqlite3_malloc64(sizeof(*pCur));
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
  atListingClear(&pCur->list);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

static int airtableFilter(sqlite3_vtab_cursor *cur, int idxNum,
                          const char *idxStr, int argc, sqlite3_value **argv){
  AtCursor *pCur = (AtCursor*)cur;
  (void)idxNum; (void)idxStr; (void)argc; (void)argv;
  return atListingFirst(&pCur->list, &cur->pVtab->zErrMsg);
}

static int airtableNext(sqlite3_vtab_cursor *cur){
  AtCursor *pCur = (AtCursor*)cur;
  return atListingNext(&pCur->list, &cur->pVtab->zErrMsg);
}

static int airtableEof(sqlite3_vtab_cursor *cur){
  return ((AtCursor*)cur)->list.bEof;
}

static int airtableColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx,
                          int iCol){
  AtCursor *pCur = (AtCursor*)cur;
  AtVtab *p = (AtVtab*)cur->pVtab;
  const cJSON *pRec = pCur->list.page.pRecord;
  AtCell cell;
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

static int airtableRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid){
  *pRowid = ((AtCursor*)cur)->list.nRow;
  return SQLITE_OK;
}

/* The airtable module: read-only, not eponymous (it needs options). */
static sqlite3_module airtableModule = {
  0,                   /* iVersion */
  airtableConnect,     /* xCreate: no shadow tables yet, same as xConnect */
  airtableConnect,     /* xConnect */
  airtableBestIndex,   /* xBestIndex */
  airtableDisconnect,  /* xDisconnect */
  airtableDisconnect,  /* xDestroy */
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
  0,                   /* xRename */
  0,                   /* xSavepoint */
  0,                   /* xRelease */
  0,                   /* xRollbackTo */
  0                    /* xShadowName */
};

/*
** airtable_spark_schema(TABLE [, FORMAT [, NAMES]]): the Spark schema of the
** airtable table TABLE as a DDL string, the one an export writes beside the
** data (FORMAT 'csv', the default, or 'jsonl'; NAMES 'delta', the default,
** or 'exact'). Connects the table first if this connection has not yet.
*/
static void sparkSchemaFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  AtContext *pCtx = (AtContext*)sqlite3_user_data(ctx);
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
  p = (AtVtab*)atContextFindTable(pCtx, 0, zName);
  if( p==0 ){
    /* Preparing a statement that names the table connects it. */
    sqlite3 *db = sqlite3_context_db_handle(ctx);
    char *zSql = sqlite3_mprintf("SELECT 0 FROM \"%w\" WHERE 0", zName);
    sqlite3_stmt *pStmt = 0;
    int rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    sqlite3_finalize(pStmt);
    if( rc!=SQLITE_OK ){
      char *zErr = sqlite3_mprintf("airtable_spark_schema: %s", sqlite3_errmsg(db));
      sqlite3_result_error(ctx, zErr ? zErr : "out of memory", -1);
      sqlite3_free(zErr);
      return;
    }
    p = (AtVtab*)atContextFindTable(pCtx, 0, zName);
    if( p==0 ){
      char *zErr = sqlite3_mprintf("airtable_spark_schema: '%s' is not an "
                                   "airtable table", zName);
      sqlite3_result_error(ctx, zErr ? zErr : "out of memory", -1);
      sqlite3_free(zErr);
      return;
    }
  }
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
  return rc;
}
