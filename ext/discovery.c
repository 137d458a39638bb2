/*
** discovery.c: eponymous tables for discovering what a token can read.
**
**   SELECT * FROM airtable_bases;
**   SELECT * FROM airtable_tables('appPackagingOps01');
**   SELECT * FROM airtable_fields('appPackagingOps01', 'Packaging Tasks');
**   SELECT * FROM airtable_fields('appPackagingOps01');   -- every table
**
** They read the API root from $AIRTABLE_API_URL (default
** https://api.airtable.com) and the token from $AIRTABLE_TOKEN, when a query
** runs. airtable_fields shows the column name, type and kind each field gets
** in an airtable table, computed by the same code (schema.c).
*/
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "context.h"
#include "http.h"
#include "options.h"
#include "page.h"
#include "request.h"
#include "schema.h"
#include "util.h"
#include "value.h"

#define META_BASES   0
#define META_TABLES  1
#define META_FIELDS  2

static const char *const azMetaName[] = {
  "airtable_bases", "airtable_tables", "airtable_fields"
};

/* Declared schemas. Hidden columns come last: they are the arguments. */
static const char *const azMetaSchema[] = {
  "CREATE TABLE x(id TEXT, name TEXT, permission_level TEXT)",
  "CREATE TABLE x(id TEXT, name TEXT, primary_field_id TEXT, description TEXT,"
  " field_count INTEGER, views TEXT, base HIDDEN)",
  "CREATE TABLE x(table_id TEXT, table_name TEXT, position INTEGER, id TEXT,"
  " name TEXT, type TEXT, column_name TEXT, column_type TEXT, kind TEXT,"
  " options TEXT, description TEXT, base HIDDEN, \"table\" HIDDEN)"
};

/* Column numbers. */
#define BASES_ID 0
#define BASES_NAME 1
#define BASES_PERMISSION 2
#define TABLES_ID 0
#define TABLES_NAME 1
#define TABLES_PRIMARY 2
#define TABLES_DESCRIPTION 3
#define TABLES_FIELD_COUNT 4
#define TABLES_VIEWS 5
#define TABLES_BASE 6
#define FIELDS_TABLE_ID 0
#define FIELDS_TABLE_NAME 1
#define FIELDS_POSITION 2
#define FIELDS_ID 3
#define FIELDS_NAME 4
#define FIELDS_TYPE 5
#define FIELDS_COLUMN_NAME 6
#define FIELDS_COLUMN_TYPE 7
#define FIELDS_KIND 8
#define FIELDS_OPTIONS 9
#define FIELDS_DESCRIPTION 10
#define FIELDS_BASE 11
#define FIELDS_TABLE 12

typedef struct MetaVtab MetaVtab;
struct MetaVtab {
  sqlite3_vtab base;   /* base class: must be first */
  int eWhich;          /* META_BASES, META_TABLES or META_FIELDS */
  sqlite3 *db;         /* the connection (for interrupts) */
  AtContext *pCtx;     /* request log */
};

/* A module's client data: which table, and the connection's context. */
typedef struct MetaAux MetaAux;
struct MetaAux {
  int eWhich;          /* META_BASES, META_TABLES or META_FIELDS */
  AtContext *pCtx;     /* a reference, dropped by metaAuxFree */
};

static void metaAuxFree(void *pArg){
  MetaAux *pAux = (MetaAux*)pArg;
  atContextUnref(pAux->pCtx);
  sqlite3_free(pAux);
}

typedef struct MetaCursor MetaCursor;
struct MetaCursor {
  sqlite3_vtab_cursor base;  /* base class: must be first */
  AtHttp *pHttp;             /* connection for this scan */
  char *zApiUrl;             /* API root for this scan */
  char *zBase;               /* base argument, or NULL */
  char *zTable;              /* table argument (airtable_fields), or NULL */
  AtPage page;               /* bases or tables; pRecord is the current one */
  AtSchema schema;           /* airtable_fields: the current table's schema */
  const cJSON *pField;       /* airtable_fields: the current field's JSON */
  int iField;                /* airtable_fields: its index in schema */
  sqlite3_int64 iRowid;      /* row number in this scan */
  int bEof;                  /* no more rows */
};

