/*
** sync.c: bringing a table's staging cache (cache.c) up to date with the
** base, in one savepoint, so a failed sync leaves the previous cache whole
** and a reader in another connection never sees half of one.
**
** Every sync first reads the base's metadata (1 request): the cache follows
** the base's schema. Then:
**
**   full         the first sync, airtable_sync(T, 'full'), or when the
**                table's fields (ids or kinds) or view changed: list every
**                record with every field (ceil(N/100) requests, at least 1),
**                store each, and delete what was not listed.
**
**   incremental  every other sync:
**                1. list the records changed since the last sync began, less
**                   sync_overlap seconds for clock skew, with every field:
**                     OR(IS_AFTER(LAST_MODIFIED_TIME(), DATETIME_PARSE(t)),
**                        IS_AFTER(CREATED_TIME(), DATETIME_PARSE(t)))
**                   (Airtable docs: LAST_MODIFIED_TIME() is a record's last
**                   change; CREATED_TIME() covers a reading where a record
**                   never edited has none) - ceil(M/100) requests, at least 1;
**                2. list every record id, asking for the fields whose values
**                   change with no edit of the record (formulas, rollups,
**                   lookups, counts, links, AI text, buttons), compared with
**                   the cache's, or else for one small field (Airtable has
**                   no listing of ids alone) - ceil(N/100) requests, at
**                   least 1: ids not listed were deleted (or left the view);
**                3. fetch records listed in 2 but not in the cache (they
**                   entered the view unchanged, or were created between 1
**                   and 2) by RECORD_ID(), 100 to a request - usually none.
**
** Records are compared by their fields' JSON and createdTime, so a record
** fetched again unchanged (the overlap) is not counted as changed.
*/
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "sync.h"
#include "buf.h"
#include "cache.h"
#include "http.h"
#include "json.h"
#include "listing.h"
#include "schema.h"
#include "util.h"
#include "value.h"

#define AT_SYNC_BATCH 100   /* ids in one RECORD_ID() formula */

typedef struct Sync Sync;
struct Sync {
  const AtSyncArgs *a;
  AtCache *c;
  AtSyncResult *pRes;
  cJSON *pMetaRoot;         /* the metadata response */
  const cJSON *pTable;      /* this table in it */
  AtSchema schema;          /* the table as the base has it now */
  int bRewrite;             /* schema changed: rewrite every row's values */
  int bAllVolatile;         /* a synced table: any field may change unedited */
  sqlite3_int64 iSync;      /* this sync's number */
  sqlite3_int64 iSeen;      /* what a stored record's seen becomes: iSync,
                            ** but 0 while an incremental sync lists the
                            ** changed records (only the id listing says a
                            ** record still exists) */
  double rStart;            /* when it began (Unix seconds) */
  sqlite3_stmt *pFind;      /* created_time, fields of the row with id ?1 */
  sqlite3_stmt *pUpsert;    /* insert or replace a row */
  sqlite3_stmt *pSeen;      /* mark the row with id ?2 seen by sync ?1 */
  sqlite3_stmt *pUntomb;    /* forget id ?1's tombstone */
  AtBuf vals;               /* the packed values of the row being stored */
  char **azMissing;         /* ids listed but not cached (step 3) */
  int nMissing, nMissingAlloc;
};

/* Read the base's metadata and find the table: by the id the cache knows
** (so a renamed table is still found), else as declared. */
static int readSchema(Sync *s, const char *zKnownId, char **pzErr){
  const cJSON *pTables;
  int rc = atMetaFetchTables(s->a->pHttp, s->a->zApiUrl, s->a->zBase,
                             &s->pMetaRoot, pzErr);
  if( rc!=SQLITE_OK ) return rc;
  pTables = cJSON_GetObjectItemCaseSensitive(s->pMetaRoot, "tables");
  if( zKnownId ) s->pTable = atMetaFindTable(pTables, zKnownId);
  if( s->pTable==0 ) s->pTable = atMetaFindTable(pTables, s->a->zTable);
  if( s->pTable==0 ){
    char *zList = atNameList(pTables);
    atSetError(pzErr, "option table: base %s has no table '%s' (tables: %s); "
               "the cache is unchanged", s->a->zBase, s->a->zTable,
               zList ? zList : "?");
    sqlite3_free(zList);
    return SQLITE_ERROR;
  }
  return atSchemaBuild(s->pTable, s->a->zView, &s->schema, pzErr);
}

