/*
** buf.c: a growable byte buffer (buf.h). Appends after a failed
** allocation are dropped and bOom stays set, so a writer checks once.
*/
#include <string.h>
#include "buf.h"

int atBufReserve(AtBuf *p, size_t n){
  if( p->bOom ) return 0;
  if( p->n + n + 1 > p->nAlloc ){
    size_t nNew = p->nAlloc ? p->nAlloc*2 : 256;
    char *zNew;
    while( nNew < p->n + n + 1 ) nNew *= 2;
    zNew = sqlite3_realloc64(p->z, nNew);
    if( zNew==0 ){
      p->bOom = 1;
      return 0;
    }
    p->z = zNew;
    p->nAlloc = nNew;
  }
  return 1;
}

void atBufAppend(AtBuf *p, const char *z, size_t n){
  if( !atBufReserve(p, n) ) return;
  memcpy(p->z + p->n, z, n);
  p->n += n;
  p->z[p->n] = 0;
}

void atBufAppendStr(AtBuf *p, const char *z){
  atBufAppend(p, z, strlen(z));
}

void atBufClear(AtBuf *p){
  sqlite3_free(p->z);
  memset(p, 0, sizeof(*p));
}
