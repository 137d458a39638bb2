/*
** ratelimit.h: the process-wide per-base request limiter.
*/
#ifndef AT_RATELIMIT_H
#define AT_RATELIMIT_H

#include "airtable_int.h"

/* A request's claim on its base's window, from acquire to release. */
typedef struct AtRateTicket AtRateTicket;
struct AtRateTicket {
  int iWin;             /* window index */
  int iSlot;            /* slot in the window's ring */
  sqlite3_int64 iSeq;   /* ticket number: a recycled slot is not stamped */
};

/* Block until one more request under zKey keeps at most nPerSec requests in
** any one-second window, counting each earlier request from when it
** completed; process-wide and thread-safe. Fills *pTicket, which the caller
** must pass to atRateLimitRelease() when the request is over (whatever its
** outcome). Returns the number of milliseconds waited, or -1 without a
** ticket if xAbort (may be NULL; polled while waiting) returned true. */
int atRateLimitAcquire(const char *zKey, int nPerSec, AtRateTicket *pTicket,
                       int (*xAbort)(void*), void *pAbortArg);
void atRateLimitRelease(AtRateTicket *pTicket);

#endif /* AT_RATELIMIT_H */