/* Why the cached schema pOld cannot be refreshed incrementally to s->schema,
** or NULL if it can: a field added, removed, moved or of another kind, or
** another table or view. Renames and type changes within a kind (text to
** long text) keep the values. */
static const char *schemaChange(Sync *s, const AtSchema *pOld){
  int i;
  if( strcmp(pOld->zTableId, s->schema.zTableId)!=0 ) return "table changed";
  if( (pOld->zViewId==0)!=(s->schema.zViewId==0)
   || (pOld->zViewId && strcmp(pOld->zViewId, s->schema.zViewId)!=0) ){
    return "view changed";
  }
  /* Field by field, in order: the packed values follow the field order. */
  if( pOld->nField!=s->schema.nField ) return "fields changed";
  for(i=0; i<s->schema.nField; i++){
    if( strcmp(pOld->aField[i].zId, s->schema.aField[i].zId)!=0
     || pOld->aField[i].eKind!=s->schema.aField[i].eKind ){
      return "fields changed";
    }
  }
  return 0;
}

static int prepareStatements(Sync *s, char **pzErr){
  const char *zDb = s->c->zDb, *zName = s->c->zName;
  int rc = atCachePrepare(s->c, &s->pUpsert, pzErr,
      "INSERT INTO \"%w\".\"%w_rows\"(id, created_time, fields, vals, seen, changed)"
      " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE SET"
      " created_time=excluded.created_time, fields=excluded.fields,"
      " vals=excluded.vals, seen=excluded.seen, changed=CASE WHEN"
      " fields=excluded.fields AND created_time IS excluded.created_time"
      " THEN changed ELSE excluded.changed END", zDb, zName);
  if( rc==SQLITE_OK ){
    rc = atCachePrepare(s->c, &s->pFind, pzErr, "SELECT created_time, fields,"
           " changed FROM \"%w\".\"%w_rows\" WHERE id=?1", zDb, zName);
  }
  if( rc==SQLITE_OK ){
    rc = atCachePrepare(s->c, &s->pSeen, pzErr, "UPDATE \"%w\".\"%w_rows\""
           " SET seen=?1 WHERE id=?2", zDb, zName);
  }
  if( rc==SQLITE_OK ){
    rc = atCachePrepare(s->c, &s->pUntomb, pzErr, "DELETE FROM"
           " \"%w\".\"%w_deleted\" WHERE id=?1", zDb, zName);
  }
  return rc;
}

/* The record's fields as compact JSON keyed by field id, in the base's
** field order: the form the cache compares and keeps. NULL on OOM. */
static char *fieldsJson(const AtSchema *pSchema, const cJSON **apCell){
  sqlite3_str *pStr = sqlite3_str_new(0);
  int i, bFirst = 1;
  sqlite3_str_appendchar(pStr, 1, '{');
  for(i=0; i<pSchema->nField; i++){
    char *zVal;
    if( apCell[i]==0 ) continue;
    /* json.c's printer: cJSON's bytes, but a string keeps what follows a
    ** NUL in it (cJSON's stops there, and the change would go unseen). */
    zVal = atJsonText(apCell[i], 0);
    if( zVal==0 ){
      sqlite3_free(sqlite3_str_finish(pStr));
      return 0;
    }
    sqlite3_str_appendf(pStr, "%s\"%s\":%s", bFirst ? "" : ",",
                        pSchema->aField[i].zId, zVal);
    sqlite3_free(zVal);
    bFirst = 0;
  }
  sqlite3_str_appendchar(pStr, 1, '}');
  if( sqlite3_str_errcode(pStr) ){
    sqlite3_free(sqlite3_str_finish(pStr));
    return 0;
  }
  return sqlite3_str_finish(pStr);
}

static int stepDone(Sync *s, sqlite3_stmt *pStmt, char **pzErr){
  int rc = sqlite3_step(pStmt);
  sqlite3_reset(pStmt);
  if( rc==SQLITE_DONE ) return SQLITE_OK;
  return atCacheError(s->c, rc==SQLITE_ROW ? SQLITE_ERROR : rc, pzErr);
}

