/*
** json.c: a strict JSON parser (RFC 8259) that builds cJSON trees in an
** arena. The read path parses every page of records; with cJSON, each value
** is a malloc() for its node and another for its string, and each is freed
** again a page later, which made parsing and freeing nearly half of a
** scan's instructions. Here the text is copied once into the arena, strings
** are decoded in place inside that copy (a decoded string is never longer
** than its JSON spelling, so the closing quote always has room for the NUL),
** and nodes are carved from blocks that grow by doubling. Freeing a page is
** freeing a few blocks.
**
** The tree is a cJSON tree in every field a reader looks at, so the rest of
** the extension reads it with cJSON's own functions. Only the functions that
** free or relink nodes are off limits (json.h).
**
** The other way: the compact printer of values (atJsonPrint), byte for byte
** cJSON_PrintUnformatted's text, for JSON cells and the export's rows.
*/
#include <float.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
# include <emmintrin.h>
#endif
#include <cjson/cJSON.h>
#include "json.h"
#include "buf.h"
#include "util.h"

#if defined(__GNUC__)
# define NOINLINE __attribute__((noinline))
#else
# define NOINLINE
#endif

struct AtJsonChunk {
  AtJsonChunk *pNext;    /* the block allocated before this one */
  size_t nAlloc;         /* usable bytes after this header */
  size_t nUsed;          /* bytes handed out */
};
/* The header is padded to 16 bytes; sqlite3_malloc64 aligns to 8, which is
** all a cJSON node needs, and nodes are handed out in multiples of 16. */
#define CHUNK_HDR ((sizeof(AtJsonChunk)+15) & ~(size_t)15)

/* The parser's state while it walks one text. */
typedef struct JsonParse JsonParse;
struct JsonParse {
  AtJson *pOut;          /* the arena grows here */
  char *zBase;           /* the copy of the text (mutable: strings decode) */
  char *z;               /* the next byte to read */
  char *zEnd;            /* one past the last byte */
  int nDepth;            /* containers open */
  int rc;                /* SQLITE_ERROR or SQLITE_NOMEM once failed */
  int bNul;              /* the last string decoded held a \u0000 */
  size_t nStr;           /* the last string's decoded length, with bNul */
};

/* Classes of a byte: what ends a plain run inside a string. */
static const unsigned char aStrStop[256] = {
  1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1, 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,
  0,0,1,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,
  0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,0,0,0,0,1,0,0,0,
  /* the rest (0x60-0xff) never stops a run */
};

/* A new block holding at least nMin bytes, twice the size of the last. */
static void *chunkAlloc(AtJson *p, size_t nByte){
  AtJsonChunk *c = p->pChunk;
  void *pRet;
  nByte = (nByte + 15) & ~(size_t)15;
  if( c==0 || c->nAlloc - c->nUsed < nByte ){
    size_t nNew = c ? c->nAlloc*2 : 65536;
    if( nNew < nByte ) nNew = nByte;
    c = sqlite3_malloc64(CHUNK_HDR + nNew);
    if( c==0 ) return 0;
    c->pNext = p->pChunk;
    c->nAlloc = nNew;
    c->nUsed = 0;
    p->pChunk = c;
  }
  pRet = (char*)c + CHUNK_HDR + c->nUsed;
  c->nUsed += nByte;
  return pRet;
}

static cJSON *newNode(JsonParse *x, int eType){
  cJSON *pNode = chunkAlloc(x->pOut, sizeof(cJSON));
  if( pNode==0 ){
    x->rc = SQLITE_NOMEM;
    return 0;
  }
  memset(pNode, 0, sizeof(*pNode));
  pNode->type = eType;
  return pNode;
}

static int fail(JsonParse *x, const char *zAt){
  if( x->rc==SQLITE_OK ){
    x->rc = SQLITE_ERROR;
    x->pOut->iErr = (size_t)(zAt - x->zBase);
  }
  return 0;
}

static void skipSpace(JsonParse *x){
  char *z = x->z;
  if( z<x->zEnd && (unsigned char)*z>' ' ) return;   /* Airtable sends none */
  while( z<x->zEnd && (*z==' ' || *z=='\n' || *z=='\r' || *z=='\t') ) z++;
  x->z = z;
}

