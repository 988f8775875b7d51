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

/* A type's cells, "name,id", kept for the next objects of that type: a dump has few types, met
 * again and again. Plain: the name is not empty (an empty text is written "", not as NULL),
 * needs no quotes and fits the padded copy; other names are written anew each row. */
typedef struct type_cells {
    uint32_t type; /* HD_NONE: the slot is empty */
    size_t len;
    bool plain;
    char text[2 * HQ_CELL_COPY];
} type_cells;

#define TYPE_CELLS 64 /* direct-mapped by type */

/* The type's cells slot, filled when it held another type; NULL when out of memory. The CSV
 * writer's cursor holds the slots (objects have no staged rows). */
static const type_cells *type_cells_of(hq_cursor *cur, uint32_t type)
{
    if (!cur->data) {
        type_cells *slots = malloc(TYPE_CELLS * sizeof *slots);
        for (int i = 0; slots && i < TYPE_CELLS; i++)
            slots[i].type = HD_NONE;
        cur->data = slots;
        cur->free_data = slots ? free : NULL;
    }
    type_cells *t = cur->data ? &((type_cells *)cur->data)[type % TYPE_CELLS] : NULL;
    if (t && t->type != type) {
        const hd_dump *d = cur->ctx->d;
        const char *name = hd_type_name(d, type);
        size_t len = strlen(name);
        t->type = type;
        t->plain = len && hq_csv_plain_short(name, len);
        if (t->plain) {
            memcpy(t->text, name, len);
            t->text[len] = ',';
            t->len = (size_t)(hq_decimal_at(t->text + len + 1, hq_id(hd_type_id(d, type))) - t->text);
        }
    }
    return t;
}

/* The row as CSV, the cells of objects_row written by code of their own: each column's decimal
 * then branches on its own history (an id's length, a distance's), where one loop over all
 * cells mispredicted its way through them, and a type's cells are formatted once. */
static bool objects_csv_row(hq_cursor *cur, uint64_t row, const hq_dump_cell *dump, hq_sink *out)
{
    hq_context *c = cur->ctx;
    const hd_dump *d = c->d;
    const hd_dominators *dom = c->dom;
    const uint32_t *dist = c->distance, *scc = c->scc;
    uint32_t o = (uint32_t)row, n = hd_object_count(d), type = hd_object_type(d, o);
    const type_cells *tc = type_cells_of(cur, type);
    if (!dom || !dist || !scc || !tc) /* the cells say which ran out of memory */
        return false;
    const char *label = hd_object_label(d, o), *type_name = tc->plain ? NULL : hd_type_name(d, type);
    size_t label_len = label ? strlen(label) : 0, type_len = type_name ? strlen(type_name) : 0;
    /* the padded copies, 13 numbers of 20 bytes at most with their separators, the flags and the
     * texts quoted, the row's end */
    size_t room = (dump->len > HQ_CELL_COPY ? dump->len : HQ_CELL_COPY) + 2 * HQ_CELL_COPY + 13 * 21 +
                  2 * sizeof ((hq_cell *)0)->buf + 2 * (label_len + type_len) + 16;
    if (out->cap - out->len < room)
        return false;
    uint32_t rc = hd_object_rc(d, o), site = hd_object_site(d, o), idom = hd_dominator_of(dom, o);
    unsigned gen = hd_object_gen(d, o), flags = hd_object_flags(d, o);
    const uint64_t *ids = hq_object_ids(c);
    char *p = hq_dump_cell_at(out->buf + out->len, dump);
    *p++ = ',';
    p = hq_decimal_at(p, hq_id(ids[o]));
    *p++ = ',';
    if (tc->plain) {
        memcpy(p, tc->text, sizeof tc->text);
        p += tc->len;
    } else {
        p = hq_csv_text_at(p, (const unsigned char *)type_name, type_len);
        *p++ = ',';
        p = hq_decimal_at(p, hq_id(hd_type_id(d, type)));
    }
    *p++ = ',';
    p = hq_decimal_at(p, (sqlite3_int64)hd_object_size(d, o));
    *p++ = ',';
    if (rc != HD_RC_UNKNOWN)
        p = hq_decimal_at(p, rc);
    *p++ = ',';
    if (gen != HD_GEN_UNKNOWN)
        p = hq_decimal_at(p, (int)gen);
    *p++ = ',';
    if (flags) {
        hq_cell cell;
        flags_cell(&cell, flags);
        p = hq_csv_text_at(p, (const unsigned char *)cell.text, strlen(cell.text));
    } else {
        memcpy(p, "\"\"", 2); /* an empty text, not NULL */
        p += 2;
    }
    *p++ = ',';
    if (site != HD_NONE)
        p = hq_decimal_at(p, hq_id(hd_site_id(d, site)));
    *p++ = ',';
    if (label)
        p = hq_csv_text_at(p, (const unsigned char *)label, label_len);
    *p++ = ',';
    p = hq_decimal_at(p, (sqlite3_int64)hd_retained_size(dom, o));
    *p++ = ',';
    if (idom < n)
        p = hq_decimal_at(p, hq_id(ids[idom]));
    *p++ = ',';
    *p++ = dist[o] != HD_NONE ? '1' : '0';
    *p++ = ',';
    if (dist[o] != HD_NONE)
        p = hq_decimal_at(p, dist[o]);
    *p++ = ',';
    if (scc[o])
        p = hq_decimal_at(p, scc[o]);
    *p++ = '\r';
    *p++ = '\n';
    out->len = (size_t)(p - out->buf);
    return true;
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
    .csv_row = objects_csv_row,
};
