/* test_formula.c: the formula writer (formula.c), exactly: each escaping
** case of a string literal, numbers, field references, and the formula and
** class (skip, superset, exact) of each kind of column and operator. */
#include <math.h>
#include "airtable_int.h"
#include "formula.h"
#include "plan.h"
#include "testhelp.h"

#define EQ  SQLITE_INDEX_CONSTRAINT_EQ
#define NE  SQLITE_INDEX_CONSTRAINT_NE
#define LT  SQLITE_INDEX_CONSTRAINT_LT
#define LE  SQLITE_INDEX_CONSTRAINT_LE
#define GT  SQLITE_INDEX_CONSTRAINT_GT
#define GE  SQLITE_INDEX_CONSTRAINT_GE
#define ISNULL SQLITE_INDEX_CONSTRAINT_ISNULL
#define NOTNULL SQLITE_INDEX_CONSTRAINT_ISNOTNULL
#define LIKE SQLITE_INDEX_CONSTRAINT_LIKE
#define GLOB SQLITE_INDEX_CONSTRAINT_GLOB

static char zOut[4096];
static int eLast;

static AtSqlValue txt(const char *z){
  AtSqlValue v;
  memset(&v, 0, sizeof(v));
  v.eType = SQLITE_TEXT;
  v.z = z;
  v.n = (int)strlen(z);
  return v;
}
static AtSqlValue txtn(const char *z, int n){
  AtSqlValue v = txt(z);
  v.n = n;
  return v;
}
static AtSqlValue num(sqlite3_int64 i){
  AtSqlValue v;
  memset(&v, 0, sizeof(v));
  v.eType = SQLITE_INTEGER;
  v.i = i;
  return v;
}
static AtSqlValue real(double r){
  AtSqlValue v;
  memset(&v, 0, sizeof(v));
  v.eType = SQLITE_FLOAT;
  v.r = r;
  return v;
}
static AtSqlValue null(void){
  AtSqlValue v;
  memset(&v, 0, sizeof(v));
  v.eType = SQLITE_NULL;
  return v;
}

/* The formula of one term ("" if none) and its class in eLast. */
static const char *term(const AtPushCol *c, int eOp, int eColl, const AtSqlValue *a, int n){
  sqlite3_str *p = sqlite3_str_new(0);
  char *z;
  eLast = atFormulaTerm(p, c, eOp, eColl, a, n);
  z = sqlite3_str_finish(p);
  snprintf(zOut, sizeof(zOut), "%s", eLast==AT_TERM_SKIP ? "(skip)" : (z ? z : ""));
  sqlite3_free(z);
  return zOut;
}
static const char *term1(const AtPushCol *c, int eOp, AtSqlValue v){
  return term(c, eOp, AT_COLL_BINARY, &v, 1);
}

static const char *literal(const char *z, int n){
  sqlite3_str *p = sqlite3_str_new(0);
  char *zRes;
  int ok = atFormulaString(p, z, n);
  zRes = sqlite3_str_finish(p);
  snprintf(zOut, sizeof(zOut), "%s", ok ? (zRes ? zRes : "") : "(refused)");
  sqlite3_free(zRes);
  return zOut;
}
static const char *number(AtSqlValue v){
  sqlite3_str *p = sqlite3_str_new(0);
  char *zRes;
  int ok = atFormulaNumber(p, &v);
  zRes = sqlite3_str_finish(p);
  snprintf(zOut, sizeof(zOut), "%s", ok ? (zRes ? zRes : "") : "(refused)");
  sqlite3_free(zRes);
  return zOut;
}

