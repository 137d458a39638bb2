/* test_json.c: the strict JSON parser (json.c). Every value type and escape
** gives the tree cJSON_ParseWithLength gives (types, keys, valuestring,
** valueint, valuedouble bit for bit, child order and links, the printed
** text); numbers convert bit for bit as strtod() does; each kind of
** malformed text is refused at its exact byte offset; the nesting limit;
** duplicate keys; a large input; freeing. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "json.h"
#include "testhelp.h"
#include "jsontree.h"

/* Print z[0..n-1] to stderr, non-printing bytes as \xHH, at most 80 bytes. */
static void note(const char *zLabel, const char *z, size_t n){
  size_t i;
  fprintf(stderr, "  %s: ", zLabel);
  for(i=0; i<n && i<80; i++){
    unsigned char c = (unsigned char)z[i];
    if( c>=0x20 && c<0x7f ) fputc(c, stderr); else fprintf(stderr, "\\x%02x", c);
  }
  fprintf(stderr, "%s (%zu bytes)\n", n>80 ? "..." : "", n);
}

/* atJsonParse on a heap copy of exactly n bytes (a sanitizer sees any read
** past the end), with *p full of garbage first; the input must be left as
** it was, and the copy is scribbled over and freed before the caller reads
** the tree (the tree must not point into the input). */
static int parseCopy(const char *z, size_t n, AtJson *p){
  char *zCopy = malloc(n ? n : 1);
  int rc;
  memcpy(zCopy, z, n);
  memset(p, 0xA5, sizeof(*p));
  rc = atJsonParse(zCopy, n, p);
  CHECK(memcmp(zCopy, z, n)==0);
  memset(zCopy, '#', n);
  free(zCopy);
  return rc;
}

/* z[0..n-1] parses, into cJSON_ParseWithLength's tree and printed text. */
static void same(const char *z, size_t n){
  AtJson j;
  cJSON *pTheirs = cJSON_ParseWithLength(z, n);
  int rc = parseCopy(z, n, &j);
  CHECK(rc==SQLITE_OK);
  CHECK(pTheirs!=0);
  if( rc==SQLITE_OK && pTheirs ){
    int bSame = sameTree(j.pRoot, pTheirs);
    int bLinks = linksOk(j.pRoot) && j.pRoot->next==0 && j.pRoot->prev==0;
    char *zA = cJSON_PrintUnformatted(j.pRoot), *zB = cJSON_PrintUnformatted(pTheirs);
    int bPrint = zA && zB && strcmp(zA, zB)==0;
    if( !bSame ){ note("input", z, n); fprintf(stderr, "  %s\n", zTreeDiff); }
    if( !bLinks ) note("bad links", z, n);
    if( !bPrint ){
      note("input", z, n);
      if( zA ) note("ours printed", zA, strlen(zA));
      if( zB ) note("cJSON printed", zB, strlen(zB));
    }
    CHECK(bSame);
    CHECK(bLinks);
    CHECK(bPrint);
    cJSON_free(zA);
    cJSON_free(zB);
  }else{
    note("input", z, n);
  }
  if( rc==SQLITE_OK ) atJsonFree(&j);
  cJSON_Delete(pTheirs);
}
#define SAME(lit) same(lit, sizeof(lit)-1)
#define PARSE(z, pj) parseCopy(z, strlen(z), pj)

/* ------------------------------------------------------------ value types */

