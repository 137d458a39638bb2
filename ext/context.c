/*
** context.c: what one database connection's airtable tables share: the log
** of its requests (read through the airtable_requests table). It is
** reference counted: each registered module and each open connection to
** the API (AtHttp) holds a reference, so whichever goes last frees it.
*/
#include <string.h>
#include "airtable_int.h"

struct AtContext {
  int nRef;                       /* references held */
  AtLogEntry aLog[AT_LOG_MAX];    /* ring of the most recent requests */
  sqlite3_int64 iLastSeq;         /* seq of the newest entry; 0 if none */
};

AtContext *atContextNew(void){
  AtContext *p = sqlite3_malloc64(sizeof(*p));
  if( p ){
    memset(p, 0, sizeof(*p));
    p->nRef = 1;
  }
  return p;
}

void atContextRef(AtContext *p){
  if( p ) p->nRef++;
}

static void clearEntry(AtLogEntry *e){
  sqlite3_free(e->zUrl);
  sqlite3_free(e->zError);
  memset(e, 0, sizeof(*e));
}

void atContextUnref(void *pArg){
  AtContext *p = (AtContext*)pArg;
  int i;
  if( p==0 || --p->nRef>0 ) return;
  for(i=0; i<AT_LOG_MAX; i++) clearEntry(&p->aLog[i]);
  sqlite3_free(p);
}

AtLogEntry *atLogAppend(AtContext *p){
  AtLogEntry *e;
  if( p==0 ) return 0;
  e = &p->aLog[p->iLastSeq % AT_LOG_MAX];
  clearEntry(e);
  e->iSeq = ++p->iLastSeq;
  e->nRecords = -1;
  return e;
}

AtLogEntry *atLogGet(AtContext *p, sqlite3_int64 iSeq){
  AtLogEntry *e;
  if( p==0 || iSeq<1 || iSeq>p->iLastSeq ) return 0;
  e = &p->aLog[(iSeq-1) % AT_LOG_MAX];
  return e->iSeq==iSeq ? e : 0;
}

sqlite3_int64 atLogLastSeq(AtContext *p){
  return p ? p->iLastSeq : 0;
}
