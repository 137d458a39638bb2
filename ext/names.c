/*
** names.c: names that other systems accept. Airtable allows any text in a
** table or field name; Delta Lake refuses spaces and ",;{}()=\n\t" in column
** names (without column mapping) and a file name must not hold a "/". These
** rules give every table a file name (the Delta table name a pipeline
** creates) and every field a Delta-safe column name, the same names the
** connector this project replaces gave them, so existing Delta tables keep
** their columns. docs/export-for-spark.md ("Column names") documents the rules.
*/
#include <ctype.h>
#include <locale.h>
#include <pthread.h>
#include <string.h>
#include <wctype.h>
#include "names.h"

/* Decode one UTF-8 character at z (n bytes left). Sets *pnLen to its length
** (at least 1: a byte that starts no valid sequence stands for itself, as
** U+FFFD). */
static unsigned int utf8Decode(const unsigned char *z, size_t n, int *pnLen){
  unsigned int c = z[0];
  int len, i;
  if( c<0x80 ){ *pnLen = 1; return c; }
  if( (c & 0xE0)==0xC0 ){ len = 2; c &= 0x1F; }
  else if( (c & 0xF0)==0xE0 ){ len = 3; c &= 0x0F; }
  else if( (c & 0xF8)==0xF0 ){ len = 4; c &= 0x07; }
  else { *pnLen = 1; return 0xFFFD; }
  if( (size_t)len>n ){ *pnLen = 1; return 0xFFFD; }
  for(i=1; i<len; i++){
    if( (z[i] & 0xC0)!=0x80 ){ *pnLen = 1; return 0xFFFD; }
    c = (c<<6) | (z[i] & 0x3F);
  }
  *pnLen = len;
  return c;
}

static void utf8Append(sqlite3_str *p, unsigned int c){
  char a[4];
  if( c<0x80 ){
    sqlite3_str_appendchar(p, 1, (char)c);
    return;
  }
  if( c<0x800 ){
    a[0] = (char)(0xC0 | (c>>6));
    a[1] = (char)(0x80 | (c & 0x3F));
    sqlite3_str_append(p, a, 2);
  }else if( c<0x10000 ){
    a[0] = (char)(0xE0 | (c>>12));
    a[1] = (char)(0x80 | ((c>>6) & 0x3F));
    a[2] = (char)(0x80 | (c & 0x3F));
    sqlite3_str_append(p, a, 3);
  }else{
    a[0] = (char)(0xF0 | (c>>18));
    a[1] = (char)(0x80 | ((c>>12) & 0x3F));
    a[2] = (char)(0x80 | ((c>>6) & 0x3F));
    a[3] = (char)(0x80 | (c & 0x3F));
    sqlite3_str_append(p, a, 4);
  }
}

