#include <stdio.h>
#include <stdlib.h>
/* test_spark.c: the export's pieces: Delta-safe column names and table file
** names (names.c), Spark types (spark.c), rows written as CSV and JSON
** Lines (writer.c), and the partitions of a table (partition.c). */
#include <locale.h>
#include "airtable_int.h"
#include "testhelp.h"

static int tolowerAscii(int c){ return c>='A' && c<='Z' ? c-'A'+'a' : c; }
static int toupperAscii(int c){ return c>='a' && c<='z' ? c-'a'+'A' : c; }

static void column(const char *zIn, const char *zWant){
  char *z = atDeltaColumnName(zIn);
  CHECK_STR(z, zWant);
  sqlite3_free(z);
}

/* Expected names are what the replaced connector's Python gives (see
** shared/SPARK.md): the same rules, applied by hand. */
static void testDeltaColumnNames(void){
  column("Task", "task");
  column("Unit Cost (USD).net", "unit_cost_usd_net");
  column("Notes {internal}", "notes_internal");
  column("Weight (kg)", "weight_kg");
  column("Length/Width", "length_width");
  column("Customer's \"Nickname\"", "customer_s__nickname_");
  column("Price $", "price_dollar");
  column("# of items", "num_of_items");
  column("2024 Budget", "col_2024_budget");
  column("a,b;c=d", "abcd");
  column("line\nbreak\ttab", "linebreaktab");
  column("cr\rlf", "cr_lf");                 /* \r is not in the dropped set */
  column("Summary (AI)", "summary_ai");
  column("__private__", "__private__");      /* runs of '_' are kept */
  column("Caf\xc3\xa9 cr\xc3\xa8me", "caf\xc3\xa9_cr\xc3\xa8me");   /* letters stay */
  column("\xc3\x89T\xc3\x89", "\xc3\xa9t\xc3\xa9");                 /* and lower */
  column("Gr\xc3\xb6\xc3\x9f" "e", "gr\xc3\xb6\xc3\x9f" "e");
  column("\xe6\x95\xb0\xe9\x87\x8f", "\xe6\x95\xb0\xe9\x87\x8f");   /* CJK letters */
  column("\xe2\x98\x83 snow", "__snow");     /* a snowman is no letter */
  column("Label \xf0\x9f\x8f\xb7\xef\xb8\x8f", "label___");         /* emoji + VS16 */
  column("()", "col");                       /* nothing left */
  column("", "col");
  column("\xff\xfe bad", "___bad");          /* invalid UTF-8: each byte one '_' */
}

static void table(const char *zIn, const char *zWant){
  char *z = atTableFileName(zIn);
  CHECK_STR(z, zWant);
  sqlite3_free(z);
}

static void testTableFileNames(void){
  table("Packaging Tasks", "packaging_tasks");
  table("Odd/Name?#% \"quoted\" \xe2\x98\x83", "odd_name_quoted");
  table("2024 Orders", "table_2024_orders");
  table("(Archived) Items [old]", "archived_items_old");
  table("Vendors-EU", "vendors_eu");
  table("Caf\xc3\xa9", "caf");
  table("a  --  b", "a_b");
  table("___", "table");
  table("", "table");
}

static void unique(int n, const char *const *azIn, const char *zWant){
  static const char *const azReserved[] = { "id", "createdTime" };
  char *azOut[8];
  sqlite3_str *pStr = sqlite3_str_new(0);
  char *zGot;
  int i;
  CHECK(atUniqueNames(n, azIn, 2, azReserved, azOut)==SQLITE_OK);
  for(i=0; i<n; i++){
    sqlite3_str_appendf(pStr, "%s%s", i ? "|" : "", azOut[i]);
    sqlite3_free(azOut[i]);
  }
  zGot = sqlite3_str_finish(pStr);
  CHECK_STR(zGot, zWant);
  sqlite3_free(zGot);
}

