/* fuzz_value.c: the input as a table's metadata (fields with types and
** options): schema building, column naming, the declaration, each field's
** kind; then the same JSON as a cell value of every kind. */
#include <string.h>
#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "json.h"
#include "schema.h"
#include "value.h"

int LLVMFuzzerTestOneInput(const unsigned char *aData, size_t nData){
  cJSON *pRoot = cJSON_ParseWithLength((const char*)aData, nData);
  AtSchema schema;
  char *zErr = 0;
  int eKind;
  if( pRoot==0 ) return 0;
  if( atSchemaBuild(pRoot, "Grid view", &schema, &zErr)==SQLITE_OK
   || atSchemaBuild(pRoot, 0, &schema, &zErr)==SQLITE_OK ){
    char *zSql = atSchemaDeclare(&schema);
    int i;
    for(i=0; i<schema.nField; i++){
      if( atSchemaFieldById(&schema, schema.aField[i].zId)<0 ) __builtin_trap();
    }
    sqlite3_free(zSql);
    atSchemaClear(&schema);
  }
  sqlite3_free(zErr);
  atFieldKind(cJSON_GetStringValue(cJSON_GetObjectItem(pRoot, "type")),
              cJSON_GetObjectItem(pRoot, "options"));
  /* The compact printer gives cJSON's bytes exactly. */
  {
    char *zMine = atJsonText(pRoot, 0), *zTheirs = cJSON_PrintUnformatted(pRoot);
    if( (zMine==0)!=(zTheirs==0) || (zMine && strcmp(zMine, zTheirs)!=0) ) __builtin_trap();
    sqlite3_free(zMine);
    cJSON_free(zTheirs);
  }
  for(eKind=AT_KIND_TEXT; eKind<=AT_KIND_JSON; eKind++){
    AtCell cell;
    if( atCellFromJson(eKind, pRoot, &cell)==SQLITE_OK ) atCellClear(&cell);
  }
  cJSON_Delete(pRoot);
  return 0;
}
