/*
** cache.c: the staging cache of an airtable table, kept in shadow tables of
** the virtual table in the same database file, so copying the file takes a
** snapshot of the table anywhere (docs/staging-cache.md).
**
** For a table NAME declared with cache='on' or 'offline':
**
**   NAME_rows     one row per record: id, created_time, vals (the value
**                 the API path returns for each field, from atCellFromJson,
**                 typed, packed in one blob: see atCachePack), seen and
**                 changed (sync numbers), fields (the record's fields as
**                 compact JSON keyed by field id, in the base's field order:
**                 what syncs compare and an export reads). fields is last:
**                 a scan reads vals without walking the overflow pages of
**                 the bigger JSON. A cached query returns exactly what the
**                 same query on the API does.
**   NAME_sync     key/value: the table's metadata ("table"), the base
**                 ("base"), the field ids in vals' order ("layout"), and
**                 what airtable_cache_info shows of the syncs.
**   NAME_deleted  the ids deleted by syncs (tombstones), with the sync that
**                 saw each go: the Lakeflow connector reads deletes from it.
**
** The shapes never change after xCreate: a schema change inside a running
** statement (a sync runs inside one) would make SQLite reparse the schema
** and disconnect the very table running it. So values are packed in one
** blob rather than kept in a column per field.
**
** Shadow tables (xShadowName) are read-only to ordinary SQL when the
** connection is in defensive mode; the extension writes them from inside
** its own statements. A sync writes them inside one savepoint (sync.c).
*/
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cache.h"
#include "buf.h"
#include "json.h"
#include "schema.h"
#include "value.h"

static const char *const azSuffix[] = { "rows", "sync", "deleted" };

int atCacheShadowName(const char *zSuffix){
  int i;
  for(i=0; i<(int)(sizeof(azSuffix)/sizeof(azSuffix[0])); i++){
    if( sqlite3_stricmp(zSuffix, azSuffix[i])==0 ) return 1;
  }
  return 0;
}

int atCacheInit(AtCache *p, sqlite3 *db, const char *zDb, const char *zName){
  memset(p, 0, sizeof(*p));
  p->db = db;
  p->zDb = atStrdup(zDb);
  p->zName = atStrdup(zName);
  return (p->zDb && p->zName) ? SQLITE_OK : SQLITE_NOMEM;
}

void atCacheClear(AtCache *p){
  sqlite3_free(p->zDb);
  sqlite3_free(p->zName);
  memset(p, 0, sizeof(*p));
}

int atCacheExec(AtCache *p, char **pzErr, const char *zFmt, ...){
  va_list ap;
  char *zSql, *zMsg = 0;
  int rc;
  va_start(ap, zFmt);
  zSql = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_exec(p->db, zSql, 0, 0, &zMsg);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ){
    atSetError(pzErr, "cache of '%s': %s", p->zName,
               zMsg ? zMsg : sqlite3_errstr(rc));
  }
  sqlite3_free(zMsg);
  return rc;
}

int atCachePrepare(AtCache *p, sqlite3_stmt **ppStmt, char **pzErr,
                   const char *zFmt, ...){
  va_list ap;
  char *zSql;
  int rc;
  va_start(ap, zFmt);
  zSql = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  *ppStmt = 0;
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(p->db, zSql, -1, ppStmt, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ){
    atSetError(pzErr, "cache of '%s': %s", p->zName, sqlite3_errmsg(p->db));
  }
  return rc;
}

int atCacheError(AtCache *p, int rc, char **pzErr){
  if( rc==SQLITE_NOMEM ){
    atSetError(pzErr, "out of memory");
  }else{
    atSetError(pzErr, "cache of '%s': %s", p->zName, sqlite3_errmsg(p->db));
  }
  return rc;
}

int atCacheCreateTables(AtCache *p, char **pzErr){
  /* Not IF NOT EXISTS: a table of the user's with one of these names must
  ** stop the CREATE, not become a cache. */
  return atCacheExec(p, pzErr,
    "CREATE TABLE \"%w\".\"%w_rows\"("
      "id TEXT PRIMARY KEY, created_time TEXT, vals BLOB NOT NULL, "
      "seen INTEGER NOT NULL, changed INTEGER NOT NULL, fields TEXT NOT NULL);"
    "CREATE TABLE \"%w\".\"%w_sync\"(key TEXT PRIMARY KEY, value);"
    "CREATE TABLE \"%w\".\"%w_deleted\"("
      "id TEXT PRIMARY KEY, sync INTEGER NOT NULL, deleted_at TEXT NOT NULL);",
    p->zDb, p->zName, p->zDb, p->zName, p->zDb, p->zName);
}

