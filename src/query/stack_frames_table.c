/* stack_frames_table.c: stack_frames(stack, depth, frame), the frames of every call stack of
 * the dump, one row per frame: stack is a stack node id (what sites.stack_id holds), depth 0 its
 * innermost frame (the allocation's caller), depth 1 that frame's caller, and so on outwards;
 * frame joins frames.id. Each node of the dump's stack tree names the stack from it outwards,
 * so the rows of node n are the nodes from n up its parents: rows [stack_rows[n],
 * stack_rows[n + 1]) in node order.
 *
 * Lookup: stack = ? reads that node's rows.
 */
#include "query_internal.h"

enum { STACK, DEPTH, FRAME };

static uint64_t stack_frames_count(hq_context *c)
{
    const uint64_t *rows = hq_stack_rows(c);
    return rows ? rows[hd_stack_count(c->d)] : 0;
}

static int stack_frames_filter(hq_cursor *cur, int how, sqlite3_value *v)
{
    (void)how;
    hq_context *c = cur->ctx;
    const hq_id_index *index = hq_stacks_by_id(c);
    const uint64_t *rows = hq_stack_rows(c);
    if (!index || !rows)
        return hq_out_of_memory(cur);
    uint32_t n = hq_index_find(index, hd_stack_count(c->d), v);
    if (n != HD_NONE) {
        cur->row = rows[n];
        cur->end = rows[n + 1];
    }
    return SQLITE_OK;
}

static void stack_frames_column(hq_cursor *cur, uint64_t row, int col, hq_cell *out)
{
    const hd_dump *d = cur->ctx->d;
    const uint64_t *rows = cur->ctx->stack_rows; /* built by count or filter */
    hq_ranges nodes = {NULL, rows, hd_stack_count(d)};
    uint32_t n = hq_range_owner(&nodes, row, &cur->hint);
    uint64_t depth = row - rows[n];
    if (col == STACK) {
        hq_cell_int(out, hq_id(hd_stack_id(d, n)));
    } else if (col == DEPTH) {
        hq_cell_int(out, (sqlite3_int64)depth);
    } else { /* a scan asks for depth k + 1 right after k: one step up from there */
        bool next = cur->walk_row + 1 == row && row > rows[n];
        uint32_t at = next ? hd_stack_parent(d, cur->walk_at) : n;
        for (uint64_t k = 0; !next && k < depth; k++)
            at = hd_stack_parent(d, at);
        cur->walk_row = row;
        cur->walk_at = at;
        hq_cell_int(out, hq_id(hd_frame_id(d, hd_stack_frame(d, at))));
    }
}

const hq_table hq_stack_frames_table = {
    .name = "stack_frames",
    .columns = "stack INTEGER, depth INTEGER, frame INTEGER",
    .lookups = {STACK + 1, -1},
    .filter = stack_frames_filter,
    .column = stack_frames_column,
    .count = stack_frames_count,
};
