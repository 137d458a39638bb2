/*
** export.c: airtable_export(), the export of a base's tables to files Spark
** reads with an exact schema: for each table DIR/<name>.csv (or .jsonl,
** optionally gzipped), DIR/<name>.schema.json (StructType JSON) and
** DIR/<name>.ddl, then DIR/_manifest.json last, only when every table is
** complete.
**
**   SELECT airtable_export('base=appXXXXXXXXXXXXXX', 'out=export', 'all=1');
**   SELECT airtable_export('base=appXXXXXXXXXXXXXX', 'out=export',
**                          'table=Packaging Tasks', 'format=jsonl', 'gzip=1');
**
** Every argument is one key=value option (docs/sql-reference.md, "Export options").
** The function returns the manifest as JSON text. The airtable-export
** command (export_main.c) is a thin shell around it.
**
** Tables are exported by worker threads, several at once, each with its own
** libcurl handle; every request goes through atHttpDo(), so the process-wide
** limiter keeps the whole export within the base's 5 requests per second and
** the connection's airtable_requests sees each request. Rows stream from
** each page to the file: memory holds one page per worker. The calling
** thread coordinates: it waits for the workers, watches for
** sqlite3_interrupt() (a worker must not touch the database connection)
** and prints progress. A failure or an interrupt stops every worker; files
** of tables that had completed stay, the rest leave nothing behind, and no
** manifest is written.
*/
#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "buf.h"
#include "cache.h"
#include "context.h"
#include "http.h"
#include "listing.h"
#include "names.h"
#include "options.h"
#include "partition.h"
#include "schema.h"
#include "spark.h"
#include "util.h"
#include "writer.h"
#include "export.h"

#define AT_EXPORT_FLUSH               (64*1024)   /* bytes buffered per write */
#define AT_MANIFEST                   "_manifest.json"

/* Table states, as the coordinator sees them. */
#define TS_WAITING 0
#define TS_RUNNING 1
#define TS_DONE    2
#define TS_FAILED  3

typedef struct ExportTable ExportTable;
struct ExportTable {
  const cJSON *pMeta;        /* the table's metadata (in Export.pMeta) */
  AtSchema schema;           /* table id, view id, fields */
  AtSparkSchema spark;       /* the columns written */
  char *zFile;               /* file name stem, unique in the base */
  char *zDataFile;           /* "<stem>.csv", ".jsonl", + ".gz" */
  sqlite3_int64 *anUntyped;  /* per column: values that could not be typed */
  sqlite3_int64 nPrevRows;   /* rows in the last manifest in DIR, or -1 */
  int iCache;                /* with from_cache: index in Export.src */
  int nPart;                 /* parts listed at once (partition.c) */
  /* The data file, shared by the table's parts under fileMutex. */
  pthread_mutex_t fileMutex;
  AtOutFile out;             /* open from the first part's start to commit */
  int bOpen;                 /* out is open (not yet committed or removed) */
  /* Written by the workers under Export.mutex, read by the coordinator. */
  int eState;                /* TS_* */
  int nPartDone;             /* parts finished */
  sqlite3_int64 nRows;       /* rows written so far */
  AtHttpStats stats;         /* requests and waits so far */
  double rStart, rEnd;       /* wall-clock seconds */
  char *zErr;                /* why it failed */
};

typedef struct Export Export;
struct Export {
  /* Options. */
  AtOptions conn;            /* every option but table= (options.h) */
  char **azTable;            /* table=: names or ids, in the order given */
  int nTableArg;
  AtCacheSource src;         /* with from_cache: the caches */
  int fdLock;                /* DIR/.airtable-export.lock, held (flock) for
                             ** the export's length; -1 when not held */
  int bCreatedDir;           /* this export made DIR (removed if it fails) */
  char *zOwned;              /* the files the old export in DIR owned, one a
                             ** line (checkDir), or NULL */
  /* The run. */
  char *zToken;              /* wiped and freed at the end */
  char *zLimitKey;           /* the base's rate limiter key */
  char *zTokenWhere;         /* where the token was read (atTokenWhere) */
  AtContext *pCtx;           /* request log of the calling connection */
  cJSON *pMeta;              /* the base's tables metadata */
  int nTable;
  ExportTable *aTable;       /* the tables to export, in order */
  double rStart;             /* wall-clock start */
  pthread_mutex_t mutex;     /* guards what workers and coordinator share */
  pthread_cond_t cond;       /* signalled when a worker finishes a table */
  int nTask;                 /* a task is one part of one table */
  int iNext;                 /* next task a worker takes */
  int nLive;                 /* workers still running */
  int bAbort;                /* stop: interrupted, or a table failed */
  int iFirstFailed;          /* the table whose failure stopped the rest, or -1 */
  locale_t cLocale;          /* "C" (atCLocale), for numbers in workers */
};

/* The name progress lines start with: the SQL function's, or the
** command's once it says so (atExportSetProgramName), so that one run's
** lines all name one program. */
static const char *zProgName = "airtable_export";

void atExportSetProgramName(const char *zName){
  zProgName = zName;
}

/* ---- options ----------------------------------------------------------- */