static void testUniqueNames(void){
  static const char *const a1[] = { "a", "A", "a_2" };
  static const char *const a2[] = { "id", "createdtime", "ID" };
  unique(3, a1, "a|A_2|a_2_2");
  /* Never colliding with the leading columns, whatever the case. */
  unique(3, a2, "id_2|createdtime_2|ID_3");
}

/* The DDL of the Spark type of a field of type zType with options zOptions
** (JSON text or NULL). */
static void ddl(const char *zType, const char *zOptions, int bNested,
                const char *zWant){
  cJSON *pOpt = zOptions ? cJSON_Parse(zOptions) : 0;
  cJSON *pType = atSparkFieldType(zType, pOpt, bNested);
  char *z = atSparkTypeDdl(pType);
  CHECK_STR(z, zWant);
  sqlite3_free(z);
  cJSON_Delete(pType);
  cJSON_Delete(pOpt);
}

static void testSparkTypes(void){
  static const char zThumb[] =
    "STRUCT<`url`: STRING, `width`: BIGINT, `height`: BIGINT>";
  char zAttach[600];
  ddl("singleLineText", 0, 1, "STRING");
  ddl("richText", 0, 1, "STRING");
  ddl("number", "{\"precision\":0}", 1, "BIGINT");
  ddl("number", "{\"precision\":2}", 1, "DOUBLE");
  ddl("currency", "{\"precision\":0}", 0, "BIGINT");
  ddl("percent", "{\"precision\":0}", 0, "DOUBLE");
  ddl("duration", "{\"durationFormat\":\"h:mm\"}", 0, "DOUBLE");
  ddl("rating", 0, 0, "BIGINT");
  ddl("autoNumber", 0, 0, "BIGINT");
  ddl("count", 0, 0, "BIGINT");
  ddl("checkbox", 0, 0, "BOOLEAN");
  ddl("date", 0, 0, "DATE");
  ddl("dateTime", 0, 0, "TIMESTAMP");
  ddl("createdTime", 0, 0, "TIMESTAMP");
  ddl("lastModifiedTime", 0, 0, "TIMESTAMP");
  ddl("multipleSelects", 0, 1, "ARRAY<STRING>");
  ddl("multipleSelects", 0, 0, "STRING");
  ddl("multipleRecordLinks", 0, 1, "ARRAY<STRING>");
  ddl("singleCollaborator", 0, 1,
      "STRUCT<`id`: STRING, `email`: STRING, `name`: STRING>");
  ddl("createdBy", 0, 1, "STRUCT<`id`: STRING, `email`: STRING, `name`: STRING>");
  ddl("multipleCollaborators", 0, 1,
      "ARRAY<STRUCT<`id`: STRING, `email`: STRING, `name`: STRING>>");
  ddl("multipleCollaborators", 0, 0, "STRING");
  sqlite3_snprintf(sizeof(zAttach), zAttach, "ARRAY<STRUCT<`id`: STRING, "
      "`url`: STRING, `filename`: STRING, `size`: BIGINT, `type`: STRING, "
      "`width`: BIGINT, `height`: BIGINT, `thumbnails`: STRUCT<`small`: %s, "
      "`large`: %s, `full`: %s>>>", zThumb, zThumb, zThumb);
  ddl("multipleAttachments", 0, 1, zAttach);
  ddl("barcode", 0, 1, "STRUCT<`text`: STRING, `type`: STRING>");
  ddl("button", 0, 1, "STRUCT<`label`: STRING, `url`: STRING>");
  ddl("aiText", 0, 1, "STRUCT<`state`: STRING, `isStale`: BOOLEAN, `value`: STRING>");
  /* Computed fields take their result's type. */
  ddl("formula", "{\"result\":{\"type\":\"number\",\"options\":{\"precision\":2}}}", 1, "DOUBLE");
  ddl("formula", "{\"result\":{\"type\":\"checkbox\"}}", 0, "BOOLEAN");
  ddl("formula", "{\"result\":{\"type\":\"dateTime\"}}", 0, "TIMESTAMP");
  ddl("formula", "{\"result\":{\"type\":\"multipleSelects\"}}", 1, "ARRAY<STRING>");
  ddl("formula", 0, 1, "STRING");                 /* no result: JSON text */
  ddl("rollup", "{\"result\":{\"type\":\"number\",\"options\":{\"precision\":0}}}", 1, "BIGINT");
  ddl("multipleLookupValues", "{\"result\":{\"type\":\"singleLineText\"}}", 1, "ARRAY<STRING>");
  ddl("multipleLookupValues", "{\"result\":{\"type\":\"number\",\"options\":{\"precision\":2}}}", 1,
      "ARRAY<DOUBLE>");
  /* A lookup of a multi-valued field is one flat array, as Airtable sends it. */
  ddl("multipleLookupValues", "{\"result\":{\"type\":\"multipleRecordLinks\"}}", 1,
      "ARRAY<STRING>");
  ddl("multipleLookupValues", "{\"result\":{\"type\":\"singleLineText\"}}", 0, "STRING");
  ddl("multipleLookupValues", 0, 1, "STRING");
  ddl("futureFieldType", "{\"someNewOption\":true}", 1, "STRING");
}

