/*
** names.h: Delta-safe column names, table file names, making names unique.
*/
#ifndef AT_NAMES_H
#define AT_NAMES_H

#include "airtable_int.h"

/* The Delta-safe column name of a field named zName, the one the connector
** this project replaces gave it: space to '_'; '(' ')' ',' ';' '{' '}' '='
** newline and tab dropped; '$' to "dollar", '#' to "num"; any other
** character that is not a letter, digit or '_' to '_'; a leading digit
** prefixed with "col_"; lower case; "col" if nothing is left. Not yet
** unique (atUniqueNames). sqlite3_malloc'd; NULL on OOM. */
char *atDeltaColumnName(const char *zName);

/* The file name (without extension) and Delta table name of a table named
** zName: lower case; space and '-' to '_'; "()[]{}" dropped; any other
** character outside [a-z0-9_] to '_'; runs of '_' collapsed, leading and
** trailing '_' dropped; a leading digit prefixed with "table_"; "table" if
** nothing is left. Not yet unique. sqlite3_malloc'd; NULL on OOM. */
char *atTableFileName(const char *zName);

/* Make the n names azName[] unique in azOut[] (sqlite3_malloc'd): compared
** ASCII case-insensitively with the nReserved names azReserved[] and every
** earlier name, a name already taken gets "_2", "_3", ... appended. Returns
** SQLITE_OK or SQLITE_NOMEM (azOut then holds NULLs for names not done). */
int atUniqueNames(int n, const char *const *azName, int nReserved,
                  const char *const *azReserved, char **azOut);

#endif /* AT_NAMES_H */
