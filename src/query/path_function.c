/* path_function.c: path_to_root(id), one shortest chain of strong references from a root to the
 * object (heaptool path): rows (hop, edge, object, type), hop 0 the root object with edge NULL,
 * the last hop the object itself. No rows when no root reaches it. */
#include "query_internal.h"

enum { HOP, EDGE, OBJECT, TYPE, OF };

static void free_path(void *p) { hd_path_free(p); }

static int path_filter(hq_cursor *cur, int how, sqlite3_value *v)
{
    (void)how;
    hq_context *c = cur->ctx;
    uint32_t o = hq_value_object(c->d, v);
    if (o == HD_NONE)
        return SQLITE_OK;
    hd_path *path = NULL;
    /* The whole breadth-first forest costs about one search (a search for a far object sees
     * most of the heap), and then every path is a walk up it. */
    const hd_reach *reach = hq_reach(c);
    if (!reach || hd_path_from_reach(c->d, reach, o, &path) != HD_OK)
        return hq_out_of_memory(cur);
    cur->data = path;
    cur->free_data = free_path;
    cur->end = path->nhops;
    return SQLITE_OK;
}

static void path_column(hq_cursor *cur, uint64_t row, int col, hq_cell *out)
{
    const hd_dump *d = cur->ctx->d;
    const hd_path_hop *hop = &((const hd_path *)cur->data)->hops[row];
    switch (col) {
    case HOP: hq_cell_int(out, (sqlite3_int64)row); break;
    case EDGE:
        if (hop->edge == HD_NONE)
            hq_cell_null(out);
        else
            hq_cell_text(out, hd_edge_name(d, hop->edge));
        break;
    case OBJECT: hq_cell_object_id(out, d, hop->object); break;
    case TYPE: hq_cell_text(out, hd_type_name(d, hd_object_type(d, hop->object))); break;
    default: hq_cell_null(out); break;
    }
}

const hq_table hq_path_function = {
    .name = "path_to_root",
    .columns = "hop INTEGER, edge TEXT, object INTEGER, type TEXT, of HIDDEN",
    .lookups = {OF + 1, -1},
    .nargs = 1,
    .filter = path_filter,
    .column = path_column,
};
