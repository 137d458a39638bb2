/*
** ratelimit.c: the process-wide request limiter. Airtable allows 5 requests
** per second per base, shared by every client of that base (Airtable docs,
** Rate limits), so every virtual table and connection in the process that
** talks to one base shares one window, guarded by one mutex.
**
** Airtable counts a request when it arrives, which is some time between our
** sending it and our reading the answer. So a request may start only when
** the one nPerSec before it has *completed* at least a second ago: each
** request holds a ticket from atRateLimitAcquire() (its slot is "in
** flight") until atRateLimitRelease() stamps the completion time.
*/
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include "ratelimit.h"

#define AT_RATE_MAX     5     /* most requests per window this module keeps */
#define AT_WINDOW_MS    1000  /* the window Airtable counts in */
#define AT_MARGIN_MS    10    /* slack for clocks that tick differently */
#define AT_MAX_KEYS     64    /* bases tracked; the least recently used is recycled */
#define AT_IN_FLIGHT    ((sqlite3_int64)1 << 62)  /* stamp of an unfinished request */

typedef struct Window Window;
struct Window {
  char zKey[256];                     /* "<api url> <base>", truncated */
  sqlite3_int64 aStamp[AT_RATE_MAX];  /* completion times (ms), a ring */
  sqlite3_int64 aSeq[AT_RATE_MAX];    /* ticket number holding each slot */
  int iNext;                          /* next slot of the ring to claim */
  sqlite3_int64 iLastUse;             /* for recycling */
};

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static Window aWindow[AT_MAX_KEYS];
static sqlite3_int64 iSeqCounter = 0;

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

/* The index of the window for zKey, claiming the least recently used slot
** for a new key. Call with the mutex held. */
static int findWindow(const char *zKey){
  int i, iOld = 0;
  for(i=0; i<AT_MAX_KEYS; i++){
    if( aWindow[i].zKey[0]
     && strncmp(aWindow[i].zKey, zKey, sizeof(aWindow[i].zKey)-1)==0 ){
      return i;
    }
    if( aWindow[i].iLastUse < aWindow[iOld].iLastUse ) iOld = i;
  }
  memset(&aWindow[iOld], 0, sizeof(Window));
  sqlite3_snprintf(sizeof(aWindow[iOld].zKey), aWindow[iOld].zKey, "%s", zKey);
  return iOld;
}

int atRateLimitAcquire(const char *zKey, int nPerSec, AtRateTicket *pTicket,
                       int (*xAbort)(void*), void *pAbortArg){
  sqlite3_int64 iStart = nowMs(), iNow;
  Window *w;
  int iWin;
  if( nPerSec<1 ) nPerSec = 1;
  if( nPerSec>AT_RATE_MAX ) nPerSec = AT_RATE_MAX;
  pthread_mutex_lock(&mutex);
  for(;;){
    sqlite3_int64 iPrev, iWait;
    iWin = findWindow(zKey);
    w = &aWindow[iWin];
    iNow = nowMs();
    w->iLastUse = iNow;
    iPrev = w->aStamp[(w->iNext + AT_RATE_MAX - nPerSec) % AT_RATE_MAX];
    if( iPrev==AT_IN_FLIGHT ){
      iWait = 5;                /* that request has not finished: poll */
    }else if( iPrev==0 ){
      iWait = 0;                /* fewer than nPerSec requests ever */
    }else{
      iWait = iPrev + AT_WINDOW_MS + AT_MARGIN_MS - iNow;
    }
    if( iWait<=0 ) break;
    pthread_mutex_unlock(&mutex);
    if( xAbort && xAbort(pAbortArg) ) return -1;
    sleepMs(iWait>50 ? 50 : iWait);   /* in slices, to notice an abort */
    pthread_mutex_lock(&mutex);
  }
  pTicket->iWin = iWin;
  pTicket->iSlot = w->iNext;
  pTicket->iSeq = ++iSeqCounter;
  w->aStamp[w->iNext] = AT_IN_FLIGHT;
  w->aSeq[w->iNext] = pTicket->iSeq;
  w->iNext = (w->iNext+1) % AT_RATE_MAX;
  pthread_mutex_unlock(&mutex);
  return (int)(iNow - iStart);
}

void atRateLimitRelease(AtRateTicket *pTicket){
  pthread_mutex_lock(&mutex);
  if( aWindow[pTicket->iWin].aSeq[pTicket->iSlot]==pTicket->iSeq ){
    aWindow[pTicket->iWin].aStamp[pTicket->iSlot] = nowMs();
  }
  pthread_mutex_unlock(&mutex);
}
