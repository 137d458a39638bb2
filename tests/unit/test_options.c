/* test_options.c: module arguments, tokens and API URLs (options.c). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "airtable_int.h"
#include "options.h"
#include "util.h"
#include "testhelp.h"

/* Parse the n arguments; return the error text, or "ok base|table|view|url|env|file". */
static char *parse(int n, const char *const *az){
  AtOptions o;
  char *zErr = 0, *zOut;
  int rc = atOptionsParse(n, az, &o, &zErr);
  if( rc==SQLITE_OK ){
    zOut = sqlite3_mprintf("ok %s|%s|%s|%s|%s|%s", o.zBase, o.zTable,
             o.zView ? o.zView : "-", o.zApiUrl, o.zTokenEnv ? o.zTokenEnv : "-",
             o.zTokenFile ? o.zTokenFile : "-");
  }else{
    zOut = sqlite3_mprintf("%s", zErr ? zErr : "(no message)");
  }
  sqlite3_free(zErr);
  atOptionsClear(&o);
  return zOut;
}

#define PARSE(want, ...) do{ \
  const char *const a_[] = { __VA_ARGS__ }; \
  char *z_ = parse((int)(sizeof(a_)/sizeof(a_[0])), a_); \
  CHECK_STR(z_, want); sqlite3_free(z_); }while(0)

static void testParse(void){
  unsetenv("AIRTABLE_API_URL");
  PARSE("ok appPackagingOps01|Packaging Tasks|-|https://api.airtable.com|-|-",
        "base=appPackagingOps01", "table='Packaging Tasks'");
  PARSE("ok appPackagingOps01|It's|Open tasks|http://127.0.0.1:9/|MY_TOKEN|-",
        " base = \"appPackagingOps01\" ", "table='It''s'", "VIEW = Open tasks",
        "api_url='http://127.0.0.1:9/'", "token_env=MY_TOKEN");
  PARSE("ok appPackagingOps01|tblAAAAAAAAAAAAAA|viwAAAAAAAAAAAAAA|https://api.airtable.com|-|/tmp/t",
        "base=appPackagingOps01", "table=tblAAAAAAAAAAAAAA",
        "view=viwAAAAAAAAAAAAAA", "token_file=/tmp/t");
  setenv("AIRTABLE_API_URL", "http://localhost:8080", 1);
  PARSE("ok appPackagingOps01|T|-|http://localhost:8080|-|-",
        "base=appPackagingOps01", "table=T");
  setenv("AIRTABLE_API_URL", "http://example.com", 1);
  PARSE("airtable: environment variable AIRTABLE_API_URL: 'http://example.com' "
        "uses plain http to a host that is not this machine; the token would "
        "cross the network unencrypted: use https (plain http is allowed only "
        "to 127.0.0.1, ::1 and localhost, for test servers)",
        "base=appPackagingOps01", "table=T");
  unsetenv("AIRTABLE_API_URL");

  PARSE("airtable: option token= is refused: virtual table arguments are stored "
        "in plain text in the database file; put the token in the "
        "AIRTABLE_TOKEN environment variable, or name another variable with "
        "token_env= or a file with token_file=",
        "base=appPackagingOps01", "table=T", "token=patXXXX");
  PARSE("airtable: unknown option 'colour' (known options: base, table, view, "
        "api_url, token_env, token_file, rate_limit, max_retries, rate_limit_wait, "
        "retry_backoff, retry_budget, connect_timeout, timeout, ca_file, cache, max_age, sync_overlap, "
        "pushdown)",
        "base=appPackagingOps01", "colour=red");
  PARSE("airtable: option base is given more than once",
        "base=appPackagingOps01", "base=appPackagingOps02");
  /* The export's options are the same table's, refused by a table. */
  PARSE("airtable: option out belongs to an export (airtable_export()), not "
        "to an airtable table", "base=appPackagingOps01", "table=T", "out=/tmp/x");
  PARSE("airtable: option cache: 'maybe' is not off, on or offline",
        "base=appPackagingOps01", "table=T", "cache=maybe");
  PARSE("airtable: option pushdown: 'sometimes' is not on or off",
        "base=appPackagingOps01", "table=T", "pushdown=sometimes");
  PARSE("airtable: argument 2 (Packaging Tasks) is not of the form key=value",
        "base=appPackagingOps01", "Packaging Tasks");
  PARSE("airtable: option base is required (the base id, app...)", "table=T");
  PARSE("airtable: option table is required (a table name or tbl... id)",
        "base=appPackagingOps01");
  PARSE("airtable: option table is empty", "base=appPackagingOps01", "table=''");
  PARSE("airtable: option base: 'appShort' is not an Airtable base id ('app' "
        "followed by 14 letters or digits)", "base=appShort", "table=T");
  PARSE("airtable: option base: 'Packaging' is not an Airtable base id ('app' "
        "followed by 14 letters or digits)", "base=Packaging", "table=T");
  PARSE("airtable: option table: 'tblAAAAAAAAAAAA-A' looks like a table id but "
        "is not one ('tbl' followed by 14 letters or digits)",
        "base=appPackagingOps01", "table=tblAAAAAAAAAAAA-A");
  PARSE("airtable: option view: 'viwAAAAAAAAAAAA A' looks like a view id but is "
        "not one ('viw' followed by 14 letters or digits)",
        "base=appPackagingOps01", "table=T", "view=viwAAAAAAAAAAAA A");
  PARSE("airtable: options token_env and token_file exclude each other",
        "base=appPackagingOps01", "table=T", "token_env=X", "token_file=/x");
  PARSE("airtable: option token_env: 'MY-TOKEN' is not an environment variable name",
        "base=appPackagingOps01", "table=T", "token_env=MY-TOKEN");
  PARSE("airtable: option api_url: 'ftp://127.0.0.1/' is not an http or https URL",
        "base=appPackagingOps01", "table=T", "api_url=ftp://127.0.0.1/");
  PARSE("airtable: option api_url: 'not a url' is not a URL (expected like "
        "https://api.airtable.com)",
        "base=appPackagingOps01", "table=T", "api_url=not a url");
  PARSE("airtable: option api_url: 'https://api.airtable.com/?x=1' has a query "
        "or fragment; give only the API root (like https://api.airtable.com)",
        "base=appPackagingOps01", "table=T", "api_url=https://api.airtable.com/?x=1");
  PARSE("ok appPackagingOps01|T|-|http://[::1]:80|-|-",
        "base=appPackagingOps01", "table=T", "api_url=http://[::1]:80");
  PARSE("ok appPackagingOps01|T|-|http://127.1.2.3|-|-",
        "base=appPackagingOps01", "table=T", "api_url=http://127.1.2.3");
  PARSE("airtable: option api_url: 'http://127.0.0.1.evil.example' uses plain "
        "http to a host that is not this machine; the token would cross the "
        "network unencrypted: use https (plain http is allowed only to "
        "127.0.0.1, ::1 and localhost, for test servers)",
        "base=appPackagingOps01", "table=T", "api_url=http://127.0.0.1.evil.example");
}

