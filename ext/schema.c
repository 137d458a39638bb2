/*
** schema.c: from the metadata API to a table's SQL shape. Finds the table
** and view, gives every field a kind and a unique column name, and writes
** the CREATE TABLE that the virtual table declares.
*/
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "schema.h"
#include "http.h"
#include "json.h"
#include "names.h"
#include "page.h"
#include "request.h"
#include "value.h"

int atColumnNames(int n, const char *const *azName, char **azCol){
  static const char *const azReserved[] = { "id", "created_time" };
  return atUniqueNames(n, azName, 2, azReserved, azCol);
}

/* The string member zKey of pObj, or NULL. */
static const char *memberString(const cJSON *pObj, const char *zKey){
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(pObj, zKey);
  return cJSON_IsString(p) ? p->valuestring : 0;
}

/* Find the element of array pArr whose "id" or else "name" is zKey. */
static const cJSON *findByIdOrName(const cJSON *pArr, const char *zKey){
  const cJSON *p;
  cJSON_ArrayForEach(p, pArr){
    const char *zId = memberString(p, "id");
    if( zId && strcmp(zId, zKey)==0 ) return p;
  }
  cJSON_ArrayForEach(p, pArr){
    const char *zName = memberString(p, "name");
    if( zName && strcmp(zName, zKey)==0 ) return p;
  }
  return 0;
}

const cJSON *atMetaFindTable(const cJSON *pTables, const char *zTable){
  return findByIdOrName(pTables, zTable);
}

char *atNameList(const cJSON *pArr){
  sqlite3_str *pStr = sqlite3_str_new(0);
  const cJSON *p;
  int n = 0;
  cJSON_ArrayForEach(p, pArr){
    const char *zName = memberString(p, "name");
    if( zName ) sqlite3_str_appendf(pStr, "%s'%s'", n++ ? ", " : "", zName);
  }
  if( n==0 ) sqlite3_str_appendall(pStr, "none");
  return sqlite3_str_finish(pStr);
}

/* Sort context for aById: qsort has no user pointer, so ids are compared
** through an array of (index, id) pairs built for the purpose. */
typedef struct IdIdx IdIdx;
struct IdIdx { const char *zId; int iField; };
static int cmpIdIdx(const void *a, const void *b){
  return strcmp(((const IdIdx*)a)->zId, ((const IdIdx*)b)->zId);
}

int atSchemaBuild(const cJSON *pTable, const char *zView, AtSchema *p,
                  char **pzErr){
  const cJSON *pFields = cJSON_GetObjectItemCaseSensitive(pTable, "fields");
  const cJSON *pField;
  const char **azName = 0;
  char **azCol = 0;
  IdIdx *aPair = 0;
  int i, n, rc = SQLITE_NOMEM;

  memset(p, 0, sizeof(*p));
  if( !memberString(pTable, "id") || !memberString(pTable, "name")
   || !cJSON_IsArray(pFields) ){
    atSetError(pzErr, "the metadata of a table lacks its id, name or fields");
    return SQLITE_ERROR;
  }
  p->zTableId = atStrdup(memberString(pTable, "id"));
  p->zTableName = atStrdup(memberString(pTable, "name"));
  if( p->zTableId==0 || p->zTableName==0 ) goto done;

  if( zView ){
    const cJSON *pViews = cJSON_GetObjectItemCaseSensitive(pTable, "views");
    const cJSON *pView = findByIdOrName(pViews, zView);
    if( pView==0 || !memberString(pView, "id") ){
      char *zList = atNameList(pViews);
      atSetError(pzErr, "option view: table '%s' has no view '%s' (views: %s)",
                 p->zTableName, zView, zList ? zList : "?");
      sqlite3_free(zList);
      rc = SQLITE_ERROR;
      goto done;
    }
    p->zViewId = atStrdup(memberString(pView, "id"));
    if( p->zViewId==0 ) goto done;
  }

  n = cJSON_GetArraySize(pFields);
  p->aField = sqlite3_malloc64(sizeof(AtField)*(n ? n : 1));
  p->aById = sqlite3_malloc64(sizeof(int)*(n ? n : 1));
  azName = sqlite3_malloc64(sizeof(char*)*(n ? n : 1));
  azCol = sqlite3_malloc64(sizeof(char*)*(n ? n : 1));
  aPair = sqlite3_malloc64(sizeof(IdIdx)*(n ? n : 1));
  if( !p->aField || !p->aById || !azName || !azCol || !aPair ) goto done;
  memset(p->aField, 0, sizeof(AtField)*(n ? n : 1));
  i = 0;
  cJSON_ArrayForEach(pField, pFields){
    const char *zId = memberString(pField, "id");
    const char *zName = memberString(pField, "name");
    const char *zType = memberString(pField, "type");
    if( zId==0 || zName==0 || zType==0 ){
      atSetError(pzErr, "field %d of table '%s' lacks its id, name or type",
                 i, p->zTableName);
      rc = SQLITE_ERROR;
      goto done;
    }
    p->aField[i].zId = atStrdup(zId);
    p->aField[i].zName = atStrdup(zName);
    p->aField[i].zType = atStrdup(zType);
    p->aField[i].eKind = atFieldKind(zType,
                             cJSON_GetObjectItemCaseSensitive(pField, "options"));
    p->nField = ++i;
    if( !p->aField[i-1].zId || !p->aField[i-1].zName || !p->aField[i-1].zType ){
      goto done;
    }
    azName[i-1] = p->aField[i-1].zName;
  }
  if( atColumnNames(n, azName, azCol)!=SQLITE_OK ){
    for(i=0; i<n; i++) sqlite3_free(azCol[i]);
    goto done;
  }
  for(i=0; i<n; i++){
    p->aField[i].zColumn = azCol[i];
    aPair[i].zId = p->aField[i].zId;
    aPair[i].iField = i;
  }
  qsort(aPair, n, sizeof(IdIdx), cmpIdIdx);
  for(i=0; i<n; i++) p->aById[i] = aPair[i].iField;
  rc = SQLITE_OK;

done:
  if( rc==SQLITE_NOMEM ) atSetError(pzErr, "out of memory");
  sqlite3_free(azName);
  sqlite3_free(azCol);
  sqlite3_free(aPair);
  if( rc!=SQLITE_OK ) atSchemaClear(p);
  return rc;
}

