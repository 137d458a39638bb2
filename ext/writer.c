/*
** writer.c: what the export writes. An output file is written under a
** temporary name in its directory (".NAME.tmp-PID-N": hidden, so neither a
** person nor Spark, which skips files starting with "." or "_", takes it
** for data) and renamed to its final name only when complete and synced,
** so no partial file ever has a final name. Rows are encoded here too:
** each Airtable value is conformed to its column's Spark type and written
** as a CSV field or a JSON value; a value that cannot be typed becomes null
** and is counted, never silently lost. docs/export-for-spark.md
** documents the formats.
*/
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cjson/cJSON.h>
#include "writer.h"
#include "buf.h"
#include "json.h"
#include "spark.h"
#include "util.h"

/* ---- output files ------------------------------------------------------ */

static int nTempSeq = 0;   /* makes temporary names unique in the process */

int atOutOpen(AtOutFile *p, const char *zDir, const char *zName, int bGzip,
              char **pzErr){
  int fd, iSeq;
  memset(p, 0, sizeof(*p));
  p->fd = -1;
  iSeq = __atomic_add_fetch(&nTempSeq, 1, __ATOMIC_RELAXED);
  p->zFinal = sqlite3_mprintf("%s/%s", zDir, zName);
  p->zTemp = sqlite3_mprintf("%s/.%s.tmp-%d-%d", zDir, zName, (int)getpid(), iSeq);
  if( p->zFinal==0 || p->zTemp==0 ){
    atOutAbort(p);
    return SQLITE_NOMEM;
  }
  fd = open(p->zTemp, O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0666);
  if( fd<0 ){
    atSetError(pzErr, "cannot create '%s': %s", p->zTemp, strerror(errno));
    atOutAbort(p);
    return SQLITE_ERROR;
  }
  p->fd = fd;
  if( bGzip ){
    int fd2 = dup(fd);
    p->pGz = fd2>=0 ? gzdopen(fd2, "wb6") : 0;
    if( p->pGz==0 ){
      if( fd2>=0 ) close(fd2);
      atSetError(pzErr, "cannot start gzip output to '%s'", p->zTemp);
      atOutAbort(p);
      return SQLITE_ERROR;
    }
    gzbuffer(p->pGz, 128*1024);
  }
  return SQLITE_OK;
}

int atOutWrite(AtOutFile *p, const char *z, size_t n, char **pzErr){
  if( n==0 ) return SQLITE_OK;
  if( p->pGz ){
    if( gzwrite(p->pGz, z, (unsigned)n)!=(int)n ){
      int iErr;
      atSetError(pzErr, "cannot write '%s': %s", p->zTemp, gzerror(p->pGz, &iErr));
      return SQLITE_ERROR;
    }
    return SQLITE_OK;
  }
  while( n>0 ){
    ssize_t w = write(p->fd, z, n);
    if( w<0 ){
      if( errno==EINTR ) continue;
      atSetError(pzErr, "cannot write '%s': %s", p->zTemp, strerror(errno));
      return SQLITE_ERROR;
    }
    z += w;
    n -= (size_t)w;
  }
  return SQLITE_OK;
}

int atOutCommit(AtOutFile *p, char **pzErr){
  int rc = SQLITE_OK;
  if( p->pGz ){
    int iGz = gzclose(p->pGz);
    p->pGz = 0;
    if( iGz!=Z_OK ){
      atSetError(pzErr, "cannot finish '%s' (zlib error %d)", p->zTemp, iGz);
      rc = SQLITE_ERROR;
    }
  }
  /* Synced before the rename: after a crash the final name holds all or
  ** nothing. */
  if( rc==SQLITE_OK && fsync(p->fd)!=0 ){
    atSetError(pzErr, "cannot sync '%s': %s", p->zTemp, strerror(errno));
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_OK ){
    int fd = p->fd;
    p->fd = -1;
    if( close(fd)!=0 ){
      atSetError(pzErr, "cannot write '%s': %s", p->zTemp, strerror(errno));
      rc = SQLITE_ERROR;
    }
  }
  if( rc==SQLITE_OK && rename(p->zTemp, p->zFinal)!=0 ){
    atSetError(pzErr, "cannot rename '%s' to '%s': %s", p->zTemp, p->zFinal,
               strerror(errno));
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_OK ){
    sqlite3_free(p->zTemp);
    p->zTemp = 0;
  }
  atOutAbort(p);
  return rc;
}

