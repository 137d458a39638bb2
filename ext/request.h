/*
** request.h: list-records requests (fields, formula, sort, limits, offset;
** GET, or POST when the URL would be too long) and URL paths.
*/
#ifndef AT_REQUEST_H
#define AT_REQUEST_H

#include "airtable_int.h"

#define AT_MAX_URL 15000                 /* longer list requests go by POST */

/* One sort key of a list request. */
typedef struct AtSort AtSort;
struct AtSort {
  const char *zField;  /* field name or id */
  int bDesc;           /* 1 for descending */
};

/* What a list-records request asks for. Everything is optional: a zeroed
** struct asks for every field of every record, Airtable's default order. */
typedef struct AtListQuery AtListQuery;
struct AtListQuery {
  const char *zView;          /* view name or id, or NULL */
  int nField;                 /* number of entries in azField; 0 means all */
  const char *const *azField; /* field names or ids for fields[] */
  const char *zFormula;       /* filterByFormula, or NULL */
  int nSort;                  /* number of entries in aSort */
  const AtSort *aSort;        /* sort[i][field], sort[i][direction] */
  int nPageSize;              /* pageSize, 1..100; 0 leaves Airtable's default */
  sqlite3_int64 nMaxRecords;  /* maxRecords; 0 for no limit */
  int bFieldsById;            /* returnFieldsByFieldId=true */
  const char *zOffset;        /* offset of the page wanted; NULL for the first */
};

/* A built HTTP request. zBody is NULL for GET. Free with atRequestClear(). */
typedef struct AtRequest AtRequest;
struct AtRequest {
  const char *zMethod;  /* "GET" or "POST" (static strings) */
  char *zUrl;           /* full URL */
  char *zBody;          /* JSON body for POST, or NULL */
  const char *zFormula; /* for the log: its filterByFormula (not owned), or NULL */
  char *zFields;        /* for the log: its fields[] as a JSON array, or NULL */
};

/* Build the list-records request for table zTable (name or id) of base zBase
** at API root zApiUrl. Uses GET, or POST .../listRecords when the GET URL
** would be longer than nMaxUrl characters (pass AT_MAX_URL). Returns
** SQLITE_OK or SQLITE_NOMEM. */
int atListRequest(const char *zApiUrl, const char *zBase, const char *zTable,
                  const AtListQuery *q, int nMaxUrl, AtRequest *pReq);
void atRequestClear(AtRequest *pReq);

/* Return "zApiUrl/v0/seg1/seg2..." with each segment percent-encoded, for the
** nSeg segments in azSeg. sqlite3_malloc'd; NULL on OOM. */
char *atUrlPath(const char *zApiUrl, int nSeg, const char *const *azSeg);

#endif /* AT_REQUEST_H */
