/* export_rows.c: one table's rows written straight from the dump as CSV or JSON lines, as
 * query --csv would print SELECT 'dump name' AS dump, * FROM table, without SQLite between: an
 * export writes hundreds of millions of cells, and each through SQLite's virtual machine cost
 * several times writing it. The cells come from the table's own column function and go through
 * row_format.c's writers, so the files are those a statement would give, byte for byte; a table
 * may write its CSV rows itself (csv_row), the same bytes (test_query.py holds them to it).
 */
#include "query_internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_COLUMNS 32

/* The declared column names ("id INTEGER, type TEXT" gives id, type) into names, which holds
 * room for each name in turn; returns how many. */
static int column_names(const char *columns, char names[][32])
{
    int n = 0;
    for (const char *p = columns; *p && n < MAX_COLUMNS; n++) {
        size_t len = strcspn(p, " ,");
        snprintf(names[n], sizeof names[n], "%.*s", (int)len, p);
        p += strcspn(p, ",");
        p += strspn(p, ", ");
    }
    return n;
}

static void write_header(hq_sink *out, bool csv, char names[][32], int n)
{
    if (!csv)
        return;
    hq_puts(out, "dump");
    for (int i = 0; i < n; i++) {
        hq_putc(out, ',');
        hq_write_csv_text(out, (const unsigned char *)names[i], strlen(names[i]));
    }
    hq_puts(out, "\r\n");
}

static void write_text(hq_sink *out, bool csv, const char *s)
{
    if (csv)
        hq_write_csv_text(out, (const unsigned char *)s, strlen(s));
    else
        hq_write_json_text(out, (const unsigned char *)s, strlen(s));
}

/* The dump column's cell as written, quoted or escaped once for every row: into a sink over
 * a buffer big enough for any escaping (JSON's six bytes a byte at most), never flushed, and
 * at least HQ_CELL_COPY long (zeroed past the cell). */
static bool dump_cell(const char *name, bool csv, hq_dump_cell *out)
{
    hq_sink cell = {.cap = 6 * strlen(name) + HQ_CELL_COPY};
    if (!(cell.buf = calloc(1, cell.cap)))
        return false;
    write_text(&cell, csv, name);
    out->text = cell.buf;
    out->len = cell.len;
    return true;
}

/* One cell after its separator (CSV) or its name (JSON); false when it ran out of memory. */
static bool write_cell(hq_sink *out, bool csv, const char *name, const hq_cell *cell)
{
    if (csv) {
        hq_putc(out, ',');
    } else {
        hq_puts(out, ", \"");
        hq_puts(out, name);
        hq_puts(out, "\": ");
    }
    switch (cell->kind) {
    case HQ_CELL_NULL:
        if (!csv)
            hq_puts(out, "null");
        return true;
    case HQ_CELL_INT: hq_put_decimal(out, cell->i); return true;
    case HQ_CELL_TEXT: write_text(out, csv, cell->text); return true;
    default: return false;
    }
}

/* A CSV row from the row function's cells, written straight into the buffer while it surely
 * has room (a decimal takes at most 20 bytes, a text at most twice its length and two quotes):
 * one check a cell rather than one a piece. false, with nothing kept (bytes past the buffer's
 * length may be written, its length is untouched), when the room may run out or a cell ran out
 * of memory. */
static bool csv_row_at(hq_sink *out, const hq_cell *cells, int n, const hq_dump_cell *dump)
{
    char *p = out->buf + out->len, *end = out->buf + out->cap;
    if ((size_t)(end - p) < HQ_CELL_COPY + dump->len + 2)
        return false;
    p = hq_dump_cell_at(p, dump);
    for (int i = 0; i < n; i++) {
        if (end - p < 23) /* the separator, then a decimal and the row's end */
            return false;
        *p++ = ',';
        if (cells[i].kind == HQ_CELL_INT) {
            p = hq_decimal_at(p, cells[i].i);
        } else if (cells[i].kind == HQ_CELL_TEXT) {
            size_t len = strlen(cells[i].text);
            if ((size_t)(end - p) < 2 * len + 4)
                return false;
            p = hq_csv_text_at(p, (const unsigned char *)cells[i].text, len);
        } else if (cells[i].kind != HQ_CELL_NULL) {
            return false;
        }
    }
    *p++ = '\r';
    *p++ = '\n';
    out->len = (size_t)(p - out->buf);
    return true;
}

/* One row: the dump's name, then each column, from the table's row function when it has one
 * (its cells are valid together), else cell by cell (each read before the next is asked for);
 * false when a column ran out of memory. */
static bool write_row(hq_cursor *cur, const hq_table *t, uint64_t row, bool csv, char names[][32],
                      int n, const hq_dump_cell *dump, hq_sink *out)
{
    if (csv && t->csv_row && t->csv_row(cur, row, dump, out))
        return true;
    hq_cell cells[MAX_COLUMNS];
    if (t->row) {
        t->row(cur, row, cells);
        if (csv && csv_row_at(out, cells, n, dump))
            return true;
    }
    if (!csv)
        hq_puts(out, "{\"dump\": ");
    hq_put(out, dump->text, dump->len);
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        if (!t->row)
            t->column(cur, row, i, &cells[0]);
        ok = write_cell(out, csv, names[i], &cells[t->row ? i : 0]);
    }
    hq_puts(out, csv ? "\r\n" : "}\n");
    return ok;
}

int hq_export_rows(hq_context *c, const hq_table *t, bool csv, hq_sink *out)
{
    char names[MAX_COLUMNS][32];
    int n = column_names(t->columns, names);
    hq_dump_cell dump = {NULL, 0};
    if (!dump_cell(c->dump_name, csv, &dump) || !hq_prepare(c, hq_table_analyses(t, UINT64_MAX))) {
        free(dump.text);
        return SQLITE_NOMEM;
    }
    hq_cursor cur;
    hq_cursor_init(&cur, c);
    uint64_t rows = t->count(c);
    int rc = SQLITE_OK;
    write_header(out, csv, names, n);
    for (uint64_t row = 0; row < rows && rc == SQLITE_OK && !out->failed; row++) {
        if (t->stage && row % HQ_STAGE_ROWS == 0)
            t->stage(&cur, row, rows - row < HQ_STAGE_ROWS ? rows : row + HQ_STAGE_ROWS);
        else if (!t->stage && t->prefetch && row + HQ_PREFETCH_AHEAD < rows)
            t->prefetch(c, row + HQ_PREFETCH_AHEAD);
        if (!write_row(&cur, t, row, csv, names, n, &dump, out))
            rc = SQLITE_NOMEM;
    }
    hq_cursor_clear(&cur);
    free(dump.text);
    return rc == SQLITE_OK && out->failed ? SQLITE_IOERR : rc;
}
