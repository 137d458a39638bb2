/* test_partition.c: a table cut into disjoint parts by a RECORD_ID()
** formula, and every id in exactly one part (partition.c). */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "partition.h"
#include "testhelp.h"

static int tolowerAscii(int c){ return c>='A' && c<='Z' ? c-'A'+'a' : c; }
static int toupperAscii(int c){ return c>='a' && c<='z' ? c-'a'+'A' : c; }

static void testPartitionFormulas(void){
  char *z = atPartitionFormula(0, 1);
  CHECK(z==0);                                  /* one part: no formula */
  z = atPartitionFormula(0, 2);
  CHECK_STR(z, "FIND(MID(RECORD_ID(),4,1),'0123456789aAbBcCdDeEfFgGhHiIjJkK')>0");
  sqlite3_free(z);
  z = atPartitionFormula(1, 2);
  CHECK_STR(z, "FIND(MID(RECORD_ID(),4,1),'0123456789aAbBcCdDeEfFgGhHiIjJkK')=0");
  sqlite3_free(z);
  z = atPartitionFormula(2, 3);
  /* 22, 20 and 20 of the 62 characters. */
  CHECK_STR(z, "AND(FIND(MID(RECORD_ID(),4,1),'0123456789aAbBcCdDeEfF')=0,"
               "FIND(MID(RECORD_ID(),4,1),'gGhHiIjJkKlLmMnNoOpP')=0)");
  sqlite3_free(z);
}

/* The premises of partition.c's proof, for every part count: the groups in
** the formulas are disjoint and closed under case, every id character is
** in exactly one part, and atPartitionOf agrees with the formulas. */
static void testPartitionsCoverEveryIdOnce(void){
  static const char zAlnum[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  int n, k, i;
  for(n=2; n<=8; n++){
    char *azGroup[8];
    int aSize[8];
    for(k=0; k<n-1; k++){
      char *z = atPartitionFormula(k, n);
      char *zStart = z ? strchr(z, '\'') : 0;
      char *zEnd = zStart ? strchr(zStart+1, '\'') : 0;
      CHECK(zEnd!=0);
      if( zEnd==0 ){ sqlite3_free(z); return; }
      azGroup[k] = sqlite3_mprintf("%.*s", (int)(zEnd-zStart-1), zStart+1);
      aSize[k] = (int)strlen(azGroup[k]);
      CHECK(aSize[k]>=62/n-2 && aSize[k]<=62/n+2);     /* about equal */
      sqlite3_free(z);
    }
    for(i=0; zAlnum[i]; i++){
      char zId[18];
      int nIn = 0, iIn = n-1;
      sqlite3_snprintf(sizeof(zId), zId, "rec%cAAAAAAAAAAAAA", zAlnum[i]);
      for(k=0; k<n-1; k++){
        int bLower = strchr(azGroup[k], tolowerAscii(zAlnum[i]))!=0;
        int bUpper = strchr(azGroup[k], toupperAscii(zAlnum[i]))!=0;
        CHECK(bLower==bUpper);                  /* closed under case */
        if( strchr(azGroup[k], zAlnum[i]) ){ nIn++; iIn = k; }
      }
      CHECK(nIn<=1);                            /* disjoint */
      CHECK(atPartitionOf(zId, n)==iIn);        /* the last part: the rest */
    }
    CHECK(atPartitionOf("rec-AAAAAAAAAAAAA", n)==n-1);
    for(k=0; k<n-1; k++) sqlite3_free(azGroup[k]);
  }
}

int main(void){
  /* Run as a host might: the process's locale is not the C library's. */
  setlocale(LC_ALL, "");
  testPartitionFormulas();
  testPartitionsCoverEveryIdOnce();
  DONE();
}
