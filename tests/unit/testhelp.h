/*
** testhelp.h: the unit tests' harness. CHECK records a failure with its
** line and goes on; CHECK_STR compares strings exactly (NULL-safe) and
** prints both on mismatch; DONE prints the count and sets the exit status.
*/
#ifndef TESTHELP_H
#define TESTHELP_H
#include <stdio.h>
#include <string.h>

static int nPass = 0, nFail = 0;

#define CHECK(cond) do{ \
  if( cond ){ nPass++; }else{ nFail++; \
    fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); } \
}while(0)

#define CHECK_STR(got, want) do{ \
  const char *g_ = (got), *w_ = (want); \
  if( (g_==0 && w_==0) || (g_ && w_ && strcmp(g_, w_)==0) ){ nPass++; } \
  else{ nFail++; fprintf(stderr, "%s:%d: FAILED: %s\n  got:  %s\n  want: %s\n", \
        __FILE__, __LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); } \
}while(0)

#define DONE() do{ \
  printf("%d passed, %d failed\n", nPass, nFail); \
  return nFail ? 1 : 0; \
}while(0)

#endif
