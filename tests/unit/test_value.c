/* test_value.c: field kinds and the conversion of every field type's values
** (value.c). Values are the shapes in Airtable's field model docs. */
#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "json.h"
#include "value.h"
#include "testhelp.h"

/* Convert zJson (NULL: absent) as kind eKind; describe the cell as
** "integer 5", "real 0.5", "text abc", "null". */
static char *conv(int eKind, const char *zJson){
  cJSON *pVal = zJson ? cJSON_Parse(zJson) : 0;
  AtCell cell;
  char *zOut;
  if( zJson && pVal==0 ) return sqlite3_mprintf("bad test JSON");
  if( atCellFromJson(eKind, pVal, &cell)!=SQLITE_OK ){
    cJSON_Delete(pVal);
    return sqlite3_mprintf("nomem");
  }
  switch( cell.eType ){
    case SQLITE_INTEGER: zOut = sqlite3_mprintf("integer %lld", cell.i); break;
    case SQLITE_FLOAT:   zOut = sqlite3_mprintf("real %!.17g", cell.r); break;
    case SQLITE_TEXT:    zOut = sqlite3_mprintf("text %.*s", cell.n, cell.z); break;
    default:             zOut = sqlite3_mprintf("null"); break;
  }
  atCellClear(&cell);
  cJSON_Delete(pVal);
  return zOut;
}

#define CONV(kind, json, want) do{ \
  char *z_ = conv(kind, json); CHECK_STR(z_, want); sqlite3_free(z_); }while(0)

/* The kind of type zType with options zOptions (JSON text or NULL). */
static int kindOf(const char *zType, const char *zOptions){
  cJSON *p = zOptions ? cJSON_Parse(zOptions) : 0;
  int e = atFieldKind(zType, p);
  cJSON_Delete(p);
  return e;
}

