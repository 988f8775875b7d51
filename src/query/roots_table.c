/* roots_table.c: roots(id, kind, name), one row per root in dump order: the object id it holds,
 * its kind as the dump writes it, its name (NULL when it has none). */
#include "query_internal.h"

static uint64_t roots_count(hq_context *c) { return hd_root_count(c->d); }

static void roots_column(hq_cursor *cur, uint64_t row, int col, hq_cell *out)
{
    const hd_dump *d = cur->ctx->d;
    uint32_t r = (uint32_t)row;
    const char *name = hd_root_name(d, r);
    if (col == 0)
        hq_cell_object_id(out, d, hd_root_object(d, r));
    else
        hq_cell_text(out, col == 1 ? hd_root_kind_name(d, r) : name[0] ? name : NULL);
}

const hq_table hq_roots_table = {
    .name = "roots",
    .columns = "id INTEGER, kind TEXT, name TEXT",
    .lookups = {-1},
    .column = roots_column,
    .count = roots_count,
};