static int metaConnect(sqlite3 *db, void *pAux, int argc,
                       const char *const *argv, sqlite3_vtab **ppVtab,
                       char **pzErr){
  int eWhich = ((MetaAux*)pAux)->eWhich;
  MetaVtab *p;
  int rc;
  (void)argc; (void)argv;
  rc = sqlite3_declare_vtab(db, azMetaSchema[eWhich]);
  if( rc!=SQLITE_OK ) return rc;
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->eWhich = eWhich;
  p->db = db;
  p->pCtx = ((MetaAux*)pAux)->pCtx;
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  *ppVtab = &p->base;
  (void)pzErr;
  return SQLITE_OK;
}

static int metaDisconnect(sqlite3_vtab *pVtab){
  sqlite3_free(pVtab->zErrMsg);
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

/*
** idxNum bit 1: base = ? is argv[0]; bit 2: table = ? follows it.
** A plan without base is allowed but costly; xFilter then explains that the
** base is required (a clearer message than "no query solution").
*/
static int metaBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  MetaVtab *p = (MetaVtab*)pVtab;
  int iBaseCol = p->eWhich==META_TABLES ? TABLES_BASE : FIELDS_BASE;
  int iBase = -1, iTable = -1, i, nArg = 0;
  if( p->eWhich==META_BASES ){
    pInfo->estimatedCost = 1000.0;
    return SQLITE_OK;
  }
  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *c = &pInfo->aConstraint[i];
    if( !c->usable || c->op!=SQLITE_INDEX_CONSTRAINT_EQ ) continue;
    if( c->iColumn==iBaseCol ) iBase = i;
    if( p->eWhich==META_FIELDS && c->iColumn==FIELDS_TABLE ) iTable = i;
  }
  pInfo->idxNum = 0;
  if( iBase>=0 ){
    pInfo->aConstraintUsage[iBase].argvIndex = ++nArg;
    pInfo->aConstraintUsage[iBase].omit = 1;
    pInfo->idxNum |= 1;
  }
  if( iTable>=0 ){
    pInfo->aConstraintUsage[iTable].argvIndex = ++nArg;
    pInfo->aConstraintUsage[iTable].omit = 1;
    pInfo->idxNum |= 2;
  }
  pInfo->estimatedCost = iBase>=0 ? (iTable>=0 ? 10.0 : 100.0) : 1e12;
  return SQLITE_OK;
}

static int metaOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  MetaCursor *pCur = sqlite3_malloc64(sizeof(*pCur));
  (void)pVtab;
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  pCur->bEof = 1;
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

static void metaReset(MetaCursor *pCur){
  atHttpFree(pCur->pHttp);
  atPageClear(&pCur->page);
  atSchemaClear(&pCur->schema);
  sqlite3_free(pCur->zApiUrl);
  sqlite3_free(pCur->zBase);
  sqlite3_free(pCur->zTable);
  pCur->pHttp = 0;
  pCur->zApiUrl = pCur->zBase = pCur->zTable = 0;
  pCur->pField = 0;
  pCur->iField = 0;
  pCur->iRowid = 0;
  pCur->bEof = 1;
}

static int metaClose(sqlite3_vtab_cursor *cur){
  metaReset((MetaCursor*)cur);
  sqlite3_free(cur);
  return SQLITE_OK;
}

/* Fetch a page of bases (zOffset: the next page) or the tables of the base. */
static int metaFetch(MetaCursor *pCur, const char *zOffset){
  MetaVtab *p = (MetaVtab*)pCur->base.pVtab;
  AtRequest req;
  const char *zBody = 0;
  size_t nBody = 0;
  int rc;
  memset(&req, 0, sizeof(req));
  req.zMethod = "GET";
  if( p->eWhich==META_BASES ){
    const char *azSeg[2] = { "meta", "bases" };
    char *zPath = atUrlPath(pCur->zApiUrl, 2, azSeg);
    if( zPath && zOffset ){
      char *zEsc = curl_easy_escape(0, zOffset, (int)strlen(zOffset));
      char *zUrl = zEsc ? sqlite3_mprintf("%s?offset=%s", zPath, zEsc) : 0;
      curl_free(zEsc);
      sqlite3_free(zPath);
      zPath = zUrl;
    }
    req.zUrl = zPath;
  }else{
    const char *azSeg[4] = { "meta", "bases", pCur->zBase, "tables" };
    req.zUrl = atUrlPath(pCur->zApiUrl, 4, azSeg);
  }
  atPageClear(&pCur->page);   /* zOffset may point into it: used above */
  if( req.zUrl==0 ) return SQLITE_NOMEM;
  rc = atHttpDo(pCur->pHttp, &req, &zBody, &nBody, &p->base.zErrMsg);
  if( rc==SQLITE_OK ){
    rc = atPageParse(zBody, nBody, p->eWhich==META_BASES ? "bases" : "tables",
                     &pCur->page, &p->base.zErrMsg);
  }
  if( rc==SQLITE_OK && p->eWhich!=META_BASES && pCur->page.zOffset ){
    /* Airtable docs: the tables of a base come in one response, unpaged.
    ** An offset here is not followed (we would only ask for the same). */
    sqlite3_free(pCur->page.zOffset);
    pCur->page.zOffset = 0;
  }
  atRequestClear(&req);
  return rc;
}

