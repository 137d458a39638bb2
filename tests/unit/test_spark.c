/* test_spark.c: Airtable field types to Spark types and a table's Spark
** schema as StructType JSON (spark.c). */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "schema.h"
#include "spark.h"
#include "testhelp.h"
#include "fixture_table.h"

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

int main(void){
  /* Run as a host might: the process's locale is not the C library's. */
  setlocale(LC_ALL, "");
  testSparkTypes();
  testSchemaJson();
  DONE();
}
