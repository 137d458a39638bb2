/*
** options.c: the one table of options (the airtable table's arguments and
** airtable_export()'s), their parsing, the token and the API URL check.
**
** Grammar of one argument:   key = value
** where value is bare (surrounding spaces dropped) or quoted with '...' or
** "..." (a doubled quote inside stands for one). Unknown, empty and
** duplicate keys are refused; each value is checked by its kind and range
** (aSpec below); rules across options are checked after the loop.
**
** An option is added in one place: aSpec. The table, the export and its
** command read it, and airtable_options() shows it (the Python package
** asks for it there).
*/
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include "options.h"
#include "http.h"
#include "util.h"

#define AT_MAX_TOKEN_FILE 4096           /* bigger token files are refused */

#define TXT(f)  offsetof(AtOptions, f)
#define VAL(f)  ((int)offsetof(AtOptions, f))
#define V  AT_OPT_VTAB
#define E  AT_OPT_EXPORT

/* The options, in the order the documentation gives them. The rate limit
** can only be lowered: Airtable allows 5 requests per second per base and
** a 429 costs 30 seconds. rate_limit=0 (no limiter) is for test servers:
** atOptionsFinish refuses it unless the API URL is this machine, so it can
** never raise the rate against Airtable. */
static const AtOptionSpec aSpec[] = {
  { "base", AT_OPT_TEXT, V|E, 0, 0, 0, 0, TXT(zBase), -1, 0, 0,
    "the base id (app...); required" },
  { "table", AT_OPT_TEXT, V|E, 0, 0, 0, 0, TXT(zTable), -1, 0, 0,
    "a table name or tbl... id; required by a table; an export takes it once per table" },
  { "view", AT_OPT_TEXT, V|E, 0, 0, 0, 0, TXT(zView), -1, 0, 0,
    "only this view's records (a view name or viw... id)" },
  { "api_url", AT_OPT_TEXT, V|E, 0, 0, 0, 0, TXT(zApiUrl), -1, 0, 0,
    "the API root; default $AIRTABLE_API_URL, else " AT_DEFAULT_API_URL },
  { "token_env", AT_OPT_TEXT, V|E, 0, 0, 0, 0, TXT(zTokenEnv), -1, 0, 0,
    "the environment variable holding the token; default " AT_DEFAULT_TOKEN_ENV },
  { "token_file", AT_OPT_TEXT, V|E, 0, 0, 0, 0, TXT(zTokenFile), -1, 0, 0,
    "a file (mode 600) holding the token" },
  { "rate_limit", AT_OPT_INTEGER, V|E, 0, AT_DEFAULT_RATE, AT_DEFAULT_RATE, 0,
    TXT(zRateLimit), VAL(cfg.nRatePerSec), "requests per second", 0,
    "requests per second per base (0: no limiter, loopback test servers only)" },
  { "max_retries", AT_OPT_INTEGER, V|E, 0, 20, AT_DEFAULT_MAX_RETRIES, 0,
    TXT(zMaxRetries), VAL(cfg.nMaxRetries), "retries", 0,
    "retries of one request" },
  { "rate_limit_wait", AT_OPT_NUMBER, V|E, 0, 3600, AT_DEFAULT_429_WAIT, 0,
    TXT(zRateLimitWait), VAL(cfg.rRateLimitWait), "seconds", 0,
    "seconds to wait after a 429 that has no Retry-After" },
  { "retry_backoff", AT_OPT_NUMBER, V|E, 0, 600, AT_DEFAULT_BACKOFF, 0,
    TXT(zRetryBackoff), VAL(cfg.rRetryBackoff), "seconds", 0,
    "first wait in seconds after a 5xx or network error (doubling, with jitter)" },
  { "retry_budget", AT_OPT_NUMBER, V|E, 1, 86400, AT_DEFAULT_BUDGET, 0,
    TXT(zRetryBudget), VAL(cfg.rRetryBudget), "seconds", 0,
    "most seconds one request may take, retries and waits included" },
  { "connect_timeout", AT_OPT_NUMBER, V|E, 0.001, 3600, AT_DEFAULT_CONNECT, 0,
    TXT(zConnectTimeout), VAL(cfg.rConnectTimeout), "seconds", 0,
    "seconds to connect" },
  { "timeout", AT_OPT_INTEGER, V|E, 1, 86400, AT_DEFAULT_TIMEOUT, 0,
    TXT(zTimeout), VAL(cfg.nTimeout), "seconds", 0,
    "most seconds one attempt may take; also, with no data for this long, it is given up" },
  { "ca_file", AT_OPT_TEXT, V|E, 0, 0, 0, 0, TXT(zCaFile), -1, 0, 0,
    "a CA bundle for https" },
  { "cache", AT_OPT_CHOICE, V, 0, 0, 0, "off on offline", TXT(zCache),
    VAL(eCache), 0, 0,
    "off: every query asks the API; on: a staging cache refreshed past max_age; "
    "offline: the cache only" },
  { "max_age", AT_OPT_NUMBER, V, 0, 31536000, AT_DEFAULT_MAX_AGE, 0,
    TXT(zMaxAge), VAL(rMaxAge), "seconds", 0,
    "seconds a cache stays fresh (cache='on')" },
  { "sync_overlap", AT_OPT_NUMBER, V, 0, 86400, AT_DEFAULT_SYNC_OVERLAP, 0,
    TXT(zSyncOverlap), VAL(rSyncOverlap), "seconds", 0,
    "seconds an incremental sync looks back" },
  { "pushdown", AT_OPT_CHOICE, V, 0, 0, 0, "on off", TXT(zPushdown),
    VAL(bNoPushdown), 0, 0,
    "on: filters, sorts, columns and limits go to the API; off: full scans" },
  { "out", AT_OPT_TEXT, E, 0, 0, 0, 0, TXT(zOut), -1, 0, 0,
    "the directory to write; required" },
  { "all", AT_OPT_FLAG, E, 0, 0, 0, 0, TXT(zAll), VAL(bAll), 0, 0,
    "every table of the base" },
  { "format", AT_OPT_CHOICE, E, 0, 0, 0, "csv jsonl", TXT(zFormat), VAL(bJsonl),
    0, 0, "csv (nested values as JSON text) or jsonl (nested values typed)" },
  { "gzip", AT_OPT_FLAG, E, 0, 0, 0, 0, TXT(zGzip), VAL(bGzip), 0, 0,
    "compress the data files" },
  { "names", AT_OPT_CHOICE, E, 0, 0, 0, "delta exact", TXT(zNames),
    VAL(bExactNames), 0, 0,
    "column names Delta accepts, or the field names as they are (still unique: "
    "a field named id or createdTime, the columns of the record's id and "
    "creation time, becomes id_2 or createdTime_2)" },
  { "concurrency", AT_OPT_INTEGER, E, 1, AT_MAX_CONCURRENCY,
    AT_DEFAULT_CONCURRENCY, 0, TXT(zConcurrency), VAL(nConcurrency), 0,
    "a whole number from 1 to 8 (tables exported at once)",
    "tables (or parts of tables) exported at once" },
  { "partitions", AT_OPT_INTEGER, E, 1, AT_MAX_CONCURRENCY, 1, 0,
    TXT(zPartitions), VAL(nPartition), 0,
    "a whole number from 1 to 8 (parts of each table listed at once)",
    "list each table in this many disjoint parts at once" },
  { "schema_only", AT_OPT_FLAG, E, 0, 0, 0, 0, TXT(zSchemaOnly),
    VAL(bSchemaOnly), 0, 0, "write the schema files and the manifest, no rows" },
  { "progress", AT_OPT_FLAG, E, 0, 0, 0, 0, TXT(zProgress), VAL(bProgress), 0, 0,
    "progress lines on stderr" },
  { "replace", AT_OPT_FLAG, E, 0, 0, 0, 0, TXT(zReplace), VAL(bReplace), 0, 0,
    "replace the export the directory holds, whole (without it an export "
    "writes only into an empty or new directory)" },
  { "from_cache", AT_OPT_TEXT, E, 0, 0, 0, 0, TXT(zFromCache), -1, 0, 0,
    "export what the staging caches in this database file hold (no token, no network)" },
  { "since_sync", AT_OPT_INT64, E, 0, 999999999999999.0, -1, 0,
    TXT(zSinceSync), VAL(iSinceSync), 0,
    "a sync number (a whole number, 0 or more)",
    "with from_cache: only records changed by syncs after this one" },
};
#define N_SPEC ((int)(sizeof(aSpec)/sizeof(aSpec[0])))

