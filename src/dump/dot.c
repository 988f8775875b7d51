/* dot.c: a graph from graph.c as DOT text with objgraph's look. No Graphviz here: this is text.
 *
 * Invariant: every byte that comes from the dump goes through put_text, which writes it inside a
 * double-quoted DOT string so that Graphviz shows it literally: no byte of a dump can end the
 * string, start an escape Graphviz interprets (\N, \n, \l, entities) or add an attribute.
 */
#include "analysis.h"
#include "dot_palette.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_MAX 40 /* objgraph's short repr: longer text is cut to 37 characters and "..." */

/* One displayed unit at p: its byte length in the input and its width in characters shown (a
 * byte shown as \xNN is 4). Writes it when out is set. */
static size_t put_unit(FILE *out, const unsigned char *p, size_t *width)
{
    size_t n = hd_utf8_printable_len((const char *)p);
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

/* objgraph's edge labels: ".field" for identifiers, "[key]" for indices and keys; a mapping's
 * reference to a key (no name) is "<key 'k'>" after the key's label, as heaptool's text says. */
static void put_edge_name(FILE *out, const hd_dump *d, uint64_t e)
{
    const char *name = hd_edge_name(d, e);
    if (!name[0]) {
        const char *label = hd_object_label(d, hd_edge_target(d, e));
        size_t n = label ? strlen(label) : 0;
        bool quoted = n >= 2 && (label[0] == '\'' || label[0] == '"') && label[n - 1] == label[0];
        fputs(quoted ? "<key " : label ? "<key '" : "<key", out);
        if (label)
            put_text(out, label);
        fputs(quoted ? ">" : label ? "'>" : ">", out);
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

const hd_dot_palette hd_dot_colors = {
    .background = "#ffffff",
    .fill = {
        [HD_DOT_FILL_OBJECT] = {"#ffffff", "#f0f0f0", "#e0e0e0", "#d0d0d0", "#c4c4c4"},
        [HD_DOT_FILL_ROOT] = {"#e2f5da", "#d4edc8", "#c6e5b6", "#b8dda4", "#aad592"},
        [HD_DOT_FILL_HIGHLIGHT] = {"#ffe0e0", "#fdd4d4", "#fbc8c8", "#f9bcbc", "#f7b0b0"},
        [HD_DOT_FILL_MORE] = {"#fff4cc", "#fcecb8", "#f9e4a4", "#f6dc90", "#f3d47c"},
    },
    .text = {[HD_DOT_TEXT_PLAIN] = "#000000", [HD_DOT_TEXT_START] = "#a00000"},
    .cycle_edge = "#a00000",
    .finalizer_border = "#e07000",
};

/* objgraph's gradient in steps: shade 0 at depth 0, the last shade at max_depth and beyond. */
static const char *fill_of(enum hd_dot_fill fill, uint32_t depth, uint32_t max_depth)
{
    uint64_t shade = HD_DOT_SHADES - 1;
    if (max_depth && depth < max_depth)
        shade = ((uint64_t)depth * (HD_DOT_SHADES - 1) + max_depth / 2) / max_depth;
    else if (!max_depth)
        shade = 0;
    return hd_dot_colors.fill[fill][shade];
}

/* ordered: the node's element edges must be drawn in the order written (Graphviz's
 * ordering=out, per node: on a whole graph it tangles the edges that close cycles). */
static void put_node(FILE *out, const hd_dump *d, const hd_graph *g, uint32_t n, int ordered)
{
    const hd_graph_node *node = &g->nodes[n];
    enum hd_dot_fill fill = HD_DOT_FILL_OBJECT;
    fputs("  ", out);
    put_node_name(out, d, g, n);
    fputs(" [label=\"", out);
    if (node->object == HD_NONE) {
        fprintf(out, "%" PRIu32 " more %s%s\"", node->more,
                g->direction == HD_GRAPH_REFERENTS ? "reference" : "referrer", node->more == 1 ? "" : "s");
        fill = HD_DOT_FILL_MORE;
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
        if (node->flags & HD_GNODE_ROOT)
            fill = HD_DOT_FILL_ROOT;
        else if (node->flags & HD_GNODE_HIGHLIGHT)
            fill = HD_DOT_FILL_HIGHLIGHT;
    }
    fprintf(out, ", fillcolor=\"%s\"", fill_of(fill, node->depth, g->max_depth));
    if (node->flags & HD_GNODE_START)
        fprintf(out, ", fontcolor=\"%s\"", hd_dot_colors.text[HD_DOT_TEXT_START]);
    if (node->flags & HD_GNODE_ROOT)
        fputs(", peripheries=2", out);
    if (node->flags & HD_GNODE_FINALIZER)
        fprintf(out, ", color=\"%s\", penwidth=2", hd_dot_colors.finalizer_border);
    if (ordered)
        fputs(", ordering=out", out);
    fputs("];\n", out);
}

/* --- edges: array elements in index order, parallel edges as one ----------------------------- */

/* An element index ("3" or "[3]"): 1 and *index set, else 0. */
static int element_index(const char *name, uint64_t *index)
{
    const char *p = name[0] == '[' ? name + 1 : name;
    size_t digits = strspn(p, "0123456789");
    if (!digits || digits > 19 || strcmp(p + digits, name[0] == '[' ? "]" : ""))
        return 0;
    *index = strtoull(p, NULL, 10);
    return 1;
}

/* A sort key: edges compare by from, to, key, then pos. */
typedef struct edge_key {
    uint32_t from, to;
    uint64_t key;
    uint32_t pos;
} edge_key;

static int edge_key_cmp(const void *a, const void *b)
{
    const edge_key *x = a, *y = b;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    if (x->to != y->to)
        return x->to < y->to ? -1 : 1;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int same_edge(const edge_key *a, const edge_key *b)
{
    return a->from == b->from && a->to == b->to && a->key == b->key;
}

/* The order edges are written in: as found, except that each object's element edges ([i])
 * trade places among themselves so that they come in index order; ordered[n] is set for the
 * nodes that have element edges. */
static int edge_order(const hd_dump *d, const hd_graph *g, uint32_t *order, uint8_t *ordered)
{
    edge_key *by_index = malloc(((size_t)g->nedges + 1) * sizeof *by_index);
    edge_key *by_slot = malloc(((size_t)g->nedges + 1) * sizeof *by_slot);
    if (!by_index || !by_slot) {
        free(by_index);
        free(by_slot);
        return HD_ENOMEM;
    }
    uint32_t n = 0;
    for (uint32_t e = 0; e < g->nedges; e++) {
        order[e] = e;
        const hd_graph_edge *edge = &g->edges[e];
        uint64_t index;
        if (edge->kind == HD_GEDGE_STRONG && element_index(hd_edge_name(d, edge->ref), &index)) {
            by_index[n] = (edge_key){edge->from, 0, index, e};
            by_slot[n++] = (edge_key){edge->from, 0, 0, e};
            ordered[edge->from] = 1;
        }
    }
    qsort(by_index, n, sizeof *by_index, edge_key_cmp);
    qsort(by_slot, n, sizeof *by_slot, edge_key_cmp);
    for (uint32_t k = 0; k < n; k++) /* both sorted by from first: the k-th belong to one node */
        order[by_slot[k].pos] = by_index[k].pos;
    free(by_index);
    free(by_slot);
    return HD_OK;
}

#define PARALLEL_SHOWN 8 /* names on one edge at most; past that the last line counts the rest */

/* Strong edges joining the same two nodes (members, in written order), as one edge whose
 * label has a line per name: drawn apart, Graphviz lays their labels over each other. */
static void put_strong_edge(FILE *out, const hd_dump *d, const hd_graph *g, const edge_key *members,
                            uint32_t count, const uint32_t *order)
{
    const hd_graph_edge *first = &g->edges[order[members[0].pos]];
    fputs(" [label=\"", out);
    for (uint32_t i = 0; i < count; i++) {
        if (i)
            fputs("\\n", out);
        fputc(' ', out); /* a space each side: a label never runs into its neighbour's line */
        if (i == PARALLEL_SHOWN - 1 && count > PARALLEL_SHOWN) {
            fprintf(out, "(%" PRIu32 " more) ", count - i);
            break;
        }
        put_edge_name(out, d, g->edges[order[members[i].pos]].ref);
        fputc(' ', out);
    }
    fputc('"', out);
    if (first->in_cycle)
        fprintf(out, ", color=\"%s\", fontcolor=\"%s\"", hd_dot_colors.cycle_edge,
                hd_dot_colors.text[HD_DOT_TEXT_START]);
    fputc(']', out);
}

static void put_edge(FILE *out, const hd_dump *d, const hd_graph *g, const edge_key *members,
                     uint32_t count, const uint32_t *order)
{
    const hd_graph_edge *e = &g->edges[order[members[0].pos]];
    fputs("  ", out);
    put_node_name(out, d, g, e->from);
    fputs(" -> ", out);
    put_node_name(out, d, g, e->to);
    switch (e->kind) {
    case HD_GEDGE_STRONG: put_strong_edge(out, d, g, members, count, order); break;
    case HD_GEDGE_WEAK:
        fprintf(out, " [label=\" %s \", style=dashed]",
                hd_weakref_has_callback(d, (uint32_t)e->ref) ? "weak, callback" : "weak");
        break;
    default: fputs(" [style=dotted]", out); break;
    }
    fputs(";\n", out);
}

/* Every edge, in edge_order, parallel strong edges merged into their first. */
static int put_edges(FILE *out, const hd_dump *d, const hd_graph *g, const uint32_t *order)
{
    uint32_t *group = malloc(((size_t)g->nedges + 1) * sizeof *group);
    edge_key *pairs = malloc(((size_t)g->nedges + 1) * sizeof *pairs);
    int rc = group && pairs ? HD_OK : HD_ENOMEM;
    if (rc == HD_OK) {
        /* Sorted by (from, to, kind) and written position: a run of equal keys is one edge;
         * a weak or "more" edge has a key of its own. */
        for (uint32_t p = 0; p < g->nedges; p++) {
            const hd_graph_edge *e = &g->edges[order[p]];
            uint64_t key = e->kind == HD_GEDGE_STRONG ? (uint64_t)(e->in_cycle != 0) : 2 + (uint64_t)p;
            pairs[p] = (edge_key){e->from, e->to, key, p};
        }
        qsort(pairs, g->nedges, sizeof *pairs, edge_key_cmp);
        for (uint32_t i = 0, run = 0; i < g->nedges; i++) {
            if (i && !same_edge(&pairs[i - 1], &pairs[i]))
                run = i;
            group[pairs[i].pos] = run;
        }
        for (uint32_t p = 0; p < g->nedges; p++) {
            uint32_t start = group[p], end = start + 1;
            if (pairs[start].pos != p)
                continue; /* written with the first of its run */
            while (end < g->nedges && group[pairs[end].pos] == start)
                end++;
            put_edge(out, d, g, pairs + start, end - start, order);
        }
    }
    free(group);
    free(pairs);
    return rc;
}

int hd_dot_write(const hd_dump *d, const hd_graph *g, FILE *out)
{
    if (!d || !g || !out)
        return HD_EINVAL;
    fprintf(out,
            "digraph ObjectGraph {\n"
            "  graph [bgcolor=\"%s\"];\n"
            "  node [shape=box, style=filled, fillcolor=\"%s\", fontcolor=\"%s\"];\n"
            "  edge [fontcolor=\"%s\"];\n",
            hd_dot_colors.background, hd_dot_colors.fill[HD_DOT_FILL_OBJECT][0],
            hd_dot_colors.text[HD_DOT_TEXT_PLAIN], hd_dot_colors.text[HD_DOT_TEXT_PLAIN]);
    uint32_t *order = malloc(((size_t)g->nedges + 1) * sizeof *order);
    uint8_t *ordered = calloc((size_t)g->nnodes + 1, 1);
    int rc = order && ordered ? edge_order(d, g, order, ordered) : HD_ENOMEM;
    for (uint32_t n = 0; n < g->nnodes && !rc; n++)
        put_node(out, d, g, n, ordered[n]);
    if (!rc)
        rc = put_edges(out, d, g, order);
    fputs("}\n", out);
    free(order);
    free(ordered);
    if (rc)
        return rc;
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