void atOutAbort(AtOutFile *p){
  if( p->pGz ) gzclose(p->pGz);
  if( p->fd>=0 ) close(p->fd);
  if( p->zTemp ) unlink(p->zTemp);
  sqlite3_free(p->zTemp);
  sqlite3_free(p->zFinal);
  memset(p, 0, sizeof(*p));
  p->fd = -1;
}

int atWriteFileAtomic(const char *zDir, const char *zName, const char *zText,
                      char **pzErr){
  AtOutFile out;
  int rc = atOutOpen(&out, zDir, zName, 0, pzErr);
  if( rc!=SQLITE_OK ) return rc;
  rc = atOutWrite(&out, zText, strlen(zText), pzErr);
  if( rc==SQLITE_OK ) return atOutCommit(&out, pzErr);
  atOutAbort(&out);
  return rc;
}

/* ---- values ------------------------------------------------------------ */

/* How a conformed scalar is written. */
#define SC_NULL   0    /* nothing: an empty CSV field, an absent JSON key */
#define SC_STRING 1    /* text, quoted in CSV and JSON */
#define SC_PLAIN  2    /* text of a date or time: quoted in JSON only */
#define SC_RAW    3    /* a number or boolean literal, never quoted */

typedef struct Scalar Scalar;
struct Scalar {
  int e;               /* SC_* */
  const char *z;       /* the text (NUL-terminated) */
  size_t n;            /* its length: more than strlen(z) for a string
                       ** that holds a NUL (json.h: atJsonStrLen) */
  char *zFree;         /* sqlite3_malloc'd text to free */
  char aBuf[40];       /* room for a number */
};

/* If pVal is a computed error or special value ({"error": "#ERROR!"},
** {"specialValue": "NaN"}: Airtable docs, cell values). */
static int isSpecial(const cJSON *pVal){
  const cJSON *pOnly;
  if( !cJSON_IsObject(pVal) ) return 0;
  pOnly = pVal->child;
  return pOnly && pOnly->next==0 && cJSON_IsString(pOnly)
      && (strcmp(pOnly->string, "error")==0
          || strcmp(pOnly->string, "specialValue")==0);
}

static int digits(const char *z, int n){
  int i;
  for(i=0; i<n; i++) if( z[i]<'0' || z[i]>'9' ) return 0;
  return 1;
}

/* The number in the n digits at z (checked by digits() first). */
static int num(const char *z, int n){
  int i, v = 0;
  for(i=0; i<n; i++) v = v*10 + (z[i]-'0');
  return v;
}

/* True if z starts with YYYY-MM-DD naming a day of the proleptic Gregorian
** calendar (years 0001 to 9999), as Spark and DuckDB read dates: 2024-02-30
** has the shape but is no day (each test stops at a NUL). */
static int startsWithDate(const char *z){
  static const int aDays[] = { 31,28,31,30,31,30,31,31,30,31,30,31 };
  int y, m, d, nMax;
  if( !digits(z, 4) || z[4]!='-' || !digits(z+5, 2) || z[7]!='-'
   || !digits(z+8, 2) ){
    return 0;
  }
  y = num(z, 4);
  m = num(z+5, 2);
  d = num(z+8, 2);
  if( y<1 || m<1 || m>12 || d<1 ) return 0;
  nMax = aDays[m-1] + (m==2 && y%4==0 && (y%100!=0 || y%400==0));
  return d<=nMax;
}

/* YYYY-MM-DD, as Spark's dateFormat yyyy-MM-dd reads it. */
static int isDate(const char *z){
  return startsWithDate(z) && z[10]==0;
}

/* YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM): ISO 8601 with a zone,
** as Spark's default timestampFormat reads it, naming a real instant: a
** real day, hours 00-23, minutes and seconds 00-59 (no leap second), a
** zone offset of at most 18:00 (as java.time allows). */
static int isTimestamp(const char *z){
  int n = (int)strlen(z), i;
  if( n<20 || !startsWithDate(z) || z[10]!='T' || !digits(z+11, 2) || z[13]!=':' || !digits(z+14, 2)
   || z[16]!=':' || !digits(z+17, 2) ){
    return 0;
  }
  if( num(z+11, 2)>23 || num(z+14, 2)>59 || num(z+17, 2)>59 ) return 0;
  i = 19;
  if( z[i]=='.' ){
    int j = ++i;
    while( i<n && z[i]>='0' && z[i]<='9' ) i++;
    if( i==j || i-j>9 ) return 0;
  }
  if( z[i]=='Z' ) return i+1==n;
  return (z[i]=='+' || z[i]=='-') && n-i==6 && digits(z+i+1, 2)
      && z[i+3]==':' && digits(z+i+4, 2) && num(z+i+4, 2)<=59
      && num(z+i+1, 2)*60 + num(z+i+4, 2)<=18*60;
}

/* An integer's decimal digits at z (room for 21 bytes). */
static void formatInt(sqlite3_int64 i, char *z){
  char aRev[24];
  int n = 0, j = 0;
  sqlite3_uint64 u = i<0 ? (sqlite3_uint64)0 - (sqlite3_uint64)i : (sqlite3_uint64)i;
  do{ aRev[n++] = (char)('0' + u%10); u /= 10; }while( u );
  if( i<0 ) z[j++] = '-';
  while( n>0 ) z[j++] = aRev[--n];
  z[j] = 0;
}

/* The shortest text that reads back as r exactly: "%.15g", or "%.17g" when
** that does not read back. Worker threads run in the "C" locale (export.c),
** so the decimal point is always '.'.
**
** snprintf and strtod were an eighth of an export's instructions (callgrind,
** 30 fields, 10,000 records), so the common values are written directly:
** r = m / 10^k exactly for an integer m of at most 15 digits (whole
** numbers, prices, percentages). "%.15g" prints such a value as m's digits
** with the point k places from the right, trailing zeros dropped, and it
** reads back (atFormatDouble is checked against snprintf in
** tests/unit/test_spark.c). Between 1e-4 and 1e15, every value that
** "%.15g" reads back is such an m / 10^k with k <= 18 (15 significant
** digits from 10^-4 down), and r * 10^k is within a quarter of m, so when
** no k matches, "%.15g" would not read back either: "%.17g" at once (the
** sums of a formula, 301695.10000000003). Other values take both. */
void atFormatDouble(double r, char *aBuf, size_t nBuf){
  static const double aPow[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
    1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18 };
  int k;
  if( nBuf>=32 && r!=0.0 && fabs(r)<1e15 && fabs(r)>=1e-4 ){
    for(k=0; k<=18; k++){
      double x = r*aPow[k];
      sqlite3_int64 m;
      if( fabs(x)>=1e15 ) break;
      m = (sqlite3_int64)(x<0 ? x-0.5 : x+0.5);
      if( (double)m/aPow[k]==r ){
        char zDigits[24];
        int nDig, nInt, j = 0, i;
        sqlite3_uint64 u = m<0 ? (sqlite3_uint64)0-(sqlite3_uint64)m : (sqlite3_uint64)m;
        formatInt((sqlite3_int64)u, zDigits);
        nDig = (int)strlen(zDigits);
        /* Drop trailing zeros of the fraction. */
        while( k>0 && zDigits[nDig-1]=='0' ){ nDig--; k--; }
        if( m<0 ) aBuf[j++] = '-';
        nInt = nDig - k;
        if( nInt<=0 ){
          aBuf[j++] = '0';
          aBuf[j++] = '.';
          for(i=0; i<-nInt; i++) aBuf[j++] = '0';
          for(i=0; i<nDig; i++) aBuf[j++] = zDigits[i];
        }else{
          for(i=0; i<nInt; i++) aBuf[j++] = zDigits[i];
          if( k>0 ){
            aBuf[j++] = '.';
            for(i=nInt; i<nDig; i++) aBuf[j++] = zDigits[i];
          }
        }
        aBuf[j] = 0;
        return;
      }
    }
    snprintf(aBuf, nBuf, "%.17g", r);
    return;
  }
  snprintf(aBuf, nBuf, "%.15g", r);
  if( atStrtod(aBuf, 0)!=r ) snprintf(aBuf, nBuf, "%.17g", r);
}

