/*
** pushdown.c: what a query asks of the API. xBestIndex turns the WHERE
** constraints, ORDER BY, LIMIT/OFFSET and the columns a query uses into a
** plan; xFilter turns the plan and the constraint values into one list
** request (filterByFormula, sort[], pageSize, fields[]) or one GET.
**
** The plan travels from xBestIndex to xFilter in idxStr, which EXPLAIN
** QUERY PLAN shows: a machine part, then " -- " and what is pushed in
** words:
**
**   t3.2.0.0.1.0 f40000 -- filterByFormula: "Status" = ? (exact);
**                          fields[]: "Task", "Status"
**
** Machine tokens: tCOL.OP.COLL.IN.EXACT.ARG (a term: column, SQLite's
** operator, collation, IN list all at once, exact, argv index or -1),
** g (fetch the record named by the only term's id), sCOL.DESC (sort),
** lARG and oARG (LIMIT and OFFSET), fHEX (the columns used, one bit each,
** least significant first).
**
** The rules (docs/pushdown.md): every constraint written as a formula
** keeps at least the records SQLite would (formula.c); SQLite checks each
** row again (omit=0) unless the term is exact. ORDER BY is left to Airtable
** only on fields Airtable sorts as SQLite does (autoNumber, createdTime:
** never blank, numbers or instants), LIMIT and OFFSET (as the first page's
** size) only when every constraint was exact and the order is Airtable's.
*/
#include <stdlib.h>
#include <string.h>
#include "pushdown.h"
#include "formula.h"
#include "plan.h"
#include "request.h"
#include "schema.h"
#include "util.h"
#include "value.h"

/* Requests per record page, and the planner's guesses. */
#define AT_PAGE             100
#define AT_GUESS_ROWS       100000.0  /* records in a table we know nothing of */
#define AT_COST_REQUEST     1000.0    /* one request, in planner cost units */
#define AT_IN_BATCH         100       /* ids per request of an id IN list */

/* ---- the columns ----------------------------------------------------------- */

int atPushColsBuild(const AtSchema *pSchema, AtPushCol **paCol){
  AtPushCol *a;
  int i;
  a = sqlite3_malloc64(sizeof(AtPushCol)*(pSchema->nField+AT_COL_FIRST_FIELD));
  *paCol = a;
  if( a==0 ) return SQLITE_NOMEM;
  memset(a, 0, sizeof(AtPushCol)*(pSchema->nField+AT_COL_FIRST_FIELD));
  a[AT_COL_ID].ePush = AT_PUSH_ID;
  a[AT_COL_CREATED_TIME].ePush = AT_PUSH_CREATED;
  for(i=0; i<pSchema->nField; i++){
    const AtField *f = &pSchema->aField[i];
    AtPushCol *c = &a[AT_COL_FIRST_FIELD+i];
    c->ePush = atPushKind(f);
    c->zFieldId = f->zId;
    /* Airtable's order is SQLite's for values that are never blank and
    ** compare as numbers or instants: an autoNumber, a created time (ISO
    ** text in one format orders as the instants do). Text collation, where
    ** blanks go and everything else is undocumented. */
    c->bSortExact = strcmp(f->zType, "autoNumber")==0
                 || (strcmp(f->zType, "createdTime")==0 && f->eKind==AT_KIND_DATETIME);
  }
  return SQLITE_OK;
}

/* ---- xBestIndex ------------------------------------------------------------ */

/* The runtime library has sqlite3_vtab_in(), _rhs_value(), _distinct()
** and passes LIMIT and OFFSET (3.38). An extension built against newer
** headers may be loaded into an older SQLite. */
static int haveModernVtab(void){
  return sqlite3_libversion_number()>=3038000;
}

/* An sqlite3_value as the formula writer takes it. */
static void sqlValue(sqlite3_value *pVal, AtSqlValue *v){
  memset(v, 0, sizeof(*v));
  v->eType = sqlite3_value_type(pVal);
  switch( v->eType ){
    case SQLITE_INTEGER: v->i = sqlite3_value_int64(pVal); break;
    case SQLITE_FLOAT:   v->r = sqlite3_value_double(pVal); break;
    case SQLITE_TEXT:
      v->z = (const char*)sqlite3_value_text(pVal);
      v->n = sqlite3_value_bytes(pVal);
      if( v->z==0 ) v->eType = SQLITE_NULL;
      break;
  }
}