int atCacheDropTables(AtCache *p, char **pzErr){
  return atCacheExec(p, pzErr,
    "DROP TABLE IF EXISTS \"%w\".\"%w_rows\";"
    "DROP TABLE IF EXISTS \"%w\".\"%w_sync\";"
    "DROP TABLE IF EXISTS \"%w\".\"%w_deleted\";",
    p->zDb, p->zName, p->zDb, p->zName, p->zDb, p->zName);
}

int atCacheRenameTables(AtCache *p, const char *zNew, char **pzErr){
  int rc = atCacheExec(p, pzErr,
    "ALTER TABLE \"%w\".\"%w_rows\" RENAME TO \"%w_rows\";"
    "ALTER TABLE \"%w\".\"%w_sync\" RENAME TO \"%w_sync\";"
    "ALTER TABLE \"%w\".\"%w_deleted\" RENAME TO \"%w_deleted\";",
    p->zDb, p->zName, zNew, p->zDb, p->zName, zNew, p->zDb, p->zName, zNew);
  if( rc==SQLITE_OK ){
    char *z = atStrdup(zNew);
    if( z==0 ) return SQLITE_NOMEM;
    sqlite3_free(p->zName);
    p->zName = z;
  }
  return rc;
}

int atCacheGet(AtCache *p, const char *zKey, char **pzValue, char **pzErr){
  sqlite3_stmt *pStmt;
  int rc;
  *pzValue = 0;
  rc = atCachePrepare(p, &pStmt, pzErr,
         "SELECT value FROM \"%w\".\"%w_sync\" WHERE key=?1", p->zDb, p->zName);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_text(pStmt, 1, zKey, -1, SQLITE_STATIC);
  rc = sqlite3_step(pStmt);
  if( rc==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(pStmt, 0);
    rc = SQLITE_OK;
    if( z ){
      *pzValue = atStrdup(z);
      if( *pzValue==0 ) rc = SQLITE_NOMEM;
    }
  }else if( rc==SQLITE_DONE ){
    rc = SQLITE_OK;
  }else{
    atCacheError(p, rc, pzErr);
  }
  sqlite3_finalize(pStmt);
  return rc;
}

/* Set zKey to the text zText, or (zText NULL) to the number r: an integer
** when r is whole. */
static int cachePut(AtCache *p, const char *zKey, const char *zText, double r,
                    char **pzErr){
  sqlite3_stmt *pStmt;
  int rc = atCachePrepare(p, &pStmt, pzErr,
      "INSERT OR REPLACE INTO \"%w\".\"%w_sync\"(key, value) VALUES(?1, ?2)",
      p->zDb, p->zName);
  if( rc!=SQLITE_OK ) return rc;
  sqlite3_bind_text(pStmt, 1, zKey, -1, SQLITE_STATIC);
  if( zText ) sqlite3_bind_text(pStmt, 2, zText, -1, SQLITE_STATIC);
  else if( r==(double)(sqlite3_int64)r ) sqlite3_bind_int64(pStmt, 2, (sqlite3_int64)r);
  else sqlite3_bind_double(pStmt, 2, r);
  rc = sqlite3_step(pStmt);
  rc = rc==SQLITE_DONE ? SQLITE_OK : atCacheError(p, rc, pzErr);
  sqlite3_finalize(pStmt);
  return rc;
}

int atCacheSet(AtCache *p, const char *zKey, const char *zText, char **pzErr){
  return cachePut(p, zKey, zText ? zText : "", 0.0, pzErr);
}

int atCacheSetNumber(AtCache *p, const char *zKey, double r, char **pzErr){
  return cachePut(p, zKey, 0, r, pzErr);
}

