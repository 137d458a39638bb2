/*
** spark.h: Airtable field types to Spark types (the one mapping), and a
** table's Spark schema as StructType JSON and DDL.
*/
#ifndef AT_SPARK_H
#define AT_SPARK_H

#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "schema.h"

/* The Spark type of a field of Airtable type zType with options pOptions,
** as a cJSON tree in Spark's JSON form ("long", {"type":"array",...}); free
** with cJSON_Delete. bNested 0 gives the flat form a CSV file holds: arrays
** and structs become "string" (compact JSON text). NULL on OOM. README.md
** ("Export for Spark") has the table. */
cJSON *atSparkFieldType(const char *zType, const cJSON *pOptions, int bNested);

#define AT_SPARK_ID            (-1)   /* AtSparkCol.iField of the id column */
#define AT_SPARK_CREATED_TIME  (-2)   /* ... of the createdTime column */

/* One column of an exported table. */
typedef struct AtSparkCol AtSparkCol;
struct AtSparkCol {
  char *zName;        /* column name in the files (unique in the table) */
  int iField;         /* index into AtSchema.aField, or AT_SPARK_ID/_CREATED_TIME */
  cJSON *pType;       /* Spark type (Spark's JSON form) */
  int bJsonText;      /* a field of no known shape: always its JSON text */
  int bAbsentFalse;   /* a checkbox kind: an absent value is false */
};

/* A table's columns: id, createdTime, then one per field in base order. */
typedef struct AtSparkSchema AtSparkSchema;
struct AtSparkSchema {
  int nCol;
  AtSparkCol *aCol;
};

/* Build *p for the table whose metadata object is pTable and schema
** pSchema (built from pTable). Names are Delta-safe (atDeltaColumnName)
** unless bExactNames, and unique against "id" and "createdTime". Returns
** SQLITE_OK or SQLITE_NOMEM; clear with atSparkSchemaClear() either way. */
int atSparkSchemaBuild(const cJSON *pTable, const AtSchema *pSchema,
                       int bNested, int bExactNames, AtSparkSchema *p);
void atSparkSchemaClear(AtSparkSchema *p);

/* The schema as StructType JSON (StructType.fromJson), each field's
** metadata keeping the Airtable field name, id and type; and as a DDL
** string ("`id` STRING NOT NULL, `qty` BIGINT, ..."); and one type's DDL.
** sqlite3_malloc'd; NULL on OOM. */
char *atSparkSchemaJson(const AtSparkSchema *p, const AtSchema *pSchema);
char *atSparkSchemaDdl(const AtSparkSchema *p);
char *atSparkTypeDdl(const cJSON *pType);

#endif /* AT_SPARK_H */
