/*
** options.c: the arguments of CREATE VIRTUAL TABLE ... USING airtable(...),
** the token, and the API URL check.
**
** Grammar of one argument:   key = value
** where value is bare (surrounding spaces dropped) or quoted with '...' or
** "..." (a doubled quote inside stands for one). Unknown and duplicate keys
** are refused; rules across options are checked after the loop.
*/
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <curl/curl.h>
#include "airtable_int.h"

/* The options, in the order the README documents them. */
static const char *const azKnown[] = {
  "base", "table", "view", "api_url", "token_env", "token_file",
  "rate_limit", "max_retries", "rate_limit_wait", "retry_backoff",
  "retry_budget", "connect_timeout", "timeout", "ca_file",
  "cache", "max_age", "sync_overlap", "pushdown"
};
#define N_KNOWN ((int)(sizeof(azKnown)/sizeof(azKnown[0])))

/* Return a sqlite3_malloc'd copy of the n bytes at z with surrounding
** whitespace removed and one level of SQL quoting undone. NULL on OOM. */
static char *dequoteValue(const char *z, int n){
  char *zOut;
  int i, j;
  while( n>0 && isspace((unsigned char)z[0]) ){ z++; n--; }
  while( n>0 && isspace((unsigned char)z[n-1]) ){ n--; }
  zOut = sqlite3_malloc64(n+1);
  if( zOut==0 ) return 0;
  if( n>=2 && (z[0]=='\'' || z[0]=='"') && z[n-1]==z[0] ){
    char q = z[0];
    for(i=1, j=0; i<n-1; i++){
      zOut[j++] = z[i];
      if( z[i]==q && i+1<n-1 && z[i+1]==q ) i++;
    }
    zOut[j] = 0;
  }else{
    memcpy(zOut, z, n);
    zOut[n] = 0;
  }
  return zOut;
}

/* The slot in p for option iOpt (an index into azKnown). */
static char **optionSlot(AtOptions *p, int iOpt){
  switch( iOpt ){
    case 0: return &p->zBase;
    case 1: return &p->zTable;
    case 2: return &p->zView;
    case 3: return &p->zApiUrl;
    case 4: return &p->zTokenEnv;
    case 5: return &p->zTokenFile;
    case 13: return &p->zCaFile;
    case 14: return &p->zCache;
    case 15: return &p->azNumber[7];
    case 16: return &p->azNumber[8];
    case 17: return &p->zPushdown;
    default: return &p->azNumber[iOpt-6];
  }
}

/* The numeric options: where each goes and the range it must be in. The
** rate limit can only be lowered: Airtable allows 5 requests per second
** per base and a 429 costs 30 seconds. rate_limit=0 (no limiter) is for
** test servers: atOptionsFinish refuses it unless the API URL is this
** machine, so it can never raise the rate against Airtable. */
static const struct NumOpt {
  const char *zName;    /* option name */
  int bInteger;         /* whole numbers only */
  double rMin, rMax;    /* allowed range */
  const char *zUnit;    /* for the message */
} aNumOpt[9] = {
  { "rate_limit",      1, 0,   AT_DEFAULT_RATE, "requests per second" },
  { "max_retries",     1, 0,   20,              "retries" },
  { "rate_limit_wait", 0, 0,   3600,            "seconds" },
  { "retry_backoff",   0, 0,   600,             "seconds" },
  { "retry_budget",    0, 0,   86400,           "seconds" },
  { "connect_timeout", 0, 0.001, 3600,          "seconds" },
  { "timeout",         1, 1,   86400,           "seconds" },
  { "max_age",         0, 0,   31536000,        "seconds" },
  { "sync_overlap",    0, 0,   86400,           "seconds" },
};

/* Parse numeric option i's text z into *pr. */
static int parseNumber(int i, const char *z, double *pr, char **pzErr){
  const struct NumOpt *o = &aNumOpt[i];
  char *zEnd = 0;
  double r = atStrtod(z, &zEnd);
  /* r!=r: NaN. floor(), not a cast, tests wholeness: casting a double
  ** beyond the integer range is undefined (found by fuzz_options). */
  if( zEnd==z || *zEnd!=0 || r!=r || (o->bInteger && r!=floor(r)) ){
    atSetError(pzErr, "option %s: '%s' is not a %s", o->zName, z,
               o->bInteger ? "whole number" : "number");
    return SQLITE_ERROR;
  }
  if( r<o->rMin || r>o->rMax ){
    atSetError(pzErr, "option %s: %s is out of range (%g to %g %s)%s",
               o->zName, z, o->rMin, o->rMax, o->zUnit,
               i==0 ? "; Airtable allows 5 requests per second per base, so "
                      "the limit can only be lowered" : "");
    return SQLITE_ERROR;
  }
  *pr = r;
  return SQLITE_OK;
}

