/*
** buf.h: a growable byte buffer (the export's rows, the cache's packed
** values, JSON text).
*/
#ifndef AT_BUF_H
#define AT_BUF_H

#include <stddef.h>
#include "airtable_int.h"

/* A growable byte buffer, always NUL-terminated once anything is in it.
** A failed allocation sets bOom and drops every later append, so a caller
** appends freely and checks bOom once at the end. */
typedef struct AtBuf AtBuf;
struct AtBuf {
  char *z;             /* the bytes (sqlite3_malloc'd) */
  size_t n;            /* bytes used */
  size_t nAlloc;       /* bytes allocated */
  int bOom;            /* an allocation failed: appends are dropped */
};

/* Room for n more bytes (and a NUL) in p: 1, or 0 on OOM (p->bOom set). */
int atBufReserve(AtBuf *p, size_t n);
/* Append n bytes, a NUL-terminated string, or one character. */
void atBufAppend(AtBuf *p, const char *z, size_t n);
void atBufAppendStr(AtBuf *p, const char *z);
static inline void atBufAppendChar(AtBuf *p, char c){
  if( p->n + 2 <= p->nAlloc ){
    p->z[p->n++] = c;
    p->z[p->n] = 0;
  }else{
    atBufAppend(p, &c, 1);
  }
}
/* Free the bytes; *p is empty (and usable) again. */
void atBufClear(AtBuf *p);

#endif /* AT_BUF_H */
