/* weakrefs_table.c: weakrefs(id, referent, callback), one row per weak reference in dump order:
 * the weakref object's id, its referent's id (NULL once dead), 1 when it has a callback. */
#include "query_internal.h"

static uint64_t weakrefs_count(hq_context *c) { return hd_weakref_count(c->d); }

static void weakrefs_column(hq_cursor *cur, uint64_t row, int col, hq_cell *out)
{
    const hd_dump *d = cur->ctx->d;
    uint32_t w = (uint32_t)row;
    if (col == 0)
        hq_cell_object_id(out, d, hd_weakref_object(d, w));
    else if (col == 1)
        hq_cell_object_id(out, d, hd_weakref_referent(d, w));
    else
        hq_cell_int(out, hd_weakref_has_callback(d, w) != 0);
}

const hq_table hq_weakrefs_table = {
    .name = "weakrefs",
    .columns = "id INTEGER, referent INTEGER, callback INTEGER",
    .lookups = {-1},
    .column = weakrefs_column,
    .count = weakrefs_count,
};
