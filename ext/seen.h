/*
** seen.h: the set of what one listing has seen (its offsets and record
** ids), so that a server that repeats itself ends the listing with an
** error instead of feeding it forever.
*/
#ifndef AT_SEEN_H
#define AT_SEEN_H

#include <stddef.h>
#include "airtable_int.h"

/* A set of strings, kept as 64-bit hashes (8 bytes a member, at most half
** the slots used: 16 bytes per record of a listing). Two different strings
** share a hash with a chance of about n*n/2^65 (for a million records, one
** in 37 million listings), which would end a listing with a false error;
** never the other way round. Zeroed is empty. */
typedef struct AtSeen AtSeen;
struct AtSeen {
  sqlite3_uint64 *aSlot;   /* open addressing; 0 is an empty slot */
  size_t nSlot;            /* a power of two, or 0 */
  size_t nUsed;
};

/* Add z[0..n-1] (with the tag c, so that kinds of string never meet).
** 1 if it was new, 0 if the set had it, -1 on OOM. */
int atSeenAdd(AtSeen *p, char c, const char *z, size_t n);
/* Forget every member (a small table's memory is kept for the next). */
void atSeenReset(AtSeen *p);
void atSeenClear(AtSeen *p);

#endif /* AT_SEEN_H */
