/* table.c: the one virtual-table skeleton every table and table-valued function fills in.
 *
 * Invariant: a table never copies the dump: a cursor walks row numbers (object, edge, type
 * indices) and each column is read from the dump, or from an analysis of it, when SQLite asks.
 * A lookup gives exactly the rows SQLite's comparison would keep: on an INTEGER column it
 * converts the value as the column's affinity does, and SQLite checks nothing again (a join
 * reads no column for it); on a text column it finds the bytes under BINARY collation only,
 * and SQLite checks each row again.
 */
#include "query_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct binding {
    const hq_table *table;
    hq_context *ctx;
} binding;

typedef struct table_vtab {
    sqlite3_vtab base;
    binding b;
} table_vtab;

static int table_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                         sqlite3_vtab **out, char **err)
{
    (void)argc, (void)argv, (void)err;
    const binding *b = aux;
    char *sql = sqlite3_mprintf("CREATE TABLE x(%s)", b->table->columns);
    int rc = sql ? sqlite3_declare_vtab(db, sql) : SQLITE_NOMEM;
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
        return rc;
    table_vtab *t = sqlite3_malloc(sizeof *t);
    if (!t)
        return SQLITE_NOMEM;
    memset(t, 0, sizeof *t);
    t->b = *b;
    sqlite3_vtab_config(db, SQLITE_VTAB_INNOCUOUS);
    *out = &t->base;
    return SQLITE_OK;
}

static int table_disconnect(sqlite3_vtab *v)
{
    sqlite3_free(v);
    return SQLITE_OK;
}

unsigned hq_table_analyses(const hq_table *t, uint64_t col_used)
{
    unsigned analyses = 0;
    if (!t->column_analyses)
        return 0;
    int ncolumns = 1;
    for (const char *p = t->columns; *p; p++)
        ncolumns += *p == ',';
    for (int i = 0; i < ncolumns; i++)
        if (col_used & (i < 63 ? 1ull << i : 1ull << 63))
            analyses |= t->column_analyses[i];
    return analyses;
}

/* idxNum: the lookup (column number + 1 of the = constraint used, 0 for a scan) in its low
 * bits, whether a scan goes in the table's order, and the analyses the statement's columns need
 * above them. */
#define LOOKUP_MASK 0x7f
#define ORDERED 0x80
#define ANALYSES_SHIFT 8

/* A scan that gives SQLite's ORDER BY (or GROUP BY) as it is: one ascending term on the
 * column the table keeps an order of. */
static bool order_consumed(const hq_table *table, const sqlite3_index_info *info)
{
    return table->ordered_by && info->nOrderBy == 1 && !info->aOrderBy[0].desc &&
           info->aOrderBy[0].iColumn + 1 == table->ordered_by;
}

/* Whether column col is declared INTEGER: its lookups find exactly the rows SQLite's own
 * comparison keeps (hq_value_int converts as the column's affinity does), so SQLite need not
 * check them again. A text lookup compares bytes, which a BLOB value does not. */
static bool integer_column(const char *columns, int col)
{
    const char *p = columns;
    for (int i = 0; i < col && p; i++)
        if ((p = strchr(p, ',')))
            p++;
    if (col < 0 || !p)
        return false;
    p += strspn(p, " ");
    p += strcspn(p, " ,"); /* past the name, to its type */
    return !strncmp(p, " INTEGER", 8);
}

/* An = constraint a lookup can serve: text compared by bytes only under BINARY collation. */
static bool lookup_usable(const hq_table *table, sqlite3_index_info *info, int i)
{
    const struct sqlite3_index_constraint *c = &info->aConstraint[i];
    return c->usable && c->op == SQLITE_INDEX_CONSTRAINT_EQ &&
           (integer_column(table->columns, c->iColumn) ||
            !sqlite3_stricmp(sqlite3_vtab_collation(info, i), "BINARY"));
}