int main(void){
  AtPushCol text = { AT_PUSH_TEXT, "fldAAAAAAAAAAAAAA", 0 };
  AtPushCol sel = { AT_PUSH_SELECT, "fldSSSSSSSSSSSSSS", 0 };
  AtPushCol numb = { AT_PUSH_NUMBER, "fldNNNNNNNNNNNNNN", 0 };
  AtPushCol box = { AT_PUSH_CHECKBOX, "fldCCCCCCCCCCCCCC", 0 };
  AtPushCol date = { AT_PUSH_DATE, "fldDDDDDDDDDDDDDD", 0 };
  AtPushCol id = { AT_PUSH_ID, 0, 0 };
  AtPushCol created = { AT_PUSH_CREATED, 0, 0 };
  AtPushCol badId = { AT_PUSH_TEXT, "fld}OR(1)+{xxxxx", 0 };
  AtSqlValue a[4];

  /* String literals: only \ and ' are escaped; braces, double quotes and
  ** Unicode stand for themselves; anything undocumented is refused. */
  CHECK_STR(literal("plain", 5), "'plain'");
  CHECK_STR(literal("it's", 4), "'it\\'s'");
  CHECK_STR(literal("a\\b", 3), "'a\\\\b'");
  CHECK_STR(literal("\\'", 2), "'\\\\\\''");          /* \' -> \\\' */
  CHECK_STR(literal("end\\", 4), "'end\\\\'");         /* a trailing backslash */
  CHECK_STR(literal("{fldX} & }{", 11), "'{fldX} & }{'");
  CHECK_STR(literal("say \"hi\"", 8), "'say \"hi\"'");
  CHECK_STR(literal("') & OR(1=1", 11), "'\\') & OR(1=1'");
  CHECK_STR(literal("", 0), "''");
  CHECK_STR(literal("caf\xc3\xa9 \xf0\x9f\x9a\x9a \xe5\x8c\x85", 14), "'caf\xc3\xa9 \xf0\x9f\x9a\x9a \xe5\x8c\x85'");
  CHECK_STR(literal("line\nbreak", 10), "(refused)");
  CHECK_STR(literal("cr\r", 3), "(refused)");
  CHECK_STR(literal("tab\there", 8), "(refused)");
  CHECK_STR(literal("nul\0x", 5), "(refused)");          /* an embedded NUL */
  CHECK_STR(literal("del\x7f", 4), "(refused)");
  CHECK_STR(literal("c1\xc2\x85", 4), "(refused)");       /* U+0085 NEL */
  CHECK_STR(literal("ls\xe2\x80\xa8", 5), "(refused)");   /* U+2028 */
  CHECK_STR(literal("ps\xe2\x80\xa9", 5), "(refused)");   /* U+2029 */
  CHECK_STR(literal("bad\xff", 4), "(refused)");          /* not UTF-8 */
  CHECK_STR(literal("over\xc0\xaf", 6), "(refused)");     /* overlong '/' */
  CHECK_STR(literal("sur\xed\xa0\x80", 6), "(refused)");  /* a surrogate */
  CHECK_STR(literal("cut\xe2\x82", 5), "(refused)");      /* truncated */

  /* Numbers: as JavaScript reads them back; negatives in parentheses. */
  CHECK_STR(number(num(5)), "5");
  CHECK_STR(number(num(-5)), "(-5)");
  CHECK_STR(number(num(9007199254740992LL)), "9007199254740992");
  CHECK_STR(number(num(9007199254740993LL)), "(refused)");
  CHECK_STR(number(num(-9007199254740993LL)), "(refused)");
  CHECK_STR(number(real(1.5)), "1.5");
  CHECK_STR(number(real(-2.5e20)), "(-250000000000000000000)");
  CHECK_STR(number(real(0.1)), "0.10000000000000001");
  CHECK_STR(number(real(0.5)), "0.5");
  CHECK_STR(number(real(1e-5)), "0.000010000000000000000818");  /* reads back as 1e-5 */
  CHECK_STR(number(real(1.5e-6)), "0.000001500000000000000038");
  CHECK_STR(number(real(1e-7)), "(refused)");      /* would need 1e-7 */
  CHECK_STR(number(real(1e21)), "(refused)");
  CHECK_STR(number(real(123456789012345678.0)), "123456789012345680");
  CHECK_STR(number(real(-0.0)), "0");
  CHECK_STR(number(real(INFINITY)), "(refused)");
  CHECK_STR(number(txt("5")), "(refused)");

  /* Field references: by id only. */
  CHECK_STR(term1(&badId, EQ, txt("x")), "(skip)");
  CHECK_STR(term(&badId, NOTNULL, 0, 0, 0), "(skip)");

  /* Text. */
  CHECK_STR(term1(&text, EQ, txt("a'b")), "{fldAAAAAAAAAAAAAA}='a\\'b'");
  CHECK(eLast==AT_TERM_CLOSE);
  CHECK_STR(term1(&text, EQ, txt("two\nlines")), "(skip)");
  CHECK_STR(term1(&text, EQ, num(5)), "(skip)");       /* SQLite compares as text */
  CHECK_STR(term(&text, EQ, AT_COLL_NOCASE, (a[0]=txt("AbC"), a), 1),
            "LOWER({fldAAAAAAAAAAAAAA})=LOWER('AbC')");
  CHECK(eLast==AT_TERM_CLOSE);
  CHECK_STR(term(&text, EQ, AT_COLL_OTHER, (a[0]=txt("x"), a), 1), "(skip)");
  a[0] = txt("x"); a[1] = null(); a[2] = txt("y");
  CHECK_STR(term(&text, EQ, AT_COLL_BINARY, a, 3),
            "OR({fldAAAAAAAAAAAAAA}='x',{fldAAAAAAAAAAAAAA}='y')");
  a[1] = txt("bad\n");
  CHECK_STR(term(&text, EQ, AT_COLL_BINARY, a, 3), "(skip)");  /* never a partial OR */
  a[0] = null();
  CHECK_STR(term(&text, EQ, AT_COLL_BINARY, a, 1), "(skip)");
  CHECK_STR(term(&text, ISNULL, 0, 0, 0), "LEN({fldAAAAAAAAAAAAAA}&'')=0");
  CHECK(eLast==AT_TERM_EXACT);
  CHECK_STR(term(&text, NOTNULL, 0, 0, 0), "LEN({fldAAAAAAAAAAAAAA}&'')>0");
  CHECK(eLast==AT_TERM_EXACT);
  CHECK_STR(term1(&text, NE, txt("x")), "LEN({fldAAAAAAAAAAAAAA}&'')>0");
  CHECK(eLast==AT_TERM_SUPERSET);
  CHECK_STR(term1(&text, LT, txt("m")), "LEN({fldAAAAAAAAAAAAAA}&'')>0");
  CHECK_STR(term1(&text, GE, null()), "(skip)");

  /* LIKE: ASCII runs lowered, the first anchored; GLOB: runs as they are. */
  CHECK_STR(term1(&text, LIKE, txt("Abc%")), "FIND('abc',LOWER({fldAAAAAAAAAAAAAA}))=1");
  CHECK(eLast==AT_TERM_SUPERSET);
  CHECK_STR(term1(&text, LIKE, txt("%B'c%")), "FIND('b\\'c',LOWER({fldAAAAAAAAAAAAAA}))>0");
  CHECK_STR(term1(&text, LIKE, txt("a_c%d")),
            "AND(FIND('a',LOWER({fldAAAAAAAAAAAAAA}))=1,FIND('c',LOWER({fldAAAAAAAAAAAAAA}))>0,"
            "FIND('d',LOWER({fldAAAAAAAAAAAAAA}))>0)");
  CHECK_STR(term1(&text, LIKE, txt("caf\xc3\xa9%x")), "FIND('x',LOWER({fldAAAAAAAAAAAAAA}))>0");
  CHECK_STR(term1(&text, LIKE, txt("%%")), "LEN({fldAAAAAAAAAAAAAA}&'')>0");
  CHECK_STR(term1(&text, LIKE, txt("%\xc3\xa9%")), "LEN({fldAAAAAAAAAAAAAA}&'')>0");
  CHECK_STR(term1(&text, LIKE, txt("a\nb%")), "(skip)");
  CHECK_STR(term1(&text, GLOB, txt("Ab*c?d")),
            "AND(FIND('Ab',{fldAAAAAAAAAAAAAA})=1,FIND('c',{fldAAAAAAAAAAAAAA})>0,"
            "FIND('d',{fldAAAAAAAAAAAAAA})>0)");
  CHECK_STR(term1(&text, GLOB, txt("*[*]x[^]a]y")),
            "AND(FIND('x',{fldAAAAAAAAAAAAAA})>0,FIND('y',{fldAAAAAAAAAAAAAA})>0)");
  CHECK_STR(term1(&text, GLOB, txt("caf\xc3\xa9*")), "FIND('caf\xc3\xa9',{fldAAAAAAAAAAAAAA})=1");
  CHECK_STR(term1(&text, GLOB, txt("ab[c")), "FIND('ab',{fldAAAAAAAAAAAAAA})=1");
  CHECK_STR(term1(&text, LIKE, num(5)), "(skip)");

  /* Single select: compared as text. Never exact (a choice added since
  ** the table connected may differ only in case), but close. */
  CHECK_STR(term1(&sel, EQ, txt("Done")), "{fldSSSSSSSSSSSSSS}='Done'");
  CHECK(eLast==AT_TERM_CLOSE);
  a[0] = txt("Done"); a[1] = txt("Blocked");
  CHECK_STR(term(&sel, EQ, AT_COLL_BINARY, a, 2),
            "OR({fldSSSSSSSSSSSSSS}='Done',{fldSSSSSSSSSSSSSS}='Blocked')");
  CHECK(eLast==AT_TERM_CLOSE);

  /* Numbers. */
  CHECK_STR(term1(&numb, EQ, num(5)), "{fldNNNNNNNNNNNNNN}=5");
  CHECK(eLast==AT_TERM_EXACT);
  CHECK_STR(term1(&numb, EQ, num(0)), "{fldNNNNNNNNNNNNNN}=0");
  CHECK(eLast==AT_TERM_SUPERSET);
  CHECK_STR(term1(&numb, EQ, real(-1.25)), "{fldNNNNNNNNNNNNNN}=(-1.25)");
  CHECK(eLast==AT_TERM_EXACT);
  CHECK_STR(term1(&numb, EQ, txt("5")), "(skip)");
  CHECK_STR(term1(&numb, EQ, num(9007199254740993LL)), "(skip)");
  CHECK_STR(term1(&numb, GT, num(0)), "{fldNNNNNNNNNNNNNN}>0");
  CHECK(eLast==AT_TERM_EXACT);
  CHECK_STR(term1(&numb, GT, num(-1)), "{fldNNNNNNNNNNNNNN}>(-1)");
  CHECK(eLast==AT_TERM_SUPERSET);
  CHECK_STR(term1(&numb, GE, real(0.5)), "{fldNNNNNNNNNNNNNN}>=0.5");
  CHECK(eLast==AT_TERM_EXACT);
  CHECK_STR(term1(&numb, GE, num(0)), "{fldNNNNNNNNNNNNNN}>=0");
  CHECK(eLast==AT_TERM_SUPERSET);
  CHECK_STR(term1(&numb, LT, num(10)), "{fldNNNNNNNNNNNNNN}<10");
  CHECK(eLast==AT_TERM_SUPERSET);
  CHECK_STR(term1(&numb, LE, num(-3)), "{fldNNNNNNNNNNNNNN}<=(-3)");
  CHECK(eLast==AT_TERM_SUPERSET);
  CHECK_STR(term1(&numb, NE, num(1)), "{fldNNNNNNNNNNNNNN}!=1");
  CHECK(eLast==AT_TERM_SUPERSET);
  CHECK_STR(term(&numb, ISNULL, 0, 0, 0), "NOT({fldNNNNNNNNNNNNNN})");
  CHECK(eLast==AT_TERM_SUPERSET);
  CHECK_STR(term(&numb, NOTNULL, 0, 0, 0), "LEN({fldNNNNNNNNNNNNNN}&'')>0");
  CHECK(eLast==AT_TERM_SUPERSET);
  CHECK_STR(term1(&numb, LIKE, txt("1%")), "(skip)");
  a[0] = num(1); a[1] = real(2.5);
  CHECK_STR(term(&numb, EQ, AT_COLL_BINARY, a, 2),
            "OR({fldNNNNNNNNNNNNNN}=1,{fldNNNNNNNNNNNNNN}=2.5)");
  CHECK(eLast==AT_TERM_EXACT);
  a[1] = num(0);                                   /* = 0: a superset */
  term(&numb, EQ, AT_COLL_BINARY, a, 2);
  CHECK(eLast==AT_TERM_SUPERSET);
  a[0] = txt("x"); a[1] = txt("y");               /* text: close */
  term(&text, EQ, AT_COLL_BINARY, a, 2);
  CHECK(eLast==AT_TERM_CLOSE);

  /* Checkbox: the set of {0, 1} kept, exactly. */
  CHECK_STR(term1(&box, EQ, num(1)), "{fldCCCCCCCCCCCCCC}");
  CHECK(eLast==AT_TERM_EXACT);
  CHECK_STR(term1(&box, EQ, num(0)), "NOT({fldCCCCCCCCCCCCCC})");
  CHECK_STR(term1(&box, NE, num(0)), "{fldCCCCCCCCCCCCCC}");
  CHECK_STR(term1(&box, GT, real(0.5)), "{fldCCCCCCCCCCCCCC}");
  CHECK_STR(term1(&box, LT, num(5)), "");                /* both: no formula */
  CHECK(eLast==AT_TERM_EXACT);
  CHECK_STR(term1(&box, EQ, num(2)), "FALSE()");
  CHECK(eLast==AT_TERM_EXACT);
  CHECK_STR(term1(&box, EQ, txt("1")), "(skip)");
  CHECK_STR(term(&box, ISNULL, 0, 0, 0), "FALSE()");
  CHECK_STR(term(&box, NOTNULL, 0, 0, 0), "");
  CHECK(eLast==AT_TERM_EXACT);

  /* Dates: a day's bounds a day wider. */
  CHECK_STR(term1(&date, GE, txt("2024-03-01")),
            "IS_AFTER({fldDDDDDDDDDDDDDD},DATETIME_PARSE('2024-02-29T00:00:00.000Z'))");
  CHECK(eLast==AT_TERM_SUPERSET);
  CHECK_STR(term1(&date, LT, txt("2024-12-31T23:59:59.000Z")),
            "IS_BEFORE({fldDDDDDDDDDDDDDD},DATETIME_PARSE('2025-01-02T00:00:00.000Z'))");
  CHECK_STR(term1(&date, EQ, txt("2023-02-28")),
            "AND(IS_AFTER({fldDDDDDDDDDDDDDD},DATETIME_PARSE('2023-02-27T00:00:00.000Z')),"
            "IS_BEFORE({fldDDDDDDDDDDDDDD},DATETIME_PARSE('2023-03-02T00:00:00.000Z')))");
  CHECK_STR(term1(&date, GT, txt("2024-02-31")), "(skip)");   /* no such day */
  CHECK_STR(term1(&date, GE, txt("2023-02-29")), "(skip)");
  CHECK_STR(term1(&date, GE, txt("2024-02-29")),
            "IS_AFTER({fldDDDDDDDDDDDDDD},DATETIME_PARSE('2024-02-28T00:00:00.000Z'))");
  CHECK_STR(term1(&date, LE, txt("2000-02-29T23:00:00Z")),
            "IS_BEFORE({fldDDDDDDDDDDDDDD},DATETIME_PARSE('2000-03-02T00:00:00.000Z'))");
  CHECK_STR(term1(&date, LE, txt("1900-02-29")), "(skip)");
  CHECK_STR(term1(&date, GE, txt("2024-03")), "(skip)");
  CHECK_STR(term1(&date, GE, txt("2024-13-01")), "(skip)");
  CHECK_STR(term1(&date, GE, txt("20x4-01-01")), "(skip)");
  CHECK_STR(term1(&date, GE, num(2024)), "(skip)");
  CHECK_STR(term1(&date, NE, txt("2024-01-01")), "LEN({fldDDDDDDDDDDDDDD}&'')>0");
  CHECK_STR(term(&date, ISNULL, 0, 0, 0), "LEN({fldDDDDDDDDDDDDDD}&'')=0");
  CHECK(eLast==AT_TERM_EXACT);
  CHECK_STR(term1(&date, LIKE, txt("2024%")), "(skip)");
  CHECK_STR(term(&date, GE, AT_COLL_OTHER, (a[0]=txt("2024-03-01"), a), 1), "(skip)");
  CHECK_STR(term(&date, GE, AT_COLL_NOCASE, (a[0]=txt("2024-03-01"), a), 1),
            "IS_AFTER({fldDDDDDDDDDDDDDD},DATETIME_PARSE('2024-02-29T00:00:00.000Z'))");
  a[0] = null(); a[1] = null();
  CHECK_STR(term(&text, EQ, AT_COLL_BINARY, a, 2), "FALSE()");   /* IN (NULL, NULL) */
  CHECK(eLast==AT_TERM_EXACT);

  /* id and created_time. */
  CHECK_STR(term1(&id, EQ, txt("recAAAAAAAAAAAAAA")), "RECORD_ID()='recAAAAAAAAAAAAAA'");
  CHECK(eLast==AT_TERM_CLOSE);
  CHECK_STR(term1(&id, EQ, txt("x' OR 1")), "RECORD_ID()='x\\' OR 1'");
  CHECK_STR(term1(&id, LT, txt("rec")), "(skip)");
  CHECK_STR(term(&id, ISNULL, 0, 0, 0), "FALSE()");
  CHECK_STR(term(&id, NOTNULL, 0, 0, 0), "");
  CHECK_STR(term1(&created, LE, txt("2024-01-05")),
            "IS_BEFORE(CREATED_TIME(),DATETIME_PARSE('2024-01-07T00:00:00.000Z'))");
  CHECK_STR(term1(&created, NE, txt("2024-01-05")), "(skip)");
  CHECK_STR(term(&created, ISNULL, 0, 0, 0), "FALSE()");

  /* Text whose length is given, not NUL-terminated at n. */
  CHECK_STR(term1(&text, EQ, txtn("abcdef", 3)), "{fldAAAAAAAAAAAAAA}='abc'");

  DONE();
}
