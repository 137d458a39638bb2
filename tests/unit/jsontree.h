/*
** jsontree.h: is a tree from json.c the tree cJSON makes of the same text?
** Shared by tests/unit/test_json.c and tests/fuzz/fuzz_json.c. sameTree()
** compares type, key, valuestring, valueint, valuedouble bit for bit and
** the children in order; linksOk() checks the links readers rely on as
** cJSON builds them. The first difference is described in zTreeDiff.
*/
#ifndef JSONTREE_H
#define JSONTREE_H
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>

static char zTreeDiff[600];

static int treeDiffer(const char *zWhat, const cJSON *a, const cJSON *b){
  snprintf(zTreeDiff, sizeof(zTreeDiff), "%s differs: ours type %d key %.40s "
           "str %.40s int %d dbl %.17g; cJSON's type %d key %.40s str %.40s "
           "int %d dbl %.17g", zWhat,
           a->type, a->string ? a->string : "(null)",
           a->valuestring ? a->valuestring : "(null)", a->valueint, a->valuedouble,
           b->type, b->string ? b->string : "(null)",
           b->valuestring ? b->valuestring : "(null)", b->valueint, b->valuedouble);
  return 0;
}

static int sameStr(const char *a, const char *b){
  return (a==0 && b==0) || (a && b && strcmp(a, b)==0);
}

/* True if trees a (json.c's) and b (cJSON's) hold the same values. */
static int sameTree(const cJSON *a, const cJSON *b){
  const cJSON *ca, *cb;
  if( a==0 || b==0 ){
    snprintf(zTreeDiff, sizeof(zTreeDiff), "a tree is missing");
    return a==b;
  }
  if( (a->type & 0xFF)!=(b->type & 0xFF) ) return treeDiffer("type", a, b);
  if( !sameStr(a->string, b->string) ) return treeDiffer("key", a, b);
  if( !sameStr(a->valuestring, b->valuestring) ) return treeDiffer("valuestring", a, b);
  /* A string holding a NUL: cJSON keeps the C string only; ours carries
  ** the whole length (json.h: AT_JSON_STRLEN), which the tests check. */
  if( a->valueint!=b->valueint && !(a->type & AT_JSON_STRLEN) ){
    return treeDiffer("valueint", a, b);
  }
  if( memcmp(&a->valuedouble, &b->valuedouble, sizeof(double))!=0 ){
    return treeDiffer("valuedouble", a, b);
  }
  for(ca=a->child, cb=b->child; ca && cb; ca=ca->next, cb=cb->next){
    if( !sameTree(ca, cb) ) return 0;
  }
  if( ca || cb ) return treeDiffer("number of children", a, b);
  return 1;
}

/* True if, in p and below, every container's first child's prev is its
** last child and each next's prev points back (the last child's next is
** NULL: the loop ends on it). */
static int linksOk(const cJSON *p){
  const cJSON *c, *pLast = 0;
  for(c=p->child; c; c=c->next){
    if( c->next && c->next->prev!=c ){
      snprintf(zTreeDiff, sizeof(zTreeDiff), "a child's next->prev is wrong");
      return 0;
    }
    if( !linksOk(c) ) return 0;
    pLast = c;
  }
  if( p->child && p->child->prev!=pLast ){
    snprintf(zTreeDiff, sizeof(zTreeDiff), "a first child's prev is not the last");
    return 0;
  }
  return 1;
}

#endif
