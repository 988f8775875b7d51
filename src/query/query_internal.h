/* query_internal.h: what the virtual tables share: the dump with its analyses computed on first
 * use (context.c), and one skeleton of a virtual table (table.c) each table fills in. */
#ifndef HEAPTOOL_QUERY_INTERNAL_H
#define HEAPTOOL_QUERY_INTERNAL_H

#include "query.h"
#include "sink.h"

#include <stdbool.h>
#include <stdint.h>

/* The dump and what the statements so far needed of it. Each analysis is computed the first
 * time a column or function asks for it and kept for the connection's life; the accessors
 * return NULL only when memory ran out. */
typedef struct hq_context {
    const hd_dump *d;
    const char *dump_name;
    hd_dominators *dom;
    hd_reach *reach;
    hd_referrers *referrers;
    uint32_t *distance;      /* hd_root_distance */
    uint32_t *scc;           /* per object: 1-based cycle number as heaptool cycles numbers them,
                              * or 0 in no cycle */
    uint32_t *dom_offsets;   /* dominator tree children as CSR (n + 1 entries) */
    uint32_t *dom_children;
    uint32_t *type_offsets;  /* objects grouped by type index as CSR (ntypes + 1 entries) */
    uint32_t *type_objects;
    uint32_t *by_type_name;  /* every object, in order of its type's name (BINARY collation) */
    uint64_t *type_totals;   /* per type: count, size (2 entries each) */
    uint64_t *type_retained; /* per type, by the DevTools rule of hd_stats_retained_by_type */
    uint64_t *site_totals;   /* per site: count, size */
    uint32_t *weak_live;     /* weakref indices whose referent is alive: refs rows past the edges */
    uint32_t nweak_live;
    bool weak_ready;
    struct hq_id_index *sites_by_id, *frames_by_id, *stacks_by_id; /* sorted by id: lookups */
    uint64_t *stack_rows;    /* stack_frames: node n's rows are [stack_rows[n], stack_rows[n + 1]) */
    uint64_t *own_ids;       /* hq_object_ids_copy: the ids in big pages, or NULL */
} hq_context;

/* An index of the sites, frames or stack nodes by id, sorted by id. */
typedef struct hq_id_index {
    uint64_t id;
    uint32_t index;
} hq_id_index;

const hd_dominators *hq_dominators(hq_context *c);
/* The analyses behind computed columns, as a set: a statement or an export asks for all it
 * will read at once (hq_prepare), so that they run side by side. */
enum hq_analysis {
    HQ_DOMINATORS = 1 << 0,    /* objects.retained, objects.idom */
    HQ_DISTANCE = 1 << 1,      /* objects.reachable, objects.distance */
    HQ_SCC = 1 << 2,           /* objects.scc */
    HQ_TYPE_RETAINED = 1 << 3, /* types.retained */
};
/* Computes the analyses not yet known; false when memory ran out (the accessors then say
 * which by returning NULL). */
bool hq_prepare(hq_context *c, unsigned analyses);
/* The same, but the scratch the analyses freed stays kept for analyses to come (big_alloc.c),
 * until hd_release_scratch. */
bool hq_compute(hq_context *c, unsigned analyses);
const hd_reach *hq_reach(hq_context *c);
/* The object ids by index: the copy hq_object_ids_copy made, else the dump's own array. */
static inline const uint64_t *hq_object_ids(const hq_context *c)
{
    return c->own_ids ? c->own_ids : hd_object_ids(c->d);
}
/* Copies the ids into memory where random reads find them quickly (big pages), for a scan of
 * every row; nothing when they are few or memory is short. */
void hq_object_ids_copy(hq_context *c);
const hd_referrers *hq_referrers(hq_context *c);
const uint32_t *hq_distance(hq_context *c);
const uint32_t *hq_scc(hq_context *c);
bool hq_dominator_children(hq_context *c);
bool hq_objects_by_type(hq_context *c);
const uint32_t *hq_objects_by_type_name(hq_context *c);
const uint64_t *hq_type_totals(hq_context *c);
const uint64_t *hq_type_retained(hq_context *c);
const uint64_t *hq_site_totals(hq_context *c);
bool hq_weak_live(hq_context *c);
const hq_id_index *hq_sites_by_id(hq_context *c);
const hq_id_index *hq_frames_by_id(hq_context *c);
const hq_id_index *hq_stacks_by_id(hq_context *c);
/* The index whose id is the value, in an index of n entries; HD_NONE when none is. */
uint32_t hq_index_find(const hq_id_index *index, uint32_t n, sqlite3_value *v);
const uint64_t *hq_stack_rows(hq_context *c);
void hq_context_free(hq_context *c);

struct hq_db {
    sqlite3 *db;
    hq_context *ctx;
    const char *refused;
};

/* A cursor walks row numbers: the range [row, end) or, when rows is set, the list rows[at..n);
 * a table's ordered scan walks [row, end) of the table's order (a borrowed array of rows).
 * What a row number means (an object index, an edge index) is the table's business; data is
 * whatever else a filter computed (a path), freed with free_data. */
