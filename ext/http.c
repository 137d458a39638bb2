/*
** http.c: the one HTTP layer. Every request to the API goes through
** atHttpDo(): it waits on the process-wide rate limiter, performs the request
** on the connection's reused libcurl handle (keep-alive; responses asked
** for gzip-compressed, and inflated here by libdeflate rather than by
** libcurl's zlib: it takes a third of zlib's CPU, and inflating was a third
** of an export's instructions), retries what Airtable and the network make
** worth retrying,
** logs the request for airtable_requests, stops promptly when SQLite is
** interrupted, and turns failures into messages that name the status and
** Airtable's error type, never the token.
*/
#include <math.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <curl/curl.h>
#include <libdeflate.h>
#include <cjson/cJSON.h>
#include "http.h"
#include "context.h"
#include "ratelimit.h"
#include "request.h"


struct AtHttp {
  CURL *pCurl;                  /* the handle, reused for keep-alive */
  struct curl_slist *pHdrGet;   /* Authorization header */
  struct curl_slist *pHdrPost;  /* Authorization and Content-Type headers */
  char *zLimitKey;              /* rate limiter key ("<api url> <base>"), or NULL */
  char *zTokenWhere;            /* where the token was read, for a 401 or
                                ** 403's message (atTokenWhere), or NULL */
  AtHttpConfig cfg;             /* retry policy (cfg.zCaFile is owned) */
  sqlite3 *db;                  /* connection whose interrupts stop us, or NULL */
  AtWatch watch;                /* sees db's interrupts (during a request) */
  int (*xAbort)(void*);         /* also stops us when it returns true, or NULL */
  void *pAbortArg;              /* its argument */
  AtHttpStats stats;            /* what this connection has cost so far */
  AtContext *pCtx;              /* request log owner (a reference), or NULL */
  sqlite3_int64 iLogSeq;        /* log entry of the last request */
  char *zBuf;                   /* response body, NUL-terminated */
  size_t nBuf;                  /* bytes of body in zBuf */
  size_t nAlloc;                /* bytes allocated for zBuf */
  char *zGz;                    /* the other buffer: what zBuf held before
                                ** inflating (buffers swap, both reused) */
  size_t nGzAlloc;              /* bytes allocated for zGz */
  struct libdeflate_decompressor *pInflate;  /* made on first gzip body */
  int nEncGzip;                 /* gzip items in the Content-Encoding list */
  int bEncOther;                /* an item that is neither gzip nor identity */
  int bEncLine;                 /* the last header line was Content-Encoding */
  char zEncoding[64];           /* the list as sent, for messages */
  int bTooBig;                  /* body exceeded AT_MAX_RESPONSE */
  int bInterrupted;             /* the progress callback saw an interrupt */
  int iLastStatus;              /* HTTP status of the last attempt */
  char *zLastType;              /* Airtable error type of the last attempt */
  char zCurlErr[CURL_ERROR_SIZE];  /* curl's message for the last failure */
};

void atHttpConfigDefault(AtHttpConfig *p){
  memset(p, 0, sizeof(*p));
  p->nRatePerSec = AT_DEFAULT_RATE;
  p->nMaxRetries = AT_DEFAULT_MAX_RETRIES;
  p->rRateLimitWait = AT_DEFAULT_429_WAIT;
  p->rRetryBackoff = AT_DEFAULT_BACKOFF;
  p->rRetryBudget = AT_DEFAULT_BUDGET;
  p->rConnectTimeout = AT_DEFAULT_CONNECT;
  p->nTimeout = AT_DEFAULT_TIMEOUT;
}

static sqlite3_int64 nowMs(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (sqlite3_int64)ts.tv_sec*1000 + ts.tv_nsec/1000000;
}

