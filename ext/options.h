/*
** options.h: the arguments of CREATE VIRTUAL TABLE ... USING airtable(...)
** and of airtable_export(): one table of options, the token, the API URL.
*/
#ifndef AT_OPTIONS_H
#define AT_OPTIONS_H

#include "airtable_int.h"
#include "http.h"

/* Every option of the airtable table and of the export, parsed: the text
** as given (NULL when not given) and the typed value it made (or the
** default). The option table in options.c says which field is whose. */
typedef struct AtOptions AtOptions;
struct AtOptions {
  /* The text of each option as given (sqlite3_malloc'd), or NULL. */
  char *zBase;          /* base: app id (required) */
  char *zTable;         /* table: table name or tbl id (the table's; an
                        ** export keeps its own list, for it repeats) */
  char *zView;          /* view: view name or viw id */
  char *zApiUrl;        /* api_url: or $AIRTABLE_API_URL, or the default */
  char *zTokenEnv;      /* token_env: the variable holding the token */
  char *zTokenFile;     /* token_file: a file holding the token */
  char *zRateLimit, *zMaxRetries, *zRateLimitWait, *zRetryBackoff;
  char *zRetryBudget, *zConnectTimeout, *zTimeout;
  char *zCaFile;        /* ca_file: CA bundle for https */
  char *zCache, *zMaxAge, *zSyncOverlap, *zPushdown;
  char *zOut, *zAll, *zFormat, *zGzip, *zNames, *zConcurrency, *zPartitions;
  char *zSchemaOnly, *zProgress, *zFromCache, *zSinceSync, *zReplace;
  /* The typed values (atOptionsFinish), defaults where not given. */
  AtHttpConfig cfg;     /* the retry policy (cfg.zCaFile = zCaFile) */
  int eCache;           /* AT_CACHE_*, from cache= and $AIRTABLE_OFFLINE */
  int bNoNetwork;       /* $AIRTABLE_OFFLINE: not even airtable_sync() may ask */
  double rMaxAge;       /* max_age: seconds a cache stays fresh */
  double rSyncOverlap;  /* sync_overlap: seconds an incremental sync looks back */
  int bNoPushdown;      /* pushdown='off': every query is a full scan */
  int bAll;             /* all=1: every table of the base */
  int bJsonl;           /* format=jsonl (0: csv) */
  int bGzip;            /* gzip=1 */
  int bExactNames;      /* names=exact (0: delta) */
  int nConcurrency;     /* concurrency: tables (or parts) exported at once */
  int nPartition;       /* partitions: parts each table is listed in */
  int bSchemaOnly;      /* schema_only=1: schema files and manifest, no rows */
  int bProgress;        /* progress=1: lines on stderr */
  int bReplace;         /* replace=1: the export in out= may be replaced */
  sqlite3_int64 iSinceSync;  /* since_sync: only records changed after it; -1 */
};

/* The cache modes (cache= option; docs/staging-cache.md). */
#define AT_CACHE_OFF      0   /* every query asks the API */
#define AT_CACHE_ON       1   /* answer from the cache, refreshed past max_age */
#define AT_CACHE_OFFLINE  2   /* queries read only the cache: no token, no
                              ** network; only airtable_sync() asks the API */
#define AT_DEFAULT_MAX_AGE       3600.0
#define AT_DEFAULT_SYNC_OVERLAP  300.0
#define AT_DEFAULT_CONCURRENCY   4
#define AT_MAX_CONCURRENCY       8

/* The kinds of option value. */
#define AT_OPT_TEXT     1   /* any non-empty text */
#define AT_OPT_INTEGER  2   /* a whole number in [rMin, rMax], into an int */
#define AT_OPT_INT64    3   /* a whole number in [rMin, rMax], into an int64 */
#define AT_OPT_NUMBER   4   /* a number in [rMin, rMax], into a double */
#define AT_OPT_FLAG     5   /* 1/0, true/false, yes/no, on/off, into an int */
#define AT_OPT_CHOICE   6   /* one of zChoices, into an int: its index */