/* The first usable = constraint on a lookup column, in the table's order of preference. */
static int table_best_index(sqlite3_vtab *v, sqlite3_index_info *info)
{
    const table_vtab *t = (const table_vtab *)v;
    const hq_table *table = t->b.table;
    int chosen = -1, how = 0;
    for (int k = 0; k < 4 && table->lookups[k] > 0 && chosen < 0; k++)
        for (int i = 0; i < info->nConstraint; i++) {
            if (info->aConstraint[i].iColumn + 1 == table->lookups[k] && lookup_usable(table, info, i)) {
                chosen = i;
                how = table->lookups[k];
                break;
            }
        }
    int analyses = (int)hq_table_analyses(table, info->colUsed) << ANALYSES_SHIFT;
    if (chosen < 0) {
        if (table->nargs)
            return SQLITE_CONSTRAINT; /* a function without its argument */
        double rows = (double)table->count(t->b.ctx);
        info->estimatedCost = rows + 1;
        info->estimatedRows = (sqlite3_int64)rows + 1;
        info->idxNum = analyses;
        if (order_consumed(table, info)) {
            info->orderByConsumed = 1;
            info->idxNum |= ORDERED;
        }
        return SQLITE_OK;
    }
    info->aConstraintUsage[chosen].argvIndex = 1;
    info->aConstraintUsage[chosen].omit =
        table->nargs || integer_column(table->columns, info->aConstraint[chosen].iColumn);
    info->estimatedCost = 10;
    info->estimatedRows = 10;
    info->idxNum = how | analyses;
    return SQLITE_OK;
}

void hq_cursor_init(hq_cursor *cur, hq_context *c)
{
    memset(cur, 0, sizeof *cur);
    cur->ctx = c;
    cur->walk_row = UINT64_MAX;
}

static int cursor_open(sqlite3_vtab *v, sqlite3_vtab_cursor **out)
{
    hq_cursor *cur = sqlite3_malloc(sizeof *cur);
    if (!cur)
        return SQLITE_NOMEM;
    hq_cursor_init(cur, ((table_vtab *)v)->b.ctx);
    *out = &cur->base;
    return SQLITE_OK;
}

static void cursor_reset(hq_cursor *cur)
{
    free(cur->rows);
    if (cur->free_data)
        cur->free_data(cur->data);
    cur->rows = NULL;
    cur->order = NULL;
    cur->data = NULL;
    cur->free_data = NULL;
    cur->row = cur->end = cur->nrows = cur->at = 0;
    cur->hint = cur->walk_at = 0;
    cur->walk_row = UINT64_MAX;
}

void hq_cursor_clear(hq_cursor *cur)
{
    cursor_reset(cur);
    free(cur->text);
    cur->text = NULL;
    cur->text_cap = 0;
}

static int cursor_close(sqlite3_vtab_cursor *c)
{
    hq_cursor_clear((hq_cursor *)c);
    sqlite3_free(c);
    return SQLITE_OK;
}

void hq_cursor_list(hq_cursor *cur, uint64_t *rows, uint64_t n)
{
    cur->rows = rows;
    cur->nrows = n;
    cur->at = 0;
}

int hq_out_of_memory(hq_cursor *cur)
{
    sqlite3_free(cur->base.pVtab->zErrMsg);
    cur->base.pVtab->zErrMsg = sqlite3_mprintf("out of memory");
    return SQLITE_NOMEM;
}

static int cursor_eof(sqlite3_vtab_cursor *c);

static int cursor_filter(sqlite3_vtab_cursor *c, int idx_num, const char *idx, int argc, sqlite3_value **argv)
{
    (void)idx;
    hq_cursor *cur = (hq_cursor *)c;
    const hq_table *table = ((table_vtab *)c->pVtab)->b.table;
    int how = idx_num & LOOKUP_MASK, rc = SQLITE_OK;
    cursor_reset(cur);
    if (idx_num & ORDERED) {
        if (!(cur->order = table->order(cur->ctx)))
            return hq_out_of_memory(cur);
        cur->end = table->count(cur->ctx);
    } else if (how == 0)
        cur->end = table->count(cur->ctx);
    else
        rc = table->filter(cur, how, argc ? argv[0] : NULL);
    /* Rows to read: their analyses now, side by side, rather than one by one at the first cell
     * that asks (a failure shows there, as the cell's out of memory). */
    if (rc == SQLITE_OK && !cursor_eof(c))
        hq_prepare(cur->ctx, (unsigned)idx_num >> ANALYSES_SHIFT);
    return rc;
}

static int cursor_eof(sqlite3_vtab_cursor *c)
{
    const hq_cursor *cur = (const hq_cursor *)c;
    return cur->rows ? cur->at >= cur->nrows : cur->row >= cur->end;
}

