/*
** plan.h: the plans of the airtable table, as they travel from xBestIndex
** to xFilter in idxNum and idxStr (which EXPLAIN QUERY PLAN shows). One
** grammar for every plan, one table of the operators it names.
**
** idxStr: "v1" and machine tokens, then " -- " and the plan in words:
**
**   v1 t3.2.0.0.1.0 f40000 -- filterByFormula: "Status" = ? (exact); ...
**
**   tCOL.OP.COLL.IN.EXACT.ARG  a term: column, SQLite's operator
**                              (SQLITE_INDEX_CONSTRAINT_*), collation
**                              (AT_COLL_*), IN list all at once, exact
**                              (SQLite does not check it again), argv index
**   g                          GET the record the only term's id names
**   sCOL.DESC                  a sort key
**   lARG, oARG                 argv index of LIMIT, of OFFSET
**   fHEX                       the columns used, one bit each, least
**                              significant first
**
** ARCHITECTURE.md lists which plan uses which tokens.
*/
#ifndef AT_PLAN_H
#define AT_PLAN_H

#include "airtable_int.h"

/* idxNum of the airtable table's plans. */
#define AT_IDX_SCAN      0   /* every record (pushdown='off'); no idxStr */
#define AT_IDX_CACHE     1   /* from the staging cache (cachequery.c) */
#define AT_IDX_PUSHDOWN  2   /* what the query asks of the API (pushdown.c) */

/* The collating sequence of a text constraint. */
#define AT_COLL_BINARY  0
#define AT_COLL_NOCASE  1
#define AT_COLL_OTHER   2   /* RTRIM or an application's: text not pushed */

/* The SQL text of operator eOp (SQLITE_INDEX_CONSTRAINT_*: "=", "<", ...,
** "IS NULL", "LIKE"), or NULL for an operator no plan takes. */
const char *atPlanOpName(int eOp);
/* The collation of constraint i of pInfo, as AT_COLL_*. */
int atPlanCollation(sqlite3_index_info *pInfo, int i);

#define AT_PLAN_MAX 64
typedef struct AtPlanTerm AtPlanTerm;
struct AtPlanTerm {
  int iCol, eOp, eColl;   /* column, SQLITE_INDEX_CONSTRAINT_*, AT_COLL_* */
  int bIn;                /* an IN list, all values in one argv */
  int bExact;             /* SQLite does not check it again */
  int iArg;               /* its value in xFilter's argv, or -1 */
};
typedef struct AtPlan AtPlan;
struct AtPlan {
  int bGet;                     /* GET the record aTerm[0]'s value names */
  int nTerm;
  AtPlanTerm aTerm[AT_PLAN_MAX];
  int nSort;
  int aSortCol[AT_PLAN_MAX];
  int abSortDesc[AT_PLAN_MAX];
  int iLimitArg, iOffsetArg;    /* argv of LIMIT and OFFSET, or -1 */
  int bFields;                  /* abUsed says which columns are used */
  unsigned char *abUsed;        /* per column (sqlite3_malloc'd) */
};

/* Append term t's token (" tCOL.OP.COLL.IN.EXACT.ARG") to p. */
void atPlanWriteTerm(sqlite3_str *p, const AtPlanTerm *t);

/* Read back a plan's idxStr for a table of nCol columns. SQLITE_ERROR if
** it is not one, SQLITE_NOMEM. Clear with atPlanClear() either way. */
int atPlanParse(const char *zIdxStr, int nCol, AtPlan *p);
void atPlanClear(AtPlan *p);

#endif /* AT_PLAN_H */
