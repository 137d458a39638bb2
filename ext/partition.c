/*
** partition.c: splitting one table's records into disjoint parts that can be
** listed at once. A table's pages must be fetched one after another (each
** needs the offset the last returned), so one big table is bound by the
** latency of a request; N parts listed by N workers are bound by the rate
** limit instead.
**
** A record goes to a part by the first character after "rec" in its id
** (MID(RECORD_ID(),4,1): ids are "rec" and 14 letters or digits). The 36
** classes 0-9, a-z (a letter and its capital are one class) are cut into N
** contiguous groups of about equal weight (a letter class counts twice: it
** holds two of the 62 characters). Part k < N-1 asks for
**     FIND(MID(RECORD_ID(),4,1),'<group k, both cases>')>0
** and the last part for the complement of all the others,
**     AND(FIND(...,'<group 0>')=0, ..., FIND(...,'<group N-2>')=0).
** Why every record comes exactly once, whatever Airtable's reading:
**  - the groups are disjoint, and closed under case, so they stay disjoint
**    whether FIND compares case-sensitively (documented) or not;
**  - the last part takes every record the others do not, so a record whose
**    character is in no group (were ids ever to hold one) is not lost;
**  - neither RECORD_ID(), MID() nor FIND() on text can error, and an error
**    is the only way a formula drops a record it should keep.
** And because the server's reading could still differ from ours (MID
** counting from 0, say), the export checks every record it receives with
** atPartitionHas(): a record outside its part fails the export rather than
** be written twice.
*/
#include <string.h>
#include "partition.h"

static const char zClasses[] = "0123456789abcdefghijklmnopqrstuvwxyz";
#define N_CLASS 36
#define TOTAL_WEIGHT 62          /* 10 digits + 26 letters in two cases */

/* The group of class j (0..35) when cut into nPart groups. */
static int classGroup(int j, int nPart){
  int w = j<10 ? j : 10 + 2*(j-10);    /* weight of the classes before j */
  int g = (w*nPart)/TOTAL_WEIGHT;
  return g<nPart ? g : nPart-1;
}

/* Append group g's characters, both cases, to pStr. */
static void appendGroup(sqlite3_str *pStr, int g, int nPart){
  int j;
  for(j=0; j<N_CLASS; j++){
    if( classGroup(j, nPart)!=g ) continue;
    sqlite3_str_appendchar(pStr, 1, zClasses[j]);
    if( j>=10 ) sqlite3_str_appendchar(pStr, 1, (char)(zClasses[j] - 'a' + 'A'));
  }
}

char *atPartitionFormula(int iPart, int nPart){
  sqlite3_str *pStr;
  int g;
  if( nPart<=1 ) return 0;
  pStr = sqlite3_str_new(0);
  if( iPart<nPart-1 ){
    sqlite3_str_appendall(pStr, "FIND(MID(RECORD_ID(),4,1),'");
    appendGroup(pStr, iPart, nPart);
    sqlite3_str_appendall(pStr, "')>0");
  }else{
    if( nPart>2 ) sqlite3_str_appendall(pStr, "AND(");
    for(g=0; g<nPart-1; g++){
      if( g ) sqlite3_str_appendchar(pStr, 1, ',');
      sqlite3_str_appendall(pStr, "FIND(MID(RECORD_ID(),4,1),'");
      appendGroup(pStr, g, nPart);
      sqlite3_str_appendall(pStr, "')=0");
    }
    if( nPart>2 ) sqlite3_str_appendchar(pStr, 1, ')');
  }
  return sqlite3_str_finish(pStr);
}

int atPartitionOf(const char *zId, int nPart){
  char c;
  const char *z;
  if( nPart<=1 || zId==0 || strlen(zId)<4 ) return nPart-1;
  c = zId[3];
  if( c>='A' && c<='Z' ) c = (char)(c - 'A' + 'a');
  z = c ? strchr(zClasses, c) : 0;
  if( z==0 ) return nPart-1;          /* in no group: the complement's */
  return classGroup((int)(z - zClasses), nPart);
}