int atCacheTableMeta(AtCache *p, cJSON **ppTable, char **pzErr){
  char *zJson = 0;
  int rc = atCacheGet(p, "table", &zJson, pzErr);
  *ppTable = 0;
  if( rc!=SQLITE_OK || zJson==0 ) return rc;
  *ppTable = cJSON_Parse(zJson);
  sqlite3_free(zJson);
  if( *ppTable==0 || !cJSON_IsObject(*ppTable) ){
    cJSON_Delete(*ppTable);
    *ppTable = 0;
    atSetError(pzErr, "cache of '%s': the table metadata in %s_sync is not "
               "a JSON object; run airtable_sync('%s', 'full')", p->zName,
               p->zName, p->zName);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/*
** Packed values: for each field of the layout, one tag byte, then
**   AT_PACK_NULL     nothing
**   AT_PACK_INT      8 bytes, two's complement, little-endian
**   AT_PACK_REAL     8 bytes, IEEE 754 double, little-endian
**   AT_PACK_TEXT     4 bytes of length, little-endian, then the UTF-8 bytes
** Little-endian whatever the machine, so a copied database file reads the
** same anywhere.
*/
#define AT_PACK_NULL 0
#define AT_PACK_INT  1
#define AT_PACK_REAL 2
#define AT_PACK_TEXT 3

static void putU64(AtBuf *p, sqlite3_uint64 v){
  unsigned char a[8];
  int i;
  for(i=0; i<8; i++){ a[i] = (unsigned char)(v & 0xff); v >>= 8; }
  atBufAppend(p, (const char*)a, 8);
}

static sqlite3_uint64 getU64(const unsigned char *a){
  sqlite3_uint64 v = 0;
  int i;
  for(i=7; i>=0; i--) v = (v<<8) | a[i];
  return v;
}

void atCachePack(AtBuf *p, const AtCell *pCell){
  char cTag;
  switch( pCell->eType ){
    case SQLITE_INTEGER:
      cTag = AT_PACK_INT;
      atBufAppend(p, &cTag, 1);
      putU64(p, (sqlite3_uint64)pCell->i);
      break;
    case SQLITE_FLOAT: {
      sqlite3_uint64 v;
      memcpy(&v, &pCell->r, 8);
      cTag = AT_PACK_REAL;
      atBufAppend(p, &cTag, 1);
      putU64(p, v);
      break;
    }
    case SQLITE_TEXT: {
      unsigned char a[4];
      unsigned int n = (unsigned int)pCell->n;
      cTag = AT_PACK_TEXT;
      a[0] = n & 0xff; a[1] = (n>>8) & 0xff; a[2] = (n>>16) & 0xff; a[3] = n>>24;
      atBufAppend(p, &cTag, 1);
      atBufAppend(p, (const char*)a, 4);
      atBufAppend(p, pCell->z, pCell->n);
      break;
    }
    default:
      cTag = AT_PACK_NULL;
      atBufAppend(p, &cTag, 1);
      break;
  }
}

int atCacheUnpackOffsets(const unsigned char *a, int n, int nVal, int *aOff){
  int i, k = 0;
  for(i=0; i<nVal; i++){
    if( k>=n ) return SQLITE_CORRUPT;
    aOff[i] = k;
    switch( a[k] ){
      case AT_PACK_NULL: k += 1; break;
      case AT_PACK_INT:
      case AT_PACK_REAL: k += 9; break;
      case AT_PACK_TEXT: {
        sqlite3_int64 m;
        if( k+5>n ) return SQLITE_CORRUPT;
        m = (sqlite3_int64)a[k+1] | ((sqlite3_int64)a[k+2]<<8)
          | ((sqlite3_int64)a[k+3]<<16) | ((sqlite3_int64)a[k+4]<<24);
        if( k+5+m>n ) return SQLITE_CORRUPT;
        k += 5 + (int)m;
        break;
      }
      default: return SQLITE_CORRUPT;
    }
    if( k>n ) return SQLITE_CORRUPT;
  }
  return SQLITE_OK;
}

void atCacheUnpackResult(sqlite3_context *ctx, const unsigned char *a, int iOff){
  switch( a[iOff] ){
    case AT_PACK_INT:
      sqlite3_result_int64(ctx, (sqlite3_int64)getU64(a+iOff+1));
      break;
    case AT_PACK_REAL: {
      sqlite3_uint64 v = getU64(a+iOff+1);
      double r;
      memcpy(&r, &v, 8);
      sqlite3_result_double(ctx, r);
      break;
    }
    case AT_PACK_TEXT: {
      int m = (int)a[iOff+1] | ((int)a[iOff+2]<<8) | ((int)a[iOff+3]<<16)
            | ((int)a[iOff+4]<<24);
      sqlite3_result_text(ctx, (const char*)a+iOff+5, m, SQLITE_TRANSIENT);
      break;
    }
    default:
      break;   /* NULL */
  }
}

/* ---- the cache as a source (airtable_export from_cache=) --------------- */

void atCacheSourceClose(AtCacheSource *p){
  int i;
  for(i=0; i<p->nTable; i++){
    sqlite3_free(p->azName[i]);
    sqlite3_free(p->azView[i]);
  }
  sqlite3_free(p->azName);
  sqlite3_free(p->azView);
  sqlite3_free(p->aSync);
  cJSON_Delete(p->pMeta);
  sqlite3_close(p->db);
  memset(p, 0, sizeof(*p));
}

/* Add cached table zName (whose NAME_sync says it is of base zBase) to p. */
static int sourceAdd(AtCacheSource *p, const char *zName, const char *zBase,
                     char **pzErr){
  AtCache c;
  char *zBaseHere = 0, *zView = 0, *zSyncs = 0;
  cJSON *pTable = 0;
  int rc = atCacheInit(&c, p->db, "main", zName);
  if( rc==SQLITE_OK ) rc = atCacheGet(&c, "base", &zBaseHere, pzErr);
  if( rc==SQLITE_OK && zBaseHere && strcmp(zBaseHere, zBase)==0 ){
    rc = atCacheTableMeta(&c, &pTable, pzErr);
    if( rc==SQLITE_OK ) rc = atCacheGet(&c, "view", &zView, pzErr);
    if( rc==SQLITE_OK ) rc = atCacheGet(&c, "syncs", &zSyncs, pzErr);
    if( rc==SQLITE_OK && pTable ){
      char **azN = sqlite3_realloc64(p->azName, sizeof(char*)*(p->nTable+1));
      char **azV = azN ? sqlite3_realloc64(p->azView, sizeof(char*)*(p->nTable+1)) : 0;
      sqlite3_int64 *aS = azV ? sqlite3_realloc64(p->aSync, sizeof(sqlite3_int64)*(p->nTable+1)) : 0;
      if( azN ) p->azName = azN;
      if( azV ) p->azView = azV;
      if( aS ) p->aSync = aS;
      if( aS==0 ){
        rc = SQLITE_NOMEM;
      }else{
        p->azName[p->nTable] = atStrdup(zName);
        p->azView[p->nTable] = zView;
        zView = 0;
        p->aSync[p->nTable] = zSyncs ? strtoll(zSyncs, 0, 10) : 0;
        p->nTable++;
        if( p->azName[p->nTable-1]==0
         || !cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(p->pMeta, "tables"),
                                  pTable) ){
          rc = SQLITE_NOMEM;
        }else{
          pTable = 0;
        }
      }
    }
  }
  cJSON_Delete(pTable);
  sqlite3_free(zBaseHere);
  sqlite3_free(zView);
  sqlite3_free(zSyncs);
  atCacheClear(&c);
  return rc;
}

int atCacheSourceOpen(AtCacheSource *p, const char *zPath, const char *zBase,
                      char **pzErr){
  sqlite3_stmt *pStmt = 0;
  int rc;
  memset(p, 0, sizeof(*p));
  p->pMeta = cJSON_CreateObject();
  if( p->pMeta==0 || cJSON_AddArrayToObject(p->pMeta, "tables")==0 ) return SQLITE_NOMEM;
  rc = sqlite3_open_v2(zPath, &p->db, SQLITE_OPEN_READONLY, 0);
  /* One read transaction from here to close: the sync numbers read now
  ** are those of the rows exported later, whatever syncs run meanwhile. */
  if( rc==SQLITE_OK ) sqlite3_busy_timeout(p->db, 10000);
  if( rc==SQLITE_OK ) rc = sqlite3_exec(p->db, "BEGIN", 0, 0, 0);
  if( rc==SQLITE_OK ){
    /* The shadow tables of every cached airtable table, in the order the
    ** tables were declared. Read as plain tables: no module needed. */
    rc = sqlite3_prepare_v2(p->db, "SELECT v.name FROM sqlite_schema AS v"
        " JOIN sqlite_schema AS s ON s.name = v.name || '_sync' AND s.type='table'"
        " WHERE v.type='table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%USING%airtable%'"
        " ORDER BY v.rowid", -1, &pStmt, 0);
  }
  if( rc!=SQLITE_OK ){
    atSetError(pzErr, "option from_cache: cannot read '%s': %s", zPath,
               p->db ? sqlite3_errmsg(p->db) : sqlite3_errstr(rc));
    sqlite3_finalize(pStmt);
    return SQLITE_ERROR;
  }
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    rc = sourceAdd(p, (const char*)sqlite3_column_text(pStmt, 0), zBase, pzErr);
  }
  sqlite3_finalize(pStmt);
  if( rc==SQLITE_OK && p->nTable==0 ){
    atSetError(pzErr, "option from_cache: '%s' holds no synced cache of base %s",
               zPath, zBase);
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_NOMEM && *pzErr==0 ) atSetError(pzErr, "out of memory");
  return rc;
}

