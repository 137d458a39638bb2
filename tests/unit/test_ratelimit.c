/* test_ratelimit.c: the per-base limiter (ratelimit.c). Only lower bounds
** on waits are asserted (a sleep is never shorter than asked), and "did not
** wait a whole window" for requests that must not wait: no test here
** depends on the machine being fast. */
#include <pthread.h>
#include <time.h>
#include "airtable_int.h"
#include "ratelimit.h"
#include "testhelp.h"

static void sleepMs(int ms){
  struct timespec ts = { ms/1000, (ms%1000)*1000000L };
  nanosleep(&ts, 0);
}

static void testFiveThenWait(void){
  AtRateTicket a[6];
  int i, ms;
  for(i=0; i<5; i++){
    ms = atRateLimitAcquire("http://x appA", 5, &a[i], 0, 0);
    CHECK(ms < 1000);                /* the first five do not wait */
    atRateLimitRelease(&a[i]);
  }
  ms = atRateLimitAcquire("http://x appA", 5, &a[5], 0, 0);
  CHECK(ms >= 990);                  /* the sixth waits for the window */
  atRateLimitRelease(&a[5]);
  /* Another base has its own window. */
  ms = atRateLimitAcquire("http://x appB", 5, &a[0], 0, 0);
  CHECK(ms < 1000);
  atRateLimitRelease(&a[0]);
}

static void testLowerRate(void){
  AtRateTicket t;
  int ms;
  ms = atRateLimitAcquire("http://x appC", 1, &t, 0, 0);
  CHECK(ms < 1000);
  atRateLimitRelease(&t);
  ms = atRateLimitAcquire("http://x appC", 1, &t, 0, 0);
  CHECK(ms >= 990);
  atRateLimitRelease(&t);
}

/* A request in flight holds its slot: the sixth waits for its completion
** plus a window, not for its start plus a window. */
static AtRateTicket aHeld[5];
static void *sixth(void *pArg){
  AtRateTicket t;
  *(int*)pArg = atRateLimitAcquire("http://x appD", 5, &t, 0, 0);
  atRateLimitRelease(&t);
  return 0;
}

static void testInFlight(void){
  pthread_t th;
  int i, ms = -1;
  for(i=0; i<5; i++) atRateLimitAcquire("http://x appD", 5, &aHeld[i], 0, 0);
  pthread_create(&th, 0, sixth, &ms);
  sleepMs(300);                      /* the first request is slow */
  for(i=0; i<5; i++) atRateLimitRelease(&aHeld[i]);
  pthread_join(th, 0);
  CHECK(ms >= 300 + 990);
}

int main(void){
  testFiveThenWait();
  testLowerRate();
  testInFlight();
  DONE();
}