static void testTypes(void){
  AtJson j;
  cJSON *p;
  SAME("null");
  SAME("true");
  SAME("false");
  SAME("0");
  SAME("-12.5e3");
  SAME("\"\"");
  SAME("\"text\"");
  SAME("[]");
  SAME("{}");
  SAME("[[]]");
  SAME("[{}]");
  SAME("{\"a\":{}}");
  SAME("{\"\":\"\"}");
  SAME("[null,true,false,0,-1,2.5,\"x\",[],{},[1],{\"k\":\"v\"}]");
  SAME("{\"n\":null,\"t\":true,\"f\":false,\"i\":42,\"d\":-0.25,\"s\":\"str\","
       "\"a\":[1,[2,[3]]],\"o\":{\"p\":{\"q\":[]}}}");
  SAME(" \t\r\n{ \"a\" :\t[ 1 , 2 ,\n3 ] ,\r\"b\" : { } } \r\n\t ");
  SAME("  7  ");
  SAME("\t\"s\"\n");
  SAME("{\"records\":[{\"id\":\"rec1\",\"createdTime\":\"2024-01-01T00:00:00.000Z\","
       "\"fields\":{\"Name\":\"a\\u00e9\\\"b\",\"N\":1.5,\"T\":[\"x\",\"y\"],\"B\":true,"
       "\"O\":{\"k\":null}}}],\"offset\":\"itr/rec1\"}");

  /* The node values themselves, as cJSON sets them. */
  CHECK(PARSE("[true,false,null,\"s\",3,[],{}]", &j)==SQLITE_OK);
  p = j.pRoot;
  CHECK(cJSON_IsArray(p) && cJSON_GetArraySize(p)==7);
  CHECK(cJSON_IsTrue(cJSON_GetArrayItem(p, 0)) && cJSON_GetArrayItem(p, 0)->valueint==1);
  CHECK(cJSON_IsFalse(cJSON_GetArrayItem(p, 1)) && cJSON_GetArrayItem(p, 1)->valueint==0);
  CHECK(cJSON_IsNull(cJSON_GetArrayItem(p, 2)));
  CHECK_STR(cJSON_GetStringValue(cJSON_GetArrayItem(p, 3)), "s");
  CHECK(cJSON_GetArrayItem(p, 4)->valueint==3 && cJSON_GetArrayItem(p, 4)->valuedouble==3.0);
  CHECK(cJSON_IsArray(cJSON_GetArrayItem(p, 5)) && cJSON_GetArrayItem(p, 5)->child==0);
  CHECK(cJSON_IsObject(cJSON_GetArrayItem(p, 6)) && cJSON_GetArrayItem(p, 6)->child==0);
  CHECK(cJSON_GetArrayItem(p, 3)->string==0);
  atJsonFree(&j);

  /* The records page, read as page.c reads it. */
  {
    static const char zPage[] =
      "{\"records\":[{\"id\":\"rec1\",\"fields\":{\"Name\":\"a\\u00e9\\\"b\",\"N\":1.5}},"
      "{\"id\":\"rec2\",\"fields\":{}}],\"offset\":\"itr/rec2\"}";
    const cJSON *pRecs, *pRec;
    CHECK(parseCopy(zPage, sizeof(zPage)-1, &j)==SQLITE_OK);
    pRecs = cJSON_GetObjectItemCaseSensitive(j.pRoot, "records");
    CHECK(cJSON_GetArraySize(pRecs)==2);
    pRec = cJSON_GetArrayItem(pRecs, 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pRec, "id")), "rec1");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
              cJSON_GetObjectItemCaseSensitive(pRec, "fields"), "Name")), "a\xc3\xa9\"b");
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
          cJSON_GetObjectItemCaseSensitive(pRec, "fields"), "N"))==1.5);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j.pRoot, "offset")),
              "itr/rec2");
    CHECK(cJSON_GetObjectItemCaseSensitive(j.pRoot, "Offset")==0);
    CHECK(cJSON_GetObjectItem(j.pRoot, "OFFSET")!=0);
    atJsonFree(&j);
  }
}

/* Only z[0..n-1] is read: the bytes after n are not part of the text. */
static void testLength(void){
  AtJson j;
  CHECK(atJsonParse("[1,2]xyz", 5, &j)==SQLITE_OK);
  CHECK(cJSON_GetArraySize(j.pRoot)==2);
  atJsonFree(&j);
  CHECK(atJsonParse("12345", 2, &j)==SQLITE_OK);
  CHECK(j.pRoot->valueint==12 && j.pRoot->valuedouble==12.0);
  atJsonFree(&j);
  CHECK(atJsonParse("\"ab\"cd", 4, &j)==SQLITE_OK);
  CHECK_STR(j.pRoot->valuestring, "ab");
  atJsonFree(&j);
  CHECK(atJsonParse("truex", 4, &j)==SQLITE_OK);
  CHECK(cJSON_IsTrue(j.pRoot));
  atJsonFree(&j);
  CHECK(atJsonParse("1.5e3", 3, &j)==SQLITE_OK);
  CHECK(j.pRoot->valuedouble==1.5);
  atJsonFree(&j);
  CHECK(atJsonParse("1.5e3", 4, &j)==SQLITE_ERROR && j.iErr==4);
  CHECK(atJsonParse("{\"a\":1}", 6, &j)==SQLITE_ERROR && j.iErr==6);
}

/* ---------------------------------------------------------------- strings */

/* zJson[0..n-1] is a string whose valuestring is zWant[0..nWant-1] (then
** its NUL), and the same as cJSON's. */
static void str(const char *zJson, size_t n, const char *zWant, size_t nWant){
  AtJson j;
  int rc = parseCopy(zJson, n, &j);
  int bOk = rc==SQLITE_OK && cJSON_IsString(j.pRoot) && j.pRoot->valuestring
         && strlen(j.pRoot->valuestring)==nWant
         && memcmp(j.pRoot->valuestring, zWant, nWant+1)==0;
  if( !bOk ){
    note("input", zJson, n);
    if( rc==SQLITE_OK && j.pRoot->valuestring ){
      note("got", j.pRoot->valuestring, strlen(j.pRoot->valuestring));
    }
    note("want", zWant, nWant);
  }
  CHECK(bOk);
  if( rc==SQLITE_OK ) atJsonFree(&j);
  same(zJson, n);
}
#define STR(json, want) str(json, sizeof(json)-1, want, sizeof(want)-1)

