/* fuzz_options.c: the input's lines as the arguments of CREATE VIRTUAL
** TABLE ... USING airtable(...). Files named by token_file or ca_file are
** only read, never written. */
#include <string.h>
#include "airtable_int.h"
#include "options.h"

int LLVMFuzzerTestOneInput(const unsigned char *aData, size_t nData){
  char *zCopy = sqlite3_malloc64(nData+1);
  const char *azArg[16];
  int nArg = 0;
  size_t i, iStart = 0;
  AtOptions opt;
  char *zErr = 0;
  if( zCopy==0 ) return 0;
  memcpy(zCopy, aData, nData);
  zCopy[nData] = 0;
  for(i=0; i<=nData && nArg<16; i++){
    if( i==nData || zCopy[i]=='\n' ){
      zCopy[i] = 0;
      azArg[nArg++] = &zCopy[iStart];
      iStart = i+1;
    }
  }
  atOptionsParse(nArg, azArg, &opt, &zErr);
  atOptionsClear(&opt);
  sqlite3_free(zErr);
  sqlite3_free(zCopy);
  return 0;
}