/* Read 4 hex digits at z into *pV. Returns 0, or where a digit is missing
** (zEnd if the text ends first). */
static const char *hex4(const char *z, const char *zEnd, int *pV){
  int i, v = 0;
  for(i=0; i<4; i++){
    int c, d;
    if( z+i>=zEnd ) return zEnd;
    c = (unsigned char)z[i];
    if( c>='0' && c<='9' ) d = c - '0';
    else if( c>='a' && c<='f' ) d = c - 'a' + 10;
    else if( c>='A' && c<='F' ) d = c - 'A' + 10;
    else return z+i;
    v = v*16 + d;
  }
  *pV = v;
  return 0;
}

/* The first byte at or after z that ends a plain run of a string: '"',
** '\\' or a control byte (or zEnd). Sixteen bytes a step with SSE2 (every
** x86-64), else eight with word tricks on little-endian GCC and Clang
** ("Bit Twiddling Hacks": haszero, hasless; flags above the first may be
** false, the lowest is exact), then byte by byte. Strings are most of a
** page's bytes (field ids as keys, long text). */
static char *scanPlain(char *z, char *zEnd){
#if defined(__SSE2__)
  const __m128i kQuote = _mm_set1_epi8('"'), kSlash = _mm_set1_epi8('\\');
  const __m128i kCtl = _mm_set1_epi8(0x1F);
  while( zEnd - z >= 16 ){
    __m128i v = _mm_loadu_si128((const __m128i*)z);
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, kQuote), _mm_cmpeq_epi8(v, kSlash)),
        _mm_cmpeq_epi8(_mm_max_epu8(v, kCtl), kCtl));     /* v <= 0x1F */
    int mask = _mm_movemask_epi8(m);
    if( mask ) return z + __builtin_ctz((unsigned)mask);
    z += 16;
  }
#elif defined(__GNUC__) && defined(__BYTE_ORDER__) \
    && __BYTE_ORDER__==__ORDER_LITTLE_ENDIAN__
  while( zEnd - z >= 8 ){
    const uint64_t k01 = 0x0101010101010101ull, k80 = 0x8080808080808080ull;
    uint64_t v, q, b, mStop;
    memcpy(&v, z, 8);
    q = v ^ (k01*'"');
    b = v ^ (k01*'\\');
    mStop = (((q - k01) & ~q) | ((b - k01) & ~b) | ((v - k01*0x20) & ~v)) & k80;
    if( mStop ) return z + __builtin_ctzll(mStop)/8;
    z += 8;
  }
#endif
  while( z<zEnd && !aStrStop[(unsigned char)*z] ) z++;
  return z;
}

/* Decode the string whose opening quote is at x->z, in place. Returns its
** start (NUL-terminated) and leaves x->z after the closing quote. */
static char *parseString(JsonParse *x){
  char *zStart = x->z + 1, *zIn, *zOut;
  char *zEnd = x->zEnd;
  x->bNul = 0;
  zIn = scanPlain(zStart, zEnd);
  if( zIn<zEnd && *zIn=='"' ){          /* no escapes: the common case */
    *zIn = 0;
    x->z = zIn + 1;
    return zStart;
  }
  zOut = zIn;
  while( zIn<zEnd ){
    /* At a stop: the closing quote, a control byte or an escape. */
    unsigned char c = (unsigned char)*zIn;
    char *zRun;
    if( c=='"' ){
      *zOut = 0;
      x->z = zIn + 1;
      x->nStr = (size_t)(zOut - zStart);
      return zStart;
    }
    if( c<0x20 ){
      fail(x, zIn);
      return 0;
    }
    if( zIn+1>=zEnd ) break;
    switch( zIn[1] ){
      case '"':  *zOut++ = '"';  zIn += 2; break;
      case '\\': *zOut++ = '\\'; zIn += 2; break;
      case '/':  *zOut++ = '/';  zIn += 2; break;
      case 'b':  *zOut++ = '\b'; zIn += 2; break;
      case 'f':  *zOut++ = '\f'; zIn += 2; break;
      case 'n':  *zOut++ = '\n'; zIn += 2; break;
      case 'r':  *zOut++ = '\r'; zIn += 2; break;
      case 't':  *zOut++ = '\t'; zIn += 2; break;
      case 'u': {
        /* Errors point at the first byte that cannot be right. */
        const char *zBad;
        long cp;
        int hi, lo;
        if( (zBad = hex4(zIn+2, zEnd, &hi))!=0 ){
          fail(x, zBad);
          return 0;
        }
        cp = hi;
        if( hi>=0xDC00 && hi<=0xDFFF ){     /* a low surrogate first */
          fail(x, zIn);
          return 0;
        }
        if( hi>=0xD800 && hi<=0xDBFF ){     /* must pair with a low one */
          if( zEnd - zIn < 8 || zIn[6]!='\\' || zIn[7]!='u' ){
            fail(x, zIn+6<zEnd ? zIn+6 : zEnd);
            return 0;
          }
          if( (zBad = hex4(zIn+8, zEnd, &lo))!=0 ){
            fail(x, zBad);
            return 0;
          }
          if( lo<0xDC00 || lo>0xDFFF ){
            fail(x, zIn+6);
            return 0;
          }
          cp = 0x10000 + (((long)hi - 0xD800)<<10) + (lo - 0xDC00);
          zIn += 12;
        }else{
          zIn += 6;
        }
        /* UTF-8 of cp: never longer than the escape it came from. */
        if( cp==0 ) x->bNul = 1;
        if( cp<0x80 ){
          *zOut++ = (char)cp;
        }else if( cp<0x800 ){
          *zOut++ = (char)(0xC0 | (cp>>6));
          *zOut++ = (char)(0x80 | (cp & 0x3F));
        }else if( cp<0x10000 ){
          *zOut++ = (char)(0xE0 | (cp>>12));
          *zOut++ = (char)(0x80 | ((cp>>6) & 0x3F));
          *zOut++ = (char)(0x80 | (cp & 0x3F));
        }else{
          *zOut++ = (char)(0xF0 | (cp>>18));
          *zOut++ = (char)(0x80 | ((cp>>12) & 0x3F));
          *zOut++ = (char)(0x80 | ((cp>>6) & 0x3F));
          *zOut++ = (char)(0x80 | (cp & 0x3F));
        }
        break;
      }
      default:
        fail(x, zIn+1);
        return 0;
    }
    /* The plain run after the escape, moved down over the bytes the
    ** escapes gave back. */
    zRun = scanPlain(zIn, zEnd);
    memmove(zOut, zIn, (size_t)(zRun - zIn));
    zOut += zRun - zIn;
    zIn = zRun;
  }
  fail(x, zEnd);
  return 0;
}

