/* fuzz_pack.c: the input as a row's packed values (cache.c), as a database
** file copied from elsewhere may hold them: the first byte says how many
** values the layout expects. Unpacking must refuse what is malformed and
** never read past the end of what it accepts. */
#include "airtable_int.h"
#include "cache.h"

int LLVMFuzzerTestOneInput(const unsigned char *aData, size_t nData){
  int aOff[256], nVal, i, n;
  if( nData<1 || nData>(1<<20) ) return 0;
  nVal = aData[0];
  n = (int)nData - 1;
  if( atCacheUnpackOffsets(aData+1, n, nVal, aOff)!=SQLITE_OK ) return 0;
  for(i=0; i<nVal; i++){
    const unsigned char *a = aData+1+aOff[i];
    long long m = 0;
    if( aOff[i]<0 || aOff[i]>=n ) __builtin_trap();
    switch( a[0] ){
      case 0: m = 1; break;
      case 1: case 2: m = 9; break;
      case 3:
        m = 5 + ((long long)a[1] | ((long long)a[2]<<8) | ((long long)a[3]<<16)
                 | ((long long)a[4]<<24));
        break;
      default: __builtin_trap();
    }
    if( aOff[i]+m>n ) __builtin_trap();
    if( i+1<nVal && aOff[i+1]!=aOff[i]+m ) __builtin_trap();
  }
  return 0;
}
