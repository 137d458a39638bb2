/*
** sync.h: full and incremental syncs of a staging cache.
*/
#ifndef AT_SYNC_H
#define AT_SYNC_H

#include "airtable_int.h"
#include "cache.h"
#include "http.h"

/* What a sync is asked to do. */
typedef struct AtSyncArgs AtSyncArgs;
struct AtSyncArgs {
  AtCache *pCache;          /* the shadow tables */
  AtHttp *pHttp;            /* the connection to the API (with the token) */
  const char *zApiUrl;      /* API root */
  const char *zBase;        /* base id */
  const char *zTable;       /* table= as declared: name or id */
  const char *zView;        /* view= as declared, or NULL */
  double rOverlap;          /* sync_overlap: seconds to look back */
  int bFull;                /* 1: a full refresh even if incremental would do */
};

/* What a sync did (docs/staging-cache.md). */
typedef struct AtSyncResult AtSyncResult;
struct AtSyncResult {
  const char *zMode;        /* "full" or "incremental" (static) */
  const char *zWhy;         /* why full: "first sync", "asked", ... (static) */
  sqlite3_int64 nAdded, nChanged, nDeleted, nRows;
  int nRequests;            /* requests made, the metadata request included */
  sqlite3_int64 iSync;      /* the sync's number: 1, 2, ... */
};

/* Bring the cache up to date with the base: a full refresh the first time,
** when asked (bFull), or when the table's fields or view changed; else an
** incremental one (sync.c has the algorithm and README its cost). Runs in
** one savepoint: on any error (HTTP, interrupt, SQL) the cache is left as it
** was and *pzErr says why. Call on the connection's thread. */
int atCacheSync(const AtSyncArgs *pArgs, AtSyncResult *pRes, char **pzErr);

/* The result as JSON text: {"table":..,"mode":..,"added":..,...}. */
char *atSyncResultJson(const char *zName, const AtSyncResult *pRes);

#endif /* AT_SYNC_H */
