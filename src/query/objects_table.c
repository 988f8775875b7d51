/* objects_table.c: objects(id, type, type_id, size, rc, gen, flags, site, label, retained, idom,
 * reachable, distance, scc), one row per object; row number = object index.
 *
 * Lookups: id = ? finds one object through the dump's id map; type = ? and type_id = ? walk
 * only that type's objects. A scan ordered or grouped by type walks the objects type by type
 * (context.c keeps that order), so SQLite need not sort them. The last five columns are
 * computed on first use (context.c).
 */
#include "query_internal.h"

#include <stdlib.h>
#include <string.h>

enum { ID, TYPE, TYPE_ID, SIZE, RC, GEN, FLAGS, SITE, LABEL, RETAINED, IDOM, REACHABLE, DISTANCE, SCC };

static uint64_t objects_count(hq_context *c) { return hd_object_count(c->d); }

/* The objects of every type whose name (or id) is the value: several types may share a name. */
static int objects_of_types(hq_cursor *cur, int col, sqlite3_value *v)
{
    hq_context *c = cur->ctx;
    if (!hq_objects_by_type(c))
        return hq_out_of_memory(cur);
    const char *name = col == TYPE ? (const char *)sqlite3_value_text(v) : NULL;
    sqlite3_int64 id = 0;
    bool numeric = col == TYPE_ID && hq_value_int(v, &id);
    uint32_t nt = hd_type_count(c->d);
    uint64_t n = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t t = 0; t < nt; t++) {
            bool match = name ? !strcmp(hd_type_name(c->d, t), name)
                              : numeric && hq_id(hd_type_id(c->d, t)) == id;
            if (!match)
                continue;
            for (uint32_t i = c->type_offsets[t]; i < c->type_offsets[t + 1]; i++) {
                if (pass)
                    cur->rows[cur->nrows++] = c->type_objects[i];
                else
                    n++;
            }
        }
        if (!pass) {
            cur->rows = malloc((n + 1) * sizeof *cur->rows);
            if (!cur->rows)
                return hq_out_of_memory(cur);
        }
    }
    return SQLITE_OK;
}

static int objects_filter(hq_cursor *cur, int how, sqlite3_value *v)
{
    if (how - 1 != ID)
        return objects_of_types(cur, how - 1, v);
    uint32_t o = hq_value_object(cur->ctx->d, v);
    cur->row = o;
    cur->end = o == HD_NONE ? o : o + 1;
    return SQLITE_OK;
}

/* Flags as the dump spells them, comma-separated; "" when none. */
static void flags_cell(hq_cell *out, unsigned flags)
{
    static const char *const names[] = {"tracked", "finalized", "frozen", "immortal", "interned"};
    out->buf[0] = '\0';
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (flags & 1u << i) {
            if (out->buf[0])
                strcat(out->buf, ",");
            strcat(out->buf, names[i]);
        }
    hq_cell_text(out, out->buf);
    out->copy = true;
}

/* The computed columns: NULL where the analysis has no answer (unreachable objects). */
static void computed_column(hq_cursor *cur, uint32_t o, int col, hq_cell *out)
{
    hq_context *c = cur->ctx;
    const hd_dominators *dom = col == RETAINED || col == IDOM ? hq_dominators(c) : NULL;
    const uint32_t *dist = col == REACHABLE || col == DISTANCE ? hq_distance(c) : NULL;
    const uint32_t *scc = col == SCC ? hq_scc(c) : NULL;
    if (!dom && !dist && !scc) {
        hq_cell_nomem(out);
        return;
    }
    if (col == RETAINED) {
        hq_cell_int(out, (sqlite3_int64)hd_retained_size(dom, o));
    } else if (col == IDOM) {
        uint32_t idom = hd_dominator_of(dom, o);
        if (idom < hd_object_count(c->d))
            hq_cell_int(out, hq_id(hq_object_ids(c)[idom]));
        else
            hq_cell_null(out);
    } else if (col == REACHABLE) {
        hq_cell_int(out, dist[o] != HD_NONE);
    } else if (col == DISTANCE) {
        if (dist[o] == HD_NONE)
            hq_cell_null(out);
        else
            hq_cell_int(out, dist[o]);
    } else if (scc[o]) {
        hq_cell_int(out, scc[o]);
    } else {
        hq_cell_null(out);
    }
}

