/*
** listing.c: one table's records, page by page. A listing asks for the first
** page, and for the next only when the current one is used up, so memory
** holds one page (at most 100 records) and a reader that stops early costs
** no more requests. It restarts from the first page when Airtable expires
** the offset before any row was returned, fails when rows were returned
** already, and gives up on a server that keeps sending empty pages. The
** airtable table's cursor and the export's workers both read through it.
*/
#include <string.h>
#include <cjson/cJSON.h>
#include "listing.h"
#include "http.h"
#include "json.h"
#include "page.h"
#include "request.h"
#include "schema.h"

/* Times a listing may start over after Airtable expires its offset before
** any row has been returned (Airtable docs: restart from the first page). */
#define AT_MAX_RESTARTS 3

int atListingInit(AtListing *p, AtHttp *pHttp, const char *zApiUrl,
                  const char *zBase, const AtSchema *pSchema){
  memset(p, 0, sizeof(*p));
  p->pHttp = pHttp;
  p->zApiUrl = zApiUrl;
  p->zBase = zBase;
  p->pSchema = pSchema;
  p->apCell = sqlite3_malloc64(sizeof(cJSON*)*(pSchema->nField+1));
  p->bEof = 1;
  return p->apCell ? SQLITE_OK : SQLITE_NOMEM;
}

void atListingReset(AtListing *p){
  atPageClear(&p->page);
  atSeenReset(&p->seen);
  p->nRow = 0;
  p->nRestart = 0;
  p->bEof = 1;
}

void atListingClear(AtListing *p){
  atListingReset(p);
  atSeenClear(&p->seen);
  sqlite3_free(p->apCell);
  p->apCell = 0;
}

/* True if the last request failed because Airtable expired the offset
** (Airtable docs: 422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE). */
static int offsetExpired(AtListing *p){
  return atHttpLastStatus(p->pHttp)==422
      && strcmp(atHttpLastErrorType(p->pHttp),
                "LIST_RECORDS_ITERATOR_NOT_AVAILABLE")==0;
}

/* Say which table and request a malformed response came from. */
static void malformedResponse(AtListing *p, const AtRequest *pReq,
                              char **pzErr){
  char *zMsg;
  atPrefixError(pzErr, "table '%s'", p->pSchema->zTableName);
  zMsg = sqlite3_mprintf("%s (%s %s)", *pzErr, pReq->zMethod, pReq->zUrl);
  if( zMsg ){
    sqlite3_free(*pzErr);
    *pzErr = zMsg;
  }
}

/* Replace the page with the page at zOffset (NULL: the first). The old page
** is freed before the new one is parsed, so one page is held. */
static int fetchPage(AtListing *p, const char *zOffset, char **pzErr){
  AtListQuery q;
  AtRequest req;
  const char *zBody;
  size_t nBody;
  int rc;

  memset(&q, 0, sizeof(q));
  q.zView = p->pSchema->zViewId;
  q.zFormula = p->zFormula;
  q.bFieldsById = 1;
  q.nField = p->nOnly;
  q.azField = p->azOnly;
  q.aSort = p->aSort;
  q.nSort = p->nSort;
  q.nPageSize = p->nPageSize;
  q.zOffset = zOffset;
  rc = atListRequest(p->zApiUrl, p->zBase, p->pSchema->zTableId, &q,
                     AT_MAX_URL, &req);
  atPageClear(&p->page);     /* zOffset may point into it: used above */
  if( rc!=SQLITE_OK ) return rc;
  rc = atHttpDo(p->pHttp, &req, &zBody, &nBody, pzErr);
  if( rc==SQLITE_OK ){
    rc = atPageParse(zBody, nBody, "records", &p->page, pzErr);
    if( rc==SQLITE_OK ) atHttpNoteRecords(p->pHttp, p->page.nRecord);
    if( rc==SQLITE_ERROR ) malformedResponse(p, &req, pzErr);
  }
  atRequestClear(&req);
  return rc;
}

