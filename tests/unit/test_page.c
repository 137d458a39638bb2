/* test_page.c: response pages and error bodies (page.c, http.c). */
#include "airtable_int.h"
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

static void testErrorBodies(void){
  char *z, *zType;
#define ERRBODY(body, want) \
  z = atErrorBodyMessage(body, strlen(body), 0); CHECK_STR(z, want); sqlite3_free(z)
  ERRBODY("{\"error\":\"NOT_FOUND\"}", "NOT_FOUND");
  ERRBODY("{\"error\":{\"type\":\"LIST_RECORDS_ITERATOR_NOT_AVAILABLE\"}}",
          "LIST_RECORDS_ITERATOR_NOT_AVAILABLE");
  ERRBODY("{\"error\":{\"type\":\"RATE_LIMIT_REACHED\",\"message\":\"Rate limit "
          "exceeded. Please try again later\"}}",
          "RATE_LIMIT_REACHED: Rate limit exceeded. Please try again later");
  ERRBODY("<html>502 Bad Gateway</html>", 0);
  ERRBODY("{\"error\":42}", 0);
  ERRBODY("{\"message\":\"x\"}", 0);
  z = atErrorBodyMessage("{\"error\":{\"type\":\"T\",\"message\":\"M\"}}", 36, &zType);
  CHECK_STR(z, "T: M");
  CHECK_STR(zType, "T");
  sqlite3_free(z);
  sqlite3_free(zType);
  z = atErrorBodyMessage("{\"error\":\"NOT_FOUND\"}", 21, &zType);
  CHECK_STR(zType, "NOT_FOUND");
  sqlite3_free(z);
  sqlite3_free(zType);
  z = atErrorBodyMessage("nope", 4, &zType);
  CHECK(z==0 && zType==0);
}

int main(void){
  testPages();
  testErrorBodies();
  DONE();
}
