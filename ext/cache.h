/*
** cache.h: the staging cache: shadow tables, packed values, and the cache
** read as a source by the export.
*/
#ifndef AT_CACHE_H
#define AT_CACHE_H

#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "buf.h"
#include "json.h"
#include "schema.h"
#include "value.h"

/* The shadow tables of airtable table zName in schema zDb (cache.c has
** their layout): NAME_rows, NAME_sync and NAME_deleted. */
typedef struct AtCache AtCache;
struct AtCache {
  sqlite3 *db;          /* the connection (not owned) */
  char *zDb;            /* schema: "main", "temp" or an attached name */
  char *zName;          /* the airtable table's name */
};

/* True if zSuffix ends the name of one of the shadow tables (xShadowName). */
int atCacheShadowName(const char *zSuffix);
int atCacheInit(AtCache *p, sqlite3 *db, const char *zDb, const char *zName);
void atCacheClear(AtCache *p);
/* Create (if missing), drop, or rename the shadow tables. */
int atCacheCreateTables(AtCache *p, char **pzErr);
int atCacheDropTables(AtCache *p, char **pzErr);
int atCacheRenameTables(AtCache *p, const char *zNew, char **pzErr);
/* Run SQL formatted from zFmt (sqlite3_mprintf), or prepare one statement.
** On error *pzErr says "cache of 'NAME': <SQLite's message>". */
int atCacheExec(AtCache *p, char **pzErr, const char *zFmt, ...);
int atCachePrepare(AtCache *p, sqlite3_stmt **ppStmt, char **pzErr,
                   const char *zFmt, ...);
/* Set *pzErr from the connection's last error (or "out of memory"); rc. */
int atCacheError(AtCache *p, int rc, char **pzErr);
/* Read NAME_sync's value of zKey as text (*pzValue NULL if absent), or set
** it to the text zText, or to the number r. */
int atCacheGet(AtCache *p, const char *zKey, char **pzValue, char **pzErr);
int atCacheSet(AtCache *p, const char *zKey, const char *zText, char **pzErr);
int atCacheSetNumber(AtCache *p, const char *zKey, double r, char **pzErr);
/* The table's metadata kept by the last sync (a cJSON object to
** cJSON_Delete), or *ppTable NULL if the table was never synced. */
int atCacheTableMeta(AtCache *p, cJSON **ppTable, char **pzErr);

/* Append a cell to the packed values of a row (cache.c has the format). */
void atCachePack(AtBuf *p, const AtCell *pCell);
/* Find where each of the first nVal packed values of a[0..n-1] starts:
** aOff[i]. SQLITE_CORRUPT if the blob is shorter or malformed. */
int atCacheUnpackOffsets(const unsigned char *a, int n, int nVal, int *aOff);
/* Return the packed value at a+iOff as the function's result. */
void atCacheUnpackResult(sqlite3_context *ctx, const unsigned char *a, int iOff);

/* The synced caches of base zBase in database file zPath, opened read-only
** (airtable_export from_cache=): their metadata as {"tables": [...]} in the
** order the tables were declared, and per table its name in the file, the
** view it caches (id, or NULL) and the number of syncs it has had. */
typedef struct AtCacheSource AtCacheSource;
struct AtCacheSource {
  sqlite3 *db;              /* the file, read-only */
  cJSON *pMeta;             /* {"tables": [...]} */
  int nTable;
  char **azName;            /* the airtable table's name in the file */
  char **azView;            /* the view id it caches, or NULL */
  sqlite3_int64 *aSync;     /* syncs so far */
};
int atCacheSourceOpen(AtCacheSource *p, const char *zPath, const char *zBase,
                      char **pzErr);
void atCacheSourceClose(AtCacheSource *p);

/* The cached records of table zName, as list-records would give them (so
** the export's writers take them unchanged): pRec and apCell[] as in
** AtListing. Only records changed by syncs after iSince (0: all). */
typedef struct AtCacheScan AtCacheScan;
struct AtCacheScan {
  sqlite3_stmt *pStmt;
  const char *zName;        /* the table's name in the file (not owned) */
  const AtSchema *pSchema;  /* fields (not owned) */
  AtJson json;              /* the current record's tree (json.c: strings
                            ** keep their NULs, as a listing's do) */
  cJSON *pRec;              /* the current record: json.pRoot, read-only */
  const cJSON **apCell;     /* per field: its value in it, or NULL */
  sqlite3_int64 nRow;       /* rows reached so far */
  int bEof;
};
int atCacheScanFirst(AtCacheScan *p, sqlite3 *db, const char *zName,
                     const AtSchema *pSchema, sqlite3_int64 iSince,
                     char **pzErr);
int atCacheScanNext(AtCacheScan *p, char **pzErr);
void atCacheScanClear(AtCacheScan *p);

#endif /* AT_CACHE_H */
