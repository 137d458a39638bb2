/*
** formula.h: the filterByFormula text of one constraint: literals no value
** can break out of, and whether the term is exact.
*/
#ifndef AT_FORMULA_H
#define AT_FORMULA_H

#include "airtable_int.h"
#include "plan.h"
#include "schema.h"

/* How a column's constraints can be written as a formula (atPushKind). */
#define AT_PUSH_NONE      0   /* not pushed (computed, JSON, rich text) */
#define AT_PUSH_TEXT      1   /* text typed by a person */
#define AT_PUSH_SELECT    2   /* single select (compared as text) */
#define AT_PUSH_NUMBER    3   /* number-like, never an error value */
#define AT_PUSH_CHECKBOX  4   /* checkbox: 0 or 1 */
#define AT_PUSH_DATE      5   /* date, dateTime, created/last-modified time */
#define AT_PUSH_ID        6   /* the id column: RECORD_ID() */
#define AT_PUSH_CREATED   7   /* the created_time column: CREATED_TIME() */

/* The pushdown kind of field f: AT_PUSH_NONE..AT_PUSH_DATE. */
int atPushKind(const AtField *f);

/* A column as the formula writer sees it. */
typedef struct AtPushCol AtPushCol;
struct AtPushCol {
  int ePush;                /* AT_PUSH_* */
  const char *zFieldId;     /* fld id (fields only; not owned) */
  int bSortExact;           /* Airtable sorts it exactly as SQLite would */
};

/* A value from SQL. z is not necessarily NUL-terminated; n is its bytes. */
typedef struct AtSqlValue AtSqlValue;
struct AtSqlValue {
  int eType;                /* SQLITE_INTEGER, _FLOAT, _TEXT, _BLOB, _NULL */
  sqlite3_int64 i;
  double r;
  const char *z;
  int n;
};

/* What atFormulaTerm wrote. */
#define AT_TERM_SKIP      0   /* nothing usable: leave it to SQLite (p may
                              ** hold a partial text: write into a scratch
                              ** string and append only what succeeded) */
#define AT_TERM_SUPERSET  1   /* keeps every record the constraint keeps */
#define AT_TERM_EXACT     2   /* keeps exactly those (may write nothing:
                              ** then every record passes) */
#define AT_TERM_CLOSE     3   /* a superset that can differ only by what a
                              ** looser reading of text equality adds (case,
                              ** spaces): SQLite checks it again, but a LIMIT
                              ** may size the first page by it */

/* Append the formula for "column OP value" to p: eOp is an
** SQLITE_INDEX_CONSTRAINT_* (EQ with nVal>1 is an IN list; ISNULL and
** ISNOTNULL take no value). Returns AT_TERM_*. */
int atFormulaTerm(sqlite3_str *p, const AtPushCol *c, int eOp, int eColl,
                  const AtSqlValue *aVal, int nVal);

/* The pieces: a string literal (0, nothing written, if the text holds a
** control character, a line/paragraph separator or invalid UTF-8), a
** number in plain decimals (0 if JavaScript would not read it back exactly
** or it needs exponent notation), a field
** reference (0 if zFieldId is not a fld id). 1 when written. */
int atFormulaString(sqlite3_str *p, const char *z, int n);
int atFormulaNumber(sqlite3_str *p, const AtSqlValue *v);
int atFormulaField(sqlite3_str *p, const char *zFieldId);

#endif /* AT_FORMULA_H */