/* Store a record (its fields' values by schema index): added, changed, or
** only seen. */
static int storeCells(Sync *s, const char *zId, const char *zCreated,
                      const cJSON **apCell, char **pzErr){
  char *zFields = fieldsJson(&s->schema, apCell);
  int bNew = 1, bSame = 0, i, rc;

  if( zFields==0 ) return SQLITE_NOMEM;
  sqlite3_bind_text(s->pFind, 1, zId, -1, SQLITE_STATIC);
  rc = sqlite3_step(s->pFind);
  if( rc==SQLITE_ROW ){
    const char *zOldCreated = (const char*)sqlite3_column_text(s->pFind, 0);
    const char *zOldFields = (const char*)sqlite3_column_text(s->pFind, 1);
    bNew = 0;
    bSame = zOldFields && strcmp(zOldFields, zFields)==0
         && ((zOldCreated==0 && zCreated==0)
             || (zOldCreated && zCreated && strcmp(zOldCreated, zCreated)==0));
    rc = SQLITE_OK;
  }else if( rc==SQLITE_DONE ){
    rc = SQLITE_OK;
  }else{
    atCacheError(s->c, rc, pzErr);
  }
  sqlite3_reset(s->pFind);
  if( rc!=SQLITE_OK ){
    sqlite3_free(zFields);
    return rc;
  }

  if( bSame && !s->bRewrite ){
    sqlite3_bind_int64(s->pSeen, 1, s->iSeen);
    sqlite3_bind_text(s->pSeen, 2, zId, -1, SQLITE_STATIC);
    rc = stepDone(s, s->pSeen, pzErr);
  }else{
    sqlite3_bind_text(s->pUpsert, 1, zId, -1, SQLITE_STATIC);
    if( zCreated ) sqlite3_bind_text(s->pUpsert, 2, zCreated, -1, SQLITE_STATIC);
    else sqlite3_bind_null(s->pUpsert, 2);
    sqlite3_bind_text(s->pUpsert, 3, zFields, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->pUpsert, 5, s->iSeen);
    sqlite3_bind_int64(s->pUpsert, 6, s->iSync);
    s->vals.n = 0;
    for(i=0; rc==SQLITE_OK && i<s->schema.nField; i++){
      AtCell cell;
      rc = atCellFromJson(s->schema.aField[i].eKind, apCell[i], &cell);
      if( rc!=SQLITE_OK ) break;
      atCachePack(&s->vals, &cell);
      atCellClear(&cell);
    }
    if( rc==SQLITE_OK && s->vals.bOom ) rc = SQLITE_NOMEM;
    if( rc==SQLITE_OK ){
      sqlite3_bind_blob(s->pUpsert, 4, s->vals.n ? s->vals.z : "", (int)s->vals.n,
                        SQLITE_STATIC);
      rc = stepDone(s, s->pUpsert, pzErr);
    }
    sqlite3_clear_bindings(s->pUpsert);
    if( rc==SQLITE_OK && bNew ){
      s->pRes->nAdded++;
      sqlite3_bind_text(s->pUntomb, 1, zId, -1, SQLITE_STATIC);
      rc = stepDone(s, s->pUntomb, pzErr);
    }else if( rc==SQLITE_OK && !bSame ){
      s->pRes->nChanged++;
    }
  }
  sqlite3_free(zFields);
  return rc;
}

/* Store the listing's current record: added, changed, or only seen. */
static int storeRecord(Sync *s, AtListing *pList, char **pzErr){
  const cJSON *pRec = pList->page.pRecord;
  const cJSON *pCreated = cJSON_GetObjectItemCaseSensitive(pRec, "createdTime");
  return storeCells(s, cJSON_GetObjectItemCaseSensitive(pRec, "id")->valuestring,
                    cJSON_IsString(pCreated) ? pCreated->valuestring : 0,
                    pList->apCell, pzErr);
}

/* List the table (with zFormula, or all of it) and store every record. */
static int listAndStore(Sync *s, const char *zFormula, char **pzErr){
  AtListing list;
  int rc = atListingInit(&list, s->a->pHttp, s->a->zApiUrl, s->a->zBase,
                         &s->schema);
  list.zFormula = zFormula;
  if( rc==SQLITE_OK ) rc = atListingFirst(&list, pzErr);
  while( rc==SQLITE_OK && !list.bEof ){
    rc = storeRecord(s, &list, pzErr);
    if( rc==SQLITE_OK ) rc = atListingNext(&list, pzErr);
  }
  atListingClear(&list);
  return rc;
}