/* Exact powers of ten as doubles: 10^22 is the largest. */
static const double aPow10[] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
  1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* strtod() of z[0..n-1] (a number by the grammar) in the "C" locale, so
** the same in any LC_NUMERIC (cJSON swaps '.' for the locale's first byte
** of the decimal point, which breaks where that point is two bytes). Kept
** out of line: its buffer must not sit in every recursive parseValue frame.
** SQLITE_ERROR if strtod stops early, which only a broken C library does. */
static int NOINLINE slowNumber(const char *z, size_t n, double *pVal){
  char aBuf[64], *zNum = aBuf, *zStop;
  int rc = SQLITE_OK;
  if( n>=sizeof(aBuf) ){
    zNum = sqlite3_malloc64(n+1);
    if( zNum==0 ) return SQLITE_NOMEM;
  }
  memcpy(zNum, z, n);
  zNum[n] = 0;
  *pVal = atStrtod(zNum, &zStop);
  if( zStop!=zNum+n ) rc = SQLITE_ERROR;
  if( zNum!=aBuf ) sqlite3_free(zNum);
  return rc;
}

/* A number by RFC 8259's grammar. Up to 19 significant digits scaled by at
** most 10^22 either way, with the digits at most 2^53, is one exact
** multiplication or division, so one rounding: the same double strtod()
** gives (Clinger's fast path). That needs arithmetic in double precision
** (FLT_EVAL_METHOD 0; x87's extended precision would round twice).
** Anything else goes to strtod(). */
static cJSON *parseNumber(JsonParse *x){
  char *z = x->z, *zStart = z, *zEnd = x->zEnd;
  uint64_t m = 0;
  int nSig = 0, e10 = 0, bNeg = 0, bFast = 1;
  double v;
  cJSON *pNode;

  if( *z=='-' ){ bNeg = 1; z++; }
  if( z>=zEnd || *z<'0' || *z>'9' ){ fail(x, z); return 0; }
  if( *z=='0' ){
    z++;
    if( z<zEnd && *z>='0' && *z<='9' ){ fail(x, z); return 0; }
  }else{
    for(; z<zEnd && *z>='0' && *z<='9'; z++){
      if( nSig<19 ){ m = m*10 + (uint64_t)(*z - '0'); nSig++; }
      else{ bFast = 0; }
    }
  }
  if( z<zEnd && *z=='.' ){
    z++;
    if( z>=zEnd || *z<'0' || *z>'9' ){ fail(x, z); return 0; }
    for(; z<zEnd && *z>='0' && *z<='9'; z++){
      if( m==0 && *z=='0' ){ e10--; continue; }   /* leading zeros */
      if( nSig<19 ){ m = m*10 + (uint64_t)(*z - '0'); nSig++; e10--; }
      else{ bFast = 0; }
    }
  }
  if( z<zEnd && (*z=='e' || *z=='E') ){
    int eNeg = 0, e = 0;
    z++;
    if( z<zEnd && (*z=='+' || *z=='-') ){ eNeg = *z=='-'; z++; }
    if( z>=zEnd || *z<'0' || *z>'9' ){ fail(x, z); return 0; }
    for(; z<zEnd && *z>='0' && *z<='9'; z++){
      if( e<100000 ) e = e*10 + (*z - '0');
      else bFast = 0;        /* capped: e10 is no longer the exponent */
    }
    e10 += eNeg ? -e : e;
  }
#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD!=0
  bFast = 0;
#endif
  if( bFast && m<=((uint64_t)1<<53) && e10>=-22 && e10<=22 ){
    v = (double)m;
    v = e10<0 ? v / aPow10[-e10] : v * aPow10[e10];
    if( bNeg ) v = -v;
  }else{
    int rc = slowNumber(zStart, (size_t)(z - zStart), &v);
    if( rc==SQLITE_ERROR ){ fail(x, zStart); return 0; }
    if( rc!=SQLITE_OK ){ x->rc = rc; return 0; }
  }
  x->z = z;
  pNode = newNode(x, cJSON_Number);
  if( pNode==0 ) return 0;
  pNode->valuedouble = v;
  /* valueint as cJSON sets it */
  if( v>=INT_MAX ) pNode->valueint = INT_MAX;
  else if( v<=(double)INT_MIN ) pNode->valueint = INT_MIN;
  else pNode->valueint = (int)v;
  return pNode;
}

