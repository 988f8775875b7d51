/* analysis_output.c: object references, edge labels, tables and id arguments for the analysis
 * commands. Everything printed from a dump goes through print_escaped or print_cell. */
#include "analysis.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A label that already carries its quotes (a Python str's repr) is shown as it is. */
static bool quoted(const char *label)
{
    size_t n = strlen(label);
    return n >= 2 && (label[0] == '\'' || label[0] == '"') && label[n - 1] == label[0];
}

char *objref(const hd_dump *d, uint32_t o, bool with_label)
{
    const char *label = with_label ? hd_object_label(d, o) : NULL;
    const char *type = hd_type_name(d, hd_object_type(d, o));
    if (label)
        return xasprintf(quoted(label) ? "%s#%" PRIu64 " %s" : "%s#%" PRIu64 " '%s'", type, hd_object_id(d, o),
                         label);
    return xasprintf("%s#%" PRIu64, type, hd_object_id(d, o));
}

char *edge_label(const char *name)
{
    if (!name[0])
        return xasprintf("<key>");
    if (name[0] == '[' || name[0] == '.')
        return xasprintf("%s", name);
    bool ident = isalpha((unsigned char)name[0]) || name[0] == '_';
    for (const char *p = name; ident && *p; p++)
        ident = isalnum((unsigned char)*p) || *p == '_';
    return ident ? xasprintf(".%s", name) : xasprintf("[%s]", name);
}

char *edge_label_of(const hd_dump *d, uint64_t e)
{
    const char *label = hd_object_label(d, hd_edge_target(d, e));
    if (hd_edge_name(d, e)[0] || !label)
        return edge_label(hd_edge_name(d, e));
    return xasprintf(quoted(label) ? "<key %s>" : "<key '%s'>", label);
}

char *root_label(const hd_dump *d, uint32_t r)
{
    const char *name = hd_root_name(d, r);
    size_t n = strlen(name);
    if (hd_root_kind(d, r) == HD_ROOT_NAMED && n > 2 && name[0] == '(' && name[n - 1] == ')')
        return xasprintf("%s", name); /* V8's synthetic roots: "(GC roots)" */
    if (name[0])
        return xasprintf("[%s '%s']", hd_root_kind_name(d, r), name);
    return xasprintf("[%s]", hd_root_kind_name(d, r));
}

const char *state_word(enum hd_reach_state s)
{
    switch (s) {
    case HD_REACH_LIVE: return "reachable";
    case HD_REACH_UNCOLLECTABLE: return "uncollectable";
    default: return "garbage";
    }
}

void jw_objref(json_writer *w, const hd_dump *d, uint32_t o)
{
    jw_object_begin(w);
    jw_key(w, "id");
    jw_uint(w, hd_object_id(d, o));
    jw_key(w, "type");
    jw_string(w, hd_type_name(d, hd_object_type(d, o)));
    const char *label = hd_object_label(d, o);
    if (label) {
        jw_key(w, "label");
        jw_string(w, label);
    }
    jw_object_end(w);
}

void jw_root(json_writer *w, const hd_dump *d, uint32_t r)
{
    jw_object_begin(w);
    jw_key(w, "kind");
    jw_string(w, hd_root_kind_name(d, r));
    if (hd_root_name(d, r)[0]) {
        jw_key(w, "name");
        jw_string(w, hd_root_name(d, r));
    }
    jw_object_end(w);
}

bool parse_object_id(const command *cmd, const char *text, object_id *id)
{
    const char *hash = strrchr(text, '#');
    const char *digits = hash ? hash + 1 : text[0] == '@' ? text + 1 : text;
    id->type = hash && hash > text ? text : NULL;
    id->type_len = id->type ? (size_t)(hash - text) : 0;
    if (*digits >= '0' && *digits <= '9') {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(digits, &end, 10);
        if (*end == '\0' && errno == 0) {
            id->id = v;
            return true;
        }
    }
    usage_error(cmd, "%s: '%s' is not an object id (a number, TYPE#NUMBER or @NUMBER)", cmd->name, text);
    return false;
}

uint32_t find_object_or_report(const char *cmd, const hd_dump *d, const char *path, const object_id *id)
{
    uint32_t o = hd_object_find(d, id->id);
    if (o == HD_NONE) {
        fprintf(stderr, "heaptool: %s: no object with id %" PRIu64 " in '", cmd, id->id);
        print_escaped(stderr, path);
        fputs("'\n", stderr);
        return HD_NONE;
    }
    if (id->type && !type_name_matches(d, id->type, id->type_len, hd_object_type(d, o))) {
        char *given = xasprintf("%.*s", (int)id->type_len, id->type);
        fprintf(stderr, "heaptool: %s: object %" PRIu64 " is of type '", cmd, id->id);
        print_escaped(stderr, hd_type_name(d, hd_object_type(d, o)));
        fputs("', not '", stderr);
        print_escaped(stderr, given);
        fputs("'\n", stderr);
        free(given);
        return HD_NONE;
    }
    return o;
}

const char *fmt_u64(uint64_t v, char *buf)
{
    snprintf(buf, 32, "%" PRIu64, v);
    return buf;
}

const char *fmt_delta(int64_t v, char *buf)
{
    snprintf(buf, 32, v > 0 ? "+%" PRId64 : "%" PRId64, v);
    return buf;
}

const char *fmt_size_change(uint64_t before, uint64_t after, char *buf)
{
    char h[16];
    uint64_t mag = after >= before ? after - before : before - after;
    snprintf(buf, 32, "%s%s", after > before ? "+" : after < before ? "-" : "", human_size(mag, h));
    return buf;
}

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