const AtOptionSpec *atOptionSpecs(int *pn){
  *pn = N_SPEC;
  return aSpec;
}

const AtOptionSpec *atOptionFind(const char *zKey, int nKey){
  int i;
  for(i=0; i<N_SPEC; i++){
    if( (int)strlen(aSpec[i].zName)==nKey
     && sqlite3_strnicmp(zKey, aSpec[i].zName, nKey)==0 ) return &aSpec[i];
  }
  return 0;
}

static char **textSlot(AtOptions *p, const AtOptionSpec *o){
  return (char**)((char*)p + o->iText);
}

static const char *const azKindName[] = {
  "", "text", "integer", "integer", "number", "flag", "choice"
};

char *atOptionsJson(void){
  cJSON *pArr = cJSON_CreateArray();
  char *zJson = 0, *z;
  int i, ok = pArr!=0;
  for(i=0; ok && i<N_SPEC; i++){
    const AtOptionSpec *o = &aSpec[i];
    cJSON *pO = cJSON_CreateObject();
    ok = pO && cJSON_AddItemToArray(pArr, pO)
      && cJSON_AddStringToObject(pO, "name", o->zName)
      && cJSON_AddStringToObject(pO, "kind", azKindName[o->eKind])
      && cJSON_AddBoolToObject(pO, "table", (o->mWhere & AT_OPT_VTAB)!=0)
      && cJSON_AddBoolToObject(pO, "export", (o->mWhere & AT_OPT_EXPORT)!=0);
    if( ok && o->eKind>=AT_OPT_INTEGER && o->eKind<=AT_OPT_NUMBER ){
      ok = cJSON_AddNumberToObject(pO, "min", o->rMin)
        && cJSON_AddNumberToObject(pO, "max", o->rMax)
        && (o->rDefault<o->rMin ? cJSON_AddNullToObject(pO, "default")
                                : cJSON_AddNumberToObject(pO, "default", o->rDefault));
    }else if( ok && o->eKind==AT_OPT_FLAG ){
      ok = cJSON_AddBoolToObject(pO, "default", 0)!=0;
    }else if( ok && o->eKind==AT_OPT_CHOICE ){
      cJSON *pC = cJSON_AddArrayToObject(pO, "choices");
      const char *zC = o->zChoices;
      ok = pC!=0;
      while( ok && *zC ){
        int n = (int)strcspn(zC, " ");
        char *zOne = sqlite3_mprintf("%.*s", n, zC);
        ok = zOne && cJSON_AddItemToArray(pC, cJSON_CreateString(zOne));
        if( ok && zC==o->zChoices ) ok = cJSON_AddStringToObject(pO, "default", zOne)!=0;
        sqlite3_free(zOne);
        zC += n;
        while( *zC==' ' ) zC++;
      }
    }else if( ok ){
      ok = cJSON_AddNullToObject(pO, "default")!=0;
    }
    ok = ok && cJSON_AddStringToObject(pO, "help", o->zHelp);
  }
  z = ok ? cJSON_PrintUnformatted(pArr) : 0;
  if( z ){
    zJson = atStrdup(z);
    cJSON_free(z);
  }
  cJSON_Delete(pArr);
  return zJson;
}

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

