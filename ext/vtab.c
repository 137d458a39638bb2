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
  AtHttp *pHttp;       /* connection (curl handle + token) for this table */
};

/* Times a scan may start over after Airtable expires its offset before any
** row has been returned (Airtable docs: restart from the first page). */
#define AT_MAX_RESTARTS 3

typedef struct AtCursor AtCursor;
struct AtCursor {
  sqlite3_vtab_cursor base;  /* base class: must be first */
  AtPage page;               /* the page being read */
  const cJSON **apCell;      /* per field: its value in the current record */
  sqlite3_int64 iRowid;      /* 1 for the first row of the scan, and so on */
  int nRestart;              /* restarts after an expired offset */
  int bEof;                  /* no more rows */
};

static int airtableDisconnect(sqlite3_vtab *pVtab){
  AtVtab *p = (AtVtab*)pVtab;
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
  pCur->apCell = sqlite3_malloc64(sizeof(cJSON*)*(p->schema.nField+1));
  if( pCur->apCell==0 ){
    sqlite3_free(pCur);
    return SQLITE_NOMEM;
  }
  pCur->bEof = 1;
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

/* Forget the scan: serves xFilter (before a new one) and xClose. */
static void cursorReset(AtCursor *pCur){
  atPageClear(&pCur->page);
  pCur->iRowid = 0;
  pCur->nRestart = 0;
  pCur->bEof = 1;
}

/* True if the last request failed because Airtable expired the offset
** (Airtable docs: 422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE). */
static int offsetExpired(AtVtab *p){
  return atHttpLastStatus(p->pHttp)==422
      && strcmp(atHttpLastErrorType(p->pHttp),
                "LIST_RECORDS_ITERATOR_NOT_AVAILABLE")==0;
}

static int airtableClose(sqlite3_vtab_cursor *cur){
  AtCursor *pCur = (AtCursor*)cur;
  cursorReset(pCur);
  sqlite3_free(pCur->apCell);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

/* Replace the cursor's page with the page at zOffset (NULL: the first). The
** old page is freed before the new one is parsed, so one page is held. */
static int fetchPage(AtCursor *pCur, const char *zOffset){
  AtVtab *p = (AtVtab*)pCur->base.pVtab;
  AtListQuery q;
  AtRequest req;
  const char *zBody;
  size_t nBody;
  int rc;

  memset(&q, 0, sizeof(q));
  q.zView = p->schema.zViewId;
  q.bFieldsById = 1;
  q.zOffset = zOffset;
  rc = atListRequest(p->zApiUrl, p->zBase, p->schema.zTableId, &q, AT_MAX_URL,
                     &req);
  atPageClear(&pCur->page);     /* zOffset may point into it: used above */
  if( rc!=SQLITE_OK ) return rc;
  rc = atHttpDo(p->pHttp, &req, &zBody, &nBody, &p->base.zErrMsg);
  if( rc==SQLITE_OK ){
    rc = atPageParse(zBody, nBody, "records", &pCur->page, &p->base.zErrMsg);
    if( rc==SQLITE_OK ) atHttpNoteRecords(p->pHttp, pCur->page.nRecord);
    if( rc==SQLITE_ERROR ){
      /* Say which table and request the malformed page came from. */
      char *zMsg;
      atPrefixError(&p->base.zErrMsg, "table '%s'", p->schema.zTableName);
      zMsg = sqlite3_mprintf("%s (%s %s)", p->base.zErrMsg, req.zMethod, req.zUrl);
      if( zMsg ){
        sqlite3_free(p->base.zErrMsg);
        p->base.zErrMsg = zMsg;
      }
    }
  }
  atRequestClear(&req);
  return rc;
}

/* Make the cursor point at a row: move past used-up pages, fetching the
** next while Airtable gives an offset; then index the record's fields. */
static int cursorSettle(AtCursor *pCur){
  AtVtab *p = (AtVtab*)pCur->base.pVtab;
  const cJSON *pFields, *pVal;
  int rc, nEmpty = 0;
  while( pCur->page.pRecord==0 ){
    if( pCur->page.zOffset==0 ){
      pCur->bEof = 1;
      return SQLITE_OK;
    }
    if( pCur->page.nRecord==0 && ++nEmpty>AT_MAX_EMPTY_PAGES ){
      atSetError(&p->base.zErrMsg, "table '%s': the server sent %d empty pages "
                 "in a row, each with an offset to another; giving up",
                 p->schema.zTableName, AT_MAX_EMPTY_PAGES);
      return SQLITE_ERROR;
    }
    rc = fetchPage(pCur, pCur->page.zOffset);
    if( rc==SQLITE_ERROR && offsetExpired(p) ){
      if( pCur->iRowid==0 && pCur->nRestart<AT_MAX_RESTARTS ){
        /* Nothing returned yet: start over, as Airtable advises. */
        pCur->nRestart++;
        sqlite3_free(p->base.zErrMsg);
        p->base.zErrMsg = 0;
        rc = fetchPage(pCur, 0);
      }else if( pCur->iRowid>0 ){
        atSetError(&p->base.zErrMsg, "table '%s': Airtable expired the "
            "listing's offset after %lld rows had been returned (HTTP 422 "
            "LIST_RECORDS_ITERATOR_NOT_AVAILABLE); starting over would repeat "
            "or miss rows, so the statement fails: run it again",
            p->schema.zTableName, pCur->iRowid);
      }
    }
    if( rc!=SQLITE_OK ) return rc;
  }
  pCur->bEof = 0;
  pCur->iRowid++;
  memset(pCur->apCell, 0, sizeof(cJSON*)*p->schema.nField);
  pFields = cJSON_GetObjectItemCaseSensitive(pCur->page.pRecord, "fields");
  cJSON_ArrayForEach(pVal, pFields){
    /* Fields are keyed by id (returnFieldsByFieldId). A field added since
    ** the table was connected has no column: reconnect to see it. */
    int iField = atSchemaFieldById(&p->schema, pVal->string);
    if( iField>=0 ) pCur->apCell[iField] = pVal;
  }
  return SQLITE_OK;
}

static int airtableFilter(sqlite3_vtab_cursor *cur, int idxNum,
                          const char *idxStr, int argc, sqlite3_value **argv){
  AtCursor *pCur = (AtCursor*)cur;
  int rc;
  (void)idxNum; (void)idxStr; (void)argc; (void)argv;
  cursorReset(pCur);
  rc = fetchPage(pCur, 0);
  if( rc!=SQLITE_OK ) return rc;
  return cursorSettle(pCur);
}

static int airtableNext(sqlite3_vtab_cursor *cur){
  AtCursor *pCur = (AtCursor*)cur;
  pCur->page.pRecord = pCur->page.pRecord->next;
  return cursorSettle(pCur);
}

static int airtableEof(sqlite3_vtab_cursor *cur){
  return ((AtCursor*)cur)->bEof;
}

static int airtableColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx,
                          int iCol){
  AtCursor *pCur = (AtCursor*)cur;
  AtVtab *p = (AtVtab*)cur->pVtab;
  const cJSON *pRec = pCur->page.pRecord;
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
  if( atCellFromJson(p->schema.aField[iCol].eKind, pCur->apCell[iCol], &cell) ){
    sqlite3_result_error_nomem(ctx);
    return SQLITE_NOMEM;
  }
  atCellResult(ctx, &cell);
  atCellClear(&cell);
  return SQLITE_OK;
}

static int airtableRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid){
  *pRowid = ((AtCursor*)cur)->iRowid;
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

int atRegisterTable(sqlite3 *db, AtContext *pCtx){
  atContextRef(pCtx);
  return sqlite3_create_module_v2(db, "airtable", &airtableModule, pCtx,
                                  atContextUnref);
}
