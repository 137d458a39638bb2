/*
** http.c: the one HTTP layer. Every request to the API goes through
** atHttpDo(): it waits on the process-wide rate limiter, performs the request
** on the connection's reused libcurl handle (keep-alive, compressed
** responses), and turns HTTP and transport failures into messages that name
** the status and Airtable's error type, never the token.
*/
#include <string.h>
#include <curl/curl.h>
#include "airtable_int.h"

/* Airtable docs (Rate limits): 5 requests per second per base. */
#define AT_RATE_PER_BASE 5

struct AtHttp {
  CURL *pCurl;                  /* the handle, reused for keep-alive */
  struct curl_slist *pHdrGet;   /* Authorization header */
  struct curl_slist *pHdrPost;  /* Authorization and Content-Type headers */
  char *zLimitKey;              /* rate limiter key ("<api url> <base>"), or NULL */
  char *zBuf;                   /* response body, NUL-terminated */
  size_t nBuf;                  /* bytes of body in zBuf */
  size_t nAlloc;                /* bytes allocated for zBuf */
  int bTooBig;                  /* body exceeded AT_MAX_RESPONSE */
  char zCurlErr[CURL_ERROR_SIZE];  /* curl's message for the last failure */
};

/* libcurl write callback: append to the growable body buffer. Returning
** less than asked makes curl fail the transfer (CURLE_WRITE_ERROR). */
static size_t writeBody(char *pData, size_t sz, size_t n, void *pArg){
  AtHttp *p = (AtHttp*)pArg;
  size_t nData = sz*n;
  if( p->nBuf + nData > AT_MAX_RESPONSE ){
    p->bTooBig = 1;
    return 0;
  }
  if( p->nBuf + nData + 1 > p->nAlloc ){
    size_t nNew = p->nAlloc ? p->nAlloc : 65536;
    char *zNew;
    while( nNew < p->nBuf + nData + 1 ) nNew *= 2;
    zNew = sqlite3_realloc64(p->zBuf, nNew);
    if( zNew==0 ) return 0;
    p->zBuf = zNew;
    p->nAlloc = nNew;
  }
  memcpy(p->zBuf + p->nBuf, pData, nData);
  p->nBuf += nData;
  p->zBuf[p->nBuf] = 0;
  return nData;
}

/* Append a header built from zFmt to *ppList; 0 on OOM. The formatted
** string is wiped before it is freed, as it may hold the token. */
static int addHeader(struct curl_slist **ppList, const char *zFmt,
                     const char *zArg){
  char *zHdr = sqlite3_mprintf(zFmt, zArg);
  struct curl_slist *pNew;
  if( zHdr==0 ) return 0;
  pNew = curl_slist_append(*ppList, zHdr);
  memset(zHdr, 0, strlen(zHdr));
  sqlite3_free(zHdr);
  if( pNew==0 ) return 0;
  *ppList = pNew;
  return 1;
}

