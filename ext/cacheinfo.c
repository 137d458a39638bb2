/*
** cacheinfo.c: airtable_cache_info, one row per airtable table with a
** staging cache in any schema of the connection, read from the tables'
** NAME_sync shadow tables (cache.c), whether or not this connection has
** used the table yet:
**
**   SELECT name, rows, last_sync, last_mode, last_requests, total_requests
**     FROM airtable_cache_info;
**
** The scan is one UNION ALL query over the shadow tables, built at xFilter.
*/
#include <string.h>
#include "airtable_int.h"
#include "context.h"

#define INFO_COLUMNS "name TEXT, schema TEXT, base TEXT, table_id TEXT, " \
  "table_name TEXT, view_id TEXT, rows INTEGER, syncs INTEGER, " \
  "last_sync TEXT, last_mode TEXT, last_added INTEGER, last_changed INTEGER, " \
  "last_deleted INTEGER, last_requests INTEGER, total_requests INTEGER"

/* The NAME_sync keys behind the columns after "rows" ("syncs", ...). */
static const char *const azKey[] = {
  "syncs", "last_sync", "last_mode", "last_added", "last_changed",
  "last_deleted", "last_requests", "total_requests"
};

typedef struct InfoVtab InfoVtab;
struct InfoVtab {
  sqlite3_vtab base;         /* base class: must be first */
  sqlite3 *db;               /* the connection whose caches are listed */
};

typedef struct InfoCursor InfoCursor;
struct InfoCursor {
  sqlite3_vtab_cursor base;  /* base class: must be first */
  sqlite3_stmt *pStmt;       /* the UNION ALL query */
  int bEof;
  sqlite3_int64 iRow;
};

static int infoConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                       sqlite3_vtab **ppVtab, char **pzErr){
  InfoVtab *p;
  int rc;
  (void)pAux; (void)argc; (void)argv; (void)pzErr;
  rc = sqlite3_declare_vtab(db, "CREATE TABLE x(" INFO_COLUMNS ")");
  if( rc!=SQLITE_OK ) return rc;
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->db = db;
  *ppVtab = &p->base;
  return SQLITE_OK;
}

static int infoDisconnect(sqlite3_vtab *pVtab){
  sqlite3_free(pVtab);
  return SQLITE_OK;
}

static int infoBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *pInfo){
  (void)pVtab;
  pInfo->estimatedCost = 100.0;
  pInfo->estimatedRows = 10;
  return SQLITE_OK;
}

static int infoOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  InfoCursor *pCur = sqlite3_malloc64(sizeof(*pCur));
  (void)pVtab;
  if( pCur==0 ) return SQLITE_NOMEM;
  memset(pCur, 0, sizeof(*pCur));
  *ppCur = &pCur->base;
  return SQLITE_OK;
}

