/*
** spark.c: the Spark type of every Airtable field, in one place. The export's
** schema files, airtable_spark_schema() and the Python drop-in all come from
** atSparkFieldType(), which builds on the SQL kinds of value.c: a field
** whose SQL kind is INTEGER is a Spark long, REAL a double, and so on; the
** fields that SQL holds as JSON text get nested types here (arrays, structs).
** A CSV file cannot hold nested values, so its schema ("flat") turns every
** array and struct into a string holding compact JSON text.
**
** Types are cJSON trees in Spark's own JSON form, the form
** StructType.fromJson() reads: "long", {"type":"array","elementType":...,
** "containsNull":true}, {"type":"struct","fields":[...]}. The DDL form
** (BIGINT, ARRAY<...>, STRUCT<...>) is printed from the same tree.
*/
#include <stdarg.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "spark.h"
#include "names.h"
#include "schema.h"
#include "value.h"

/* ---- building types ---------------------------------------------------- */

static cJSON *arrayOf(cJSON *pElem){
  cJSON *p;
  if( pElem==0 ) return 0;
  p = cJSON_CreateObject();
  if( p==0
   || !cJSON_AddStringToObject(p, "type", "array")
   || !cJSON_AddItemToObject(p, "elementType", pElem) ){
    cJSON_Delete(p);
    cJSON_Delete(pElem);
    return 0;
  }
  if( !cJSON_AddTrueToObject(p, "containsNull") ){
    cJSON_Delete(p);
    return 0;
  }
  return p;
}

/* A struct field {"name","type","nullable","metadata"}; takes pType and
** pMeta (NULL: empty metadata). NULL on OOM, with both freed. */
static cJSON *structField(const char *zName, cJSON *pType, int bNullable,
                          cJSON *pMeta){
  cJSON *p = cJSON_CreateObject();
  if( pMeta==0 ) pMeta = cJSON_CreateObject();
  if( p==0 || pType==0 || pMeta==0 || !cJSON_AddStringToObject(p, "name", zName) ){
    cJSON_Delete(pType);
    goto fail;
  }
  if( !cJSON_AddItemToObject(p, "type", pType) ){
    cJSON_Delete(pType);
    goto fail;
  }
  if( !cJSON_AddBoolToObject(p, "nullable", bNullable)
   || !cJSON_AddItemToObject(p, "metadata", pMeta) ){
    goto fail;
  }
  return p;
fail:
  cJSON_Delete(pMeta);
  cJSON_Delete(p);
  return 0;
}

/* {"type":"struct","fields":[]}: fields are added with addField(). */
static cJSON *newStruct(void){
  cJSON *p = cJSON_CreateObject();
  if( p==0
   || !cJSON_AddStringToObject(p, "type", "struct")
   || !cJSON_AddArrayToObject(p, "fields") ){
    cJSON_Delete(p);
    return 0;
  }
  return p;
}

/* Add a nullable member to struct pStruct (deleted, with pType, on OOM).
** Returns pStruct, or NULL on OOM, so calls can be chained. */
static cJSON *addField(cJSON *pStruct, const char *zName, cJSON *pType){
  cJSON *pField;
  if( pStruct==0 ){
    cJSON_Delete(pType);
    return 0;
  }
  pField = structField(zName, pType, 1, 0);
  if( pField==0
   || !cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(pStruct, "fields"), pField) ){
    cJSON_Delete(pField);
    cJSON_Delete(pStruct);
    return 0;
  }
  return pStruct;
}

#define PRIM(z) cJSON_CreateString(z)

/* struct<id,email,name>: Airtable docs, collaborator values. */
static cJSON *collaboratorType(void){
  cJSON *p = newStruct();
  p = addField(p, "id", PRIM("string"));
  p = addField(p, "email", PRIM("string"));
  return addField(p, "name", PRIM("string"));
}

static cJSON *thumbnailType(void){
  cJSON *p = newStruct();
  p = addField(p, "url", PRIM("string"));
  p = addField(p, "width", PRIM("long"));
  return addField(p, "height", PRIM("long"));
}

