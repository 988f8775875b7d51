/* table.c: aligned text tables (cells copied, widths measured as the terminal shows them), and
 * the per-type table that leaks, cycles and diff share, as text and as JSON. */
#include "analysis.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>

void table_init(table *t, size_t ncols, const char *const *heads, const char *align)
{
    *t = (table){ncols, 0, 0, heads, align, NULL};
}

void table_row(table *t, ...)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->cells = xrealloc(t->cells, t->cap * t->ncols * sizeof *t->cells);
    }
    va_list ap;
    va_start(ap, t);
    for (size_t c = 0; c < t->ncols; c++)
        t->cells[t->nrows * t->ncols + c] = xasprintf("%s", va_arg(ap, const char *));
    va_end(ap);
    t->nrows++;
}

void table_print(const table *t, FILE *out, const char *indent)
{
    size_t *w = xcalloc(t->ncols, sizeof *w);
    for (size_t c = 0; c < t->ncols; c++) {
        w[c] = t->heads ? escaped_width(t->heads[c]) : 0;
        for (size_t r = 0; r < t->nrows; r++) {
            size_t x = escaped_width(t->cells[r * t->ncols + c]);
            w[c] = x > w[c] ? x : w[c];
        }
    }
    for (size_t r = t->heads ? 0 : 1; r <= t->nrows; r++) {
        fputs(indent, out);
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = r ? t->cells[(r - 1) * t->ncols + c] : t->heads[c];
            bool last = c + 1 == t->ncols;
            if (c)
                fputs("  ", out);
            if (last && t->align[c] != 'r')
                print_escaped(out, s); /* no trailing blanks */
            else
                print_cell(out, s, w[c], t->align[c] == 'r');
        }
        fputc('\n', out);
    }
    free(w);
}

void table_free(table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrows = t->cap = 0;
}

void print_type_table(FILE *out, const hd_dump *d, const hd_type_stat *st, uint32_t n, uint64_t top,
                      const char *indent)
{
    static const char *const heads[] = {"type", "count", "size"};
    uint32_t shown = 0, visible = 0;
    table t;
    table_init(&t, 3, heads, "lrr");
    char a[32], b[16];
    for (uint32_t i = 0; i < n; i++) {
        if (hidden_type(d, st[i].type))
            continue;
        visible++;
        if (top && shown >= top)
            continue;
        shown++;
        table_row(&t, hd_type_name(d, st[i].type), fmt_u64(st[i].count, a), human_size(st[i].size, b));
    }
    table_print(&t, out, indent);
    table_free(&t);
    if (shown < visible)
        fprintf(out, "%s... %" PRIu32 " more type%s\n", indent, visible - shown, visible - shown == 1 ? "" : "s");
    if (visible < n)
        fprintf(out, "%s(%" PRIu32 " V8 internal type%s left out; --internals shows them)\n", indent, n - visible,
                n - visible == 1 ? "" : "s");
}

void jw_type_stats(json_writer *w, const hd_dump *d, const hd_type_stat *st, uint32_t n, uint64_t top)
{
    uint32_t shown = top == 0 || top > n ? n : (uint32_t)top;
    jw_array_begin(w);
    for (uint32_t i = 0; i < shown; i++) {
        jw_object_begin(w);
        jw_key(w, "type");
        jw_string(w, hd_type_name(d, st[i].type));
        jw_key(w, "count");
        jw_uint(w, st[i].count);
        jw_key(w, "size");
        jw_uint(w, st[i].size);
        jw_object_end(w);
    }
    jw_array_end(w);
}
