/* test_cache.c: the cache's packed values (cache.c): the exact bytes (the
** format must read the same on any machine), a round trip of every kind of
** value through SQLite, and malformed blobs refused, never overread. */
#include <math.h>
#include <stdint.h>
#include "airtable_int.h"
#include "buf.h"
#include "cache.h"
#include "value.h"
#include "testhelp.h"

/* unpack(BLOB, I, N): value I of the N packed in BLOB, or an error. */
static void unpackFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const unsigned char *a = sqlite3_value_blob(argv[0]);
  int n = sqlite3_value_bytes(argv[0]);
  int i = sqlite3_value_int(argv[1]), nVal = sqlite3_value_int(argv[2]);
  int aOff[16];
  (void)argc;
  if( nVal>16 || atCacheUnpackOffsets(a, n, nVal, aOff)!=SQLITE_OK ){
    sqlite3_result_error(ctx, "corrupt", -1);
    return;
  }
  atCacheUnpackResult(ctx, a, aOff[i]);
}

static void packCell(AtBuf *p, int eType, sqlite3_int64 i, double r, const char *z, int n){
  AtCell c;
  memset(&c, 0, sizeof(c));
  c.eType = eType;
  c.i = i;
  c.r = r;
  c.z = z;
  c.n = n;
  atCachePack(p, &c);
}

/* "typeof quote" of value i of the n in blob a[0..nA-1]. */
static char *show(sqlite3 *db, const char *a, int nA, int i, int n){
  sqlite3_stmt *pStmt;
  char *zOut;
  sqlite3_prepare_v2(db, "SELECT typeof(v) || ' ' || quote(v) FROM (SELECT unpack(?1, ?2, ?3) AS v)",
                     -1, &pStmt, 0);
  sqlite3_bind_blob(pStmt, 1, a, nA, SQLITE_STATIC);
  sqlite3_bind_int(pStmt, 2, i);
  sqlite3_bind_int(pStmt, 3, n);
  if( sqlite3_step(pStmt)==SQLITE_ROW ){
    zOut = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 0));
  }else{
    zOut = sqlite3_mprintf("error %s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(pStmt);
  return zOut;
}

#define SHOW(a, nA, i, n, want) do{ \
  char *z_ = show(db, a, nA, i, n); CHECK_STR(z_, want); sqlite3_free(z_); }while(0)

int main(void){
  sqlite3 *db;
  AtBuf b;
  int aOff[8];
  static const unsigned char aWant[] = {
    0,                                   /* NULL */
    1, 0x02,0x01,0,0,0,0,0,0,            /* integer 258, little-endian */
    3, 2,0,0,0, 'h','i',                 /* text "hi" */
  };
  sqlite3_open(":memory:", &db);
  sqlite3_create_function(db, "unpack", 3, SQLITE_UTF8, 0, unpackFunc, 0, 0);

  /* The exact bytes. */
  memset(&b, 0, sizeof(b));
  packCell(&b, SQLITE_NULL, 0, 0, 0, 0);
  packCell(&b, SQLITE_INTEGER, 258, 0, 0, 0);
  packCell(&b, SQLITE_TEXT, 0, 0, "hi", 2);
  CHECK( b.n==sizeof(aWant) && memcmp(b.z, aWant, sizeof(aWant))==0 );
  CHECK( atCacheUnpackOffsets((const unsigned char*)b.z, (int)b.n, 3, aOff)==SQLITE_OK );
  CHECK( aOff[0]==0 && aOff[1]==1 && aOff[2]==10 );
  atBufClear(&b);

  /* Every kind of value, the extremes included, comes back as it went. */
  memset(&b, 0, sizeof(b));
  packCell(&b, SQLITE_INTEGER, INT64_MIN, 0, 0, 0);
  packCell(&b, SQLITE_INTEGER, INT64_MAX, 0, 0, 0);
  packCell(&b, SQLITE_INTEGER, -1, 0, 0, 0);
  packCell(&b, SQLITE_FLOAT, 0, 0.1, 0, 0);
  packCell(&b, SQLITE_FLOAT, 0, -1e308, 0, 0);
  packCell(&b, SQLITE_TEXT, 0, 0, "", 0);
  packCell(&b, SQLITE_TEXT, 0, 0, "caf\xc3\xa9 \"q\" 'x'", 14);
  packCell(&b, SQLITE_NULL, 0, 0, 0, 0);
  SHOW(b.z, (int)b.n, 0, 8, "integer -9223372036854775808");
  SHOW(b.z, (int)b.n, 1, 8, "integer 9223372036854775807");
  SHOW(b.z, (int)b.n, 2, 8, "integer -1");
  SHOW(b.z, (int)b.n, 3, 8, "real 0.1");
  SHOW(b.z, (int)b.n, 4, 8, "real -1.0e+308");
  SHOW(b.z, (int)b.n, 5, 8, "text ''");
  SHOW(b.z, (int)b.n, 6, 8, "text 'caf\xc3\xa9 \"q\" ''x'''");
  SHOW(b.z, (int)b.n, 7, 8, "null NULL");

  /* Malformed: fewer values than the layout, a cut value, an unknown tag,
  ** a text length past the end. Each is refused. */
  CHECK( atCacheUnpackOffsets((const unsigned char*)b.z, (int)b.n, 9, aOff)==SQLITE_CORRUPT );
  CHECK( atCacheUnpackOffsets((const unsigned char*)b.z, 5, 1, aOff)==SQLITE_CORRUPT );
  CHECK( atCacheUnpackOffsets((const unsigned char*)"\x07", 1, 1, aOff)==SQLITE_CORRUPT );
  CHECK( atCacheUnpackOffsets((const unsigned char*)"\x03\x09\x00\x00\x00ab", 7, 1, aOff)==SQLITE_CORRUPT );
  CHECK( atCacheUnpackOffsets((const unsigned char*)"\x03\xff\xff\xff\xff", 5, 1, aOff)==SQLITE_CORRUPT );
  CHECK( atCacheUnpackOffsets((const unsigned char*)"", 0, 0, aOff)==SQLITE_OK );
  SHOW("\x01\x02", 2, 0, 1, "error corrupt");
  atBufClear(&b);
  sqlite3_close(db);
  DONE();
}