/* Airtable docs, multipleAttachments: {id, type, filename, size, url,
** width?, height?, thumbnails?: {small, large, full}}. */
static cJSON *attachmentType(void){
  cJSON *pThumbs = newStruct(), *p = newStruct();
  pThumbs = addField(pThumbs, "small", thumbnailType());
  pThumbs = addField(pThumbs, "large", thumbnailType());
  pThumbs = addField(pThumbs, "full", thumbnailType());
  p = addField(p, "id", PRIM("string"));
  p = addField(p, "url", PRIM("string"));
  p = addField(p, "filename", PRIM("string"));
  p = addField(p, "size", PRIM("long"));
  p = addField(p, "type", PRIM("string"));
  p = addField(p, "width", PRIM("long"));
  p = addField(p, "height", PRIM("long"));
  return addField(p, "thumbnails", pThumbs);
}

/* Structs with two or three string-or-boolean members. */
static cJSON *smallStruct(const char *z1, const char *t1, const char *z2,
                          const char *t2, const char *z3, const char *t3){
  cJSON *p = newStruct();
  p = addField(p, z1, PRIM(t1));
  p = addField(p, z2, PRIM(t2));
  if( z3 ) p = addField(p, z3, PRIM(t3));
  return p;
}

/* The primitive Spark type of a SQL kind. */
static const char *kindSparkType(int eKind){
  switch( eKind ){
    case AT_KIND_INTEGER:  return "long";
    case AT_KIND_REAL:     return "double";
    case AT_KIND_BOOLEAN:  return "boolean";
    case AT_KIND_DATE:     return "date";
    case AT_KIND_DATETIME: return "timestamp";
    default:               return "string";
  }
}

/* True if pType is an array or struct type (not a primitive). */
static int isNested(const cJSON *pType){
  return cJSON_IsObject(pType);
}

static int isArray(const cJSON *pType){
  const cJSON *pKind = cJSON_GetObjectItemCaseSensitive(pType, "type");
  return cJSON_IsString(pKind) && strcmp(pKind->valuestring, "array")==0;
}

cJSON *atSparkFieldType(const char *zType, const cJSON *pOptions, int bNested){
  const cJSON *pRes, *pResType;
  cJSON *p = 0;
  int bLookup;
  if( zType==0 ) return PRIM("string");
  /* Durations are seconds, perhaps fractional whatever the display format. */
  if( strcmp(zType, "duration")==0 ) return PRIM("double");
  bLookup = strcmp(zType, "multipleLookupValues")==0;
  if( bLookup || strcmp(zType, "formula")==0 || strcmp(zType, "rollup")==0 ){
    /* Typed by options.result, itself a {type, options} field config. */
    pRes = cJSON_GetObjectItemCaseSensitive(pOptions, "result");
    pResType = cJSON_GetObjectItemCaseSensitive(pRes, "type");
    if( !cJSON_IsString(pResType)
     || strcmp(pResType->valuestring, "formula")==0
     || strcmp(pResType->valuestring, "rollup")==0
     || strcmp(pResType->valuestring, "multipleLookupValues")==0 ){
      return PRIM("string");               /* JSON text of whatever comes */
    }
    if( bLookup && !bNested ) return PRIM("string");
    p = atSparkFieldType(pResType->valuestring,
                         cJSON_GetObjectItemCaseSensitive(pRes, "options"),
                         bNested);
    if( bLookup && p && !isArray(p) ){
      p = arrayOf(p);      /* a lookup: the looked-up values, as an array */
    }
    return p;
  }
  if( atFieldKind(zType, pOptions)!=AT_KIND_JSON ){
    return PRIM(kindSparkType(atFieldKind(zType, pOptions)));
  }
  if( !bNested ) return PRIM("string");
  if( strcmp(zType, "multipleSelects")==0
   || strcmp(zType, "multipleRecordLinks")==0 ){
    p = arrayOf(PRIM("string"));
  }else if( strcmp(zType, "singleCollaborator")==0
         || strcmp(zType, "createdBy")==0
         || strcmp(zType, "lastModifiedBy")==0 ){
    p = collaboratorType();
  }else if( strcmp(zType, "multipleCollaborators")==0 ){
    p = arrayOf(collaboratorType());
  }else if( strcmp(zType, "multipleAttachments")==0 ){
    p = arrayOf(attachmentType());
  }else if( strcmp(zType, "barcode")==0 ){
    p = smallStruct("text", "string", "type", "string", 0, 0);
  }else if( strcmp(zType, "button")==0 ){
    p = smallStruct("label", "string", "url", "string", 0, 0);
  }else if( strcmp(zType, "aiText")==0 ){
    p = smallStruct("state", "string", "isStale", "boolean", "value", "string");
  }else{
    p = PRIM("string");                    /* unknown types: JSON text */
  }
  return p;
}

