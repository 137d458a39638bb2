/*
** airtable.c: the extension's entry point. Loading the extension registers
** the "airtable" module, the discovery tables airtable_bases,
** airtable_tables and airtable_fields, airtable_requests (the log of the
** connection's requests), airtable_cache_info (the staging caches), and
** the functions airtable_sync(), airtable_export(), airtable_spark_schema()
** and airtable_options().
**
**   sqlite3 shell:  .load ./build/airtable
**   Python:         conn.load_extension("./build/airtable")
*/
#include <curl/curl.h>
#include "airtable_int.h"
#include "context.h"
#include "context.h"

#ifndef SQLITE_CORE
SQLITE_EXTENSION_INIT1
#endif

#ifndef AIRTABLE_EXPORT
# define AIRTABLE_EXPORT
#endif

AIRTABLE_EXPORT int sqlite3_airtable_init(sqlite3 *db, char **pzErrMsg,
                          const sqlite3_api_routines *pApi){
  AtContext *pCtx;
  int rc;
#ifndef SQLITE_CORE
  SQLITE_EXTENSION_INIT2(pApi);
#else
  (void)pApi;
#endif
  /* curl_global_init is reference counted and, since libcurl 7.84, thread
  ** safe; it is never undone, as the library may outlive any connection. */
  if( curl_global_init(CURL_GLOBAL_DEFAULT)!=CURLE_OK ){
    *pzErrMsg = sqlite3_mprintf("airtable: libcurl failed to initialise");
    return SQLITE_ERROR;
  }
  pCtx = atContextNew();
  if( pCtx==0 ) return SQLITE_NOMEM;
  rc = atRegisterTable(db, pCtx);
  if( rc==SQLITE_OK ) rc = atRegisterFunctions(db, pCtx);
  if( rc==SQLITE_OK ) rc = atRegisterDiscovery(db, pCtx);
  if( rc==SQLITE_OK ) rc = atRegisterRequestLog(db, pCtx);
  if( rc==SQLITE_OK ) rc = atRegisterExport(db, pCtx);
  if( rc==SQLITE_OK ) rc = atRegisterCacheInfo(db, pCtx);
  atContextUnref(pCtx);   /* the modules hold their own references */
  return rc;
}
