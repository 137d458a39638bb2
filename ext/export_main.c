/*
** export_main.c: the airtable-export command. It needs nothing but the
** shared libraries (SQLite, libcurl, cJSON, zlib): no Python, no sqlite3
** shell. It opens an in-memory database, registers the extension (linked
** in) and runs airtable_export() with the options it was given, so the
** command and the SQL function are one code path.
**
**   airtable-export --base appXXXXXXXXXXXXXX --all --out export/
**   airtable-export --base appXXXXXXXXXXXXXX --table 'Packaging Tasks' \
**                   --out export/ --format jsonl --gzip
**
** Exit status: 0 when every table was exported (the manifest is written),
** 1 when the export failed (the message says which table and why), 2 for a
** usage error (an option unknown, missing or wrong), 130 when interrupted
** (Ctrl-C, SIGTERM).
*/
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include <cjson/cJSON.h>
#include "airtable.h"
#include "export.h"
#include "options.h"

static const char zUsage[] =
"usage: airtable-export --base APP_ID (--table NAME ... | --all) --out DIR\n"
"                       [--view NAME] [--format csv|jsonl] [--gzip]\n"
"                       [--names delta|exact] [--concurrency N]\n"
"                       [--partitions N] [--schema-only]\n"
"                       [--from-cache DB [--since-sync N]]\n"
"                       [--progress | --quiet] [connection options]\n"
"\n"
"Exports tables of an Airtable base into DIR: for each table NAME.csv (or\n"
".jsonl, + .gz with --gzip), NAME.schema.json (a Spark StructType) and\n"
"NAME.ddl (the same schema as a Spark DDL string), then _manifest.json.\n"
"\n"
"Options (every option of airtable_export(), with '-' for '_'):\n";

static const char zUsageEnd[] =
"  --quiet                no progress (progress is shown on a terminal)\n"
"  --list-options         every option as JSON, and exit\n"
"\n"
"The token is read from $AIRTABLE_TOKEN unless --token-env or --token-file\n"
"names another place; it is never taken on the command line.\n";

/* The usage: the options from the one option table (options.c). */
static void printUsage(void){
  int n, i;
  const AtOptionSpec *a = atOptionSpecs(&n);
  fputs(zUsage, stdout);
  for(i=0; i<n; i++){
    char zArg[64];
    int k;
    if( (a[i].mWhere & AT_OPT_EXPORT)==0 ) continue;
    snprintf(zArg, sizeof(zArg), "--%s%s%s", a[i].zName,
             a[i].eKind==AT_OPT_FLAG ? "" : a[i].eKind==AT_OPT_TEXT ? " TEXT"
             : a[i].eKind==AT_OPT_CHOICE ? " " : " N",
             a[i].eKind==AT_OPT_CHOICE ? a[i].zChoices : "");
    for(k=0; zArg[k]; k++){
      if( zArg[k]=='_' ) zArg[k] = '-';
      if( k>2 && zArg[k]==' ' && a[i].eKind==AT_OPT_CHOICE
       && strchr(zArg, ' ')!=&zArg[k] ) zArg[k] = '|';
    }
    printf("  %-22s %s", zArg, a[i].zHelp);
    if( a[i].eKind>=AT_OPT_INTEGER && a[i].eKind<=AT_OPT_NUMBER
     && a[i].rDefault>=a[i].rMin ){
      printf(" (%.15g to %.15g; default %.15g)", a[i].rMin, a[i].rMax, a[i].rDefault);
    }
    printf("\n");
  }
  fputs(zUsageEnd, stdout);
}

/* True if --zKey (with '_' for '-') takes no value: the table's flags. */
static int isFlag(const char *zKey){
  const AtOptionSpec *o = atOptionFind(zKey, (int)strlen(zKey));
  return strcmp(zKey, "quiet")==0 || (o && o->eKind==AT_OPT_FLAG);
}