/* Load a token; return it or the error. */
static char *token(const char *zEnv, const char *zFile){
  char *zTok = 0, *zErr = 0;
  int rc = atTokenLoad(zEnv, zFile, &zTok, &zErr);
  char *zOut = sqlite3_mprintf("%s", rc==SQLITE_OK ? zTok : zErr);
  sqlite3_free(zTok);
  sqlite3_free(zErr);
  return zOut;
}

#define TOKEN(env, file, want) do{ \
  char *z_ = token(env, file); CHECK_STR(z_, want); sqlite3_free(z_); }while(0)

static void writeFile(const char *zPath, const char *zText, int mode){
  FILE *f = fopen(zPath, "wb");
  fputs(zText, f);
  fclose(f);
  chmod(zPath, mode);
}

static void testToken(void){
  char zDir[] = "/tmp/attokXXXXXX";
  char zPath[64];
  char *zWant;
  setenv("AIRTABLE_TOKEN", "patTEST.secret", 1);
  TOKEN(0, 0, "patTEST.secret");
  setenv("OTHER_TOKEN", "patOTHER", 1);
  TOKEN("OTHER_TOKEN", 0, "patOTHER");
  unsetenv("AIRTABLE_TOKEN");
  TOKEN(0, 0, "airtable: no API token: the environment variable AIRTABLE_TOKEN "
        "is not set (set it, or name another variable with token_env= or a "
        "file with token_file=)");
  setenv("AIRTABLE_TOKEN", "", 1);
  TOKEN(0, 0, "airtable: no API token: the environment variable AIRTABLE_TOKEN "
        "is empty (set it, or name another variable with token_env= or a "
        "file with token_file=)");
  setenv("OTHER_TOKEN", "pat\r\nX-Evil: 1", 1);
  TOKEN("OTHER_TOKEN", 0, "airtable: the token in environment variable "
        "OTHER_TOKEN contains a space or control character at byte 4");

  CHECK(mkdtemp(zDir)!=0);
  sqlite3_snprintf(sizeof(zPath), zPath, "%s/token", zDir);
  writeFile(zPath, "patFILE.secret\n", 0600);
  TOKEN(0, zPath, "patFILE.secret");
  writeFile(zPath, "patFILE.secret\n", 0640);
  zWant = sqlite3_mprintf("airtable: option token_file: '%s' is readable by "
      "group or others (mode 640); a token file must be private, as ssh "
      "requires of keys: chmod 600 '%s'", zPath, zPath);
  TOKEN(0, zPath, zWant);
  sqlite3_free(zWant);
  writeFile(zPath, "\n", 0600);
  TOKEN(0, zPath, "airtable: the token in token_file is empty");
  unlink(zPath);
  zWant = sqlite3_mprintf("airtable: option token_file: cannot read '%s': "
                          "No such file or directory", zPath);
  TOKEN(0, zPath, zWant);
  sqlite3_free(zWant);
  zWant = sqlite3_mprintf("airtable: option token_file: '%s' is not a regular file", zDir);
  TOKEN(0, zDir, zWant);
  sqlite3_free(zWant);
  rmdir(zDir);
}