/* Move past used-up pages of bases, fetching while the server gives an
** offset (a page may be empty and still have one); then set bEof. */
static int metaSettle(MetaCursor *pCur){
  int nEmpty = 0;
  while( pCur->page.pRecord==0 && pCur->page.zOffset ){
    int rc;
    if( pCur->page.nRecord==0 && ++nEmpty>AT_MAX_EMPTY_PAGES ){
      atSetError(&pCur->base.pVtab->zErrMsg, "airtable_bases: the server sent "
                 "%d empty pages in a row, each with an offset; giving up",
                 AT_MAX_EMPTY_PAGES);
      return SQLITE_ERROR;
    }
    rc = metaFetch(pCur, pCur->page.zOffset);
    if( rc!=SQLITE_OK ) return rc;
  }
  pCur->bEof = pCur->page.pRecord==0;
  return SQLITE_OK;
}

/* airtable_fields: step to the next field, moving through the tables (only
** the one asked for, if any) and building each table's schema. */
static int fieldsSettle(MetaCursor *pCur, int bAdvance){
  MetaVtab *p = (MetaVtab*)pCur->base.pVtab;
  if( bAdvance ){
    pCur->iField++;
    pCur->pField = pCur->pField ? pCur->pField->next : 0;
  }
  while( pCur->iField>=pCur->schema.nField ){
    const cJSON *pTable;
    int rc;
    if( pCur->schema.zTableId ){   /* done with this table: next one */
      atSchemaClear(&pCur->schema);
      pCur->page.pRecord = pCur->page.pRecord->next;
      if( pCur->zTable ) pCur->page.pRecord = 0;
    }
    pTable = pCur->page.pRecord;
    if( pTable==0 ){
      pCur->bEof = 1;
      return SQLITE_OK;
    }
    rc = atSchemaBuild(pTable, 0, &pCur->schema, &p->base.zErrMsg);
    if( rc!=SQLITE_OK ) return rc;
    pCur->iField = 0;
    pCur->pField = cJSON_GetObjectItemCaseSensitive(pTable, "fields")->child;
  }
  pCur->bEof = 0;
  return SQLITE_OK;
}

