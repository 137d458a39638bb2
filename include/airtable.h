/*
** airtable.h: the public interface of the airtable SQLite extension.
**
** The extension is normally loaded at run time (".load ./build/airtable" in
** the sqlite3 shell, conn.load_extension() in Python). A program that links
** it statically registers it on a connection by calling the entry point:
**
**   sqlite3_airtable_init(db, &zErrMsg, 0);
**
** or for every new connection with sqlite3_auto_extension().
*/
#ifndef AIRTABLE_H
#define AIRTABLE_H

#include <sqlite3.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AIRTABLE_SQLITE_VERSION "0.1.0"

/* Register the airtable module and the airtable_bases, airtable_tables and
** airtable_fields tables on db. Returns SQLITE_OK, or an error code with
** *pzErrMsg set (free it with sqlite3_free). */
int sqlite3_airtable_init(sqlite3 *db, char **pzErrMsg,
                          const sqlite3_api_routines *pApi);

#ifdef __cplusplus
}
#endif

#endif /* AIRTABLE_H */