static const char *columnName(const AtSchema *pSchema, int iCol){
  if( iCol==AT_COL_ID ) return "id";
  if( iCol==AT_COL_CREATED_TIME ) return "created_time";
  return pSchema->aField[iCol-AT_COL_FIRST_FIELD].zColumn;
}

int atPushBestIndex(sqlite3_index_info *pInfo, const AtSchema *pSchema,
                    const AtPushCol *aCol){
  int nCol = pSchema->nField + AT_COL_FIRST_FIELD;
  int bModern = haveModernVtab();
  int aTerm[64], nTerm = 0, aExact[64], aIn[64], aColl[64];
  /* bAllExact: every constraint exact or close (see AT_TERM_CLOSE) */
  int i, nArg = 0, iGet = -1, iLimit = -1, iOffset = -1, bAllExact = 1;
  int bSort = 0, nUsed = 0;
  double rRows = AT_GUESS_ROWS, rRequests;
  sqlite3_str *pM, *pH;
  char *zHuman;

  for(i=0; i<pInfo->nConstraint; i++){
    const struct sqlite3_index_constraint *pC = &pInfo->aConstraint[i];
    int eOp = pC->op, iCol = pC->iColumn, eColl, bIn = 0, eClass;
    sqlite3_value *pRhs = 0;
    if( eOp==SQLITE_INDEX_CONSTRAINT_LIMIT ){
      if( pC->usable ) iLimit = i;
      continue;
    }
    if( eOp==SQLITE_INDEX_CONSTRAINT_OFFSET ){
      if( pC->usable ) iOffset = i;
      continue;
    }
    if( !pC->usable || iCol<0 || iCol>=nCol || atPlanOpName(eOp)==0
     || aCol[iCol].ePush==AT_PUSH_NONE || nTerm>=(int)(sizeof(aTerm)/sizeof(aTerm[0])) ){
      bAllExact = 0;
      continue;
    }
    eColl = atPlanCollation(pInfo, i);
    if( bModern && eOp==SQLITE_INDEX_CONSTRAINT_EQ && sqlite3_vtab_in(pInfo, i, -1) ){
      bIn = 1;
    }
    /* With the value known now (a literal), write the term once to learn
    ** whether it can be pushed at all and whether it is exact. A value
    ** known only at xFilter (a parameter, a join's column) is written
    ** then, and never counted exact. */
    if( eOp==SQLITE_INDEX_CONSTRAINT_ISNULL || eOp==SQLITE_INDEX_CONSTRAINT_ISNOTNULL ){
      sqlite3_str *pT = sqlite3_str_new(0);
      eClass = atFormulaTerm(pT, &aCol[iCol], eOp, eColl, 0, 0);
      sqlite3_free(sqlite3_str_finish(pT));
    }else if( !bIn && bModern && sqlite3_vtab_rhs_value(pInfo, i, &pRhs)==SQLITE_OK && pRhs ){
      sqlite3_str *pT = sqlite3_str_new(0);
      AtSqlValue v;
      sqlValue(pRhs, &v);
      eClass = atFormulaTerm(pT, &aCol[iCol], eOp, eColl, &v, 1);
      sqlite3_free(sqlite3_str_finish(pT));
    }else{
      eClass = AT_TERM_SUPERSET;
    }
    if( eClass==AT_TERM_SKIP ){
      bAllExact = 0;
      continue;
    }
    if( eClass==AT_TERM_SUPERSET ) bAllExact = 0;   /* close is close enough */
    aTerm[nTerm] = i;
    aExact[nTerm] = eClass==AT_TERM_EXACT;
    aIn[nTerm] = bIn;
    aColl[nTerm] = eColl;
    if( iGet<0 && iCol==AT_COL_ID && eOp==SQLITE_INDEX_CONSTRAINT_EQ && !bIn
     && eColl==AT_COLL_BINARY && pSchema->zViewId==0 ){
      iGet = nTerm;
    }
    nTerm++;
  }

  pM = sqlite3_str_new(0);
  pH = sqlite3_str_new(0);
  sqlite3_str_appendall(pM, "v1");

  if( iGet>=0 ){
    /* One GET: the record, whatever the other constraints (SQLite checks
    ** them on it). A view's records cannot be fetched so: GET ignores the
    ** view, so a table with a view lists with RECORD_ID() instead. */
    int iC = aTerm[iGet];
    pInfo->aConstraintUsage[iC].argvIndex = 1;
    pInfo->aConstraintUsage[iC].omit = 0;
    sqlite3_str_appendf(pM, " g t%d.%d.%d.0.0.0", pInfo->aConstraint[iC].iColumn,
                        SQLITE_INDEX_CONSTRAINT_EQ, AT_COLL_BINARY);
    sqlite3_str_appendall(pH, "GET one record by id = ?");
    pInfo->orderByConsumed = 1;         /* at most one row */
    pInfo->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
    pInfo->estimatedRows = 1;
    pInfo->estimatedCost = AT_COST_REQUEST;
  }else{
    int nWhere = 0;
    for(i=0; i<nTerm; i++){
      int iC = aTerm[i], eOp = pInfo->aConstraint[iC].op;
      int iCol = pInfo->aConstraint[iC].iColumn, iArg;
      /* Every term gets an argv slot, IS NULL too (its value is unused):
      ** newer SQLite passes LIMIT only if every constraint has one. */
      iArg = nArg++;
      pInfo->aConstraintUsage[iC].argvIndex = iArg+1;
      if( aIn[i] ) sqlite3_vtab_in(pInfo, iC, 1);
      pInfo->aConstraintUsage[iC].omit = (unsigned char)aExact[i];
      {
        AtPlanTerm t;
        t.iCol = iCol; t.eOp = eOp; t.eColl = aColl[i];
        t.bIn = aIn[i]; t.bExact = aExact[i]; t.iArg = iArg;
        atPlanWriteTerm(pM, &t);
      }
      sqlite3_str_appendf(pH, "%s\"%w\" %s%s%s", nWhere++ ? " AND " : "filterByFormula: ",
                          columnName(pSchema, iCol), aIn[i] ? "IN" : atPlanOpName(eOp),
                          (eOp==SQLITE_INDEX_CONSTRAINT_ISNULL
                           || eOp==SQLITE_INDEX_CONSTRAINT_ISNOTNULL) ? ""
                          : aIn[i] ? " (?)" : " ?",
                          aExact[i] ? " (exact)" : "");
      /* Guesses: an equality keeps a tenth, a range a third. */
      if( iCol==AT_COL_ID && eOp==SQLITE_INDEX_CONSTRAINT_EQ ){
        rRows = aIn[i] ? 10 : 1;
      }else if( eOp==SQLITE_INDEX_CONSTRAINT_EQ ){
        rRows /= 10;
      }else{
        rRows /= 3;
      }
    }
    if( nWhere ) sqlite3_str_appendall(pH, "; ");

    /* ORDER BY: every term on a column Airtable sorts as SQLite does,
    ** for a plain ORDER BY (not the grouping a DISTINCT or GROUP BY
    ** asks for). */
    if( pInfo->nOrderBy>0 && pInfo->nOrderBy<=32 && bModern
     && sqlite3_vtab_distinct(pInfo)==0 ){
      bSort = 1;
      for(i=0; i<pInfo->nOrderBy; i++){
        int iCol = pInfo->aOrderBy[i].iColumn;
        if( iCol<AT_COL_FIRST_FIELD || iCol>=nCol || !aCol[iCol].bSortExact ) bSort = 0;
      }
      if( bSort ){
        sqlite3_str_appendall(pH, "sort: ");
        for(i=0; i<pInfo->nOrderBy; i++){
          int iCol = pInfo->aOrderBy[i].iColumn;
          sqlite3_str_appendf(pM, " s%d.%d", iCol, pInfo->aOrderBy[i].desc ? 1 : 0);
          sqlite3_str_appendf(pH, "%s\"%w\" %s", i ? ", " : "", columnName(pSchema, iCol),
                              pInfo->aOrderBy[i].desc ? "desc" : "asc");
        }
        sqlite3_str_appendall(pH, "; ");
        pInfo->orderByConsumed = 1;
      }
    }

    /* LIMIT/OFFSET: only when SQLite keeps every record sent (as far as
    ** the constraints it offered show) and in the order sent. SQLite still
    ** applies both (omit stays 0): the first page holds LIMIT+OFFSET
    ** records, and SQLite drops the first OFFSET. */
    if( iLimit>=0 && bAllExact && (pInfo->nOrderBy==0 || bSort) ){
      sqlite3_value *pLim = 0;
      pInfo->aConstraintUsage[iLimit].argvIndex = ++nArg;
      sqlite3_str_appendf(pM, " l%d", nArg-1);
      if( iOffset>=0 ){
        pInfo->aConstraintUsage[iOffset].argvIndex = ++nArg;
        sqlite3_str_appendf(pM, " o%d", nArg-1);
      }
      sqlite3_str_appendall(pH, iOffset>=0 ? "pageSize: LIMIT+OFFSET; "
                                           : "pageSize: LIMIT; ");
      if( sqlite3_vtab_rhs_value(pInfo, iLimit, &pLim)==SQLITE_OK && pLim
       && sqlite3_value_type(pLim)==SQLITE_INTEGER && sqlite3_value_int64(pLim)>=0
       && sqlite3_value_int64(pLim)<rRows ){
        rRows = (double)sqlite3_value_int64(pLim);
      }
    }

    /* fields[]: the columns this query uses (colUsed: bit 63 stands for
    ** every column from the 64th on). */
    sqlite3_str_appendall(pM, " f");
    {
      int nHex = (nCol+3)/4, k;
      for(k=0; k<nHex; k++){
        int d = 0, b;
        for(b=0; b<4; b++){
          int iCol = k*4+b;
          sqlite3_uint64 bit = iCol<63 ? ((sqlite3_uint64)1)<<iCol : ((sqlite3_uint64)1)<<63;
          if( iCol<nCol && iCol>=AT_COL_FIRST_FIELD && (pInfo->colUsed & bit) ){
            d |= 1<<b;
            nUsed++;
          }
        }
        sqlite3_str_appendchar(pM, 1, "0123456789abcdef"[d]);
      }
    }
    if( nUsed==pSchema->nField ){
      sqlite3_str_appendall(pH, "fields[]: all");
    }else if( nUsed==0 ){
      sqlite3_str_appendall(pH, "fields[]: none (one small field)");
    }else{
      int n = 0;
      sqlite3_str_appendall(pH, "fields[]: ");
      for(i=AT_COL_FIRST_FIELD; i<nCol; i++){
        sqlite3_uint64 bit = i<63 ? ((sqlite3_uint64)1)<<i : ((sqlite3_uint64)1)<<63;
        if( pInfo->colUsed & bit ){
          sqlite3_str_appendf(pH, "%s\"%w\"", n++ ? ", " : "", columnName(pSchema, i));
        }
      }
    }
    if( rRows<1 ) rRows = 1;
    rRequests = rRows/AT_PAGE < 1 ? 1 : rRows/AT_PAGE;
    pInfo->estimatedRows = (sqlite3_int64)rRows;
    pInfo->estimatedCost = rRequests*AT_COST_REQUEST + rRows;
  }

  zHuman = sqlite3_str_finish(pH);
  sqlite3_str_appendf(pM, " -- %s", zHuman ? zHuman : "");
  sqlite3_free(zHuman);
  pInfo->idxStr = sqlite3_str_finish(pM);
  if( pInfo->idxStr==0 ) return SQLITE_NOMEM;
  pInfo->needToFreeIdxStr = 1;
  pInfo->idxNum = AT_IDX_PUSHDOWN;
  return SQLITE_OK;
}

