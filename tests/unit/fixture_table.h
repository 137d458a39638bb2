/*
** fixture_table.h: a table with one field of each shape the writer and
** the Spark schema handle differently, built into its schema and Spark
** schema (for test_spark.c and test_writer.c).
*/
#ifndef FIXTURE_TABLE_H
#define FIXTURE_TABLE_H
#include <cjson/cJSON.h>
#include "schema.h"
#include "spark.h"
#include "testhelp.h"

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

#endif
