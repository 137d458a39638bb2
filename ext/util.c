/*
** util.c: the small helpers every module shares: the one error formatter,
** string copies and the Airtable id check.
*/
#include <stdarg.h>
#include <string.h>
#include "airtable_int.h"

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
