/* fuzz_page.c: a response body, as the server might send it, through the
** page parser, the error-body parser and every kind's value conversion. */
#include "airtable_int.h"

int LLVMFuzzerTestOneInput(const unsigned char *aData, size_t nData){
  AtPage page;
  char *zErr = 0, *zType = 0, *zMsg;
  const char *z = (const char*)aData;
  zMsg = atErrorBodyMessage(z, nData, &zType);
  sqlite3_free(zMsg);
  sqlite3_free(zType);
  if( atPageParse(z, nData, "records", &page, &zErr)==SQLITE_OK ){
    for(; page.pRecord; page.pRecord=page.pRecord->next){
      const cJSON *pVal;
      cJSON_ArrayForEach(pVal, cJSON_GetObjectItemCaseSensitive(page.pRecord, "fields")){
        int eKind;
        for(eKind=AT_KIND_TEXT; eKind<=AT_KIND_JSON; eKind++){
          AtCell cell;
          if( atCellFromJson(eKind, pVal, &cell)==SQLITE_OK ) atCellClear(&cell);
        }
      }
    }
  }
  atPageClear(&page);
  sqlite3_free(zErr);
  return 0;
}