/* The options (options.c has the table); table= repeats, so the export
** keeps that list itself. */
static int exportParse(Export *p, int nArg, sqlite3_value **apArg,
                       char **pzErr){
  AtOptions *o = &p->conn;
  int i;
  for(i=0; i<nArg; i++){
    const char *zArg = (const char*)sqlite3_value_text(apArg[i]);
    const char *zKey;
    char *zVal = 0;
    int nKey, rc;
    if( zArg==0 ){
      atSetError(pzErr, "airtable_export: argument %d is NULL; each argument "
                 "is one key=value option", i+1);
      return SQLITE_ERROR;
    }
    rc = atOptionSplit(zArg, i+1, &zKey, &nKey, &zVal, pzErr);
    if( rc==SQLITE_OK && nKey==5 && sqlite3_strnicmp(zKey, "table", 5)==0 ){
      char **azNew = sqlite3_realloc64(p->azTable, sizeof(char*)*(p->nTableArg+1));
      if( azNew==0 ){
        rc = SQLITE_NOMEM;
      }else{
        p->azTable = azNew;
        p->azTable[p->nTableArg++] = zVal;
        zVal = 0;
      }
    }else if( rc==SQLITE_OK ){
      rc = atOptionsSet(o, AT_OPT_EXPORT, zKey, nKey, &zVal, pzErr);
      if( rc==SQLITE_NOTFOUND ) rc = atOptionsUnknown(AT_OPT_EXPORT, zKey, nKey, pzErr);
    }
    sqlite3_free(zVal);
    if( rc!=SQLITE_OK ) return rc;
  }
  if( atOptionsFinish(o, AT_OPT_EXPORT, pzErr) ) return SQLITE_ERROR;
  if( o->iSinceSync>=0 && o->zFromCache==0 ){
    atSetError(pzErr, "option since_sync needs from_cache= (sync numbers are "
               "a cache's)");
    return SQLITE_ERROR;
  }
  if( o->zFromCache && (o->zView || o->nPartition>1) ){
    atSetError(pzErr, "options from_cache and %s exclude each other: a cache "
               "holds the view it was declared with, and is read locally",
               o->zView ? "view" : "partitions");
    return SQLITE_ERROR;
  }
  if( o->zOut==0 ){
    atSetError(pzErr, "option out is required (the directory to write)");
    return SQLITE_ERROR;
  }
  if( o->bAll==(p->nTableArg>0) ){
    atSetError(pzErr, o->bAll ? "options all and table exclude each other"
               : "options table and all: name the tables to export with "
                 "table= (once per table), or all=1 for every table of the base");
    return SQLITE_ERROR;
  }
  if( o->zView && p->nTableArg!=1 ){
    atSetError(pzErr, "option view needs exactly one table= (a view belongs "
               "to one table)");
    return SQLITE_ERROR;
  }
  if( o->zView && o->nPartition>1 ){
    atSetError(pzErr, "options view and partitions exclude each other: parts "
               "listed at once would lose the view's order");
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* ---- the output directory ---------------------------------------------- */

/* The lock an export holds on its directory, hidden (Spark and a person
** skip names starting with '.'), removed as the export ends. */
#define AT_EXPORT_LOCK ".airtable-export.lock"

/* Create DIR if it does not exist (its parent must). *pbCreated: it was. */
static int prepareDir(const char *zDir, int *pbCreated, char **pzErr){
  struct stat st;
  *pbCreated = 0;
  if( stat(zDir, &st)==0 ){
    if( !S_ISDIR(st.st_mode) ){
      atSetError(pzErr, "option out: '%s' is not a directory", zDir);
      return SQLITE_ERROR;
    }
  }else if( mkdir(zDir, 0777)!=0 ){
    atSetError(pzErr, "option out: cannot create directory '%s': %s", zDir,
               strerror(errno));
    return SQLITE_ERROR;
  }else{
    *pbCreated = 1;
  }
  if( access(zDir, W_OK|X_OK)!=0 ){
    atSetError(pzErr, "option out: cannot write in '%s': %s", zDir,
               strerror(errno));
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* Take DIR's lock for the export's length: a second export into the same
** directory fails at once instead of writing over this one's files. The
** lock is the kernel's (flock), so a killed export never leaves it held. */
static int lockDir(Export *p, char **pzErr){
  char *zPath = sqlite3_mprintf("%s/%s", p->conn.zOut, AT_EXPORT_LOCK);
  int nTry;
  if( zPath==0 ) return SQLITE_NOMEM;
  for(nTry=0; nTry<10; nTry++){
    struct stat a, b;
    p->fdLock = open(zPath, O_RDWR|O_CREAT|O_CLOEXEC|O_NOFOLLOW, 0600);
    if( p->fdLock<0 ){
      atSetError(pzErr, "option out: cannot open the lock '%s': %s", zPath,
                 strerror(errno));
      sqlite3_free(zPath);
      return SQLITE_ERROR;
    }
    if( flock(p->fdLock, LOCK_EX|LOCK_NB)!=0 ){
      int bBusy = errno==EWOULDBLOCK;
      atSetError(pzErr, bBusy
          ? "option out: another export is writing into '%s' (it holds %s); "
            "wait for it to end, or write into another directory"
          : "option out: cannot lock '%s' (%s): %s", p->conn.zOut, zPath,
          strerror(errno));
      close(p->fdLock);
      p->fdLock = -1;
      sqlite3_free(zPath);
      return SQLITE_ERROR;
    }
    /* The export that held it removes the file as it ends (unlockDir):
    ** locked, it must still be the file at that name, or take the new one. */
    if( fstat(p->fdLock, &a)==0 && stat(zPath, &b)==0
     && a.st_dev==b.st_dev && a.st_ino==b.st_ino ){
      sqlite3_free(zPath);
      return SQLITE_OK;
    }
    close(p->fdLock);
    p->fdLock = -1;
  }
  atSetError(pzErr, "option out: cannot lock '%s': its lock file keeps "
             "changing", p->conn.zOut);
  sqlite3_free(zPath);
  return SQLITE_ERROR;
}

/* Release the lock and remove its file (before closing it, so nobody
** locks a file that is about to go: lockDir checks). */
static void unlockDir(Export *p){
  char *zPath;
  if( p->fdLock<0 ) return;
  zPath = sqlite3_mprintf("%s/%s", p->conn.zOut, AT_EXPORT_LOCK);
  if( zPath ) unlink(zPath);
  sqlite3_free(zPath);
  close(p->fdLock);
  p->fdLock = -1;
}

/* True if zName is the name of a temporary file an export writes
** (".NAME.tmp-PID-N"): under the lock, one left by an export that died. */
static int isTempName(const char *zName){
  const char *zTmp = strstr(zName, ".tmp-");
  char *zEnd = 0;
  if( zName[0]!='.' || zTmp==0 ) return 0;
  if( strtol(zTmp+5, &zEnd, 10)<=0 || *zEnd!='-' ) return 0;
  return 1;
}

/* The hidden list of every file an export has made or will make in DIR,
** kept until its manifest is written: what a failed export leaves, a later
** replace=1 knows to be an export's, and nothing else is ever removed. */
#define AT_EXPORT_FILES ".airtable-export.files"

/* Add the file names an export in DIR owns to *pNames: those its manifest
** lists and those its journal lists. A file it cannot read owns nothing. */
static int readOwned(Export *p, const char *zName, int bJournal, AtBuf *pNames){
  char *zPath = sqlite3_mprintf("%s/%s", p->conn.zOut, zName);
  FILE *f;
  char *zText;
  size_t n;
  int fd;
  struct stat st;
  if( zPath==0 ) return SQLITE_NOMEM;
  /* Without blocking, and a regular file only: a FIFO of that name must
  ** not hang the export (checkDir then refuses it). */
  fd = open(zPath, O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_NOFOLLOW);
  sqlite3_free(zPath);
  if( fd<0 ) return SQLITE_OK;
  if( fstat(fd, &st)!=0 || !S_ISREG(st.st_mode) || (f = fdopen(fd, "rb"))==0 ){
    close(fd);
    return SQLITE_OK;
  }
  zText = sqlite3_malloc64(1<<20);
  n = zText ? fread(zText, 1, (1<<20)-1, f) : 0;
  fclose(f);
  if( zText==0 ) return SQLITE_NOMEM;
  zText[n] = 0;
  if( bJournal ){
    atBufAppendStr(pNames, zText);           /* one name a line */
  }else{
    cJSON *pOld = cJSON_Parse(zText), *pT;
    static const char *const azKey[] = { "data_file", "schema_file", "ddl_file" };
    cJSON_ArrayForEach(pT, cJSON_GetObjectItemCaseSensitive(pOld, "tables")){
      int k;
      for(k=0; k<3; k++){
        const cJSON *pF = cJSON_GetObjectItemCaseSensitive(pT, azKey[k]);
        if( cJSON_IsString(pF) && strchr(pF->valuestring, '/')==0 ){
          atBufAppendStr(pNames, pF->valuestring);
          atBufAppendChar(pNames, '\n');
        }
      }
    }
    cJSON_Delete(pOld);
  }
  sqlite3_free(zText);
  return pNames->bOom ? SQLITE_NOMEM : SQLITE_OK;
}

/* True if zName is a line of the list zList. */
static int inList(const char *zList, const char *zName){
  size_t n = strlen(zName);
  const char *z = zList ? zList : "";
  while( *z ){
    const char *zEnd = strchr(z, '\n');
    size_t m = zEnd ? (size_t)(zEnd - z) : strlen(z);
    if( m==n && memcmp(z, zName, n)==0 ) return 1;
    z += m + (zEnd!=0);
  }
  return 0;
}

/* An export directory holds one export. DIR may be empty (or hold only
** the lock, the journal and temporary files of an export that died);
** anything else is another export, refused unless replace=1, and then
** only if every file in it is one an export there owns (its manifest's or
** its journal's: nothing else is ever removed). Only regular files. Keeps
** the names the old export owns in p->zOwned, for removeLeftovers. */
static int checkDir(Export *p, char **pzErr){
  DIR *d;
  struct dirent *e;
  AtBuf owned;
  char *zFirst = 0, *zForeign = 0, *zOdd = 0;
  int bManifest = 0, rc;
  memset(&owned, 0, sizeof(owned));
  rc = readOwned(p, AT_MANIFEST, 0, &owned);
  if( rc==SQLITE_OK ) rc = readOwned(p, AT_EXPORT_FILES, 1, &owned);
  if( rc!=SQLITE_OK ){
    atBufClear(&owned);
    return rc;
  }
  d = opendir(p->conn.zOut);
  if( d==0 ){
    atSetError(pzErr, "option out: cannot read '%s': %s", p->conn.zOut,
               strerror(errno));
    atBufClear(&owned);
    return SQLITE_ERROR;
  }
  while( (e = readdir(d))!=0 ){
    const char *z = e->d_name;
    struct stat st;
    char *zPath;
    if( strcmp(z, ".")==0 || strcmp(z, "..")==0 || strcmp(z, AT_EXPORT_LOCK)==0 ) continue;
    /* A FIFO named _manifest.json would hang the read of it, a link would
    ** write through to elsewhere: only regular files. */
    zPath = sqlite3_mprintf("%s/%s", p->conn.zOut, z);
    if( zOdd==0 && zPath && lstat(zPath, &st)==0 && !S_ISREG(st.st_mode) ){
      zOdd = atStrdup(z);
    }
    sqlite3_free(zPath);
    if( isTempName(z) ) continue;               /* removed below, if all is well */
    if( strcmp(z, AT_MANIFEST)==0 ) bManifest = 1;
    if( zFirst==0 ) zFirst = atStrdup(z);
    if( zForeign==0 && strcmp(z, AT_MANIFEST)!=0 && strcmp(z, AT_EXPORT_FILES)!=0
     && !inList(owned.z, z) ){
      zForeign = atStrdup(z);
    }
  }
  closedir(d);
  if( zOdd ){
    atSetError(pzErr, "option out: '%s' holds '%s', which is not a regular "
               "file (a directory, a link, a FIFO...); an export writes only "
               "among regular files: write into a new directory",
               p->conn.zOut, zOdd);
    rc = SQLITE_ERROR;
  }else if( zFirst && !p->conn.bReplace ){
    if( bManifest ){
      atSetError(pzErr, "option out: '%s' holds another export (its %s): give "
                 "replace=1 (--replace) to replace it whole, or write into a "
                 "new directory", p->conn.zOut, AT_MANIFEST);
    }else{
      atSetError(pzErr, "option out: '%s' is not empty (it holds '%s'): an "
                 "export writes into an empty or new directory, or replaces "
                 "an export's files there with replace=1 (--replace)",
                 p->conn.zOut, zFirst);
    }
    rc = SQLITE_ERROR;
  }else if( zForeign ){
    atSetError(pzErr, "option replace: '%s' holds '%s', which no export "
               "there wrote; nothing was replaced: move it away, or write into "
               "a new directory", p->conn.zOut, zForeign);
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_OK ){
    /* Now, and only now: the temporary files of an export that died. */
    d = opendir(p->conn.zOut);
    while( d && (e = readdir(d))!=0 ){
      if( isTempName(e->d_name) ){
        char *zPath = sqlite3_mprintf("%s/%s", p->conn.zOut, e->d_name);
        if( zPath ) unlink(zPath);
        sqlite3_free(zPath);
      }
    }
    if( d ) closedir(d);
    p->zOwned = owned.z;
    owned.z = 0;
  }
  atBufClear(&owned);
  sqlite3_free(zFirst);
  sqlite3_free(zForeign);
  sqlite3_free(zOdd);
  return rc;
}

/* The new export's file names, one a line. NULL on OOM. */
static char *newNames(Export *p){
  AtBuf b;
  int i;
  memset(&b, 0, sizeof(b));
  for(i=0; i<p->nTable; i++){
    const ExportTable *t = &p->aTable[i];
    if( !p->conn.bSchemaOnly ){
      atBufAppendStr(&b, t->zDataFile);
      atBufAppendChar(&b, '\n');
    }
    atBufAppendStr(&b, t->zFile);
    atBufAppendStr(&b, ".schema.json\n");
    atBufAppendStr(&b, t->zFile);
    atBufAppendStr(&b, ".ddl\n");
  }
  if( b.bOom || b.z==0 ){
    atBufClear(&b);
    return b.bOom ? 0 : atStrdup("");
  }
  return b.z;
}

/* Before any file is written: the journal lists what the old export owned
** and what this one will write, so that whatever is left if it fails, a
** later replace=1 may remove, and nothing else. */
static int writeJournal(Export *p, char **pzErr){
  char *zNew = newNames(p), *zText;
  int rc;
  if( zNew==0 ) return SQLITE_NOMEM;
  zText = sqlite3_mprintf("%s%s", p->zOwned ? p->zOwned : "", zNew);
  sqlite3_free(zNew);
  if( zText==0 ) return SQLITE_NOMEM;
  rc = atWriteFileAtomic(p->conn.zOut, AT_EXPORT_FILES, zText, pzErr);
  sqlite3_free(zText);
  return rc;
}

/* Once the new export's files are in place and before its manifest:
** remove every file the old export owned that the new one did not write,
** so DIR holds nothing the new manifest does not list. */
static int removeLeftovers(Export *p, char **pzErr){
  char *zNew = newNames(p);
  const char *z = p->zOwned ? p->zOwned : "";
  int rc = SQLITE_OK;
  if( zNew==0 ) return SQLITE_NOMEM;
  while( rc==SQLITE_OK && *z ){
    const char *zEnd = strchr(z, '\n');
    size_t m = zEnd ? (size_t)(zEnd - z) : strlen(z);
    char *zName = sqlite3_mprintf("%.*s", (int)m, z);
    char *zPath = zName ? sqlite3_mprintf("%s/%s", p->conn.zOut, zName) : 0;
    if( zPath==0 ){
      rc = SQLITE_NOMEM;
    }else if( zName[0] && !inList(zNew, zName) && strcmp(zName, AT_MANIFEST)!=0
           && unlink(zPath)!=0 && errno!=ENOENT ){
      atSetError(pzErr, "cannot remove '%s', a file of the export replaced: %s",
                 zPath, strerror(errno));
      rc = SQLITE_ERROR;
    }
    sqlite3_free(zName);
    sqlite3_free(zPath);
    z += m + (zEnd!=0);
  }
  sqlite3_free(zNew);
  return rc;
}

/* After the manifest: it lists every file, the journal is no longer needed. */
static void removeJournal(Export *p){
  char *zPath = sqlite3_mprintf("%s/%s", p->conn.zOut, AT_EXPORT_FILES);
  if( zPath ) unlink(zPath);
  sqlite3_free(zPath);
}

/* After a failed export: if it left nothing but its journal (no table was
** complete), the journal goes too; and a directory it made goes if empty.
** Tables that were complete stay, listed by the journal for a replace. */
static void cleanupFailed(Export *p){
  DIR *d = opendir(p->conn.zOut);
  struct dirent *e;
  int nOther = 0;
  while( d && (e = readdir(d))!=0 ){
    if( strcmp(e->d_name, ".") && strcmp(e->d_name, "..")
     && strcmp(e->d_name, AT_EXPORT_FILES) ) nOther++;
  }
  if( d ) closedir(d);
  if( nOther==0 ){
    removeJournal(p);
    if( p->bCreatedDir ) rmdir(p->conn.zOut);
  }
}

/* Read the last manifest in DIR (for estimates of what is left), then
** remove it: from now until a new one is written, DIR holds no manifest,
** so nothing claims tables that are being rewritten. */
static int takeOldManifest(Export *p, char **pzErr){
  char *zPath = sqlite3_mprintf("%s/%s", p->conn.zOut, AT_MANIFEST);
  FILE *f;
  int i;
  for(i=0; i<p->nTable; i++) p->aTable[i].nPrevRows = -1;
  if( zPath==0 ) return SQLITE_NOMEM;
  f = fopen(zPath, "rb");
  if( f ){
    char *zText = sqlite3_malloc64(1<<20);
    size_t n = zText ? fread(zText, 1, (1<<20)-1, f) : 0;
    cJSON *pOld;
    fclose(f);
    if( zText ){
      const cJSON *pT;
      zText[n] = 0;
      pOld = cJSON_Parse(zText);
      cJSON_ArrayForEach(pT, cJSON_GetObjectItemCaseSensitive(pOld, "tables")){
        const cJSON *pFile = cJSON_GetObjectItemCaseSensitive(pT, "file_name");
        const cJSON *pRows = cJSON_GetObjectItemCaseSensitive(pT, "rows");
        for(i=0; i<p->nTable && cJSON_IsString(pFile) && cJSON_IsNumber(pRows); i++){
          if( strcmp(p->aTable[i].zFile, pFile->valuestring)==0 ){
            p->aTable[i].nPrevRows = (sqlite3_int64)pRows->valuedouble;
          }
        }
      }
      cJSON_Delete(pOld);
      sqlite3_free(zText);
    }
    if( unlink(zPath)!=0 ){
      atSetError(pzErr, "cannot remove the old manifest '%s': %s", zPath,
                 strerror(errno));
      sqlite3_free(zPath);
      return SQLITE_ERROR;
    }
  }
  sqlite3_free(zPath);
  return SQLITE_OK;
}

/* ---- the tables -------------------------------------------------------- */

/* Fill p->aTable from the metadata: the tables named, or all of them. File
** names are made unique over every table of the base, in base order, so a
** table's file name does not depend on which others are exported. */
static int chooseTables(Export *p, char **pzErr){
  const cJSON *pTables = cJSON_GetObjectItemCaseSensitive(p->pMeta, "tables");
  int nBase = cJSON_GetArraySize(pTables), i, j, rc = SQLITE_NOMEM;
  char **azStem = sqlite3_malloc64(sizeof(char*)*(nBase+1));
  char **azFile = sqlite3_malloc64(sizeof(char*)*(nBase+1));
  const cJSON *pT;

  if( azStem==0 || azFile==0 ) goto done;
  memset(azStem, 0, sizeof(char*)*(nBase+1));
  memset(azFile, 0, sizeof(char*)*(nBase+1));
  i = 0;
  cJSON_ArrayForEach(pT, pTables){
    const cJSON *pName = cJSON_GetObjectItemCaseSensitive(pT, "name");
    azStem[i] = atTableFileName(cJSON_IsString(pName) ? pName->valuestring : "");
    if( azStem[i++]==0 ) goto done;
  }
  if( atUniqueNames(nBase, (const char *const*)azStem, 0, 0, azFile) ) goto done;

  p->nTable = p->conn.bAll ? nBase : p->nTableArg;
  p->aTable = sqlite3_malloc64(sizeof(ExportTable)*(p->nTable+1));
  if( p->aTable==0 ) goto done;
  memset(p->aTable, 0, sizeof(ExportTable)*(p->nTable+1));
  for(i=0; i<p->nTable; i++){
    ExportTable *t = &p->aTable[i];
    int iBase = i;
    if( !p->conn.bAll ){
      const cJSON *pFound = atMetaFindTable(pTables, p->azTable[i]);
      if( pFound==0 ){
        char *zList = atNameList(pTables);
        if( p->conn.zFromCache ){
          atSetError(pzErr, "option table: the cache in '%s' has no table '%s' "
                     "of base %s (cached tables: %s)", p->conn.zFromCache,
                     p->azTable[i], p->conn.zBase, zList ? zList : "?");
        }else{
          atSetError(pzErr, "option table: base %s has no table '%s' (tables: %s)",
                     p->conn.zBase, p->azTable[i], zList ? zList : "?");
        }
        sqlite3_free(zList);
        rc = SQLITE_ERROR;
        goto done;
      }
      iBase = 0;
      cJSON_ArrayForEach(pT, pTables){
        if( pT==pFound ) break;
        iBase++;
      }
      for(j=0; j<i; j++){
        if( p->aTable[j].pMeta==pFound ){
          atSetError(pzErr, "option table: table '%s' is named more than once",
                     p->aTable[j].schema.zTableName);
          rc = SQLITE_ERROR;
          goto done;
        }
      }
    }
    t->pMeta = cJSON_GetArrayItem(pTables, iBase);
    t->nPart = p->conn.nPartition;
    t->out.fd = -1;
    t->iCache = iBase;
    pthread_mutex_init(&t->fileMutex, 0);
    rc = atSchemaBuild(t->pMeta, p->conn.zFromCache ? p->src.azView[iBase] : p->conn.zView,
                       &t->schema, pzErr);
    if( rc!=SQLITE_OK ) goto done;
    rc = SQLITE_NOMEM;
    if( atSparkSchemaBuild(t->pMeta, &t->schema, p->conn.bJsonl, p->conn.bExactNames,
                           &t->spark) ){
      goto done;
    }
    t->zFile = azFile[iBase];
    azFile[iBase] = 0;
    t->zDataFile = sqlite3_mprintf("%s.%s%s", t->zFile,
                                   p->conn.bJsonl ? "jsonl" : "csv",
                                   p->conn.bGzip ? ".gz" : "");
    t->anUntyped = sqlite3_malloc64(sizeof(sqlite3_int64)*(t->spark.nCol+1));
    if( t->zDataFile==0 || t->anUntyped==0 ) goto done;
    memset(t->anUntyped, 0, sizeof(sqlite3_int64)*(t->spark.nCol+1));
  }
  rc = SQLITE_OK;

done:
  for(i=0; i<nBase; i++){
    if( azStem ) sqlite3_free(azStem[i]);
    if( azFile ) sqlite3_free(azFile[i]);
  }
  sqlite3_free(azStem);
  sqlite3_free(azFile);
  return rc;
}

/* ---- the workers ------------------------------------------------------- */

/* The abort hook of a worker's connection. */
static int shouldStop(void *pArg){
  return __atomic_load_n(&((Export*)pArg)->bAbort, __ATOMIC_RELAXED);
}

/* Add to *pTo what *pNow has beyond *pLast, and remember *pNow in *pLast. */
static void addStats(AtHttpStats *pTo, const AtHttpStats *pNow, AtHttpStats *pLast){
  pTo->nRequests += pNow->nRequests - pLast->nRequests;
  pTo->nAttempts += pNow->nAttempts - pLast->nAttempts;
  pTo->nRetries += pNow->nRetries - pLast->nRetries;
  pTo->nWaitMs += pNow->nWaitMs - pLast->nWaitMs;
  *pLast = *pNow;
}

/* Open the table's data file (temporary name) and write the CSV header,
** unless another part did already. */
static int openData(Export *p, ExportTable *t, char **pzErr){
  int rc = SQLITE_OK;
  pthread_mutex_lock(&t->fileMutex);
  if( !t->bOpen ){
    rc = atOutOpen(&t->out, p->conn.zOut, t->zDataFile, p->conn.bGzip, pzErr);
    if( rc==SQLITE_OK ){
      t->bOpen = 1;
      if( !p->conn.bJsonl ){
        AtBuf hdr;
        memset(&hdr, 0, sizeof(hdr));
        atCsvHeader(&hdr, &t->spark);
        rc = hdr.bOom ? SQLITE_NOMEM : atOutWrite(&t->out, hdr.z, hdr.n, pzErr);
        atBufClear(&hdr);
      }
    }
  }
  pthread_mutex_unlock(&t->fileMutex);
  return rc;
}

/* Write the rows in *pBuf to the table's file and add this part's untyped
** counts to the table's; both are emptied. */
static int flushRows(ExportTable *t, AtBuf *pBuf, sqlite3_int64 *anUntyped,
                     char **pzErr){
  int rc, i;
  if( pBuf->bOom ) return SQLITE_NOMEM;
  pthread_mutex_lock(&t->fileMutex);
  rc = atOutWrite(&t->out, pBuf->z, pBuf->n, pzErr);
  for(i=0; i<t->spark.nCol; i++){
    t->anUntyped[i] += anUntyped[i];
    anUntyped[i] = 0;
  }
  pthread_mutex_unlock(&t->fileMutex);
  pBuf->n = 0;
  return rc;
}

/* List part iPart of table t and write its rows. */
static int exportPart(Export *p, ExportTable *t, int iPart, AtHttp *pHttp,
                      char **pzErr){
  AtListing list;
  AtBuf buf;
  AtHttpStats now, last;
  sqlite3_int64 *anUntyped, nReported = 0;
  char *zFormula = atPartitionFormula(iPart, t->nPart);
  int rc;

  memset(&buf, 0, sizeof(buf));
  memset(&last, 0, sizeof(last));
  anUntyped = sqlite3_malloc64(sizeof(sqlite3_int64)*(t->spark.nCol+1));
  rc = atListingInit(&list, pHttp, p->conn.zApiUrl, p->conn.zBase, &t->schema);
  if( anUntyped==0 || (t->nPart>1 && zFormula==0) ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK ){
    memset(anUntyped, 0, sizeof(sqlite3_int64)*(t->spark.nCol+1));
    list.zFormula = zFormula;
    rc = openData(p, t, pzErr);
  }
  if( rc==SQLITE_OK ) rc = atListingFirst(&list, pzErr);
  while( rc==SQLITE_OK && !list.bEof ){
    const cJSON *pRec = list.page.pRecord;
    int bPageEnd = pRec->next==0;
    const char *zId = cJSON_GetObjectItemCaseSensitive(pRec, "id")->valuestring;
    if( t->nPart>1 && atPartitionOf(zId, t->nPart)!=iPart ){
      /* The server's reading of the formula is not ours: records could
      ** come twice. Stop rather than write them. */
      atSetError(pzErr, "table '%s': part %d of %d returned record %s, which "
                 "belongs to part %d: the server reads the partition formula "
                 "differently, so records could repeat; export this table "
                 "with partitions=1", t->schema.zTableName, iPart+1, t->nPart,
                 zId, atPartitionOf(zId, t->nPart)+1);
      rc = SQLITE_ERROR;
      break;
    }
    rc = p->conn.bJsonl ? atJsonRow(&buf, &t->spark, pRec, list.apCell, anUntyped)
                   : atCsvRow(&buf, &t->spark, pRec, list.apCell, anUntyped);
    /* Written when the buffer is full and at the end of each page, so the
    ** buffer never holds more than a page's rows. */
    if( rc==SQLITE_OK && (buf.n>=AT_EXPORT_FLUSH || bPageEnd) ){
      rc = flushRows(t, &buf, anUntyped, pzErr);
    }
    if( rc==SQLITE_OK && bPageEnd ){
      /* Tell the coordinator how far the table is. */
      atHttpGetStats(pHttp, &now);
      pthread_mutex_lock(&p->mutex);
      t->nRows += list.nRow - nReported;
      nReported = list.nRow;
      addStats(&t->stats, &now, &last);
      pthread_mutex_unlock(&p->mutex);
    }
    if( rc==SQLITE_OK ) rc = atListingNext(&list, pzErr);
  }
  atHttpGetStats(pHttp, &now);
  pthread_mutex_lock(&p->mutex);
  addStats(&t->stats, &now, &last);
  pthread_mutex_unlock(&p->mutex);
  atListingClear(&list);
  atBufClear(&buf);
  sqlite3_free(anUntyped);
  sqlite3_free(zFormula);
  return rc;
}

/* Write the table's .schema.json and .ddl (each under a temporary name
** until complete). */
static int writeSchemaFiles(Export *p, ExportTable *t, char **pzErr){
  char *zJson = atSparkSchemaJson(&t->spark, &t->schema);
  char *zDdl = atSparkSchemaDdl(&t->spark);
  char *zText = 0, *zName = 0;
  int rc = SQLITE_NOMEM;
  if( zJson && zDdl ){
    zText = sqlite3_mprintf("%s\n", zJson);
    zName = sqlite3_mprintf("%s.schema.json", t->zFile);
    rc = zText && zName ? atWriteFileAtomic(p->conn.zOut, zName, zText, pzErr)
                        : SQLITE_NOMEM;
    sqlite3_free(zText);
    sqlite3_free(zName);
    zText = sqlite3_mprintf("%s\n", zDdl);
    zName = sqlite3_mprintf("%s.ddl", t->zFile);
    if( rc==SQLITE_OK ){
      rc = zText && zName ? atWriteFileAtomic(p->conn.zOut, zName, zText, pzErr)
                          : SQLITE_NOMEM;
    }
  }
  sqlite3_free(zText);
  sqlite3_free(zName);
  sqlite3_free(zJson);
  sqlite3_free(zDdl);
  return rc;
}

/* Every part is done: write the schema files, then rename the data file
** (the data file last, so its final name means the table is complete). */
static int finishTable(Export *p, ExportTable *t, char **pzErr){
  int rc = writeSchemaFiles(p, t, pzErr);
  if( rc==SQLITE_OK ){
    pthread_mutex_lock(&t->fileMutex);
    t->bOpen = 0;
    rc = atOutCommit(&t->out, pzErr);
    pthread_mutex_unlock(&t->fileMutex);
  }
  return rc;
}

/* The table and part of task iTask: the parts of table 0, then of 1, ... */
static ExportTable *taskTable(Export *p, int iTask, int *piPart){
  int i;
  for(i=0; i<p->nTable; i++){
    if( iTask<p->aTable[i].nPart ){
      *piPart = iTask;
      return &p->aTable[i];
    }
    iTask -= p->aTable[i].nPart;
  }
  return 0;
}

static void *workerMain(void *pArg){
  Export *p = (Export*)pArg;
  locale_t old = p->cLocale ? uselocale(p->cLocale) : (locale_t)0;
  for(;;){
    ExportTable *t;
    AtHttp *pHttp;
    char *zErr = 0;
    int rc, iPart, bLast;
    pthread_mutex_lock(&p->mutex);
    if( p->bAbort || p->iNext>=p->nTask ){
      p->nLive--;
      pthread_cond_broadcast(&p->cond);
      pthread_mutex_unlock(&p->mutex);
      break;
    }
    t = taskTable(p, p->iNext++, &iPart);
    if( t->eState==TS_WAITING ){
      t->eState = TS_RUNNING;
      t->rStart = atNow();
    }
    pthread_mutex_unlock(&p->mutex);

    /* No database connection here: interrupts arrive through shouldStop. */
    pHttp = atHttpNew(p->zToken, p->zLimitKey, &p->conn.cfg, 0, p->pCtx);
    if( pHttp ) atHttpSetTokenWhere(pHttp, p->zTokenWhere);
    if( pHttp==0 ){
      rc = SQLITE_NOMEM;
    }else{
      atHttpSetAbort(pHttp, shouldStop, p);
      rc = exportPart(p, t, iPart, pHttp, &zErr);
      atHttpFree(pHttp);
    }
    pthread_mutex_lock(&p->mutex);
    bLast = rc==SQLITE_OK && ++t->nPartDone==t->nPart && t->eState==TS_RUNNING;
    pthread_mutex_unlock(&p->mutex);
    if( bLast ) rc = finishTable(p, t, &zErr);
    if( rc==SQLITE_NOMEM && zErr==0 ) atSetError(&zErr, "out of memory");

    pthread_mutex_lock(&p->mutex);
    if( rc!=SQLITE_OK ){
      if( t->eState!=TS_FAILED ){
        t->eState = TS_FAILED;
        t->rEnd = atNow();
        t->zErr = zErr;
        zErr = 0;
      }
      /* Tables stopped by the abort fail too; the first failure is why. */
      if( !p->bAbort ) p->iFirstFailed = (int)(t - p->aTable);
      __atomic_store_n(&p->bAbort, 1, __ATOMIC_RELAXED);
    }else if( bLast ){
      t->eState = TS_DONE;
      t->rEnd = atNow();
    }
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mutex);
    sqlite3_free(zErr);
  }
  if( p->cLocale ) uselocale(old);
  return 0;
}

/* ---- progress ---------------------------------------------------------- */

/* One line per table that changed state or is running (call with the mutex
** held). aSeen[] remembers which ends were reported. */
static void printProgress(Export *p, int *aSeen, int bFinal){
  double rNow = atNow();
  int i;
  for(i=0; i<p->nTable; i++){
    ExportTable *t = &p->aTable[i];
    double rSecs = (t->eState==TS_RUNNING ? rNow : t->rEnd) - t->rStart;
    double rRate = rSecs>0 ? t->nRows/rSecs : 0;
    if( t->eState==TS_WAITING || aSeen[i] ) continue;
    if( t->eState==TS_RUNNING ){
      if( bFinal ) continue;
      fprintf(stderr, "%s: %s: %lld rows, %d page%s, %.0f rows/s, "
              "%.1f s waiting on the rate limit, ", zProgName, t->zFile,
              (long long)t->nRows, t->stats.nRequests,
              t->stats.nRequests==1 ? "" : "s", rRate,
              t->stats.nWaitMs/1000.0);
      if( t->nPrevRows>=0 && rRate>0 ){
        double rLeft = (t->nPrevRows - t->nRows)/rRate;
        fprintf(stderr, "about %.0f s left (%lld rows last time)\n",
                rLeft>0 ? rLeft : 0, (long long)t->nPrevRows);
      }else{
        fprintf(stderr, "size unknown (Airtable gives no row counts)\n");
      }
    }else{
      aSeen[i] = 1;
      if( t->eState==TS_DONE ){
        fprintf(stderr, "%s: %s: done, %lld row%s in %.1f s "
                "(%d request%s, %.1f s waiting on the rate limit)\n", zProgName,
                t->zFile, (long long)t->nRows, t->nRows==1 ? "" : "s", rSecs,
                t->stats.nAttempts, t->stats.nAttempts==1 ? "" : "s",
                t->stats.nWaitMs/1000.0);
      }else{
        fprintf(stderr, "%s: %s: failed after %lld row%s\n", zProgName,
                t->zFile, (long long)t->nRows, t->nRows==1 ? "" : "s");
      }
    }
  }
  if( !bFinal ){
    int nWaiting = 0;
    for(i=0; i<p->nTable; i++) nWaiting += p->aTable[i].eState==TS_WAITING;
    if( nWaiting>0 ){
      fprintf(stderr, "%s: %d of %d tables waiting\n", zProgName, nWaiting,
              p->nTable);
    }
  }
  fflush(stderr);
}

/* Start the workers and wait for them, watching db for an interrupt. Then
** remove the data files of tables that did not complete. */
static int runWorkers(Export *p, sqlite3 *db){
  int nThread;
  pthread_t aThread[AT_MAX_CONCURRENCY];
  int *aSeen = sqlite3_malloc64(sizeof(int)*(p->nTable+1));
  double rLastPrint = atNow();
  AtWatch watch;
  int i, nStarted = 0, bInterrupted = 0;

  if( aSeen==0 ) return SQLITE_NOMEM;
  memset(aSeen, 0, sizeof(int)*(p->nTable+1));
  for(i=0; i<p->nTable; i++) p->nTask += p->aTable[i].nPart;
  nThread = p->conn.nConcurrency < p->nTask ? p->conn.nConcurrency : p->nTask;
  atWatchBegin(&watch, db);
  pthread_mutex_lock(&p->mutex);
  for(i=0; i<nThread; i++){
    p->nLive++;
    if( pthread_create(&aThread[nStarted], 0, workerMain, p)!=0 ){
      p->nLive--;
      break;
    }
    nStarted++;
  }
  while( p->nLive>0 ){
    struct timespec ts;
    struct timeval tv;
    gettimeofday(&tv, 0);
    ts.tv_sec = tv.tv_sec;
    ts.tv_nsec = tv.tv_usec*1000L + 50*1000000L;       /* 50 ms */
    if( ts.tv_nsec>=1000000000L ){ ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    pthread_cond_timedwait(&p->cond, &p->mutex, &ts);
    if( !bInterrupted && atWatchCheck(&watch) ){
      bInterrupted = 1;
      __atomic_store_n(&p->bAbort, 1, __ATOMIC_RELAXED);
    }
    if( p->conn.bProgress && atNow() - rLastPrint >= 1.0 ){
      printProgress(p, aSeen, 0);
      rLastPrint = atNow();
    }
  }
  if( p->conn.bProgress ) printProgress(p, aSeen, 1);
  pthread_mutex_unlock(&p->mutex);
  for(i=0; i<nStarted; i++) pthread_join(aThread[i], 0);
  for(i=0; i<p->nTable; i++){
    if( p->aTable[i].bOpen ) atOutAbort(&p->aTable[i].out);
    p->aTable[i].bOpen = 0;
  }
  atWatchEnd(&watch);
  sqlite3_free(aSeen);
  if( nStarted==0 ) return SQLITE_NOMEM;
  return bInterrupted ? SQLITE_INTERRUPT : SQLITE_OK;
}

/* ---- from a cache ------------------------------------------------------ */

/* Export each table from the cache, on the calling thread: no network, so
** nothing to wait on in parallel. Rows stream from the cache's rows table
** through the same writers as the API's records. */
static int runFromCache(Export *p, sqlite3 *db, char **pzErr){
  AtWatch watch;
  int i, rc = SQLITE_OK;
  atWatchBegin(&watch, db);
  for(i=0; rc==SQLITE_OK && i<p->nTable; i++){
    ExportTable *t = &p->aTable[i];
    AtCacheScan scan;
    AtBuf buf;
    sqlite3_int64 *anUntyped = sqlite3_malloc64(sizeof(sqlite3_int64)*(t->spark.nCol+1));
    memset(&buf, 0, sizeof(buf));
    memset(&scan, 0, sizeof(scan));
    t->eState = TS_RUNNING;
    t->rStart = atNow();
    rc = anUntyped ? openData(p, t, pzErr) : SQLITE_NOMEM;
    if( anUntyped ) memset(anUntyped, 0, sizeof(sqlite3_int64)*(t->spark.nCol+1));
    if( rc==SQLITE_OK ){
      rc = atCacheScanFirst(&scan, p->src.db, p->src.azName[t->iCache], &t->schema,
                            p->conn.iSinceSync<0 ? 0 : p->conn.iSinceSync, pzErr);
    }
    while( rc==SQLITE_OK && !scan.bEof ){
      rc = p->conn.bJsonl ? atJsonRow(&buf, &t->spark, scan.pRec, scan.apCell, anUntyped)
                     : atCsvRow(&buf, &t->spark, scan.pRec, scan.apCell, anUntyped);
      if( rc==SQLITE_OK && buf.n>=AT_EXPORT_FLUSH ){
        rc = flushRows(t, &buf, anUntyped, pzErr);
      }
      if( rc==SQLITE_OK && (scan.nRow & 255)==0 && atWatchCheck(&watch) ){
        rc = SQLITE_INTERRUPT;
      }
      if( rc==SQLITE_OK ) rc = atCacheScanNext(&scan, pzErr);
    }
    if( rc==SQLITE_OK ) rc = flushRows(t, &buf, anUntyped, pzErr);
    t->nRows = scan.nRow;
    atCacheScanClear(&scan);
    atBufClear(&buf);
    sqlite3_free(anUntyped);
    if( rc==SQLITE_OK ) rc = finishTable(p, t, pzErr);
    t->eState = rc==SQLITE_OK ? TS_DONE : TS_FAILED;
    t->rEnd = atNow();
    if( rc!=SQLITE_OK && rc!=SQLITE_INTERRUPT ){
      atPrefixError(pzErr, "export of table '%s' failed (no manifest was "
                    "written)", t->schema.zTableName);
    }
  }
  for(i=0; i<p->nTable; i++){
    if( p->aTable[i].bOpen ) atOutAbort(&p->aTable[i].out);
    p->aTable[i].bOpen = 0;
  }
  atWatchEnd(&watch);
  return rc;
}

/* ---- the manifest ------------------------------------------------------ */

static cJSON *manifestTable(ExportTable *t, int bSchemaOnly){
  cJSON *o = cJSON_CreateObject(), *aCol;
  char *zName;
  int i, ok = o!=0;
  if( !ok ) return 0;
  ok = cJSON_AddStringToObject(o, "name", t->schema.zTableName)
    && cJSON_AddStringToObject(o, "id", t->schema.zTableId)
    && cJSON_AddStringToObject(o, "file_name", t->zFile)
    && (bSchemaOnly ? cJSON_AddNullToObject(o, "data_file")
                    : cJSON_AddStringToObject(o, "data_file", t->zDataFile));
  zName = sqlite3_mprintf("%s.schema.json", t->zFile);
  ok = ok && zName && cJSON_AddStringToObject(o, "schema_file", zName);
  sqlite3_free(zName);
  zName = sqlite3_mprintf("%s.ddl", t->zFile);
  ok = ok && zName && cJSON_AddStringToObject(o, "ddl_file", zName);
  sqlite3_free(zName);
  ok = ok && (bSchemaOnly ? cJSON_AddNullToObject(o, "rows")
                          : cJSON_AddNumberToObject(o, "rows", (double)t->nRows))
    && cJSON_AddNumberToObject(o, "requests", t->stats.nAttempts)
    && cJSON_AddNumberToObject(o, "retries", t->stats.nRetries)
    && cJSON_AddNumberToObject(o, "seconds",
                               (double)(sqlite3_int64)((t->rEnd-t->rStart)*1000)/1000)
    && cJSON_AddNumberToObject(o, "rate_limit_wait_ms", (double)t->stats.nWaitMs)
    && (aCol = cJSON_AddArrayToObject(o, "columns"))!=0;
  for(i=0; ok && i<t->spark.nCol; i++){
    const AtSparkCol *c = &t->spark.aCol[i];
    cJSON *pc = cJSON_CreateObject();
    char *zType = atSparkTypeDdl(c->pType);
    const AtField *f = c->iField>=0 ? &t->schema.aField[c->iField] : 0;
    ok = pc && zType && cJSON_AddItemToArray(aCol, pc)
      && cJSON_AddStringToObject(pc, "name", c->zName)
      && (f ? cJSON_AddStringToObject(pc, "airtable_field_name", f->zName)
            : cJSON_AddNullToObject(pc, "airtable_field_name"))
      && (f ? cJSON_AddStringToObject(pc, "airtable_field_id", f->zId)
            : cJSON_AddNullToObject(pc, "airtable_field_id"))
      && (f ? cJSON_AddStringToObject(pc, "airtable_field_type", f->zType)
            : cJSON_AddNullToObject(pc, "airtable_field_type"))
      && cJSON_AddStringToObject(pc, "spark_type", zType)
      && cJSON_AddNumberToObject(pc, "untyped", (double)t->anUntyped[i]);
    if( !ok && pc && !cJSON_GetArrayItem(aCol, i) ) cJSON_Delete(pc);
    sqlite3_free(zType);
  }
  if( !ok ){
    cJSON_Delete(o);
    return 0;
  }
  return o;
}

/* The manifest as JSON text (sqlite3_malloc'd), or NULL on OOM. */
static char *manifestText(Export *p){
  cJSON *m = cJSON_CreateObject(), *opt = 0, *aTab = 0;
  char *zStart = atIsoTime(p->rStart), *zJson, *zOut = 0;
  int i, nRequests = 0, ok;
  for(i=0; i<p->nTable; i++) nRequests += p->aTable[i].stats.nAttempts;
  ok = m && zStart
    && cJSON_AddNumberToObject(m, "format_version", 1)
    && cJSON_AddStringToObject(m, "base", p->conn.zBase)
    && cJSON_AddStringToObject(m, "started_at", zStart)
    && cJSON_AddNumberToObject(m, "seconds",
           (double)(sqlite3_int64)((atNow()-p->rStart)*1000)/1000)
    /* + 1: the metadata request (none from a cache) */
    && cJSON_AddNumberToObject(m, "requests", nRequests + (p->conn.zFromCache ? 0 : 1))
    && (opt = cJSON_AddObjectToObject(m, "options"))!=0
    && cJSON_AddStringToObject(opt, "format", p->conn.bJsonl ? "jsonl" : "csv")
    && cJSON_AddBoolToObject(opt, "gzip", p->conn.bGzip)
    && cJSON_AddStringToObject(opt, "names", p->conn.bExactNames ? "exact" : "delta")
    && (p->conn.zView ? cJSON_AddStringToObject(opt, "view", p->conn.zView)
                      : cJSON_AddNullToObject(opt, "view"))
    && cJSON_AddNumberToObject(opt, "concurrency", p->conn.nConcurrency)
    && cJSON_AddNumberToObject(opt, "partitions", p->conn.nPartition)
    && cJSON_AddBoolToObject(opt, "schema_only", p->conn.bSchemaOnly)
    && cJSON_AddStringToObject(opt, "api_url", p->conn.zApiUrl)
    && cJSON_AddNumberToObject(opt, "rate_limit", p->conn.cfg.nRatePerSec)
    && cJSON_AddNumberToObject(opt, "max_retries", p->conn.cfg.nMaxRetries)
    && (p->conn.zFromCache ? cJSON_AddStringToObject(opt, "from_cache", p->conn.zFromCache)
                      : cJSON_AddNullToObject(opt, "from_cache"))
    && (p->conn.iSinceSync>=0 ? cJSON_AddNumberToObject(opt, "since_sync", (double)p->conn.iSinceSync)
                         : cJSON_AddNullToObject(opt, "since_sync"))
    && (aTab = cJSON_AddArrayToObject(m, "tables"))!=0;
  for(i=0; ok && i<p->nTable; i++){
    cJSON *t = manifestTable(&p->aTable[i], p->conn.bSchemaOnly);
    /* From a cache: the sync the rows are as of (a Lakeflow cursor). */
    if( t && p->conn.zFromCache
     && !cJSON_AddNumberToObject(t, "sync", (double)p->src.aSync[p->aTable[i].iCache]) ){
      cJSON_Delete(t);
      t = 0;
    }
    ok = t && cJSON_AddItemToArray(aTab, t);
    if( !ok ) cJSON_Delete(t);
  }
  sqlite3_free(zStart);
  zJson = ok ? cJSON_Print(m) : 0;
  cJSON_Delete(m);
  if( zJson ){
    zOut = sqlite3_mprintf("%s\n", zJson);
    cJSON_free(zJson);
  }
  return zOut;
}

/* ---- the SQL function -------------------------------------------------- */

static void exportClear(Export *p){
  int i;
  for(i=0; i<p->nTableArg; i++) sqlite3_free(p->azTable[i]);
  sqlite3_free(p->azTable);
  for(i=0; i<p->nTable && p->aTable; i++){
    ExportTable *t = &p->aTable[i];
    if( t->bOpen ) atOutAbort(&t->out);
    pthread_mutex_destroy(&t->fileMutex);
    atSchemaClear(&t->schema);
    atSparkSchemaClear(&t->spark);
    sqlite3_free(t->zFile);
    sqlite3_free(t->zDataFile);
    sqlite3_free(t->anUntyped);
    sqlite3_free(t->zErr);
  }
  sqlite3_free(p->aTable);
  if( p->zToken ){
    memset(p->zToken, 0, strlen(p->zToken));
    sqlite3_free(p->zToken);
  }
  sqlite3_free(p->zLimitKey);
  sqlite3_free(p->zTokenWhere);
  sqlite3_free(p->zOwned);
  atCacheSourceClose(&p->src);
  cJSON_Delete(p->pMeta);
  atOptionsClear(&p->conn);
}

static void exportFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  Export ex;
  AtHttp *pHttp = 0;
  char *zErr = 0, *zManifest = 0;
  int rc;

  memset(&ex, 0, sizeof(ex));
  ex.pCtx = (AtContext*)sqlite3_user_data(ctx);
  ex.iFirstFailed = -1;
  ex.fdLock = -1;
  ex.rStart = atNow();
  pthread_mutex_init(&ex.mutex, 0);
  pthread_cond_init(&ex.cond, 0);
  rc = exportParse(&ex, argc, argv, &zErr);
  if( rc==SQLITE_OK && ex.conn.zFromCache ){
    /* No token, no network: the metadata and rows are the cache's. */
    rc = atCacheSourceOpen(&ex.src, ex.conn.zFromCache, ex.conn.zBase, &zErr);
    if( rc==SQLITE_OK ){
      ex.pMeta = ex.src.pMeta;
      ex.src.pMeta = 0;
      ex.cLocale = atCLocale();
    }
  }else if( rc==SQLITE_OK ){
    rc = atTokenLoad(ex.conn.zTokenEnv, ex.conn.zTokenFile, &ex.zToken, &zErr);
  }
  if( rc==SQLITE_OK ) rc = prepareDir(ex.conn.zOut, &ex.bCreatedDir, &zErr);
  if( rc==SQLITE_OK ) rc = lockDir(&ex, &zErr);
  if( rc==SQLITE_OK ) rc = checkDir(&ex, &zErr);
  if( rc==SQLITE_OK && !ex.conn.zFromCache ){
    ex.zLimitKey = sqlite3_mprintf("%s %s", ex.conn.zApiUrl, ex.conn.zBase);
    ex.cLocale = atCLocale();
    ex.zTokenWhere = atTokenWhere(ex.conn.zTokenEnv, ex.conn.zTokenFile);
    pHttp = ex.zLimitKey ? atHttpNew(ex.zToken, ex.zLimitKey, &ex.conn.cfg,
                                     db, ex.pCtx) : 0;
    if( pHttp ) atHttpSetTokenWhere(pHttp, ex.zTokenWhere);
    rc = pHttp ? SQLITE_OK : SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK && !ex.conn.zFromCache ){
    rc = atMetaFetchTables(pHttp, ex.conn.zApiUrl, ex.conn.zBase, &ex.pMeta, &zErr);
  }
  atHttpFree(pHttp);
  if( rc==SQLITE_OK ) rc = chooseTables(&ex, &zErr);
  if( rc==SQLITE_OK ) rc = takeOldManifest(&ex, &zErr);
  if( rc==SQLITE_OK ) rc = writeJournal(&ex, &zErr);
  if( rc==SQLITE_OK && ex.conn.bSchemaOnly ){
    /* The schemas alone: no listing, no data file, no worker. */
    int i;
    for(i=0; rc==SQLITE_OK && i<ex.nTable; i++){
      rc = writeSchemaFiles(&ex, &ex.aTable[i], &zErr);
    }
  }else if( rc==SQLITE_OK && ex.conn.zFromCache ){
    rc = runFromCache(&ex, db, &zErr);
    if( rc==SQLITE_INTERRUPT ){
      atSetError(&zErr, "interrupted: the export to '%s' stopped; tables "
                 "completed before stay, no manifest was written", ex.conn.zOut);
    }
  }else if( rc==SQLITE_OK ){
    if( ex.conn.bProgress ){
      int nTask = ex.nTable*ex.conn.nPartition;
      fprintf(stderr, "%s: %d table%s of %s to %s, %d at a time", zProgName,
              ex.nTable, ex.nTable==1 ? "" : "s", ex.conn.zBase, ex.conn.zOut,
              ex.conn.nConcurrency < nTask ? ex.conn.nConcurrency : nTask);
      if( ex.conn.nPartition>1 ){
        fprintf(stderr, " (each table in %d parts)", ex.conn.nPartition);
      }
      fputc('\n', stderr);
    }
    rc = runWorkers(&ex, db);
    if( rc==SQLITE_INTERRUPT ){
      atSetError(&zErr, "interrupted: the export to '%s' stopped; tables "
                 "completed before stay, no manifest was written", ex.conn.zOut);
    }else if( rc==SQLITE_OK ){
      /* The first table that failed says why (others stopped because of it). */
      if( ex.iFirstFailed>=0 ){
        ExportTable *t = &ex.aTable[ex.iFirstFailed];
        zErr = t->zErr;
        t->zErr = 0;
        atPrefixError(&zErr, "export of table '%s' failed (no manifest was "
                      "written)", t->schema.zTableName);
        rc = SQLITE_ERROR;
      }
    }
  }
  if( rc==SQLITE_OK ) rc = removeLeftovers(&ex, &zErr);
  if( rc==SQLITE_OK ){
    zManifest = manifestText(&ex);
    rc = zManifest ? atWriteFileAtomic(ex.conn.zOut, AT_MANIFEST, zManifest, &zErr)
                   : SQLITE_NOMEM;
    if( rc==SQLITE_OK ) removeJournal(&ex);
  }
  if( rc==SQLITE_OK ){
    sqlite3_result_text(ctx, zManifest, -1, sqlite3_free);
    zManifest = 0;
  }else if( rc==SQLITE_NOMEM && zErr==0 ){
    sqlite3_result_error_nomem(ctx);
  }else{
    sqlite3_result_error(ctx, zErr ? zErr : "airtable: export failed", -1);
    if( rc==SQLITE_INTERRUPT ) sqlite3_result_error_code(ctx, SQLITE_INTERRUPT);
  }
  {
    /* Cleanup is for a directory this export checked and locked. */
    int bCleanup = rc!=SQLITE_OK && ex.fdLock>=0;
    unlockDir(&ex);
    if( bCleanup ) cleanupFailed(&ex);
  }
  sqlite3_free(zManifest);
  sqlite3_free(zErr);
  exportClear(&ex);
  pthread_mutex_destroy(&ex.mutex);
  pthread_cond_destroy(&ex.cond);
}

int atRegisterExport(sqlite3 *db, AtContext *pCtx){
  /* Direct only: it acts with the user's token and writes files, so a view
  ** or trigger in a database someone else wrote must not call it. */
  return sqlite3_create_function(db, "airtable_export", -1,
                                 SQLITE_UTF8|SQLITE_DIRECTONLY, pCtx,
                                 exportFunc, 0, 0);
}
