/*
** schema.h: table metadata to columns: kinds, unique column names, the
** CREATE TABLE to declare; fetching and finding a base's tables.
*/
#ifndef AT_SCHEMA_H
#define AT_SCHEMA_H

#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "http.h"

typedef struct AtField AtField;
struct AtField {
  char *zId;        /* fld id */
  char *zName;      /* field name as in the base */
  char *zType;      /* Airtable type name */
  char *zColumn;    /* SQL column name (see atColumnNames) */
  int eKind;        /* AT_KIND_* */
};

typedef struct AtSchema AtSchema;
struct AtSchema {
  char *zTableId;   /* tbl id */
  char *zTableName; /* table name */
  char *zViewId;    /* viw id of the chosen view, or NULL */
  int nField;       /* number of fields */
  AtField *aField;  /* the fields, in the base's order */
  int *aById;       /* field indexes sorted by zId, for atSchemaFieldById */
};

/* Columns ahead of the fields in every airtable table. */
#define AT_COL_ID            0   /* record id */
#define AT_COL_CREATED_TIME  1   /* record createdTime */
#define AT_COL_FIRST_FIELD   2   /* column of aField[0] */

/* Give each of the n names azName[] a unique SQL column name in azCol[]
** (sqlite3_malloc'd). Names are compared as SQLite compares identifiers
** (ASCII case-insensitively) against "id", "created_time" and every earlier
** column; a name already taken gets "_2", "_3", ... appended. Returns
** SQLITE_OK or SQLITE_NOMEM (azCol then holds NULLs for names not done). */
int atColumnNames(int n, const char *const *azName, char **azCol);

/* "'a', 'b', 'c'": the "name" members of the objects in array pArr ("none"
** if there are none), for messages that list the choices. NULL on OOM. */
char *atNameList(const cJSON *pArr);

/* Find table zTable (id, else exact name) in a metadata "tables" array.
** Returns NULL if absent. */
const cJSON *atMetaFindTable(const cJSON *pTables, const char *zTable);

/* Build *p from one table object of the metadata API, selecting view zView
** (id or name; NULL for none). On error returns SQLITE_ERROR with *pzErr
** (an unknown view names the views there are). Clear with atSchemaClear(). */
int atSchemaBuild(const cJSON *pTable, const char *zView, AtSchema *p,
                  char **pzErr);
void atSchemaClear(AtSchema *p);

/* The one field to ask for when a listing needs no field's values (a
** listing without fields[] sends them all): the smallest values a table
** is likely to have (a checkbox, absent when unchecked; a number), else
** the primary field of pTable (its metadata; may be NULL), else the first.
** NULL if the table has no fields. */
const char *atSchemaSmallField(const AtSchema *p, const cJSON *pTable);

/* The index in p->aField of the field with id zId, or -1. */
int atSchemaFieldById(const AtSchema *p, const char *zId);

/* The CREATE TABLE statement to declare for p. sqlite3_malloc'd. */
char *atSchemaDeclare(const AtSchema *p);

/* Fetch the metadata "tables" array of base zBase. Returns SQLITE_OK and a
** cJSON tree (the whole response; free with cJSON_Delete) in *ppRoot, or an
** error with *pzErr. */
int atMetaFetchTables(AtHttp *pHttp, const char *zApiUrl, const char *zBase,
                      cJSON **ppRoot, char **pzErr);

#endif /* AT_SCHEMA_H */