/* Watching for sqlite3_interrupt() (Ctrl-C in the shell). SQLite before
** 3.41 has no sqlite3_is_interrupted(); there, the probe does it: an endless
** one-column query, kept running while the watch lasts. Each step of a
** running statement checks the interrupt flag; only a step that starts a
** statement while none is active clears it, which is why the probe is
** started once and never reset (an xConnect runs inside sqlite3_prepare,
** when no statement may be active). */
void atWatchBegin(AtWatch *p, sqlite3 *db){
  memset(p, 0, sizeof(*p));
  p->db = db;
#if SQLITE_VERSION_NUMBER < 3041000
  if( db ){
    /* Its first step starts it running; a parser or a step that sees an
    ** interrupt fails. */
    int rc = sqlite3_prepare_v2(db,
        "WITH RECURSIVE probe(x) AS (VALUES(0) UNION ALL SELECT x FROM probe) "
        "SELECT x FROM probe", -1, &p->pProbe, 0);
    if( rc==SQLITE_INTERRUPT ){
      p->bFired = 1;
    }else if( rc==SQLITE_OK ){
      atWatchCheck(p);
    }
  }
#endif
}

int atWatchCheck(AtWatch *p){
  if( p->db==0 ) return 0;
  if( p->bFired ) return 1;
#if SQLITE_VERSION_NUMBER >= 3041000
  p->bFired = sqlite3_is_interrupted(p->db);
#else
  if( p->pProbe && sqlite3_step(p->pProbe)!=SQLITE_ROW ) p->bFired = 1;
#endif
  return p->bFired;
}

void atWatchEnd(AtWatch *p){
  if( p->pProbe ) sqlite3_finalize(p->pProbe);
  memset(p, 0, sizeof(*p));
}

/* True if the request should stop: the connection was interrupted, or the
** abort hook says so. */
static int isInterrupted(void *pArg){
  AtHttp *p = (AtHttp*)pArg;
  if( p->bInterrupted ) return 1;
  if( (p->xAbort && p->xAbort(p->pAbortArg)) || atWatchCheck(&p->watch) ){
    p->bInterrupted = 1;
  }
  return p->bInterrupted;
}

/* libcurl progress callback: non-zero aborts the transfer. */
static int onProgress(void *pArg, curl_off_t a, curl_off_t b, curl_off_t c,
                      curl_off_t d){
  (void)a; (void)b; (void)c; (void)d;
  return isInterrupted(pArg);
}

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

/* Add the items of a Content-Encoding value z[0..n-1] ("gzip",
** "identity, gzip", ...) to what the response's headers say. */
static void noteEncodings(AtHttp *p, const char *z, size_t n){
  size_t i = 0, nText = strlen(p->zEncoding);
  while( i<n ){
    size_t a = i, b;
    while( i<n && z[i]!=',' ) i++;
    b = i++;
    while( a<b && (z[a]==' ' || z[a]=='\t') ) a++;
    while( b>a && (z[b-1]=='\r' || z[b-1]=='\n' || z[b-1]==' ' || z[b-1]=='\t') ) b--;
    if( a==b ) continue;
    if( nText+2<sizeof(p->zEncoding) ){
      sqlite3_snprintf((int)(sizeof(p->zEncoding)-nText), p->zEncoding+nText,
                       "%s%.*s", nText ? ", " : "", (int)(b-a), z+a);
      nText = strlen(p->zEncoding);
    }
    if( b-a==8 && sqlite3_strnicmp(z+a, "identity", 8)==0 ) continue;
    if( (b-a==4 && sqlite3_strnicmp(z+a, "gzip", 4)==0)
     || (b-a==6 && sqlite3_strnicmp(z+a, "x-gzip", 6)==0) ){
      p->nEncGzip++;
    }else{
      p->bEncOther = 1;
    }
  }
}

/* Forget what earlier headers said: a new attempt or response begins. */
static void encodingReset(AtHttp *p){
  p->nEncGzip = 0;
  p->bEncOther = 0;
  p->bEncLine = 0;
  p->zEncoding[0] = 0;
}