typedef struct hq_cursor {
    sqlite3_vtab_cursor base;
    hq_context *ctx;
    uint64_t row, end;
    uint64_t *rows;
    uint64_t nrows, at;
    const uint32_t *order;
    void *data;
    void (*free_data)(void *);
    uint32_t hint; /* refs, stack_frames: the object or stack node of the last row looked at */
    uint32_t walk_at;  /* stack_frames: the node at walk_row's depth */
    uint64_t walk_row;
    char *text;    /* a text column built for the current row (sites.stack) */
    size_t text_cap;
} hq_cursor;

/* One value of a row, as a table's column function gives it: table.c hands it to SQLite, the
 * exports (export.c) write it straight to their files. text is NUL-terminated and is either the
 * dump's own bytes or buf; it is read before the next cell is asked for. */
typedef struct hq_cell {
    enum hq_cell_kind { HQ_CELL_NULL, HQ_CELL_INT, HQ_CELL_TEXT, HQ_CELL_NOMEM } kind;
    bool copy; /* text is buf or the cursor's text: SQLite must copy it */
    sqlite3_int64 i;
    const char *text;
    char buf[64];
} hq_cell;

static inline void hq_cell_null(hq_cell *c) { c->kind = HQ_CELL_NULL; }
static inline void hq_cell_nomem(hq_cell *c) { c->kind = HQ_CELL_NOMEM; }
static inline void hq_cell_int(hq_cell *c, sqlite3_int64 v)
{
    c->kind = HQ_CELL_INT;
    c->i = v;
}
static inline void hq_cell_text(hq_cell *c, const char *s) /* NULL stays NULL */
{
    c->kind = s ? HQ_CELL_TEXT : HQ_CELL_NULL;
    c->copy = false;
    c->text = s;
}

/* The writers of row_format.c, for the exports too (integers: hq_put_decimal): a text quoted as
 * RFC 4180 says (when it must be); a text as a JSON string. */
void hq_write_csv_text(hq_sink *out, const unsigned char *s, size_t len);
/* The same at p, which has room for 2 * len + 2 bytes (the most it takes); returns the end. */
char *hq_csv_text_at(char *p, const unsigned char *s, size_t len);
/* The bytes a CSV field must be quoted for: none above ',', so most bytes cost one test. */
static inline bool hq_csv_special(unsigned char ch)
{
    return ch <= ',' && (ch == ',' || ch == '"' || ch == '\n' || ch == '\r');
}
void hq_write_json_text(hq_sink *out, const unsigned char *s, size_t len);

#define HQ_CELL_COPY 32 /* a cell this long or shorter is copied from a padded buffer by a fixed-size copy */

/* Whether CSV writes s[0..len) as it is (nothing to quote) and it fits a padded copy: the texts
 * the exports' writers keep formatted for the rows that repeat them. */
static inline bool hq_csv_plain_short(const char *s, size_t len)
{
    if (len > HQ_CELL_COPY)
        return false;
    for (size_t i = 0; i < len; i++)
        if (hq_csv_special((unsigned char)s[i]))
            return false;
    return true;
}

/* An export's dump column, the first cell of every row: quoted or escaped once, in a buffer
 * at least HQ_CELL_COPY long (zeroed past the cell). */
typedef struct hq_dump_cell {
    char *text;
    size_t len;
} hq_dump_cell;

/* Copies the dump's cell to p; returns its end. p has room for HQ_CELL_COPY bytes or the cell. */
static inline char *hq_dump_cell_at(char *p, const hq_dump_cell *dump)
{
    if (dump->len <= HQ_CELL_COPY) /* a copy of constant size is a few moves, not a call */
        memcpy(p, dump->text, HQ_CELL_COPY);
    else
        memcpy(p, dump->text, dump->len);
    return p + dump->len;
}