/* True for a field whose values can change with no edit of the record, so
** LAST_MODIFIED_TIME() does not move (Airtable docs: it counts a user's
** changes to non-computed fields): computed from other records, links (set
** from the other side too), AI-generated text, buttons (labels, URLs by
** formula). In a table Airtable syncs from elsewhere (it has a field of
** type externalSyncSource), the sync writes every field, not a user: all
** of them are. */
static int isVolatile(const Sync *s, const AtField *f){
  static const char *const az[] = {
    "formula", "rollup", "multipleLookupValues", "count",
    "multipleRecordLinks", "aiText", "button"
  };
  int i;
  if( s->bAllVolatile ) return 1;
  for(i=0; i<(int)(sizeof(az)/sizeof(az[0])); i++){
    if( strcmp(f->zType, az[i])==0 ) return 1;
  }
  return 0;
}

/* Compare the volatile fields listed for cached record zId (apNew, by
** schema index) with the cache's; if any differs, store the record with
** the cached values of the other fields and the listed ones of these. */
static int refreshVolatile(Sync *s, const char *zId, const cJSON **apNew,
                           char **pzErr){
  cJSON *pOld = 0;
  char *zCreated = 0;
  const cJSON **apCell = 0;
  int i, rc, bDiff = 0;

  sqlite3_bind_text(s->pFind, 1, zId, -1, SQLITE_STATIC);
  rc = sqlite3_step(s->pFind);
  if( rc==SQLITE_DONE ){
    sqlite3_reset(s->pFind);
    return SQLITE_OK;                  /* not cached: fetched in step 3 */
  }
  if( rc!=SQLITE_ROW ){
    sqlite3_reset(s->pFind);
    return atCacheError(s->c, rc, pzErr);
  }
  if( sqlite3_column_int64(s->pFind, 2)==s->iSync ){
    sqlite3_reset(s->pFind);           /* step 1 just stored it whole */
    return SQLITE_OK;
  }
  if( sqlite3_column_type(s->pFind, 0)==SQLITE_TEXT ){
    zCreated = atStrdup((const char*)sqlite3_column_text(s->pFind, 0));
  }
  pOld = cJSON_Parse((const char*)sqlite3_column_text(s->pFind, 1));
  sqlite3_reset(s->pFind);
  apCell = sqlite3_malloc64(sizeof(cJSON*)*(s->schema.nField+1));
  if( pOld==0 || apCell==0 ){
    rc = SQLITE_NOMEM;
    goto done;
  }
  for(i=0; i<s->schema.nField; i++){
    const AtField *f = &s->schema.aField[i];
    const cJSON *pVal = cJSON_GetObjectItemCaseSensitive(pOld, f->zId);
    if( isVolatile(s, f) ){
      if( (pVal==0)!=(apNew[i]==0) || (pVal && !cJSON_Compare(pVal, apNew[i], 1)) ){
        bDiff = 1;
      }
      pVal = apNew[i];
    }
    apCell[i] = pVal;
  }
  rc = SQLITE_OK;
  if( bDiff ) rc = storeCells(s, zId, zCreated, apCell, pzErr);
done:
  cJSON_Delete(pOld);
  sqlite3_free(zCreated);
  sqlite3_free(apCell);
  return rc;
}

static int addMissing(Sync *s, const char *zId){
  if( s->nMissing==s->nMissingAlloc ){
    int nNew = s->nMissingAlloc ? s->nMissingAlloc*2 : 64;
    char **az = sqlite3_realloc64(s->azMissing, sizeof(char*)*nNew);
    if( az==0 ) return SQLITE_NOMEM;
    s->azMissing = az;
    s->nMissingAlloc = nNew;
  }
  s->azMissing[s->nMissing] = atStrdup(zId);
  if( s->azMissing[s->nMissing]==0 ) return SQLITE_NOMEM;
  s->nMissing++;
  return SQLITE_OK;
}

