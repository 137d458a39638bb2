/* fuzz_request.c: the input's NUL-separated parts as a list request's
** table, view, formula, offset, fields and sort keys; built both as a GET
** URL and as a POST body. */
#include <string.h>
#include "airtable_int.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const unsigned char *aData, size_t nData){
  char *zCopy = sqlite3_malloc64(nData+1);
  const char *azPart[12];
  AtSort aSort[3];
  AtListQuery q;
  AtRequest req;
  int nPart = 0, i;
  size_t j, iStart = 0;
  if( zCopy==0 ) return 0;
  memcpy(zCopy, aData, nData);
  zCopy[nData] = 0;
  for(j=0; j<=nData && nPart<12; j++){
    if( j==nData || zCopy[j]==0 ){
      azPart[nPart++] = &zCopy[iStart];
      iStart = j+1;
    }
  }
  while( nPart<12 ) azPart[nPart++] = "";
  memset(&q, 0, sizeof(q));
  q.zView = azPart[1][0] ? azPart[1] : 0;
  q.zFormula = azPart[2][0] ? azPart[2] : 0;
  q.zOffset = azPart[3][0] ? azPart[3] : 0;
  q.azField = &azPart[4];
  q.nField = 4;
  for(i=0; i<3; i++){
    aSort[i].zField = azPart[8+i];
    aSort[i].bDesc = i&1;
  }
  q.aSort = aSort;
  q.nSort = 3;
  q.nPageSize = nData % 101;
  q.nMaxRecords = (sqlite3_int64)nData * 7;
  q.bFieldsById = nData & 1;
  for(i=0; i<2; i++){
    if( atListRequest("https://api.airtable.com", "appPackagingOps01", azPart[0],
                      &q, i ? 10 : AT_MAX_URL, &req)==SQLITE_OK ){
      atRequestClear(&req);
    }
  }
  sqlite3_free(zCopy);
  return 0;
}
