/* sites_table.c: sites(id, file, line, function, count, size, stack_id, stack), one row per
 * allocation site; row number = site index. count and size are those of the objects allocated
 * there (heaptool stats --by site). Where the dump records whole call stacks, stack_id is the
 * site's stack node (it joins stack_frames.stack) and stack its frames as text, innermost
 * first, each as heaptool shows a frame: "xmalloc (util.c:10) <- parse (json.c:12) <- main";
 * both NULL for a site without a stack. */
#include "query_internal.h"

#include <stdlib.h>

enum { ID, FILE_, LINE, FUNCTION, COUNT, SIZE, STACK_ID, STACK };

#define FRAME_SEPARATOR " <- "

static uint64_t sites_count(hq_context *c) { return hd_site_count(c->d); }

/* Sites can be many (one per call stack): a join on site ids looks each up by binary search. */
static int sites_filter(hq_cursor *cur, int how, sqlite3_value *v)
{
    (void)how;
    const hq_id_index *index = hq_sites_by_id(cur->ctx);
    if (!index)
        return hq_out_of_memory(cur);
    uint32_t s = hq_index_find(index, hd_site_count(cur->ctx->d), v);
    cur->row = s;
    cur->end = s == HD_NONE ? s : s + 1;
    return SQLITE_OK;
}

/* Appends frame f's label (and the separator before it unless first) to the cursor's text at
 * *len; false when memory ran out. */
static bool append_frame(hq_cursor *cur, const hd_dump *d, uint32_t f, bool first, size_t *len)
{
    size_t sep = first ? 0 : strlen(FRAME_SEPARATOR);
    size_t need = *len + sep + hd_frame_label(d, f, NULL, 0) + 1;
    if (need > cur->text_cap) {
        size_t cap = need > 2 * cur->text_cap ? need : 2 * cur->text_cap;
        char *more = realloc(cur->text, cap);
        if (!more)
            return false;
        cur->text = more;
        cur->text_cap = cap;
    }
    memcpy(cur->text + *len, FRAME_SEPARATOR, sep);
    *len += sep;
    *len += hd_frame_label(d, f, cur->text + *len, cur->text_cap - *len);
    return true;
}

static void stack_text(hq_cursor *cur, uint32_t stack, hq_cell *out)
{
    const hd_dump *d = cur->ctx->d;
    size_t len = 0;
    for (uint32_t n = stack; n != HD_NONE; n = hd_stack_parent(d, n))
        if (!append_frame(cur, d, hd_stack_frame(d, n), n == stack, &len)) {
            hq_cell_nomem(out);
            return;
        }
    hq_cell_text(out, cur->text);
    out->copy = true;
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
    case STACK_ID:
    case STACK: {
        uint32_t stack = hd_site_stack(d, s);
        if (stack == HD_NONE)
            hq_cell_null(out);
        else if (col == STACK_ID)
            hq_cell_int(out, hq_id(hd_stack_id(d, stack)));
        else
            stack_text(cur, stack, out);
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
    .columns = "id INTEGER, file TEXT, line INTEGER, function TEXT, count INTEGER, size INTEGER, "
               "stack_id INTEGER, stack TEXT",
    .lookups = {ID + 1, -1},
    .filter = sites_filter,
    .column = sites_column,
    .count = sites_count,
};