static void testKinds(void){
  /* Text-like */
  CHECK(kindOf("singleLineText", 0)==AT_KIND_TEXT);
  CHECK(kindOf("email", 0)==AT_KIND_TEXT);
  CHECK(kindOf("url", 0)==AT_KIND_TEXT);
  CHECK(kindOf("multilineText", 0)==AT_KIND_TEXT);
  CHECK(kindOf("phoneNumber", 0)==AT_KIND_TEXT);
  CHECK(kindOf("richText", 0)==AT_KIND_TEXT);
  CHECK(kindOf("singleSelect", "{\"choices\":[]}")==AT_KIND_TEXT);
  CHECK(kindOf("externalSyncSource", 0)==AT_KIND_TEXT);
  /* Numbers by precision */
  CHECK(kindOf("number", "{\"precision\":0}")==AT_KIND_INTEGER);
  CHECK(kindOf("number", "{\"precision\":2}")==AT_KIND_REAL);
  CHECK(kindOf("number", 0)==AT_KIND_REAL);
  CHECK(kindOf("currency", "{\"precision\":0,\"symbol\":\"$\"}")==AT_KIND_INTEGER);
  CHECK(kindOf("currency", "{\"precision\":2,\"symbol\":\"$\"}")==AT_KIND_REAL);
  CHECK(kindOf("percent", "{\"precision\":0}")==AT_KIND_REAL);
  CHECK(kindOf("rating", "{\"max\":5}")==AT_KIND_INTEGER);
  CHECK(kindOf("duration", "{\"durationFormat\":\"h:mm\"}")==AT_KIND_INTEGER);
  CHECK(kindOf("duration", "{\"durationFormat\":\"h:mm:ss\"}")==AT_KIND_INTEGER);
  CHECK(kindOf("duration", "{\"durationFormat\":\"h:mm:ss.S\"}")==AT_KIND_REAL);
  CHECK(kindOf("autoNumber", 0)==AT_KIND_INTEGER);
  CHECK(kindOf("count", 0)==AT_KIND_INTEGER);
  CHECK(kindOf("checkbox", 0)==AT_KIND_BOOLEAN);
  CHECK(kindOf("date", 0)==AT_KIND_DATE);
  CHECK(kindOf("dateTime", 0)==AT_KIND_DATETIME);
  CHECK(kindOf("createdTime", 0)==AT_KIND_DATETIME);
  CHECK(kindOf("lastModifiedTime", 0)==AT_KIND_DATETIME);
  /* Multi-valued and objects */
  CHECK(kindOf("multipleSelects", 0)==AT_KIND_JSON);
  CHECK(kindOf("singleCollaborator", 0)==AT_KIND_JSON);
  CHECK(kindOf("multipleCollaborators", 0)==AT_KIND_JSON);
  CHECK(kindOf("createdBy", 0)==AT_KIND_JSON);
  CHECK(kindOf("lastModifiedBy", 0)==AT_KIND_JSON);
  CHECK(kindOf("multipleRecordLinks", 0)==AT_KIND_JSON);
  CHECK(kindOf("multipleLookupValues", "{\"result\":{\"type\":\"number\"}}")==AT_KIND_JSON);
  CHECK(kindOf("multipleAttachments", 0)==AT_KIND_JSON);
  CHECK(kindOf("barcode", 0)==AT_KIND_JSON);
  CHECK(kindOf("button", 0)==AT_KIND_JSON);
  CHECK(kindOf("aiText", 0)==AT_KIND_JSON);
  /* Computed: by options.result */
  CHECK(kindOf("formula", "{\"result\":{\"type\":\"number\",\"options\":{\"precision\":2}}}")==AT_KIND_REAL);
  CHECK(kindOf("formula", "{\"result\":{\"type\":\"number\",\"options\":{\"precision\":0}}}")==AT_KIND_INTEGER);
  CHECK(kindOf("formula", "{\"result\":{\"type\":\"singleLineText\"}}")==AT_KIND_TEXT);
  CHECK(kindOf("formula", "{\"result\":{\"type\":\"checkbox\"}}")==AT_KIND_BOOLEAN);
  CHECK(kindOf("formula", "{\"result\":{\"type\":\"dateTime\"}}")==AT_KIND_DATETIME);
  CHECK(kindOf("formula", "{\"result\":{\"type\":\"multipleSelects\"}}")==AT_KIND_JSON);
  CHECK(kindOf("formula", 0)==AT_KIND_JSON);
  CHECK(kindOf("formula", "{\"result\":{\"type\":\"formula\"}}")==AT_KIND_JSON);
  CHECK(kindOf("rollup", "{\"result\":{\"type\":\"currency\",\"options\":{\"precision\":2}}}")==AT_KIND_REAL);
  /* Types Airtable adds later never break a table */
  CHECK(kindOf("futureFieldType", 0)==AT_KIND_JSON);
  CHECK(kindOf(0, 0)==AT_KIND_JSON);

  CHECK_STR(atKindDeclType(AT_KIND_TEXT), "TEXT");
  CHECK_STR(atKindDeclType(AT_KIND_INTEGER), "INTEGER");
  CHECK_STR(atKindDeclType(AT_KIND_REAL), "REAL");
  CHECK_STR(atKindDeclType(AT_KIND_BOOLEAN), "INTEGER");
  CHECK_STR(atKindDeclType(AT_KIND_DATE), "TEXT");
  CHECK_STR(atKindDeclType(AT_KIND_DATETIME), "TEXT");
  CHECK_STR(atKindDeclType(AT_KIND_JSON), "TEXT");
  CHECK_STR(atKindName(AT_KIND_BOOLEAN), "boolean");
  CHECK_STR(atKindName(AT_KIND_JSON), "json");
}

