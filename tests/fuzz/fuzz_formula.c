/* fuzz_formula.c: the formula writer (formula.c) against injection. The
** input's first byte picks the operator, the rest is the value. Whatever
** the value, the formula written must read back as the writer meant:
**   - outside string literals, only field references {fld + 14 letters or
**     digits}, function names, digits and operators: no quote, backslash,
**     stray brace or control character;
**   - each string literal ends where the writer ended it and decodes (\\
**     and \' only) to text taken from the value: the whole value for =,
**     a piece of it for LIKE (lowered) and GLOB;
** and a number written from the input's bytes reads back as the same
** double. A violation aborts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "airtable_int.h"
#include "formula.h"

static int isAlnum(char c){
  return (c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9');
}

/* Check zF; zValue (nValue bytes) is what literals must come from:
** bWhole: each literal is exactly it; bLower: a piece of its ASCII-lowered
** form; else a piece of it. */
static void checkFormula(const char *zF, const char *zValue, int nValue,
                         int bWhole, int bLower, int bDate){
  char *zLow = malloc(nValue+1), *zLit = malloc(strlen(zF)+1);
  int i = 0, k;
  for(k=0; k<nValue; k++){
    char c = zValue[k];
    zLow[k] = bLower && c>='A' && c<='Z' ? c+32 : c;
  }
  zLow[nValue] = 0;
  while( zF[i] ){
    char c = zF[i];
    if( c=='\'' ){
      int n = 0;
      i++;
      for(;;){
        if( zF[i]==0 ) abort();                 /* unterminated literal */
        if( zF[i]=='\\' ){
          if( zF[i+1]!='\\' && zF[i+1]!='\'' ) abort();   /* unknown escape */
          zLit[n++] = zF[i+1];
          i += 2;
        }else if( zF[i]=='\'' ){
          i++;
          break;
        }else{
          if( (unsigned char)zF[i]<0x20 ) abort();
          zLit[n++] = zF[i++];
        }
      }
      if( bDate ){
        /* A bound the writer made: YYYY-MM-DDT00:00:00.000Z. */
        if( n!=24 || memcmp(zLit+10, "T00:00:00.000Z", 14)!=0 ) abort();
      }else if( bWhole ){
        if( n!=nValue || memcmp(zLit, zValue, n)!=0 ) abort();
      }else{
        int j, bFound = 0;
        for(j=0; j+n<=nValue && !bFound; j++){
          if( memcmp(zLow+j, zLit, n)==0 ) bFound = 1;
        }
        if( !bFound && n>0 ) abort();
      }
    }else if( c=='{' ){
      if( strncmp(zF+i+1, "fld", 3)!=0 ) abort();
      for(k=4; k<18; k++) if( !isAlnum(zF[i+k]) ) abort();
      if( zF[i+18]!='}' ) abort();
      i += 19;
    }else if( isAlnum(c) || c=='_' || strchr("(),=<>!&.-+", c) ){
      i++;
    }else{
      abort();
    }
  }
  free(zLow);
  free(zLit);
}

int LLVMFuzzerTestOneInput(const unsigned char *aData, size_t nData){
  static const int aOp[] = {
    SQLITE_INDEX_CONSTRAINT_EQ, SQLITE_INDEX_CONSTRAINT_LIKE,
    SQLITE_INDEX_CONSTRAINT_GLOB, SQLITE_INDEX_CONSTRAINT_GE,
  };
  AtPushCol aCol[4];
  AtSqlValue v;
  int i, eOp;
  if( nData<1 ) return 0;
  eOp = aOp[aData[0]%4];
  memset(aCol, 0, sizeof(aCol));
  aCol[0].ePush = AT_PUSH_TEXT;    aCol[0].zFieldId = "fldAAAAAAAAAAAAAA";
  aCol[1].ePush = AT_PUSH_ID;
  aCol[2].ePush = AT_PUSH_DATE;    aCol[2].zFieldId = "fldDDDDDDDDDDDDDD";
  aCol[3].ePush = AT_PUSH_NUMBER;  aCol[3].zFieldId = "fldNNNNNNNNNNNNNN";
  memset(&v, 0, sizeof(v));
  v.eType = SQLITE_TEXT;
  v.z = (const char*)aData+1;
  v.n = (int)nData-1;
  for(i=0; i<3; i++){
    sqlite3_str *p = sqlite3_str_new(0);
    int rc = atFormulaTerm(p, &aCol[i], eOp, (aData[0]>>2)%2, &v, 1);
    char *z = sqlite3_str_finish(p);
    if( rc!=AT_TERM_SKIP && z ){
      int bWhole = eOp==SQLITE_INDEX_CONSTRAINT_EQ && i<2 && (aData[0]>>2)%2==0;
      checkFormula(z, v.z, v.n, bWhole, eOp==SQLITE_INDEX_CONSTRAINT_LIKE, i==2);
    }
    sqlite3_free(z);
  }
  /* A number from the bytes: written, it must read back exactly. */
  if( nData>=9 ){
    AtSqlValue n;
    sqlite3_str *p = sqlite3_str_new(0);
    char *z;
    memset(&n, 0, sizeof(n));
    n.eType = aData[0]&1 ? SQLITE_FLOAT : SQLITE_INTEGER;
    memcpy(aData[0]&1 ? (void*)&n.r : (void*)&n.i, aData+1, 8);
    if( atFormulaNumber(p, &n) ){
      z = sqlite3_str_finish(p);
      if( z==0 ) abort();
      checkFormula(z, "", 0, 0, 0, 0);
      {
        const char *zNum = z[0]=='(' ? z+1 : z;
        double r = strtod(zNum, 0);
        double want = n.eType==SQLITE_FLOAT ? n.r : (double)n.i;
        if( r!=want && !(r==0 && want==0) ) abort();
      }
      sqlite3_free(z);
    }else{
      sqlite3_free(sqlite3_str_finish(p));
    }
  }
  return 0;
}
