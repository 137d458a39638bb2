/* test_seen.c: the set a listing keeps of what it has seen (seen.c). */
#include <stdio.h>
#include <string.h>
#include "airtable_int.h"
#include "seen.h"
#include "testhelp.h"

int main(void){
  AtSeen s;
  char z[32];
  int i, nNew = 0, nOld = 0;
  memset(&s, 0, sizeof(s));
  /* 100,000 record ids: each new once, then seen. */
  for(i=0; i<100000; i++){
    snprintf(z, sizeof(z), "rec%014d", i);
    nNew += atSeenAdd(&s, 'r', z, strlen(z))==1;
  }
  for(i=0; i<100000; i++){
    snprintf(z, sizeof(z), "rec%014d", i);
    nOld += atSeenAdd(&s, 'r', z, strlen(z))==0;
  }
  CHECK(nNew==100000 && nOld==100000 && s.nUsed==100000);
  CHECK(s.nUsed*2 <= s.nSlot);
  /* The tag keeps kinds apart: an offset that reads like an id is new. */
  CHECK(atSeenAdd(&s, 'o', "rec00000000000000", 17)==1);
  CHECK(atSeenAdd(&s, 'o', "rec00000000000000", 17)==0);
  /* Bytes past a NUL count; the empty string is a member like any other. */
  CHECK(atSeenAdd(&s, 'r', "a\0b", 3)==1 && atSeenAdd(&s, 'r', "a\0c", 3)==1);
  CHECK(atSeenAdd(&s, 'r', "", 0)==1 && atSeenAdd(&s, 'r', "", 0)==0);
  /* Reset forgets (a big set's memory goes; a small one's is kept). */
  atSeenReset(&s);
  CHECK(s.nUsed==0 && s.aSlot==0);
  CHECK(atSeenAdd(&s, 'r', "rec00000000000000", 17)==1);
  atSeenReset(&s);
  CHECK(s.nUsed==0 && s.aSlot!=0);
  CHECK(atSeenAdd(&s, 'r', "rec00000000000000", 17)==1);
  atSeenClear(&s);
  CHECK(s.aSlot==0 && s.nSlot==0);
  DONE();
}