/* libcurl header callback: gathers the response's Content-Encoding list
** (RFC 9110: several such headers are one list; a line folded onto the
** next continues it). A status line starts a response afresh (100
** Continue, then the real one); lines after body bytes are trailers,
** which cannot change how the body was sent. */
static size_t onHeader(char *z, size_t sz, size_t n, void *pArg){
  AtHttp *p = (AtHttp*)pArg;
  size_t nz = sz*n;
  static const char zName[] = "content-encoding:";
  if( p->nBuf>0 ) return nz;
  if( nz>=5 && memcmp(z, "HTTP/", 5)==0 ){
    encodingReset(p);
  }else if( nz>0 && (z[0]==' ' || z[0]=='\t') ){
    if( p->bEncLine ) noteEncodings(p, z, nz);
  }else if( nz>=sizeof(zName)-1 && sqlite3_strnicmp(z, zName, sizeof(zName)-1)==0 ){
    p->bEncLine = 1;
    noteEncodings(p, z+sizeof(zName)-1, nz-(sizeof(zName)-1));
  }else{
    p->bEncLine = 0;
  }
  return nz;
}

int atGunzip(struct libdeflate_decompressor *pDec, const char *a, size_t n,
             char **pzOut, size_t *pnAlloc, size_t *pnOut, size_t nMax){
  size_t iIn = 0, nOut = 0;
  if( nMax > ((size_t)-1)/4 ) nMax = ((size_t)-1)/4;
  while( iIn<n ){
    /* One member at a time (a gzip body may be several, concatenated).
    ** The last four bytes give the last member's size: a first guess for
    ** the room needed, grown by doubling when short. */
    size_t nGuess = 0, nInUsed = 0, nOutUsed = 0;
    enum libdeflate_result r;
    if( n>=4 ){
      const unsigned char *t = (const unsigned char*)a + n - 4;
      nGuess = (size_t)t[0] | (size_t)t[1]<<8 | (size_t)t[2]<<16
             | (size_t)t[3]<<24;
      /* DEFLATE expands at most 1032 to 1: a larger claim is a lie. */
      if( nGuess/1032 > n - iIn ) nGuess = (n - iIn)*1032;
    }
    if( nGuess<65536 ) nGuess = 65536;
    for(;;){
      if( *pnAlloc < nOut + nGuess + 1 ){
        size_t nNew = nOut + nGuess + 1;
        char *zNew;
        if( nOut>0 && nNew < *pnAlloc*2 ) nNew = *pnAlloc*2;  /* members: double */
        if( nNew > nMax + 2 ) nNew = nMax + 2;    /* room to see nMax+1 bytes */
        if( nNew > *pnAlloc ){
          zNew = sqlite3_realloc64(*pzOut, nNew);
          if( zNew==0 ) return SQLITE_NOMEM;
          *pzOut = zNew;
          *pnAlloc = nNew;
        }
      }
      r = libdeflate_gzip_decompress_ex(pDec, a + iIn, n - iIn, *pzOut + nOut,
                                        *pnAlloc - nOut - 1, &nInUsed, &nOutUsed);
      if( r!=LIBDEFLATE_INSUFFICIENT_SPACE ) break;
      if( *pnAlloc >= nMax + 2 ) return SQLITE_TOOBIG;
      nGuess = (*pnAlloc - nOut)*2;
    }
    if( r!=LIBDEFLATE_SUCCESS || nInUsed==0 ) return SQLITE_ERROR;
    nOut += nOutUsed;
    if( nOut > nMax ) return SQLITE_TOOBIG;
    iIn += nInUsed;
  }
  if( *pzOut==0 ){
    *pzOut = sqlite3_malloc64(1);
    if( *pzOut==0 ) return SQLITE_NOMEM;
    *pnAlloc = 1;
  }
  (*pzOut)[nOut] = 0;
  *pnOut = nOut;
  return SQLITE_OK;
}