static int scalarOf1(const char *zType, int bJsonText, int bAbsentFalse,
                    const cJSON *pVal, Scalar *s, int *pbUntyped);

/* Conform pVal (NULL when absent) to the primitive Spark type zType: s->e
** and s->z, with s->n its length. */
static int scalarOf(const char *zType, int bJsonText, int bAbsentFalse,
                    const cJSON *pVal, Scalar *s, int *pbUntyped){
  int rc = scalarOf1(zType, bJsonText, bAbsentFalse, pVal, s, pbUntyped);
  if( s->z && s->n==0 ) s->n = strlen(s->z);
  if( s->e==SC_STRING && !atUtf8Valid(s->z, s->n) ){
    /* The files are UTF-8: bytes that are not (a server's, issue 20) are
    ** no text of the column's type: null, and counted. */
    sqlite3_free(s->zFree);
    memset(s, 0, sizeof(*s));
    *pbUntyped = 1;
  }
  return rc;
}

static int scalarOf1(const char *zType, int bJsonText, int bAbsentFalse,
                    const cJSON *pVal, Scalar *s, int *pbUntyped){
  memset(s, 0, sizeof(*s));
  if( pVal==0 || cJSON_IsNull(pVal) ){
    if( bAbsentFalse ){
      s->e = SC_RAW;       /* Airtable leaves an unchecked checkbox out */
      s->z = "false";
    }
    return SQLITE_OK;
  }
  if( bJsonText ){
    s->zFree = atJsonText(pVal, 0);
    if( s->zFree==0 ) return SQLITE_NOMEM;
    s->e = SC_STRING;
    s->z = s->zFree;
    return SQLITE_OK;
  }
  if( isSpecial(pVal) ){
    *pbUntyped = 1;        /* #ERROR!, NaN: no value of any type */
    return SQLITE_OK;
  }
  switch( zType[0] ){
    case 's':              /* string */
      if( cJSON_IsString(pVal) ){
        s->e = SC_STRING;
        s->z = pVal->valuestring;
        s->n = atJsonStrLen(pVal);
        return SQLITE_OK;
      }else{
        s->zFree = atJsonText(pVal, 0);
        if( s->zFree==0 ) return SQLITE_NOMEM;
        s->e = SC_STRING;
        s->z = s->zFree;
      }
      return SQLITE_OK;
    case 'l':              /* long */
      if( cJSON_IsNumber(pVal) && pVal->valuedouble==floor(pVal->valuedouble)
       && pVal->valuedouble>=-9223372036854775808.0
       && pVal->valuedouble<9223372036854775808.0 ){
        formatInt((sqlite3_int64)pVal->valuedouble, s->aBuf);
        s->e = SC_RAW;
        s->z = s->aBuf;
        return SQLITE_OK;
      }
      break;
    case 'd':              /* double, date */
      if( zType[1]=='o' ){
        if( cJSON_IsNumber(pVal) ){
          atFormatDouble(pVal->valuedouble, s->aBuf, sizeof(s->aBuf));
          s->e = SC_RAW;
          s->z = s->aBuf;
          return SQLITE_OK;
        }
      }else if( cJSON_IsString(pVal) && isDate(pVal->valuestring)
             && (pVal->type & AT_JSON_STRLEN)==0 ){
        s->e = SC_PLAIN;
        s->z = pVal->valuestring;
        return SQLITE_OK;
      }
      break;
    case 'b':              /* boolean */
      if( cJSON_IsBool(pVal) ){
        s->e = SC_RAW;
        s->z = cJSON_IsTrue(pVal) ? "true" : "false";
        return SQLITE_OK;
      }
      break;
    case 't':              /* timestamp */
      if( cJSON_IsString(pVal) && isTimestamp(pVal->valuestring)
       && (pVal->type & AT_JSON_STRLEN)==0 ){
        s->e = SC_PLAIN;
        s->z = pVal->valuestring;
        return SQLITE_OK;
      }
      break;
  }
  *pbUntyped = 1;          /* present, but not of the column's type */
  return SQLITE_OK;
}

