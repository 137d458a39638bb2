/*
** util.c: the small helpers every module shares: the one error formatter,
** string copies, the Airtable id check, the clock and the "C" locale.
*/
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include "util.h"

void atSetError(char **pzErr, const char *zFmt, ...){
  va_list ap;
  char *zMsg;
  va_start(ap, zFmt);
  zMsg = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  sqlite3_free(*pzErr);
  *pzErr = zMsg ? sqlite3_mprintf("airtable: %z", zMsg) : 0;
}

void atPrefixError(char **pzErr, const char *zFmt, ...){
  static const char zPre[] = "airtable: ";
  const char *zOld = *pzErr ? *pzErr : "?";
  va_list ap;
  char *zCtx;
  if( strncmp(zOld, zPre, sizeof(zPre)-1)==0 ) zOld += sizeof(zPre)-1;
  va_start(ap, zFmt);
  zCtx = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  if( zCtx ){
    char *zNew = sqlite3_mprintf("%s%z: %s", zPre, zCtx, zOld);
    sqlite3_free(*pzErr);
    *pzErr = zNew;
  }
}

char *atStrdup(const char *z){
  size_t n;
  char *zCopy;
  if( z==0 ) return 0;
  n = strlen(z);
  zCopy = sqlite3_malloc64(n+1);
  if( zCopy ) memcpy(zCopy, z, n+1);
  return zCopy;
}

int atIsId(const char *z, const char *zPrefix){
  size_t nPrefix = strlen(zPrefix);
  int i;
  if( z==0 || strncmp(z, zPrefix, nPrefix)!=0 ) return 0;
  z += nPrefix;
  for(i=0; i<14; i++){
    char c = z[i];
    if( !((c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9')) ){
      return 0;
    }
  }
  return z[14]==0;
}

double atNow(void){
  struct timeval tv;
  gettimeofday(&tv, 0);
  return tv.tv_sec + tv.tv_usec/1e6;
}

char *atIsoTime(double r){
  time_t t = (time_t)r;
  struct tm tm;
  int ms = (int)((r - (double)t)*1000.0);
  if( ms>999 ) ms = 999;
  if( ms<0 ) ms = 0;
  gmtime_r(&t, &tm);
  return sqlite3_mprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                         tm.tm_year+1900, tm.tm_mon+1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

static pthread_once_t cLocaleOnce = PTHREAD_ONCE_INIT;
static locale_t cLocale = (locale_t)0;
static void cLocaleInit(void){
  cLocale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

locale_t atCLocale(void){
  pthread_once(&cLocaleOnce, cLocaleInit);
  return cLocale;
}

double atStrtod(const char *z, char **pzEnd){
  /* uselocale() changes this thread's locale only, and only here. */
  locale_t c = atCLocale();
  locale_t old = c ? uselocale(c) : (locale_t)0;
  double r = strtod(z, pzEnd);
  if( c ) uselocale(old);
  return r;
}

int atUtf8Valid(const char *z, size_t n){
  const unsigned char *a = (const unsigned char*)z;
  size_t i = 0;
  while( i<n ){
    unsigned c = a[i];
    unsigned cp;
    int k, m;
    if( c<0x80 ){ i++; continue; }
    if( c>=0xC2 && c<=0xDF ){ m = 1; cp = c & 0x1F; }
    else if( c>=0xE0 && c<=0xEF ){ m = 2; cp = c & 0x0F; }
    else if( c>=0xF0 && c<=0xF4 ){ m = 3; cp = c & 0x07; }
    else return 0;                       /* a continuation byte, C0, C1, F5+ */
    for(k=1; k<=m; k++){                 /* a truncated form fails here too */
      if( i+k>=n || (a[i+k] & 0xC0)!=0x80 ) return 0;
      cp = (cp<<6) | (a[i+k] & 0x3F);
    }
    if( (m==2 && cp<0x800) || (m==3 && (cp<0x10000 || cp>0x10FFFF))
     || (cp>=0xD800 && cp<=0xDFFF) ){
      return 0;                          /* overlong, beyond Unicode, surrogate */
    }
    i += m+1;
  }
  return 1;
}