static int cursor_next(sqlite3_vtab_cursor *c)
{
    hq_cursor *cur = (hq_cursor *)c;
    const hq_table *table = ((table_vtab *)c->pVtab)->b.table;
    if (cur->rows) {
        cur->at++;
    } else {
        cur->row++;
        uint64_t ahead = cur->row + HQ_PREFETCH_AHEAD;
        if (table->prefetch && ahead < cur->end)
            table->prefetch(cur->ctx, cur->order ? cur->order[ahead] : ahead);
    }
    return SQLITE_OK;
}

static uint64_t current(const hq_cursor *cur)
{
    return cur->rows ? cur->rows[cur->at] : cur->order ? cur->order[cur->row] : cur->row;
}

static int cursor_column(sqlite3_vtab_cursor *c, sqlite3_context *out, int col)
{
    hq_cursor *cur = (hq_cursor *)c;
    hq_cell cell;
    ((table_vtab *)c->pVtab)->b.table->column(cur, current(cur), col, &cell);
    switch (cell.kind) {
    case HQ_CELL_NULL: sqlite3_result_null(out); break;
    case HQ_CELL_INT: sqlite3_result_int64(out, cell.i); break;
    case HQ_CELL_TEXT: /* the dump's strings outlive the statement; buf does not */
        sqlite3_result_text(out, cell.text, -1, cell.copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
        break;
    default: sqlite3_result_error_nomem(out); break;
    }
    return SQLITE_OK;
}

static int cursor_rowid(sqlite3_vtab_cursor *c, sqlite3_int64 *out)
{
    *out = (sqlite3_int64)current((const hq_cursor *)c);
    return SQLITE_OK;
}

static const sqlite3_module table_module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only: the tables exist without CREATE, and cannot be created */
    .xConnect = table_connect,
    .xBestIndex = table_best_index,
    .xDisconnect = table_disconnect,
    .xOpen = cursor_open,
    .xClose = cursor_close,
    .xFilter = cursor_filter,
    .xNext = cursor_next,
    .xEof = cursor_eof,
    .xColumn = cursor_column,
    .xRowid = cursor_rowid,
};

int hq_table_register(sqlite3 *db, const hq_table *t, hq_context *c)
{
    binding *b = malloc(sizeof *b);
    if (!b)
        return SQLITE_NOMEM;
    b->table = t;
    b->ctx = c;
    return sqlite3_create_module_v2(db, t->name, &table_module, b, free);
}

bool hq_value_int(sqlite3_value *v, sqlite3_int64 *out)
{
    int type = sqlite3_value_numeric_type(v); /* '42' counts, as SQLite compares it */
    if (type == SQLITE_INTEGER) {
        *out = sqlite3_value_int64(v);
        return true;
    }
    double x = sqlite3_value_double(v); /* 42.0 = 42 in SQLite */
    if (type != SQLITE_FLOAT || !(x >= -9223372036854775808.0 && x < 9223372036854775808.0))
        return false;
    *out = (sqlite3_int64)x;
    return (double)*out == x;
}

uint32_t hq_value_object(const hd_dump *d, sqlite3_value *v)
{
    sqlite3_int64 id;
    return hq_value_int(v, &id) ? hd_object_find(d, (uint64_t)id) : HD_NONE;
}

static inline uint64_t range_start(const hq_ranges *r, uint32_t k)
{
    return r->narrow ? r->narrow[k] : r->wide[k];
}

uint32_t hq_range_owner(const hq_ranges *r, uint64_t row, uint32_t *hint)
{
    uint32_t n = r->n, h = *hint < n ? *hint : 0;
    for (int step = 0; step < 64 && h + 1 < n && range_start(r, h + 1) <= row; step++)
        h++;
    if (!(range_start(r, h) <= row && row < range_start(r, h + 1))) {
        uint32_t lo = 0, hi = n; /* the last owner whose first row is <= row owns it */
        while (hi - lo > 1) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (range_start(r, mid) <= row)
                lo = mid;
            else
                hi = mid;
        }
        h = lo;
    }
    *hint = h;
    return h;
}

void hq_cell_object_id(hq_cell *out, const hd_dump *d, uint32_t o)
{
    if (o == HD_NONE || o >= hd_object_count(d))
        hq_cell_null(out);
    else
        hq_cell_int(out, hq_id(hd_object_id(d, o)));
}