static cJSON *parseValue(JsonParse *x);

/* An array or an object, its opening bracket at x->z. */
static cJSON *parseContainer(JsonParse *x){
  int bObject = *x->z=='{';
  char cClose = bObject ? '}' : ']';
  cJSON *pNode, *pTail = 0;
  if( x->nDepth>=CJSON_NESTING_LIMIT ){ fail(x, x->z); return 0; }
  pNode = newNode(x, bObject ? cJSON_Object : cJSON_Array);
  if( pNode==0 ) return 0;
  x->nDepth++;
  x->z++;
  skipSpace(x);
  if( x->z<x->zEnd && *x->z==cClose ){
    x->z++;
    x->nDepth--;
    return pNode;
  }
  for(;;){
    char *zKey = 0;
    cJSON *pItem;
    if( bObject ){
      if( x->z>=x->zEnd || *x->z!='"' ){ fail(x, x->z); return 0; }
      zKey = parseString(x);
      if( zKey==0 ) return 0;
      skipSpace(x);
      if( x->z>=x->zEnd || *x->z!=':' ){ fail(x, x->z); return 0; }
      x->z++;
      skipSpace(x);
    }
    pItem = parseValue(x);
    if( pItem==0 ) return 0;
    pItem->string = zKey;
    if( pTail ){
      pTail->next = pItem;
      pItem->prev = pTail;
    }else{
      pNode->child = pItem;
    }
    pTail = pItem;
    skipSpace(x);
    if( x->z<x->zEnd && *x->z==',' ){
      x->z++;
      skipSpace(x);
      continue;
    }
    if( x->z<x->zEnd && *x->z==cClose ){
      x->z++;
      break;
    }
    fail(x, x->z);
    return 0;
  }
  pNode->child->prev = pTail;    /* cJSON: the first's prev is the last */
  x->nDepth--;
  return pNode;
}

/* The literal zLit (n bytes) at x->z: step past it, or fail at the first
** byte that differs. */
static int literal(JsonParse *x, const char *zLit, int n){
  int i;
  for(i=0; i<n; i++){
    if( x->z+i>=x->zEnd || x->z[i]!=zLit[i] ) return fail(x, x->z+i);
  }
  x->z += n;
  return 1;
}