static void testCells(void){
  /* Absent: NULL, but an absent checkbox is unchecked. */
  CONV(AT_KIND_TEXT, 0, "null");
  CONV(AT_KIND_INTEGER, 0, "null");
  CONV(AT_KIND_JSON, 0, "null");
  CONV(AT_KIND_BOOLEAN, 0, "integer 0");
  CONV(AT_KIND_TEXT, "null", "null");
  /* Text keeps every byte: Unicode, emoji, newlines, quotes, leading zeros. */
  CONV(AT_KIND_TEXT, "\"000123\"", "text 000123");
  CONV(AT_KIND_TEXT, "\"caf\\u00e9 \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x94\xac\\n\\\"q\\\", x\"",
       "text caf\xc3\xa9 \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x94\xac\n\"q\", x");
  CONV(AT_KIND_DATE, "\"2022-09-05\"", "text 2022-09-05");
  CONV(AT_KIND_DATETIME, "\"2022-09-05T07:00:00.000Z\"", "text 2022-09-05T07:00:00.000Z");
  /* Numbers */
  CONV(AT_KIND_INTEGER, "42", "integer 42");
  CONV(AT_KIND_INTEGER, "0", "integer 0");
  CONV(AT_KIND_INTEGER, "-17", "integer -17");
  CONV(AT_KIND_INTEGER, "4294967296123", "integer 4294967296123");
  CONV(AT_KIND_INTEGER, "2.5", "real 2.5");           /* not integral: kept */
  CONV(AT_KIND_INTEGER, "1e300", "real 1.0e+300");
  CONV(AT_KIND_REAL, "0.123", "real 0.123");
  CONV(AT_KIND_REAL, "3", "real 3.0");
  CONV(AT_KIND_REAL, "-0.5", "real -0.5");
  /* Checkbox */
  CONV(AT_KIND_BOOLEAN, "true", "integer 1");
  CONV(AT_KIND_BOOLEAN, "false", "integer 0");
  /* JSON kinds: compact JSON text of whatever came */
  CONV(AT_KIND_JSON, "[\"a\", \"b, c\"]", "text [\"a\",\"b, c\"]");
  CONV(AT_KIND_JSON, "[\"recAAAAAAAAAAAAAA\"]", "text [\"recAAAAAAAAAAAAAA\"]");
  CONV(AT_KIND_JSON, "{\"id\": \"usrX\", \"email\": \"a@b.c\", \"name\": \"A\"}",
       "text {\"id\":\"usrX\",\"email\":\"a@b.c\",\"name\":\"A\"}");
  CONV(AT_KIND_JSON, "[1, 2.5, true, null]", "text [1,2.5,true,null]");
  CONV(AT_KIND_JSON, "\"plain\"", "text \"plain\"");
  CONV(AT_KIND_JSON, "{\"error\": \"#ERROR!\"}", "text {\"error\":\"#ERROR!\"}");
  /* Computed errors and NaN in typed columns: their text */
  CONV(AT_KIND_REAL, "{\"error\": \"#ERROR!\"}", "text #ERROR!");
  CONV(AT_KIND_INTEGER, "{\"specialValue\": \"NaN\"}", "text NaN");
  CONV(AT_KIND_TEXT, "{\"error\": \"#ERROR!\"}", "text #ERROR!");
  CONV(AT_KIND_BOOLEAN, "{\"error\": \"#ERROR!\"}", "text #ERROR!");
  /* An object with more members is data, not an error marker */
  CONV(AT_KIND_TEXT, "{\"error\": \"x\", \"y\": 1}", "text {\"error\":\"x\",\"y\":1}");
  /* Values of an unexpected JSON type keep their data */
  CONV(AT_KIND_TEXT, "12", "integer 12");
  CONV(AT_KIND_TEXT, "[\"x\"]", "text [\"x\"]");
  CONV(AT_KIND_INTEGER, "\"12a\"", "text 12a");
  CONV(AT_KIND_BOOLEAN, "1", "integer 1");
  CONV(AT_KIND_DATE, "true", "integer 1");
}

int main(void){
  testKinds();
  testCells();
  /* The compact printer: cJSON_PrintUnformatted's bytes, for values of
  ** every JSON type, escapes, numbers of each printing rule, nesting. */
  {
    static const char *const az[] = {
      "null", "true", "false", "0", "-1", "2147483647", "2147483648", "-2147483649",
      "1.5", "0.1", "1e300", "-1e-300", "123456789.123456789", "3.141592653589793",
      "0.30000000000000004", "1e21", "-0.0", "\"\"", "\"plain\"",
      "\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t \\u0001\\u001f \\u007f caf\u00e9 \\ud83d\\ude9a\"",
      "[]", "{}", "[1,\"a\",[null,{}],{\"k\":[true]}]",
      "{\"id\":\"usr1\",\"name\":\"Zo\\u00eb \\\"Z\\\"\",\"n\":2.5e-7}",
      "[{\"a\":1},{\"\":\"\"},{\"x\\ny\":-12345678901234567890}]",
    };
    size_t k;
    for(k=0; k<sizeof(az)/sizeof(az[0]); k++){
      cJSON *p = cJSON_Parse(az[k]);
      char *zMine, *zTheirs;
      int n = -1;
      CHECK(p!=0);
      if( p==0 ) continue;
      zMine = atJsonText(p, &n);
      zTheirs = cJSON_PrintUnformatted(p);
      CHECK_STR(zMine, zTheirs);
      CHECK(zMine && n==(int)strlen(zMine));
      sqlite3_free(zMine);
      cJSON_free(zTheirs);
      cJSON_Delete(p);
    }
  }
  DONE();
}