int atOptionsSet(AtOptions *p, int mWhere, const char *zKey, int nKey,
                 char **pzValue, char **pzErr){
  const AtOptionSpec *o;
  char **pzSlot;
  if( nKey==5 && sqlite3_strnicmp(zKey, "token", 5)==0 ){
    atSetError(pzErr, "option token= is refused: %s; put the token in the "
        "AIRTABLE_TOKEN environment variable, or name another variable with "
        "token_env= or a file with token_file=", (mWhere & AT_OPT_VTAB)
        ? "virtual table arguments are stored in plain text in the database file"
        : "airtable_export()'s arguments are SQL text, which shells keep in "
          "their history and hosts may log");
    return SQLITE_ERROR;
  }
  o = atOptionFind(zKey, nKey);
  if( o==0 ) return SQLITE_NOTFOUND;
  if( (o->mWhere & mWhere)==0 ){
    int bCache = o->iValue==VAL(eCache) || o->iValue==VAL(rMaxAge)
              || o->iValue==VAL(rSyncOverlap);
    if( mWhere & AT_OPT_EXPORT ){
      atSetError(pzErr, "option %s belongs to airtable tables, not to an "
                 "export%s", o->zName, bCache ? "; to export what a table's "
                 "cache holds, use from_cache=" : "");
    }else{
      atSetError(pzErr, "option %s belongs to an export (airtable_export()), "
                 "not to an airtable table", o->zName);
    }
    return SQLITE_ERROR;
  }
  pzSlot = textSlot(p, o);
  if( *pzSlot ){
    atSetError(pzErr, "option %s is given more than once", o->zName);
    return SQLITE_ERROR;
  }
  if( (*pzValue)[0]==0 ){
    atSetError(pzErr, "option %s is empty", o->zName);
    return SQLITE_ERROR;
  }
  *pzSlot = *pzValue;
  *pzValue = 0;
  return SQLITE_OK;
}

