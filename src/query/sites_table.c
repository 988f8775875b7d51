/* sites_table.c: sites(id, file, line, function, count, size), one row per allocation site; row
 * number = site index. count and size are those of the objects allocated there (heaptool stats
 * --by site). */
#include "query_internal.h"

enum { ID, FILE_, LINE, FUNCTION, COUNT, SIZE };

static uint64_t sites_count(hq_context *c) { return hd_site_count(c->d); }

static int sites_filter(hq_cursor *cur, int how, sqlite3_value *v)
{
    (void)how;
    const hd_dump *d = cur->ctx->d;
    uint32_t ns = hd_site_count(d);
    sqlite3_int64 id;
    if (!hq_value_int(v, &id))
        return SQLITE_OK;
    for (uint32_t s = 0; s < ns; s++)
        if (hq_id(hd_site_id(d, s)) == id) {
            cur->row = s;
            cur->end = s + 1;
            break;
        }
    return SQLITE_OK;
}

static void sites_column(hq_cursor *cur, uint64_t row, int col, hq_cell *out)
{
    const hd_dump *d = cur->ctx->d;
    uint32_t s = (uint32_t)row;
    const uint64_t *totals = col == COUNT || col == SIZE ? hq_site_totals(cur->ctx) : NULL;
    switch (col) {
    case ID: hq_cell_int(out, hq_id(hd_site_id(d, s))); break;
    case FILE_: hq_cell_text(out, hd_site_file(d, s)); break;
    case LINE: hq_cell_int(out, hd_site_line(d, s)); break;
    case FUNCTION: {
        const char *f = hd_site_function(d, s);
        hq_cell_text(out, f[0] ? f : NULL);
        break;
    }
    default:
        if (totals)
            hq_cell_int(out, (sqlite3_int64)totals[2 * s + (col == SIZE)]);
        else
            hq_cell_nomem(out);
        break;
    }
}

const hq_table hq_sites_table = {
    .name = "sites",
    .columns = "id INTEGER, file TEXT, line INTEGER, function TEXT, count INTEGER, size INTEGER",
    .lookups = {ID + 1, -1},
    .filter = sites_filter,
    .column = sites_column,
    .count = sites_count,
};
