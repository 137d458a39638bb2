/*
** formula.c: the filterByFormula text of one SQL constraint, for pushdown.
**
** This file is an injection surface: values come from SQL, and a formula
** is code Airtable runs. So:
**   - fields are referenced by id only, {fldXXXXXXXXXXXXXX}, never by name,
**     and an id that is not of that shape is refused;
**   - text goes in single quotes with only the two escapes known to work
**     against live Airtable, \\ and \' (docs/airtable-api.md, "Formulas"); text
**     holding anything whose reading inside a literal is not documented (a
**     control character, a line or paragraph separator, a NUL, bytes that
**     are not UTF-8) is not written at all: the constraint is left to SQLite;
**   - numbers are written so that JavaScript reads back the same double
**     (integers beyond 2^53 are not written), negative ones in parentheses.
**
** The safety rule (docs/pushdown.md): a formula may keep more records
** than the SQL constraint, never fewer, under every plausible reading of
** what Airtable leaves undocumented: whether text = is case-sensitive, how
** blanks compare with "" and 0, whether a numeric 0 is left out of a
** response (then SQL sees NULL), how LOWER and FIND treat case. Each writer
** below says why its formula is a superset, and when it is exact (keeps
** exactly the records SQLite would), which lets the table tell SQLite not
** to check again (omit) and push LIMIT.
*/
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "formula.h"
#include "plan.h"
#include "schema.h"
#include "util.h"
#include "value.h"

/* ---- the pushdown kind of a column ------------------------------------- */

int atPushKind(const AtField *f){
  static const struct { const char *zType; int ePush; } a[] = {
    /* Text typed by a person: the cell is the text, or absent when empty. */
    { "singleLineText", AT_PUSH_TEXT }, { "email", AT_PUSH_TEXT },
    { "url", AT_PUSH_TEXT }, { "multilineText", AT_PUSH_TEXT },
    { "phoneNumber", AT_PUSH_TEXT },
    { "singleSelect", AT_PUSH_SELECT },
    /* Numbers that are never an error value (formulas and rollups can be:
    ** #ERROR! and NaN, so they are not pushed). */
    { "number", AT_PUSH_NUMBER }, { "currency", AT_PUSH_NUMBER },
    { "percent", AT_PUSH_NUMBER }, { "duration", AT_PUSH_NUMBER },
    { "rating", AT_PUSH_NUMBER }, { "autoNumber", AT_PUSH_NUMBER },
    { "count", AT_PUSH_NUMBER },
    { "checkbox", AT_PUSH_CHECKBOX },
    { "date", AT_PUSH_DATE }, { "dateTime", AT_PUSH_DATE },
    { "createdTime", AT_PUSH_DATE }, { "lastModifiedTime", AT_PUSH_DATE },
  };
  size_t i;
  /* richText (a formula may see Markdown or plain text: undocumented),
  ** arrays and objects (JSON columns), computed fields: not pushed. The
  ** kind must also be the one value.c gives the type, or SQL would compare
  ** other values than the formula. */
  for(i=0; i<sizeof(a)/sizeof(a[0]); i++){
    if( strcmp(f->zType, a[i].zType)!=0 ) continue;
    switch( a[i].ePush ){
      case AT_PUSH_TEXT: case AT_PUSH_SELECT:
        return f->eKind==AT_KIND_TEXT ? a[i].ePush : AT_PUSH_NONE;
      case AT_PUSH_NUMBER:
        return f->eKind==AT_KIND_INTEGER || f->eKind==AT_KIND_REAL
               ? AT_PUSH_NUMBER : AT_PUSH_NONE;
      case AT_PUSH_CHECKBOX:
        return f->eKind==AT_KIND_BOOLEAN ? AT_PUSH_CHECKBOX : AT_PUSH_NONE;
      default:
        return f->eKind==AT_KIND_DATE || f->eKind==AT_KIND_DATETIME
               ? AT_PUSH_DATE : AT_PUSH_NONE;
    }
  }
  return AT_PUSH_NONE;
}

