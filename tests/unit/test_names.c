/* test_names.c: Delta-safe column names, table file names and unique
** names (names.c). */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "airtable_int.h"
#include "names.h"
#include "testhelp.h"


/* xName(zIn) is zWant. */
static void named(char *(*xName)(const char*), const char *zIn, const char *zWant){
  char *z = xName(zIn);
  CHECK_STR(z, zWant);
  sqlite3_free(z);
}
#define column(zIn, zWant) named(atDeltaColumnName, zIn, zWant)
#define table(zIn, zWant)  named(atTableFileName, zIn, zWant)

/* Expected names are what the replaced connector's Python gives (see
** shared/SPARK.md): the same rules, applied by hand. */
static void testDeltaColumnNames(void){
  column("Task", "task");
  column("Unit Cost (USD).net", "unit_cost_usd_net");
  column("Notes {internal}", "notes_internal");
  column("Weight (kg)", "weight_kg");
  column("Length/Width", "length_width");
  column("Customer's \"Nickname\"", "customer_s__nickname_");
  column("Price $", "price_dollar");
  column("# of items", "num_of_items");
  column("2024 Budget", "col_2024_budget");
  column("a,b;c=d", "abcd");
  column("line\nbreak\ttab", "linebreaktab");
  column("cr\rlf", "cr_lf");                 /* \r is not in the dropped set */
  column("Summary (AI)", "summary_ai");
  column("__private__", "__private__");      /* runs of '_' are kept */
  column("Caf\xc3\xa9 cr\xc3\xa8me", "caf\xc3\xa9_cr\xc3\xa8me");   /* letters stay */
  column("\xc3\x89T\xc3\x89", "\xc3\xa9t\xc3\xa9");                 /* and lower */
  column("Gr\xc3\xb6\xc3\x9f" "e", "gr\xc3\xb6\xc3\x9f" "e");
  column("\xe6\x95\xb0\xe9\x87\x8f", "\xe6\x95\xb0\xe9\x87\x8f");   /* CJK letters */
  column("\xe2\x98\x83 snow", "__snow");     /* a snowman is no letter */
  column("Label \xf0\x9f\x8f\xb7\xef\xb8\x8f", "label___");         /* emoji + VS16 */
  column("()", "col");                       /* nothing left */
  column("", "col");
  column("\xff\xfe bad", "___bad");          /* invalid UTF-8: each byte one '_' */
}

static void testTableFileNames(void){
  table("Packaging Tasks", "packaging_tasks");
  table("Odd/Name?#% \"quoted\" \xe2\x98\x83", "odd_name_quoted");
  table("2024 Orders", "table_2024_orders");
  table("(Archived) Items [old]", "archived_items_old");
  table("Vendors-EU", "vendors_eu");
  table("Caf\xc3\xa9", "caf");
  table("a  --  b", "a_b");
  table("___", "table");
  table("", "table");
}

static void unique(int n, const char *const *azIn, const char *zWant){
  static const char *const azReserved[] = { "id", "createdTime" };
  char *azOut[8];
  CHECK(atUniqueNames(n, azIn, 2, azReserved, azOut)==SQLITE_OK);
  CHECK_NAMES(n, azOut, zWant);
}

static void testUniqueNames(void){
  static const char *const a1[] = { "a", "A", "a_2" };
  static const char *const a2[] = { "id", "createdtime", "ID" };
  unique(3, a1, "a|A_2|a_2_2");
  /* Never colliding with the leading columns, whatever the case. */
  unique(3, a2, "id_2|createdtime_2|ID_3");
}

/* The DDL of the Spark type of a field of type zType with options zOptions
** (JSON text or NULL). */

int main(void){
  /* Run as a host might: the process's locale is not the C library's. */
  setlocale(LC_ALL, "");
  testDeltaColumnNames();
  testTableFileNames();
  testUniqueNames();
  DONE();
}