/* Point at a row: move past used-up pages, fetching the next while Airtable
** gives an offset; then index the record's fields. */
static int settle(AtListing *p, char **pzErr){
  const cJSON *pFields, *pVal;
  int rc, nEmpty = 0;
  while( p->page.pRecord==0 ){
    if( p->page.zOffset==0 ){
      p->bEof = 1;
      return SQLITE_OK;
    }
    if( p->page.nRecord==0 && ++nEmpty>AT_MAX_EMPTY_PAGES ){
      atSetError(pzErr, "table '%s': the server sent %d empty pages "
                 "in a row, each with an offset to another; giving up",
                 p->pSchema->zTableName, AT_MAX_EMPTY_PAGES);
      return SQLITE_ERROR;
    }
    /* An offset given twice would page the same pages forever (issue 20:
    ** 7.2 GB of one export's duplicate rows in 10 minutes). */
    rc = atSeenAdd(&p->seen, 'o', p->page.zOffset, strlen(p->page.zOffset));
    if( rc<0 ) return SQLITE_NOMEM;
    if( rc==0 ){
      atSetError(pzErr, "table '%s': the server gave the offset '%.40s%s' a "
                 "second time in one listing, which would never end; the "
                 "statement fails after %lld row%s", p->pSchema->zTableName,
                 p->page.zOffset, strlen(p->page.zOffset)>40 ? "..." : "",
                 p->nRow, p->nRow==1 ? "" : "s");
      return SQLITE_ERROR;
    }
    rc = fetchPage(p, p->page.zOffset, pzErr);
    if( rc==SQLITE_ERROR && offsetExpired(p) ){
      if( p->nRow==0 && p->nRestart<AT_MAX_RESTARTS ){
        /* Nothing returned yet: start over, as Airtable advises. */
        p->nRestart++;
        sqlite3_free(*pzErr);
        *pzErr = 0;
        atSeenReset(&p->seen);
        rc = fetchPage(p, 0, pzErr);
      }else if( p->nRow>0 ){
        atSetError(pzErr, "table '%s': Airtable expired the "
            "listing's offset after %lld rows had been returned (HTTP 422 "
            "LIST_RECORDS_ITERATOR_NOT_AVAILABLE); starting over would repeat "
            "or miss rows, so the statement fails: run it again",
            p->pSchema->zTableName, p->nRow);
      }
    }
    if( rc!=SQLITE_OK ) return rc;
  }
  {
    /* A record twice in one listing: a duplicate row for SQL (DISTINCT
    ** saw two), and a server that may be repeating itself forever. */
    const char *zId = cJSON_GetObjectItemCaseSensitive(p->page.pRecord, "id")->valuestring;
    rc = atSeenAdd(&p->seen, 'r', zId, strlen(zId));
    if( rc<0 ) return SQLITE_NOMEM;
    if( rc==0 ){
      atSetError(pzErr, "table '%s': the server sent record %s twice in one "
                 "listing (a listing gives each record once); the statement "
                 "fails after %lld row%s", p->pSchema->zTableName, zId, p->nRow,
                 p->nRow==1 ? "" : "s");
      return SQLITE_ERROR;
    }
  }
  p->bEof = 0;
  p->nRow++;
  memset(p->apCell, 0, sizeof(cJSON*)*p->pSchema->nField);
  pFields = cJSON_GetObjectItemCaseSensitive(p->page.pRecord, "fields");
  {
    /* Fields are keyed by id (returnFieldsByFieldId). A field added since
    ** the schema was read has no column: reconnect to see it. Records list
    ** their fields in the table's order, so the field after the last one
    ** found is tried before the binary search (3% of a scan's instructions,
    ** by callgrind, went to the search). */
    const AtSchema *s = p->pSchema;
    int iNext = 0;
    cJSON_ArrayForEach(pVal, pFields){
      int iField;
      if( iNext<s->nField && pVal->string
       && strcmp(pVal->string, s->aField[iNext].zId)==0 ){
        iField = iNext;
      }else{
        iField = atSchemaFieldById(s, pVal->string);
      }
      if( iField>=0 ){
        p->apCell[iField] = pVal;
        iNext = iField+1;
      }
    }
  }
  return SQLITE_OK;
}

int atListingFirst(AtListing *p, char **pzErr){
  int rc;
  atListingReset(p);
  rc = fetchPage(p, 0, pzErr);
  if( rc!=SQLITE_OK ) return rc;
  return settle(p, pzErr);
}

int atListingNext(AtListing *p, char **pzErr){
  p->page.pRecord = p->page.pRecord->next;
  return settle(p, pzErr);
}

int atListingGet(AtListing *p, const char *zId, char **pzErr){
  const char *azSeg[3];
  AtRequest req;
  const char *zBody;
  size_t nBody;
  char *zPath;
  int rc;

  atListingReset(p);
  azSeg[0] = p->zBase;
  azSeg[1] = p->pSchema->zTableId;
  azSeg[2] = zId;
  zPath = atUrlPath(p->zApiUrl, 3, azSeg);
  if( zPath==0 ) return SQLITE_NOMEM;
  memset(&req, 0, sizeof(req));
  req.zMethod = "GET";
  req.zUrl = sqlite3_mprintf("%s?returnFieldsByFieldId=true", zPath);
  sqlite3_free(zPath);
  if( req.zUrl==0 ) return SQLITE_NOMEM;
  rc = atHttpDo(p->pHttp, &req, &zBody, &nBody, pzErr);
  if( rc==SQLITE_ERROR && atHttpLastStatus(p->pHttp)==404 ){
    /* Airtable docs, Get record: an unknown record id is 404 NOT_FOUND. */
    sqlite3_free(*pzErr);
    *pzErr = 0;
    atRequestClear(&req);
    return SQLITE_OK;
  }
  if( rc==SQLITE_OK ){
    AtJson *pJson = &p->page.json;
    rc = atJsonParse(zBody, nBody, pJson);
    if( rc==SQLITE_ERROR ){
      atSetError(pzErr, "the response is not valid JSON (error at byte %lld "
                 "of %lld)", (long long)pJson->iErr, (long long)nBody);
    }else if( rc==SQLITE_OK && !cJSON_IsObject(pJson->pRoot) ){
      atSetError(pzErr, "the response is not a JSON object");
      rc = SQLITE_ERROR;
    }else if( rc==SQLITE_OK ){
      rc = atPageCheckRecord(pJson->pRoot, pzErr);
    }
    if( rc!=SQLITE_OK ){
      atJsonFree(pJson);
      if( rc==SQLITE_ERROR ) malformedResponse(p, &req, pzErr);
    }else{
      /* A page of one record: the record is the whole response. */
      p->page.pRoot = pJson->pRoot;
      p->page.pRecord = pJson->pRoot;
      p->page.nRecord = 1;
      atHttpNoteRecords(p->pHttp, 1);
    }
  }
  atRequestClear(&req);
  if( rc!=SQLITE_OK ) return rc;
  return settle(p, pzErr);
}
