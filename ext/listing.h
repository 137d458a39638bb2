/*
** listing.h: one table's records, page by page (one page in memory).
*/
#ifndef AT_LISTING_H
#define AT_LISTING_H

#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "http.h"
#include "page.h"
#include "request.h"
#include "schema.h"
#include "seen.h"

/* One table's records, page by page: one page in memory at a time. */
typedef struct AtListing AtListing;
struct AtListing {
  AtHttp *pHttp;             /* the connection (not owned) */
  const char *zApiUrl;       /* API root (not owned) */
  const char *zBase;         /* base id (not owned) */
  const AtSchema *pSchema;   /* table id, view id, fields (not owned) */
  const char *zFormula;      /* filterByFormula, or NULL (not owned) */
  AtPage page;               /* the page being read */
  const cJSON **apCell;      /* per field: its value in the current record */
  sqlite3_int64 nRow;        /* rows reached so far: 1 at the first */
  int nRestart;              /* restarts after an expired offset */
  int bEof;                  /* no more rows */
  int nOnly;                 /* fields[] asked for (0: every field) */
  const char *const *azOnly; /* their ids (not owned) */
  const AtSort *aSort;       /* sort[] (not owned) */
  int nSort;
  int nPageSize;             /* pageSize, or 0 */
  AtSeen seen;               /* the offsets and record ids seen so far: a
                             ** server that repeats either ends the listing
                             ** with an error, never a loop or a duplicate */
};

/* Set up *p to list pSchema's table (and view). Returns SQLITE_OK or
** SQLITE_NOMEM; free with atListingClear() either way. */
int atListingInit(AtListing *p, AtHttp *pHttp, const char *zApiUrl,
                  const char *zBase, const AtSchema *pSchema);
/* Start (or start over) at the first row; then step with atListingNext().
** After either, p->bEof, or p->page.pRecord is the row and p->apCell[i]
** the value of field i (NULL when absent). On error returns SQLITE_ERROR,
** SQLITE_INTERRUPT or SQLITE_NOMEM with *pzErr naming the table. */
int atListingFirst(AtListing *p, char **pzErr);
int atListingNext(AtListing *p, char **pzErr);
/* Instead of a listing: the one record zId (GET .../RECORD_ID), read like
** a page of one record. A record that does not exist (HTTP 404) is no
** row, not an error. */
int atListingGet(AtListing *p, const char *zId, char **pzErr);
/* Forget the page (a new listing starts with atListingFirst). */
void atListingReset(AtListing *p);
void atListingClear(AtListing *p);

#endif /* AT_LISTING_H */
