/*
** airtable_int.h: what every module of the extension shares, and nothing
** else: the SQLite header (the extension's API table, or the library when
** built with SQLITE_CORE), the project's constants, the error helper, and
** the registrations the entry point calls. Each module's own interface is
** in its header beside it (http.h beside http.c, ...); ARCHITECTURE.md has
** the map. Nothing here is exported from the shared library: only
** sqlite3_airtable_init() is.
**
** Memory: every string or object a function hands back is allocated with
** sqlite3_malloc64() (or sqlite3_mprintf()) and freed with sqlite3_free(),
** unless its comment says it is a cJSON tree (free with cJSON_Delete()).
** Error messages (*pzErr) follow the same rule and always start "airtable: ".
*/
#ifndef AIRTABLE_INT_H
#define AIRTABLE_INT_H

#include <stddef.h>

#ifdef SQLITE_CORE
# include <sqlite3.h>
#else
# include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3
#endif

#include "airtable.h"
#define AT_VERSION AIRTABLE_SQLITE_VERSION
#define AT_DEFAULT_API_URL "https://api.airtable.com"
#define AT_DEFAULT_TOKEN_ENV "AIRTABLE_TOKEN"

/* Consecutive empty pages that carry an offset before a listing gives up.
** Airtable fills every page but the last; a server that kept sending empty
** pages would otherwise keep a scan asking forever. */
#define AT_MAX_EMPTY_PAGES 10

/* ---- the error helper (util.c) ----------------------------------------- */

/* Replace *pzErr (freeing what it held) with a message formatted from zFmt.
** The message is prefixed with "airtable: ". On OOM *pzErr is set to NULL. */
void atSetError(char **pzErr, const char *zFmt, ...);

/* Put the context formatted from zFmt in front of the message in *pzErr:
** "airtable: <context>: <old message without its prefix>". */
void atPrefixError(char **pzErr, const char *zFmt, ...);

/* Return a sqlite3_malloc'd copy of z (NULL if z is NULL or on OOM). */
char *atStrdup(const char *z);

/* ---- the registrations (airtable.c calls them) ------------------------- */

/* Register on db; each takes a reference to pCtx (context.h). */
struct AtContext;
int atRegisterTable(sqlite3 *db, struct AtContext *pCtx);     /* vtab.c: "airtable" */
int atRegisterFunctions(sqlite3 *db, struct AtContext *pCtx); /* functions.c: airtable_sync(), ... */
int atRegisterDiscovery(sqlite3 *db, struct AtContext *pCtx); /* discovery.c: airtable_bases/_tables/_fields */
int atRegisterRequestLog(sqlite3 *db, struct AtContext *pCtx);/* requestlog.c: airtable_requests */
int atRegisterExport(sqlite3 *db, struct AtContext *pCtx);    /* export.c: airtable_export() */
int atRegisterCacheInfo(sqlite3 *db, struct AtContext *pCtx); /* cacheinfo.c: airtable_cache_info */

#endif /* AIRTABLE_INT_H */
