/* test_request.c: URL paths and list-records requests (request.c). */
#include "airtable_int.h"
#include "request.h"
#include "testhelp.h"

static void testPath(void){
  const char *az[3];
  char *z;
  az[0] = "appPackagingOps01";
  az[1] = "Packaging Tasks";
  z = atUrlPath("https://api.airtable.com", 2, az);
  CHECK_STR(z, "https://api.airtable.com/v0/appPackagingOps01/Packaging%20Tasks");
  sqlite3_free(z);

  /* Every reserved character of a name is encoded; the API root's trailing
  ** slashes are dropped. */
  az[1] = "Odd/Name?#% \"quoted\" \xe2\x98\x83";
  z = atUrlPath("http://127.0.0.1:8080//", 2, az);
  CHECK_STR(z, "http://127.0.0.1:8080/v0/appPackagingOps01/"
               "Odd%2FName%3F%23%25%20%22quoted%22%20%E2%98%83");
  sqlite3_free(z);

  az[0] = "meta"; az[1] = "bases"; az[2] = "appX'y&z=1";
  z = atUrlPath("https://proxy.example/airtable", 3, az);
  CHECK_STR(z, "https://proxy.example/airtable/v0/meta/bases/appX%27y%26z%3D1");
  sqlite3_free(z);
}

static void testListGet(void){
  AtListQuery q;
  AtRequest req;
  static const char *const azField[] = { "Name", "Unit Cost (USD).net" };
  AtSort aSort[2];
  int rc;

  memset(&q, 0, sizeof(q));
  rc = atListRequest("https://api.airtable.com", "appPackagingOps01",
                     "tblAAAAAAAAAAAAAA", &q, AT_MAX_URL, &req);
  CHECK(rc==SQLITE_OK);
  CHECK_STR(req.zMethod, "GET");
  CHECK_STR(req.zUrl, "https://api.airtable.com/v0/appPackagingOps01/tblAAAAAAAAAAAAAA");
  CHECK(req.zBody==0);
  atRequestClear(&req);

  aSort[0].zField = "Due Date"; aSort[0].bDesc = 0;
  aSort[1].zField = "Priority"; aSort[1].bDesc = 1;
  q.zView = "Open tasks";
  q.nField = 2;
  q.azField = azField;
  q.zFormula = "AND({Status}='Done', {N}>=5)";
  q.nSort = 2;
  q.aSort = aSort;
  q.nPageSize = 50;
  q.nMaxRecords = 1234;
  q.bFieldsById = 1;
  q.zOffset = "itrABC/recXYZ";
  rc = atListRequest("https://api.airtable.com", "appPackagingOps01",
                     "Packaging Tasks", &q, AT_MAX_URL, &req);
  CHECK(rc==SQLITE_OK);
  CHECK_STR(req.zMethod, "GET");
  CHECK_STR(req.zUrl,
    "https://api.airtable.com/v0/appPackagingOps01/Packaging%20Tasks"
    "?fields%5B%5D=Name&fields%5B%5D=Unit%20Cost%20%28USD%29.net"
    "&filterByFormula=AND%28%7BStatus%7D%3D%27Done%27%2C%20%7BN%7D%3E%3D5%29"
    "&maxRecords=1234&pageSize=50"
    "&sort%5B0%5D%5Bfield%5D=Due%20Date&sort%5B0%5D%5Bdirection%5D=asc"
    "&sort%5B1%5D%5Bfield%5D=Priority&sort%5B1%5D%5Bdirection%5D=desc"
    "&view=Open%20tasks&returnFieldsByFieldId=true&offset=itrABC%2FrecXYZ");
  atRequestClear(&req);

  /* Too long for a GET: the same options go to POST .../listRecords. */
  rc = atListRequest("https://api.airtable.com", "appPackagingOps01",
                     "Packaging Tasks", &q, 100, &req);
  CHECK(rc==SQLITE_OK);
  CHECK_STR(req.zMethod, "POST");
  CHECK_STR(req.zUrl, "https://api.airtable.com/v0/appPackagingOps01/"
                      "Packaging%20Tasks/listRecords");
  CHECK_STR(req.zBody,
    "{\"fields\":[\"Name\",\"Unit Cost (USD).net\"],"
    "\"filterByFormula\":\"AND({Status}='Done', {N}>=5)\","
    "\"maxRecords\":1234,\"pageSize\":50,"
    "\"sort\":[{\"field\":\"Due Date\",\"direction\":\"asc\"},"
    "{\"field\":\"Priority\",\"direction\":\"desc\"}],"
    "\"view\":\"Open tasks\",\"returnFieldsByFieldId\":true,"
    "\"offset\":\"itrABC/recXYZ\"}");
  atRequestClear(&req);
}

/* A request for many long field names crosses AT_MAX_URL exactly once. */
static void testLongUrlSwitch(void){
  AtListQuery q;
  AtRequest req;
  const char *azField[400];
  char azBuf[400][48];
  int i;
  for(i=0; i<400; i++){
    sqlite3_snprintf(sizeof(azBuf[i]), azBuf[i], "A fairly long field name %d", i);
    azField[i] = azBuf[i];
  }
  memset(&q, 0, sizeof(q));
  q.azField = azField;
  q.nField = 100;   /* about 100*58 = 5,800 characters: GET */
  CHECK(atListRequest("https://api.airtable.com", "appPackagingOps01", "T", &q,
                      AT_MAX_URL, &req)==SQLITE_OK);
  CHECK_STR(req.zMethod, "GET");
  CHECK((int)strlen(req.zUrl) <= AT_MAX_URL);
  atRequestClear(&req);
  q.nField = 400;   /* about 23,000 characters: POST */
  CHECK(atListRequest("https://api.airtable.com", "appPackagingOps01", "T", &q,
                      AT_MAX_URL, &req)==SQLITE_OK);
  CHECK_STR(req.zMethod, "POST");
  CHECK(req.zBody && strstr(req.zBody, "\"A fairly long field name 399\"]")!=0);
  atRequestClear(&req);
}

int main(void){
  testPath();
  testListGet();
  testLongUrlSwitch();
  DONE();
}
