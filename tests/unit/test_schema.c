/* test_schema.c: column naming and the schema built from metadata
** (schema.c). */
#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "schema.h"
#include "testhelp.h"

static void names(int n, const char *const *azIn, const char *zWant){
  char *azCol[16];
  CHECK(atColumnNames(n, azIn, azCol)==SQLITE_OK);
  CHECK_NAMES(n, azCol, zWant);
}

static void testColumnNames(void){
  static const char *const a1[] = { "Name", "Notes" };
  static const char *const a2[] = { "id", "ID", "created_time", "Created_Time" };
  static const char *const a3[] = { "Status", "status", "STATUS", "status_2" };
  static const char *const a4[] = { "a_2", "a", "A" };
  static const char *const a5[] = { "Unit Cost (USD).net", "Notes {internal}",
                                    "Length/Width", "It's \"quoted\"", "\xc3\xa9t\xc3\xa9", "\xc3\x89T\xc3\x89" };
  names(2, a1, "Name|Notes");
  /* The reserved columns come first; fields named like them get a suffix. */
  names(4, a2, "id_2|ID_3|created_time_2|Created_Time_3");
  /* Names equal but for case: the later one gets the suffix, in field order. */
  names(4, a3, "Status|status_2|STATUS_3|status_2_2");
  names(3, a4, "a_2|a|A_3");
  /* Odd characters are kept as they are (quoted in the declaration);
  ** non-ASCII letters differ by case for SQLite, so both stay. */
  names(6, a5, "Unit Cost (USD).net|Notes {internal}|Length/Width|"
               "It's \"quoted\"|\xc3\xa9t\xc3\xa9|\xc3\x89T\xc3\x89");
}

static const char zTable[] =
  "{\"id\":\"tblAAAAAAAAAAAAAA\",\"name\":\"Tasks\",\"primaryFieldId\":\"fldBBBBBBBBBBBBBB\","
  "\"fields\":["
  "{\"id\":\"fldBBBBBBBBBBBBBB\",\"name\":\"Name\",\"type\":\"singleLineText\"},"
  "{\"id\":\"fldAAAAAAAAAAAAAA\",\"name\":\"id\",\"type\":\"number\",\"options\":{\"precision\":0}},"
  "{\"id\":\"fldCCCCCCCCCCCCCC\",\"name\":\"Say \\\"hi\\\"\",\"type\":\"checkbox\"},"
  "{\"id\":\"fld00000000000000\",\"name\":\"Cost\",\"type\":\"currency\",\"options\":{\"precision\":2}},"
  "{\"id\":\"fldDDDDDDDDDDDDDD\",\"name\":\"Tags\",\"type\":\"multipleSelects\"}],"
  "\"views\":[{\"id\":\"viwAAAAAAAAAAAAAA\",\"name\":\"Grid view\",\"type\":\"grid\"},"
  "{\"id\":\"viwBBBBBBBBBBBBBB\",\"name\":\"Open\",\"type\":\"grid\"}]}";

static void testSchema(void){
  cJSON *pTable = cJSON_Parse(zTable);
  AtSchema s;
  char *zErr = 0, *zSql;
  CHECK(atSchemaBuild(pTable, 0, &s, &zErr)==SQLITE_OK);
  CHECK(zErr==0);
  CHECK_STR(s.zTableId, "tblAAAAAAAAAAAAAA");
  CHECK(s.zViewId==0);
  CHECK(s.nField==5);
  zSql = atSchemaDeclare(&s);
  CHECK_STR(zSql, "CREATE TABLE x(\"id\" TEXT PRIMARY KEY, \"created_time\" TEXT, "
            "\"Name\" TEXT, \"id_2\" INTEGER, \"Say \"\"hi\"\"\" INTEGER, "
            "\"Cost\" REAL, \"Tags\" TEXT) WITHOUT ROWID");
  sqlite3_free(zSql);
  CHECK(atSchemaFieldById(&s, "fldBBBBBBBBBBBBBB")==0);
  CHECK(atSchemaFieldById(&s, "fldAAAAAAAAAAAAAA")==1);
  CHECK(atSchemaFieldById(&s, "fldCCCCCCCCCCCCCC")==2);
  CHECK(atSchemaFieldById(&s, "fld00000000000000")==3);
  CHECK(atSchemaFieldById(&s, "fldDDDDDDDDDDDDDD")==4);
  CHECK(atSchemaFieldById(&s, "fldZZZZZZZZZZZZZZ")==-1);
  CHECK(atSchemaFieldById(&s, "")==-1);
  atSchemaClear(&s);

  /* Views by name or id; an unknown view lists the views there are. */
  CHECK(atSchemaBuild(pTable, "Open", &s, &zErr)==SQLITE_OK);
  CHECK_STR(s.zViewId, "viwBBBBBBBBBBBBBB");
  atSchemaClear(&s);
  CHECK(atSchemaBuild(pTable, "viwAAAAAAAAAAAAAA", &s, &zErr)==SQLITE_OK);
  CHECK_STR(s.zViewId, "viwAAAAAAAAAAAAAA");
  atSchemaClear(&s);
  CHECK(atSchemaBuild(pTable, "open", &s, &zErr)==SQLITE_ERROR);
  CHECK_STR(zErr, "airtable: option view: table 'Tasks' has no view 'open' "
            "(views: 'Grid view', 'Open')");
  sqlite3_free(zErr);
  zErr = 0;

  /* Tables by id, else by exact name. */
  {
    cJSON *pArr = cJSON_Parse("[{\"id\":\"tblXXXXXXXXXXXXXX\",\"name\":\"tblAAAAAAAAAAAAAA\"},"
                              "{\"id\":\"tblAAAAAAAAAAAAAA\",\"name\":\"Tasks\"}]");
    const cJSON *pT = atMetaFindTable(pArr, "Tasks");
    CHECK_STR(pT ? cJSON_GetObjectItem(pT, "id")->valuestring : 0, "tblAAAAAAAAAAAAAA");
    /* An id wins over a table whose name looks like that id. */
    pT = atMetaFindTable(pArr, "tblAAAAAAAAAAAAAA");
    CHECK_STR(pT ? cJSON_GetObjectItem(pT, "name")->valuestring : 0, "Tasks");
    CHECK(atMetaFindTable(pArr, "tasks")==0);
    cJSON_Delete(pArr);
  }
  cJSON_Delete(pTable);

  /* Metadata without fields is refused, not crashed on. */
  pTable = cJSON_Parse("{\"id\":\"tblAAAAAAAAAAAAAA\",\"name\":\"T\"}");
  CHECK(atSchemaBuild(pTable, 0, &s, &zErr)==SQLITE_ERROR);
  CHECK_STR(zErr, "airtable: the metadata of a table lacks its id, name or fields");
  sqlite3_free(zErr);
  zErr = 0;
  cJSON_Delete(pTable);
  pTable = cJSON_Parse("{\"id\":\"tblAAAAAAAAAAAAAA\",\"name\":\"T\",\"fields\":[{\"id\":\"fldX\",\"name\":\"N\"}]}");
  CHECK(atSchemaBuild(pTable, 0, &s, &zErr)==SQLITE_ERROR);
  CHECK_STR(zErr, "airtable: field 0 of table 'T' lacks its id, name or type");
  sqlite3_free(zErr);
  cJSON_Delete(pTable);
}

int main(void){
  testColumnNames();
  testSchema();
  DONE();
}