static int metaFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr,
                      int argc, sqlite3_value **argv){
  MetaCursor *pCur = (MetaCursor*)cur;
  MetaVtab *p = (MetaVtab*)cur->pVtab;
  const char *zEnv = getenv("AIRTABLE_API_URL");
  char *zToken = 0, *zKey = 0;
  AtHttpConfig cfg;
  int rc, iArg = 0;
  (void)idxStr; (void)argc;

  metaReset(pCur);
  if( idxNum & 1 ){
    const char *z = (const char*)sqlite3_value_text(argv[iArg++]);
    if( !atIsId(z, "app") ){
      atSetError(&p->base.zErrMsg, "%s: base '%s' is not an Airtable base id "
                 "('app' followed by 14 letters or digits)",
                 azMetaName[p->eWhich], z ? z : "NULL");
      return SQLITE_ERROR;
    }
    pCur->zBase = atStrdup(z);
    if( pCur->zBase==0 ) return SQLITE_NOMEM;
  }else if( p->eWhich!=META_BASES ){
    atSetError(&p->base.zErrMsg, "%s: the base is required, as in SELECT * "
               "FROM %s('app...'%s)", azMetaName[p->eWhich],
               azMetaName[p->eWhich], p->eWhich==META_FIELDS ? ", 'Table'" : "");
    return SQLITE_ERROR;
  }
  if( idxNum & 2 ){
    const char *z = (const char*)sqlite3_value_text(argv[iArg++]);
    pCur->zTable = atStrdup(z ? z : "");
    if( pCur->zTable==0 ) return SQLITE_NOMEM;
  }
  pCur->zApiUrl = atStrdup(zEnv && zEnv[0] ? zEnv : AT_DEFAULT_API_URL);
  if( pCur->zApiUrl==0 ) return SQLITE_NOMEM;
  rc = atApiUrlCheck(pCur->zApiUrl, "environment variable AIRTABLE_API_URL",
                     &p->base.zErrMsg);
  if( rc!=SQLITE_OK ) return rc;
  rc = atTokenLoad(0, 0, &zToken, &p->base.zErrMsg);
  if( rc!=SQLITE_OK ) return rc;
  if( pCur->zBase ){
    zKey = sqlite3_mprintf("%s %s", pCur->zApiUrl, pCur->zBase);
  }
  atHttpConfigDefault(&cfg);
  pCur->pHttp = atHttpNew(zToken, zKey, &cfg, p->db, p->pCtx);
  if( pCur->pHttp ){
    char *zWhere = atTokenWhere(0, 0);
    atHttpSetTokenWhere(pCur->pHttp, zWhere);
    sqlite3_free(zWhere);
  }
  memset(zToken, 0, strlen(zToken));
  sqlite3_free(zToken);
  sqlite3_free(zKey);
  if( pCur->pHttp==0 ) return SQLITE_NOMEM;

  rc = metaFetch(pCur, 0);
  if( rc!=SQLITE_OK ) return rc;
  if( p->eWhich==META_FIELDS ){
    if( pCur->zTable ){
      const cJSON *pTables = cJSON_GetObjectItemCaseSensitive(pCur->page.pRoot,
                                                              "tables");
      pCur->page.pRecord = (cJSON*)atMetaFindTable(pTables, pCur->zTable);
      if( pCur->page.pRecord==0 ){
        atSetError(&p->base.zErrMsg, "airtable_fields: base %s has no table "
                   "'%s'", pCur->zBase, pCur->zTable);
        return SQLITE_ERROR;
      }
    }
    return fieldsSettle(pCur, 0);
  }
  return metaSettle(pCur);
}

static int metaNext(sqlite3_vtab_cursor *cur){
  MetaCursor *pCur = (MetaCursor*)cur;
  MetaVtab *p = (MetaVtab*)cur->pVtab;
  pCur->iRowid++;
  if( p->eWhich==META_FIELDS ) return fieldsSettle(pCur, 1);
  pCur->page.pRecord = pCur->page.pRecord->next;
  return metaSettle(pCur);
}

static int metaEof(sqlite3_vtab_cursor *cur){
  return ((MetaCursor*)cur)->bEof;
}

/* Result: the string member zKey of pObj, or NULL. */
static void resultString(sqlite3_context *ctx, const cJSON *pObj,
                         const char *zKey){
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(pObj, zKey);
  if( cJSON_IsString(p) ){
    sqlite3_result_text(ctx, p->valuestring, -1, SQLITE_TRANSIENT);
  }
}

/* Result: member zKey of pObj as compact JSON, or NULL when absent. */
static int resultJson(sqlite3_context *ctx, const cJSON *pObj,
                      const char *zKey){
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(pObj, zKey);
  char *z;
  if( p==0 ) return SQLITE_OK;
  z = cJSON_PrintUnformatted(p);
  if( z==0 ){
    sqlite3_result_error_nomem(ctx);
    return SQLITE_NOMEM;
  }
  sqlite3_result_text(ctx, z, -1, SQLITE_TRANSIENT);
  cJSON_free(z);
  return SQLITE_OK;
}