void atSchemaClear(AtSchema *p){
  int i;
  for(i=0; i<p->nField; i++){
    sqlite3_free(p->aField[i].zId);
    sqlite3_free(p->aField[i].zName);
    sqlite3_free(p->aField[i].zType);
    sqlite3_free(p->aField[i].zColumn);
  }
  sqlite3_free(p->aField);
  sqlite3_free(p->aById);
  sqlite3_free(p->zTableId);
  sqlite3_free(p->zTableName);
  sqlite3_free(p->zViewId);
  memset(p, 0, sizeof(*p));
}

int atSchemaFieldById(const AtSchema *p, const char *zId){
  int lo = 0, hi = p->nField-1;
  while( lo<=hi ){
    int mid = (lo+hi)/2;
    int c = strcmp(zId, p->aField[p->aById[mid]].zId);
    if( c==0 ) return p->aById[mid];
    if( c<0 ) hi = mid-1; else lo = mid+1;
  }
  return -1;
}

/* id is the PRIMARY KEY of a WITHOUT ROWID table: records have no stable
** integer key, and SQLite needs one that is stable across scans where it
** runs a query as several (an OR over two constraints is two scans whose
** rows it merges by key): the record id is. */
char *atSchemaDeclare(const AtSchema *p){
  sqlite3_str *pStr = sqlite3_str_new(0);
  int i;
  sqlite3_str_appendall(pStr, "CREATE TABLE x(\"id\" TEXT PRIMARY KEY, \"created_time\" TEXT");
  for(i=0; i<p->nField; i++){
    sqlite3_str_appendf(pStr, ", \"%w\" %s", p->aField[i].zColumn,
                        atKindDeclType(p->aField[i].eKind));
  }
  sqlite3_str_appendall(pStr, ") WITHOUT ROWID");
  return sqlite3_str_finish(pStr);
}

int atMetaFetchTables(AtHttp *pHttp, const char *zApiUrl, const char *zBase,
                      cJSON **ppRoot, char **pzErr){
  const char *azSeg[4];
  AtRequest req;
  const char *zBody = 0;
  size_t nBody = 0;
  AtPage page;
  int rc;

  *ppRoot = 0;
  azSeg[0] = "meta";
  azSeg[1] = "bases";
  azSeg[2] = zBase;
  azSeg[3] = "tables";
  memset(&req, 0, sizeof(req));
  req.zMethod = "GET";
  req.zUrl = atUrlPath(zApiUrl, 4, azSeg);
  if( req.zUrl==0 ) return SQLITE_NOMEM;
  rc = atHttpDo(pHttp, &req, &zBody, &nBody, pzErr);
  if( rc==SQLITE_OK ){
    rc = atPageParse(zBody, nBody, "tables", &page, pzErr);
    if( rc==SQLITE_OK ){
      /* The page's tree lives in its arena; callers keep and cJSON_Delete
      ** the metadata, so they get a copy of their own. */
      *ppRoot = atJsonDuplicate(page.pRoot);
      atPageClear(&page);
      if( *ppRoot==0 ) rc = SQLITE_NOMEM;
    }else if( rc==SQLITE_ERROR ){
      atPrefixError(pzErr, "table metadata of base %s", zBase);
    }
  }
  atRequestClear(&req);
  return rc;
}

const char *atSchemaSmallField(const AtSchema *p, const cJSON *pTable){
  const cJSON *pPrimary;
  int i;
  for(i=0; i<p->nField; i++){
    if( p->aField[i].eKind==AT_KIND_BOOLEAN ) return p->aField[i].zId;
  }
  for(i=0; i<p->nField; i++){
    int k = p->aField[i].eKind;
    if( k==AT_KIND_INTEGER || k==AT_KIND_REAL ) return p->aField[i].zId;
  }
  pPrimary = cJSON_GetObjectItemCaseSensitive(pTable, "primaryFieldId");
  if( cJSON_IsString(pPrimary) ) return pPrimary->valuestring;
  return p->nField>0 ? p->aField[0].zId : 0;
}
