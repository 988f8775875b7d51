/* query_table.c: a statement's rows as an aligned table for people, the way the other commands
 * print: a header, columns two spaces apart, numbers right-aligned, and integers in a column
 * whose name says size or retained shown as human sizes ("1.5 KiB"; --csv and --json give the
 * bytes). NULL shows as nothing; text from the dump is escaped for the terminal. */
#include "query_run.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct cells {
    char **text;  /* row-major, ncols per row */
    size_t n, cap;
} cells;

static bool push(cells *c, const char *s)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        char **more = realloc(c->text, cap * sizeof *more);
        if (!more)
            return false;
        c->text = more;
        c->cap = cap;
    }
    c->text[c->n] = strdup(s);
    return c->text[c->n++] != NULL;
}

static bool is_size_column(const char *name)
{
    char lower[64];
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    lower[i] = '\0';
    return (strstr(lower, "size") || strstr(lower, "retained")) && !strstr(lower, "human_size(");
}

static const char *cell_text(sqlite3_stmt *st, int i, bool size_column, char *buf)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: return "";
    case SQLITE_INTEGER:
        if (size_column)
            return hq_human_size(sqlite3_column_int64(st, i), buf);
        return (const char *)sqlite3_column_text(st, i);
    default: return (const char *)sqlite3_column_text(st, i);
    }
}

/* Prints one row's cells into a line, then the line without the padding at its end. */
static void print_row(char *const *row, int ncols, const size_t *width, const bool *numeric,
                      char **line, size_t *len, FILE *out)
{
    FILE *mem = open_memstream(line, len);
    if (!mem)
        return;
    for (int col = 0; col < ncols; col++) {
        print_cell(mem, row[col], width[col], numeric[col]);
        if (col + 1 < ncols)
            fputs("  ", mem);
    }
    fclose(mem);
    while (*len && (*line)[*len - 1] == ' ')
        (*line)[--*len] = '\0';
    fprintf(out, "%s\n", *line);
}

static void print_table(const cells *c, int ncols, const bool *numeric, FILE *out)
{
    size_t *width = calloc((size_t)ncols, sizeof *width), len = 0;
    char *line = NULL;
    if (!width)
        return;
    for (size_t k = 0; k < c->n; k++) {
        size_t w = escaped_width(c->text[k]);
        if (w > width[k % (size_t)ncols])
            width[k % (size_t)ncols] = w;
    }
    for (size_t k = 0; k < c->n; k += (size_t)ncols) {
        print_row(c->text + k, ncols, width, numeric, &line, &len, out);
        free(line);
        line = NULL;
    }
    free(width);
}

int query_print_table(sqlite3_stmt *st, FILE *out)
{
    int ncols = sqlite3_column_count(st), rc;
    if (ncols == 0) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        return rc;
    }
    cells c = {0};
    bool *numeric = malloc((size_t)ncols * sizeof *numeric), *sized = malloc((size_t)ncols * sizeof *sized);
    bool ok = numeric && sized;
    for (int i = 0; ok && i < ncols; i++) {
        numeric[i] = true;
        sized[i] = is_size_column(sqlite3_column_name(st, i));
        ok = push(&c, sqlite3_column_name(st, i));
    }
    size_t rows = 0;
    while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; ok && i < ncols; i++) {
            char buf[16];
            int type = sqlite3_column_type(st, i);
            numeric[i] &= type == SQLITE_INTEGER || type == SQLITE_FLOAT || type == SQLITE_NULL;
            const char *text = cell_text(st, i, sized[i], buf);
            ok = push(&c, text ? text : "");
        }
        rows++;
    }
    if (!ok)
        rc = SQLITE_NOMEM;
    else if (rc == SQLITE_DONE && rows == 0)
        fputs("no rows\n", out);
    else if (rc == SQLITE_DONE)
        print_table(&c, ncols, numeric, out);
    for (size_t k = 0; k < c.n; k++)
        free(c.text[k]);
    free(c.text);
    free(numeric);
    free(sized);
    return rc;
}
