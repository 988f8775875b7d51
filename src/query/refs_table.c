/* refs_table.c: refs(src, dst, name, weak), one row per reference: first every strong reference
 * (row number = edge index, in the dump's CSR order), then one per weak reference whose referent
 * is alive (weak = 1, name NULL).
 *
 * Lookups: src = ? reads the object's own edge range; dst = ? its referrers (the reversed CSR,
 * built on first use). The weak rows are few and are looked through on each lookup.
 */
#include "query_internal.h"

#include <stdlib.h>
#include <string.h>

enum { SRC, DST, NAME, WEAK };

static uint64_t refs_count(hq_context *c)
{
    return hd_edge_count(c->d) + (hq_weak_live(c) ? c->nweak_live : 0);
}

/* Appends the weak rows whose weakref object (col SRC) or referent (col DST) is o. */
static uint64_t weak_rows(hq_context *c, int col, uint32_t o, uint64_t *rows)
{
    uint64_t n = 0, edges = hd_edge_count(c->d);
    for (uint32_t k = 0; k < c->nweak_live; k++) {
        uint32_t w = c->weak_live[k];
        uint32_t end = col == SRC ? hd_weakref_object(c->d, w) : hd_weakref_referent(c->d, w);
        if (end == o) {
            if (rows)
                rows[n] = edges + k;
            n++;
        }
    }
    return n;
}

static int refs_filter(hq_cursor *cur, int how, sqlite3_value *v)
{
    hq_context *c = cur->ctx;
    int col = how - 1;
    uint32_t o = hq_value_object(c->d, v);
    if (o == HD_NONE)
        return SQLITE_OK; /* no rows */
    const hd_referrers *back = col == DST ? hq_referrers(c) : NULL;
    if (!hq_weak_live(c) || (col == DST && !back))
        return hq_out_of_memory(cur);
    uint64_t first, end;
    if (col == SRC)
        hd_object_edges(c->d, o, &first, &end);
    else
        first = back->offsets[o], end = back->offsets[o + 1];
    uint64_t nweak = weak_rows(c, col, o, NULL), n = end - first;
    uint64_t *rows = malloc((n + nweak + 1) * sizeof *rows);
    if (!rows)
        return hq_out_of_memory(cur);
    for (uint64_t i = 0; i < n; i++)
        rows[i] = col == SRC ? first + i : back->edges[first + i];
    weak_rows(c, col, o, rows + n);
    hq_cursor_list(cur, rows, n + nweak);
    cur->hint = col == SRC ? o : 0;
    return SQLITE_OK;
}

static uint32_t edge_source(hq_cursor *cur, uint64_t e)
{
    hq_ranges edges = {hd_edge_offsets(cur->ctx->d), NULL, hd_object_count(cur->ctx->d)};
    return hq_range_owner(&edges, e, &cur->hint);
}

static void refs_column(hq_cursor *cur, uint64_t row, int col, hq_cell *out)
{
    hq_context *c = cur->ctx;
    const hd_dump *d = c->d;
    uint64_t edges = hd_edge_count(d);
    if (row >= edges) {
        uint32_t w = c->weak_live[row - edges];
        switch (col) {
        case SRC: hq_cell_object_id(out, d, hd_weakref_object(d, w)); break;
        case DST: hq_cell_object_id(out, d, hd_weakref_referent(d, w)); break;
        case NAME: hq_cell_null(out); break;
        default: hq_cell_int(out, 1); break;
        }
        return;
    }
    switch (col) {
    case SRC: hq_cell_object_id(out, d, edge_source(cur, row)); break;
    case DST: {
        uint32_t o = hd_edge_target(d, row);
        if (o < hd_object_count(d))
            hq_cell_int(out, hq_id(hq_object_ids(c)[o]));
        else
            hq_cell_null(out);
        break;
    }
    case NAME: {
        const char *name = hd_edge_name(d, row);
        hq_cell_text(out, name[0] ? name : NULL);
        break;
    }
    default: hq_cell_int(out, 0); break;
    }
}