/* ---- xFilter: the request ------------------------------------------------------- */

void atPushQueryClear(AtPushQuery *q){
  int i;
  sqlite3_free(q->zFormula);
  sqlite3_free(q->zRest);
  sqlite3_free(q->azField);
  sqlite3_free(q->aSort);
  sqlite3_free(q->zGetId);
  for(i=0; i<q->nId; i++) sqlite3_free(q->azId[i]);
  sqlite3_free(q->azId);
  memset(q, 0, sizeof(*q));
}

static int cmpStr(const void *a, const void *b){
  return strcmp(*(char*const*)a, *(char*const*)b);
}

/* The values of term t: one, or an IN list's (sqlite3_vtab_in_first/next).
** *paVal is sqlite3_malloc'd and so is each IN value's text (the value
** sqlite3_vtab_in_next returns is overwritten by the next call): free
** them with freeValues(). A single value's text points into argv. */
static void freeValues(const AtPlanTerm *t, AtSqlValue *a, int n){
  int i;
  if( t->bIn ){
    for(i=0; i<n; i++) sqlite3_free((char*)a[i].z);
  }
  sqlite3_free(a);
}

static int termValues(const AtPlanTerm *t, int argc, sqlite3_value **argv,
                      AtSqlValue **paVal, int *pnVal){
  sqlite3_value *pList, *pVal = 0;
  AtSqlValue *a = 0;
  int n = 0, nAlloc = 0, rc;
  *paVal = 0;
  *pnVal = 0;
  if( t->iArg<0 || t->eOp==SQLITE_INDEX_CONSTRAINT_ISNULL
   || t->eOp==SQLITE_INDEX_CONSTRAINT_ISNOTNULL ) return SQLITE_OK;
  if( t->iArg>=argc ) return SQLITE_ERROR;
  pList = argv[t->iArg];
  if( !t->bIn ){
    a = sqlite3_malloc64(sizeof(*a));
    if( a==0 ) return SQLITE_NOMEM;
    sqlValue(pList, a);
    *paVal = a;
    *pnVal = 1;
    return SQLITE_OK;
  }
  for(rc=sqlite3_vtab_in_first(pList, &pVal); rc==SQLITE_OK && pVal;
      rc=sqlite3_vtab_in_next(pList, &pVal)){
    if( n>=nAlloc ){
      AtSqlValue *aNew;
      nAlloc = nAlloc ? nAlloc*2 : 16;
      aNew = sqlite3_realloc64(a, sizeof(*a)*nAlloc);
      if( aNew==0 ){
        freeValues(t, a, n);
        return SQLITE_NOMEM;
      }
      a = aNew;
    }
    sqlValue(pVal, &a[n]);
    if( a[n].eType==SQLITE_TEXT ){
      char *z = sqlite3_malloc64(a[n].n+1);
      if( z==0 ){
        a[n].z = 0;
        freeValues(t, a, n+1);
        return SQLITE_NOMEM;
      }
      memcpy(z, a[n].z, a[n].n);
      z[a[n].n] = 0;
      a[n].z = z;
    }else{
      a[n].z = 0;
    }
    n++;
  }
  if( rc!=SQLITE_OK && rc!=SQLITE_DONE ){
    freeValues(t, a, n);
    return rc;
  }
  *paVal = a;
  *pnVal = n;
  return SQLITE_OK;
}

