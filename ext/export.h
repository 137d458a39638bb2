/*
** export.h: airtable_export(), the export of a base's tables as files for
** Spark (export.c), as the entry point and the airtable-export command see
** it.
*/
#ifndef AT_EXPORT_H
#define AT_EXPORT_H

#include "airtable_int.h"

/* The program name progress lines start with ("airtable_export" unless
** set; the command sets "airtable-export"). zName must outlive the export
** (a string literal). Call before any export runs. */
void atExportSetProgramName(const char *zName);

#endif /* AT_EXPORT_H */