/* A name's CSV cell, kept for the next references of that name: a dump has few field names,
 * met again and again. Plain: the text needs no quotes and fits the padded copy (other names are
 * quoted anew each row). An empty name is plain and writes nothing: refs.name is NULL then. */
typedef struct name_cell {
    const char *name; /* NULL: the slot is empty */
    size_t len;
    bool plain;
    char text[HQ_CELL_COPY];
} name_cell;

#define NAME_CELLS 64 /* direct-mapped by the name's address */

/* An export's rows [first, first + n) of strong references, their cells gathered by refs_stage:
 * the destination ids (NULL where the target is no object), the source ids and the names; and
 * for refs_csv_row, the last source's id with its cell, and the names' cells. */
typedef struct staged_rows {
    uint64_t first, n;
    bool dst_null[HQ_STAGE_ROWS];
    uint64_t dst[HQ_STAGE_ROWS], src[HQ_STAGE_ROWS];
    const char *name[HQ_STAGE_ROWS];
    uint64_t src_id;
    size_t src_len; /* 0: no source's cell yet */
    char src_cell[HQ_CELL_COPY];
    name_cell names[NAME_CELLS];
} staged_rows;

/* A strong reference's row: its source is the owner of the edge range holding it, which a
 * scan finds where the last row's was (cur->hint) until the range ends; weak rows as columns.
 * An export's rows come staged. */
static void refs_row(hq_cursor *cur, uint64_t row, hq_cell *cells)
{
    const staged_rows *staged = cur->data; /* only refs_stage sets it */
    if (staged && row - staged->first < staged->n) {
        uint64_t k = row - staged->first;
        hq_cell_int(&cells[SRC], hq_id(staged->src[k]));
        if (staged->dst_null[k])
            hq_cell_null(&cells[DST]);
        else
            hq_cell_int(&cells[DST], hq_id(staged->dst[k]));
        hq_cell_text(&cells[NAME], staged->name[k][0] ? staged->name[k] : NULL);
        hq_cell_int(&cells[WEAK], 0);
        return;
    }
    hq_context *c = cur->ctx;
    const hd_dump *d = c->d;
    if (row >= hd_edge_count(d)) {
        for (int col = SRC; col <= WEAK; col++)
            refs_column(cur, row, col, &cells[col]);
        return;
    }
    const uint32_t *off = hd_edge_offsets(d);
    uint32_t n = hd_object_count(d), src = cur->hint;
    if (!(src < n && off[src] <= row && row < off[src + 1]))
        src = edge_source(cur, row);
    const uint64_t *ids = hq_object_ids(c);
    uint32_t dst = hd_edge_targets(d)[row];
    const char *name = hd_edge_name(d, row);
    hq_cell_int(&cells[SRC], hq_id(ids[src]));
    if (dst < n)
        hq_cell_int(&cells[DST], hq_id(ids[dst]));
    else
        hq_cell_null(&cells[DST]);
    hq_cell_text(&cells[NAME], name[0] ? name : NULL);
    hq_cell_int(&cells[WEAK], 0);
}

/* The destination's id: edges point anywhere in the id array, so a scan waits for each. */
static void refs_prefetch(hq_context *c, uint64_t row)
{
    if (row < hd_edge_count(c->d))
        __builtin_prefetch(&hq_object_ids(c)[hd_edge_targets(c->d)[row]]);
}

/* The cells of the strong references among rows [row, end), in tight loops: the destination
 * ids fetched a few dozen ahead (on a 10M-object dump the prefetch a row, refs_prefetch, still
 * waited out most of a miss per row, a third of writing refs), the sources by walking the edge
 * ranges, which a row at a time cost a range check and a few calls each. The cursor of an
 * export is its own: its data holds them (freed with it). */
