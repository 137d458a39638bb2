/*
** util.h: small helpers every module may use: ids, the clock, numbers in
** the C locale. (The error helper is in airtable_int.h.)
*/
#ifndef AT_UTIL_H
#define AT_UTIL_H

#include <locale.h>
#include "airtable_int.h"


/* True if z is zPrefix followed by exactly 14 ASCII letters or digits: the
** shape of every Airtable id ("app", "tbl", "viw", "fld", "rec"). */
int atIsId(const char *z, const char *zPrefix);

/* The time now, Unix seconds, and a time as ISO 8601 UTC with milliseconds
** ("2026-12-01T09:30:00.000Z", the form Airtable uses). sqlite3_malloc'd. */
double atNow(void);
char *atIsoTime(double r);

/* The "C" locale, made once for the process and never installed as its
** locale (NULL if it could not be made), and strtod() read in it: numbers
** in JSON, option values and stored times use '.' whatever LC_NUMERIC the
** host program set. */
locale_t atCLocale(void);
/* True if z[0..n-1] is valid UTF-8 (RFC 3629: no overlong forms, no
** surrogates, nothing past U+10FFFF). */
int atUtf8Valid(const char *z, size_t n);
double atStrtod(const char *z, char **pzEnd);

#endif /* AT_UTIL_H */