/* Step 2: mark every listed id seen; remember ids the cache lacks. */
static int listIds(Sync *s, char **pzErr){
  AtListing list;
  const char **azOnly = sqlite3_malloc64(sizeof(char*)*(s->schema.nField+1));
  int nVolatile = 0, i, rc;
  if( azOnly==0 ) return SQLITE_NOMEM;
  rc = atListingInit(&list, s->a->pHttp, s->a->zApiUrl, s->a->zBase, &s->schema);
  /* The fields whose changes LAST_MODIFIED_TIME() misses, compared with
  ** the cache's; else one small field (a listing of ids alone is not
  ** possible). Either way, one request per 100 records. */
  for(i=0; i<s->schema.nField; i++){
    if( strcmp(s->schema.aField[i].zType, "externalSyncSource")==0 ) s->bAllVolatile = 1;
  }
  for(i=0; i<s->schema.nField; i++){
    if( isVolatile(s, &s->schema.aField[i]) ) azOnly[nVolatile++] = s->schema.aField[i].zId;
  }
  if( nVolatile==0 ) azOnly[0] = atSchemaSmallField(&s->schema, s->pTable);
  if( s->bAllVolatile ){
    /* Every field: no fields[] at all (the shortest request). */
  }else if( nVolatile>0 || azOnly[0] ){
    list.nOnly = nVolatile>0 ? nVolatile : 1;
    list.azOnly = azOnly;
  }
  if( rc==SQLITE_OK ) rc = atListingFirst(&list, pzErr);
  while( rc==SQLITE_OK && !list.bEof ){
    const char *zId = cJSON_GetObjectItemCaseSensitive(list.page.pRecord,
                                                       "id")->valuestring;
    if( nVolatile>0 ) rc = refreshVolatile(s, zId, list.apCell, pzErr);
    if( rc==SQLITE_OK ){
      sqlite3_bind_int64(s->pSeen, 1, s->iSync);
      sqlite3_bind_text(s->pSeen, 2, zId, -1, SQLITE_STATIC);
      rc = stepDone(s, s->pSeen, pzErr);
    }
    if( rc==SQLITE_OK && sqlite3_changes(s->c->db)==0 ){
      if( !atIsId(zId, "rec") ){
        atSetError(pzErr, "table '%s': the server listed a record id '%.40s' "
                   "that is not 'rec' and 14 letters or digits; the cache is "
                   "unchanged", s->schema.zTableName, zId);
        rc = SQLITE_ERROR;
      }else{
        rc = addMissing(s, zId);
      }
    }
    if( rc==SQLITE_OK ) rc = atListingNext(&list, pzErr);
  }
  atListingClear(&list);
  sqlite3_free(azOnly);
  return rc;
}

/* Step 3: fetch the missing records, AT_SYNC_BATCH ids to a request. */
static int fetchMissing(Sync *s, char **pzErr){
  int i, rc = SQLITE_OK;
  for(i=0; rc==SQLITE_OK && i<s->nMissing; i+=AT_SYNC_BATCH){
    sqlite3_str *pStr = sqlite3_str_new(0);
    char *zFormula;
    int j;
    sqlite3_str_appendall(pStr, "OR(");
    for(j=i; j<s->nMissing && j<i+AT_SYNC_BATCH; j++){
      /* listIds let only ids of Airtable's shape through: no escaping. */
      sqlite3_str_appendf(pStr, "%sRECORD_ID()='%s'", j>i ? "," : "",
                          s->azMissing[j]);
    }
    sqlite3_str_appendall(pStr, ")");
    zFormula = sqlite3_str_finish(pStr);
    if( zFormula==0 ) return SQLITE_NOMEM;
    rc = listAndStore(s, zFormula, pzErr);
    sqlite3_free(zFormula);
  }
  return rc;
}

/* Delete the rows this sync did not see, leaving tombstones. */
static int deleteUnseen(Sync *s, char **pzErr){
  char *zNow = atIsoTime(s->rStart);
  int rc;
  if( zNow==0 ) return SQLITE_NOMEM;
  rc = atCacheExec(s->c, pzErr,
      "INSERT OR REPLACE INTO \"%w\".\"%w_deleted\"(id, sync, deleted_at)"
      " SELECT id, %lld, %Q FROM \"%w\".\"%w_rows\" WHERE seen<>%lld;",
      s->c->zDb, s->c->zName, s->iSync, zNow, s->c->zDb, s->c->zName, s->iSync);
  if( rc==SQLITE_OK ){
    rc = atCacheExec(s->c, pzErr,
        "DELETE FROM \"%w\".\"%w_rows\" WHERE seen<>%lld",
        s->c->zDb, s->c->zName, s->iSync);
    s->pRes->nDeleted = sqlite3_changes(s->c->db);
  }
  sqlite3_free(zNow);
  return rc;
}

