/* fuzz_page.c: a response body, as the server might send it, through the
** page parser, the error-body parser and every kind's value conversion;
** and the same bytes as a gzip body through atGunzip (its members, its
** growing room, its limit), whose output must end in a NUL. */
#include <stdlib.h>
#include <libdeflate.h>
#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "http.h"
#include "page.h"
#include "value.h"

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
  {
    static struct libdeflate_decompressor *pDec = 0;
    char *zOut = 0;
    size_t nAlloc = 0, nOut = 0;
    if( pDec==0 ) pDec = libdeflate_alloc_decompressor();
    if( atGunzip(pDec, z, nData, &zOut, &nAlloc, &nOut, 1<<20)==SQLITE_OK ){
      if( nOut>=nAlloc || zOut[nOut]!=0 ) abort();
    }
    sqlite3_free(zOut);
  }
  return 0;
}
