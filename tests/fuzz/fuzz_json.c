/* fuzz_json.c: the strict JSON parser (json.c) against cJSON, both ways.
** (a) Whatever json.c accepts, cJSON_ParseWithLength accepts too, with the
** same tree (types, keys, valuestring, valueint, valuedouble bit for bit,
** children in order, prev/next links) and the same printed text. (b) Only
** one way, as cJSON also takes trailing text, whitespace below 0x20 and
** loose numbers: whatever cJSON accepts, printed back by cJSON (strict
** JSON), json.c accepts with the tree cJSON makes of that print. A
** mismatch prints what differed and aborts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "json.h"
#include "../unit/jsontree.h"

static void dump(const char *zLabel, const char *z, size_t n){
  size_t i;
  fprintf(stderr, "%s (%zu bytes): ", zLabel, n);
  for(i=0; i<n && i<200; i++){
    unsigned char c = (unsigned char)z[i];
    if( c>=0x20 && c<0x7f ) fputc(c, stderr); else fprintf(stderr, "\\x%02x", c);
  }
  fprintf(stderr, "%s\n", n>200 ? "..." : "");
}

static void fail(const char *zWhat, const char *z, size_t n){
  fprintf(stderr, "fuzz_json: %s\n", zWhat);
  dump("input", z, n);
  abort();
}

/* Parse z[0..n-1] with json.c, which must succeed, and compare with
** pTheirs, cJSON's tree of the same text. */
static void compare(const char *zWhen, const char *z, size_t n, const cJSON *pTheirs){
  AtJson j;
  char *zA, *zB;
  int rc = atJsonParse(z, n, &j);
  if( rc==SQLITE_NOMEM ) return;
  if( rc!=SQLITE_OK ){
    fprintf(stderr, "fuzz_json: %s: json.c refuses at offset %zu\n", zWhen, j.iErr);
    fail("json.c refuses what it should accept", z, n);
  }
  if( j.pRoot==0 || j.pRoot->next || j.pRoot->prev ){
    fail("json.c's root is missing or has siblings", z, n);
  }
  if( !sameTree(j.pRoot, pTheirs) || !linksOk(j.pRoot) ){
    fprintf(stderr, "fuzz_json: %s: %s\n", zWhen, zTreeDiff);
    fail("json.c's tree differs from cJSON's", z, n);
  }
  zA = cJSON_PrintUnformatted(j.pRoot);
  zB = cJSON_PrintUnformatted(pTheirs);
  if( zA && zB && strcmp(zA, zB)!=0 ){
    fprintf(stderr, "fuzz_json: %s\n", zWhen);
    dump("json.c's tree printed", zA, strlen(zA));
    dump("cJSON's tree printed", zB, strlen(zB));
    fail("the printed trees differ", z, n);
  }
  cJSON_free(zA);
  cJSON_free(zB);
  atJsonFree(&j);
}

int LLVMFuzzerTestOneInput(const unsigned char *aData, size_t nData){
  const char *z = (const char*)aData;
  cJSON *pTheirs = cJSON_ParseWithLength(z, nData);
  AtJson j;
  int rc = atJsonParse(z, nData, &j);

  /* (a) json.c accepts: cJSON accepts, with the same tree. */
  if( rc==SQLITE_OK ){
    atJsonFree(&j);
    if( pTheirs==0 ) fail("json.c accepts what cJSON refuses", z, nData);
    compare("the input", z, nData, pTheirs);
  }else if( rc==SQLITE_ERROR ){
    if( j.iErr>nData ){
      fprintf(stderr, "fuzz_json: error offset %zu\n", j.iErr);
      fail("the error offset is past the end", z, nData);
    }
    atJsonFree(&j);     /* harmless after an error */
  }else if( rc!=SQLITE_NOMEM ){
    fprintf(stderr, "fuzz_json: rc %d\n", rc);
    fail("atJsonParse returned neither OK, ERROR nor NOMEM", z, nData);
  }

  /* (b) cJSON accepts: its print is strict JSON, which json.c accepts with
  ** the tree cJSON makes of the print (unless cJSON itself refuses it). */
  if( pTheirs ){
    char *zText = cJSON_PrintUnformatted(pTheirs);
    if( zText ){
      size_t nText = strlen(zText);
      cJSON *pAgain = cJSON_ParseWithLength(zText, nText);
      if( pAgain ){
        compare("cJSON's print of the input", zText, nText, pAgain);
        cJSON_Delete(pAgain);
      }
      cJSON_free(zText);
    }
    cJSON_Delete(pTheirs);
  }
  return 0;
}
