/*
** writer.h: what the export writes: files under a temporary name renamed
** when complete, and rows as CSV or JSON Lines conformed to Spark types.
*/
#ifndef AT_WRITER_H
#define AT_WRITER_H

#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "buf.h"
#include "spark.h"

/* A file written under a temporary name in its directory and renamed when
** complete: ".NAME.tmp-PID-N" while it is written, NAME once committed. */
typedef struct AtOutFile AtOutFile;
struct AtOutFile {
  char *zTemp;         /* temporary path, or NULL once renamed */
  char *zFinal;        /* final path */
  int fd;              /* the file, or -1 */
  void *pGz;           /* zlib gzFile writing to a dup of fd, or NULL */
};

/* Create the temporary file for zDir/zName (gzip-compressed if bGzip).
** On error returns SQLITE_ERROR with *pzErr naming the path. */
int atOutOpen(AtOutFile *p, const char *zDir, const char *zName, int bGzip,
              char **pzErr);
int atOutWrite(AtOutFile *p, const char *z, size_t n, char **pzErr);
/* Finish, sync, close and rename to the final name. On error the temporary
** file is removed. *p is cleared either way. */
int atOutCommit(AtOutFile *p, char **pzErr);
/* Close and remove the temporary file (idempotent; safe on a cleared *p). */
void atOutAbort(AtOutFile *p);
/* Write zText to zDir/zName through a temporary file. */
int atWriteFileAtomic(const char *zDir, const char *zName, const char *zText,
                      char **pzErr);

/* The shortest text that reads back as r exactly, as "%.15g" (or "%.17g"
** when that does not read back) prints it in the C locale. nBuf >= 32. */
void atFormatDouble(double r, char *aBuf, size_t nBuf);

/* Append one row for pRecord (field values apCell[], as AtListing indexes
** them) conformed to pSpark: a CSV line or a JSON Lines object. A value
** that cannot be typed is written as null and counted in anUntyped[column].
** Returns SQLITE_OK or SQLITE_NOMEM. */
void atCsvHeader(AtBuf *p, const AtSparkSchema *pSpark);
int atCsvRow(AtBuf *p, const AtSparkSchema *pSpark, const cJSON *pRecord,
             const cJSON **apCell, sqlite3_int64 *anUntyped);
int atJsonRow(AtBuf *p, const AtSparkSchema *pSpark, const cJSON *pRecord,
              const cJSON **apCell, sqlite3_int64 *anUntyped);

#endif /* AT_WRITER_H */