/* Letters beyond ASCII are classified and lower-cased by the C library's
** Unicode tables (the C.UTF-8 locale, made once and never installed as the
** process's locale, so the host program is not affected). Without it,
** every non-ASCII character counts as a letter and keeps its case. */
static pthread_once_t localeOnce = PTHREAD_ONCE_INIT;
static locale_t utf8Locale = (locale_t)0;
static void localeInit(void){
  utf8Locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static int isLetterOrDigit(unsigned int c){
  if( c<0x80 ) return isalnum((int)c);
  pthread_once(&localeOnce, localeInit);
  return utf8Locale ? iswalnum_l((wint_t)c, utf8Locale)!=0 : 1;
}

/* A digit as Python's str.isdigit() sees one: ASCII digits, and other
** scripts' characters that are alphanumeric but not letters. */
static int isDigitChar(unsigned int c){
  if( c<0x80 ) return isdigit((int)c);
  pthread_once(&localeOnce, localeInit);
  return utf8Locale && iswalnum_l((wint_t)c, utf8Locale)
      && !iswalpha_l((wint_t)c, utf8Locale);
}

static unsigned int toLower(unsigned int c){
  if( c<0x80 ) return (unsigned int)tolower((int)c);
  pthread_once(&localeOnce, localeInit);
  return utf8Locale ? (unsigned int)towlower_l((wint_t)c, utf8Locale) : c;
}

char *atDeltaColumnName(const char *zName){
  const unsigned char *z = (const unsigned char*)zName;
  size_t n = strlen(zName), i;
  sqlite3_str *pStr = sqlite3_str_new(0);
  int len, bFirst = 1;
  for(i=0; i<n; i+=len){
    unsigned int c = utf8Decode(z+i, n-i, &len);
    switch( c ){
      case ' ':  c = '_'; break;
      case '(': case ')': case ',': case ';': case '{': case '}':
      case '\n': case '\t': case '=':
        continue;                          /* dropped */
      case '$': sqlite3_str_appendall(pStr, "dollar"); bFirst = 0; continue;
      case '#': sqlite3_str_appendall(pStr, "num"); bFirst = 0; continue;
      default:
        if( c!='_' && !isLetterOrDigit(c) ) c = '_';
        break;
    }
    if( bFirst && isDigitChar(c) ) sqlite3_str_appendall(pStr, "col_");
    bFirst = 0;
    utf8Append(pStr, toLower(c));
  }
  if( sqlite3_str_length(pStr)==0 ) sqlite3_str_appendall(pStr, "col");
  return sqlite3_str_finish(pStr);
}

char *atTableFileName(const char *zName){
  const unsigned char *z = (const unsigned char*)zName;
  size_t n = strlen(zName), i, j = 0;
  char *zOut = sqlite3_malloc64(n + 8);    /* never longer than the name */
  int len;
  if( zOut==0 ) return 0;
  for(i=0; i<n; i+=len){
    unsigned int c = utf8Decode(z+i, n-i, &len);
    if( c<0x80 ) c = (unsigned int)tolower((int)c);
    if( c=='(' || c==')' || c=='[' || c==']' || c=='{' || c=='}' ) continue;
    if( !((c>='a' && c<='z') || (c>='0' && c<='9')) ) c = '_';
    /* Runs of '_' collapse; a leading '_' is dropped here, a trailing one
    ** below. */
    if( c=='_' && (j==0 || zOut[j-1]=='_') ) continue;
    zOut[j++] = (char)c;
  }
  if( j>0 && zOut[j-1]=='_' ) j--;
  zOut[j] = 0;
  if( j==0 ){
    sqlite3_free(zOut);
    return sqlite3_mprintf("table");
  }
  if( zOut[0]>='0' && zOut[0]<='9' ){
    char *zNew = sqlite3_mprintf("table_%s", zOut);
    sqlite3_free(zOut);
    return zNew;
  }
  return zOut;
}

/* True if zName equals (ASCII case-insensitively) one of the nReserved
** names or one of azOut[0..n-1]. */
static int nameTaken(const char *zName, int nReserved,
                     const char *const *azReserved, int n, char *const *azOut){
  int i;
  for(i=0; i<nReserved; i++){
    if( sqlite3_stricmp(zName, azReserved[i])==0 ) return 1;
  }
  for(i=0; i<n; i++){
    if( azOut[i] && sqlite3_stricmp(zName, azOut[i])==0 ) return 1;
  }
  return 0;
}

int atUniqueNames(int n, const char *const *azName, int nReserved,
                  const char *const *azReserved, char **azOut){
  int i;
  for(i=0; i<n; i++) azOut[i] = 0;
  for(i=0; i<n; i++){
    char *zOut = atStrdup(azName[i]);
    int iSuffix = 1;
    while( zOut && nameTaken(zOut, nReserved, azReserved, i, azOut) ){
      sqlite3_free(zOut);
      zOut = sqlite3_mprintf("%s_%d", azName[i], ++iSuffix);
    }
    if( zOut==0 ) return SQLITE_NOMEM;
    azOut[i] = zOut;
  }
  return SQLITE_OK;
}