/* The id IN list's ids for batches: the text values shaped like record ids
** (no other value can be a record's id), sorted, without duplicates. */
static int collectIds(AtPushQuery *q, const AtSqlValue *aVal, int nVal){
  int i, n = 0;
  q->azId = sqlite3_malloc64(sizeof(char*)*(nVal>0 ? nVal : 1));
  if( q->azId==0 ) return SQLITE_NOMEM;
  for(i=0; i<nVal; i++){
    char *z;
    if( aVal[i].eType!=SQLITE_TEXT || aVal[i].n!=17 ) continue;
    z = sqlite3_mprintf("%.*s", aVal[i].n, aVal[i].z);
    if( z==0 ) return SQLITE_NOMEM;
    if( !atIsId(z, "rec") ){
      sqlite3_free(z);
      continue;
    }
    q->azId[n++] = z;
    q->nId = n;
  }
  qsort(q->azId, n, sizeof(char*), cmpStr);
  for(i=1, q->nId = n>0 ? 1 : 0; i<n; i++){
    if( strcmp(q->azId[i], q->azId[q->nId-1])==0 ){
      sqlite3_free(q->azId[i]);
    }else{
      q->azId[q->nId++] = q->azId[i];
    }
  }
  return SQLITE_OK;
}

char *atPushBatchFormula(const AtPushQuery *q, int iBatch){
  sqlite3_str *p = sqlite3_str_new(0);
  int i, iFirst = iBatch*AT_IN_BATCH, iLast = iFirst+AT_IN_BATCH;
  if( iLast>q->nId ) iLast = q->nId;
  if( q->zRest ) sqlite3_str_appendall(p, "AND(");
  if( iLast-iFirst>1 ) sqlite3_str_appendall(p, "OR(");
  for(i=iFirst; i<iLast; i++){
    sqlite3_str_appendf(p, "%sRECORD_ID()=", i>iFirst ? "," : "");
    atFormulaString(p, q->azId[i], (int)strlen(q->azId[i]));
  }
  if( iLast-iFirst>1 ) sqlite3_str_appendchar(p, 1, ')');
  if( q->zRest ) sqlite3_str_appendf(p, ",%s)", q->zRest);
  return sqlite3_str_finish(p);
}