/* Parse and describe the retry policy, or return the error. */
static char *config(int n, const char *const *az){
  AtOptions o;
  char *zErr = 0, *zOut;
  if( atOptionsParse(n, az, &o, &zErr)==SQLITE_OK ){
    zOut = sqlite3_mprintf("rate=%d retries=%d wait429=%g backoff=%g budget=%g "
        "connect=%g timeout=%d ca=%s", o.cfg.nRatePerSec, o.cfg.nMaxRetries,
        o.cfg.rRateLimitWait, o.cfg.rRetryBackoff, o.cfg.rRetryBudget,
        o.cfg.rConnectTimeout, o.cfg.nTimeout, o.cfg.zCaFile ? o.cfg.zCaFile : "-");
  }else{
    zOut = sqlite3_mprintf("%s", zErr);
  }
  sqlite3_free(zErr);
  atOptionsClear(&o);
  return zOut;
}

#define CONFIG(want, ...) do{ \
  const char *const a_[] = { "base=appPackagingOps01", "table=T", __VA_ARGS__ }; \
  char *z_ = config((int)(sizeof(a_)/sizeof(a_[0])), a_); \
  CHECK_STR(z_, want); sqlite3_free(z_); }while(0)

static void testConfig(void){
  CONFIG("rate=5 retries=5 wait429=30 backoff=1 budget=300 connect=30 timeout=60 ca=-",
         "view=V");
  CONFIG("rate=2 retries=0 wait429=0.5 backoff=0.05 budget=10 connect=2.5 timeout=3 ca=/etc/passwd",
         "rate_limit=2", "max_retries=0", "rate_limit_wait=0.5", "retry_backoff=0.05",
         "retry_budget=10", "connect_timeout=2.5", "timeout=3", "ca_file=/etc/passwd");
  /* Only a regular file, opened without blocking (a FIFO would hang). */
  CONFIG("airtable: option ca_file: '/dev/null' is not a regular file", "ca_file=/dev/null");
  CONFIG("airtable: option rate_limit: 6 is out of range (0 to 5 requests per "
         "second); Airtable allows 5 requests per second per base, so the limit "
         "can only be lowered", "rate_limit=6");
  CONFIG("airtable: option rate_limit: '2.5' is not a whole number", "rate_limit=2.5");
  /* 0, no limiter: a loopback test server only. */
  CONFIG("rate=0 retries=5 wait429=30 backoff=1 budget=300 connect=30 timeout=60 ca=-",
         "rate_limit=0", "api_url=http://127.0.0.1:8080");
  CONFIG("rate=0 retries=5 wait429=30 backoff=1 budget=300 connect=30 timeout=60 ca=-",
         "rate_limit=0", "api_url=https://localhost");
  CONFIG("airtable: option rate_limit: 0 (no limit) is only for a test server on "
         "this machine (127.0.0.1, ::1, localhost), not https://api.airtable.com; "
         "Airtable allows 5 requests per second per base", "rate_limit=0");
  CONFIG("airtable: option rate_limit: 0 (no limit) is only for a test server on "
         "this machine (127.0.0.1, ::1, localhost), not https://127.0.0.1.example.com; "
         "Airtable allows 5 requests per second per base", "rate_limit=0",
         "api_url=https://127.0.0.1.example.com");
  CONFIG("airtable: option pushdown: 'maybe' is not on or off", "pushdown=maybe");
  CONFIG("rate=5 retries=5 wait429=30 backoff=1 budget=300 connect=30 timeout=60 ca=-",
         "pushdown=OFF");
  /* Found by fuzz_options: beyond any integer, once undefined behaviour. */
  CONFIG("airtable: option rate_limit: 38012297829382473034410 is out of range "
         "(0 to 5 requests per second); Airtable allows 5 requests per second per "
         "base, so the limit can only be lowered", "rate_limit=38012297829382473034410");
  CONFIG("airtable: option timeout: 1e400 is out of range (1 to 86400 seconds)",
         "timeout=1e400");
  CONFIG("airtable: option max_retries: 21 is out of range (0 to 20 retries)",
         "max_retries=21");
  CONFIG("airtable: option timeout: 'soon' is not a whole number", "timeout=soon");
  CONFIG("airtable: option retry_backoff: '1s' is not a number", "retry_backoff=1s");
  CONFIG("airtable: option rate_limit_wait: -1 is out of range (0 to 3600 seconds)",
         "rate_limit_wait=-1");
  CONFIG("airtable: option connect_timeout: 0 is out of range (0.001 to 3600 seconds)",
         "connect_timeout=0");
  CONFIG("airtable: option ca_file: cannot read '/nonexistent/ca.pem': No such "
         "file or directory", "ca_file=/nonexistent/ca.pem");
}

