/*
** context.c: what one database connection's airtable tables share: the log
** of its requests (read through the airtable_requests table) and the list
** of its connected airtable tables (so SQL functions can find one by name).
** It is reference counted: each registered module and each open connection
** to the API (AtHttp) holds a reference, so whichever goes last frees it.
**
** An export makes requests from worker threads, so references and the log
** are guarded by one mutex. The table list and atLogGet() are used only by
** the database connection's own thread.
*/
#include <pthread.h>
#include <string.h>
#include "context.h"
#include "http.h"

typedef struct AtNamedTable AtNamedTable;
struct AtNamedTable {
  char *zDb;                      /* schema name: "main", "temp", ... */
  char *zName;                    /* table name */
  void *pTab;                     /* the table (owned by SQLite) */
  AtNamedTable *pNext;
};

struct AtContext {
  int nRef;                       /* references held */
  AtLogEntry aLog[AT_LOG_MAX];    /* ring of the most recent requests */
  sqlite3_int64 iLastSeq;         /* seq of the newest entry; 0 if none */
  AtNamedTable *pTables;          /* connected airtable tables */
  char **azAllow;                 /* "key=value": where this connection's
                                  ** user said a token may come from or go */
  int nAllow;
};

/* One lock for every context: taken briefly, once per request. */
static pthread_mutex_t ctxMutex = PTHREAD_MUTEX_INITIALIZER;

AtContext *atContextNew(void){
  AtContext *p = sqlite3_malloc64(sizeof(*p));
  if( p ){
    memset(p, 0, sizeof(*p));
    p->nRef = 1;
  }
  return p;
}

void atContextRef(AtContext *p){
  if( p==0 ) return;
  pthread_mutex_lock(&ctxMutex);
  p->nRef++;
  pthread_mutex_unlock(&ctxMutex);
}

static void clearEntry(AtLogEntry *e){
  sqlite3_free(e->zUrl);
  sqlite3_free(e->zError);
  sqlite3_free(e->zFormula);
  sqlite3_free(e->zFields);
  memset(e, 0, sizeof(*e));
}

void atContextUnref(void *pArg){
  AtContext *p = (AtContext*)pArg;
  int i, nRef;
  if( p==0 ) return;
  pthread_mutex_lock(&ctxMutex);
  nRef = --p->nRef;
  pthread_mutex_unlock(&ctxMutex);
  if( nRef>0 ) return;
  for(i=0; i<AT_LOG_MAX; i++) clearEntry(&p->aLog[i]);
  for(i=0; i<p->nAllow; i++) sqlite3_free(p->azAllow[i]);
  sqlite3_free(p->azAllow);
  while( p->pTables ){
    AtNamedTable *pDel = p->pTables;
    p->pTables = pDel->pNext;
    sqlite3_free(pDel->zDb);
    sqlite3_free(pDel->zName);
    sqlite3_free(pDel);
  }
  sqlite3_free(p);
}

sqlite3_int64 atLogAdd(AtContext *p, AtLogEntry *pNew){
  AtLogEntry *e;
  sqlite3_int64 iSeq;
  if( p==0 ){
    sqlite3_free(pNew->zUrl);
    sqlite3_free(pNew->zError);
    sqlite3_free(pNew->zFormula);
    sqlite3_free(pNew->zFields);
    return 0;
  }
  pthread_mutex_lock(&ctxMutex);
  e = &p->aLog[p->iLastSeq % AT_LOG_MAX];
  clearEntry(e);
  *e = *pNew;
  e->iSeq = iSeq = ++p->iLastSeq;
  pthread_mutex_unlock(&ctxMutex);
  pNew->zUrl = 0;
  pNew->zError = 0;
  pNew->zFormula = 0;
  pNew->zFields = 0;
  return iSeq;
}

void atLogSetRecords(AtContext *p, sqlite3_int64 iSeq, int nRecords){
  AtLogEntry *e;
  if( p==0 || iSeq<1 ) return;
  pthread_mutex_lock(&ctxMutex);
  e = &p->aLog[(iSeq-1) % AT_LOG_MAX];
  if( e->iSeq==iSeq ) e->nRecords = nRecords;
  pthread_mutex_unlock(&ctxMutex);
}

AtLogEntry *atLogGet(AtContext *p, sqlite3_int64 iSeq){
  AtLogEntry *e;
  if( p==0 || iSeq<1 || iSeq>p->iLastSeq ) return 0;
  e = &p->aLog[(iSeq-1) % AT_LOG_MAX];
  return e->iSeq==iSeq ? e : 0;
}

sqlite3_int64 atLogLastSeq(AtContext *p){
  sqlite3_int64 i;
  if( p==0 ) return 0;
  pthread_mutex_lock(&ctxMutex);
  i = p->iLastSeq;
  pthread_mutex_unlock(&ctxMutex);
  return i;
}

int atContextAllow(AtContext *p, const char *zKey, const char *zValue){
  char *z, **az;
  if( atContextAllowed(p, zKey, zValue) ) return SQLITE_OK;
  z = sqlite3_mprintf("%s=%s", zKey, zValue);
  az = z ? sqlite3_realloc64(p->azAllow, sizeof(char*)*(p->nAllow+1)) : 0;
  if( az==0 ){
    sqlite3_free(z);
    return SQLITE_NOMEM;
  }
  p->azAllow = az;
  p->azAllow[p->nAllow++] = z;
  return SQLITE_OK;
}

int atContextAllowed(AtContext *p, const char *zKey, const char *zValue){
  size_t n = strlen(zKey);
  int i;
  for(i=0; p && i<p->nAllow; i++){
    const char *z = p->azAllow[i];
    if( strncmp(z, zKey, n)==0 && z[n]=='=' && strcmp(z+n+1, zValue)==0 ) return 1;
  }
  return 0;
}

int atContextAddTable(AtContext *p, const char *zDb, const char *zName,
                      void *pTab){
  AtNamedTable *pNew = sqlite3_malloc64(sizeof(*pNew));
  if( pNew==0 ) return SQLITE_NOMEM;
  pNew->zDb = atStrdup(zDb);
  pNew->zName = atStrdup(zName);
  if( pNew->zDb==0 || pNew->zName==0 ){
    sqlite3_free(pNew->zDb);
    sqlite3_free(pNew->zName);
    sqlite3_free(pNew);
    return SQLITE_NOMEM;
  }
  pNew->pTab = pTab;
  pNew->pNext = p->pTables;
  p->pTables = pNew;
  return SQLITE_OK;
}

void atContextRemoveTable(AtContext *p, void *pTab){
  AtNamedTable **pp;
  if( p==0 ) return;
  for(pp=&p->pTables; *pp; pp=&(*pp)->pNext){
    if( (*pp)->pTab==pTab ){
      AtNamedTable *pDel = *pp;
      *pp = pDel->pNext;
      sqlite3_free(pDel->zDb);
      sqlite3_free(pDel->zName);
      sqlite3_free(pDel);
      return;
    }
  }
}

void *atContextFindTable(AtContext *p, const char *zDb, const char *zName){
  AtNamedTable *t;
  for(t=p->pTables; t; t=t->pNext){
    if( sqlite3_stricmp(t->zName, zName)==0
     && (zDb ? sqlite3_stricmp(t->zDb, zDb)==0 : strcmp(t->zDb, "main")==0) ){
      return t->pTab;
    }
  }
  if( zDb ) return 0;
  for(t=p->pTables; t; t=t->pNext){
    if( sqlite3_stricmp(t->zName, zName)==0 ) return t->pTab;
  }
  return 0;
}