/* ---- literals ------------------------------------------------------------ */

/* The code point of the UTF-8 sequence at z[0..n), its length in *pLen;
** -1 if the bytes are not well-formed UTF-8 (overlong forms, surrogates,
** beyond U+10FFFF and truncated sequences included). */
static int utf8Decode(const unsigned char *z, int n, int *pLen){
  int c = z[0], need, i, min;
  if( c<0x80 ){ *pLen = 1; return c; }
  if( c>=0xC2 && c<=0xDF ){ need = 1; c &= 0x1F; min = 0x80; }
  else if( c>=0xE0 && c<=0xEF ){ need = 2; c &= 0x0F; min = 0x800; }
  else if( c>=0xF0 && c<=0xF4 ){ need = 3; c &= 0x07; min = 0x10000; }
  else return -1;
  if( n<need+1 ) return -1;
  for(i=1; i<=need; i++){
    if( (z[i]&0xC0)!=0x80 ) return -1;
    c = (c<<6) | (z[i]&0x3F);
  }
  if( c<min || c>0x10FFFF || (c>=0xD800 && c<=0xDFFF) ) return -1;
  *pLen = need+1;
  return c;
}

/* True for a character whose meaning inside a formula's string literal is
** not documented: C0 and C1 controls (newline and tab included), DEL, and
** the line and paragraph separators (line breaks in JavaScript source). */
static int isUnsafeChar(int c){
  return c<0x20 || (c>=0x7F && c<=0x9F) || c==0x2028 || c==0x2029;
}

int atFormulaString(sqlite3_str *p, const char *z, int n){
  const unsigned char *a = (const unsigned char*)z;
  int i, len;
  for(i=0; i<n; i+=len){
    int c = utf8Decode(a+i, n-i, &len);
    if( c<0 || isUnsafeChar(c) ) return 0;
  }
  sqlite3_str_appendchar(p, 1, '\'');
  for(i=0; i<n; i++){
    if( z[i]=='\\' || z[i]=='\'' ) sqlite3_str_appendchar(p, 1, '\\');
    sqlite3_str_appendchar(p, 1, z[i]);
  }
  sqlite3_str_appendchar(p, 1, '\'');
  return 1;
}

/* 2^53: every integer up to it is a double, as JavaScript reads numbers. */
#define AT_MAX_EXACT_INT 9007199254740992LL

int atFormulaNumber(sqlite3_str *p, const AtSqlValue *v){
  char zBuf[64];
  int i;
  if( v->eType==SQLITE_INTEGER ){
    if( v->i > AT_MAX_EXACT_INT || v->i < -AT_MAX_EXACT_INT ) return 0;
    if( v->i<0 ){
      sqlite3_str_appendf(p, "(%lld)", (long long)v->i);
    }else{
      sqlite3_str_appendf(p, "%lld", (long long)v->i);
    }
    return 1;
  }
  if( v->eType!=SQLITE_FLOAT || !isfinite(v->r) ) return 0;
  if( v->r==0.0 ){
    sqlite3_str_appendchar(p, 1, '0');   /* -0.0 as well */
    return 1;
  }
  /* Plain decimals only: whether a formula reads exponent notation (1e-7)
  ** is not documented, so numbers that would need it (JavaScript's own
  ** range for plain notation is 1e-6 to 1e21) are not written. 17
  ** significant digits read back as the same double; the digits of a
  ** double of 1e17 or more are its exact value; below 1e-5, 24 decimals
  ** hold 17 significant digits. snprintf follows the locale's decimal
  ** point: make it '.', then check the shape, so no locale can put
  ** anything else into the formula. */
  {
    double r = fabs(v->r);
    int n;
    if( r>=1e21 || r<1e-6 ) return 0;
    snprintf(zBuf, sizeof(zBuf), "%.17g", r);
    if( strchr(zBuf, 'e') ){
      snprintf(zBuf, sizeof(zBuf), r>=1 ? "%.0f" : "%.24f", r);
    }
    for(i=0; zBuf[i]; i++){
      if( zBuf[i]==',' ) zBuf[i] = '.';
      if( !(zBuf[i]>='0' && zBuf[i]<='9') && zBuf[i]!='.' ) return 0;
    }
    n = i;
    if( strchr(zBuf, '.') ){
      while( n>0 && zBuf[n-1]=='0' ) n--;       /* 0.500 -> 0.5 */
      if( n>0 && zBuf[n-1]=='.' ) n--;
      zBuf[n] = 0;
    }
    if( n==0 || zBuf[0]=='.' ) return 0;
  }
  sqlite3_str_appendf(p, v->r<0 ? "(-%s)" : "%s", zBuf);
  return 1;
}

