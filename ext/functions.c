/*
** functions.c: the SQL functions that act on an airtable table by name.
**
**   SELECT airtable_sync('tasks');                 -- bring its cache up to date
**   SELECT airtable_sync('tasks', 'full');         -- a full refresh
**   SELECT airtable_spark_schema('tasks', 'jsonl');-- its Spark schema as DDL
**   SELECT airtable_options();                     -- every option, as JSON
**
** The first two connect the table first if no statement of this
** connection has.
*/
#include <string.h>
#include "vtab.h"
#include "options.h"
#include "spark.h"

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
  if( p->cs.nScan>0 ){
    zErr = sqlite3_mprintf("airtable_sync: table '%s' is being read by a "
        "statement in progress; sync it in a statement of its own", zName);
    sqlite3_result_error(ctx, zErr ? zErr : "out of memory", -1);
    sqlite3_free(zErr);
    return;
  }
  rc = atVtabSync(p, bFull, &res, &zErr);
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

/*
** airtable_options(): every option of the airtable table and of the export
** as JSON text (options.c's table): [{"name": "rate_limit", "kind":
** "integer", "table": true, "export": true, "min": 0, "max": 5, "default":
** 5, "help": "..."}, ...]. The Python package reads the option names here.
*/
static void optionsFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  char *zJson = atOptionsJson();
  (void)argc;
  (void)argv;
  if( zJson==0 ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_text(ctx, zJson, -1, sqlite3_free);
  sqlite3_result_subtype(ctx, 'J');
}

/*
** airtable_allow(OPTION, VALUE): this connection's user confirms that an
** airtable table declared with OPTION=VALUE (api_url, token_env or
** token_file) may read its token there or send it there, as the
** environment confirms it with AIRTABLE_API_URL, AIRTABLE_TOKEN_ENV and
** AIRTABLE_TOKEN_FILE. A declaration read from a database file is not
** enough (vtab.c, trustCheck). Direct-only: a view or trigger of the file
** cannot call it. Returns 1.
*/
static void allowFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  AtContext *pCtx = (AtContext*)sqlite3_user_data(ctx);
  const char *zOpt = (const char*)sqlite3_value_text(argv[0]);
  const char *zVal = (const char*)sqlite3_value_text(argv[1]);
  char *zErr = 0;
  (void)argc;
  if( zOpt==0 || zVal==0 || zVal[0]==0 ){
    sqlite3_result_error(ctx, "airtable_allow: give an option and its value, "
                         "neither NULL nor empty", -1);
    return;
  }
  if( strcmp(zOpt, "api_url")==0 ){
    if( atApiUrlCheck(zVal, "airtable_allow: api_url", &zErr) ){
      sqlite3_result_error(ctx, zErr ? zErr : "out of memory", -1);
      sqlite3_free(zErr);
      return;
    }
  }else if( strcmp(zOpt, "token_env")!=0 && strcmp(zOpt, "token_file")!=0
         && strcmp(zOpt, "ca_file")!=0 ){
    zErr = sqlite3_mprintf("airtable_allow: '%s' is not api_url, token_env, "
                           "token_file or ca_file", zOpt);
    sqlite3_result_error(ctx, zErr ? zErr : "out of memory", -1);
    sqlite3_free(zErr);
    return;
  }
  if( atContextAllow(pCtx, zOpt, zVal) ){
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_int(ctx, 1);
}

int atRegisterFunctions(sqlite3 *db, AtContext *pCtx){
  int rc, n;
  rc = sqlite3_create_function(db, "airtable_options", 0,
                               SQLITE_UTF8|SQLITE_DETERMINISTIC|SQLITE_INNOCUOUS,
                               0, optionsFunc, 0, 0);
  if( rc==SQLITE_OK ){
    rc = sqlite3_create_function(db, "airtable_allow", 2,
                                 SQLITE_UTF8|SQLITE_DIRECTONLY, pCtx, allowFunc, 0, 0);
  }
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