void atCacheScanClear(AtCacheScan *p){
  sqlite3_finalize(p->pStmt);
  atJsonFree(&p->json);
  sqlite3_free(p->apCell);
  memset(p, 0, sizeof(*p));
}

/* Make the current row's record, as list-records returns it. */
static int scanSettle(AtCacheScan *p, char **pzErr){
  const cJSON *pVal;
  const cJSON *pFields;
  const char *zFields;
  AtBuf b;
  int rc = sqlite3_step(p->pStmt);
  atJsonFree(&p->json);
  p->pRec = 0;
  if( rc==SQLITE_DONE ){
    p->bEof = 1;
    return SQLITE_OK;
  }
  if( rc!=SQLITE_ROW ){
    atSetError(pzErr, "cache of '%s': %s", p->zName,
               sqlite3_errmsg(sqlite3_db_handle(p->pStmt)));
    return rc;
  }
  /* The record as list-records gives it, parsed by json.c as a page is:
  ** {"id":..,"createdTime":..,"fields":<the stored fields>}. */
  zFields = (const char*)sqlite3_column_text(p->pStmt, 2);
  memset(&b, 0, sizeof(b));
  atBufAppendStr(&b, "{\"id\":");
  atJsonPrintString(&b, (const char*)sqlite3_column_text(p->pStmt, 0),
                    (size_t)sqlite3_column_bytes(p->pStmt, 0));
  if( sqlite3_column_type(p->pStmt, 1)==SQLITE_TEXT ){
    atBufAppendStr(&b, ",\"createdTime\":");
    atJsonPrintString(&b, (const char*)sqlite3_column_text(p->pStmt, 1),
                      (size_t)sqlite3_column_bytes(p->pStmt, 1));
  }
  atBufAppendStr(&b, ",\"fields\":");
  atBufAppendStr(&b, zFields ? zFields : "null");
  atBufAppendChar(&b, '}');
  if( b.bOom ){
    atBufClear(&b);
    return SQLITE_NOMEM;
  }
  rc = atJsonParse(b.z, b.n, &p->json);
  atBufClear(&b);
  if( rc==SQLITE_NOMEM ) return rc;
  pFields = rc==SQLITE_OK ? cJSON_GetObjectItemCaseSensitive(p->json.pRoot, "fields") : 0;
  if( !cJSON_IsObject(pFields) ){
    atJsonFree(&p->json);
    atSetError(pzErr, "cache of '%s': the fields of record %s are not a JSON "
               "object; sync the table again with airtable_sync('%s', 'full')",
               p->zName, sqlite3_column_text(p->pStmt, 0), p->zName);
    return SQLITE_CORRUPT;
  }
  p->pRec = p->json.pRoot;
  memset(p->apCell, 0, sizeof(cJSON*)*(p->pSchema->nField+1));
  cJSON_ArrayForEach(pVal, pFields){
    int iField = atSchemaFieldById(p->pSchema, pVal->string);
    if( iField>=0 ) p->apCell[iField] = pVal;
  }
  p->nRow++;
  p->bEof = 0;
  return SQLITE_OK;
}

int atCacheScanFirst(AtCacheScan *p, sqlite3 *db, const char *zName,
                     const AtSchema *pSchema, sqlite3_int64 iSince,
                     char **pzErr){
  char *zSql;
  int rc;
  memset(p, 0, sizeof(*p));
  p->pSchema = pSchema;
  p->zName = zName;
  p->bEof = 1;
  p->apCell = sqlite3_malloc64(sizeof(cJSON*)*(pSchema->nField+1));
  zSql = sqlite3_mprintf("SELECT id, created_time, fields FROM \"%w_rows\""
                         " WHERE changed > %lld ORDER BY rowid", zName, iSince);
  if( zSql==0 || p->apCell==0 ){
    sqlite3_free(zSql);
    return SQLITE_NOMEM;
  }
  rc = sqlite3_prepare_v2(db, zSql, -1, &p->pStmt, 0);
  sqlite3_free(zSql);
  if( rc!=SQLITE_OK ){
    atSetError(pzErr, "cache of '%s': %s", zName, sqlite3_errmsg(db));
    return rc;
  }
  return scanSettle(p, pzErr);
}

int atCacheScanNext(AtCacheScan *p, char **pzErr){
  return scanSettle(p, pzErr);
}