int atFormulaField(sqlite3_str *p, const char *zFieldId){
  if( zFieldId==0 || !atIsId(zFieldId, "fld") ) return 0;
  sqlite3_str_appendf(p, "{%s}", zFieldId);
  return 1;
}

/* ---- one constraint ------------------------------------------------------ */

/* The operand a term compares: {fld...}, RECORD_ID() or CREATED_TIME(). */
static int writeOperand(sqlite3_str *p, const AtPushCol *c){
  if( c->ePush==AT_PUSH_ID ){
    sqlite3_str_appendall(p, "RECORD_ID()");
    return 1;
  }
  if( c->ePush==AT_PUSH_CREATED ){
    sqlite3_str_appendall(p, "CREATED_TIME()");
    return 1;
  }
  return atFormulaField(p, c->zFieldId);
}

/* "LEN(X&'')>0" / "=0": X as text is not empty / empty. Blank is "" as
** text under every reading; a number, even 0, is not; nor is a date. */
static int writeHasText(sqlite3_str *p, const AtPushCol *c, int bEmpty){
  sqlite3_str_appendall(p, "LEN(");
  if( !writeOperand(p, c) ) return 0;
  sqlite3_str_appendall(p, bEmpty ? "&'')=0" : "&'')>0");
  return 1;
}

/* SQLite's comparison of integer x (a checkbox's 0 or 1) with number v. */
static int numberTest(int x, int eOp, const AtSqlValue *v){
  int c = v->eType==SQLITE_INTEGER ? (x>v->i) - (x<v->i) : (x>v->r) - (x<v->r);
  switch( eOp ){
    case SQLITE_INDEX_CONSTRAINT_EQ: return c==0;
    case SQLITE_INDEX_CONSTRAINT_NE: return c!=0;
    case SQLITE_INDEX_CONSTRAINT_LT: return c<0;
    case SQLITE_INDEX_CONSTRAINT_LE: return c<=0;
    case SQLITE_INDEX_CONSTRAINT_GT: return c>0;
    case SQLITE_INDEX_CONSTRAINT_GE: return c>=0;
  }
  return 1;
}

static int isNumber(const AtSqlValue *v){
  return v->eType==SQLITE_INTEGER || (v->eType==SQLITE_FLOAT && isfinite(v->r));
}

static int isZero(const AtSqlValue *v){
  return v->eType==SQLITE_INTEGER ? v->i==0 : v->r==0.0;
}