/* Fill p->cfg from the defaults and the numeric options given. */
static int parseConfig(AtOptions *p, char **pzErr){
  double r;
  int i;
  atHttpConfigDefault(&p->cfg);
  for(i=0; i<7; i++){
    if( p->azNumber[i]==0 ) continue;
    if( parseNumber(i, p->azNumber[i], &r, pzErr) ) return SQLITE_ERROR;
    switch( i ){
      case 0: p->cfg.nRatePerSec = (int)r; break;
      case 1: p->cfg.nMaxRetries = (int)r; break;
      case 2: p->cfg.rRateLimitWait = r; break;
      case 3: p->cfg.rRetryBackoff = r; break;
      case 4: p->cfg.rRetryBudget = r; break;
      case 5: p->cfg.rConnectTimeout = r; break;
      default: p->cfg.nTimeout = (int)r; break;
    }
  }
  p->rMaxAge = AT_DEFAULT_MAX_AGE;
  p->rSyncOverlap = AT_DEFAULT_SYNC_OVERLAP;
  if( p->azNumber[7] && parseNumber(7, p->azNumber[7], &p->rMaxAge, pzErr) ){
    return SQLITE_ERROR;
  }
  if( p->azNumber[8] && parseNumber(8, p->azNumber[8], &p->rSyncOverlap, pzErr) ){
    return SQLITE_ERROR;
  }
  if( p->zCaFile ){
    FILE *f = fopen(p->zCaFile, "rb");
    if( f==0 ){
      atSetError(pzErr, "option ca_file: cannot read '%s': %s", p->zCaFile,
                 strerror(errno));
      return SQLITE_ERROR;
    }
    fclose(f);
    p->cfg.zCaFile = p->zCaFile;
  }
  return SQLITE_OK;
}

