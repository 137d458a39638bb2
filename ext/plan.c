/*
** plan.c: the one grammar of the airtable table's plans (plan.h has it),
** written by pushdown.c and cachequery.c in xBestIndex and read back by
** them in xFilter, and the one table of the operators plans name.
*/
#include <stdlib.h>
#include <string.h>
#include "plan.h"
#include "schema.h"

/* The operators a plan may carry, and their SQL text. */
static const struct {
  int eOp;
  const char *zName;
} aOp[] = {
  { SQLITE_INDEX_CONSTRAINT_EQ,        "=" },
  { SQLITE_INDEX_CONSTRAINT_NE,        "!=" },
  { SQLITE_INDEX_CONSTRAINT_LT,        "<" },
  { SQLITE_INDEX_CONSTRAINT_LE,        "<=" },
  { SQLITE_INDEX_CONSTRAINT_GT,        ">" },
  { SQLITE_INDEX_CONSTRAINT_GE,        ">=" },
  { SQLITE_INDEX_CONSTRAINT_ISNULL,    "IS NULL" },
  { SQLITE_INDEX_CONSTRAINT_ISNOTNULL, "IS NOT NULL" },
  { SQLITE_INDEX_CONSTRAINT_LIKE,      "LIKE" },
  { SQLITE_INDEX_CONSTRAINT_GLOB,      "GLOB" },
};

const char *atPlanOpName(int eOp){
  size_t i;
  for(i=0; i<sizeof(aOp)/sizeof(aOp[0]); i++){
    if( aOp[i].eOp==eOp ) return aOp[i].zName;
  }
  return 0;
}

int atPlanCollation(sqlite3_index_info *pInfo, int i){
  const char *z = sqlite3_vtab_collation(pInfo, i);
  if( z==0 || sqlite3_stricmp(z, "BINARY")==0 ) return AT_COLL_BINARY;
  if( sqlite3_stricmp(z, "NOCASE")==0 ) return AT_COLL_NOCASE;
  return AT_COLL_OTHER;
}

void atPlanWriteTerm(sqlite3_str *p, const AtPlanTerm *t){
  sqlite3_str_appendf(p, " t%d.%d.%d.%d.%d.%d", t->iCol, t->eOp, t->eColl,
                      t->bIn, t->bExact, t->iArg);
}

int atPlanParse(const char *z, int nCol, AtPlan *p){
  memset(p, 0, sizeof(*p));
  p->iLimitArg = p->iOffsetArg = -1;
  p->abUsed = sqlite3_malloc64(nCol>0 ? nCol : 1);
  if( p->abUsed==0 ) return SQLITE_NOMEM;
  memset(p->abUsed, 0, nCol>0 ? nCol : 1);
  if( z==0 || strncmp(z, "v1", 2)!=0 ) return SQLITE_ERROR;
  z += 2;
  for(;;){
    char *zEnd;
    while( *z==' ' ) z++;
    if( *z==0 || (z[0]=='-' && z[1]=='-') ) break;
    switch( *z++ ){
      case 'g': p->bGet = 1; break;
      case 't': {
        AtPlanTerm *t;
        long a[6];
        int k;
        if( p->nTerm>=AT_PLAN_MAX ) return SQLITE_ERROR;
        for(k=0; k<6; k++){
          a[k] = strtol(z, &zEnd, 10);
          if( zEnd==z ) return SQLITE_ERROR;
          z = zEnd;
          if( k<5 && *z++!='.' ) return SQLITE_ERROR;
        }
        if( a[0]<0 || a[0]>=nCol ) return SQLITE_ERROR;
        t = &p->aTerm[p->nTerm++];
        t->iCol = (int)a[0];
        t->eOp = (int)a[1];
        t->eColl = (int)a[2];
        t->bIn = (int)a[3];
        t->bExact = (int)a[4];
        t->iArg = (int)a[5];
        break;
      }
      case 's': {
        long iCol, bDesc;
        if( p->nSort>=AT_PLAN_MAX ) return SQLITE_ERROR;
        iCol = strtol(z, &zEnd, 10);
        if( zEnd==z || *zEnd!='.' ) return SQLITE_ERROR;
        z = zEnd+1;
        bDesc = strtol(z, &zEnd, 10);
        if( zEnd==z || iCol<AT_COL_FIRST_FIELD || iCol>=nCol ) return SQLITE_ERROR;
        z = zEnd;
        p->aSortCol[p->nSort] = (int)iCol;
        p->abSortDesc[p->nSort++] = bDesc!=0;
        break;
      }
      case 'l':
      case 'o': {
        long iArg = strtol(z, &zEnd, 10);
        if( zEnd==z ) return SQLITE_ERROR;
        if( z[-1]=='l' ) p->iLimitArg = (int)iArg; else p->iOffsetArg = (int)iArg;
        z = zEnd;
        break;
      }
      case 'f': {
        int k = 0;
        p->bFields = 1;
        while( (*z>='0' && *z<='9') || (*z>='a' && *z<='f') ){
          int d = *z>='a' ? *z-'a'+10 : *z-'0', b;
          for(b=0; b<4; b++){
            if( (d>>b)&1 && k*4+b<nCol ) p->abUsed[k*4+b] = 1;
          }
          k++;
          z++;
        }
        break;
      }
      default:
        return SQLITE_ERROR;
    }
  }
  return SQLITE_OK;
}

void atPlanClear(AtPlan *p){
  sqlite3_free(p->abUsed);
  memset(p, 0, sizeof(*p));
}