/* ---- a table's schema -------------------------------------------------- */

void atSparkSchemaClear(AtSparkSchema *p){
  int i;
  for(i=0; i<p->nCol; i++){
    sqlite3_free(p->aCol[i].zName);
    cJSON_Delete(p->aCol[i].pType);
  }
  sqlite3_free(p->aCol);
  memset(p, 0, sizeof(*p));
}

int atSparkSchemaBuild(const cJSON *pTable, const AtSchema *pSchema,
                       int bNested, int bExactNames, AtSparkSchema *p){
  static const char *const azReserved[] = { "id", "createdTime" };
  const cJSON *pFields = cJSON_GetObjectItemCaseSensitive(pTable, "fields");
  const cJSON *pField;
  int n = pSchema->nField, i, rc = SQLITE_NOMEM;
  char **azName = 0, **azUnique = 0;

  memset(p, 0, sizeof(*p));
  p->aCol = sqlite3_malloc64(sizeof(AtSparkCol)*(n+2));
  azName = sqlite3_malloc64(sizeof(char*)*(n+1));
  azUnique = sqlite3_malloc64(sizeof(char*)*(n+1));
  if( p->aCol==0 || azName==0 || azUnique==0 ) goto done;
  memset(p->aCol, 0, sizeof(AtSparkCol)*(n+2));
  memset(azName, 0, sizeof(char*)*(n+1));
  memset(azUnique, 0, sizeof(char*)*(n+1));

  p->aCol[0].zName = atStrdup("id");
  p->aCol[0].iField = AT_SPARK_ID;
  p->aCol[0].pType = PRIM("string");
  p->aCol[1].zName = atStrdup("createdTime");
  p->aCol[1].iField = AT_SPARK_CREATED_TIME;
  p->aCol[1].pType = PRIM("timestamp");
  p->nCol = 2;
  if( !p->aCol[0].zName || !p->aCol[0].pType
   || !p->aCol[1].zName || !p->aCol[1].pType ) goto done;

  /* The metadata's fields are the schema's, in the same order. */
  i = 0;
  cJSON_ArrayForEach(pField, pFields){
    const cJSON *pOptions = cJSON_GetObjectItemCaseSensitive(pField, "options");
    AtSparkCol *c;
    if( i>=n ) break;
    c = &p->aCol[p->nCol++];
    c->iField = i;
    c->pType = atSparkFieldType(pSchema->aField[i].zType, pOptions, bNested);
    if( c->pType==0 ) goto done;
    c->bJsonText = isNested(c->pType)==0
                && atFieldKind(pSchema->aField[i].zType, pOptions)==AT_KIND_JSON;
    c->bAbsentFalse = pSchema->aField[i].eKind==AT_KIND_BOOLEAN;
    azName[i] = bExactNames ? atStrdup(pSchema->aField[i].zName)
                            : atDeltaColumnName(pSchema->aField[i].zName);
    if( azName[i]==0 ) goto done;
    i++;
  }
  if( atUniqueNames(i, (const char *const*)azName, 2, azReserved, azUnique) ){
    goto done;
  }
  for(i=0; i<p->nCol-2; i++){
    p->aCol[i+2].zName = azUnique[i];
    azUnique[i] = 0;
  }
  rc = SQLITE_OK;

done:
  for(i=0; i<n && azName && azUnique; i++){
    sqlite3_free(azName[i]);
    sqlite3_free(azUnique[i]);
  }
  sqlite3_free(azName);
  sqlite3_free(azUnique);
  if( rc!=SQLITE_OK ) atSparkSchemaClear(p);
  return rc;
}

/* ---- printing ---------------------------------------------------------- */