/* A list of the options mWhere takes, for the message about an unknown
** one: "base, table, view, ...". NULL on OOM. */
static char *knownList(int mWhere){
  sqlite3_str *pStr = sqlite3_str_new(0);
  int i, n = 0;
  for(i=0; i<N_SPEC; i++){
    if( aSpec[i].mWhere & mWhere ){
      sqlite3_str_appendf(pStr, "%s%s", n++ ? ", " : "", aSpec[i].zName);
    }
  }
  return sqlite3_str_finish(pStr);
}

int atOptionsUnknown(int mWhere, const char *zKey, int nKey, char **pzErr){
  char *zList = knownList(mWhere);
  atSetError(pzErr, "unknown option '%.*s' (known options: %s)", nKey, zKey,
             zList ? zList : "?");
  sqlite3_free(zList);
  return SQLITE_ERROR;
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
    if( rc==SQLITE_OK ) rc = atOptionsSet(p, AT_OPT_VTAB, zKey, nKey, &zValue, pzErr);
    sqlite3_free(zValue);
    if( rc==SQLITE_NOTFOUND ) return atOptionsUnknown(AT_OPT_VTAB, zKey, nKey, pzErr);
    if( rc!=SQLITE_OK ) return rc;
  }
  return atOptionsFinish(p, AT_OPT_VTAB, pzErr);
}

/* The phrase of "option X: 'v' is not <phrase>" for a value of o's kind. */
static void valueError(const AtOptionSpec *o, const char *z, char **pzErr){
  if( o->zNot ){
    atSetError(pzErr, "option %s: '%s' is not %s", o->zName, z, o->zNot);
  }else if( o->eKind==AT_OPT_FLAG ){
    atSetError(pzErr, "option %s: '%s' is not 1 or 0 (or true/false, yes/no, "
               "on/off)", o->zName, z);
  }else if( o->eKind==AT_OPT_CHOICE ){
    /* "a or b", "a, b or c" */
    sqlite3_str *pStr = sqlite3_str_new(0);
    const char *zC = o->zChoices, *zLast = strrchr(o->zChoices, ' ');
    char *zList;
    while( *zC ){
      int n = (int)strcspn(zC, " ");
      sqlite3_str_appendf(pStr, "%s%.*s", zC==o->zChoices ? "" :
                          zC==zLast+1 ? " or " : ", ", n, zC);
      zC += n;
      while( *zC==' ' ) zC++;
    }
    zList = sqlite3_str_finish(pStr);
    atSetError(pzErr, "option %s: '%s' is not %s", o->zName, z, zList ? zList : "?");
    sqlite3_free(zList);
  }else{
    atSetError(pzErr, "option %s: '%s' is not a %s", o->zName, z,
               o->eKind==AT_OPT_NUMBER ? "number" : "whole number");
  }
}

/* Convert option o's text z (NULL: not given, so its default) into its
** typed value in p. */
static int convertValue(AtOptions *p, const AtOptionSpec *o, const char *z,
                        char **pzErr){
  void *pVal = (char*)p + o->iValue;
  double r;
  if( o->iValue<0 ) return SQLITE_OK;
  switch( o->eKind ){
    case AT_OPT_FLAG: {
      static const char *const azTrue[] = { "1", "true", "yes", "on" };
      static const char *const azFalse[] = { "0", "false", "no", "off" };
      int i;
      *(int*)pVal = 0;
      if( z==0 ) return SQLITE_OK;
      for(i=0; i<4; i++){
        if( sqlite3_stricmp(z, azTrue[i])==0 ){ *(int*)pVal = 1; return SQLITE_OK; }
        if( sqlite3_stricmp(z, azFalse[i])==0 ) return SQLITE_OK;
      }
      valueError(o, z, pzErr);
      return SQLITE_ERROR;
    }
    case AT_OPT_CHOICE: {
      const char *zC = o->zChoices;
      int i = 0;
      *(int*)pVal = 0;
      if( z==0 ) return SQLITE_OK;
      while( *zC ){
        int n = (int)strcspn(zC, " ");
        if( (int)strlen(z)==n && sqlite3_strnicmp(z, zC, n)==0 ){
          *(int*)pVal = i;
          return SQLITE_OK;
        }
        zC += n;
        while( *zC==' ' ) zC++;
        i++;
      }
      valueError(o, z, pzErr);
      return SQLITE_ERROR;
    }
  }
  if( z==0 ){
    r = o->rDefault;
  }else{
    char *zEnd = 0;
    r = atStrtod(z, &zEnd);
    /* r!=r: NaN. floor(), not a cast, tests wholeness: casting a double
    ** beyond the integer range is undefined (found by fuzz_options). */
    if( zEnd==z || *zEnd!=0 || r!=r
     || (o->eKind!=AT_OPT_NUMBER && r!=floor(r)) ){
      valueError(o, z, pzErr);
      return SQLITE_ERROR;
    }
    if( r<o->rMin || r>o->rMax ){
      if( o->zNot ){
        valueError(o, z, pzErr);
      }else{
        atSetError(pzErr, "option %s: %s is out of range (%.15g to %.15g %s)%s",
                   o->zName, z, o->rMin, o->rMax, o->zUnit,
                   o->iValue==VAL(cfg.nRatePerSec)
                   ? "; Airtable allows 5 requests per second per base, so "
                     "the limit can only be lowered" : "");
      }
      return SQLITE_ERROR;
    }
  }
  switch( o->eKind ){
    case AT_OPT_INTEGER: *(int*)pVal = (int)r; break;
    case AT_OPT_INT64:   *(sqlite3_int64*)pVal = (sqlite3_int64)r; break;
    default:             *(double*)pVal = r; break;
  }
  return SQLITE_OK;
}

