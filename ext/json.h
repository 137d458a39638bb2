/*
** json.h: JSON for the read path: a strict parser that builds cJSON trees
** in one arena per page, and the compact printer of cell values.
*/
#ifndef AT_JSON_H
#define AT_JSON_H

#include <stddef.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "buf.h"

/* A strict JSON parser (RFC 8259) for the read path's pages. It builds the
** same cJSON tree cJSON_Parse would (same types, valuestring, valueint,
** valuedouble, object keys in ->string, ->prev of a first child pointing at
** the last, duplicate keys kept in order), so every reader of records stays
** a cJSON reader; but the nodes and the strings live in one arena, with the
** text copied once and strings decoded in place: parsing makes a few large
** allocations, and freeing is freeing the arena. cJSON allocates and frees
** every node and string (46% of a scan's instructions, issue 11).
**
** Such a tree is read-only: never cJSON_Delete it, nor detach, replace or
** add items (cJSON would free or keep arena memory). cJSON_Print and the
** other readers work on it. Stricter than cJSON: no trailing text after the
** value, no leading zeros, no lone "-" or "1.", no raw control characters
** in strings; nesting deeper than CJSON_NESTING_LIMIT (1000) is an error.
** Numbers convert exactly as strtod() does. A string holding a \u0000
** escape keeps every byte: its C string ends at the NUL, and the node
** carries AT_JSON_STRLEN with the decoded length in valueint; read a
** string's length with atJsonStrLen(). */
typedef struct AtJsonChunk AtJsonChunk;
typedef struct AtJson AtJson;
struct AtJson {
  cJSON *pRoot;          /* the value; valid until atJsonFree() */
  AtJsonChunk *pChunk;   /* the arena's blocks, newest first */
  size_t iErr;           /* after SQLITE_ERROR: byte offset of the error */
};

/* A type bit no cJSON type uses (cJSON compares types by their low byte). */
#define AT_JSON_STRLEN 0x800
/* The length in bytes of string node p's value, NULs inside included. */
static inline size_t atJsonStrLen(const cJSON *p){
  return (p->type & AT_JSON_STRLEN) ? (size_t)p->valueint : strlen(p->valuestring);
}

/* Parse z[0..n-1] into *p. SQLITE_OK; SQLITE_ERROR with p->iErr set (the
** text is not valid JSON); or SQLITE_NOMEM. *p needs no atJsonFree() after
** an error, but atJsonFree() is harmless then. */
int atJsonParse(const char *z, size_t n, AtJson *p);
void atJsonFree(AtJson *p);

/* Compact JSON text of v, byte for byte what cJSON_PrintUnformatted()
** gives, appended to p: SQLITE_OK, SQLITE_NOMEM, or SQLITE_ERROR for a
** node of no JSON type. atJsonPrintCsv writes the same text with every '"'
** doubled, for JSON text inside an RFC 4180 quoted field. atJsonText gives
** it as a sqlite3_malloc'd string with its length in *pn (pn may be NULL;
** NULL on error or OOM). */
int atJsonPrint(AtBuf *p, const cJSON *v);
int atJsonPrintCsv(AtBuf *p, const cJSON *v);
char *atJsonText(const cJSON *v, int *pn);

/* A copy of the tree at p that outlives the arena (cJSON_Duplicate; free
** with cJSON_Delete). A string holding a NUL is copied up to it, and its
** copy no longer claims the longer length. NULL on OOM. */
cJSON *atJsonDuplicate(const cJSON *p);

/* The JSON string literal of z[0..n-1] (quotes and escapes), appended to p. */
void atJsonPrintString(AtBuf *p, const char *z, size_t n);

#endif /* AT_JSON_H */
