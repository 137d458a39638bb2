/*
** context.h: what one database connection's modules share: the request
** log (airtable_requests) and the connected airtable tables by name.
*/
#ifndef AT_CONTEXT_H
#define AT_CONTEXT_H

#include "airtable_int.h"

#define AT_LOG_MAX 1000   /* requests airtable_requests remembers per connection */

/* One request, as airtable_requests shows it. */
typedef struct AtLogEntry AtLogEntry;
struct AtLogEntry {
  sqlite3_int64 iSeq;     /* 1, 2, ... in this database connection */
  double rTime;           /* when it started, Unix time in seconds */
  const char *zMethod;    /* "GET" or "POST" (a static string) */
  char *zUrl;             /* the URL; the token is never in it */
  int iStatus;            /* the last HTTP status, 0 if none came */
  int nMs;                /* start to end, retries and waits included */
  sqlite3_int64 nBytes;   /* bytes of the last response body */
  int nRecords;           /* records on the page; -1 if not a listing */
  int nRetries;           /* retries made */
  int nWaitMs;            /* time spent waiting on the rate limit or a retry */
  char *zError;           /* the error, or NULL if the request succeeded */
  char *zFormula;         /* a listing's filterByFormula, or NULL */
  char *zFields;          /* a listing's fields[] as a JSON array, or NULL */
};

/* What the tables of one database connection share. Reference counted:
** atContextNew() returns it with one reference; atContextUnref (usable as
** a module destructor) frees it with the last. */
typedef struct AtContext AtContext;
AtContext *atContextNew(void);
void atContextRef(AtContext *p);
void atContextUnref(void *p);

/* Add a finished request to the log, with the next seq (the oldest beyond
** AT_LOG_MAX is dropped); takes ownership of pNew->zUrl and zError (freed
** at once if p is NULL). Returns the seq. Thread-safe. */
sqlite3_int64 atLogAdd(AtContext *p, AtLogEntry *pNew);
/* Set the records count of entry iSeq, if it is still there. Thread-safe. */
void atLogSetRecords(AtContext *p, sqlite3_int64 iSeq, int nRecords);
/* The entry with seq iSeq, or NULL if it is gone or never was. For the
** connection's own thread, while no export of that connection runs. */
AtLogEntry *atLogGet(AtContext *p, sqlite3_int64 iSeq);
sqlite3_int64 atLogLastSeq(AtContext *p);

/* What this connection's user confirmed (airtable_allow(), or options of a
** CREATE VIRTUAL TABLE they ran): zKey "api_url", "token_env" or
** "token_file" and its value. A database file's stored declarations name
** such places too, but only the user's word counts (vtab.c). The
** connection's thread only. */
int atContextAllow(AtContext *p, const char *zKey, const char *zValue);
int atContextAllowed(AtContext *p, const char *zKey, const char *zValue);

/* The airtable tables connected in this connection, by schema and name
** (the connection's thread only). Find looks in zDb, or with zDb NULL in
** "main" first, then in any schema. */
int atContextAddTable(AtContext *p, const char *zDb, const char *zName, void *pTab);
void atContextRemoveTable(AtContext *p, void *pTab);
void *atContextFindTable(AtContext *p, const char *zDb, const char *zName);

#endif /* AT_CONTEXT_H */