AtHttp *atHttpNew(const char *zToken, const char *zLimitKey){
  AtHttp *p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return 0;
  memset(p, 0, sizeof(*p));
  p->pCurl = curl_easy_init();
  if( p->pCurl==0
   || !addHeader(&p->pHdrGet, "Authorization: Bearer %s", zToken)
   || !addHeader(&p->pHdrPost, "Authorization: Bearer %s", zToken)
   || !addHeader(&p->pHdrPost, "Content-Type: %s", "application/json")
   || (zLimitKey && (p->zLimitKey = atStrdup(zLimitKey))==0)
  ){
    atHttpFree(p);
    return 0;
  }
  curl_easy_setopt(p->pCurl, CURLOPT_ERRORBUFFER, p->zCurlErr);
  curl_easy_setopt(p->pCurl, CURLOPT_WRITEFUNCTION, writeBody);
  curl_easy_setopt(p->pCurl, CURLOPT_WRITEDATA, p);
  curl_easy_setopt(p->pCurl, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(p->pCurl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(p->pCurl, CURLOPT_USERAGENT, "airtable-sqlite/" AT_VERSION);
  curl_easy_setopt(p->pCurl, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
  /* A stalled server fails the request instead of hanging the query:
  ** fewer than 1 byte/s for 60 s aborts the transfer. */
  curl_easy_setopt(p->pCurl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(p->pCurl, CURLOPT_LOW_SPEED_TIME, 60L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(p->pCurl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(p->pCurl, CURLOPT_PROTOCOLS, CURLPROTO_HTTP|CURLPROTO_HTTPS);
#endif
  return p;
}

/* Free a header list, wiping each entry first (they hold the token). */
static void freeHeaders(struct curl_slist *pList){
  struct curl_slist *pIter;
  for(pIter=pList; pIter; pIter=pIter->next){
    memset(pIter->data, 0, strlen(pIter->data));
  }
  curl_slist_free_all(pList);
}

void atHttpFree(AtHttp *p){
  if( p==0 ) return;
  if( p->pCurl ) curl_easy_cleanup(p->pCurl);
  freeHeaders(p->pHdrGet);
  freeHeaders(p->pHdrPost);
  sqlite3_free(p->zLimitKey);
  sqlite3_free(p->zBuf);
  sqlite3_free(p);
}

char *atErrorBodyMessage(const char *zBody, size_t nBody){
  cJSON *pRoot = cJSON_ParseWithLength(zBody, nBody);
  const cJSON *pErr, *pType, *pMsg;
  char *zOut = 0;
  if( pRoot==0 ) return 0;
  pErr = cJSON_GetObjectItemCaseSensitive(pRoot, "error");
  if( cJSON_IsString(pErr) ){
    /* Airtable docs (Errors): {"error": "NOT_FOUND"} */
    zOut = sqlite3_mprintf("%.200s", pErr->valuestring);
  }else if( cJSON_IsObject(pErr) ){
    /* Airtable docs (Errors): {"error": {"type": "...", "message": "..."}} */
    pType = cJSON_GetObjectItemCaseSensitive(pErr, "type");
    pMsg = cJSON_GetObjectItemCaseSensitive(pErr, "message");
    if( cJSON_IsString(pType) && cJSON_IsString(pMsg) ){
      zOut = sqlite3_mprintf("%.200s: %.1000s", pType->valuestring,
                             pMsg->valuestring);
    }else if( cJSON_IsString(pType) ){
      zOut = sqlite3_mprintf("%.200s", pType->valuestring);
    }
  }
  cJSON_Delete(pRoot);
  return zOut;
}

int atHttpDo(AtHttp *p, const AtRequest *pReq, const char **pzBody,
             size_t *pnBody, char **pzErr){
  CURLcode cc;
  long iStatus = 0;
  int bPost = pReq->zBody!=0;
  AtRateTicket ticket;

  if( p->zLimitKey ) atRateLimitAcquire(p->zLimitKey, AT_RATE_PER_BASE, &ticket);
  p->nBuf = 0;
  p->bTooBig = 0;
  p->zCurlErr[0] = 0;
  if( p->zBuf ) p->zBuf[0] = 0;
  curl_easy_setopt(p->pCurl, CURLOPT_URL, pReq->zUrl);
  if( bPost ){
    curl_easy_setopt(p->pCurl, CURLOPT_HTTPHEADER, p->pHdrPost);
    curl_easy_setopt(p->pCurl, CURLOPT_POSTFIELDSIZE, (long)strlen(pReq->zBody));
    curl_easy_setopt(p->pCurl, CURLOPT_POSTFIELDS, pReq->zBody);
  }else{
    curl_easy_setopt(p->pCurl, CURLOPT_HTTPHEADER, p->pHdrGet);
    curl_easy_setopt(p->pCurl, CURLOPT_HTTPGET, 1L);
  }
  cc = curl_easy_perform(p->pCurl);
  if( p->zLimitKey ) atRateLimitRelease(&ticket);
  if( cc!=CURLE_OK ){
    if( p->bTooBig ){
      atSetError(pzErr, "the response to %s %s is larger than %d bytes",
                 pReq->zMethod, pReq->zUrl, AT_MAX_RESPONSE);
    }else{
      atSetError(pzErr, "%s (%s %s)",
                 p->zCurlErr[0] ? p->zCurlErr : curl_easy_strerror(cc),
                 pReq->zMethod, pReq->zUrl);
    }
    return SQLITE_ERROR;
  }
  curl_easy_getinfo(p->pCurl, CURLINFO_RESPONSE_CODE, &iStatus);
  if( iStatus<200 || iStatus>299 ){
    char *zMsg = p->zBuf ? atErrorBodyMessage(p->zBuf, p->nBuf) : 0;
    if( zMsg ){
      atSetError(pzErr, "HTTP %ld %s", iStatus, zMsg);
      sqlite3_free(zMsg);
    }else{
      atSetError(pzErr, "HTTP %ld", iStatus);
    }
    return SQLITE_ERROR;
  }
  *pzBody = p->zBuf ? p->zBuf : "";
  *pnBody = p->nBuf;
  return SQLITE_OK;
}