/* Set p->eCache's consequences: AIRTABLE_OFFLINE set to anything but ""
** or "0" turns "on" into "offline" and forbids syncs too (bNoNetwork): for
** a database copied to a machine with no token or network (docs/staging-cache.md). */
static int cacheRules(AtOptions *p, char **pzErr){
  const char *zEnv = getenv("AIRTABLE_OFFLINE");
  if( p->eCache!=AT_CACHE_OFF && zEnv && zEnv[0] && strcmp(zEnv, "0")!=0 ){
    p->eCache = AT_CACHE_OFFLINE;
    p->bNoNetwork = 1;
  }
  if( p->eCache==AT_CACHE_OFF && (p->zMaxAge || p->zSyncOverlap) ){
    atSetError(pzErr, "option %s needs cache='on' (or 'offline')",
               p->zMaxAge ? "max_age" : "sync_overlap");
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
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

int atOptionsFinish(AtOptions *p, int mWhere, char **pzErr){
  int i;
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
  if( p->zTable==0 && (mWhere & AT_OPT_VTAB) ){
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
  /* Each value by its kind and range; the defaults for the rest. */
  for(i=0; i<N_SPEC; i++){
    if( convertValue(p, &aSpec[i], *textSlot(p, &aSpec[i]), pzErr) ){
      return SQLITE_ERROR;
    }
  }
  if( p->zCaFile ){
    /* Opened without blocking (a FIFO must not hang the connection) and
    ** only a regular file taken. */
    struct stat st;
    int fd = open(p->zCaFile, O_RDONLY|O_NONBLOCK|O_CLOEXEC);
    if( fd<0 ){
      atSetError(pzErr, "option ca_file: cannot read '%s': %s", p->zCaFile,
                 strerror(errno));
      return SQLITE_ERROR;
    }
    if( fstat(fd, &st)!=0 || !S_ISREG(st.st_mode) ){
      close(fd);
      atSetError(pzErr, "option ca_file: '%s' is not a regular file", p->zCaFile);
      return SQLITE_ERROR;
    }
    close(fd);
    p->cfg.zCaFile = p->zCaFile;
  }
  if( cacheRules(p, pzErr) ) return SQLITE_ERROR;
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
  for(i=0; i<N_SPEC; i++){
    char **pz = textSlot(p, &aSpec[i]);
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

char *atTokenWhere(const char *zTokenEnv, const char *zTokenFile){
  if( zTokenFile ) return sqlite3_mprintf("token_file '%s'", zTokenFile);
  return sqlite3_mprintf("environment variable %s",
                         zTokenEnv ? zTokenEnv : AT_DEFAULT_TOKEN_ENV);
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
  char *zScheme = 0, *zHost = 0, *zQuery = 0, *zFrag = 0, *zUser = 0, *zPass = 0;
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
  if( curl_url_get(pU, CURLUPART_USER, &zUser, 0)==CURLUE_OK
   || curl_url_get(pU, CURLUPART_PASSWORD, &zPass, 0)==CURLUE_OK ){
    /* The URL is stored, logged and shown in messages: never echo it. */
    atSetError(pzErr, "%s: a URL with a user name or password is refused (it "
               "would be stored in the database file, in airtable_requests "
               "and in messages); give the API root alone, like %s", zWhat,
               AT_DEFAULT_API_URL);
  }else if( zQuery || zFrag ){
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
  curl_free(zUser);
  curl_free(zPass);
  curl_url_cleanup(pU);
  return rc;
}