static void testIds(void){
  CHECK(atIsId("appPackagingOps01", "app"));
  CHECK(atIsId("rec00000000000000", "rec"));
  CHECK(!atIsId("appPackagingOps0", "app"));
  CHECK(!atIsId("appPackagingOps012", "app"));
  CHECK(!atIsId("appPackaging_ps01", "app"));
  CHECK(!atIsId("tblPackagingOps01", "app"));
  CHECK(!atIsId(0, "app"));
}

/* The one option table: every entry well formed, found by name, and
** shown by atOptionsJson with its kind, range and default. */
static void testTable(void){
  int n, i;
  const AtOptionSpec *a = atOptionSpecs(&n);
  char *zJson;
  CHECK(n==30);
  for(i=0; i<n; i++){
    CHECK(atOptionFind(a[i].zName, (int)strlen(a[i].zName))==&a[i]);
    CHECK(a[i].mWhere!=0 && a[i].zHelp && a[i].zHelp[0]);
    CHECK((a[i].eKind==AT_OPT_CHOICE)==(a[i].zChoices!=0));
    CHECK(a[i].eKind==AT_OPT_TEXT || a[i].iValue>=0);
  }
  CHECK(atOptionFind("RATE_LIMIT", 10)==atOptionFind("rate_limit", 10));
  CHECK(atOptionFind("rate", 4)==0);
  zJson = atOptionsJson();
  CHECK(zJson && strstr(zJson, "{\"name\":\"rate_limit\",\"kind\":\"integer\","
        "\"table\":true,\"export\":true,\"min\":0,\"max\":5,\"default\":5,")!=0);
  CHECK(zJson && strstr(zJson, "{\"name\":\"cache\",\"kind\":\"choice\","
        "\"table\":true,\"export\":false,\"choices\":[\"off\",\"on\",\"offline\"],"
        "\"default\":\"off\",")!=0);
  CHECK(zJson && strstr(zJson, "{\"name\":\"since_sync\",\"kind\":\"integer\","
        "\"table\":false,\"export\":true,\"min\":0,\"max\":999999999999999,"
        "\"default\":null,")!=0);
  sqlite3_free(zJson);
}

int main(void){
  testTable();
  testParse();
  testToken();
  testConfig();
  testIds();
  DONE();
}