/* Turn the body just received into what the server meant: inflate a gzip
** body (the buffers swap, so both stay allocated for the next request);
** refuse an encoding that was not asked for. */
static int decodeBody(AtHttp *p, const AtRequest *pReq, char **pzErr){
  size_t nOut = 0;
  int rc;
  char *z;
  if( p->nEncGzip==0 && !p->bEncOther ) return SQLITE_OK;
  if( p->bEncOther || p->nEncGzip>1 ){
    atSetError(pzErr, "the response to %s %s has Content-Encoding '%s', "
               "which was not asked for (only gzip is, once)", pReq->zMethod,
               pReq->zUrl, p->zEncoding);
    return SQLITE_ERROR;
  }
  if( p->pInflate==0 ){
    p->pInflate = libdeflate_alloc_decompressor();
    if( p->pInflate==0 ) return SQLITE_NOMEM;
  }
  rc = atGunzip(p->pInflate, p->zBuf ? p->zBuf : "", p->nBuf, &p->zGz,
                &p->nGzAlloc, &nOut, AT_MAX_RESPONSE);
  if( rc==SQLITE_TOOBIG ){
    atSetError(pzErr, "the response to %s %s is larger than %d bytes",
               pReq->zMethod, pReq->zUrl, AT_MAX_RESPONSE);
    return SQLITE_ERROR;
  }
  if( rc==SQLITE_ERROR ){
    atSetError(pzErr, "the response to %s %s is not valid gzip "
               "(Content-Encoding: %s, %lld bytes)", pReq->zMethod,
               pReq->zUrl, p->zEncoding, (long long)p->nBuf);
    return SQLITE_ERROR;
  }
  if( rc!=SQLITE_OK ) return rc;
  z = p->zBuf;
  p->zBuf = p->zGz;
  p->zGz = z;
  { size_t t = p->nAlloc; p->nAlloc = p->nGzAlloc; p->nGzAlloc = t; }
  p->nBuf = nOut;
  return SQLITE_OK;
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

AtHttp *atHttpNew(const char *zToken, const char *zLimitKey,
                  const AtHttpConfig *pCfg, sqlite3 *db, AtContext *pCtx){
  AtHttp *p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return 0;
  memset(p, 0, sizeof(*p));
  p->cfg = *pCfg;
  p->cfg.zCaFile = 0;
  p->db = db;
  p->pCtx = pCtx;
  atContextRef(pCtx);
  p->pCurl = curl_easy_init();
  if( p->pCurl==0
   || !addHeader(&p->pHdrGet, "Authorization: Bearer %s", zToken)
   || !addHeader(&p->pHdrGet, "Accept-Encoding: %s", "gzip")
   || !addHeader(&p->pHdrPost, "Authorization: Bearer %s", zToken)
   || !addHeader(&p->pHdrPost, "Accept-Encoding: %s", "gzip")
   || !addHeader(&p->pHdrPost, "Content-Type: %s", "application/json")
   || (zLimitKey && (p->zLimitKey = atStrdup(zLimitKey))==0)
   || (pCfg->zCaFile && (p->cfg.zCaFile = atStrdup(pCfg->zCaFile))==0)
  ){
    atHttpFree(p);
    return 0;
  }
  curl_easy_setopt(p->pCurl, CURLOPT_ERRORBUFFER, p->zCurlErr);
  curl_easy_setopt(p->pCurl, CURLOPT_WRITEFUNCTION, writeBody);
  curl_easy_setopt(p->pCurl, CURLOPT_WRITEDATA, p);
  /* Bodies arrive as sent; decodeBody() inflates them. */
  curl_easy_setopt(p->pCurl, CURLOPT_HTTP_CONTENT_DECODING, 0L);
  curl_easy_setopt(p->pCurl, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(p->pCurl, CURLOPT_HEADERDATA, p);
  curl_easy_setopt(p->pCurl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(p->pCurl, CURLOPT_USERAGENT, "airtable-sqlite/" AT_VERSION);
  curl_easy_setopt(p->pCurl, CURLOPT_CONNECTTIMEOUT_MS,
                   (long)(p->cfg.rConnectTimeout*1000));
  /* A stalled server fails the attempt instead of hanging the query: less
  ** than 1 byte/s for the timeout aborts the transfer. */
  curl_easy_setopt(p->pCurl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(p->pCurl, CURLOPT_LOW_SPEED_TIME, (long)p->cfg.nTimeout);
  curl_easy_setopt(p->pCurl, CURLOPT_XFERINFOFUNCTION, onProgress);
  curl_easy_setopt(p->pCurl, CURLOPT_XFERINFODATA, p);
  curl_easy_setopt(p->pCurl, CURLOPT_NOPROGRESS, 0L);
  /* Certificates are always verified (curl's default, never turned off);
  ** ca_file only chooses which authorities are trusted. */
  if( p->cfg.zCaFile ) curl_easy_setopt(p->pCurl, CURLOPT_CAINFO, p->cfg.zCaFile);
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
  atContextUnref(p->pCtx);
  sqlite3_free((char*)p->cfg.zCaFile);
  sqlite3_free(p->zLimitKey);
  sqlite3_free(p->zTokenWhere);
  sqlite3_free(p->zLastType);
  sqlite3_free(p->zBuf);
  sqlite3_free(p->zGz);
  if( p->pInflate ) libdeflate_free_decompressor(p->pInflate);
  sqlite3_free(p);
}

char *atErrorBodyMessage(const char *zBody, size_t nBody, char **pzType){
  cJSON *pRoot = cJSON_ParseWithLength(zBody, nBody);
  const cJSON *pErr, *pType, *pMsg;
  const char *zType = 0;
  char *zOut = 0;
  if( pzType ) *pzType = 0;
  if( pRoot==0 ) return 0;
  pErr = cJSON_GetObjectItemCaseSensitive(pRoot, "error");
  if( cJSON_IsString(pErr) ){
    /* Airtable docs (Errors): {"error": "NOT_FOUND"} */
    zType = pErr->valuestring;
    zOut = sqlite3_mprintf("%.200s", zType);
  }else if( cJSON_IsObject(pErr) ){
    /* Airtable docs (Errors): {"error": {"type": "...", "message": "..."}} */
    pType = cJSON_GetObjectItemCaseSensitive(pErr, "type");
    pMsg = cJSON_GetObjectItemCaseSensitive(pErr, "message");
    if( cJSON_IsString(pType) ){
      zType = pType->valuestring;
      if( cJSON_IsString(pMsg) ){
        zOut = sqlite3_mprintf("%.200s: %.1000s", zType, pMsg->valuestring);
      }else{
        zOut = sqlite3_mprintf("%.200s", zType);
      }
    }
  }
  if( zOut && pzType ) *pzType = sqlite3_mprintf("%.200s", zType);
  cJSON_Delete(pRoot);
  return zOut;
}

/* Is a failed attempt worth retrying? Airtable docs: 429 means wait and
** retry; 503 RETRIABLE_ERROR says so; 500, 502 and 504 are transient
** server or gateway failures. Network failures that may pass: resets,
** empty replies, truncated bodies, timeouts, refused connections. */
static int isRetryable(CURLcode cc, long iStatus){
  if( cc==CURLE_OK ){
    return iStatus==429 || iStatus==500 || iStatus==502 || iStatus==503
        || iStatus==504;
  }
  switch( cc ){
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
      return 1;
    default:
      return 0;
  }
}

/* How long to wait (ms) before retry number iRetry (1, 2, ...) after a
** failure with status iStatus: Retry-After when the server sent one; after
** a 429, rate_limit_wait; else retry_backoff doubled per retry, with
** jitter (a random 50-100% of it) so that clients do not retry in step. */
static sqlite3_int64 retryWaitMs(AtHttp *p, long iStatus, int iRetry){
  curl_off_t nAfter = -1;
  double r;
  unsigned int u;
  curl_easy_getinfo(p->pCurl, CURLINFO_RETRY_AFTER, &nAfter);
  if( nAfter>0 ){
    /* The server's number: clamp it before scaling (a day is past any
    ** retry_budget) so a huge value cannot overflow. */
    if( nAfter>86400 ) nAfter = 86400;
    return (sqlite3_int64)nAfter*1000;
  }
  if( iStatus==429 ) return (sqlite3_int64)(p->cfg.rRateLimitWait*1000);
  r = p->cfg.rRetryBackoff*1000 * pow(2.0, iRetry-1);
  sqlite3_randomness(sizeof(u), &u);
  return (sqlite3_int64)(r * (0.5 + 0.5*(u/4294967295.0)));
}

/* Sleep ms, in slices, returning early (non-zero) if interrupted. */
static int sleepInterruptible(AtHttp *p, sqlite3_int64 ms){
  sqlite3_int64 iEnd = nowMs() + ms;
  while( nowMs()<iEnd ){
    sqlite3_int64 iLeft = iEnd - nowMs();
    struct timespec ts;
    if( isInterrupted(p) ) return 1;
    if( iLeft>50 ) iLeft = 50;
    ts.tv_sec = 0;
    ts.tv_nsec = (long)iLeft*1000000;
    nanosleep(&ts, 0);
  }
  return isInterrupted(p);
}

/* One attempt: perform the request and describe any failure in *pzErr. */
/* True if the last transfer's timeout came after connecting: one before
** is curl's connect timeout, whose own words ("Failed to connect ...",
** "Connection timed out ...") say so and are kept. A reused connection
** reports no connect time, so curl's words decide. */
static int connectedAt(AtHttp *p){
  return strstr(p->zCurlErr, "onnect")==0 && strstr(p->zCurlErr, "esolv")==0;
}

static int attempt(AtHttp *p, const AtRequest *pReq, sqlite3_int64 nCapMs,
                   CURLcode *pcc, long *piStatus, char **pzErr){
  CURLcode cc;
  long iStatus = 0;
  p->nBuf = 0;
  p->bTooBig = 0;
  encodingReset(p);
  p->zCurlErr[0] = 0;
  if( p->zBuf ) p->zBuf[0] = 0;
  sqlite3_free(p->zLastType);
  p->zLastType = 0;
  curl_easy_setopt(p->pCurl, CURLOPT_URL, pReq->zUrl);
  /* The attempt's whole length: data that keeps coming (a server that
  ** drips bytes) must not outlast timeout, nor what is left of the budget. */
  curl_easy_setopt(p->pCurl, CURLOPT_TIMEOUT_MS, (long)(nCapMs>0 ? nCapMs : 1));
  if( pReq->zBody ){
    curl_easy_setopt(p->pCurl, CURLOPT_HTTPHEADER, p->pHdrPost);
    curl_easy_setopt(p->pCurl, CURLOPT_POSTFIELDSIZE, (long)strlen(pReq->zBody));
    curl_easy_setopt(p->pCurl, CURLOPT_POSTFIELDS, pReq->zBody);
  }else{
    curl_easy_setopt(p->pCurl, CURLOPT_HTTPHEADER, p->pHdrGet);
    curl_easy_setopt(p->pCurl, CURLOPT_HTTPGET, 1L);
  }
  cc = curl_easy_perform(p->pCurl);
  *pcc = cc;
  if( cc!=CURLE_OK ){
    *piStatus = 0;
    p->iLastStatus = 0;
    if( cc==CURLE_ABORTED_BY_CALLBACK && p->bInterrupted ){
      atSetError(pzErr, "interrupted (%s %s)", pReq->zMethod, pReq->zUrl);
      return SQLITE_INTERRUPT;
    }
    if( p->bTooBig ){
      atSetError(pzErr, "the response to %s %s is larger than %d bytes",
                 pReq->zMethod, pReq->zUrl, AT_MAX_RESPONSE);
    }else if( cc==CURLE_OPERATION_TIMEDOUT && connectedAt(p) ){
      /* A stall, a drip or the attempt's cap: curl words them in several
      ** ways; say which limit ended it and what came. */
      curl_off_t nGot = 0;
      curl_easy_getinfo(p->pCurl, CURLINFO_SIZE_DOWNLOAD_T, &nGot);
      atSetError(pzErr, "no complete answer in time: %lld bytes came before "
                 "%s ended the attempt (%s %s)", (long long)nGot,
                 nCapMs < (sqlite3_int64)p->cfg.nTimeout*1000
                   ? "what was left of retry_budget" : "timeout",
                 pReq->zMethod, pReq->zUrl);
    }else{
      atSetError(pzErr, "%s (%s %s)",
                 p->zCurlErr[0] ? p->zCurlErr : curl_easy_strerror(cc),
                 pReq->zMethod, pReq->zUrl);
    }
    return SQLITE_ERROR;
  }
  curl_easy_getinfo(p->pCurl, CURLINFO_RESPONSE_CODE, &iStatus);
  *piStatus = iStatus;
  p->iLastStatus = (int)iStatus;
  {
    int rc = decodeBody(p, pReq, pzErr);
    if( rc!=SQLITE_OK ){
      /* A failure's status says more than its unreadable body. */
      if( rc==SQLITE_ERROR && (iStatus<200 || iStatus>299) ){
        atPrefixError(pzErr, "HTTP %ld", iStatus);
      }
      return rc;
    }
  }
  if( iStatus<200 || iStatus>299 ){
    char *zMsg = p->zBuf ? atErrorBodyMessage(p->zBuf, p->nBuf, &p->zLastType) : 0;
    const char *zBase = p->zLimitKey ? strrchr(p->zLimitKey, ' ') : 0;
    char *zNote = 0;
    /* Say what a refusal is about: which token (never the token itself),
    ** and for a 403, which base it could not read. */
    if( iStatus>=300 && iStatus<400 ){
      /* Never followed (the token must not go where a server points), but
      ** said: where it pointed. */
      char *zTo = 0;
      curl_easy_getinfo(p->pCurl, CURLINFO_REDIRECT_URL, &zTo);
      zNote = sqlite3_mprintf(" (a redirect to %s, not followed: the API does "
                              "not redirect; check api_url)",
                              zTo ? zTo : "no Location given");
    }else if( iStatus==401 && p->zTokenWhere ){
      zNote = sqlite3_mprintf(" (the token from %s was refused)", p->zTokenWhere);
    }else if( iStatus==403 && zBase && p->zTokenWhere ){
      zNote = sqlite3_mprintf(" (base %s, with the token from %s)", zBase+1,
                              p->zTokenWhere);
    }
    if( zMsg ){
      atSetError(pzErr, "HTTP %ld %s%s", iStatus, zMsg, zNote ? zNote : "");
      sqlite3_free(zMsg);
    }else{
      atSetError(pzErr, "HTTP %ld%s", iStatus, zNote ? zNote : "");
    }
    sqlite3_free(zNote);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

int atHttpDo(AtHttp *p, const AtRequest *pReq, const char **pzBody,
             size_t *pnBody, char **pzErr){
  sqlite3_int64 iStart = nowMs();
  AtLogEntry log;
  struct timeval tv;
  int nRetry = 0, nWaitMs = 0, rc;
  sqlite3_int64 nCapMs;
  CURLcode cc = CURLE_OK;
  long iStatus = 0;

  memset(&log, 0, sizeof(log));
  gettimeofday(&tv, 0);
  log.rTime = tv.tv_sec + tv.tv_usec/1e6;
  p->bInterrupted = 0;
  /* The watch (its probe) lives only while this request does, so it never
  ** holds the connection open. */
  atWatchBegin(&p->watch, p->db);

  for(;;){
    AtRateTicket ticket;
    sqlite3_int64 iWait;
    int ms = 0;
    if( p->zLimitKey && p->cfg.nRatePerSec>0 ){
      ms = atRateLimitAcquire(p->zLimitKey, p->cfg.nRatePerSec, &ticket,
                              isInterrupted, p);
    }else if( isInterrupted(p) ){
      ms = -1;
    }
    if( ms<0 ){
      atSetError(pzErr, "interrupted (%s %s)", pReq->zMethod, pReq->zUrl);
      rc = SQLITE_INTERRUPT;
      break;
    }
    nWaitMs += ms;
    /* Each attempt ends within timeout and within what is left of the
    ** budget (issue 20: a drip of 2.5 bytes a second ran 400 s past
    ** timeout=5, retry_budget=10). */
    nCapMs = (sqlite3_int64)(p->cfg.rRetryBudget*1000) - (nowMs() - iStart);
    if( nCapMs > (sqlite3_int64)p->cfg.nTimeout*1000 ){
      nCapMs = (sqlite3_int64)p->cfg.nTimeout*1000;
    }
    if( nCapMs<=0 ){
      if( p->zLimitKey && p->cfg.nRatePerSec>0 ) atRateLimitRelease(&ticket);
      atSetError(pzErr, "retry_budget of %.15g s used up before the request "
                 "could be sent (%s %s)", p->cfg.rRetryBudget, pReq->zMethod,
                 pReq->zUrl);
      rc = SQLITE_ERROR;
      break;
    }
    p->stats.nAttempts++;
    rc = attempt(p, pReq, nCapMs, &cc, &iStatus, pzErr);
    if( p->zLimitKey && p->cfg.nRatePerSec>0 ) atRateLimitRelease(&ticket);
    if( rc!=SQLITE_ERROR || !isRetryable(cc, iStatus) ) break;
    if( nRetry>=p->cfg.nMaxRetries ) break;
    iWait = retryWaitMs(p, iStatus, nRetry+1);
    if( nowMs() + iWait - iStart > (sqlite3_int64)(p->cfg.rRetryBudget*1000) ){
      if( nRetry==0 && *pzErr ){
        char *zMore = sqlite3_mprintf("%s (not retried: waiting %.1f s would "
            "pass retry_budget)", *pzErr, iWait/1000.0);
        if( zMore ){
          sqlite3_free(*pzErr);
          *pzErr = zMore;
        }
      }
      break;
    }
    {
      sqlite3_int64 iSleepStart = nowMs();
      int bStop = sleepInterruptible(p, iWait);
      nWaitMs += (int)(nowMs() - iSleepStart);
      if( bStop ){
        atSetError(pzErr, "interrupted (%s %s)", pReq->zMethod, pReq->zUrl);
        rc = SQLITE_INTERRUPT;
        break;
      }
    }
    nRetry++;
  }
  if( rc==SQLITE_ERROR && nRetry>0 && *pzErr ){
    char *zMore = sqlite3_mprintf("%s (gave up after %d %s in %.1f s)", *pzErr,
                                  nRetry, nRetry==1 ? "retry" : "retries",
                                  (nowMs()-iStart)/1000.0);
    if( zMore ){
      sqlite3_free(*pzErr);
      *pzErr = zMore;
    }
  }
  atWatchEnd(&p->watch);
  p->stats.nRequests++;
  p->stats.nRetries += nRetry;
  p->stats.nWaitMs += nWaitMs;
  if( p->pCtx ){
    log.zMethod = pReq->zMethod;
    log.zUrl = atStrdup(pReq->zUrl);
    log.iStatus = (int)iStatus;
    log.nMs = (int)(nowMs() - iStart);
    log.nBytes = (sqlite3_int64)p->nBuf;
    log.nRecords = -1;
    log.nRetries = nRetry;
    log.nWaitMs = nWaitMs;
    if( rc!=SQLITE_OK && *pzErr ) log.zError = atStrdup(*pzErr);
    if( pReq->zFormula ) log.zFormula = atStrdup(pReq->zFormula);
    if( pReq->zFields ) log.zFields = atStrdup(pReq->zFields);
    p->iLogSeq = atLogAdd(p->pCtx, &log);
  }
  if( rc==SQLITE_OK ){
    *pzBody = p->zBuf ? p->zBuf : "";
    *pnBody = p->nBuf;
    /* A retry that succeeded leaves no message of the attempt before. */
    sqlite3_free(*pzErr);
    *pzErr = 0;
  }
  return rc;
}

int atHttpLastStatus(AtHttp *p){
  return p->iLastStatus;
}

const char *atHttpLastErrorType(AtHttp *p){
  return p->zLastType ? p->zLastType : "";
}

void atHttpSetTokenWhere(AtHttp *p, const char *zWhere){
  sqlite3_free(p->zTokenWhere);
  p->zTokenWhere = atStrdup(zWhere);
}

void atHttpNoteRecords(AtHttp *p, int nRecords){
  atLogSetRecords(p->pCtx, p->iLogSeq, nRecords);
}

void atHttpSetAbort(AtHttp *p, int (*xAbort)(void*), void *pArg){
  p->xAbort = xAbort;
  p->pAbortArg = pArg;
}

void atHttpGetStats(AtHttp *p, AtHttpStats *pStats){
  *pStats = p->stats;
}
