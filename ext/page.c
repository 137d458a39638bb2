/*
** page.c: parses one page of a listing (records, bases or tables) and checks
** its shape, so the rest of the extension can walk it without re-checking.
** Holding one page at a time is what bounds the read path's memory. The
** tree is json.c's (one arena per page), read with cJSON's readers.
*/
#include <string.h>
#include <cjson/cJSON.h>
#include "page.h"
#include "json.h"

int atPageCheckRecord(const cJSON *pRec, char **pzErr){
  const cJSON *pId = cJSON_GetObjectItemCaseSensitive(pRec, "id");
  const cJSON *pFields = cJSON_GetObjectItemCaseSensitive(pRec, "fields");
  if( !cJSON_IsString(pId) ){
    atSetError(pzErr, "the record has no string \"id\"");
    return SQLITE_ERROR;
  }
  if( pFields && !cJSON_IsObject(pFields) ){
    atSetError(pzErr, "record %s: \"fields\" is not an object",
               pId->valuestring);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

int atPageParse(const char *zBody, size_t nBody, const char *zArray,
                AtPage *p, char **pzErr){
  const cJSON *pArr, *pOffset, *pElem;
  int bRecords = strcmp(zArray, "records")==0;
  int i = 0;

  int rc;

  memset(p, 0, sizeof(*p));
  rc = atJsonParse(zBody, nBody, &p->json);
  if( rc==SQLITE_NOMEM ) return SQLITE_NOMEM;
  if( rc!=SQLITE_OK ){
    atSetError(pzErr, "the response is not valid JSON (error at byte %lld "
               "of %lld)", (long long)p->json.iErr, (long long)nBody);
    goto fail;
  }
  p->pRoot = p->json.pRoot;
  if( !cJSON_IsObject(p->pRoot) ){
    atSetError(pzErr, "the response is not a JSON object");
    goto fail;
  }
  pArr = cJSON_GetObjectItemCaseSensitive(p->pRoot, zArray);
  if( !cJSON_IsArray(pArr) ){
    atSetError(pzErr, "the response has no \"%s\" array", zArray);
    goto fail;
  }
  for(pElem=pArr->child; pElem; pElem=pElem->next, i++){
    if( !cJSON_IsObject(pElem) ){
      atSetError(pzErr, "element %d of \"%s\" is not an object", i, zArray);
      goto fail;
    }
    if( !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(pElem, "id")) ){
      atSetError(pzErr, "element %d of \"%s\" has no string \"id\"", i, zArray);
      goto fail;
    }
    if( bRecords && atPageCheckRecord(pElem, pzErr)!=SQLITE_OK ) goto fail;
  }
  pOffset = cJSON_GetObjectItemCaseSensitive(p->pRoot, "offset");
  if( pOffset && !cJSON_IsNull(pOffset) ){
    if( !cJSON_IsString(pOffset) || pOffset->valuestring[0]==0 ){
      atSetError(pzErr, "the response's \"offset\" is not a non-empty string");
      goto fail;
    }
    p->zOffset = atStrdup(pOffset->valuestring);
    if( p->zOffset==0 ) goto fail_nomem;
  }
  p->nRecord = i;
  p->pRecord = pArr->child;
  return SQLITE_OK;

fail_nomem:
  atPageClear(p);
  return SQLITE_NOMEM;
fail:
  atPageClear(p);
  return SQLITE_ERROR;
}

void atPageClear(AtPage *p){
  atJsonFree(&p->json);
  sqlite3_free(p->zOffset);
  memset(p, 0, sizeof(*p));
}