/* A table with one field of each shape the writer handles differently. */
static const char zTable[] =
  "{\"id\":\"tblAAAAAAAAAAAAAA\",\"name\":\"T\",\"fields\":["
  "{\"id\":\"fld00000000000001\",\"name\":\"Name\",\"type\":\"singleLineText\"},"
  "{\"id\":\"fld00000000000002\",\"name\":\"Qty\",\"type\":\"number\",\"options\":{\"precision\":0}},"
  "{\"id\":\"fld00000000000003\",\"name\":\"Cost\",\"type\":\"formula\",\"options\":"
      "{\"result\":{\"type\":\"number\",\"options\":{\"precision\":2}}}},"
  "{\"id\":\"fld00000000000004\",\"name\":\"Done\",\"type\":\"checkbox\"},"
  "{\"id\":\"fld00000000000005\",\"name\":\"Due\",\"type\":\"date\"},"
  "{\"id\":\"fld00000000000006\",\"name\":\"At\",\"type\":\"dateTime\"},"
  "{\"id\":\"fld00000000000007\",\"name\":\"Tags\",\"type\":\"multipleSelects\"},"
  "{\"id\":\"fld00000000000008\",\"name\":\"Who\",\"type\":\"singleCollaborator\"},"
  "{\"id\":\"fld00000000000009\",\"name\":\"New\",\"type\":\"futureFieldType\"}"
  "],\"views\":[]}";

typedef struct Rows Rows;
struct Rows {
  cJSON *pTable;
  AtSchema schema;
  AtSparkSchema spark;
  sqlite3_int64 anUntyped[16];
};

static void rowsOpen(Rows *r, int bNested){
  char *zErr = 0;
  memset(r, 0, sizeof(*r));
  r->pTable = cJSON_Parse(zTable);
  CHECK(atSchemaBuild(r->pTable, 0, &r->schema, &zErr)==SQLITE_OK);
  CHECK(atSparkSchemaBuild(r->pTable, &r->schema, bNested, 0, &r->spark)==SQLITE_OK);
}

static void rowsClose(Rows *r){
  atSparkSchemaClear(&r->spark);
  atSchemaClear(&r->schema);
  cJSON_Delete(r->pTable);
}

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
  rowsClose(&r);
}

static void testSchemaJson(void){
  Rows r;
  char *z;
  rowsOpen(&r, 1);
  z = atSparkSchemaJson(&r.spark, &r.schema);
  CHECK(z && strncmp(z, "{\"type\":\"struct\",\"fields\":[{\"name\":\"id\",\"type\":"
                        "\"string\",\"nullable\":false,\"metadata\":{}},{\"name\":"
                        "\"createdTime\",\"type\":\"timestamp\",\"nullable\":true,"
                        "\"metadata\":{}},{\"name\":\"name\",\"type\":\"string\","
                        "\"nullable\":true,\"metadata\":{\"airtable_field_name\":"
                        "\"Name\",\"airtable_field_id\":\"fld00000000000001\","
                        "\"airtable_field_type\":\"singleLineText\"}}", 300)==0);
  CHECK(z && strstr(z, "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"elementType\":"
                       "\"string\",\"containsNull\":true},\"nullable\":true,") != 0);
  CHECK(z && strstr(z, "\"integer\"")==0);
  sqlite3_free(z);
  rowsClose(&r);
}