/* One value at x->z (spaces before it already skipped). */
static cJSON *parseValue(JsonParse *x){
  char *z = x->z;
  cJSON *pNode;
  if( z>=x->zEnd ){ fail(x, z); return 0; }
  switch( *z ){
    case '{': case '[':
      return parseContainer(x);
    case '"': {
      char *zStr = parseString(x);
      if( zStr==0 ) return 0;
      pNode = newNode(x, cJSON_String);
      if( pNode ){
        pNode->valuestring = zStr;
        if( x->bNul ){
          /* The C string ends at the NUL; the rest is kept, and its
          ** length with it (json.h: atJsonStrLen). */
          pNode->type |= AT_JSON_STRLEN;
          pNode->valueint = (int)x->nStr;
        }
      }
      return pNode;
    }
    case 't':
      if( !literal(x, "true", 4) ) return 0;
      pNode = newNode(x, cJSON_True);
      if( pNode ) pNode->valueint = 1;
      return pNode;
    case 'f':
      if( !literal(x, "false", 5) ) return 0;
      return newNode(x, cJSON_False);
    case 'n':
      if( !literal(x, "null", 4) ) return 0;
      return newNode(x, cJSON_NULL);
    default:
      if( *z=='-' || (*z>='0' && *z<='9') ) return parseNumber(x);
      break;
  }
  fail(x, z);
  return 0;
}

int atJsonParse(const char *z, size_t n, AtJson *p){
  JsonParse x;
  memset(p, 0, sizeof(*p));
  memset(&x, 0, sizeof(x));
  x.pOut = p;
  /* The copy and the first nodes share the first block. Pages of records
  ** average a node per 25 bytes or so; the block grows if that is short. */
  x.zBase = chunkAlloc(p, n + 1 + (n/25 + 16)*sizeof(cJSON));
  if( x.zBase==0 ) return SQLITE_NOMEM;
  p->pChunk->nUsed = (n + 1 + 15) & ~(size_t)15;
  memcpy(x.zBase, z, n);
  x.zBase[n] = 0;
  x.z = x.zBase;
  x.zEnd = x.zBase + n;
  skipSpace(&x);
  p->pRoot = parseValue(&x);
  if( p->pRoot ){
    skipSpace(&x);
    if( x.z<x.zEnd ) fail(&x, x.z);
  }
  if( x.rc!=SQLITE_OK ){
    size_t iErr = p->iErr;
    atJsonFree(p);
    p->iErr = iErr;
    return x.rc;
  }
  return SQLITE_OK;
}

void atJsonFree(AtJson *p){
  AtJsonChunk *c = p->pChunk;
  while( c ){
    AtJsonChunk *pNext = c->pNext;
    sqlite3_free(c);
    c = pNext;
  }
  memset(p, 0, sizeof(*p));
}

/* ---- compact JSON text ------------------------------------------------------
**
** The same bytes as cJSON_PrintUnformatted() (tests/unit/test_value.c and
** fuzz_value compare the two on every input), written in one growing
** buffer: cJSON's printer sizes each string twice, grows its own buffer
** and copies the result once more, and it printed every JSON cell of a
** scan (a tenth of a full scan's instructions, by callgrind). */

/* A JSON string: room for the worst case (every byte as \u00XX) is made
** once, then the bytes are written straight in. bTwice: every '"' doubled
** (JSON text inside an RFC 4180 quoted field). */
static void printString(AtBuf *p, const char *z, size_t nIn, int bTwice){
  static const char hex[] = "0123456789abcdef";
  const unsigned char *a = (const unsigned char*)(z ? z : "");
  size_t i;
  char *zOut;
  if( !atBufReserve(p, nIn*6 + 4) ) return;
  zOut = p->z + p->n;
  *zOut++ = '"';
  if( bTwice ) *zOut++ = '"';
  for(i=0; i<nIn; i++){
    unsigned char c = a[i];
    if( c>31 && c!='"' && c!='\\' ){
      *zOut++ = (char)c;
      continue;
    }
    *zOut++ = '\\';
    switch( c ){
      case '"':  *zOut++ = '"'; if( bTwice ) *zOut++ = '"'; break;
      case '\\': *zOut++ = '\\'; break;
      case '\b': *zOut++ = 'b'; break;
      case '\f': *zOut++ = 'f'; break;
      case '\n': *zOut++ = 'n'; break;
      case '\r': *zOut++ = 'r'; break;
      case '\t': *zOut++ = 't'; break;
      default:
        *zOut++ = 'u'; *zOut++ = '0'; *zOut++ = '0';
        *zOut++ = hex[c>>4]; *zOut++ = hex[c&15];
    }
  }
  *zOut++ = '"';
  if( bTwice ) *zOut++ = '"';
  *zOut = 0;
  p->n = (size_t)(zOut - p->z);
}

