/* analysis.h: what the commands that analyse a dump share: how objects, edges and roots are
 * named (object_names.c), dominator chains (dominator_chain.c), type names as typed
 * (type_names.c), object ID arguments and aligned tables (table.c). */
#ifndef HEAPTOOL_ANALYSIS_H
#define HEAPTOOL_ANALYSIS_H

#include "cli.h"
#include "options.h"

#include <stdarg.h>

/* "Node#12", with " 'label'" appended when with_label and the object has one (a label that is
 * already quoted, as a str's repr, is not quoted again). Raw dump text: print it through
 * print_escaped/print_cell. Caller frees. */
char *objref(const hd_dump *d, uint32_t o, bool with_label);
/* An edge name as objgraph shows it: ".next" for names, "[3]" for indices and keys, "<key>"
 * when unnamed (a mapping's reference to its key). Caller frees. */
char *edge_label(const char *name);
/* The same for edge e of d, an unnamed one with its target's label: "<key 'numbers'>". */
char *edge_label_of(const hd_dump *d, uint64_t e);
/* "[external]", "[named 'app']"; a V8 synthetic root by its name alone: "(GC roots)". Caller
 * frees. */
char *root_label(const hd_dump *d, uint32_t r);
/* The label of the root record that best names root r's object: a named one when the object has
 * one ([named 'cache'] rather than [external]), else r's own. Caller frees. */
char *root_label_by_name(const hd_dump *d, uint32_t r);
const char *state_word(enum hd_reach_state s);
/* Dominator chains (dominator_chain.c). The invariant: a chain always ends at what holds it,
 * never blank. Walking up the dominator tree ends at an object whose only dominator is the
 * virtual root: that object is a root object (its root is named, a named root preferred), or
 * several roots reach it and none alone retains it (they are named, nearest first:
 * "[2 roots: (GC roots), [named 'cache']]"). */
typedef struct chains {
    const hd_dump *d;
    const hd_dominators *dom;
    uint32_t rows;      /* at most how many chains will be asked for */
    uint32_t *root_of;  /* per object: its preferred root record, or HD_NONE */
    uint64_t *held_at;  /* per object + 1: where the roots holding it start in held (tops only) */
    uint32_t *held;     /* root records, nearest first; found for every top when first needed */
    struct walk *walk;  /* few rows: the roots holding the last top asked about, by a walk */
    struct holders_text *texts; /* the chain tops worked out so far: an open-addressed table */
    uint32_t ntexts, texts_room;  /* texts_room: a power of two, at least twice ntexts */
} chains;
/* Up to this many rows, each top's holders come from a walk back from it alone (a pass over
 * much of the heap each, over its referrers); past it, or when the referrers would not fit in
 * memory, from one pass for every top (time that does not grow with the rows). Both give the
 * same answers. */
#define CHAINS_WALKED_ALONE 8
/* rows: at most how many chains will be asked for (UINT32_MAX when not known). */
void chains_init(chains *c, const hd_dump *d, const hd_dominators *dom, uint32_t rows);
void chains_free(chains *c);
/* Frees what holding_roots keeps (holding_roots.c). */
void holding_roots_free(chains *c);
/* "list#4 <- dict#3 <- [named 'cache']": o's dominators, nearest first, then what holds the
 * topmost one; a long chain is cut short before its top. "" for an unreachable o. Caller frees. */
char *dominator_chain(chains *c, uint32_t o);
/* The root records that hold x (an object whose immediate dominator is the virtual root), one per
 * root object, nearest first: writes up to cap into roots and returns how many there are. */
uint32_t holding_roots(chains *c, uint32_t x, uint32_t *roots, uint32_t cap);
/* The top of o's chain: the object whose immediate dominator is the virtual root. */
uint32_t chain_top(const chains *c, uint32_t o);
/* "dominators": [ids...], "held_by": [roots...] for o, or nulls when o is unreachable. */
void jw_dominators(json_writer *w, chains *c, uint32_t o);

/* The object {"id", "type", "label"?} */
void jw_objref(json_writer *w, const hd_dump *d, uint32_t o);
/* [id, ...]: the ids of objects[0..n) in that order. */
void jw_object_ids(json_writer *w, const hd_dump *d, const uint32_t *objects, uint32_t n);
void jw_root(json_writer *w, const hd_dump *d, uint32_t r); /* {"kind", "name"?} */
/* "file.c:12 in f" ("file.c:12" without a function, "(no site)" for a NULL file). Caller frees. */
char *site_text(const char *file, uint32_t line, const char *function);
/* An allocation site {"file", "line", "function"}, or null when file is NULL. */
void jw_site(json_writer *w, const char *file, uint32_t line, const char *function);
/* Site s of d the same way (HD_NONE: null). */
void jw_site_of(json_writer *w, const hd_dump *d, uint32_t s);

/* True when out names the same file as the dump at path (cmd_graph.c). */
bool same_file(const char *path, const char *out);

/* An ID argument: "12", "Node#12", "#12" or DevTools' "@12". type is the part before '#' (it
 * points into the argument), NULL when there is none. */
typedef struct object_id {
    uint64_t id;
    const char *type;
    size_t type_len;
} object_id;
/* False after a usage message. */
bool parse_object_id(const command *cmd, const char *text, object_id *id);
/* The index of the object id names in d. When no object has the number, or the ID's type part
 * is not the object's type (type_name_matches), prints why ("no object with id N in 'PATH'",
 * "object N is a Session, not a Socket") and returns HD_NONE (the caller exits EXIT_INVALID). */
uint32_t find_object_or_report(const char *cmd, const hd_dump *d, const char *path, const object_id *id);
/* For commands whose operands are "DUMP ID": options_parse_dump with ID checked before the load,
 * then the object found: OPTIONS_GO_ON with *d and *o set, or an exit status after printing
 * (EXIT_INVALID, the dump freed, when no object has that id or type). */
int options_parse_dump_object(const command *cmd, int argc, char **argv, void *values, operands *ops,
                              hd_dump **d, uint32_t *o);

/* Type names as people type them (type_names.c). A name matches a type of that exact name; a bare
 * class name ("Node", with no '.') also matches one qualified name ending in ".Node" when no
 * type is called exactly that and only one qualified name fits (objgraph's short names). */
bool type_name_matches(const hd_dump *d, const char *given, size_t len, uint32_t type);
/* Sets mask[t] for every type name matches. When none does, prints "heaptool: CMD: no type
 * named 'NAME' in 'PATH'", with "; did you mean 'X'?" naming the closest names, and returns
 * false. */
bool mark_types_named(const char *cmd, const hd_dump *d, const char *path, const char *name, uint8_t *mask);


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