static bool refs_stage(hq_cursor *cur, uint64_t row, uint64_t end)
{
    hq_context *c = cur->ctx;
    const hd_dump *d = c->d;
    uint64_t edges = hd_edge_count(d);
    if (!cur->data) {
        cur->data = calloc(1, sizeof(staged_rows));
        cur->free_data = cur->data ? free : NULL;
    }
    staged_rows *staged = cur->data;
    if (!staged)
        return false;
    end = end < edges ? end : edges;
    staged->first = row;
    staged->n = row < end ? end - row : 0;
    const uint64_t *ids = hq_object_ids(c);
    const uint32_t *targets = hd_edge_targets(d), *off = hd_edge_offsets(d);
    uint32_t n = hd_object_count(d);
    for (uint64_t e = row; e < end; e++) {
        if (e + 32 < end && targets[e + 32] < n)
            __builtin_prefetch(&ids[targets[e + 32]]);
        staged->dst_null[e - row] = targets[e] >= n;
        staged->dst[e - row] = targets[e] < n ? ids[targets[e]] : 0;
    }
    uint32_t src = row < end ? edge_source(cur, row) : 0;
    for (uint64_t e = row; e < end; e++) {
        while (off[src + 1] <= e) /* the next range that is not empty */
            src++;
        staged->src[e - row] = ids[src];
        staged->name[e - row] = hd_edge_name(d, e);
    }
    return true;
}

/* The name's cell slot, filled when it held another name. */
static const name_cell *name_cell_of(staged_rows *staged, const char *name)
{
    name_cell *c = &staged->names[((uintptr_t)name >> 2) % NAME_CELLS];
    if (c->name != name) {
        c->name = name;
        c->len = strlen(name);
        c->plain = hq_csv_plain_short(name, c->len);
        if (c->plain)
            memcpy(c->text, name, c->len);
    }
    return c;
}

/* A staged row as CSV: "dump,src,dst,name,0". The source's cell is formatted once for all its
 * references (they are consecutive), the names' cells once for the scan. */
static bool refs_csv_row(hq_cursor *cur, uint64_t row, const hq_dump_cell *dump, hq_sink *out)
{
    staged_rows *staged = cur->data;
    if (!staged || row - staged->first >= staged->n)
        return false;
    uint64_t k = row - staged->first;
    const name_cell *name = name_cell_of(staged, staged->name[k]);
    /* each padded copy may write HQ_CELL_COPY bytes; the destination's separator and id take 21
     * at most, the name quoted twice its length and two, the row's end 4 */
    size_t room = (dump->len > HQ_CELL_COPY ? dump->len : HQ_CELL_COPY) + 3 * HQ_CELL_COPY + 2 * name->len + 32;
    if (out->cap - out->len < room)
        return false;
    if (staged->src[k] != staged->src_id || !staged->src_len) {
        staged->src_cell[0] = ',';
        staged->src_id = staged->src[k];
        staged->src_len = (size_t)(hq_decimal_at(staged->src_cell + 1, hq_id(staged->src_id)) - staged->src_cell);
    }
    char *p = hq_dump_cell_at(out->buf + out->len, dump);
    memcpy(p, staged->src_cell, HQ_CELL_COPY);
    p += staged->src_len;
    *p++ = ',';
    if (!staged->dst_null[k])
        p = hq_decimal_at(p, hq_id(staged->dst[k]));
    *p++ = ',';
    if (name->plain)
        memcpy(p, name->text, HQ_CELL_COPY), p += name->len;
    else
        p = hq_csv_text_at(p, (const unsigned char *)name->name, name->len);
    memcpy(p, ",0\r\n", 4);
    out->len = (size_t)(p + 4 - out->buf);
    return true;
}

const hq_table hq_refs_table = {
    .name = "refs",
    .columns = "src INTEGER, dst INTEGER, name TEXT, weak INTEGER",
    .lookups = {SRC + 1, DST + 1, -1},
    .filter = refs_filter,
    .column = refs_column,
    .row = refs_row,
    .count = refs_count,
    .prefetch = refs_prefetch,
    .stage = refs_stage,
    .csv_row = refs_csv_row,
};