static sqlite3 *volatile pInterruptDb = 0;

static void onSignal(int sig){
  (void)sig;
  if( pInterruptDb ) sqlite3_interrupt(pInterruptDb);
}

/* One line on stderr: what was exported. */
static void printSummary(const char *zManifest){
  cJSON *pManifest = cJSON_Parse(zManifest);
  const cJSON *pTables = cJSON_GetObjectItemCaseSensitive(pManifest, "tables");
  const cJSON *pT, *pRows;
  long long nRows = 0;
  cJSON_ArrayForEach(pT, pTables){
    pRows = cJSON_GetObjectItemCaseSensitive(pT, "rows");
    if( cJSON_IsNumber(pRows) ) nRows += (long long)pRows->valuedouble;
  }
  if( cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
          cJSON_GetObjectItemCaseSensitive(pManifest, "options"), "schema_only")) ){
    fprintf(stderr, "airtable-export: wrote the schemas of %d table%s; the "
            "manifest is _manifest.json in the output directory\n",
            cJSON_GetArraySize(pTables), cJSON_GetArraySize(pTables)==1 ? "" : "s");
  }else{
    fprintf(stderr, "airtable-export: exported %d table%s, %lld rows; the "
            "manifest is _manifest.json in the output directory\n",
            cJSON_GetArraySize(pTables), cJSON_GetArraySize(pTables)==1 ? "" : "s",
            nRows);
  }
  cJSON_Delete(pManifest);
}

