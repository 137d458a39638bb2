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

/* Check that the n names az[] (sqlite3_malloc'd; freed here), joined
** with '|', are zWant. For the functions that name columns. */
#define CHECK_NAMES(n, az, zWant) do{ \
  sqlite3_str *p_ = sqlite3_str_new(0); char *z_; int i_; \
  for(i_=0; i_<(n); i_++){ \
    sqlite3_str_appendf(p_, "%s%s", i_ ? "|" : "", (az)[i_]); \
    sqlite3_free((az)[i_]); } \
  z_ = sqlite3_str_finish(p_); CHECK_STR(z_, zWant); sqlite3_free(z_); \
}while(0)

#define DONE() do{ \
  printf("%d passed, %d failed\n", nPass, nFail); \
  return nFail ? 1 : 0; \
}while(0)

#endif
