/*
** vtab.h: the airtable virtual table's own struct, shared by the files
** that implement it: vtab.c (the module: connect, plan, scan the API),
** cachequery.c (queries answered from the staging cache, and its syncs)
** and functions.c (airtable_sync(), airtable_spark_schema()).
*/
#ifndef AT_VTAB_H
#define AT_VTAB_H

#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "cache.h"
#include "context.h"
#include "http.h"
#include "options.h"
#include "pushdown.h"
#include "schema.h"
#include "sync.h"

#define AT_SCAN_CACHE 4   /* prepared scans a cached table keeps */

/* What a table with a cache keeps between statements (cachequery.c). */
typedef struct AtCacheState AtCacheState;
struct AtCacheState {
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

typedef struct AtVtab AtVtab;
struct AtVtab {
  sqlite3_vtab base;   /* base class: must be first */
  char *zApiUrl;       /* API root, e.g. https://api.airtable.com */
  char *zBase;         /* base id */
  char *zName;         /* the table's name in SQL (for messages) */
  int bCreatedHere;    /* made by a CREATE VIRTUAL TABLE of this connection */
  AtSchema schema;     /* table id, view id, fields and column names */
  AtPushCol *aPush;    /* per column: how pushdown writes its constraints */
  cJSON *pTableMeta;   /* the table's metadata (fields with their options) */
  AtHttp *pHttp;       /* connection (curl handle + token) for this table;
                       ** with a cache, made when a sync first needs it */
  AtContext *pCtx;     /* where the table is listed by name (a reference) */
  sqlite3 *db;         /* the database connection */
  AtOptions opt;       /* the options (token, retry policy, cache, view) */
  AtCache cache;       /* the shadow tables, if opt.eCache!=AT_CACHE_OFF */
  AtCacheState cs;     /* with a cache: freshness, layout, prepared scans */
};

/* vtab.c: the connection to the API, made on first use for a table with a
** cache (an offline table, or one whose cache is fresh, needs no token). */
int atVtabHttp(AtVtab *p, char **pzErr);

/* cachequery.c: the airtable table's methods when it has a cache
** (p->opt.eCache!=AT_CACHE_OFF); vtab.c's methods hand over to them. */
int atCacheBestIndex(sqlite3_index_info *pInfo);
int atCacheOpen(AtVtab *p, sqlite3_vtab_cursor **ppCur);
int atCacheClose(sqlite3_vtab_cursor *cur);
int atCacheFilter(sqlite3_vtab_cursor *cur, const char *idxStr, int argc,
                  sqlite3_value **argv);
int atCacheNext(sqlite3_vtab_cursor *cur);
int atCacheEof(sqlite3_vtab_cursor *cur);
int atCacheColumn(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int iCol);
int atCacheRowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *pRowid);
void atCacheStateClear(AtCacheState *p);

/* cachequery.c: sync the table's cache (bFull: a full refresh); a failed
** sync's message says the cache is unchanged. */
int atVtabSync(AtVtab *p, int bFull, AtSyncResult *pRes, char **pzErr);

#endif /* AT_VTAB_H */