static void objects_column(hq_cursor *cur, uint64_t row, int col, hq_cell *out)
{
    const hd_dump *d = cur->ctx->d;
    uint32_t o = (uint32_t)row;
    switch (col) {
    case ID: hq_cell_int(out, hq_id(hd_object_id(d, o))); break;
    case TYPE: hq_cell_text(out, hd_type_name(d, hd_object_type(d, o))); break;
    case TYPE_ID: hq_cell_int(out, hq_id(hd_type_id(d, hd_object_type(d, o)))); break;
    case SIZE: hq_cell_int(out, (sqlite3_int64)hd_object_size(d, o)); break;
    case RC:
        if (hd_object_rc(d, o) == HD_RC_UNKNOWN)
            hq_cell_null(out);
        else
            hq_cell_int(out, hd_object_rc(d, o));
        break;
    case GEN:
        if (hd_object_gen(d, o) == HD_GEN_UNKNOWN)
            hq_cell_null(out);
        else
            hq_cell_int(out, (int)hd_object_gen(d, o));
        break;
    case FLAGS: flags_cell(out, hd_object_flags(d, o)); break;
    case SITE:
        if (hd_object_site(d, o) == HD_NONE)
            hq_cell_null(out);
        else
            hq_cell_int(out, hq_id(hd_site_id(d, hd_object_site(d, o))));
        break;
    case LABEL: hq_cell_text(out, hd_object_label(d, o)); break;
    default: computed_column(cur, o, col, out); break;
    }
}

/* Every column of a row at once, for the exports (which prepare every analysis before their
 * first row): each analysis looked up once a row rather than once a cell, no flags spelled out
 * for the objects that have none. */
static void objects_row(hq_cursor *cur, uint64_t row, hq_cell *cells)
{
    hq_context *c = cur->ctx;
    const hd_dump *d = c->d;
    uint32_t o = (uint32_t)row, n = hd_object_count(d), type = hd_object_type(d, o);
    uint32_t rc = hd_object_rc(d, o), site = hd_object_site(d, o);
    unsigned gen = hd_object_gen(d, o), flags = hd_object_flags(d, o);
    hq_cell_int(&cells[ID], hq_id(hq_object_ids(c)[o]));
    hq_cell_text(&cells[TYPE], hd_type_name(d, type));
    hq_cell_int(&cells[TYPE_ID], hq_id(hd_type_id(d, type)));
    hq_cell_int(&cells[SIZE], (sqlite3_int64)hd_object_size(d, o));
    if (rc == HD_RC_UNKNOWN)
        hq_cell_null(&cells[RC]);
    else
        hq_cell_int(&cells[RC], rc);
    if (gen == HD_GEN_UNKNOWN)
        hq_cell_null(&cells[GEN]);
    else
        hq_cell_int(&cells[GEN], (int)gen);
    if (flags)
        flags_cell(&cells[FLAGS], flags);
    else
        hq_cell_text(&cells[FLAGS], "");
    if (site == HD_NONE)
        hq_cell_null(&cells[SITE]);
    else
        hq_cell_int(&cells[SITE], hq_id(hd_site_id(d, site)));
    hq_cell_text(&cells[LABEL], hd_object_label(d, o));
    const hd_dominators *dom = hq_dominators(c);
    const uint32_t *dist = hq_distance(c), *scc = hq_scc(c);
    if (!dom || !dist || !scc) {
        for (int col = RETAINED; col <= SCC; col++)
            computed_column(cur, o, col, &cells[col]);
        return;
    }
    uint32_t idom = hd_dominator_of(dom, o);
    hq_cell_int(&cells[RETAINED], (sqlite3_int64)hd_retained_size(dom, o));
    if (idom < n)
        hq_cell_int(&cells[IDOM], hq_id(hq_object_ids(c)[idom]));
    else
        hq_cell_null(&cells[IDOM]);
    hq_cell_int(&cells[REACHABLE], dist[o] != HD_NONE);
    if (dist[o] == HD_NONE)
        hq_cell_null(&cells[DISTANCE]);
    else
        hq_cell_int(&cells[DISTANCE], dist[o]);
    if (scc[o])
        hq_cell_int(&cells[SCC], scc[o]);
    else
        hq_cell_null(&cells[SCC]);
}

/* The immediate dominator's id, once the dominators are known (before, no column reads it). */
static void objects_prefetch(hq_context *c, uint64_t row)
{
    uint32_t idom = c->dom ? hd_dominator_of(c->dom, (uint32_t)row) : HD_NONE;
    if (idom < hd_object_count(c->d))
        __builtin_prefetch(&hq_object_ids(c)[idom]);
}

static const unsigned char objects_analyses[SCC + 1] = {
    [RETAINED] = HQ_DOMINATORS, [IDOM] = HQ_DOMINATORS, [REACHABLE] = HQ_DISTANCE,
    [DISTANCE] = HQ_DISTANCE,   [SCC] = HQ_SCC,
};

const hq_table hq_objects_table = {
    .name = "objects",
    .columns = "id INTEGER, type TEXT, type_id INTEGER, size INTEGER, rc INTEGER, gen INTEGER, "
               "flags TEXT, site INTEGER, label TEXT, retained INTEGER, idom INTEGER, "
               "reachable INTEGER, distance INTEGER, scc INTEGER",
    .lookups = {ID + 1, TYPE + 1, TYPE_ID + 1, -1},
    .filter = objects_filter,
    .column = objects_column,
    .row = objects_row,
    .count = objects_count,
    .ordered_by = TYPE + 1,
    .order = hq_objects_by_type_name,
    .column_analyses = objects_analyses,
    .prefetch = objects_prefetch,
};