/* True if the \x01-separated list zList holds zTerm. Terms are formula
** text, which never holds \x01 (atFormulaString refuses controls). */
static int hasTerm(const char *zList, const char *zTerm){
  size_t n = strlen(zTerm);
  while( zList && *zList ){
    const char *zEnd = strchr(zList, '\x01');
    size_t m = zEnd ? (size_t)(zEnd-zList) : strlen(zList);
    if( m==n && memcmp(zList, zTerm, n)==0 ) return 1;
    zList = zEnd ? zEnd+1 : 0;
  }
  return 0;
}

int atPushQueryBuild(const AtPlan *pPlan, const AtSchema *pSchema,
                     const AtPushCol *aCol, int argc, sqlite3_value **argv,
                     AtPushQuery *q, char **pzErr){
  sqlite3_str *pF;
  int i, nPart = 0, rc = SQLITE_OK, iIdIn = -1, nCol = pSchema->nField+AT_COL_FIRST_FIELD;
  char *zParts;

  memset(q, 0, sizeof(*q));
  /* One record by id. */
  if( pPlan->bGet ){
    char *z;
    if( pPlan->nTerm!=1 || argc<1 ) return SQLITE_ERROR;
    if( sqlite3_value_type(argv[0])!=SQLITE_TEXT ){
      q->bEmpty = 1;                 /* no record's id is anything else */
      return SQLITE_OK;
    }
    z = sqlite3_mprintf("%s", (const char*)sqlite3_value_text(argv[0]));
    if( z==0 ) return SQLITE_NOMEM;
    if( !atIsId(z, "rec") || (int)strlen(z)!=sqlite3_value_bytes(argv[0]) ){
      sqlite3_free(z);
      q->bEmpty = 1;                 /* every record id has this shape */
      return SQLITE_OK;
    }
    q->zGetId = z;
    return SQLITE_OK;
  }

  /* The formula: each term written, or left to SQLite when its value
  ** cannot be written (only terms SQLite checks again; an exact term's
  ** value was written once already in xBestIndex). */
  pF = sqlite3_str_new(0);
  for(i=0; i<pPlan->nTerm && rc==SQLITE_OK; i++){
    const AtPlanTerm *t = &pPlan->aTerm[i];
    AtSqlValue *aVal = 0;
    int nVal = 0, eClass;
    sqlite3_str *pT;
    char *zT;
    rc = termValues(t, argc, argv, &aVal, &nVal);
    if( rc!=SQLITE_OK ) break;
    if( t->bIn && nVal==0 ){
      q->bEmpty = 1;                 /* IN (): nothing */
    }
    if( t->iCol==AT_COL_ID && t->bIn && t->eColl==AT_COLL_BINARY && iIdIn<0
     && pPlan->nSort==0 ){
      /* (With sort[], one listing, or the batches would each be sorted.) */
      /* id IN (...): batches of AT_IN_BATCH ids, one listing each. */
      rc = collectIds(q, aVal, nVal);
      if( rc==SQLITE_OK && q->nId==0 ) q->bEmpty = 1;
      iIdIn = i;
      freeValues(t, aVal, nVal);
      continue;
    }
    pT = sqlite3_str_new(0);
    eClass = atFormulaTerm(pT, &aCol[t->iCol], t->eOp, t->eColl, aVal, nVal);
    zT = sqlite3_str_finish(pT);
    freeValues(t, aVal, nVal);
    if( eClass==AT_TERM_SKIP ){
      if( t->bExact ){
        /* Cannot happen (the same value was written in xBestIndex), but
        ** if it did SQLite would not check the constraint: fail loudly. */
        atSetError(pzErr, "internal error: an exact constraint on \"%s\" "
                   "could not be written as a formula", columnName(pSchema, t->iCol));
        rc = SQLITE_ERROR;
      }
    }else if( zT && zT[0] && !hasTerm(sqlite3_str_value(pF), zT) ){
      /* (SQLite offers LIKE's implied ranges as constraints of their own:
      ** the same text twice says nothing more.) */
      sqlite3_str_appendf(pF, "%s%s", nPart++ ? "\x01" : "", zT);
    }
    sqlite3_free(zT);
  }
  zParts = sqlite3_str_finish(pF);
  if( zParts ){
    char *z;
    for(z=zParts; *z; z++) if( *z=='\x01' ) *z = ',';
  }
  if( rc!=SQLITE_OK ){
    sqlite3_free(zParts);
    return rc;
  }
  if( zParts==0 && nPart>0 ) return SQLITE_NOMEM;
  if( nPart>0 ){
    q->zRest = nPart>1 ? sqlite3_mprintf("AND(%s)", zParts) : sqlite3_mprintf("%s", zParts);
    if( q->zRest==0 ){
      sqlite3_free(zParts);
      return SQLITE_NOMEM;
    }
  }
  sqlite3_free(zParts);
  if( q->nId>0 ){
    q->nBatch = (q->nId + AT_IN_BATCH-1)/AT_IN_BATCH;
    q->zFormula = atPushBatchFormula(q, 0);
    if( q->zFormula==0 ) return SQLITE_NOMEM;
  }else if( q->zRest ){
    q->zFormula = q->zRest;
    q->zRest = 0;
  }

  /* sort[] */
  if( pPlan->nSort>0 ){
    q->aSort = sqlite3_malloc64(sizeof(AtSort)*pPlan->nSort);
    if( q->aSort==0 ) return SQLITE_NOMEM;
    for(i=0; i<pPlan->nSort; i++){
      q->aSort[i].zField = pSchema->aField[pPlan->aSortCol[i]-AT_COL_FIRST_FIELD].zId;
      q->aSort[i].bDesc = pPlan->abSortDesc[i];
    }
    q->nSort = pPlan->nSort;
  }

  /* LIMIT + OFFSET records on the first page (LIMIT < 0 is no limit). */
  if( pPlan->iLimitArg>=0 && pPlan->iLimitArg<argc
   && sqlite3_value_type(argv[pPlan->iLimitArg])==SQLITE_INTEGER ){
    sqlite3_int64 nLimit = sqlite3_value_int64(argv[pPlan->iLimitArg]), nOffset = 0;
    if( pPlan->iOffsetArg>=0 && pPlan->iOffsetArg<argc ){
      if( sqlite3_value_type(argv[pPlan->iOffsetArg])!=SQLITE_INTEGER ){
        nLimit = -1;
      }else{
        nOffset = sqlite3_value_int64(argv[pPlan->iOffsetArg]);
        if( nOffset<0 ) nOffset = 0;
      }
    }
    if( nLimit==0 ){
      q->bEmpty = 1;
    }else if( nLimit>0 && nLimit+nOffset<AT_PAGE ){
      /* pageSize, not maxRecords: SQLite may pass LIMIT while a WHERE term
      ** it never offered (one column against another) still filters; the
      ** listing then goes on to the next page when SQLite asks for more. */
      q->nPageSize = (int)(nLimit + nOffset);
    }
  }

  /* fields[]: the fields used; all of them: no fields[] at all (shorter);
  ** none: one small one (a listing of ids alone still sends every field). */
  if( pPlan->bFields ){
    int nUsed = 0;
    for(i=AT_COL_FIRST_FIELD; i<nCol; i++) nUsed += pPlan->abUsed[i];
    if( nUsed<pSchema->nField ){
      q->azField = sqlite3_malloc64(sizeof(char*)*(nUsed>0 ? nUsed : 1));
      if( q->azField==0 ) return SQLITE_NOMEM;
      for(i=AT_COL_FIRST_FIELD; i<nCol; i++){
        if( pPlan->abUsed[i] ) q->azField[q->nField++] = pSchema->aField[i-AT_COL_FIRST_FIELD].zId;
      }
      if( q->nField==0 && pSchema->nField>0 ){
        q->azField[q->nField++] = atSchemaSmallField(pSchema, 0);
      }
    }
  }
  return SQLITE_OK;
}