static int usageError(const char *zFmt, ...){
  va_list ap;
  fprintf(stderr, "airtable-export: ");
  va_start(ap, zFmt);
  vfprintf(stderr, zFmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'airtable-export --help'.\n");
  return 2;
}

/* Turn the command line into key=value options in azOpt[] (*pnOpt of
** them, sqlite3_malloc'd). Returns -1 to go on, or the exit status. */
static int parseArgs(int argc, char **argv, char **azOpt, int *pnOpt){
  int nOpt = 0, i, bQuiet = 0, bProgress = -1;
  for(i=1; i<argc; i++){
    const char *zArg = argv[i];
    char *zKey, *zVal = 0, *z;
    int bFlag = 0, rc = -1;
    if( strcmp(zArg, "--help")==0 || strcmp(zArg, "-h")==0 ){
      printUsage();
      return 0;
    }
    if( strcmp(zArg, "--list-options")==0 ){
      char *zJson = atOptionsJson();
      if( zJson==0 ) return 1;
      printf("%s\n", zJson);
      sqlite3_free(zJson);
      return 0;
    }
    if( strcmp(zArg, "--version")==0 ){
      printf("airtable-export %s\n", AIRTABLE_SQLITE_VERSION);
      return 0;
    }
    if( strncmp(zArg, "--", 2)!=0 || zArg[2]==0 ){
      return usageError("unexpected argument '%s'", zArg);
    }
    zKey = sqlite3_mprintf("%s", zArg+2);
    if( zKey==0 ) return 1;
    if( (z = strchr(zKey, '='))!=0 ){
      *z = 0;
      zVal = z+1;
    }
    for(z=zKey; *z; z++) if( *z=='-' ) *z = '_';
    bFlag = isFlag(zKey);
    if( bFlag && zVal ){
      rc = usageError("--%s takes no value", zKey);
    }else if( strcmp(zKey, "quiet")==0 ){
      bQuiet = 1;
    }else if( strcmp(zKey, "progress")==0 ){
      bProgress = 1;
    }else if( strcmp(zKey, "token")==0 ){
      rc = usageError("--token is refused: a command line is visible to "
          "every user of the machine (ps); put the token in $AIRTABLE_TOKEN, "
          "or name a variable with --token-env or a file with --token-file");
    }else{
      if( bFlag ){
        zVal = "1";
      }else if( zVal==0 && i+1<argc ){
        zVal = argv[++i];
      }
      if( zVal==0 ){
        rc = usageError("--%s needs a value", zKey);
      }else{
        azOpt[nOpt] = sqlite3_mprintf("%s=%s", zKey, zVal);
        *pnOpt = ++nOpt;
        if( azOpt[nOpt-1]==0 ) rc = 1;
      }
    }
    sqlite3_free(zKey);
    if( rc>=0 ) return rc;
  }
  if( bQuiet && bProgress==1 ){
    return usageError("--progress and --quiet exclude each other");
  }
  /* Progress by default only for a person watching a terminal. */
  if( bProgress<0 ) bProgress = !bQuiet && isatty(2);
  azOpt[nOpt] = sqlite3_mprintf("progress=%d", bProgress);
  *pnOpt = ++nOpt;
  if( azOpt[nOpt-1]==0 ) return 1;
  return bQuiet ? -2 : -1;
}

int main(int argc, char **argv){
  char **azOpt = calloc((size_t)argc + 4, sizeof(char*));
  int nOpt = 0, i, rc, bQuiet;
  sqlite3 *db = 0;
  sqlite3_stmt *pStmt = 0;
  sqlite3_str *pSql;
  char *zSql, *zErr = 0;
  struct sigaction sa;

  if( azOpt==0 ) return 1;
  rc = parseArgs(argc, argv, azOpt, &nOpt);
  if( rc>=0 ) goto done;
  bQuiet = rc==-2;

  atExportSetProgramName("airtable-export");  /* every line names the command */
  if( sqlite3_open(":memory:", &db)!=SQLITE_OK
   || sqlite3_airtable_init(db, &zErr, 0)!=SQLITE_OK ){
    fprintf(stderr, "airtable-export: %s\n", zErr ? zErr : sqlite3_errmsg(db));
    sqlite3_free(zErr);
    rc = 1;
    goto done;
  }
  pSql = sqlite3_str_new(db);
  sqlite3_str_appendall(pSql, "SELECT airtable_export(");
  for(i=0; i<nOpt; i++) sqlite3_str_appendall(pSql, i ? ", ?" : "?");
  sqlite3_str_appendall(pSql, ")");
  zSql = sqlite3_str_finish(pSql);
  rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &pStmt, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  for(i=0; rc==SQLITE_OK && i<nOpt; i++){
    rc = sqlite3_bind_text(pStmt, i+1, azOpt[i], -1, SQLITE_STATIC);
  }
  if( rc!=SQLITE_OK ){
    fprintf(stderr, "airtable-export: %s\n", sqlite3_errmsg(db));
    rc = 1;
    goto done;
  }

  /* Ctrl-C and SIGTERM stop the export: it removes what it had not
  ** finished. A second Ctrl-C kills at once. */
  pInterruptDb = db;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = onSignal;
  sa.sa_flags = SA_RESETHAND;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, 0);
  sigaction(SIGTERM, &sa, 0);

  rc = sqlite3_step(pStmt);
  pInterruptDb = 0;
  if( rc==SQLITE_ROW ){
    if( !bQuiet ) printSummary((const char*)sqlite3_column_text(pStmt, 0));
    rc = 0;
  }else{
    const char *zMsg = sqlite3_errmsg(db);
    fprintf(stderr, "airtable-export: %s\n", zMsg);
    if( sqlite3_extended_errcode(db)==SQLITE_INTERRUPT ){
      rc = 130;
    }else if( strncmp(zMsg, "airtable: unknown option ", 25)==0
           || strncmp(zMsg, "airtable: option ", 17)==0
           || strncmp(zMsg, "airtable: options ", 18)==0 ){
      rc = 2;            /* the options given were wrong: a usage error */
    }else{
      rc = 1;
    }
  }

done:
  sqlite3_finalize(pStmt);
  sqlite3_close(db);
  for(i=0; i<nOpt; i++) sqlite3_free(azOpt[i]);
  free(azOpt);
  return rc;
}