/* cJSON 1.7.15's number: "null" for NaN and infinities; else 15
** significant digits if they read back (within cJSON's tolerance), else
** 17; always with '.' for the point. (-0 stays "-0".) */
static void printNumber(AtBuf *p, const cJSON *v){
  char aBuf[32];
  double d = v->valuedouble, t = 0.0;
  int n;
  /* In the "C" locale: '.' whatever the host set (cJSON swaps in the
  ** locale's point, which is wrong where that point is two bytes). */
  locale_t c = atCLocale(), old = c ? uselocale(c) : (locale_t)0;
  if( isnan(d) || isinf(d) ){
    n = snprintf(aBuf, sizeof(aBuf), "null");
  }else{
    n = snprintf(aBuf, sizeof(aBuf), "%1.15g", d);
    if( sscanf(aBuf, "%lg", &t)!=1
     || !(fabs(t-d) <= (fabs(t)>fabs(d) ? fabs(t) : fabs(d))*DBL_EPSILON) ){
      n = snprintf(aBuf, sizeof(aBuf), "%1.17g", d);
    }
  }
  if( c ) uselocale(old);
  if( atBufReserve(p, n) ){
    memcpy(p->z + p->n, aBuf, n);
    p->n += n;
    p->z[p->n] = 0;
  }
}

static int printValue(AtBuf *p, const cJSON *v, int bTwice){
  const cJSON *c;
  switch( v->type & 0xFF ){
    case cJSON_NULL:   atBufAppend(p, "null", 4); break;
    case cJSON_False:  atBufAppend(p, "false", 5); break;
    case cJSON_True:   atBufAppend(p, "true", 4); break;
    case cJSON_Number: printNumber(p, v); break;
    case cJSON_String: printString(p, v->valuestring, atJsonStrLen(v), bTwice); break;
    case cJSON_Raw:
      if( v->valuestring==0 ) return SQLITE_ERROR;
      atBufAppend(p, v->valuestring, strlen(v->valuestring));
      break;
    case cJSON_Array:
      atBufAppendChar(p, '[');
      for(c=v->child; c; c=c->next){
        if( c!=v->child ) atBufAppendChar(p, ',');
        if( printValue(p, c, bTwice)==SQLITE_ERROR ) return SQLITE_ERROR;
      }
      atBufAppendChar(p, ']');
      break;
    case cJSON_Object:
      atBufAppendChar(p, '{');
      for(c=v->child; c; c=c->next){
        if( c!=v->child ) atBufAppendChar(p, ',');
        printString(p, c->string, c->string ? strlen(c->string) : 0, bTwice);
        atBufAppendChar(p, ':');
        if( printValue(p, c, bTwice)==SQLITE_ERROR ) return SQLITE_ERROR;
      }
      atBufAppendChar(p, '}');
      break;
    default:
      return SQLITE_ERROR;
  }
  return p->bOom ? SQLITE_NOMEM : SQLITE_OK;
}

int atJsonPrint(AtBuf *p, const cJSON *v){
  return printValue(p, v, 0);
}

int atJsonPrintCsv(AtBuf *p, const cJSON *v){
  return printValue(p, v, 1);
}

void atJsonPrintString(AtBuf *p, const char *z, size_t n){
  printString(p, z, n, 0);
}

char *atJsonText(const cJSON *v, int *pn){
  AtBuf b;
  memset(&b, 0, sizeof(b));
  if( atJsonPrint(&b, v)!=SQLITE_OK || b.z==0 ){
    sqlite3_free(b.z);
    return 0;
  }
  if( pn ) *pn = (int)b.n;
  return b.z;
}

/* Clear what cJSON_Duplicate copied but the copy does not hold: the
** length of a string with a NUL (its copy ends at the NUL). */
static void dropStrLen(cJSON *p){
  for(; p; p=p->next){
    if( p->type & AT_JSON_STRLEN ){
      p->type &= ~AT_JSON_STRLEN;
      p->valueint = 0;
    }
    dropStrLen(p->child);
  }
}

cJSON *atJsonDuplicate(const cJSON *p){
  cJSON *pCopy = cJSON_Duplicate(p, 1);
  if( pCopy ){
    if( pCopy->type & AT_JSON_STRLEN ){
      pCopy->type &= ~AT_JSON_STRLEN;
      pCopy->valueint = 0;
    }
    dropStrLen(pCopy->child);
  }
  return pCopy;
}