/* Who takes an option (mWhere). */
#define AT_OPT_VTAB     0x01   /* CREATE VIRTUAL TABLE ... USING airtable() */
#define AT_OPT_EXPORT   0x02   /* airtable_export() and airtable-export */

/* One option: the one place an option is defined. The table, the export,
** the command's argument parser, airtable_options() (and so the Python
** package) read it. */
typedef struct AtOptionSpec AtOptionSpec;
struct AtOptionSpec {
  const char *zName;    /* as written: "rate_limit" */
  int eKind;            /* AT_OPT_* */
  int mWhere;           /* AT_OPT_VTAB | AT_OPT_EXPORT */
  double rMin, rMax;    /* numbers: the range */
  double rDefault;      /* numbers: the default (unused if zNoDefault) */
  const char *zChoices; /* choices: "csv jsonl", the first the default */
  size_t iText;         /* offsetof(AtOptions, ...) of its text */
  int iValue;           /* offsetof(AtOptions, ...) of its typed value, or -1 */
  const char *zUnit;    /* numbers: the unit, for messages */
  const char *zNot;     /* what a wrong value "is not" (NULL: from kind) */
  const char *zHelp;    /* one line for airtable_options() and --help */
};

/* The option table, in the order the documentation gives it; *pn entries. */
const AtOptionSpec *atOptionSpecs(int *pn);
/* The entry named zKey (nKey bytes, case-insensitive), or NULL. */
const AtOptionSpec *atOptionFind(const char *zKey, int nKey);
/* Every option as JSON text (airtable_options()): [{"name", "kind",
** "table", "export", "min", "max", "default", "choices", "help"}, ...].
** sqlite3_malloc'd; NULL on OOM. */
char *atOptionsJson(void);

/* Parse the module arguments azArg[0..nArg-1] (already past the module,
** database and table names). On error returns SQLITE_ERROR and sets *pzErr
** to a message naming the option. The caller frees *p with atOptionsClear()
** whatever the result. */
int atOptionsParse(int nArg, const char *const *azArg, AtOptions *p, char **pzErr);
void atOptionsClear(AtOptions *p);

/* The pieces atOptionsParse is made of, for the export. Split argument
** number iArg "key = value" into the key (*pzKey, *pnKey: pointing into
** zArg) and the dequoted value (*pzValue, sqlite3_malloc'd). Set one option
** on p, taking *pzValue (then NULL): SQLITE_NOTFOUND if zKey is no option
** at all (*pzValue left); an error if it is not one of mWhere's. Finish
** checks and converts every value given, fills the defaults, and checks
** the rules across options (the table's with AT_OPT_VTAB). Each sets
** *pzErr on error. */
int atOptionSplit(const char *zArg, int iArg, const char **pzKey, int *pnKey,
                  char **pzValue, char **pzErr);
int atOptionsSet(AtOptions *p, int mWhere, const char *zKey, int nKey,
                 char **pzValue, char **pzErr);
int atOptionsFinish(AtOptions *p, int mWhere, char **pzErr);
/* The error for an unknown option zKey, listing those mWhere takes. */
int atOptionsUnknown(int mWhere, const char *zKey, int nKey, char **pzErr);

/* Read the token named by p (token_file, else the token_env variable, else
** $AIRTABLE_TOKEN). Returns SQLITE_OK and a sqlite3_malloc'd *pzToken, or
** SQLITE_ERROR with *pzErr. The error never contains the token. */
int atTokenLoad(const char *zTokenEnv, const char *zTokenFile, char **pzToken,
                char **pzErr);
/* Where atTokenLoad reads the token, for messages: "environment variable
** AIRTABLE_TOKEN", "token_file '/path'". sqlite3_malloc'd; NULL on OOM. */
char *atTokenWhere(const char *zTokenEnv, const char *zTokenFile);

/* Check an API base URL: http or https, no query or fragment; plain http only
** to a loopback host. Returns SQLITE_OK or SQLITE_ERROR with *pzErr naming
** zWhat (the option or variable the URL came from). */
int atApiUrlCheck(const char *zUrl, const char *zWhat, char **pzErr);

#endif /* AT_OPTIONS_H */