/* An RFC 4180 quoted field of z[0..n-1]: inner quotes doubled (a NUL,
** which RFC 4180 allows in a field, is written as it is). */
static void csvQuoted(AtBuf *p, const char *z, size_t n){
  const char *q, *zEnd = z + n;
  atBufAppendChar(p, '"');
  while( (q = memchr(z, '"', (size_t)(zEnd - z)))!=0 ){   /* many bytes a step */
    atBufAppend(p, z, (size_t)(q - z + 1));
    atBufAppendChar(p, '"');                    /* the quote doubled */
    z = q + 1;
  }
  atBufAppend(p, z, (size_t)(zEnd - z));
  atBufAppendChar(p, '"');
}

/* pVal's compact JSON text as an RFC 4180 quoted field, printed straight
** into the row with its quotes doubled as they are written (not into a
** string of its own, then copied and quoted). */
static int csvJsonQuoted(AtBuf *p, const cJSON *pVal){
  int rc;
  atBufAppendChar(p, '"');
  rc = atJsonPrintCsv(p, pVal);
  if( rc!=SQLITE_OK || p->bOom ) return SQLITE_NOMEM;
  atBufAppendChar(p, '"');
  return p->bOom ? SQLITE_NOMEM : SQLITE_OK;
}

/* Write pVal conformed to pType as a JSON value. Returns 1 if a value was
** written, 0 if it is null (nothing written). */
static int jsonValue(AtBuf *p, const cJSON *pType, int bJsonText,
                     int bAbsentFalse, const cJSON *pVal, int *pbUntyped){
  const char *zKind;
  if( cJSON_IsString(pType) ){
    Scalar s;
    if( scalarOf(pType->valuestring, bJsonText, bAbsentFalse, pVal, &s,
                 pbUntyped) ){
      p->bOom = 1;
      return 0;
    }
    if( s.e==SC_RAW ) atBufAppendStr(p, s.z);
    else if( s.e!=SC_NULL ) atJsonPrintString(p, s.z, s.n);
    sqlite3_free(s.zFree);
    return s.e!=SC_NULL;
  }
  if( pVal==0 || cJSON_IsNull(pVal) ) return 0;
  zKind = cJSON_GetObjectItemCaseSensitive(pType, "type")->valuestring;
  if( strcmp(zKind, "array")==0 ){
    const cJSON *pElemType = cJSON_GetObjectItemCaseSensitive(pType, "elementType");
    const cJSON *pElem;
    int n = 0;
    if( !cJSON_IsArray(pVal) ){
      *pbUntyped = 1;
      return 0;
    }
    atBufAppendChar(p, '[');
    cJSON_ArrayForEach(pElem, pVal){
      if( n++ ) atBufAppendChar(p, ',');
      if( !jsonValue(p, pElemType, 0, 0, pElem, pbUntyped) ) atBufAppendStr(p, "null");
    }
    atBufAppendChar(p, ']');
    return 1;
  }else{
    const cJSON *pField;
    int n = 0;
    if( !cJSON_IsObject(pVal) || isSpecial(pVal) ){
      *pbUntyped = 1;
      return 0;
    }
    atBufAppendChar(p, '{');
    cJSON_ArrayForEach(pField, cJSON_GetObjectItemCaseSensitive(pType, "fields")){
      const char *zName = cJSON_GetObjectItemCaseSensitive(pField, "name")->valuestring;
      const cJSON *pMember = cJSON_GetObjectItemCaseSensitive(pVal, zName);
      size_t nMark = p->n;
      if( pMember==0 || cJSON_IsNull(pMember) ) continue;
      if( n ) atBufAppendChar(p, ',');
      atJsonPrintString(p, zName, strlen(zName));
      atBufAppendChar(p, ':');
      if( jsonValue(p, cJSON_GetObjectItemCaseSensitive(pField, "type"), 0, 0,
                    pMember, pbUntyped) ){
        n++;
      }else if( !p->bOom ){
        p->n = nMark;            /* a member that is null is left out */
        p->z[p->n] = 0;
      }
    }
    atBufAppendChar(p, '}');
    return 1;
  }
}