/* Set p->eCache from cache= (off, on or offline). AIRTABLE_OFFLINE set to
** anything but "" or "0" turns "on" into "offline" and forbids syncs too
** (bNoNetwork): for a database copied to a machine with no token or network
** (README: "The staging cache"). */
static int parseCache(AtOptions *p, char **pzErr){
  const char *zEnv = getenv("AIRTABLE_OFFLINE");
  p->eCache = AT_CACHE_OFF;
  if( p->zCache==0 || sqlite3_stricmp(p->zCache, "off")==0 ){
    p->eCache = AT_CACHE_OFF;
  }else if( sqlite3_stricmp(p->zCache, "on")==0 ){
    p->eCache = AT_CACHE_ON;
  }else if( sqlite3_stricmp(p->zCache, "offline")==0 ){
    p->eCache = AT_CACHE_OFFLINE;
  }else{
    atSetError(pzErr, "option cache: '%s' is not off, on or offline", p->zCache);
    return SQLITE_ERROR;
  }
  if( p->eCache!=AT_CACHE_OFF && zEnv && zEnv[0] && strcmp(zEnv, "0")!=0 ){
    p->eCache = AT_CACHE_OFFLINE;
    p->bNoNetwork = 1;
  }
  if( p->eCache==AT_CACHE_OFF && (p->azNumber[7] || p->azNumber[8]) ){
    atSetError(pzErr, "option %s needs cache='on' (or 'offline')",
               p->azNumber[7] ? "max_age" : "sync_overlap");
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

static int isEnvName(const char *z){
  int i;
  if( z[0]==0 || isdigit((unsigned char)z[0]) ) return 0;
  for(i=0; z[i]; i++){
    if( !isalnum((unsigned char)z[i]) && z[i]!='_' ) return 0;
  }
  return 1;
}

int atOptionSplit(const char *zArg, int iArg, const char **pzKey, int *pnKey,
                  char **pzValue, char **pzErr){
  const char *zEq = strchr(zArg, '=');
  int nKey;
  *pzValue = 0;
  if( zEq==0 ){
    atSetError(pzErr, "argument %d (%s) is not of the form key=value", iArg, zArg);
    return SQLITE_ERROR;
  }
  nKey = (int)(zEq - zArg);
  while( nKey>0 && isspace((unsigned char)zArg[nKey-1]) ) nKey--;
  while( nKey>0 && isspace((unsigned char)zArg[0]) ){ zArg++; nKey--; }
  *pzKey = zArg;
  *pnKey = nKey;
  *pzValue = dequoteValue(zEq+1, (int)strlen(zEq+1));
  return *pzValue ? SQLITE_OK : SQLITE_NOMEM;
}

int atOptionsSet(AtOptions *p, const char *zKey, int nKey, char **pzValue,
                 char **pzErr){
  int iOpt;
  char **pzSlot;
  if( nKey==5 && sqlite3_strnicmp(zKey, "token", 5)==0 ){
    atSetError(pzErr, "option token= is refused: virtual table arguments are "
        "stored in plain text in the database file; put the token in the "
        "AIRTABLE_TOKEN environment variable, or name another variable with "
        "token_env= or a file with token_file=");
    return SQLITE_ERROR;
  }
  for(iOpt=0; iOpt<N_KNOWN; iOpt++){
    if( (int)strlen(azKnown[iOpt])==nKey
     && sqlite3_strnicmp(zKey, azKnown[iOpt], nKey)==0 ) break;
  }
  if( iOpt==N_KNOWN ) return SQLITE_NOTFOUND;
  pzSlot = optionSlot(p, iOpt);
  if( *pzSlot ){
    atSetError(pzErr, "option %s is given more than once", azKnown[iOpt]);
    return SQLITE_ERROR;
  }
  if( (*pzValue)[0]==0 ){
    atSetError(pzErr, "option %s is empty", azKnown[iOpt]);
    return SQLITE_ERROR;
  }
  *pzSlot = *pzValue;
  *pzValue = 0;
  return SQLITE_OK;
}

int atOptionsParse(int nArg, const char *const *azArg, AtOptions *p,
                   char **pzErr){
  int i;
  memset(p, 0, sizeof(*p));
  atHttpConfigDefault(&p->cfg);
  for(i=0; i<nArg; i++){
    const char *zKey;
    char *zValue;
    int nKey, rc;
    rc = atOptionSplit(azArg[i], i+1, &zKey, &nKey, &zValue, pzErr);
    if( rc==SQLITE_OK ) rc = atOptionsSet(p, zKey, nKey, &zValue, pzErr);
    sqlite3_free(zValue);
    if( rc==SQLITE_NOTFOUND ){
      atSetError(pzErr, "unknown option '%.*s' (known options: base, table, "
                 "view, api_url, token_env, token_file, rate_limit, max_retries, "
                 "rate_limit_wait, retry_backoff, retry_budget, connect_timeout, "
                 "timeout, ca_file, cache, max_age, sync_overlap, pushdown)", nKey, zKey);
      return SQLITE_ERROR;
    }
    if( rc!=SQLITE_OK ) return rc;
  }
  return atOptionsFinish(p, 1, pzErr);
}

static int isLoopback(const char *zHost);

/* rate_limit=0 turns the limiter off: only for a test server on this
** machine (a benchmark or a differential test that would otherwise wait
** minutes on the limit). Against any other host it is refused. */
static int rateCheck(AtOptions *p, char **pzErr){
  CURLU *pU;
  char *zHost = 0;
  int bLoop;
  if( p->cfg.nRatePerSec>0 ) return SQLITE_OK;
  pU = curl_url();
  if( pU==0 ) return SQLITE_NOMEM;
  bLoop = curl_url_set(pU, CURLUPART_URL, p->zApiUrl, 0)==CURLUE_OK
       && curl_url_get(pU, CURLUPART_HOST, &zHost, 0)==CURLUE_OK
       && isLoopback(zHost);
  curl_free(zHost);
  curl_url_cleanup(pU);
  if( !bLoop ){
    atSetError(pzErr, "option rate_limit: 0 (no limit) is only for a test "
               "server on this machine (127.0.0.1, ::1, localhost), not %s; "
               "Airtable allows 5 requests per second per base", p->zApiUrl);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

int atOptionsFinish(AtOptions *p, int bNeedTable, char **pzErr){
  /* Rules across options. */
  if( p->zBase==0 ){
    atSetError(pzErr, "option base is required (the base id, app...)");
    return SQLITE_ERROR;
  }
  if( !atIsId(p->zBase, "app") ){
    atSetError(pzErr, "option base: '%s' is not an Airtable base id "
               "('app' followed by 14 letters or digits)", p->zBase);
    return SQLITE_ERROR;
  }
  if( p->zTable==0 && bNeedTable ){
    atSetError(pzErr, "option table is required (a table name or tbl... id)");
    return SQLITE_ERROR;
  }
  if( p->zTable && strncmp(p->zTable, "tbl", 3)==0 && strlen(p->zTable)==17
   && !atIsId(p->zTable, "tbl") ){
    atSetError(pzErr, "option table: '%s' looks like a table id but is not one "
               "('tbl' followed by 14 letters or digits)", p->zTable);
    return SQLITE_ERROR;
  }
  if( p->zView && strncmp(p->zView, "viw", 3)==0 && strlen(p->zView)==17
   && !atIsId(p->zView, "viw") ){
    atSetError(pzErr, "option view: '%s' looks like a view id but is not one "
               "('viw' followed by 14 letters or digits)", p->zView);
    return SQLITE_ERROR;
  }
  if( p->zTokenEnv && p->zTokenFile ){
    atSetError(pzErr, "options token_env and token_file exclude each other");
    return SQLITE_ERROR;
  }
  if( p->zTokenEnv && !isEnvName(p->zTokenEnv) ){
    atSetError(pzErr, "option token_env: '%s' is not an environment variable "
               "name", p->zTokenEnv);
    return SQLITE_ERROR;
  }
  if( parseConfig(p, pzErr) ) return SQLITE_ERROR;
  if( parseCache(p, pzErr) ) return SQLITE_ERROR;
  if( p->zPushdown ){
    if( sqlite3_stricmp(p->zPushdown, "off")==0 ){
      p->bNoPushdown = 1;
    }else if( sqlite3_stricmp(p->zPushdown, "on")!=0 ){
      atSetError(pzErr, "option pushdown: '%s' is not on or off", p->zPushdown);
      return SQLITE_ERROR;
    }
  }
  if( p->zApiUrl==0 ){
    const char *zEnv = getenv("AIRTABLE_API_URL");
    int rc = SQLITE_OK;
    p->zApiUrl = atStrdup(zEnv && zEnv[0] ? zEnv : AT_DEFAULT_API_URL);
    if( p->zApiUrl==0 ) return SQLITE_NOMEM;
    if( zEnv && zEnv[0] ){
      rc = atApiUrlCheck(p->zApiUrl, "environment variable AIRTABLE_API_URL", pzErr);
    }
    return rc==SQLITE_OK ? rateCheck(p, pzErr) : rc;
  }
  if( atApiUrlCheck(p->zApiUrl, "option api_url", pzErr) ) return SQLITE_ERROR;
  return rateCheck(p, pzErr);
}

void atOptionsClear(AtOptions *p){
  int i;
  for(i=0; i<N_KNOWN; i++){
    char **pz = optionSlot(p, i);
    sqlite3_free(*pz);
    *pz = 0;
  }
}

/* Check a token's characters: it goes into an HTTP header, so control
** characters and spaces would corrupt (or inject into) the request. */
static int tokenCheck(const char *zToken, const char *zWhere, char **pzErr){
  int i;
  if( zToken[0]==0 ){
    atSetError(pzErr, "the token in %s is empty", zWhere);
    return SQLITE_ERROR;
  }
  for(i=0; zToken[i]; i++){
    unsigned char c = (unsigned char)zToken[i];
    if( c<=0x20 || c==0x7f ){
      atSetError(pzErr, "the token in %s contains a space or control "
                 "character at byte %d", zWhere, i+1);
      return SQLITE_ERROR;
    }
  }
  return SQLITE_OK;
}

static int tokenFromFile(const char *zPath, char **pzToken, char **pzErr){
  struct stat st;
  FILE *f;
  char *zBuf;
  size_t n;
  int rc;
  if( stat(zPath, &st)!=0 ){
    atSetError(pzErr, "option token_file: cannot read '%s': %s", zPath,
               strerror(errno));
    return SQLITE_ERROR;
  }
  if( !S_ISREG(st.st_mode) ){
    atSetError(pzErr, "option token_file: '%s' is not a regular file", zPath);
    return SQLITE_ERROR;
  }
  if( st.st_mode & 077 ){
    atSetError(pzErr, "option token_file: '%s' is readable by group or others "
               "(mode %03o); a token file must be private, as ssh requires of "
               "keys: chmod 600 '%s'", zPath, (unsigned)(st.st_mode & 0777), zPath);
    return SQLITE_ERROR;
  }
  if( st.st_size>AT_MAX_TOKEN_FILE ){
    atSetError(pzErr, "option token_file: '%s' is %lld bytes; a token file "
               "holds only the token (at most %d bytes)", zPath,
               (long long)st.st_size, AT_MAX_TOKEN_FILE);
    return SQLITE_ERROR;
  }
  f = fopen(zPath, "rb");
  if( f==0 ){
    atSetError(pzErr, "option token_file: cannot read '%s': %s", zPath,
               strerror(errno));
    return SQLITE_ERROR;
  }
  zBuf = sqlite3_malloc64(AT_MAX_TOKEN_FILE+1);
  if( zBuf==0 ){
    fclose(f);
    return SQLITE_NOMEM;
  }
  n = fread(zBuf, 1, AT_MAX_TOKEN_FILE, f);
  fclose(f);
  zBuf[n] = 0;
  while( n>0 && isspace((unsigned char)zBuf[n-1]) ) zBuf[--n] = 0;
  rc = tokenCheck(zBuf, "token_file", pzErr);
  if( rc!=SQLITE_OK ){
    memset(zBuf, 0, AT_MAX_TOKEN_FILE);
    sqlite3_free(zBuf);
    return rc;
  }
  *pzToken = zBuf;
  return SQLITE_OK;
}

int atTokenLoad(const char *zTokenEnv, const char *zTokenFile, char **pzToken,
                char **pzErr){
  const char *zVar = zTokenEnv ? zTokenEnv : AT_DEFAULT_TOKEN_ENV;
  const char *zVal;
  char *zWhere;
  int rc;
  *pzToken = 0;
  if( zTokenFile ) return tokenFromFile(zTokenFile, pzToken, pzErr);
  zVal = getenv(zVar);
  if( zVal==0 || zVal[0]==0 ){
    atSetError(pzErr, "no API token: the environment variable %s is %s "
               "(set it, or name another variable with token_env= or a file "
               "with token_file=)", zVar, zVal ? "empty" : "not set");
    return SQLITE_ERROR;
  }
  zWhere = sqlite3_mprintf("environment variable %s", zVar);
  if( zWhere==0 ) return SQLITE_NOMEM;
  rc = tokenCheck(zVal, zWhere, pzErr);
  sqlite3_free(zWhere);
  if( rc!=SQLITE_OK ) return rc;
  *pzToken = atStrdup(zVal);
  return *pzToken ? SQLITE_OK : SQLITE_NOMEM;
}

/* True if zHost names this machine: localhost, 127.0.0.0/8 or ::1. */
static int isLoopback(const char *zHost){
  if( sqlite3_stricmp(zHost, "localhost")==0 ) return 1;
  if( strcmp(zHost, "[::1]")==0 || strcmp(zHost, "::1")==0 ) return 1;
  if( strncmp(zHost, "127.", 4)==0 ){
    int i, nDot = 0;
    for(i=4; zHost[i]; i++){
      if( zHost[i]=='.' ) nDot++;
      else if( !isdigit((unsigned char)zHost[i]) ) return 0;
    }
    return nDot==2;
  }
  return 0;
}

int atApiUrlCheck(const char *zUrl, const char *zWhat, char **pzErr){
  CURLU *pU = curl_url();
  char *zScheme = 0, *zHost = 0, *zQuery = 0, *zFrag = 0;
  int rc = SQLITE_ERROR;
  if( pU==0 ) return SQLITE_NOMEM;
  if( curl_url_set(pU, CURLUPART_URL, zUrl, 0)!=CURLUE_OK
   || curl_url_get(pU, CURLUPART_SCHEME, &zScheme, 0)!=CURLUE_OK
   || curl_url_get(pU, CURLUPART_HOST, &zHost, 0)!=CURLUE_OK ){
    atSetError(pzErr, "%s: '%s' is not a URL (expected like %s)", zWhat, zUrl,
               AT_DEFAULT_API_URL);
    goto done;
  }
  curl_url_get(pU, CURLUPART_QUERY, &zQuery, 0);
  curl_url_get(pU, CURLUPART_FRAGMENT, &zFrag, 0);
  if( zQuery || zFrag ){
    atSetError(pzErr, "%s: '%s' has a query or fragment; give only the API "
               "root (like %s)", zWhat, zUrl, AT_DEFAULT_API_URL);
  }else if( sqlite3_stricmp(zScheme, "https")==0 ){
    rc = SQLITE_OK;
  }else if( sqlite3_stricmp(zScheme, "http")!=0 ){
    atSetError(pzErr, "%s: '%s' is not an http or https URL", zWhat, zUrl);
  }else if( !isLoopback(zHost) ){
    atSetError(pzErr, "%s: '%s' uses plain http to a host that is not this "
               "machine; the token would cross the network unencrypted: use "
               "https (plain http is allowed only to 127.0.0.1, ::1 and "
               "localhost, for test servers)", zWhat, zUrl);
  }else{
    rc = SQLITE_OK;
  }
done:
  curl_free(zScheme);
  curl_free(zHost);
  curl_free(zQuery);
  curl_free(zFrag);
  curl_url_cleanup(pU);
  return rc;
}
