/*
** page.h: one page of a listing (or a metadata response), parsed and
** shape-checked.
*/
#ifndef AT_PAGE_H
#define AT_PAGE_H

#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "json.h"

/* One parsed page of list-records. Records are walked in order. */
typedef struct AtPage AtPage;
struct AtPage {
  AtJson json;         /* the parsed response and its arena (json.c) */
  cJSON *pRoot;        /* the whole parsed response: json.pRoot, read-only */
  cJSON *pRecord;      /* the current record, NULL when the page is used up */
  char *zOffset;       /* offset of the next page (sqlite3_malloc'd), or NULL */
  int nRecord;         /* number of records on the page */
};

/* Parse a list-records (or metadata) response body. zArray names the array
** of rows ("records", "bases", "tables"). Checks the shape: an object, the
** array present, each element an object (with a string "id" for records),
** and "offset" absent or a string. On error returns SQLITE_ERROR with
** *pzErr saying what was wrong; *p is left cleared. */
int atPageParse(const char *zBody, size_t nBody, const char *zArray,
                AtPage *p, char **pzErr);

/* The shape every record must have, in a page or alone (GET of one
** record): a string "id", and "fields" absent or an object. SQLITE_ERROR
** with *pzErr saying what was wrong. */
int atPageCheckRecord(const cJSON *pRec, char **pzErr);
void atPageClear(AtPage *p);

#endif /* AT_PAGE_H */
