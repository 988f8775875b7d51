/* types_table.c: types(id, name, count, size, retained, instance_size), one row per type; row
 * number = type index. count and size are those of the type's objects; retained is heaptool
 * stats --sort retained's (an object counts only when no object of its type dominates it),
 * computed on first use. */
#include "query_internal.h"

enum { ID, NAME, COUNT, SIZE, RETAINED, INSTANCE_SIZE };

static uint64_t types_count(hq_context *c) { return hd_type_count(c->d); }

static int types_filter(hq_cursor *cur, int how, sqlite3_value *v)
{
    (void)how;
    const hd_dump *d = cur->ctx->d;
    uint32_t nt = hd_type_count(d);
    sqlite3_int64 id;
    if (!hq_value_int(v, &id))
        return SQLITE_OK;
    for (uint32_t t = 0; t < nt; t++) /* types are few: a look through them is a lookup */
        if (hq_id(hd_type_id(d, t)) == id) {
            cur->row = t;
            cur->end = t + 1;
            break;
        }
    return SQLITE_OK;
}

static void types_column(hq_cursor *cur, uint64_t row, int col, hq_cell *out)
{
    const hd_dump *d = cur->ctx->d;
    uint32_t t = (uint32_t)row;
    const uint64_t *totals = col == COUNT || col == SIZE ? hq_type_totals(cur->ctx) : NULL;
    const uint64_t *retained = col == RETAINED ? hq_type_retained(cur->ctx) : NULL;
    switch (col) {
    case ID: hq_cell_int(out, hq_id(hd_type_id(d, t))); break;
    case NAME: hq_cell_text(out, hd_type_name(d, t)); break;
    case COUNT:
    case SIZE:
        if (totals)
            hq_cell_int(out, (sqlite3_int64)totals[2 * t + (col == SIZE)]);
        else
            hq_cell_nomem(out);
        break;
    case RETAINED:
        if (retained)
            hq_cell_int(out, (sqlite3_int64)retained[t]);
        else
            hq_cell_nomem(out);
        break;
    default: hq_cell_int(out, (sqlite3_int64)hd_type_size(d, t)); break;
    }
}

static const unsigned char types_analyses[INSTANCE_SIZE + 1] = {[RETAINED] = HQ_TYPE_RETAINED};

const hq_table hq_types_table = {
    .name = "types",
    .columns = "id INTEGER, name TEXT, count INTEGER, size INTEGER, retained INTEGER, "
               "instance_size INTEGER",
    .lookups = {ID + 1, -1},
    .filter = types_filter,
    .column = types_column,
    .count = types_count,
    .column_analyses = types_analyses,
};
