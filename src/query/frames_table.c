/* frames_table.c: frames(id, function, file, line, module, offset), one row per code location
 * of the dump's call stacks (formats/heapdump.md 5.1); row number = frame index. What the dump
 * leaves out is NULL: a line of 0 (unknown), an offset without a module.
 *
 * Lookup: id = ? by binary search of the frames sorted by id (built on first use).
 */
#include "query_internal.h"

enum { ID, FUNCTION, FILE_, LINE, MODULE, OFFSET };

static uint64_t frames_count(hq_context *c) { return hd_frame_count(c->d); }

static int frames_filter(hq_cursor *cur, int how, sqlite3_value *v)
{
    (void)how;
    const hq_id_index *index = hq_frames_by_id(cur->ctx);
    if (!index)
        return hq_out_of_memory(cur);
    uint32_t f = hq_index_find(index, hd_frame_count(cur->ctx->d), v);
    cur->row = f;
    cur->end = f == HD_NONE ? f : f + 1;
    return SQLITE_OK;
}

static void text_or_null(hq_cell *out, const char *s) { hq_cell_text(out, s[0] ? s : NULL); }

static void frames_column(hq_cursor *cur, uint64_t row, int col, hq_cell *out)
{
    const hd_dump *d = cur->ctx->d;
    uint32_t f = (uint32_t)row;
    switch (col) {
    case ID: hq_cell_int(out, hq_id(hd_frame_id(d, f))); break;
    case FUNCTION: text_or_null(out, hd_frame_function(d, f)); break;
    case FILE_: text_or_null(out, hd_frame_file(d, f)); break;
    case LINE:
        if (hd_frame_line(d, f))
            hq_cell_int(out, hd_frame_line(d, f));
        else
            hq_cell_null(out);
        break;
    case MODULE: text_or_null(out, hd_frame_module(d, f)); break;
    default:
        if (hd_frame_module(d, f)[0])
            hq_cell_int(out, (sqlite3_int64)hd_frame_offset(d, f));
        else
            hq_cell_null(out);
        break;
    }
}

const hq_table hq_frames_table = {
    .name = "frames",
    .columns = "id INTEGER, function TEXT, file TEXT, line INTEGER, module TEXT, offset INTEGER",
    .lookups = {ID + 1, -1},
    .filter = frames_filter,
    .column = frames_column,
    .count = frames_count,
};