static int infoClose(sqlite3_vtab_cursor *cur){
  InfoCursor *pCur = (InfoCursor*)cur;
  sqlite3_finalize(pCur->pStmt);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

/* Append to pStr the SELECT giving cached table zName's row in schema zDb. */
static void appendTable(sqlite3_str *pStr, const char *zDb, const char *zName){
  int i;
  if( sqlite3_str_length(pStr)>0 ) sqlite3_str_appendall(pStr, " UNION ALL ");
  sqlite3_str_appendf(pStr, "SELECT %Q, %Q, "
      "(SELECT value FROM \"%w\".\"%w_sync\" WHERE key='base'), "
      "(SELECT json_extract(value, '$.id') FROM \"%w\".\"%w_sync\" WHERE key='table'), "
      "(SELECT json_extract(value, '$.name') FROM \"%w\".\"%w_sync\" WHERE key='table'), "
      "(SELECT value FROM \"%w\".\"%w_sync\" WHERE key='view'), "
      "(SELECT count(*) FROM \"%w\".\"%w_rows\")",
      zName, zDb, zDb, zName, zDb, zName, zDb, zName, zDb, zName, zDb, zName);
  for(i=0; i<(int)(sizeof(azKey)/sizeof(azKey[0])); i++){
    sqlite3_str_appendf(pStr, ", (SELECT value FROM \"%w\".\"%w_sync\" WHERE key=%Q)",
                        zDb, zName, azKey[i]);
  }
}

/* The cached airtable tables: declared USING airtable, with NAME_sync. */
static int buildQuery(sqlite3 *db, char **pzSql){
  sqlite3_stmt *pDbs = 0, *pTabs = 0;
  sqlite3_str *pStr = sqlite3_str_new(0);
  int rc = sqlite3_prepare_v2(db, "SELECT name FROM pragma_database_list", -1,
                              &pDbs, 0);
  while( rc==SQLITE_OK && sqlite3_step(pDbs)==SQLITE_ROW ){
    const char *zDb = (const char*)sqlite3_column_text(pDbs, 0);
    char *zSql = sqlite3_mprintf(
        "SELECT v.name FROM \"%w\".sqlite_schema AS v"
        " JOIN \"%w\".sqlite_schema AS s ON s.name = v.name || '_sync'"
        " WHERE v.type='table' AND v.sql LIKE 'CREATE VIRTUAL TABLE %%USING%%airtable%%'"
        " AND s.type='table' ORDER BY v.name", zDb, zDb);
    if( zSql==0 ){
      rc = SQLITE_NOMEM;
      break;
    }
    rc = sqlite3_prepare_v2(db, zSql, -1, &pTabs, 0);
    sqlite3_free(zSql);
    while( rc==SQLITE_OK && sqlite3_step(pTabs)==SQLITE_ROW ){
      appendTable(pStr, zDb, (const char*)sqlite3_column_text(pTabs, 0));
    }
    sqlite3_finalize(pTabs);
    pTabs = 0;
  }
  sqlite3_finalize(pDbs);
  if( rc==SQLITE_OK && sqlite3_str_length(pStr)==0 ){
    int i;
    sqlite3_str_appendall(pStr, "SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL");
    for(i=0; i<(int)(sizeof(azKey)/sizeof(azKey[0])); i++){
      sqlite3_str_appendall(pStr, ", NULL");
    }
    sqlite3_str_appendall(pStr, " WHERE 0");
  }
  *pzSql = sqlite3_str_finish(pStr);
  if( rc==SQLITE_OK && *pzSql==0 ) rc = SQLITE_NOMEM;
  return rc;
}

static int infoNext(sqlite3_vtab_cursor *cur){
  InfoCursor *pCur = (InfoCursor*)cur;
  int rc = sqlite3_step(pCur->pStmt);
  pCur->iRow++;
  if( rc==SQLITE_ROW ) return SQLITE_OK;
  pCur->bEof = 1;
  return rc==SQLITE_DONE ? SQLITE_OK : rc;
}

static int infoFilter(sqlite3_vtab_cursor *cur, int idxNum, const char *idxStr,
                      int argc, sqlite3_value **argv){
  InfoCursor *pCur = (InfoCursor*)cur;
  InfoVtab *p = (InfoVtab*)cur->pVtab;
  char *zSql = 0;
  int rc;
  (void)idxNum; (void)idxStr; (void)argc; (void)argv;
  sqlite3_finalize(pCur->pStmt);
  pCur->pStmt = 0;
  pCur->bEof = 1;
  pCur->iRow = 0;
  rc = buildQuery(p->db, &zSql);
  if( rc==SQLITE_OK ) rc = sqlite3_prepare_v2(p->db, zSql, -1, &pCur->pStmt, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ){
    sqlite3_free(p->base.zErrMsg);
    p->base.zErrMsg = sqlite3_mprintf("airtable_cache_info: %s",
                        rc==SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(p->db));
    return rc;
  }
  pCur->bEof = 0;
  return infoNext(cur);
}

static int infoEof(sqlite3_vtab_cursor *cur){
  return ((InfoCursor*)cur)->bEof;
}

static int infoColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int i){
  sqlite3_result_value(ctx, sqlite3_column_value(((InfoCursor*)cur)->pStmt, i));
  return SQLITE_OK;
}

static int infoRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid){
  *pRowid = ((InfoCursor*)cur)->iRow;
  return SQLITE_OK;
}

/* Eponymous only: "airtable_cache_info" exists in every schema, needs no
** CREATE VIRTUAL TABLE, and cannot be created under another name. */
static sqlite3_module infoModule = {
  0,                 /* iVersion */
  0,                 /* xCreate: eponymous-only */
  infoConnect,       /* xConnect */
  infoBestIndex,     /* xBestIndex */
  infoDisconnect,    /* xDisconnect */
  0,                 /* xDestroy */
  infoOpen,          /* xOpen */
  infoClose,         /* xClose */
  infoFilter,        /* xFilter */
  infoNext,          /* xNext */
  infoEof,           /* xEof */
  infoColumn,        /* xColumn */
  infoRowid,         /* xRowid */
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};

int atRegisterCacheInfo(sqlite3 *db, AtContext *pCtx){
  (void)pCtx;
  return sqlite3_create_module(db, "airtable_cache_info", &infoModule, 0);
}