/* One table: its columns, how to pick an index and filter, and its values. */
typedef struct hq_table {
    const char *name;
    const char *columns;       /* declared columns; a function's arguments are HIDDEN */
    /* Pushdown: the columns whose = constraint filter() can use, best first, as idxNum values
     * (column number + 1); -1 ends the list. A function's argument columns are required. */
    int lookups[4];
    int nargs;                 /* a table-valued function: its arguments are the last columns */
    /* Sets the cursor's rows. how is 0 for a full scan, else the column number + 1 of the
     * constraint given in value. SQLITE_OK or an error code. */
    int (*filter)(hq_cursor *cur, int how, sqlite3_value *value);
    void (*column)(hq_cursor *cur, uint64_t row, int col, hq_cell *out);
    /* Optional, for the exports' scans: every column of a row at once, as column gives them
     * and valid together, so that a table of tens of millions of rows costs one call a row
     * rather than one a cell, each repeating its lookups. */
    void (*row)(hq_cursor *cur, uint64_t row, hq_cell *cells);
    uint64_t (*count)(hq_context *c); /* rows in a full scan; functions have none */
    /* Optional: a column (number + 1) by which the table gives a full scan in order, ascending
     * by SQLite's BINARY collation, and that order (every row once); NULL when out of memory.
     * ORDER BY or GROUP BY that column then needs no sort. */
    int ordered_by;
    const uint32_t *(*order)(hq_context *c);
    /* Optional: per declared column, the analyses its values come from (enum hq_analysis); a
     * statement computes those of the columns it reads before its first row. */
    const unsigned char *column_analyses;
    /* Optional: hints the cache about what the row's columns will read at random (the ids of
     * other objects), for scans that run this many rows ahead of their reading. */
    void (*prefetch)(hq_context *c, uint64_t row);
    /* Optional, for the exports' scans, in place of prefetch: reads into the cursor, in one
     * tight loop, what rows [row, end) will look up at random, so that row() finds it there.
     * A loop that does nothing else keeps many misses in flight where a row at a time, between
     * formatting, waits for each. false when out of memory (row() then looks up itself). */
    bool (*stage)(hq_cursor *cur, uint64_t row, uint64_t end);
    /* Optional, for the CSV export in place of row(): writes the row, the dump's cell first,
     * straight into the sink's buffer, the bytes export_rows.c would write from row()'s cells.
     * false, with nothing written, when it cannot (the buffer may lack room, the row is not
     * staged, an analysis or memory is missing): the cells then write the row. */
    bool (*csv_row)(hq_cursor *cur, uint64_t row, const hq_dump_cell *dump, hq_sink *out);
} hq_table;

#define HQ_STAGE_ROWS 4096 /* rows staged at once: their lookups fit in L1 and L2 */

#define HQ_PREFETCH_AHEAD 16

extern const hq_table hq_objects_table, hq_refs_table, hq_types_table, hq_sites_table,
    hq_roots_table, hq_weakrefs_table, hq_frames_table, hq_stack_frames_table;
extern const hq_table hq_referrers_function, hq_referents_function, hq_path_function,
    hq_retained_set_function, hq_dominated_function;

/* The analyses behind the columns of t that col_used names (SQLite's colUsed: bit i for column
 * i, the last bit for every column past it). */
unsigned hq_table_analyses(const hq_table *t, uint64_t col_used);
/* Registers t as an eponymous virtual table of db over c. */
int hq_table_register(sqlite3 *db, const hq_table *t, hq_context *c);
/* Gives the cursor a list of n rows (taking ownership of rows, a malloc'd array). */
void hq_cursor_list(hq_cursor *cur, uint64_t *rows, uint64_t n);
/* A constraint value as an integer, as SQLite would compare it with an integer column: false
 * when it equals none (text that is not a number, a fraction, NULL). */
bool hq_value_int(sqlite3_value *v, sqlite3_int64 *out);
/* The object index a constraint value names by id, or HD_NONE (no such object, not an integer). */
uint32_t hq_value_object(const hd_dump *d, sqlite3_value *v);
/* An id as SQLite stores it: ids past 2^63 - 1 wrap to negative numbers. */
static inline sqlite3_int64 hq_id(uint64_t id) { return (sqlite3_int64)id; }
/* Rows laid out by owner (an object's edges, a stack node's frames): owner k has the rows
 * [start(k), start(k + 1)), the starts ascending in narrow or in wide (n + 1 of them). */
typedef struct hq_ranges {
    const uint32_t *narrow;
    const uint64_t *wide;
    uint32_t n;
} hq_ranges;
/* The owner whose range holds row (< start(n)). *hint is the owner found last: a scan moves
 * forward one row at a time, so the answer is mostly it or a few owners on (empty ranges
 * skipped); else a binary search. */
uint32_t hq_range_owner(const hq_ranges *r, uint64_t row, uint32_t *hint);
/* The object index o's id; NULL for HD_NONE. */
void hq_cell_object_id(hq_cell *out, const hd_dump *d, uint32_t o);
int hq_out_of_memory(hq_cursor *cur);
/* A cursor over c with no rows yet; hq_cursor_clear frees what it came to hold. */
void hq_cursor_init(hq_cursor *cur, hq_context *c);
void hq_cursor_clear(hq_cursor *cur);

/* The tables in the order of hq_table_at. */
const hq_table *hq_table_def(size_t i);

/* Writes every row of table t, as SELECT 'dump name' AS dump, * FROM t would give them, as CSV
 * with a header line or as JSON lines, straight from the dump (export_rows.c), into out (not
 * flushed). SQLITE_OK, SQLITE_NOMEM or SQLITE_IOERR. */
int hq_export_rows(hq_context *c, const hq_table *t, bool csv, hq_sink *out);

int hq_register_scalars(sqlite3 *db);
/* Installs the read-only authorizer; *refused is set to what a refused statement tried. */
int hq_make_read_only(sqlite3 *db, const char **refused);

#endif
