/* dot.c: a graph from graph.c as DOT text with objgraph's look. No Graphviz here: this is text.
 *
 * Invariant: every byte that comes from the dump goes through put_text, which writes it inside a
 * double-quoted DOT string so that Graphviz shows it literally: no byte of a dump can end the
 * string, start an escape Graphviz interprets (\N, \n, \l, entities) or add an attribute.
 */
#include "analysis.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_MAX 40 /* objgraph's short repr: longer text is cut to 37 characters and "..." */

/* Length of a printable UTF-8 sequence at s (not C0/C1 control, overlong or surrogate), or 0. */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] >= 0x20 && s[0] < 0x7f)
        return 1;
    int n = s[0] >= 0xF0 && s[0] < 0xF5 ? 4 : s[0] >= 0xE0 ? (s[0] < 0xF0 ? 3 : 0) : s[0] >= 0xC2 ? 2 : 0;
    if (!n)
        return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    uint32_t cp = n == 2   ? (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F)
                  : n == 3 ? (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F)
                           : (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
                                 (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
    if ((n == 2 && cp < 0xA0) || (n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    return (size_t)n;
}

/* One displayed unit at p: its byte length in the input and its width in characters shown (a
 * byte shown as \xNN is 4). Writes it when out is set. */
static size_t put_unit(FILE *out, const unsigned char *p, size_t *width)
{
    size_t n = utf8_len(p);
    *width = n ? 1 : 4;
    if (!out)
        return n ? n : 1;
    if (!n) {
        fprintf(out, "\\\\x%02x", *p); /* DOT \\ is one shown backslash */
        return 1;
    }
    switch (*p) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '&': fputs("&amp;", out); break; /* Graphviz expands entities even in plain labels */
    case '<': fputs("&lt;", out); break;
    case '>': fputs("&gt;", out); break;
    case '{': case '}': case '|': /* record-shape syntax: escaped so the text stays literal anywhere */
        fputc('\\', out);
        fputc(*p, out);
        break;
    default: fwrite(p, 1, n, out);
    }
    return n;
}

/* Dump text inside a quoted DOT string, cut to LABEL_MAX shown characters. */
static void put_text(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t total = 0, w;
    for (const unsigned char *q = p; *q && total <= LABEL_MAX;) {
        q += put_unit(NULL, q, &w);
        total += w;
    }
    size_t budget = total > LABEL_MAX ? LABEL_MAX - 3 : LABEL_MAX, shown = 0;
    while (*p) {
        put_unit(NULL, p, &w);
        if (shown + w > budget)
            break;
        p += put_unit(out, p, &w);
        shown += w;
    }
    if (total > LABEL_MAX)
        fputs("...", out);
}

/* objgraph's edge labels: ".field" for identifiers, "[key]" for indices and keys. */
static void put_edge_name(FILE *out, const char *name)
{
    if (!name[0]) {
        fputs("[?]", out);
        return;
    }
    int ident = isalpha((unsigned char)name[0]) || name[0] == '_';
    for (const char *q = name; ident && *q; q++)
        ident = isalnum((unsigned char)*q) || *q == '_';
    if (ident)
        fputc('.', out);
    else if (name[0] != '[' && name[0] != '.')
        fputc('[', out);
    put_text(out, name);
    if (!ident && name[0] != '[' && name[0] != '.')
        fputc(']', out);
}

static void put_node_name(FILE *out, const hd_dump *d, const hd_graph *g, uint32_t n)
{
    if (g->nodes[n].object == HD_NONE)
        fprintf(out, "more%" PRIu32, n);
    else
        fprintf(out, "o%" PRIu64, hd_object_id(d, g->nodes[n].object));
}

/* objgraph's _gradient: start colour at depth 0, end colour at max_depth, HSV. */
static double gradient(double from, double to, uint32_t depth, uint32_t max_depth)
{
    double f = max_depth ? (double)depth / (double)max_depth : 0.0;
    if (f > 1.0)
        f = 1.0;
    return from * (1.0 - f) + to * f;
}

static void put_node(FILE *out, const hd_dump *d, const hd_graph *g, uint32_t n)
{
    const hd_graph_node *node = &g->nodes[n];
    double h = 0.0, s = 0.0, v = gradient(1.0, 0.3, node->depth, g->max_depth);
    fputs("  ", out);
    put_node_name(out, d, g, n);
    fputs(" [label=\"", out);
    if (node->object == HD_NONE) {
        fprintf(out, "%" PRIu32 " more %s%s\"", node->more,
                g->direction == HD_GRAPH_REFERENTS ? "reference" : "referrer", node->more == 1 ? "" : "s");
        s = 1.0;
    } else {
        uint32_t o = node->object;
        put_text(out, hd_type_name(d, hd_object_type(d, o)));
        fprintf(out, "#%" PRIu64, hd_object_id(d, o));
        const char *label = hd_object_label(d, o);
        if (label) {
            fputs("\\n", out);
            put_text(out, label);
        }
        if (node->root != HD_NONE) {
            fputs("\\n[", out);
            put_text(out, hd_root_kind_name(d, node->root));
            const char *name = hd_root_name(d, node->root);
            if (name[0]) {
                fputs(" '", out);
                put_text(out, name);
                fputc('\'', out);
            }
            fputc(']', out);
        }
        if (node->flags & HD_GNODE_FINALIZER)
            fputs(node->flags & HD_GNODE_LEGACY_FINALIZER ? "\\nlegacy finalizer" : "\\nfinalizer", out);
        fputc('"', out);
        if (node->flags & HD_GNODE_HIGHLIGHT)
            s = gradient(1.0, 0.0, node->depth, g->max_depth);
        if (node->flags & HD_GNODE_ROOT) { /* objgraph paints modules green; paler, for the red text */
            h = 0.3;
            s = 0.45;
        }
    }
    fprintf(out, ", fillcolor=\"%.3f,%.3f,%.3f\"", h, s, v);
    if (node->flags & HD_GNODE_START)
        fputs(", fontcolor=red", out);
    if (node->flags & HD_GNODE_ROOT)
        fputs(", peripheries=2", out);
    if (node->flags & HD_GNODE_FINALIZER)
        fputs(", color=darkorange, penwidth=2", out);
    fputs("];\n", out);
}

static void put_edge(FILE *out, const hd_dump *d, const hd_graph *g, const hd_graph_edge *e)
{
    fputs("  ", out);
    put_node_name(out, d, g, e->from);
    fputs(" -> ", out);
    put_node_name(out, d, g, e->to);
    switch (e->kind) {
    case HD_GEDGE_STRONG:
        fputs(" [label=\"", out);
        put_edge_name(out, hd_edge_name(d, e->ref));
        fputc('"', out);
        if (e->in_cycle)
            fputs(", color=red, fontcolor=red", out);
        fputc(']', out);
        break;
    case HD_GEDGE_WEAK:
        fprintf(out, " [label=\"%s\", style=dashed]",
                hd_weakref_has_callback(d, (uint32_t)e->ref) ? "weak, callback" : "weak");
        break;
    default: fputs(" [style=dotted]", out); break;
    }
    fputs(";\n", out);
}

int hd_dot_write(const hd_dump *d, const hd_graph *g, FILE *out)
{
    if (!d || !g || !out)
        return HD_EINVAL;
    fputs("digraph ObjectGraph {\n"
          "  node [shape=box, style=filled, fillcolor=white];\n", out);
    for (uint32_t n = 0; n < g->nnodes; n++)
        put_node(out, d, g, n);
    for (uint32_t i = 0; i < g->nedges; i++)
        put_edge(out, d, g, &g->edges[i]);
    fputs("}\n", out);
    return ferror(out) ? HD_EIO : HD_OK;
}

int hd_dot_string(const hd_dump *d, const hd_graph *g, char **text, size_t *len)
{
    if (!text || !len)
        return HD_EINVAL;
    *text = NULL;
    *len = 0;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f)
        return HD_ENOMEM;
    int rc = hd_dot_write(d, g, f);
    if (fclose(f) != 0 && !rc)
        rc = HD_ENOMEM;
    if (rc) {
        free(buf);
        return rc == HD_EIO ? HD_ENOMEM : rc;
    }
    *text = buf;
    *len = size;
    return HD_OK;
}
