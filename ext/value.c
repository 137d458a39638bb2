/*
** value.c: how Airtable values become SQL values. A field's type (and, for
** formula, rollup and lookup fields, its result type) gives it a kind; a
** cell is converted once, by kind, into an AtCell that xColumn, a cache or
** an exporter can hand on. The rules, which README.md documents:
**
**   absent            NULL (0 for a checkbox)
**   {"error": E}      TEXT E, e.g. '#ERROR!'   (computed error; not JSON kind)
**   {"specialValue":S} TEXT S, e.g. 'NaN'      (not JSON kind)
**   TEXT, DATE, DATETIME  the string
**   INTEGER           the number; REAL if not integral or out of range
**   REAL              the number
**   BOOLEAN           1 for true, 0 for false
**   JSON              compact JSON text of the value, whatever it is
**   anything else     by the JSON type: string TEXT, number INTEGER/REAL,
**                     true/false 1/0, array/object compact JSON text.
** No value is dropped: a value of an unexpected JSON type keeps its data.
*/
#include <math.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "value.h"
#include "json.h"

/* Field types by kind (Airtable docs, Field model). Types not listed, and
** types Airtable adds later, are JSON. */
static const struct { const char *zType; int eKind; } aTypeKind[] = {
  { "singleLineText",    AT_KIND_TEXT },
  { "email",             AT_KIND_TEXT },
  { "url",               AT_KIND_TEXT },
  { "multilineText",     AT_KIND_TEXT },
  { "phoneNumber",       AT_KIND_TEXT },
  { "richText",          AT_KIND_TEXT },
  { "singleSelect",      AT_KIND_TEXT },
  { "externalSyncSource",AT_KIND_TEXT },
  { "percent",           AT_KIND_REAL },
  { "rating",            AT_KIND_INTEGER },
  { "autoNumber",        AT_KIND_INTEGER },
  { "count",             AT_KIND_INTEGER },
  { "checkbox",          AT_KIND_BOOLEAN },
  { "date",              AT_KIND_DATE },
  { "dateTime",          AT_KIND_DATETIME },
  { "createdTime",       AT_KIND_DATETIME },
  { "lastModifiedTime",  AT_KIND_DATETIME },
};

/* number and currency: INTEGER when options.precision is 0. */
static int precisionKind(const cJSON *pOptions){
  const cJSON *pPrec = cJSON_GetObjectItemCaseSensitive(pOptions, "precision");
  if( cJSON_IsNumber(pPrec) && pPrec->valuedouble==0.0 ) return AT_KIND_INTEGER;
  return AT_KIND_REAL;
}

int atFieldKind(const char *zType, const cJSON *pOptions){
  size_t i;
  if( zType==0 ) return AT_KIND_JSON;
  for(i=0; i<sizeof(aTypeKind)/sizeof(aTypeKind[0]); i++){
    if( strcmp(aTypeKind[i].zType, zType)==0 ) return aTypeKind[i].eKind;
  }
  if( strcmp(zType, "number")==0 || strcmp(zType, "currency")==0 ){
    return precisionKind(pOptions);
  }
  if( strcmp(zType, "duration")==0 ){
    /* Seconds; whole seconds unless the format shows fractions. */
    const cJSON *pFmt = cJSON_GetObjectItemCaseSensitive(pOptions, "durationFormat");
    if( cJSON_IsString(pFmt) && (strcmp(pFmt->valuestring, "h:mm")==0
                              || strcmp(pFmt->valuestring, "h:mm:ss")==0) ){
      return AT_KIND_INTEGER;
    }
    return AT_KIND_REAL;
  }
  if( strcmp(zType, "formula")==0 || strcmp(zType, "rollup")==0 ){
    /* Typed by options.result, itself a {type, options} field config. */
    const cJSON *pRes = cJSON_GetObjectItemCaseSensitive(pOptions, "result");
    const cJSON *pResType = cJSON_GetObjectItemCaseSensitive(pRes, "type");
    if( cJSON_IsString(pResType)
     && strcmp(pResType->valuestring, "formula")!=0
     && strcmp(pResType->valuestring, "rollup")!=0 ){
      return atFieldKind(pResType->valuestring,
                         cJSON_GetObjectItemCaseSensitive(pRes, "options"));
    }
    return AT_KIND_JSON;
  }
  return AT_KIND_JSON;   /* multi-valued, objects, lookups, unknown types */
}

const char *atKindDeclType(int eKind){
  switch( eKind ){
    case AT_KIND_INTEGER:
    case AT_KIND_BOOLEAN: return "INTEGER";
    case AT_KIND_REAL:    return "REAL";
    default:              return "TEXT";
  }
}