char *atSparkSchemaJson(const AtSparkSchema *p, const AtSchema *pSchema){
  cJSON *pRoot = newStruct(), *pFields;
  char *zJson = 0, *zOut;
  int i;
  if( pRoot==0 ) return 0;
  pFields = cJSON_GetObjectItemCaseSensitive(pRoot, "fields");
  for(i=0; i<p->nCol; i++){
    const AtSparkCol *c = &p->aCol[i];
    cJSON *pMeta = cJSON_CreateObject(), *pField;
    if( pMeta && c->iField>=0 ){
      /* Nothing is lost: the Airtable name and id travel with the column. */
      const AtField *f = &pSchema->aField[c->iField];
      if( !cJSON_AddStringToObject(pMeta, "airtable_field_name", f->zName)
       || !cJSON_AddStringToObject(pMeta, "airtable_field_id", f->zId)
       || !cJSON_AddStringToObject(pMeta, "airtable_field_type", f->zType) ){
        cJSON_Delete(pMeta);
        pMeta = 0;
      }
    }
    pField = pMeta ? structField(c->zName, cJSON_Duplicate(c->pType, 1),
                                 c->iField!=AT_SPARK_ID, pMeta) : 0;
    if( pField==0 || !cJSON_AddItemToArray(pFields, pField) ){
      cJSON_Delete(pField);
      cJSON_Delete(pRoot);
      return 0;
    }
  }
  zJson = cJSON_PrintUnformatted(pRoot);
  cJSON_Delete(pRoot);
  if( zJson==0 ) return 0;
  zOut = sqlite3_mprintf("%s", zJson);     /* sqlite3_free()able, like the rest */
  cJSON_free(zJson);
  return zOut;
}

/* Append `zName` with backticks doubled, as Spark's DDL quotes names. */
static void appendQuotedName(sqlite3_str *pStr, const char *zName){
  const char *z;
  sqlite3_str_appendchar(pStr, 1, '`');
  for(z=zName; *z; z++){
    sqlite3_str_appendchar(pStr, *z=='`' ? 2 : 1, *z);
  }
  sqlite3_str_appendchar(pStr, 1, '`');
}

static void appendDdlType(sqlite3_str *pStr, const cJSON *pType){
  if( cJSON_IsString(pType) ){
    static const struct { const char *zJson, *zDdl; } aPrim[] = {
      { "string", "STRING" }, { "long", "BIGINT" }, { "double", "DOUBLE" },
      { "boolean", "BOOLEAN" }, { "date", "DATE" }, { "timestamp", "TIMESTAMP" },
    };
    size_t i;
    for(i=0; i<sizeof(aPrim)/sizeof(aPrim[0]); i++){
      if( strcmp(pType->valuestring, aPrim[i].zJson)==0 ){
        sqlite3_str_appendall(pStr, aPrim[i].zDdl);
        return;
      }
    }
    sqlite3_str_appendall(pStr, "STRING");
  }else if( isArray(pType) ){
    sqlite3_str_appendall(pStr, "ARRAY<");
    appendDdlType(pStr, cJSON_GetObjectItemCaseSensitive(pType, "elementType"));
    sqlite3_str_appendchar(pStr, 1, '>');
  }else{
    const cJSON *pField;
    int n = 0;
    sqlite3_str_appendall(pStr, "STRUCT<");
    cJSON_ArrayForEach(pField, cJSON_GetObjectItemCaseSensitive(pType, "fields")){
      if( n++ ) sqlite3_str_appendall(pStr, ", ");
      appendQuotedName(pStr,
                       cJSON_GetObjectItemCaseSensitive(pField, "name")->valuestring);
      sqlite3_str_appendall(pStr, ": ");
      appendDdlType(pStr, cJSON_GetObjectItemCaseSensitive(pField, "type"));
    }
    sqlite3_str_appendchar(pStr, 1, '>');
  }
}

char *atSparkTypeDdl(const cJSON *pType){
  sqlite3_str *pStr = sqlite3_str_new(0);
  appendDdlType(pStr, pType);
  return sqlite3_str_finish(pStr);
}

char *atSparkSchemaDdl(const AtSparkSchema *p){
  sqlite3_str *pStr = sqlite3_str_new(0);
  int i;
  for(i=0; i<p->nCol; i++){
    if( i ) sqlite3_str_appendall(pStr, ", ");
    appendQuotedName(pStr, p->aCol[i].zName);
    sqlite3_str_appendchar(pStr, 1, ' ');
    appendDdlType(pStr, p->aCol[i].pType);
    if( p->aCol[i].iField==AT_SPARK_ID ) sqlite3_str_appendall(pStr, " NOT NULL");
  }
  return sqlite3_str_finish(pStr);
}
