/* test_writer.c: rows written as CSV and JSON Lines, each value conformed
** to its Spark type, and the export's number formatting (writer.c). */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "buf.h"
#include "json.h"
#include "schema.h"
#include "spark.h"
#include "util.h"
#include "writer.h"
#include "testhelp.h"
#include "fixture_table.h"

/* Write the record zRecord (fields keyed by id) as a row; compare. */
static void row(Rows *r, int bJson, const char *zRecord, const char *zWant){
  cJSON *pRec = cJSON_Parse(zRecord);
  const cJSON *apCell[16], *pVal;
  AtBuf buf;
  memset(&buf, 0, sizeof(buf));
  memset(apCell, 0, sizeof(apCell));
  cJSON_ArrayForEach(pVal, cJSON_GetObjectItemCaseSensitive(pRec, "fields")){
    apCell[atSchemaFieldById(&r->schema, pVal->string)] = pVal;
  }
  CHECK((bJson ? atJsonRow : atCsvRow)(&buf, &r->spark, pRec, apCell,
                                       r->anUntyped)==SQLITE_OK);
  CHECK_STR(buf.z, zWant);
  atBufClear(&buf);
  cJSON_Delete(pRec);
}

#define REC(F) "{\"id\":\"recAAAAAAAAAAAAAA\",\"createdTime\":\"2024-01-02T03:04:05.000Z\"," \
               "\"fields\":{" F "}}"

