/*
** partition.h: one table cut into disjoint parts by a RECORD_ID() formula.
*/
#ifndef AT_PARTITION_H
#define AT_PARTITION_H

#include "airtable_int.h"

/* The filterByFormula that selects part iPart (0-based) of nPart of a
** table's records, by the first character after "rec" of the record id;
** every record is in exactly one part (the proof is in partition.c).
** sqlite3_malloc'd; NULL when nPart is 1 (no formula) or on OOM. */
char *atPartitionFormula(int iPart, int nPart);
/* The part (0..nPart-1) record id zId belongs to, by the same rule. */
int atPartitionOf(const char *zId, int nPart);

#endif /* AT_PARTITION_H */
