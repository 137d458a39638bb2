/* test_http.c: what the HTTP layer reads from a response: Airtable's error
** bodies (both documented shapes) and gzip bodies inflated by atGunzip
** (http.c). */
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "airtable_int.h"
#include "http.h"
#include "testhelp.h"

static void testErrorBodies(void){
  char *z, *zType;
#define ERRBODY(body, want) \
  z = atErrorBodyMessage(body, strlen(body), 0); CHECK_STR(z, want); sqlite3_free(z)
  ERRBODY("{\"error\":\"NOT_FOUND\"}", "NOT_FOUND");
  ERRBODY("{\"error\":{\"type\":\"LIST_RECORDS_ITERATOR_NOT_AVAILABLE\"}}",
          "LIST_RECORDS_ITERATOR_NOT_AVAILABLE");
  ERRBODY("{\"error\":{\"type\":\"RATE_LIMIT_REACHED\",\"message\":\"Rate limit "
          "exceeded. Please try again later\"}}",
          "RATE_LIMIT_REACHED: Rate limit exceeded. Please try again later");
  ERRBODY("<html>502 Bad Gateway</html>", 0);
  ERRBODY("{\"error\":42}", 0);
  ERRBODY("{\"message\":\"x\"}", 0);
  z = atErrorBodyMessage("{\"error\":{\"type\":\"T\",\"message\":\"M\"}}", 36, &zType);
  CHECK_STR(z, "T: M");
  CHECK_STR(zType, "T");
  sqlite3_free(z);
  sqlite3_free(zType);
  z = atErrorBodyMessage("{\"error\":\"NOT_FOUND\"}", 21, &zType);
  CHECK_STR(zType, "NOT_FOUND");
  sqlite3_free(z);
  sqlite3_free(zType);
  z = atErrorBodyMessage("nope", 4, &zType);
  CHECK(z==0 && zType==0);
}

/* z[0..n-1] as one gzip member (zlib, as a server compresses), appended to
** the buffer *pa of *pn bytes. */
static void gzipAppend(unsigned char **pa, size_t *pn, const char *z, size_t n){
  z_stream s;
  size_t nMax;
  memset(&s, 0, sizeof(s));
  deflateInit2(&s, 6, Z_DEFLATED, 15+16, 8, Z_DEFAULT_STRATEGY);
  nMax = deflateBound(&s, n) + 32;
  *pa = realloc(*pa, *pn + nMax);
  s.next_in = (unsigned char*)z;
  s.avail_in = (uInt)n;
  s.next_out = *pa + *pn;
  s.avail_out = (uInt)nMax;
  deflate(&s, Z_FINISH);
  *pn += s.total_out;
  deflateEnd(&s);
}

/* atGunzip of a[0..n-1] with a limit: "ok N <first 20 bytes>" or the rc. */
static char *gunzip(const unsigned char *a, size_t n, size_t nMax){
  struct libdeflate_decompressor *pDec = libdeflate_alloc_decompressor();
  char *zOut = 0, *zRes;
  size_t nAlloc = 0, nOut = 0;
  int rc = atGunzip(pDec, (const char*)a, n, &zOut, &nAlloc, &nOut, nMax);
  if( rc==SQLITE_OK ){
    zRes = sqlite3_mprintf("ok %lld %.20s%s", (long long)nOut, zOut,
                           zOut[nOut]==0 ? "" : " (no NUL)");
  }else{
    zRes = sqlite3_mprintf("rc %d", rc);
  }
  sqlite3_free(zOut);
  libdeflate_free_decompressor(pDec);
  return zRes;
}

#define GUNZIP(a, n, nMax, want) do{ \
  char *z_ = gunzip(a, n, nMax); CHECK_STR(z_, want); sqlite3_free(z_); }while(0)

static void testGunzip(void){
  static const char zPage[] = "{\"records\":[{\"id\":\"recA\"}]}";
  unsigned char *a = 0, *b;
  size_t n = 0, nBig = 300000, i;
  char *zBig = malloc(nBig);

  gzipAppend(&a, &n, zPage, strlen(zPage));
  GUNZIP(a, n, 1000, "ok 27 {\"records\":[{\"id\":\"r");
  GUNZIP(a, n, 27, "ok 27 {\"records\":[{\"id\":\"r");   /* just the limit */
  GUNZIP(a, n, 26, "rc 18");                                /* SQLITE_TOOBIG */
  /* Two members, concatenated: both, in order. */
  gzipAppend(&a, &n, "tail", 4);
  GUNZIP(a, n, 1000, "ok 31 {\"records\":[{\"id\":\"r");
  /* Bytes after the last member, a truncated member, a broken CRC, data
  ** that is not deflate, not gzip at all: not valid gzip. */
  b = malloc(n + 3);
  memcpy(b, a, n);
  memcpy(b + n, "xyz", 3);
  GUNZIP(b, n + 3, 1000, "rc 1");
  GUNZIP(a, n - 5, 1000, "rc 1");
  memcpy(b, a, n);
  b[n-6] ^= 0x55;                          /* the last member's CRC */
  GUNZIP(b, n, 1000, "rc 1");
  memcpy(b, a, n);
  b[12] ^= 0xFF;                           /* inside the first deflate data */
  GUNZIP(b, n, 1000, "rc 1");
  GUNZIP((const unsigned char*)zPage, strlen(zPage), 1000, "rc 1");
  free(b);
  /* Nothing at all: an empty body. */
  GUNZIP(a, 0, 1000, "ok 0 ");

  /* 300,000 bytes, then a member of 4: the last trailer's size is the
  ** first guess of the room (too small for the first member), which grows
  ** until it fits; a limit below the size is SQLITE_TOOBIG, however the
  ** room grows; a trailer's size that is wrong is not valid gzip. */
  for(i=0; i<nBig; i++) zBig[i] = (char)('a' + i%26);
  free(a);
  a = 0;
  n = 0;
  gzipAppend(&a, &n, zBig, nBig);
  gzipAppend(&a, &n, "tail", 4);
  GUNZIP(a, n, nBig + 4, "ok 300004 abcdefghijklmnopqrst");
  GUNZIP(a, n, nBig + 3, "rc 18");
  a[n-4] = 5;
  GUNZIP(a, n, nBig + 4, "rc 1");
  free(a);
  a = 0;
  n = 0;
  gzipAppend(&a, &n, zBig, nBig);
  GUNZIP(a, n, nBig - 1, "rc 18");
  GUNZIP(a, n, 100000, "rc 18");
  free(a);
  /* 20,000 members of 50 bytes: the room grows by doubling, not by one
  ** reallocation per member (found by review: 67,000 members took over 15
  ** minutes under ASan, which copies on every realloc). */
  a = 0;
  n = 0;
  for(i=0; i<20000; i++) gzipAppend(&a, &n, zBig, 50);
  GUNZIP(a, n, 1000000, "ok 1000000 abcdefghijklmnopqrst");
  GUNZIP(a, n, 999999, "rc 18");
  free(a);
  free(zBig);
}

int main(void){
  testErrorBodies();
  testGunzip();
  DONE();
}