static int countRows(Sync *s, char **pzErr){
  sqlite3_stmt *pStmt;
  int rc = atCachePrepare(s->c, &pStmt, pzErr,
      "SELECT count(*) FROM \"%w\".\"%w_rows\"", s->c->zDb, s->c->zName);
  if( rc!=SQLITE_OK ) return rc;
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW ){
    s->pRes->nRows = sqlite3_column_int64(pStmt, 0);
    rc = SQLITE_OK;
  }else{
    atCacheError(s->c, rc, pzErr);
  }
  sqlite3_finalize(pStmt);
  return rc;
}

static sqlite3_int64 getInt(Sync *s, const char *zKey, char **pzErr, int *pRc){
  char *z = 0;
  sqlite3_int64 v = 0;
  if( *pRc==SQLITE_OK ) *pRc = atCacheGet(s->c, zKey, &z, pzErr);
  if( z ){
    v = (sqlite3_int64)strtoll(z, 0, 10);
    sqlite3_free(z);
  }
  return v;
}

/* What the sync keeps in NAME_sync for the next sync and cache_info. */
static int writeState(Sync *s, sqlite3_int64 nTotal, char **pzErr){
  char *zTable = cJSON_PrintUnformatted(s->pTable);
  char *zEnd = atIsoTime(atNow());
  int rc = (zTable && zEnd) ? SQLITE_OK : SQLITE_NOMEM;
  if( rc==SQLITE_OK ) rc = atCacheSet(s->c, "table", zTable, pzErr);
  if( rc==SQLITE_OK ) rc = atCacheSet(s->c, "base", s->a->zBase, pzErr);
  if( rc==SQLITE_OK ){
    /* The field ids in the order of the packed values. */
    sqlite3_str *pStr = sqlite3_str_new(0);
    char *zLayout;
    int i;
    for(i=0; i<s->schema.nField; i++){
      sqlite3_str_appendf(pStr, "%s%s", i ? "," : "", s->schema.aField[i].zId);
    }
    zLayout = sqlite3_str_finish(pStr);
    rc = atCacheSet(s->c, "layout", zLayout ? zLayout : "", pzErr);
    if( s->schema.nField>0 && zLayout==0 ) rc = SQLITE_NOMEM;
    sqlite3_free(zLayout);
  }
  if( rc==SQLITE_OK && s->schema.zViewId ){
    rc = atCacheSet(s->c, "view", s->schema.zViewId, pzErr);
  }
  if( rc==SQLITE_OK ) rc = atCacheSetNumber(s->c, "syncs", (double)s->iSync, pzErr);
  if( rc==SQLITE_OK ) rc = atCacheSetNumber(s->c, "last_sync_start", s->rStart, pzErr);
  if( rc==SQLITE_OK ) rc = atCacheSetNumber(s->c, "last_sync_end", atNow(), pzErr);
  if( rc==SQLITE_OK ) rc = atCacheSet(s->c, "last_sync", zEnd, pzErr);
  if( rc==SQLITE_OK ) rc = atCacheSet(s->c, "last_mode", s->pRes->zMode, pzErr);
  if( rc==SQLITE_OK ) rc = atCacheSetNumber(s->c, "last_added", (double)s->pRes->nAdded, pzErr);
  if( rc==SQLITE_OK ) rc = atCacheSetNumber(s->c, "last_changed", (double)s->pRes->nChanged, pzErr);
  if( rc==SQLITE_OK ) rc = atCacheSetNumber(s->c, "last_deleted", (double)s->pRes->nDeleted, pzErr);
  if( rc==SQLITE_OK ) rc = atCacheSetNumber(s->c, "last_requests", (double)s->pRes->nRequests, pzErr);
  if( rc==SQLITE_OK ) rc = atCacheSetNumber(s->c, "total_requests", (double)nTotal, pzErr);
  cJSON_free(zTable);
  sqlite3_free(zEnd);
  return rc;
}