static void testStrings(void){
  STR("\"\"", "");
  STR("\"abc\"", "abc");
  /* Every two-character escape. */
  STR("\"\\\"\"", "\"");
  STR("\"\\\\\"", "\\");
  STR("\"\\/\"", "/");
  STR("\"\\b\"", "\b");
  STR("\"\\f\"", "\f");
  STR("\"\\n\"", "\n");
  STR("\"\\r\"", "\r");
  STR("\"\\t\"", "\t");
  STR("\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\"", "a\"b\\c/d\be\ff\ng\rh\ti");
  STR("\"\\\\\\\\\\\"\\\"\"", "\\\\\"\"");
  STR("\"/ unescaped\"", "/ unescaped");
  /* \u: 1-, 2- and 3-byte UTF-8, either case of hex digit. */
  STR("\"\\u0041\"", "A");
  STR("\"\\u0001\"", "\x01");
  STR("\"\\u001f\"", "\x1f");
  STR("\"\\u001F\"", "\x1f");
  STR("\"\\u0022\\u005c\\u005C\\u002f\"", "\"\\\\/");
  STR("\"\\u007f\"", "\x7f");
  STR("\"\\u0080\"", "\xc2\x80");
  STR("\"\\u00e9\"", "\xc3\xa9");
  STR("\"\\u00E9\"", "\xc3\xa9");
  STR("\"\\u07ff\"", "\xdf\xbf");
  STR("\"\\u0800\"", "\xe0\xa0\x80");
  STR("\"\\u20ac\"", "\xe2\x82\xac");
  STR("\"\\u20AC\"", "\xe2\x82\xac");
  STR("\"\\uabcd\\uABCD\\uAbCd\"", "\xea\xaf\x8d\xea\xaf\x8d\xea\xaf\x8d");
  STR("\"\\ud7ff\"", "\xed\x9f\xbf");
  STR("\"\\ue000\"", "\xee\x80\x80");
  STR("\"\\ufffd\"", "\xef\xbf\xbd");
  STR("\"\\uFFFF\"", "\xef\xbf\xbf");
  /* Surrogate pairs: 4-byte UTF-8. */
  STR("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80");
  STR("\"\\uD83D\\uDE00\"", "\xf0\x9f\x98\x80");
  STR("\"\\uD83d\\udE00\"", "\xf0\x9f\x98\x80");
  STR("\"\\ud800\\udc00\"", "\xf0\x90\x80\x80");
  STR("\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf");
  STR("\"\\ud834\\udd1e\"", "\xf0\x9d\x84\x9e");
  STR("\"x\\ud83d\\ude00y\\u00e9\\n\"", "x\xf0\x9f\x98\x80y\xc3\xa9\n");
  /* Raw UTF-8 bytes pass through unchanged; so do DEL and bytes 0x20..0x7e. */
  STR("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  STR("\"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\"", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac");
  STR("\"\x7f\"", "\x7f");
  STR("\" !#$%&'()*+,-.:;<=>?@[]^_`{|}~\"", " !#$%&'()*+,-.:;<=>?@[]^_`{|}~");
  /* \u0000 ends the C string, as with cJSON; but the value keeps every
  ** byte, and its length (atJsonStrLen): issue 19, text cut short. */
  STR("\"ab\\u0000cd\"", "ab");
  STR("\"\\u0000\"", "");
  SAME("{\"a\\u0000b\":1}");
  SAME("[\"x\\u0000\",\"y\"]");
  {
    AtJson j;
    CHECK(PARSE("{\"a\\u0000b\":\"c\\u0000d\"}", &j)==SQLITE_OK);
    CHECK_STR(j.pRoot->child->string, "a");
    CHECK_STR(j.pRoot->child->valuestring, "c");
    CHECK(atJsonStrLen(j.pRoot->child)==3);
    CHECK(memcmp(j.pRoot->child->valuestring, "c\0d", 4)==0);
    atJsonFree(&j);
  }
  {
    AtJson j;
    AtBuf b;
    memset(&b, 0, sizeof(b));
    CHECK(PARSE("[\"nul\\u0000inside\\u0000\",\"\\u0000\",\"plain\"]", &j)==SQLITE_OK);
    CHECK(atJsonStrLen(j.pRoot->child)==11);
    CHECK(atJsonStrLen(j.pRoot->child->next)==1);
    CHECK(atJsonStrLen(j.pRoot->child->next->next)==5);
    CHECK((j.pRoot->child->next->next->type & AT_JSON_STRLEN)==0);
    /* printed whole, the NULs escaped */
    CHECK(atJsonPrint(&b, j.pRoot)==SQLITE_OK);
    CHECK_STR(b.z, "[\"nul\\u0000inside\\u0000\",\"\\u0000\",\"plain\"]");
    atBufClear(&b);
    atJsonFree(&j);
  }
  /* Escapes in keys decode as in values. */
  SAME("{\"k\\u00e9\\n\\\"\":\"v\",\"\\ud83d\\ude00\":[]}");
  {
    AtJson j;
    CHECK(PARSE("{\"k\\u00e9\\n\\\"\":\"v\"}", &j)==SQLITE_OK);
    CHECK_STR(j.pRoot->child->string, "k\xc3\xa9\n\"");
    atJsonFree(&j);
  }
}

/* ---------------------------------------------------------------- numbers */

static int clampInt(double r){
  if( r>=INT_MAX ) return INT_MAX;
  if( r<=(double)INT_MIN ) return INT_MIN;
  return (int)r;
}

/* zNum alone, in an array and as a member: bit for bit strtod(), valueint
** clamped as cJSON does, and cJSON's tree. */
static void num(const char *zNum){
  AtJson j;
  double rWant = strtod(zNum, 0);
  size_t n = strlen(zNum);
  int rc = parseCopy(zNum, n, &j);
  char *z;
  CHECK(rc==SQLITE_OK);
  if( rc==SQLITE_OK ){
    int bOk = cJSON_IsNumber(j.pRoot)
           && memcmp(&j.pRoot->valuedouble, &rWant, sizeof(double))==0
           && j.pRoot->valueint==clampInt(rWant);
    if( !bOk ){
      fprintf(stderr, "  %s: got %.17g (int %d), strtod %.17g (int %d)\n", zNum,
              j.pRoot->valuedouble, j.pRoot->valueint, rWant, clampInt(rWant));
    }
    CHECK(bOk);
    atJsonFree(&j);
  }else{
    note("number refused", zNum, n);
  }
  same(zNum, n);
  z = sqlite3_mprintf("[%s,%s]", zNum, zNum);
  same(z, strlen(z));
  sqlite3_free(z);
  z = sqlite3_mprintf("{\"n\":%s }", zNum);
  same(z, strlen(z));
  sqlite3_free(z);
}

/* zNum gives exactly r, and valueint iWant (checks strtod's figures too). */
static void numIs(const char *zNum, double r, int iWant){
  AtJson j;
  CHECK(parseCopy(zNum, strlen(zNum), &j)==SQLITE_OK);
  CHECK(memcmp(&j.pRoot->valuedouble, &r, sizeof(double))==0);
  CHECK(j.pRoot->valueint==iWant);
  atJsonFree(&j);
}

static void testNumbers(void){
  static const char *azNum[] = {
    "0", "-0", "1", "-1", "7", "42", "-42", "10", "100", "65536",
    "0.1", "-0.1", "0.5", "1.5", "-1.5", "0.0", "-0.0", "0e0", "0E+0", "-0e-0",
    "1E5", "1e+5", "1e-5", "1E-5", "1e5", "2e0", "123.456e7", "123.456E-7",
    "1e308", "1e309", "-1e309", "1e-400", "-1e-400",
    "2.2250738585072014e-308", "2.2250738585072011e-308", "4.9e-324", "5e-324",
    "2e-324", "2.4703282292062327e-324", "2.4703282292062328e-324", "1e-320",
    "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308",
    "-1.7976931348623157e308", "8.98846567431158e307",
    "123456789012345678901234567890", "-123456789012345678901234567890",
    "9007199254740993", "9007199254740992", "-9007199254740993", "18446744073709551616",
    "0.30000000000000004", "0.3", "3.141592653589793238462643383279502884197169399375",
    "0.1000000000000000055511151231257827021181583404541015625",
    "1.00000000000000011102230246251565404236316680908203125",
    "1.00000000000000011102230246251565404236316680908203125000000000000000000000001",
    "0.000000000000000000000000000000000000000000000000000000000000000000000000000001",
    "1e-300", "1e-310", "12345678901234567890e-30", "0.00000000000000000001e-300",
    "1e22", "1e23", "100000000000000000000000", "-9.87654321e-250",
    "2147483646", "2147483647", "2147483648", "-2147483647", "-2147483648",
    "-2147483649", "2147483646.9", "2147483647.5", "-2147483648.5", "-2147483647.9",
    "4294967296", "-4294967296", "1e10", "-1e10", "0.9999999999999999", "-1.9",
  };
  size_t i;
  for(i=0; i<sizeof(azNum)/sizeof(azNum[0]); i++) num(azNum[i]);

  /* Figures known apart from strtod(). */
  numIs("-0", -0.0, 0);
  numIs("1e309", HUGE_VAL, INT_MAX);
  numIs("-1e309", -HUGE_VAL, INT_MIN);
  numIs("4.9e-324", 4.9406564584124654e-324, 0);
  numIs("2.4703282292062327e-324", 0.0, 0);
  numIs("2.4703282292062328e-324", 4.9406564584124654e-324, 0);
  numIs("1.7976931348623158e308", 1.7976931348623157e308, INT_MAX);
  numIs("1.7976931348623159e308", HUGE_VAL, INT_MAX);
  numIs("9007199254740993", 9007199254740992.0, INT_MAX);
  numIs("0.30000000000000004", 0.30000000000000004, 0);
  numIs("1.00000000000000011102230246251565404236316680908203125", 1.0, 1);
  numIs("1.00000000000000011102230246251565404236316680908203125000000000000000000000001",
        1.0000000000000002, 1);
  numIs("2147483647", 2147483647.0, INT_MAX);
  numIs("2147483646.9", 2147483646.9, 2147483646);
  numIs("2147483647.5", 2147483647.5, INT_MAX);
  numIs("-2147483648", -2147483648.0, INT_MIN);
  numIs("-2147483647.9", -2147483647.9, -2147483647);
  numIs("-2147483648.5", -2147483648.5, INT_MIN);
  numIs("-1.9", -1.9, -1);
  numIs("1E5", 100000.0, 100000);
  numIs("1e-5", 0.00001, 0);

  /* An exponent too long to count, cancelled by as many leading zeros:
  ** not the fast path (it gave 1.0 when the count stopped at 100000).
  ** Found by review; beyond the fuzzer's 64 KB inputs. */
  {
    sqlite3_str *pStr = sqlite3_str_new(0);
    char *z;
    int i;
    sqlite3_str_appendall(pStr, "0.");
    for(i=0; i<99999; i++) sqlite3_str_appendchar(pStr, 1, '0');
    sqlite3_str_appendall(pStr, "1e1000000");
    z = sqlite3_str_finish(pStr);
    numIs(z, HUGE_VAL, INT_MAX);
    z[strlen(z)-9] = 0;                                   /* no exponent */
    numIs(z, 0.0, 0);                                     /* 10^-100000: 0 */
    sqlite3_free(z);
  }
}

/* ----------------------------------------------------------------- errors */

static void testErrors(void){
  static const struct { const char *z; int n; int rc; size_t iErr; } a[] = {
    /* n<0: strlen(z) */
    { "",                         0, SQLITE_ERROR, 0 },   /* empty input */
    { "   ",                     -1, SQLITE_ERROR, 3 },   /* only whitespace */
    { " \t\r\n",                 -1, SQLITE_ERROR, 4 },
    { "{} x",                    -1, SQLITE_ERROR, 3 },   /* trailing garbage */
    { "1 2",                     -1, SQLITE_ERROR, 2 },
    { "[] []",                   -1, SQLITE_ERROR, 3 },
    { "[1]]",                    -1, SQLITE_ERROR, 3 },
    { "\"a\"\"b\"",              -1, SQLITE_ERROR, 3 },
    { "01",                      -1, SQLITE_ERROR, 1 },   /* leading zeros */
    { "-01",                     -1, SQLITE_ERROR, 2 },
    { "[00]",                    -1, SQLITE_ERROR, 2 },
    { "0x10",                    -1, SQLITE_ERROR, 1 },
    { "-",                       -1, SQLITE_ERROR, 1 },   /* lone minus */
    { "[-]",                     -1, SQLITE_ERROR, 2 },
    { "-a",                      -1, SQLITE_ERROR, 1 },
    { "--1",                     -1, SQLITE_ERROR, 1 },
    { "1.",                      -1, SQLITE_ERROR, 2 },   /* no fraction digits */
    { "[1.]",                    -1, SQLITE_ERROR, 3 },
    { "1.e5",                    -1, SQLITE_ERROR, 2 },
    { ".5",                      -1, SQLITE_ERROR, 0 },   /* no integer part */
    { "-.5",                     -1, SQLITE_ERROR, 1 },
    { "1e",                      -1, SQLITE_ERROR, 2 },   /* no exponent digits */
    { "1e+",                     -1, SQLITE_ERROR, 3 },
    { "1E-x",                    -1, SQLITE_ERROR, 3 },
    { "[1e]",                    -1, SQLITE_ERROR, 3 },
    { "1e5.5",                   -1, SQLITE_ERROR, 3 },
    { "+1",                      -1, SQLITE_ERROR, 0 },   /* plus sign */
    { "NaN",                     -1, SQLITE_ERROR, 0 },
    { "Infinity",                -1, SQLITE_ERROR, 0 },
    { "-Infinity",               -1, SQLITE_ERROR, 1 },
    { "[1,]",                    -1, SQLITE_ERROR, 3 },   /* trailing comma */
    { "[,1]",                    -1, SQLITE_ERROR, 1 },
    { "[1 2]",                   -1, SQLITE_ERROR, 3 },
    { "[1,,2]",                  -1, SQLITE_ERROR, 3 },
    { "[",                       -1, SQLITE_ERROR, 1 },
    { "[1",                      -1, SQLITE_ERROR, 2 },
    { "[1,2",                    -1, SQLITE_ERROR, 4 },
    { "]",                       -1, SQLITE_ERROR, 0 },
    { "[}",                      -1, SQLITE_ERROR, 1 },
    { "{",                       -1, SQLITE_ERROR, 1 },
    { "{\"a\":1,}",              -1, SQLITE_ERROR, 7 },   /* trailing comma */
    { "{\"a\" 1}",               -1, SQLITE_ERROR, 5 },   /* no colon */
    { "{\"a\"}",                 -1, SQLITE_ERROR, 4 },
    { "{\"a\"",                  -1, SQLITE_ERROR, 4 },
    { "{\"a\":",                 -1, SQLITE_ERROR, 5 },
    { "{\"a\":}",                -1, SQLITE_ERROR, 5 },
    { "{\"a\":1",                -1, SQLITE_ERROR, 6 },
    { "{\"a\":1 \"b\":2}",       -1, SQLITE_ERROR, 7 },
    { "{\"a\":1,\"b\"}",         -1, SQLITE_ERROR, 10 },
    { "{1:2}",                   -1, SQLITE_ERROR, 1 },   /* key not a string */
    { "{a:2}",                   -1, SQLITE_ERROR, 1 },
    { "{'a':2}",                 -1, SQLITE_ERROR, 1 },
    { "{\"a\"::1}",              -1, SQLITE_ERROR, 5 },
    { "{]",                      -1, SQLITE_ERROR, 1 },
    { "\"abc",                   -1, SQLITE_ERROR, 4 },   /* unterminated string */
    { "\"",                      -1, SQLITE_ERROR, 1 },
    { "[\"abc",                  -1, SQLITE_ERROR, 5 },
    { "\"abc\\",                 -1, SQLITE_ERROR, 5 },
    { "\"abc\\\"",               -1, SQLITE_ERROR, 6 },
    { "\"\\u00",                 -1, SQLITE_ERROR, 5 },
    { "\"\\uD834\\uDD1E",        -1, SQLITE_ERROR, 13 },
    { "'a'",                     -1, SQLITE_ERROR, 0 },
    { "\"a\x01" "b\"",           -1, SQLITE_ERROR, 2 },   /* raw control chars */
    { "\"a\nb\"",                -1, SQLITE_ERROR, 2 },
    { "\"\t\"",                  -1, SQLITE_ERROR, 1 },
    { "\"\x1f\"",                -1, SQLITE_ERROR, 1 },
    { "{\"a\rb\":1}",            -1, SQLITE_ERROR, 3 },
    { "\"\\x\"",                 -1, SQLITE_ERROR, 2 },   /* invalid escapes */
    { "\"\\a\"",                 -1, SQLITE_ERROR, 2 },
    { "\"\\U0041\"",             -1, SQLITE_ERROR, 2 },
    { "\"\\'\"",                 -1, SQLITE_ERROR, 2 },
    { "\"\\u12\"",               -1, SQLITE_ERROR, 5 },   /* short \u */
    { "\"\\u\"",                 -1, SQLITE_ERROR, 3 },
    { "\"\\u12G4\"",             -1, SQLITE_ERROR, 5 },   /* bad hex */
    { "\"\\ug000\"",             -1, SQLITE_ERROR, 3 },
    { "\"\\u-123\"",             -1, SQLITE_ERROR, 3 },
    { "\"\\ud800\"",             -1, SQLITE_ERROR, 7 },   /* lone high surrogate */
    { "\"\\ud800x\"",            -1, SQLITE_ERROR, 7 },
    { "\"\\ud800\\n\"",          -1, SQLITE_ERROR, 7 },
    { "\"\\ud800\\u0041\"",      -1, SQLITE_ERROR, 7 },   /* high, then not low */
    { "\"\\ud800\\ud800\"",      -1, SQLITE_ERROR, 7 },
    { "\"\\ud800\\u00\"",        -1, SQLITE_ERROR, 11 },
    { "\"\\udc00\"",             -1, SQLITE_ERROR, 1 },   /* lone low surrogate */
    { "\"\\uDFFF\\uD800\"",      -1, SQLITE_ERROR, 1 },
    { "tru",                     -1, SQLITE_ERROR, 3 },   /* bad literals */
    { "nul",                     -1, SQLITE_ERROR, 3 },
    { "fals",                    -1, SQLITE_ERROR, 4 },
    { "True",                    -1, SQLITE_ERROR, 0 },
    { "NULL",                    -1, SQLITE_ERROR, 0 },
    { "trUe",                    -1, SQLITE_ERROR, 2 },
    { "nulll",                   -1, SQLITE_ERROR, 4 },
    { "[true false]",            -1, SQLITE_ERROR, 6 },
    { "[tru]",                   -1, SQLITE_ERROR, 4 },
    { "x",                       -1, SQLITE_ERROR, 0 },
    { "\v1",                     -1, SQLITE_ERROR, 0 },   /* not JSON whitespace */
    { "\f[]",                    -1, SQLITE_ERROR, 0 },
    { "[1,\xa0" "2]",            -1, SQLITE_ERROR, 3 },
    { "\0",                       1, SQLITE_ERROR, 0 },   /* NUL bytes */
    { "[1,\0 2]",                 7, SQLITE_ERROR, 3 },
    { "\"a\0b\"",                 5, SQLITE_ERROR, 2 },
    { "{}\0",                     3, SQLITE_ERROR, 2 },
    { "1\0",                      2, SQLITE_ERROR, 1 },
    { "tr\0e",                    4, SQLITE_ERROR, 2 },
  };
  size_t i;
  for(i=0; i<sizeof(a)/sizeof(a[0]); i++){
    AtJson j;
    size_t n = a[i].n<0 ? strlen(a[i].z) : (size_t)a[i].n;
    int rc = parseCopy(a[i].z, n, &j);
    int bOk = rc==a[i].rc && (rc!=SQLITE_ERROR || j.iErr==a[i].iErr);
    if( !bOk ){
      note("error case", a[i].z, n);
      fprintf(stderr, "  got rc %d offset %zu, want rc %d offset %zu\n", rc,
              rc==SQLITE_ERROR ? j.iErr : 0, a[i].rc, a[i].iErr);
    }
    CHECK(bOk);
    /* No atJsonFree() after an error: the leak checker holds it to that. */
    if( rc==SQLITE_OK ) atJsonFree(&j);
  }
}

/* ---------------------------------------------------------------- nesting */

/* nArr arrays inside nObj objects {"a":...} around zMid (sqlite3_malloc'd). */
static char *nest(int nObj, int nArr, const char *zMid){
  sqlite3_str *p = sqlite3_str_new(0);
  int i;
  for(i=0; i<nObj; i++) sqlite3_str_appendall(p, "{\"a\":");
  sqlite3_str_appendchar(p, nArr, '[');
  sqlite3_str_appendall(p, zMid);
  sqlite3_str_appendchar(p, nArr, ']');
  sqlite3_str_appendchar(p, nObj, '}');
  return sqlite3_str_finish(p);
}

static void nestErr(char *z, size_t iErr){
  AtJson j;
  int rc = parseCopy(z, strlen(z), &j);
  if( rc!=SQLITE_ERROR || j.iErr!=iErr ){
    note("nesting", z, strlen(z));
    fprintf(stderr, "  got rc %d offset %zu, want offset %zu\n", rc,
            rc==SQLITE_ERROR ? j.iErr : 0, iErr);
  }
  CHECK(rc==SQLITE_ERROR && j.iErr==iErr);
  if( rc==SQLITE_OK ) atJsonFree(&j);
  sqlite3_free(z);
}

static void nestOk(char *z){
  same(z, strlen(z));
  sqlite3_free(z);
}

static void testNesting(void){
  char *z, *zIn;
  /* At most 1000 arrays/objects open at once, as cJSON. */
  nestOk(nest(0, 1000, ""));
  nestOk(nest(0, 1000, "1"));
  nestErr(nest(0, 1001, ""), 1000);
  nestOk(nest(999, 0, "1"));
  nestOk(nest(1000, 0, "1"));
  nestErr(nest(1001, 0, "1"), 5000);
  nestOk(nest(999, 1, "true"));
  nestOk(nest(500, 500, "\"s\""));
  nestErr(nest(500, 501, "\"s\""), 3000);
  nestErr(nest(501, 500, "\"s\""), 3004);
  nestOk(nest(999, 0, "{}"));
  nestErr(nest(1000, 0, "{}"), 5000);
  nestErr(nest(1000, 1, "0"), 5000);
  /* Closed containers no longer count: 1000-deep arrays side by side. */
  zIn = nest(0, 999, "");
  z = sqlite3_mprintf("[%s,%s,%s]", zIn, zIn, zIn);
  nestOk(z);
  sqlite3_free(zIn);
  zIn = nest(0, 998, "");
  z = sqlite3_mprintf("{\"k\":[%s,%s],\"j\":%s}", zIn, zIn, zIn);
  nestOk(z);
  sqlite3_free(zIn);
  zIn = nest(0, 1000, "");
  z = sqlite3_mprintf("[%s]", zIn);
  nestErr(z, 1000);
  sqlite3_free(zIn);
  /* A long run of openers is refused at the first one too many. */
  z = sqlite3_malloc(100001);
  memset(z, '[', 100000);
  z[100000] = 0;
  nestErr(z, 1000);
  /* Brackets inside strings do not nest. */
  z = sqlite3_malloc(3003);
  z[0] = '"';
  memset(z+1, '[', 3000);
  z[3001] = '"';
  z[3002] = 0;
  nestOk(z);
}

/* ------------------------------------------------------------- duplicates */

static void testDuplicates(void){
  AtJson j;
  const cJSON *c;
  static const char z[] = "{\"a\":1,\"b\":2,\"a\":3,\"a\":{\"x\":4},\"A\":5}";
  CHECK(parseCopy(z, sizeof(z)-1, &j)==SQLITE_OK);
  c = j.pRoot->child;
  CHECK(c && strcmp(c->string, "a")==0 && c->valueint==1);
  c = c ? c->next : 0;
  CHECK(c && strcmp(c->string, "b")==0 && c->valueint==2);
  c = c ? c->next : 0;
  CHECK(c && strcmp(c->string, "a")==0 && c->valueint==3);
  c = c ? c->next : 0;
  CHECK(c && strcmp(c->string, "a")==0 && cJSON_IsObject(c));
  c = c ? c->next : 0;
  CHECK(c && strcmp(c->string, "A")==0 && c->valueint==5 && c->next==0);
  CHECK(cJSON_GetArraySize(j.pRoot)==5);
  CHECK(cJSON_GetObjectItemCaseSensitive(j.pRoot, "a")==j.pRoot->child);
  CHECK(cJSON_GetObjectItemCaseSensitive(j.pRoot, "A")->valueint==5);
  CHECK(cJSON_GetObjectItem(j.pRoot, "A")->valueint==1);
  CHECK(cJSON_GetObjectItemCaseSensitive(j.pRoot, "c")==0);
  atJsonFree(&j);
  same(z, sizeof(z)-1);
  SAME("{\"\":1,\"\":2}");
  SAME("[{\"k\":1,\"k\":1},{\"k\":2}]");
}

/* ------------------------------------------------------------------ large */

static void testLarge(void){
  sqlite3_str *p = sqlite3_str_new(0);
  AtJson j;
  char *z;
  size_t n;
  int i;
  /* 100,000 small objects: several megabytes of nodes and strings, far past
  ** the arena's first block. */
  sqlite3_str_appendchar(p, 1, '[');
  for(i=0; i<100000; i++){
    sqlite3_str_appendf(p, "%s{\"id\":\"rec%06d\",\"n\":%d,\"r\":%d.25,\"e\":%de-3,"
        "\"s\":\"x\\u00e9\\n%d\",\"b\":[true,false,null],\"o\":{}}",
        i ? "," : "", i, i, -i, i, i);
  }
  sqlite3_str_appendchar(p, 1, ']');
  n = (size_t)sqlite3_str_length(p);
  z = sqlite3_str_finish(p);
  same(z, n);
  CHECK(parseCopy(z, n, &j)==SQLITE_OK);
  CHECK(cJSON_GetArraySize(j.pRoot)==100000);
  CHECK(j.pRoot->child->prev==cJSON_GetArrayItem(j.pRoot, 99999));
  CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            j.pRoot->child->prev, "id")), "rec099999");
  CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(j.pRoot, 54321), "s")), "x\xc3\xa9\n54321");
  CHECK(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j.pRoot, 54321), "r")
        ->valuedouble==-54321.25);
  atJsonFree(&j);
  sqlite3_free(z);

  /* One long string (4 MB, with escapes throughout) and one long key. */
  p = sqlite3_str_new(0);
  sqlite3_str_appendall(p, "{\"");
  sqlite3_str_appendchar(p, 300000, 'k');
  sqlite3_str_appendall(p, "\":\"");
  for(i=0; i<400000; i++) sqlite3_str_appendall(p, "ab\\n\\u00e9");
  sqlite3_str_appendall(p, "\",\"x\":[\"");
  sqlite3_str_appendchar(p, 1000000, 'y');
  sqlite3_str_appendall(p, "\"]}");
  n = (size_t)sqlite3_str_length(p);
  z = sqlite3_str_finish(p);
  same(z, n);
  CHECK(parseCopy(z, n, &j)==SQLITE_OK);
  CHECK(strlen(j.pRoot->child->string)==300000);
  CHECK(strlen(j.pRoot->child->valuestring)==400000*5);
  CHECK(memcmp(j.pRoot->child->valuestring + 5*399999, "ab\n\xc3\xa9", 6)==0);
  CHECK(strlen(j.pRoot->child->next->child->valuestring)==1000000);
  atJsonFree(&j);
  sqlite3_free(z);
}