static void testRows(void){
  Rows r;
  char *z;
  rowsOpen(&r, 0);
  z = atSparkSchemaDdl(&r.spark);
  CHECK_STR(z, "`id` STRING NOT NULL, `createdTime` TIMESTAMP, `name` STRING, "
               "`qty` BIGINT, `cost` DOUBLE, `done` BOOLEAN, `due` DATE, "
               "`at` TIMESTAMP, `tags` STRING, `who` STRING, `new` STRING");
  sqlite3_free(z);
  /* Empty: NULLs are empty fields, an absent checkbox is false. */
  row(&r, 0, REC(""), "\"recAAAAAAAAAAAAAA\",2024-01-02T03:04:05.000Z,,,,false,,,,,\n");
  /* Every kind, with quotes, commas and newlines in text. */
  row(&r, 0, REC("\"fld00000000000001\":\"a \\\"b\\\", c\\nd\","
                 "\"fld00000000000002\":3000000007,"
                 "\"fld00000000000003\":0.1,"
                 "\"fld00000000000004\":true,"
                 "\"fld00000000000005\":\"2024-02-29\","
                 "\"fld00000000000006\":\"2024-02-29T23:59:59.999Z\","
                 "\"fld00000000000007\":[\"x\",\"y \\\"z\\\"\"],"
                 "\"fld00000000000008\":{\"id\":\"usrA\",\"email\":\"a@b.c\",\"name\":\"A\"},"
                 "\"fld00000000000009\":\"plain\""),
      "\"recAAAAAAAAAAAAAA\",2024-01-02T03:04:05.000Z,\"a \"\"b\"\", c\nd\","
      "3000000007,0.1,true,2024-02-29,2024-02-29T23:59:59.999Z,"
      "\"[\"\"x\"\",\"\"y \\\"\"z\\\"\"\"\"]\","
      "\"{\"\"id\"\":\"\"usrA\"\",\"\"email\"\":\"\"a@b.c\"\",\"\"name\"\":\"\"A\"\"}\","
      "\"\"\"plain\"\"\"\n");
  CHECK(r.anUntyped[4]==0);
  /* What cannot be typed is null and counted: an error, NaN, a fraction in
  ** a long, a bad date, a time without zone, a string in a boolean. */
  row(&r, 0, REC("\"fld00000000000001\":{\"error\":\"#ERROR!\"},"
                 "\"fld00000000000002\":1.5,"
                 "\"fld00000000000003\":{\"specialValue\":\"NaN\"},"
                 "\"fld00000000000004\":\"yes\","
                 "\"fld00000000000005\":\"2024-2-9\","
                 "\"fld00000000000006\":\"2024-02-29T23:59:59\""),
      "\"recAAAAAAAAAAAAAA\",2024-01-02T03:04:05.000Z,,,,,,,,,\n");
  CHECK(r.anUntyped[2]==1 && r.anUntyped[3]==1 && r.anUntyped[4]==1);
  CHECK(r.anUntyped[5]==1 && r.anUntyped[6]==1 && r.anUntyped[7]==1);
  CHECK(r.anUntyped[0]==0 && r.anUntyped[8]==0);
  /* Dates and times of the right shape that name no day or instant are
  ** not of the column's type either (issue 19): null and counted, as Spark
  ** and DuckDB would refuse them. Leap days are days. */
  {
    static const char *const azBadDate[] = { "2024-02-30", "2023-02-29",
      "2100-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "0000-01-01",
      "2024-01-00" };
    static const char *const azBadTime[] = { "2024-02-30T00:00:00.000Z",
      "2024-01-01T24:00:00.000Z", "2024-01-01T23:60:00.000Z",
      "2024-01-01T23:59:60.000Z", "2024-01-01T12:00:00+19:00",
      "2024-01-01T12:00:00+05:60" };
    sqlite3_int64 nDate = r.anUntyped[6], nTime = r.anUntyped[7];
    size_t k;
    for(k=0; k<sizeof(azBadDate)/sizeof(azBadDate[0]); k++){
      char *zRec = sqlite3_mprintf(REC("\"fld00000000000005\":\"%s\""), azBadDate[k]);
      row(&r, 0, zRec, "\"recAAAAAAAAAAAAAA\",2024-01-02T03:04:05.000Z,,,,false,,,,,\n");
      sqlite3_free(zRec);
    }
    for(k=0; k<sizeof(azBadTime)/sizeof(azBadTime[0]); k++){
      char *zRec = sqlite3_mprintf(REC("\"fld00000000000006\":\"%s\""), azBadTime[k]);
      row(&r, 0, zRec, "\"recAAAAAAAAAAAAAA\",2024-01-02T03:04:05.000Z,,,,false,,,,,\n");
      sqlite3_free(zRec);
    }
    CHECK(r.anUntyped[6]==nDate+8 && r.anUntyped[7]==nTime+6);
    row(&r, 0, REC("\"fld00000000000005\":\"2000-02-29\","
                   "\"fld00000000000006\":\"1999-12-31T23:59:59-18:00\""),
        "\"recAAAAAAAAAAAAAA\",2024-01-02T03:04:05.000Z,,,,false,2000-02-29,"
        "1999-12-31T23:59:59-18:00,,,\n");
    CHECK(r.anUntyped[6]==nDate+8 && r.anUntyped[7]==nTime+6);
  }
  /* Text holding a NUL keeps every byte (issue 19: it was cut short):
  ** raw inside a quoted CSV field, \u0000 in JSON Lines; a date that holds
  ** one is no date. The page comes from json.c, as in an export. */
  {
    AtJson j;
    AtBuf b;
    const cJSON *apCell[16];
    static const char zPage[] = REC("\"fld00000000000001\":\"nul\\u0000inside\","
                                    "\"fld00000000000005\":\"2024-01-01\\u0000x\"");
    static const char zWant[] = "\"recAAAAAAAAAAAAAA\",2024-01-02T03:04:05.000Z,"
                                "\"nul\0inside\",,,false,,,,,\n";
    sqlite3_int64 nDate = r.anUntyped[6];
    memset(&b, 0, sizeof(b));
    memset(apCell, 0, sizeof(apCell));
    CHECK(atJsonParse(zPage, sizeof(zPage)-1, &j)==SQLITE_OK);
    apCell[0] = cJSON_GetObjectItemCaseSensitive(
                  cJSON_GetObjectItemCaseSensitive(j.pRoot, "fields"), "fld00000000000001");
    apCell[4] = cJSON_GetObjectItemCaseSensitive(
                  cJSON_GetObjectItemCaseSensitive(j.pRoot, "fields"), "fld00000000000005");
    CHECK(atCsvRow(&b, &r.spark, j.pRoot, apCell, r.anUntyped)==SQLITE_OK);
    CHECK(b.n==sizeof(zWant)-1 && memcmp(b.z, zWant, b.n)==0);
    CHECK(r.anUntyped[6]==nDate+1);
    atBufClear(&b);
    atJsonFree(&j);
  }
  /* Bytes that are not UTF-8 (issue 20: a server's) are no text: null and
  ** counted, in a string column and in a column of JSON text. */
  {
    sqlite3_int64 nName = r.anUntyped[2], nTags = r.anUntyped[8];
    row(&r, 0, REC("\"fld00000000000001\":\"bad \xff byte\","
                   "\"fld00000000000007\":[\"ok\",\"\xc3\x28\"]"),
        "\"recAAAAAAAAAAAAAA\",2024-01-02T03:04:05.000Z,,,,false,,,,,\n");
    CHECK(r.anUntyped[2]==nName+1 && r.anUntyped[8]==nTags+1);
    row(&r, 0, REC("\"fld00000000000001\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\""),
        "\"recAAAAAAAAAAAAAA\",2024-01-02T03:04:05.000Z,\"caf\xc3\xa9 \xf0\x9f\x98\x80\","
        ",,false,,,,,\n");
    CHECK(r.anUntyped[2]==nName+1);
  }
  /* The check itself: RFC 3629's rules. */
  CHECK(atUtf8Valid("", 0) && atUtf8Valid("a\0b", 3));
  CHECK(atUtf8Valid("\xc3\xa9\xe2\x82\xac\xf4\x8f\xbf\xbf", 9));
  CHECK(!atUtf8Valid("\xc0\xaf", 2) && !atUtf8Valid("\xe0\x80\xaf", 3));  /* overlong */
  CHECK(!atUtf8Valid("\xed\xa0\x80", 3));                                /* surrogate */
  CHECK(!atUtf8Valid("\xf4\x90\x80\x80", 4) && !atUtf8Valid("\xf5\x80\x80\x80", 4));
  CHECK(!atUtf8Valid("\xe2\x82", 2) && !atUtf8Valid("\x80", 1) && !atUtf8Valid("\xff", 1));
  /* Doubles read back exactly; a number in a text field keeps its digits. */
  row(&r, 0, REC("\"fld00000000000001\":42,\"fld00000000000003\":1e300,"
                 "\"fld00000000000002\":-9007199254740992"),
      "\"recAAAAAAAAAAAAAA\",2024-01-02T03:04:05.000Z,\"42\",-9007199254740992,"
      "1e+300,false,,,,,\n");
  rowsClose(&r);

  rowsOpen(&r, 1);
  z = atSparkSchemaDdl(&r.spark);
  CHECK_STR(z, "`id` STRING NOT NULL, `createdTime` TIMESTAMP, `name` STRING, "
               "`qty` BIGINT, `cost` DOUBLE, `done` BOOLEAN, `due` DATE, "
               "`at` TIMESTAMP, `tags` ARRAY<STRING>, "
               "`who` STRUCT<`id`: STRING, `email`: STRING, `name`: STRING>, "
               "`new` STRING");
  sqlite3_free(z);
  row(&r, 1, REC(""), "{\"id\":\"recAAAAAAAAAAAAAA\",\"createdTime\":"
                      "\"2024-01-02T03:04:05.000Z\",\"done\":false}\n");
  /* Nested values keep their types; members outside the schema are left
  ** out, control characters escaped. */
  row(&r, 1, REC("\"fld00000000000001\":\"tab\\there \\u0001\","
                 "\"fld00000000000004\":false,"
                 "\"fld00000000000007\":[\"x\",7,\"y\"],"
                 "\"fld00000000000008\":{\"id\":\"usrA\",\"name\":\"A\",\"extra\":1},"
                 "\"fld00000000000009\":{\"k\":[1,2]}"),
      "{\"id\":\"recAAAAAAAAAAAAAA\",\"createdTime\":\"2024-01-02T03:04:05.000Z\","
      "\"name\":\"tab\\there \\u0001\",\"done\":false,\"tags\":[\"x\",\"7\",\"y\"],"
      "\"who\":{\"id\":\"usrA\",\"name\":\"A\"},\"new\":\"{\\\"k\\\":[1,2]}\"}\n");
  /* A value of the wrong shape for its nested type is null and counted. */
  memset(r.anUntyped, 0, sizeof(r.anUntyped));
  row(&r, 1, REC("\"fld00000000000007\":\"x\",\"fld00000000000008\":[1]"),
      "{\"id\":\"recAAAAAAAAAAAAAA\",\"createdTime\":\"2024-01-02T03:04:05.000Z\","
      "\"done\":false}\n");
  CHECK(r.anUntyped[8]==1 && r.anUntyped[9]==1);
  {
    AtJson j;
    AtBuf b;
    const cJSON *apCell[16];
    static const char zPage[] = REC("\"fld00000000000001\":\"nul\\u0000inside\"");
    memset(&b, 0, sizeof(b));
    memset(apCell, 0, sizeof(apCell));
    CHECK(atJsonParse(zPage, sizeof(zPage)-1, &j)==SQLITE_OK);
    apCell[0] = cJSON_GetObjectItemCaseSensitive(
                  cJSON_GetObjectItemCaseSensitive(j.pRoot, "fields"), "fld00000000000001");
    CHECK(atJsonRow(&b, &r.spark, j.pRoot, apCell, r.anUntyped)==SQLITE_OK);
    CHECK_STR(b.z, "{\"id\":\"recAAAAAAAAAAAAAA\",\"createdTime\":"
                   "\"2024-01-02T03:04:05.000Z\",\"name\":\"nul\\u0000inside\","
                   "\"done\":false}\n");
    atBufClear(&b);
    atJsonFree(&j);
  }
  rowsClose(&r);
}