/* The body of a sync, inside the savepoint. */
static int syncBody(Sync *s, char **pzErr){
  cJSON *pOldMeta = 0;
  AtSchema old;
  AtHttpStats st0, st1;
  sqlite3_int64 nTotal;
  double rLastStart;
  char *zLast = 0;
  int rc;

  memset(&old, 0, sizeof(old));
  atHttpGetStats(s->a->pHttp, &st0);
  rc = atCacheTableMeta(s->c, &pOldMeta, pzErr);
  if( rc==SQLITE_OK ){
    const cJSON *pId = cJSON_GetObjectItemCaseSensitive(pOldMeta, "id");
    rc = readSchema(s, cJSON_IsString(pId) ? pId->valuestring : 0, pzErr);
  }
  if( rc!=SQLITE_OK ) goto done;

  s->iSync = getInt(s, "syncs", pzErr, &rc) + 1;
  s->iSeen = s->iSync;
  nTotal = getInt(s, "total_requests", pzErr, &rc);
  if( rc==SQLITE_OK ) rc = atCacheGet(s->c, "last_sync_start", &zLast, pzErr);
  if( rc!=SQLITE_OK ) goto done;
  rLastStart = zLast ? atStrtod(zLast, 0) : 0.0;

  s->pRes->zMode = "full";
  if( pOldMeta==0 || zLast==0 ){
    s->pRes->zWhy = "first sync";
  }else{
    /* Whether or not a full sync was asked for, a schema change must
    ** rewrite every row: rows whose fields did not change still hold
    ** values packed in the old layout, or of the old kinds. */
    char *zIgnored = 0;
    if( atSchemaBuild(pOldMeta, s->a->zView, &old, &zIgnored)!=SQLITE_OK ){
      s->pRes->zWhy = "view changed";
    }else{
      s->pRes->zWhy = schemaChange(s, &old);
    }
    sqlite3_free(zIgnored);
    if( s->pRes->zWhy ){
      s->bRewrite = 1;
    }else if( s->a->bFull ){
      s->pRes->zWhy = "asked";
    }else{
      s->pRes->zMode = "incremental";
    }
  }

  rc = prepareStatements(s, pzErr);
  if( rc!=SQLITE_OK ) goto done;

  if( strcmp(s->pRes->zMode, "full")==0 ){
    rc = listAndStore(s, 0, pzErr);
  }else{
    char *zSince = atIsoTime(rLastStart - s->a->rOverlap);
    char *zFormula = zSince ? sqlite3_mprintf(
        "OR(IS_AFTER(LAST_MODIFIED_TIME(), DATETIME_PARSE('%s')), "
        "IS_AFTER(CREATED_TIME(), DATETIME_PARSE('%s')))", zSince, zSince) : 0;
    /* A record listed here but deleted before the id listing must go:
    ** seen stays unset until the id listing sets it. */
    s->iSeen = 0;
    rc = zFormula ? listAndStore(s, zFormula, pzErr) : SQLITE_NOMEM;
    s->iSeen = s->iSync;
    if( rc==SQLITE_OK ) rc = listIds(s, pzErr);
    if( rc==SQLITE_OK ) rc = fetchMissing(s, pzErr);
    sqlite3_free(zSince);
    sqlite3_free(zFormula);
  }
  if( rc==SQLITE_OK ) rc = deleteUnseen(s, pzErr);
  if( rc==SQLITE_OK ) rc = countRows(s, pzErr);
  if( rc!=SQLITE_OK ) goto done;
  atHttpGetStats(s->a->pHttp, &st1);
  s->pRes->nRequests = st1.nRequests - st0.nRequests;
  s->pRes->iSync = s->iSync;
  rc = writeState(s, nTotal + s->pRes->nRequests, pzErr);

done:
  cJSON_Delete(pOldMeta);
  atSchemaClear(&old);
  sqlite3_free(zLast);
  return rc;
}

/* Open the sync's savepoint and take the database's write lock. */
static int syncBegin(Sync *s, char **pzErr){
  int rc = atCacheExec(s->c, pzErr, "SAVEPOINT airtable_sync");
  if( rc!=SQLITE_OK ){
    if( *pzErr && strstr(*pzErr, "statements in progress") ){
      atSetError(pzErr, "cache of '%s': a sync cannot run inside a statement "
          "that writes (INSERT ... SELECT, CREATE TABLE ... AS SELECT, ...): "
          "run SELECT airtable_sync('%s') on its own first", s->c->zName,
          s->c->zName);
    }
    return rc;
  }
  /* The write lock now, before the network: in WAL mode a first write after
  ** another connection's commit would fail with SQLITE_BUSY_SNAPSHOT,
  ** whatever the busy timeout. Other writers wait (their busy timeout)
  ** while the sync runs. */
  rc = atCacheExec(s->c, pzErr, "INSERT OR REPLACE INTO \"%w\".\"%w_sync\""
                   "(key, value) VALUES('sync_started', %!.17g)",
                   s->c->zDb, s->c->zName, s->rStart);
  if( rc!=SQLITE_OK ){
    sqlite3_exec(s->c->db, "ROLLBACK TO airtable_sync; RELEASE airtable_sync", 0, 0, 0);
  }
  return rc;
}