static int isPositive(const AtSqlValue *v){
  return v->eType==SQLITE_INTEGER ? v->i>0 : v->r>0.0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
static sqlite3_int64 daysFromCivil(int y, int m, int d){
  sqlite3_int64 era, yoe, doy, doe;
  y -= m<=2;
  era = (y>=0 ? y : y-399) / 400;
  yoe = y - era*400;
  doy = (153*(m + (m>2 ? -3 : 9)) + 2)/5 + d-1;
  doe = yoe*365 + yoe/4 - yoe/100 + doy;
  return era*146097 + doe - 719468;
}
static void civilFromDays(sqlite3_int64 z, int *py, int *pm, int *pd){
  sqlite3_int64 era, doe, yoe, y, doy, mp;
  z += 719468;
  era = (z>=0 ? z : z-146096) / 146097;
  doe = z - era*146097;
  yoe = (doe - doe/1460 + doe/36524 - doe/146096) / 365;
  y = yoe + era*400;
  doy = doe - (365*yoe + yoe/4 - yoe/100);
  mp = (5*doy + 2)/153;
  *pd = (int)(doy - (153*mp+2)/5 + 1);
  *pm = (int)(mp<10 ? mp+3 : mp-9);
  *py = (int)(y + (*pm<=2));
}

static int daysInMonth(int y, int m){
  static const int a[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
  int bLeap = (y%4==0 && y%100!=0) || y%400==0;
  return a[m-1] + (m==2 && bLeap);
}

/* The day a text starting "YYYY-MM-DD" names, as days since 1970; 0 if it
** does not start with a real date. (A day past the month's end, such as
** 2024-02-31, is not one: rolled over into March it would move the bounds
** below past records SQLite keeps; such a constraint is left to SQLite.) */
static int textDay(const AtSqlValue *v, sqlite3_int64 *pDay){
  const char *z = v->z;
  int i, y, m, d;
  if( v->eType!=SQLITE_TEXT || v->n<10 ) return 0;
  for(i=0; i<10; i++){
    if( i==4 || i==7 ){
      if( z[i]!='-' ) return 0;
    }else if( z[i]<'0' || z[i]>'9' ){
      return 0;
    }
  }
  y = atoi(z);
  m = (z[5]-'0')*10 + z[6]-'0';
  d = (z[8]-'0')*10 + z[9]-'0';
  if( m<1 || m>12 || d<1 || d>daysInMonth(y, m) ) return 0;
  *pDay = daysFromCivil(y, m, d);
  return 1;
}

/* IS_AFTER(X,DATETIME_PARSE('day')) or IS_BEFORE(...), day given as days
** since 1970, at 00:00 UTC. */
static int writeDayBound(sqlite3_str *p, const AtPushCol *c, int bAfter,
                         sqlite3_int64 iDay){
  int y, m, d;
  civilFromDays(iDay, &y, &m, &d);
  if( y<0 || y>9999 ) return 0;
  sqlite3_str_appendall(p, bAfter ? "IS_AFTER(" : "IS_BEFORE(");
  if( !writeOperand(p, c) ) return 0;
  sqlite3_str_appendf(p, ",DATETIME_PARSE('%04d-%02d-%02dT00:00:00.000Z'))", y, m, d);
  return 1;
}

/*
** A date, date-time, created-time or last-modified-time column holds ISO
** 8601 text, compared by SQLite as text. If col >= 'YYYY-MM-DD...' then
** the first ten characters of col are >= those of the value, so its day is
** on or after that day. A date field's instant in a formula is its
** midnight in some time zone (undocumented; at most 14 hours from UTC), so
** the bound is moved a whole day out: IS_AFTER(X, day-1) for >= and >,
** IS_BEFORE(X, day+2) for <= and <. Both for =. Never exact.
*/
static int writeDateTest(sqlite3_str *p, const AtPushCol *c, int eOp,
                         const AtSqlValue *v){
  sqlite3_int64 iDay;
  if( !textDay(v, &iDay) ) return 0;
  switch( eOp ){
    case SQLITE_INDEX_CONSTRAINT_GT:
    case SQLITE_INDEX_CONSTRAINT_GE:
      return writeDayBound(p, c, 1, iDay-1);
    case SQLITE_INDEX_CONSTRAINT_LT:
    case SQLITE_INDEX_CONSTRAINT_LE:
      return writeDayBound(p, c, 0, iDay+2);
    case SQLITE_INDEX_CONSTRAINT_EQ:
      sqlite3_str_appendall(p, "AND(");
      if( !writeDayBound(p, c, 1, iDay-1) ) return 0;
      sqlite3_str_appendchar(p, 1, ',');
      if( !writeDayBound(p, c, 0, iDay+2) ) return 0;
      sqlite3_str_appendchar(p, 1, ')');
      return 1;
  }
  return 0;
}

/* One "=" test of an IN list or an equality: the term class, or SKIP. */
static int writeEqual(sqlite3_str *p, const AtPushCol *c, int eColl,
                      const AtSqlValue *v){
  switch( c->ePush ){
    case AT_PUSH_TEXT:
    case AT_PUSH_SELECT:
    case AT_PUSH_ID:
      /* SQLite compares a TEXT column with a number as text ('5', '5.0'):
      ** not written (left to SQLite). */
      if( v->eType!=SQLITE_TEXT || eColl==AT_COLL_OTHER ) return AT_TERM_SKIP;
      if( eColl==AT_COLL_NOCASE ){
        /* NOCASE folds ASCII letters only: equal under it means equal
        ** after LOWER() on both sides, whichever way LOWER treats the rest
        ** (it sees the same other characters in the same places). */
        sqlite3_str_appendall(p, "LOWER(");
        if( !writeOperand(p, c) ) return AT_TERM_SKIP;
        sqlite3_str_appendall(p, ")=LOWER(");
        if( !atFormulaString(p, v->z, v->n) ) return AT_TERM_SKIP;
        sqlite3_str_appendchar(p, 1, ')');
        return AT_TERM_CLOSE;
      }
      /* Identical text is equal under any reading; a reading that ignores
      ** case or whitespace only keeps more. Never exact, not even for a
      ** single select's choice: a choice added since the table connected
      ** (a write with typecast adds them) could differ from it only in case. */
      if( !writeOperand(p, c) ) return AT_TERM_SKIP;
      sqlite3_str_appendchar(p, 1, '=');
      if( !atFormulaString(p, v->z, v->n) ) return AT_TERM_SKIP;
      return AT_TERM_CLOSE;
    case AT_PUSH_NUMBER:
      if( !isNumber(v) ) return AT_TERM_SKIP;
      if( !writeOperand(p, c) ) return AT_TERM_SKIP;
      sqlite3_str_appendchar(p, 1, '=');
      if( !atFormulaNumber(p, v) ) return AT_TERM_SKIP;
      /* A blank never equals a number other than 0 (read as 0, as "" or
      ** as blank); = 0 would also keep blanks, and 0 cells SQL may see as
      ** NULL if Airtable leaves 0 out. */
      return isZero(v) ? AT_TERM_SUPERSET : AT_TERM_EXACT;
    case AT_PUSH_DATE:
    case AT_PUSH_CREATED:
      if( eColl==AT_COLL_OTHER ) return AT_TERM_SKIP;
      return writeDateTest(p, c, SQLITE_INDEX_CONSTRAINT_EQ, v)
             ? AT_TERM_SUPERSET : AT_TERM_SKIP;
  }
  return AT_TERM_SKIP;
}

/* The checkbox's values {0,1} a set of tests keeps: bit 0 for 0, bit 1
** for 1. Each test is "col OP v" (IN: any of them with EQ). */
static int checkboxKeeps(int eOp, const AtSqlValue *aVal, int nVal, int *pMask){
  int i, mask = 0;
  for(i=0; i<nVal; i++){
    if( aVal[i].eType==SQLITE_NULL ) continue;     /* never true */
    if( !isNumber(&aVal[i]) ) return 0;
    if( numberTest(0, eOp, &aVal[i]) ) mask |= 1;
    if( numberTest(1, eOp, &aVal[i]) ) mask |= 2;
  }
  *pMask = mask;
  return 1;
}

/* A LIKE or GLOB pattern as the literal runs a match must contain: the
** first anchored at the start unless the pattern starts with a wildcard.
** LIKE: '%' and '_' are wildcards (no ESCAPE: SQLite passes LIKE with an
** ESCAPE clause to no virtual table); runs are kept only if ASCII, and
** lowered: SQLite's LIKE folds ASCII letters only, so a match has the
** same characters there up to ASCII case, and LOWER() on the field (any
** LOWER: Unicode or ASCII) then shows the run in lower case. GLOB: '*',
** '?' and [...] are wildcards; runs are compared as they are (GLOB is
** case-sensitive; a case-insensitive FIND would only keep more). */
static int writePattern(sqlite3_str *p, const AtPushCol *c, int bGlob,
                        const AtSqlValue *v){
  const char *z = v->z;
  int n = v->n, i = 0, nRun = 0, bStart = 1;
  sqlite3_str *pTerms;
  char *zTerms;
  if( v->eType!=SQLITE_TEXT || memchr(z, 0, n) ) return AT_TERM_SKIP;
  pTerms = sqlite3_str_new(0);
  while( i<n ){
    int j = i, bAscii = 1;
    while( j<n ){
      char ch = z[j];
      if( bGlob ? (ch=='*' || ch=='?' || ch=='[') : (ch=='%' || ch=='_') ) break;
      if( (unsigned char)ch>=0x80 ) bAscii = 0;
      j++;
    }
    if( j>i && (bGlob || bAscii) ){
      sqlite3_str *pRun = sqlite3_str_new(0);
      char *zRun;
      int k, bOk;
      for(k=i; k<j; k++){
        char ch = z[k];
        if( !bGlob && ch>='A' && ch<='Z' ) ch += 32;
        sqlite3_str_appendchar(pRun, 1, ch);
      }
      zRun = sqlite3_str_finish(pRun);
      if( zRun==0 ){
        sqlite3_free(sqlite3_str_finish(pTerms));
        return AT_TERM_SKIP;
      }
      if( nRun ) sqlite3_str_appendchar(pTerms, 1, ',');
      sqlite3_str_appendall(pTerms, "FIND(");
      bOk = atFormulaString(pTerms, zRun, (int)strlen(zRun));
      sqlite3_free(zRun);
      if( bOk ){
        sqlite3_str_appendall(pTerms, bGlob ? "," : ",LOWER(");
        bOk = writeOperand(pTerms, c);
        sqlite3_str_appendall(pTerms, bGlob ? ")" : "))");
        sqlite3_str_appendall(pTerms, bStart ? "=1" : ">0");
      }
      if( !bOk ){
        sqlite3_free(sqlite3_str_finish(pTerms));
        return AT_TERM_SKIP;
      }
      nRun++;
    }
    if( j>=n ) break;
    /* Past the wildcard: a GLOB class runs to its ']' (a ']' first in the
    ** class, after an optional '^', is part of it). */
    if( bGlob && z[j]=='[' ){
      j++;
      if( j<n && z[j]=='^' ) j++;
      if( j<n && z[j]==']' ) j++;
      while( j<n && z[j]!=']' ) j++;
      if( j>=n ) break;      /* unterminated: matches nothing; stop */
    }
    i = j+1;
    bStart = 0;
  }
  if( sqlite3_str_errcode(pTerms) ){
    sqlite3_free(sqlite3_str_finish(pTerms));
    return AT_TERM_SKIP;
  }
  zTerms = sqlite3_str_finish(pTerms);    /* NULL when empty */
  if( nRun==0 ){
    /* Only wildcards: a match is some text. */
    sqlite3_free(zTerms);
    return writeHasText(p, c, 0) ? AT_TERM_SUPERSET : AT_TERM_SKIP;
  }
  if( nRun>1 ) sqlite3_str_appendf(p, "AND(%s)", zTerms);
  else sqlite3_str_appendall(p, zTerms);
  sqlite3_free(zTerms);
  return AT_TERM_SUPERSET;
}

int atFormulaTerm(sqlite3_str *p, const AtPushCol *c, int eOp, int eColl,
                  const AtSqlValue *aVal, int nVal){
  int i, rc;
  switch( c->ePush ){
    case AT_PUSH_NONE:
      return AT_TERM_SKIP;
    case AT_PUSH_CHECKBOX: {
      /* The column is 1 when checked, 0 when not (never NULL); the formula
      ** sees true, or blank/false: {f} is truthy exactly when checked. */
      int mask;
      if( eOp==SQLITE_INDEX_CONSTRAINT_ISNULL ){
        sqlite3_str_appendall(p, "FALSE()");
        return AT_TERM_EXACT;
      }
      if( eOp==SQLITE_INDEX_CONSTRAINT_ISNOTNULL ) return AT_TERM_EXACT;
      if( eOp==SQLITE_INDEX_CONSTRAINT_LIKE || eOp==SQLITE_INDEX_CONSTRAINT_GLOB ){
        return AT_TERM_SKIP;
      }
      if( !checkboxKeeps(eOp, aVal, nVal, &mask) ) return AT_TERM_SKIP;
      switch( mask ){
        case 0: sqlite3_str_appendall(p, "FALSE()"); break;
        case 1:
          sqlite3_str_appendall(p, "NOT(");
          if( !writeOperand(p, c) ) return AT_TERM_SKIP;
          sqlite3_str_appendchar(p, 1, ')');
          break;
        case 2:
          if( !writeOperand(p, c) ) return AT_TERM_SKIP;
          break;
      }
      return AT_TERM_EXACT;
    }
    case AT_PUSH_ID:
    case AT_PUSH_CREATED:
      /* Every record has an id and a created time. */
      if( eOp==SQLITE_INDEX_CONSTRAINT_ISNULL ){
        sqlite3_str_appendall(p, "FALSE()");
        return AT_TERM_EXACT;
      }
      if( eOp==SQLITE_INDEX_CONSTRAINT_ISNOTNULL ) return AT_TERM_EXACT;
      break;
    default:
      if( eOp==SQLITE_INDEX_CONSTRAINT_ISNULL ){
        if( c->ePush==AT_PUSH_NUMBER ){
          /* NOT() is true for a blank and for 0 (a 0 SQL may see as NULL). */
          sqlite3_str_appendall(p, "NOT(");
          if( !writeOperand(p, c) ) return AT_TERM_SKIP;
          sqlite3_str_appendchar(p, 1, ')');
          return AT_TERM_SUPERSET;
        }
        /* Text and dates: NULL exactly when the cell is empty. */
        return writeHasText(p, c, 1) ? AT_TERM_EXACT : AT_TERM_SKIP;
      }
      if( eOp==SQLITE_INDEX_CONSTRAINT_ISNOTNULL ){
        if( !writeHasText(p, c, 0) ) return AT_TERM_SKIP;
        /* A number: a 0 left out of a response reads NULL in SQL. */
        return c->ePush==AT_PUSH_NUMBER ? AT_TERM_SUPERSET : AT_TERM_EXACT;
      }
      break;
  }
  if( nVal<1 ) return AT_TERM_SKIP;

  if( eOp==SQLITE_INDEX_CONSTRAINT_EQ ){
    /* = v, or IN (v1, v2, ...): an OR of equalities. A NULL in an IN list
    ** matches nothing; any other value that cannot be written drops the
    ** whole term (an OR missing a value would keep fewer). */
    sqlite3_str *pOr = sqlite3_str_new(0);
    char *zOr;
    int nTerm = 0, eClass = AT_TERM_EXACT;
    for(i=0; i<nVal; i++){
      if( aVal[i].eType==SQLITE_NULL && nVal>1 ) continue;
      if( nTerm ) sqlite3_str_appendchar(pOr, 1, ',');
      rc = writeEqual(pOr, c, eColl, &aVal[i]);
      if( rc==AT_TERM_SKIP ){
        sqlite3_free(sqlite3_str_finish(pOr));
        return AT_TERM_SKIP;
      }
      /* The loosest of the equalities: superset, else close, else exact. */
      if( rc==AT_TERM_SUPERSET || (rc==AT_TERM_CLOSE && eClass==AT_TERM_EXACT) ){
        eClass = rc;
      }
      nTerm++;
    }
    if( sqlite3_str_errcode(pOr) ){
      sqlite3_free(sqlite3_str_finish(pOr));
      return AT_TERM_SKIP;
    }
    zOr = sqlite3_str_finish(pOr);        /* NULL when empty */
    if( nTerm==0 ){
      sqlite3_free(zOr);
      sqlite3_str_appendall(p, "FALSE()");
      return AT_TERM_EXACT;
    }
    if( nTerm>1 ) sqlite3_str_appendf(p, "OR(%s)", zOr);
    else sqlite3_str_appendall(p, zOr);
    sqlite3_free(zOr);
    return eClass;
  }

  if( nVal!=1 ) return AT_TERM_SKIP;
  switch( c->ePush ){
    case AT_PUSH_TEXT:
    case AT_PUSH_SELECT:
      if( eOp==SQLITE_INDEX_CONSTRAINT_LIKE || eOp==SQLITE_INDEX_CONSTRAINT_GLOB ){
        return writePattern(p, c, eOp==SQLITE_INDEX_CONSTRAINT_GLOB, &aVal[0]);
      }
      /* != < <= > >=: how Airtable orders or compares text is not
      ** documented, but a match is some non-NULL text. */
      if( aVal[0].eType==SQLITE_NULL ) return AT_TERM_SKIP;
      return writeHasText(p, c, 0) ? AT_TERM_SUPERSET : AT_TERM_SKIP;
    case AT_PUSH_NUMBER: {
      const char *zOp = 0;
      switch( eOp ){
        case SQLITE_INDEX_CONSTRAINT_NE: zOp = "!="; break;
        case SQLITE_INDEX_CONSTRAINT_LT: zOp = "<"; break;
        case SQLITE_INDEX_CONSTRAINT_LE: zOp = "<="; break;
        case SQLITE_INDEX_CONSTRAINT_GT: zOp = ">"; break;
        case SQLITE_INDEX_CONSTRAINT_GE: zOp = ">="; break;
      }
      if( zOp==0 || !isNumber(&aVal[0]) ) return AT_TERM_SKIP;
      if( !writeOperand(p, c) ) return AT_TERM_SKIP;
      sqlite3_str_appendall(p, zOp);
      if( !atFormulaNumber(p, &aVal[0]) ) return AT_TERM_SKIP;
      /* Exact when 0 fails the test, so that a blank fails it however it
      ** is read (as 0, as "" compared as text: "" > "5" is false too, or
      ** as never comparable): > v for v >= 0, >= v for v > 0. */
      if( (eOp==SQLITE_INDEX_CONSTRAINT_GT && !isPositive(&aVal[0]) && !isZero(&aVal[0]))
       || (eOp==SQLITE_INDEX_CONSTRAINT_GE && !isPositive(&aVal[0])) ){
        return AT_TERM_SUPERSET;
      }
      return (eOp==SQLITE_INDEX_CONSTRAINT_GT || eOp==SQLITE_INDEX_CONSTRAINT_GE)
             ? AT_TERM_EXACT : AT_TERM_SUPERSET;
    }
    case AT_PUSH_DATE:
    case AT_PUSH_CREATED:
      if( eOp==SQLITE_INDEX_CONSTRAINT_NE ){
        if( c->ePush==AT_PUSH_CREATED || aVal[0].eType==SQLITE_NULL ) return AT_TERM_SKIP;
        return writeHasText(p, c, 0) ? AT_TERM_SUPERSET : AT_TERM_SKIP;
      }
      /* The first ten characters order the same under BINARY, NOCASE and
      ** RTRIM (digits and '-'); an application's collation may not. */
      if( eColl==AT_COLL_OTHER ) return AT_TERM_SKIP;
      return writeDateTest(p, c, eOp, &aVal[0]) ? AT_TERM_SUPERSET : AT_TERM_SKIP;
  }
  return AT_TERM_SKIP;
}
