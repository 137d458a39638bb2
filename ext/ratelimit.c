/*
** ratelimit.c: the process-wide request limiter. Airtable allows 5 requests
** per second per base, shared by every client of that base (Airtable docs,
** Rate limits), so every virtual table and connection in the process that
** talks to one base shares one window, guarded by one mutex.
*/
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include "airtable_int.h"

#define AT_RATE_MAX     5     /* most requests per window this module keeps */
#define AT_WINDOW_MS    1000  /* the window Airtable counts in */
#define AT_MARGIN_MS    25    /* slack for the clocks and the wire between us */
#define AT_MAX_KEYS     64    /* bases tracked; the oldest-used is recycled */

typedef struct Window Window;
struct Window {
  char zKey[256];                 /* "<api url> <base>", truncated */
  sqlite3_int64 aSent[AT_RATE_MAX]; /* send times (ms), a ring */
  int iNext;                      /* next slot of aSent to overwrite */
  sqlite3_int64 iLastUse;         /* for recycling */
};

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static Window aWindow[AT_MAX_KEYS];

static sqlite3_int64 nowMs(void){
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (sqlite3_int64)ts.tv_sec*1000 + ts.tv_nsec/1000000;
}

static void sleepMs(sqlite3_int64 ms){
  struct timespec ts;
  ts.tv_sec = (time_t)(ms/1000);
  ts.tv_nsec = (long)(ms%1000)*1000000;
  while( nanosleep(&ts, &ts)!=0 && errno==EINTR ){}
}

/* The window for zKey, claiming a free or the least recently used slot. */
static Window *findWindow(const char *zKey){
  int i, iOld = 0;
  for(i=0; i<AT_MAX_KEYS; i++){
    if( strncmp(aWindow[i].zKey, zKey, sizeof(aWindow[i].zKey)-1)==0
     && aWindow[i].zKey[0] ){
      return &aWindow[i];
    }
    if( aWindow[i].iLastUse < aWindow[iOld].iLastUse ) iOld = i;
  }
  memset(&aWindow[iOld], 0, sizeof(Window));
  sqlite3_snprintf(sizeof(aWindow[iOld].zKey), aWindow[iOld].zKey, "%s", zKey);
  return &aWindow[iOld];
}

int atRateLimitWait(const char *zKey, int nPerSec){
  sqlite3_int64 iStart = nowMs(), iNow, iWait;
  Window *w;
  if( nPerSec<1 ) nPerSec = 1;
  if( nPerSec>AT_RATE_MAX ) nPerSec = AT_RATE_MAX;
  pthread_mutex_lock(&mutex);
  w = findWindow(zKey);
  /* The request nPerSec back must be a full window (plus margin) ago. The
  ** ring holds AT_RATE_MAX entries; the one nPerSec back is at iNext-nPerSec.
  ** Waiting inside the mutex queues other threads behind us, in order. */
  iNow = nowMs();
  iWait = w->aSent[(w->iNext + AT_RATE_MAX - nPerSec) % AT_RATE_MAX]
          + AT_WINDOW_MS + AT_MARGIN_MS - iNow;
  if( w->aSent[(w->iNext + AT_RATE_MAX - nPerSec) % AT_RATE_MAX]==0 ) iWait = 0;
  if( iWait>0 ){
    sleepMs(iWait);
    iNow = nowMs();
  }
  w->aSent[w->iNext] = iNow;
  w->iNext = (w->iNext+1) % AT_RATE_MAX;
  w->iLastUse = iNow;
  pthread_mutex_unlock(&mutex);
  return (int)(iNow - iStart);
}
