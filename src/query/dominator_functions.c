/* dominator_functions.c: retained_set(id), what freeing the object would free (itself and
 * everything it dominates, MAT's AS RETAINED SET), and dominated(id), its children in the
 * dominator tree. Rows (id, type, size, retained); row number = object index. An object no root
 * reaches retains nothing: both are empty for it. */
#include "query_internal.h"

#include <stdlib.h>

enum { ID, TYPE, SIZE, RETAINED, OF };

/* The object's subtree in the dominator tree (whole, or its first level only), pre-order. */
static int subtree_filter(hq_cursor *cur, sqlite3_value *v, bool whole)
{
    hq_context *c = cur->ctx;
    uint32_t o = hq_value_object(c->d, v);
    if (o == HD_NONE)
        return SQLITE_OK;
    if (!hq_dominator_children(c))
        return hq_out_of_memory(cur);
    if (hd_dominator_of(c->dom, o) == HD_NONE)
        return SQLITE_OK;
    const uint32_t *off = c->dom_offsets, *kids = c->dom_children;
    uint64_t cap = (uint64_t)(off[o + 1] - off[o]) + 16, n = 0;
    uint64_t *rows = malloc(cap * sizeof *rows);
    if (!rows)
        return hq_out_of_memory(cur);
    if (whole)
        rows[n++] = o;
    else
        for (uint32_t i = off[o]; i < off[o + 1]; i++)
            rows[n++] = kids[i];
    /* The whole subtree: rows is its own work list, each row's children appended after it. */
    for (uint64_t at = 0; whole && at < n; at++) {
        uint32_t x = (uint32_t)rows[at];
        uint64_t need = n + (off[x + 1] - off[x]);
        if (need > cap) {
            while (cap < need)
                cap *= 2;
            uint64_t *more = realloc(rows, cap * sizeof *rows);
            if (!more) {
                free(rows);
                return hq_out_of_memory(cur);
            }
            rows = more;
        }
        for (uint32_t i = off[x]; i < off[x + 1]; i++)
            rows[n++] = kids[i];
    }
    hq_cursor_list(cur, rows, n);
    return SQLITE_OK;
}

static int retained_set_filter(hq_cursor *cur, int how, sqlite3_value *v)
{
    (void)how;
    return subtree_filter(cur, v, true);
}

static int dominated_filter(hq_cursor *cur, int how, sqlite3_value *v)
{
    (void)how;
    return subtree_filter(cur, v, false);
}

static void subtree_column(hq_cursor *cur, uint64_t row, int col, hq_cell *out)
{
    const hd_dump *d = cur->ctx->d;
    uint32_t o = (uint32_t)row;
    switch (col) {
    case ID: hq_cell_object_id(out, d, o); break;
    case TYPE: hq_cell_text(out, hd_type_name(d, hd_object_type(d, o))); break;
    case SIZE: hq_cell_int(out, (sqlite3_int64)hd_object_size(d, o)); break;
    case RETAINED: hq_cell_int(out, (sqlite3_int64)hd_retained_size(cur->ctx->dom, o)); break;
    default: hq_cell_null(out); break;
    }
}

#define SUBTREE_COLUMNS "id INTEGER, type TEXT, size INTEGER, retained INTEGER, of HIDDEN"

const hq_table hq_retained_set_function = {
    .name = "retained_set",
    .columns = SUBTREE_COLUMNS,
    .lookups = {OF + 1, -1},
    .nargs = 1,
    .filter = retained_set_filter,
    .column = subtree_column,
};

const hq_table hq_dominated_function = {
    .name = "dominated",
    .columns = SUBTREE_COLUMNS,
    .lookups = {OF + 1, -1},
    .nargs = 1,
    .filter = dominated_filter,
    .column = subtree_column,
};