static void testPartitionFormulas(void){
  char *z = atPartitionFormula(0, 1);
  CHECK(z==0);                                  /* one part: no formula */
  z = atPartitionFormula(0, 2);
  CHECK_STR(z, "FIND(MID(RECORD_ID(),4,1),'0123456789aAbBcCdDeEfFgGhHiIjJkK')>0");
  sqlite3_free(z);
  z = atPartitionFormula(1, 2);
  CHECK_STR(z, "FIND(MID(RECORD_ID(),4,1),'0123456789aAbBcCdDeEfFgGhHiIjJkK')=0");
  sqlite3_free(z);
  z = atPartitionFormula(2, 3);
  /* 22, 20 and 20 of the 62 characters. */
  CHECK_STR(z, "AND(FIND(MID(RECORD_ID(),4,1),'0123456789aAbBcCdDeEfF')=0,"
               "FIND(MID(RECORD_ID(),4,1),'gGhHiIjJkKlLmMnNoOpP')=0)");
  sqlite3_free(z);
}

/* The premises of partition.c's proof, for every part count: the groups in
** the formulas are disjoint and closed under case, every id character is
** in exactly one part, and atPartitionOf agrees with the formulas. */
static void testPartitionsCoverEveryIdOnce(void){
  static const char zAlnum[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  int n, k, i;
  for(n=2; n<=8; n++){
    char *azGroup[8];
    int aSize[8];
    for(k=0; k<n-1; k++){
      char *z = atPartitionFormula(k, n);
      char *zStart = z ? strchr(z, '\'') : 0;
      char *zEnd = zStart ? strchr(zStart+1, '\'') : 0;
      CHECK(zEnd!=0);
      if( zEnd==0 ){ sqlite3_free(z); return; }
      azGroup[k] = sqlite3_mprintf("%.*s", (int)(zEnd-zStart-1), zStart+1);
      aSize[k] = (int)strlen(azGroup[k]);
      CHECK(aSize[k]>=62/n-2 && aSize[k]<=62/n+2);     /* about equal */
      sqlite3_free(z);
    }
    for(i=0; zAlnum[i]; i++){
      char zId[18];
      int nIn = 0, iIn = n-1;
      sqlite3_snprintf(sizeof(zId), zId, "rec%cAAAAAAAAAAAAA", zAlnum[i]);
      for(k=0; k<n-1; k++){
        int bLower = strchr(azGroup[k], tolowerAscii(zAlnum[i]))!=0;
        int bUpper = strchr(azGroup[k], toupperAscii(zAlnum[i]))!=0;
        CHECK(bLower==bUpper);                  /* closed under case */
        if( strchr(azGroup[k], zAlnum[i]) ){ nIn++; iIn = k; }
      }
      CHECK(nIn<=1);                            /* disjoint */
      CHECK(atPartitionOf(zId, n)==iIn);        /* the last part: the rest */
    }
    CHECK(atPartitionOf("rec-AAAAAAAAAAAAA", n)==n-1);
    for(k=0; k<n-1; k++) sqlite3_free(azGroup[k]);
  }
}

int main(void){
  /* Run as a host might: the process's locale is not the C library's. */
  setlocale(LC_ALL, "");
  testDeltaColumnNames();
  testTableFileNames();
  testUniqueNames();
  testSparkTypes();
  testRows();
  testSchemaJson();
  testPartitionFormulas();
  testPartitionsCoverEveryIdOnce();
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
