/*
** pushdown.h: what a query asks of the API. xBestIndex turns a query into
** a plan (plan.h); xFilter turns the plan and the values into one listing,
** id batches or one GET.
*/
#ifndef AT_PUSHDOWN_H
#define AT_PUSHDOWN_H

#include "airtable_int.h"
#include "formula.h"
#include "plan.h"
#include "request.h"
#include "schema.h"

/* The columns of a table as the formula writer sees them: an array of
** nField+AT_COL_FIRST_FIELD, by column. sqlite3_malloc'd (free it); points
** into pSchema, which must outlive it. */
int atPushColsBuild(const AtSchema *pSchema, AtPushCol **paCol);

/* xBestIndex for a table read from the API: fills pInfo (idxNum
** AT_IDX_PUSHDOWN, idxStr the plan, argvIndex, omit, orderByConsumed,
** costs). SQLITE_OK or SQLITE_NOMEM. */
int atPushBestIndex(sqlite3_index_info *pInfo, const AtSchema *pSchema,
                    const AtPushCol *aCol);

/* The request(s) a plan makes with xFilter's values. */
typedef struct AtPushQuery AtPushQuery;
struct AtPushQuery {
  int bEmpty;                /* nothing can match: make no request */
  char *zGetId;              /* GET this record, or NULL */
  char *zFormula;            /* filterByFormula of the first listing, or NULL */
  const char **azField;      /* fields[] (ids, not owned), or NULL for all */
  int nField;
  AtSort *aSort;             /* sort[] */
  int nSort;
  int nPageSize;             /* pageSize, or 0 */
  char **azId;               /* id IN: the ids, sorted, distinct */
  int nId;
  int nBatch;                /* listings the ids take (100 ids each) */
  char *zRest;               /* with ids: the other terms' formula, or NULL */
};
int atPushQueryBuild(const AtPlan *pPlan, const AtSchema *pSchema,
                     const AtPushCol *aCol, int argc, sqlite3_value **argv,
                     AtPushQuery *q, char **pzErr);
/* The formula of batch iBatch (0-based) of an id IN list. NULL on OOM. */
char *atPushBatchFormula(const AtPushQuery *q, int iBatch);
void atPushQueryClear(AtPushQuery *q);

#endif /* AT_PUSHDOWN_H */
