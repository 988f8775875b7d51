/* neighbour_functions.c: referrers(id) and referents(id), the objects that refer to an object
 * and those it refers to, with the reference's name and whether it is weak. A row number packs
 * the other object's index (high half) and the edge index (low half, HD_NONE for a weak one). */
#include "query_internal.h"

#include <stdlib.h>

enum { ID, TYPE, SIZE, NAME, WEAK, OF };

static uint64_t pack(uint32_t object, uint32_t edge) { return (uint64_t)object << 32 | edge; }

/* Fills rows (when not NULL) with the neighbours of o one way; returns how many. */
static uint64_t neighbours(hq_context *c, uint32_t o, bool back, uint64_t *rows)
{
    const hd_dump *d = c->d;
    uint64_t n = 0;
    if (back) {
        const hd_referrers *r = c->referrers;
        for (uint32_t i = r->offsets[o]; i < r->offsets[o + 1]; i++, n++)
            if (rows)
                rows[n] = pack(r->sources[i], r->edges[i]);
    } else {
        uint64_t first, end;
        hd_object_edges(d, o, &first, &end);
        for (uint64_t e = first; e < end; e++, n++)
            if (rows)
                rows[n] = pack(hd_edge_target(d, e), (uint32_t)e);
    }
    for (uint32_t k = 0; k < c->nweak_live; k++) {
        uint32_t w = c->weak_live[k], from = hd_weakref_object(d, w), to = hd_weakref_referent(d, w);
        if ((back ? to : from) == o) {
            if (rows)
                rows[n] = pack(back ? from : to, HD_NONE);
            n++;
        }
    }
    return n;
}

static int neighbours_filter(hq_cursor *cur, sqlite3_value *v, bool back)
{
    hq_context *c = cur->ctx;
    uint32_t o = hq_value_object(c->d, v);
    if (o == HD_NONE)
        return SQLITE_OK;
    if (!hq_weak_live(c) || (back && !hq_referrers(c)))
        return hq_out_of_memory(cur);
    uint64_t n = neighbours(c, o, back, NULL);
    uint64_t *rows = malloc((n + 1) * sizeof *rows);
    if (!rows)
        return hq_out_of_memory(cur);
    neighbours(c, o, back, rows);
    hq_cursor_list(cur, rows, n);
    return SQLITE_OK;
}

static int referrers_filter(hq_cursor *cur, int how, sqlite3_value *v)
{
    (void)how;
    return neighbours_filter(cur, v, true);
}

static int referents_filter(hq_cursor *cur, int how, sqlite3_value *v)
{
    (void)how;
    return neighbours_filter(cur, v, false);
}

static void neighbours_column(hq_cursor *cur, uint64_t row, int col, hq_cell *out)
{
    const hd_dump *d = cur->ctx->d;
    uint32_t o = (uint32_t)(row >> 32), e = (uint32_t)row;
    switch (col) {
    case ID: hq_cell_object_id(out, d, o); break;
    case TYPE: hq_cell_text(out, hd_type_name(d, hd_object_type(d, o))); break;
    case SIZE: hq_cell_int(out, (sqlite3_int64)hd_object_size(d, o)); break;
    case NAME: hq_cell_text(out, e == HD_NONE || !hd_edge_name(d, e)[0] ? NULL : hd_edge_name(d, e)); break;
    case WEAK: hq_cell_int(out, e == HD_NONE); break;
    default: hq_cell_null(out); break;
    }
}

#define NEIGHBOUR_COLUMNS "id INTEGER, type TEXT, size INTEGER, name TEXT, weak INTEGER, of HIDDEN"

const hq_table hq_referrers_function = {
    .name = "referrers",
    .columns = NEIGHBOUR_COLUMNS,
    .lookups = {OF + 1, -1},
    .nargs = 1,
    .filter = referrers_filter,
    .column = neighbours_column,
};

const hq_table hq_referents_function = {
    .name = "referents",
    .columns = NEIGHBOUR_COLUMNS,
    .lookups = {OF + 1, -1},
    .nargs = 1,
    .filter = referents_filter,
    .column = neighbours_column,
};