/* ------------------------------------------------------------------- free */

static void testFree(void){
  AtJson j, k;
  memset(&j, 0, sizeof(j));
  atJsonFree(&j);                                 /* zeroed: harmless */
  atJsonFree(&j);
  CHECK(PARSE("[1,", &j)==SQLITE_ERROR && j.iErr==3);
  atJsonFree(&j);                                 /* after an error: harmless */
  CHECK(PARSE("{\"a\":[1,2,3]}", &j)==SQLITE_OK);
  atJsonFree(&j);
  memset(&j, 0, sizeof(j));
  atJsonFree(&j);                                 /* twice after a memset */
  atJsonFree(&j);
  /* Two trees at once are independent; the AtJson can be used again. */
  CHECK(PARSE("[\"one\"]", &j)==SQLITE_OK);
  CHECK(PARSE("[\"two\"]", &k)==SQLITE_OK);
  atJsonFree(&j);
  CHECK_STR(k.pRoot->child->valuestring, "two");
  CHECK(PARSE("[\"three\"]", &j)==SQLITE_OK);
  CHECK_STR(j.pRoot->child->valuestring, "three");
  atJsonFree(&k);
  atJsonFree(&j);
}

int main(void){
  testTypes();
  testLength();
  testStrings();
  testNumbers();
  testErrors();
  testNesting();
  testDuplicates();
  testLarge();
  testFree();
  DONE();
}
