/* stats_tables.h: the tables `heaptool stats` shows besides the per-type one: objects per
 * allocation site, the allocator's pools and the collector's state, as text and as --json values. */
#ifndef HEAPTOOL_STATS_TABLES_H
#define HEAPTOOL_STATS_TABLES_H

#include "cli.h"

/* Objects per site, largest first (--by site): at most top rows (0: all). */
void print_site_stats(FILE *out, const hd_dump *d, enum hd_stat_sort sort, uint64_t top);
/* The allocator's arenas and size classes; one line saying so when the dump has none. */
void print_pools_table(FILE *out, const hd_dump *d);
/* The collector's generations, garbage list and frozen count; one line when the dump has none. */
void print_gc_table(FILE *out, const hd_dump *d);

/* The same as JSON values, after a jw_key: an array, and objects (null when absent). A "pools"
 * or "gc" member with nothing in it (all zero, as "pools": {}) counts as absent. */
void jw_site_stats(json_writer *w, const hd_dump *d, enum hd_stat_sort sort, uint64_t top);
void jw_pools(json_writer *w, const hd_dump *d);
void jw_gc(json_writer *w, const hd_dump *d);

#endif