/* The value of column c in the record: its id, createdTime, or a field. */
static const cJSON *columnValue(const AtSparkCol *c, const cJSON *pRecord,
                                const cJSON **apCell){
  if( c->iField==AT_SPARK_ID ){
    return cJSON_GetObjectItemCaseSensitive(pRecord, "id");
  }
  if( c->iField==AT_SPARK_CREATED_TIME ){
    return cJSON_GetObjectItemCaseSensitive(pRecord, "createdTime");
  }
  return apCell[c->iField];
}

void atCsvHeader(AtBuf *p, const AtSparkSchema *pSpark){
  int i;
  for(i=0; i<pSpark->nCol; i++){
    if( i ) atBufAppendChar(p, ',');
    csvQuoted(p, pSpark->aCol[i].zName, strlen(pSpark->aCol[i].zName));
  }
  atBufAppendChar(p, '\n');
}

int atCsvRow(AtBuf *p, const AtSparkSchema *pSpark, const cJSON *pRecord,
             const cJSON **apCell, sqlite3_int64 *anUntyped){
  int i;
  for(i=0; i<pSpark->nCol; i++){
    const AtSparkCol *c = &pSpark->aCol[i];
    int bUntyped = 0;
    const cJSON *pVal = columnValue(c, pRecord, apCell);
    Scalar s;
    if( i ) atBufAppendChar(p, ',');
    if( c->bJsonText && pVal && !cJSON_IsNull(pVal) ){
      size_t nMark = p->n;
      if( csvJsonQuoted(p, pVal) ) return SQLITE_NOMEM;
      if( !atUtf8Valid(p->z + nMark, p->n - nMark) ){
        p->n = nMark;        /* not UTF-8: null and counted, as scalarOf */
        p->z[p->n] = 0;
        anUntyped[i]++;
      }
      continue;              /* what scalarOf would give, without a copy */
    }
    /* The flat schema has only primitive types. */
    if( scalarOf(c->pType->valuestring, c->bJsonText, c->bAbsentFalse,
                 pVal, &s, &bUntyped) ){
      return SQLITE_NOMEM;
    }
    if( s.e==SC_STRING ) csvQuoted(p, s.z, s.n);
    else if( s.e!=SC_NULL ) atBufAppendStr(p, s.z);
    sqlite3_free(s.zFree);
    anUntyped[i] += bUntyped;
  }
  atBufAppendChar(p, '\n');
  return p->bOom ? SQLITE_NOMEM : SQLITE_OK;
}

int atJsonRow(AtBuf *p, const AtSparkSchema *pSpark, const cJSON *pRecord,
              const cJSON **apCell, sqlite3_int64 *anUntyped){
  int i, n = 0;
  atBufAppendChar(p, '{');
  for(i=0; i<pSpark->nCol; i++){
    const AtSparkCol *c = &pSpark->aCol[i];
    size_t nMark = p->n;
    int bUntyped = 0;
    if( n ) atBufAppendChar(p, ',');
    atJsonPrintString(p, c->zName, strlen(c->zName));
    atBufAppendChar(p, ':');
    if( jsonValue(p, c->pType, c->bJsonText, c->bAbsentFalse,
                  columnValue(c, pRecord, apCell), &bUntyped) ){
      n++;
    }else if( !p->bOom ){
      p->n = nMark;              /* null: the key is left out */
      p->z[p->n] = 0;
    }
    anUntyped[i] += bUntyped;
  }
  atBufAppend(p, "}\n", 2);
  return p->bOom ? SQLITE_NOMEM : SQLITE_OK;
}
