/* test_page.c: response pages parsed and shape-checked (page.c). */
#include <stdlib.h>
#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "page.h"
#include "testhelp.h"

static char *parse(const char *zBody, const char *zArray){
  AtPage page;
  char *zErr = 0, *zOut;
  int rc = atPageParse(zBody, strlen(zBody), zArray, &page, &zErr);
  if( rc==SQLITE_OK ){
    zOut = sqlite3_mprintf("ok %d %s first=%s", page.nRecord,
             page.zOffset ? page.zOffset : "-",
             page.pRecord ? cJSON_GetObjectItem(page.pRecord, "id")->valuestring : "-");
  }else{
    zOut = sqlite3_mprintf("%s", zErr);
  }
  sqlite3_free(zErr);
  atPageClear(&page);
  return zOut;
}

#define PAGE(body, arr, want) do{ \
  char *z_ = parse(body, arr); CHECK_STR(z_, want); sqlite3_free(z_); }while(0)

static void testPages(void){
  PAGE("{\"records\":[]}", "records", "ok 0 - first=-");
  PAGE("{\"records\":[{\"id\":\"recA\",\"createdTime\":\"x\",\"fields\":{}},"
       "{\"id\":\"recB\"}],\"offset\":\"itr1/recB\"}", "records",
       "ok 2 itr1/recB first=recA");
  PAGE("{\"records\":[],\"offset\":null}", "records", "ok 0 - first=-");
  PAGE("{\"bases\":[{\"id\":\"appA\"}]}", "bases", "ok 1 - first=appA");
  PAGE("", "records", "airtable: the response is not valid JSON (error at byte 0 of 0)");
  PAGE("{\"records\": [ {\"id\": \"rec", "records",
       "airtable: the response is not valid JSON (error at byte 25 of 25)");
  PAGE("[1,2]", "records", "airtable: the response is not a JSON object");
  PAGE("{\"recs\":[]}", "records", "airtable: the response has no \"records\" array");
  PAGE("{\"records\":{}}", "records", "airtable: the response has no \"records\" array");
  PAGE("{\"records\":[1]}", "records", "airtable: element 0 of \"records\" is not an object");
  PAGE("{\"records\":[{\"id\":\"recA\"},{\"id\":7}]}", "records",
       "airtable: element 1 of \"records\" has no string \"id\"");
  PAGE("{\"records\":[{\"id\":\"recA\",\"fields\":[]}]}", "records",
       "airtable: record recA: \"fields\" is not an object");
  PAGE("{\"records\":[],\"offset\":12}", "records",
       "airtable: the response's \"offset\" is not a non-empty string");
  PAGE("{\"records\":[],\"offset\":\"\"}", "records",
       "airtable: the response's \"offset\" is not a non-empty string");
  /* Text after the value is refused (json.c is strict), spaces are not. */
  PAGE("{\"records\":[]} trailing", "records",
       "airtable: the response is not valid JSON (error at byte 15 of 23)");
  PAGE("{\"records\":[]}\r\n \t", "records", "ok 0 - first=-");
  PAGE("{\"records\":[{\"id\":\"rec\\u00e9\"}]}", "records", "ok 1 - first=rec\xc3\xa9");
}

int main(void){
  testPages();
  DONE();
}
