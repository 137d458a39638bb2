/*
** value.h: field types to kinds, and one Airtable value to one SQL value
** (AtCell).
*/
#ifndef AT_VALUE_H
#define AT_VALUE_H

#include <cjson/cJSON.h>
#include "airtable_int.h"

/* How a field's values become SQL values. */
#define AT_KIND_TEXT      1   /* TEXT as given */
#define AT_KIND_INTEGER   2   /* INTEGER (REAL if a value is not integral) */
#define AT_KIND_REAL      3   /* REAL */
#define AT_KIND_BOOLEAN   4   /* INTEGER 1, or 0 when absent */
#define AT_KIND_DATE      5   /* TEXT 'YYYY-MM-DD' */
#define AT_KIND_DATETIME  6   /* TEXT 'YYYY-MM-DDTHH:MM:SS.sssZ' (UTC) */
#define AT_KIND_JSON      7   /* TEXT holding compact JSON */

/* A converted cell: what one Airtable value becomes in SQL. */
typedef struct AtCell AtCell;
struct AtCell {
  int eType;            /* SQLITE_NULL, _INTEGER, _FLOAT or _TEXT */
  sqlite3_int64 i;      /* the value if SQLITE_INTEGER */
  double r;             /* the value if SQLITE_FLOAT */
  const char *z;        /* the text if SQLITE_TEXT (owned by the JSON tree or
                        ** zFree); z[n] is 0 and, unless bNul, z holds no
                        ** other 0 byte */
  int n;                /* bytes in z */
  int bNul;             /* z holds a NUL before z[n] (a \u0000 in the text) */
  char *zFree;          /* sqlite3_malloc'd text to free with atCellClear() */
};

/* The kind for a field of Airtable type zType with options pOptions (may be
** NULL). formula, rollup and lookups follow options.result. Unknown types
** are AT_KIND_JSON. */
int atFieldKind(const char *zType, const cJSON *pOptions);

/* The declared SQL column type of a kind ("TEXT", "INTEGER", "REAL") and its
** name ("text", "integer", "real", "boolean", "date", "datetime", "json"). */
const char *atKindDeclType(int eKind);
const char *atKindName(int eKind);

/* Convert value pVal (NULL when the field is absent from the record) of a
** field of kind eKind. Returns SQLITE_OK or SQLITE_NOMEM. Free with
** atCellClear(). Rules are in docs/sql-reference.md ("Field types"). */
int atCellFromJson(int eKind, const cJSON *pVal, AtCell *pCell);
void atCellClear(AtCell *pCell);

/* Hand a cell to SQLite as a function result. Text the cell owns (JSON
** it printed) is handed over, not copied; text in the JSON tree is copied.
** Clear the cell afterwards as usual. */
void atCellResult(sqlite3_context *ctx, AtCell *pCell);

#endif /* AT_VALUE_H */
