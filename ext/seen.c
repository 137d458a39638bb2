/*
** seen.c: a set of 64-bit string hashes (seen.h): what one listing has
** seen, to stop a server that repeats an offset or a record.
*/
#include <string.h>
#include "seen.h"

/* FNV-1a over the tag and the bytes, then a final mix (splitmix64's) so
** that the low bits, which choose the slot, depend on every byte. Never 0. */
static sqlite3_uint64 hashOf(char c, const char *z, size_t n){
  sqlite3_uint64 h = 0xcbf29ce484222325ULL;
  size_t i;
  h = (h ^ (unsigned char)c) * 0x100000001b3ULL;
  for(i=0; i<n; i++) h = (h ^ (unsigned char)z[i]) * 0x100000001b3ULL;
  h ^= h>>30; h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h>>27; h *= 0x94d049bb133111ebULL;
  h ^= h>>31;
  return h ? h : 1;
}

static int grow(AtSeen *p){
  size_t nNew = p->nSlot ? p->nSlot*2 : 256, i;
  sqlite3_uint64 *aNew = sqlite3_malloc64(sizeof(sqlite3_uint64)*nNew);
  if( aNew==0 ) return -1;
  memset(aNew, 0, sizeof(sqlite3_uint64)*nNew);
  for(i=0; i<p->nSlot; i++){
    sqlite3_uint64 h = p->aSlot[i];
    size_t j;
    if( h==0 ) continue;
    for(j=(size_t)h & (nNew-1); aNew[j]; j=(j+1) & (nNew-1)){}
    aNew[j] = h;
  }
  sqlite3_free(p->aSlot);
  p->aSlot = aNew;
  p->nSlot = nNew;
  return 0;
}

int atSeenAdd(AtSeen *p, char c, const char *z, size_t n){
  sqlite3_uint64 h = hashOf(c, z, n);
  size_t j;
  if( (p->nUsed+1)*2 > p->nSlot && grow(p) ) return -1;
  for(j=(size_t)h & (p->nSlot-1); p->aSlot[j]; j=(j+1) & (p->nSlot-1)){
    if( p->aSlot[j]==h ) return 0;
  }
  p->aSlot[j] = h;
  p->nUsed++;
  return 1;
}

void atSeenReset(AtSeen *p){
  if( p->nSlot>256 ){
    /* A big set is freed rather than cleared: a join's inner loop starts
    ** a listing per outer row, each small after one big one. */
    atSeenClear(p);
  }else if( p->aSlot ){
    memset(p->aSlot, 0, sizeof(sqlite3_uint64)*p->nSlot);
  }
  p->nUsed = 0;
}

void atSeenClear(AtSeen *p){
  sqlite3_free(p->aSlot);
  memset(p, 0, sizeof(*p));
}