int atCacheSync(const AtSyncArgs *pArgs, AtSyncResult *pRes, char **pzErr){
  Sync s;
  AtHttpStats st0, st1;
  sqlite3_stmt *pUndo = 0;
  int rc, i;

  memset(&s, 0, sizeof(s));
  memset(pRes, 0, sizeof(*pRes));
  s.a = pArgs;
  s.c = pArgs->pCache;
  s.pRes = pRes;
  s.rStart = atNow();
  atHttpGetStats(pArgs->pHttp, &st0);
  /* Prepared before anything can be interrupted: see the error path. */
  rc = atCachePrepare(s.c, &pUndo, pzErr, "UPDATE \"%w\".\"%w_sync\" SET "
                      "value=value WHERE 0", s.c->zDb, s.c->zName);
  if( rc==SQLITE_OK ) rc = syncBegin(&s, pzErr);
  if( rc==SQLITE_OK ){
    rc = syncBody(&s, pzErr);
    sqlite3_finalize(s.pFind);
    sqlite3_finalize(s.pUpsert);
    sqlite3_finalize(s.pSeen);
    sqlite3_finalize(s.pUntomb);
    if( rc==SQLITE_OK ) rc = atCacheExec(s.c, pzErr, "RELEASE airtable_sync");
    if( rc!=SQLITE_OK ){
      /* Undo everything this sync wrote; the previous cache stays. Once
      ** the connection is interrupted, SQLite prepares no statement until
      ** the outermost one ends, so ROLLBACK TO cannot run: then a write
      ** statement prepared beforehand is stepped, and SQLite, seeing a
      ** write interrupted, rolls back the whole transaction (its rule for
      ** interrupts: sqlite3_interrupt() docs). */
      if( sqlite3_exec(s.c->db, "ROLLBACK TO airtable_sync; "
                       "RELEASE airtable_sync", 0, 0, 0)!=SQLITE_OK ){
        sqlite3_step(pUndo);
        sqlite3_reset(pUndo);
      }
    }
  }
  atHttpGetStats(pArgs->pHttp, &st1);
  pRes->nRequests = st1.nRequests - st0.nRequests;
  sqlite3_finalize(pUndo);
  if( rc==SQLITE_NOMEM && *pzErr==0 ) atSetError(pzErr, "out of memory");
  atBufClear(&s.vals);
  for(i=0; i<s.nMissing; i++) sqlite3_free(s.azMissing[i]);
  sqlite3_free(s.azMissing);
  cJSON_Delete(s.pMetaRoot);
  atSchemaClear(&s.schema);
  return rc;
}

char *atSyncResultJson(const char *zName, const AtSyncResult *pRes){
  cJSON *p = cJSON_CreateObject();
  char *zJson, *zOut;
  if( p==0 ) return 0;
  cJSON_AddStringToObject(p, "table", zName);
  cJSON_AddStringToObject(p, "mode", pRes->zMode);
  if( pRes->zWhy ) cJSON_AddStringToObject(p, "reason", pRes->zWhy);
  cJSON_AddNumberToObject(p, "added", (double)pRes->nAdded);
  cJSON_AddNumberToObject(p, "changed", (double)pRes->nChanged);
  cJSON_AddNumberToObject(p, "deleted", (double)pRes->nDeleted);
  cJSON_AddNumberToObject(p, "rows", (double)pRes->nRows);
  cJSON_AddNumberToObject(p, "requests", (double)pRes->nRequests);
  cJSON_AddNumberToObject(p, "sync", (double)pRes->iSync);
  zJson = cJSON_PrintUnformatted(p);
  cJSON_Delete(p);
  zOut = zJson ? atStrdup(zJson) : 0;
  cJSON_free(zJson);
  return zOut;
}