static int metaColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i){
  MetaCursor *pCur = (MetaCursor*)cur;
  MetaVtab *p = (MetaVtab*)cur->pVtab;
  const cJSON *pRow = pCur->page.pRecord;
  if( p->eWhich==META_BASES ){
    switch( i ){
      case BASES_ID:         resultString(ctx, pRow, "id"); break;
      case BASES_NAME:       resultString(ctx, pRow, "name"); break;
      case BASES_PERMISSION: resultString(ctx, pRow, "permissionLevel"); break;
    }
  }else if( p->eWhich==META_TABLES ){
    switch( i ){
      case TABLES_ID:          resultString(ctx, pRow, "id"); break;
      case TABLES_NAME:        resultString(ctx, pRow, "name"); break;
      case TABLES_PRIMARY:     resultString(ctx, pRow, "primaryFieldId"); break;
      case TABLES_DESCRIPTION: resultString(ctx, pRow, "description"); break;
      case TABLES_FIELD_COUNT:
        sqlite3_result_int(ctx, cJSON_GetArraySize(
            cJSON_GetObjectItemCaseSensitive(pRow, "fields")));
        break;
      case TABLES_VIEWS:       return resultJson(ctx, pRow, "views");
      case TABLES_BASE:
        sqlite3_result_text(ctx, pCur->zBase, -1, SQLITE_TRANSIENT);
        break;
    }
  }else{
    const AtField *pF = &pCur->schema.aField[pCur->iField];
    switch( i ){
      case FIELDS_TABLE_ID:
        sqlite3_result_text(ctx, pCur->schema.zTableId, -1, SQLITE_TRANSIENT);
        break;
      case FIELDS_TABLE_NAME:
        sqlite3_result_text(ctx, pCur->schema.zTableName, -1, SQLITE_TRANSIENT);
        break;
      case FIELDS_POSITION:    sqlite3_result_int(ctx, pCur->iField); break;
      case FIELDS_ID:
        sqlite3_result_text(ctx, pF->zId, -1, SQLITE_TRANSIENT);
        break;
      case FIELDS_NAME:
        sqlite3_result_text(ctx, pF->zName, -1, SQLITE_TRANSIENT);
        break;
      case FIELDS_TYPE:
        sqlite3_result_text(ctx, pF->zType, -1, SQLITE_TRANSIENT);
        break;
      case FIELDS_COLUMN_NAME:
        sqlite3_result_text(ctx, pF->zColumn, -1, SQLITE_TRANSIENT);
        break;
      case FIELDS_COLUMN_TYPE:
        sqlite3_result_text(ctx, atKindDeclType(pF->eKind), -1, SQLITE_STATIC);
        break;
      case FIELDS_KIND:
        sqlite3_result_text(ctx, atKindName(pF->eKind), -1, SQLITE_STATIC);
        break;
      case FIELDS_OPTIONS:     return resultJson(ctx, pCur->pField, "options");
      case FIELDS_DESCRIPTION: resultString(ctx, pCur->pField, "description"); break;
      case FIELDS_BASE:
        sqlite3_result_text(ctx, pCur->zBase, -1, SQLITE_TRANSIENT);
        break;
      case FIELDS_TABLE:
        sqlite3_result_text(ctx, pCur->zTable ? pCur->zTable
                            : pCur->schema.zTableName, -1, SQLITE_TRANSIENT);
        break;
    }
  }
  return SQLITE_OK;
}

static int metaRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid){
  *pRowid = ((MetaCursor*)cur)->iRowid;
  return SQLITE_OK;
}

/* Eponymous-only modules (xCreate is NULL): they exist in every schema as
** soon as the extension is loaded and cannot be created with arguments. */
static sqlite3_module metaModule = {
  0,                /* iVersion */
  0,                /* xCreate: eponymous only */
  metaConnect,      /* xConnect */
  metaBestIndex,    /* xBestIndex */
  metaDisconnect,   /* xDisconnect */
  0,                /* xDestroy */
  metaOpen,         /* xOpen */
  metaClose,        /* xClose */
  metaFilter,       /* xFilter */
  metaNext,         /* xNext */
  metaEof,          /* xEof */
  metaColumn,       /* xColumn */
  metaRowid,        /* xRowid */
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};

int atRegisterDiscovery(sqlite3 *db, AtContext *pCtx){
  int i, rc = SQLITE_OK;
  for(i=0; rc==SQLITE_OK && i<3; i++){
    MetaAux *pAux = sqlite3_malloc64(sizeof(*pAux));
    if( pAux==0 ) return SQLITE_NOMEM;
    pAux->eWhich = i;
    pAux->pCtx = pCtx;
    atContextRef(pCtx);
    /* On failure create_module_v2 calls the destructor itself. */
    rc = sqlite3_create_module_v2(db, azMetaName[i], &metaModule, pAux,
                                  metaAuxFree);
  }
  return rc;
}
