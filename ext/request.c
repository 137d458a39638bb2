/*
** request.c: builds Airtable API requests: URL paths with percent-encoded
** segments, and list-records requests (fields, formula, sort, limits,
** offset) as a GET URL or, when that URL would be too long, as a POST to
** .../listRecords with the same options in a JSON body.
**
** Airtable docs (List records): URLs must be shorter than 16,000 characters;
** the POST listRecords endpoint takes the same options in the body.
*/
#include <string.h>
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include "request.h"

/* Append z percent-encoded (everything but A-Z a-z 0-9 - . _ ~). curl's
** only failure is OOM, which sets *pbOom. */
static void appendEscaped(sqlite3_str *pStr, const char *z, int *pbOom){
  char *zEsc = curl_easy_escape(0, z, (int)strlen(z));
  if( zEsc==0 ){
    *pbOom = 1;
    return;
  }
  sqlite3_str_appendall(pStr, zEsc);
  curl_free(zEsc);
}

/* Finish pStr, returning NULL (and freeing the text) if bOom. */
static char *finishStr(sqlite3_str *pStr, int bOom){
  char *z = sqlite3_str_finish(pStr);
  if( bOom ){
    sqlite3_free(z);
    z = 0;
  }
  return z;
}

/* Append zApiUrl without a trailing '/'. */
static void appendRoot(sqlite3_str *pStr, const char *zApiUrl){
  int n = (int)strlen(zApiUrl);
  while( n>0 && zApiUrl[n-1]=='/' ) n--;
  sqlite3_str_append(pStr, zApiUrl, n);
  sqlite3_str_appendall(pStr, "/v0");
}

char *atUrlPath(const char *zApiUrl, int nSeg, const char *const *azSeg){
  sqlite3_str *pStr = sqlite3_str_new(0);
  int i, bOom = 0;
  appendRoot(pStr, zApiUrl);
  for(i=0; i<nSeg; i++){
    sqlite3_str_appendchar(pStr, 1, '/');
    appendEscaped(pStr, azSeg[i], &bOom);
  }
  return finishStr(pStr, bOom);
}

/* Append "&name=value" (or "?name=value" for the first), value encoded. */
static void appendParam(sqlite3_str *pStr, int *pnParam, const char *zName,
                        const char *zValue, int *pbOom){
  sqlite3_str_appendchar(pStr, 1, (*pnParam)++ ? '&' : '?');
  sqlite3_str_appendall(pStr, zName);
  sqlite3_str_appendchar(pStr, 1, '=');
  appendEscaped(pStr, zValue, pbOom);
}

static char *listGetUrl(const char *zApiUrl, const char *zBase,
                        const char *zTable, const AtListQuery *q){
  const char *azSeg[2];
  sqlite3_str *pStr;
  char *zPath;
  int nParam = 0, bOom = 0;
  int i;
  char zNum[32];

  azSeg[0] = zBase;
  azSeg[1] = zTable;
  zPath = atUrlPath(zApiUrl, 2, azSeg);
  if( zPath==0 ) return 0;
  pStr = sqlite3_str_new(0);
  sqlite3_str_appendall(pStr, zPath);
  sqlite3_free(zPath);
  for(i=0; i<q->nField; i++){
    appendParam(pStr, &nParam, "fields%5B%5D", q->azField[i], &bOom);
  }
  if( q->zFormula ) appendParam(pStr, &nParam, "filterByFormula", q->zFormula, &bOom);
  if( q->nMaxRecords>0 ){
    sqlite3_snprintf(sizeof(zNum), zNum, "%lld", q->nMaxRecords);
    appendParam(pStr, &nParam, "maxRecords", zNum, &bOom);
  }
  if( q->nPageSize>0 ){
    sqlite3_snprintf(sizeof(zNum), zNum, "%d", q->nPageSize);
    appendParam(pStr, &nParam, "pageSize", zNum, &bOom);
  }
  for(i=0; i<q->nSort; i++){
    char zKey[64];
    sqlite3_snprintf(sizeof(zKey), zKey, "sort%%5B%d%%5D%%5Bfield%%5D", i);
    appendParam(pStr, &nParam, zKey, q->aSort[i].zField, &bOom);
    sqlite3_snprintf(sizeof(zKey), zKey, "sort%%5B%d%%5D%%5Bdirection%%5D", i);
    appendParam(pStr, &nParam, zKey, q->aSort[i].bDesc ? "desc" : "asc", &bOom);
  }
  if( q->zView ) appendParam(pStr, &nParam, "view", q->zView, &bOom);
  if( q->bFieldsById ) appendParam(pStr, &nParam, "returnFieldsByFieldId", "true", &bOom);
  if( q->zOffset ) appendParam(pStr, &nParam, "offset", q->zOffset, &bOom);
  return finishStr(pStr, bOom);
}