const char *atKindName(int eKind){
  switch( eKind ){
    case AT_KIND_TEXT:     return "text";
    case AT_KIND_INTEGER:  return "integer";
    case AT_KIND_REAL:     return "real";
    case AT_KIND_BOOLEAN:  return "boolean";
    case AT_KIND_DATE:     return "date";
    case AT_KIND_DATETIME: return "datetime";
    default:               return "json";
  }
}

/* A number as INTEGER when it is integral and fits, else REAL. */
static void numberCell(double r, AtCell *pCell){
  if( r==floor(r) && r>=-9223372036854775808.0 && r<9223372036854775808.0 ){
    pCell->eType = SQLITE_INTEGER;
    pCell->i = (sqlite3_int64)r;
  }else{
    pCell->eType = SQLITE_FLOAT;
    pCell->r = r;
  }
}

/* The cell holds compact JSON text of pVal. */
static int jsonCell(const cJSON *pVal, AtCell *pCell){
  int n = 0;
  pCell->zFree = atJsonText(pVal, &n);
  if( pCell->zFree==0 ) return SQLITE_NOMEM;
  pCell->eType = SQLITE_TEXT;
  pCell->z = pCell->zFree;
  pCell->n = n;
  return SQLITE_OK;
}

/* If pVal is a computed value's error or special value (an object whose
** only member is "error" or "specialValue" holding a string), return that
** string. Airtable docs: formula errors {"error": "#ERROR!"}, NaN
** {"specialValue": "NaN"}. */
static const cJSON *specialValue(const cJSON *pVal){
  const cJSON *pOnly;
  if( !cJSON_IsObject(pVal) ) return 0;
  pOnly = pVal->child;
  if( pOnly==0 || pOnly->next!=0 || !cJSON_IsString(pOnly) ) return 0;
  if( strcmp(pOnly->string, "error")==0 ) return pOnly;
  if( strcmp(pOnly->string, "specialValue")==0 ) return pOnly;
  return 0;
}

int atCellFromJson(int eKind, const cJSON *pVal, AtCell *pCell){
  const cJSON *pSpecial;
  memset(pCell, 0, sizeof(*pCell));
  pCell->eType = SQLITE_NULL;
  if( pVal==0 || cJSON_IsNull(pVal) ){
    if( eKind==AT_KIND_BOOLEAN ){
      pCell->eType = SQLITE_INTEGER;   /* an unchecked checkbox is absent */
    }
    return SQLITE_OK;
  }
  if( eKind==AT_KIND_JSON ) return jsonCell(pVal, pCell);
  if( (pSpecial = specialValue(pVal))!=0 ){
    pVal = pSpecial;   /* fall through: a string, taken as TEXT */
  }
  if( cJSON_IsString(pVal) ){
    pCell->eType = SQLITE_TEXT;
    pCell->z = pVal->valuestring;
    pCell->n = (int)atJsonStrLen(pVal);
    pCell->bNul = (pVal->type & AT_JSON_STRLEN)!=0;
  }else if( cJSON_IsNumber(pVal) ){
    if( eKind==AT_KIND_REAL ){
      pCell->eType = SQLITE_FLOAT;
      pCell->r = pVal->valuedouble;
    }else{
      numberCell(pVal->valuedouble, pCell);
    }
  }else if( cJSON_IsBool(pVal) ){
    pCell->eType = SQLITE_INTEGER;
    pCell->i = cJSON_IsTrue(pVal) ? 1 : 0;
  }else{
    return jsonCell(pVal, pCell);
  }
  return SQLITE_OK;
}

void atCellClear(AtCell *pCell){
  sqlite3_free(pCell->zFree);
  memset(pCell, 0, sizeof(*pCell));
}

void atCellResult(sqlite3_context *ctx, AtCell *pCell){
  switch( pCell->eType ){
    case SQLITE_INTEGER: sqlite3_result_int64(ctx, pCell->i); break;
    case SQLITE_FLOAT:   sqlite3_result_double(ctx, pCell->r); break;
    case SQLITE_TEXT:
      /* Length -1: SQLite measures the text and so knows a NUL ends it
      ** (AtCell's rule). Given the length, it would mark the value
      ** unterminated, and every sqlite3_column_text() would copy it
      ** again to add one: 17% of a shell scan's instructions. */
      if( pCell->zFree ){
        /* SQLite frees it (or at once, on error): the cell lets go of it. */
        sqlite3_result_text(ctx, pCell->zFree, -1, sqlite3_free);
        pCell->zFree = 0;
        pCell->z = 0;
      }else{
        /* A text that holds a NUL keeps all of it: its length is given. */
        sqlite3_result_text(ctx, pCell->z, pCell->bNul ? pCell->n : -1,
                            SQLITE_TRANSIENT);
      }
      break;
    default:             sqlite3_result_null(ctx); break;
  }
}
