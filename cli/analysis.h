/* analysis.h: output helpers shared by the analysis commands (cycles, diff, path, leaks, show)
 * and the stats additions: object references, edge names, aligned tables, ids. */
#ifndef HEAPTOOL_ANALYSIS_H
#define HEAPTOOL_ANALYSIS_H

#include "cli.h"

#include <stdarg.h>

/* Allocation that cannot fail: on exhaustion prints "heaptool: out of memory", exits 5. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A libheapdump failure from an analysis: prints it, returns the exit status. */
int report_failure(const char *cmd, int status);

/* "Node#12", with " 'label'" appended when with_label and the object has one. Raw dump text:
 * print it through print_escaped/print_cell. Caller frees. */
char *objref(const hd_dump *d, uint32_t o, bool with_label);
/* An edge name as objgraph shows it: ".next" for names, "[3]" for indices and keys, "[?]"
 * when unnamed. Caller frees. */
char *edge_label(const char *name);
/* "[external]", "[named 'app']". Caller frees. */
char *root_label(const hd_dump *d, uint32_t r);
const char *state_word(enum hd_reach_state s);
/* "list#4 <- dict#3 <- [named 'cache']": o's dominators, nearest first, up to the root record
 * that holds the topmost one (just "[named 'cache']" for a root object); a long chain is cut
 * short before its top. The caller frees the string. */
char *dominator_chain(const hd_dump *d, const hd_dominators *dom, uint32_t o); /* "reachable", "uncollectable", "garbage" */

/* The object {"id", "type", "label"?} */
void jw_objref(json_writer *w, const hd_dump *d, uint32_t o);
void jw_root(json_writer *w, const hd_dump *d, uint32_t r); /* {"kind", "name"?} */

/* True when out names the same file as the dump at path (cmd_graph.c). */
bool same_file(const char *path, const char *out);

/* ID arguments: "12", "Node#12" or "#12". False after a usage message. */
bool parse_object_id(const command *cmd, const char *text, uint64_t *id);
/* The index of id in d, or prints "heaptool: CMD: no object with id N in 'PATH'" and returns
 * HD_NONE (the caller exits EXIT_INVALID). */
uint32_t find_object_or_report(const char *cmd, const hd_dump *d, const char *path, uint64_t id);

/* Numbers for tables: "1234", "+5" / "-3" / "0", "+1.5 KiB" / "-96 B" / "0 B" (after - before,
 * exact: a size change may be beyond the int64 range). buf >= 32. */
const char *fmt_u64(uint64_t v, char *buf);
const char *fmt_delta(int64_t v, char *buf);
const char *fmt_size_change(uint64_t before, uint64_t after, char *buf);

/* An aligned text table: cells are copied; align has one 'l' or 'r' per column; heads may be
 * NULL for a table without a header row. */
typedef struct table {
    size_t ncols, nrows, cap;
    const char *const *heads;
    const char *align;
    char **cells;
} table;
void table_init(table *t, size_t ncols, const char *const *heads, const char *align);
void table_row(table *t, ...); /* ncols const char * */
void table_print(const table *t, FILE *out, const char *indent);
void table_free(table *t);

/* Per-type rows (type, count, size), at most top (0: all), with "... N more types". */
void print_type_table(FILE *out, const hd_dump *d, const hd_type_stat *st, uint32_t n, uint64_t top,
                      const char *indent);
void jw_type_stats(json_writer *w, const hd_dump *d, const hd_type_stat *st, uint32_t n, uint64_t top);

#endif