/* The same request as a JSON body for POST .../listRecords. */
static char *listPostBody(const AtListQuery *q){
  cJSON *pBody = cJSON_CreateObject();
  char *zJson, *zOut = 0;
  int i, bOk = pBody!=0;
  if( bOk && q->nField>0 ){
    cJSON *pArr = cJSON_AddArrayToObject(pBody, "fields");
    bOk = pArr!=0;
    for(i=0; bOk && i<q->nField; i++){
      bOk = cJSON_AddItemToArray(pArr, cJSON_CreateString(q->azField[i]));
    }
  }
  if( bOk && q->zFormula ){
    bOk = cJSON_AddStringToObject(pBody, "filterByFormula", q->zFormula)!=0;
  }
  if( bOk && q->nMaxRecords>0 ){
    bOk = cJSON_AddNumberToObject(pBody, "maxRecords", (double)q->nMaxRecords)!=0;
  }
  if( bOk && q->nPageSize>0 ){
    bOk = cJSON_AddNumberToObject(pBody, "pageSize", q->nPageSize)!=0;
  }
  if( bOk && q->nSort>0 ){
    cJSON *pArr = cJSON_AddArrayToObject(pBody, "sort");
    bOk = pArr!=0;
    for(i=0; bOk && i<q->nSort; i++){
      cJSON *pKey = cJSON_CreateObject();
      bOk = cJSON_AddItemToArray(pArr, pKey)
         && cJSON_AddStringToObject(pKey, "field", q->aSort[i].zField)
         && cJSON_AddStringToObject(pKey, "direction",
                                    q->aSort[i].bDesc ? "desc" : "asc");
    }
  }
  if( bOk && q->zView ){
    bOk = cJSON_AddStringToObject(pBody, "view", q->zView)!=0;
  }
  if( bOk && q->bFieldsById ){
    bOk = cJSON_AddTrueToObject(pBody, "returnFieldsByFieldId")!=0;
  }
  if( bOk && q->zOffset ){
    bOk = cJSON_AddStringToObject(pBody, "offset", q->zOffset)!=0;
  }
  zJson = bOk ? cJSON_PrintUnformatted(pBody) : 0;
  cJSON_Delete(pBody);
  if( zJson ){
    zOut = atStrdup(zJson);
    cJSON_free(zJson);
  }
  return zOut;
}

int atListRequest(const char *zApiUrl, const char *zBase, const char *zTable,
                  const AtListQuery *q, int nMaxUrl, AtRequest *pReq){
  memset(pReq, 0, sizeof(*pReq));
  pReq->zMethod = "GET";
  pReq->zFormula = q->zFormula;
  if( q->nField>0 ){
    cJSON *pArr = cJSON_CreateArray();
    char *z;
    int i;
    for(i=0; pArr && i<q->nField; i++){
      cJSON_AddItemToArray(pArr, cJSON_CreateString(q->azField[i]));
    }
    z = pArr ? cJSON_PrintUnformatted(pArr) : 0;
    cJSON_Delete(pArr);
    if( z==0 ) return SQLITE_NOMEM;
    pReq->zFields = atStrdup(z);
    cJSON_free(z);
    if( pReq->zFields==0 ) return SQLITE_NOMEM;
  }
  pReq->zUrl = listGetUrl(zApiUrl, zBase, zTable, q);
  if( pReq->zUrl==0 ){
    atRequestClear(pReq);
    return SQLITE_NOMEM;
  }
  if( (int)strlen(pReq->zUrl) > nMaxUrl ){
    const char *azSeg[3];
    sqlite3_free(pReq->zUrl);
    azSeg[0] = zBase;
    azSeg[1] = zTable;
    azSeg[2] = "listRecords";
    pReq->zMethod = "POST";
    pReq->zUrl = atUrlPath(zApiUrl, 3, azSeg);
    pReq->zBody = listPostBody(q);
    if( pReq->zUrl==0 || pReq->zBody==0 ){
      atRequestClear(pReq);
      return SQLITE_NOMEM;
    }
  }
  return SQLITE_OK;
}

void atRequestClear(AtRequest *pReq){
  sqlite3_free(pReq->zUrl);
  sqlite3_free(pReq->zBody);
  sqlite3_free(pReq->zFields);
  memset(pReq, 0, sizeof(*pReq));
}