int main(void){
  /* Run as a host might: the process's locale is not the C library's. */
  setlocale(LC_ALL, "");
  testRows();
  /* atFormatDouble gives snprintf's bytes ("%.15g", or "%.17g" when that
  ** does not read back) for whole numbers, prices, percentages, extremes,
  ** decimals of up to 17 digits and 18 places, and random doubles. */
  {
    static const double a[] = { 0.0, -0.0, 1, -1, 5, 12.34, -12.34, 0.1, 0.2, 0.3,
      0.30000000000000004, 1e-4, 1.5e-4, 9.999e-5, 123456.789012, 1e14, 999999999999999,
      1e15, 1e15+2, -1e15, 1e16, 1e21, 1e-7, 0.000123, 3.14159265358979,
      2.718281828459045, 100.5, 99.995, 0.125, 1234567.125, 4503599627370496.5,
      9007199254740993.0, 1e300, -1e-300, 5e-324, 1.7976931348623157e308,
      301695.10000000003, 999999999999999.9, 0.00012345678901234, 0.000123456789012345,
      0.1234567890123456789, 12345.678901234567 };
    char zMine[64], zWant[64];
    int k, nBad = 0;
    sqlite3_uint64 x = 88172645463325252ULL;
    for(k=0; k<(int)(sizeof(a)/sizeof(a[0])) + 200000; k++){
      double r;
      if( k<(int)(sizeof(a)/sizeof(a[0])) ){
        r = a[k];
      }else if( k%3==1 && k%2==0 ){
        /* 1 to 17 random digits with the point 0 to 18 places from the
        ** right, or their sum with a third of them (0.1+0.2 and kin): the
        ** 16- and 17-digit values between 1e-4 and 1e15 go straight to
        ** "%.17g" */
        static const double aP[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
          1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18 };
        sqlite3_uint64 m;
        int nDig, nPlace;
        x ^= x<<13; x ^= x>>7; x ^= x<<17;
        nDig = 1 + (int)(x % 17);
        nPlace = (int)((x>>8) % 19);
        m = (x>>16) % (sqlite3_uint64)aP[nDig];
        r = (double)m / aP[nPlace];
        if( (x>>60)&1 ) r += r/3;
        if( (x>>61)&1 ) r = -r;
      }else if( k%3==0 ){
        /* a random double of any magnitude */
        x ^= x<<13; x ^= x>>7; x ^= x<<17;
        memcpy(&r, &x, sizeof(r));
        if( r!=r || r-r!=0 ) continue;
      }else{
        /* a random decimal with 0 to 6 places */
        x ^= x<<13; x ^= x>>7; x ^= x<<17;
        r = (double)(sqlite3_int64)(x % 2000000000000ULL) - 1e12;
        switch( (x>>40)%7 ){
          case 0: break;
          case 1: r /= 10; break;
          case 2: r /= 100; break;
          case 3: r /= 1000; break;
          case 4: r /= 1e4; break;
          case 5: r /= 1e5; break;
          default: r /= 1e6; break;
        }
      }
      atFormatDouble(r, zMine, sizeof(zMine));
      snprintf(zWant, sizeof(zWant), "%.15g", r);
      if( strtod(zWant, 0)!=r ) snprintf(zWant, sizeof(zWant), "%.17g", r);
      if( strcmp(zMine, zWant)!=0 && nBad++<5 ){
        fprintf(stderr, "atFormatDouble(%.17g): %s, snprintf: %s\n", r, zMine, zWant);
      }
    }
    CHECK(nBad==0);
  }
  DONE();
}
