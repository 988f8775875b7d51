/* test_graph.c: hd_graph_build and hd_graph_chain against distances by relaxation and
 * reachability by search on random graphs; the DOT writer against hostile labels (checked by
 * a strict DOT-line grammar and by rendering through hd_render_data); atomic files. */
#include "random_dump.h"

#include "dump/dot_palette.h"

#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

/* Under ASan: this suite renders through Graphviz, so it asks for the slow unwinder (why:
 * tests/lsan.supp). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

/* --- oracles --------------------------------------------------------------------------------- */

static int is_root(const rd_graph *g, uint32_t o)
{
    for (uint32_t r = 0; r < g->nroots; r++)
        if (g->root_obj[r] == o)
            return 1;
    return 0;
}

/* Distances from the start objects by relaxation (not BFS), the walk's rules: forward over
 * out-edges; backward over in-edges, never through a root that is not a start object; only
 * into objects the filter keeps (types[type] set, or types NULL). */
static void oracle_dist(const rd_graph *g, const uint32_t *start, uint32_t nstart, int backward,
                        uint32_t max_depth, const uint8_t *types, uint32_t *dist)
{
    uint8_t *is_start = rd_alloc(g->n);
    for (uint32_t o = 0; o < g->n; o++)
        dist[o] = UINT32_MAX;
    for (uint32_t i = 0; i < nstart; i++) {
        dist[start[i]] = 0;
        is_start[start[i]] = 1;
    }
    for (int changed = 1; changed;) {
        changed = 0;
        for (uint32_t u = 0; u < g->n; u++)
            for (uint32_t e = g->off[u]; e < g->off[u + 1]; e++) {
                uint32_t v = g->dst[e];
                uint32_t from = backward ? v : u, to = backward ? u : v;
                if (dist[from] >= max_depth || dist[from] == UINT32_MAX)
                    continue;
                if (backward && is_root(g, from) && !is_start[from])
                    continue;
                if (types && !is_start[to] && !types[g->type[to]])
                    continue;
                if (dist[from] + 1 < dist[to]) {
                    dist[to] = dist[from] + 1;
                    changed = 1;
                }
            }
    }
    free(is_start);
}

static uint32_t node_of(const hd_graph *gr, uint32_t o)
{
    for (uint32_t i = 0; i < gr->nnodes; i++)
        if (gr->nodes[i].object == o)
            return i;
    return HD_NONE;
}

/* Node a reaches node b over the dump's strong references between drawn objects (brute force). */
static int picture_reaches(const rd_graph *g, const hd_graph *gr, uint32_t a, uint32_t b)
{
    uint8_t *seen = rd_alloc(gr->nnodes);
    seen[a] = 1;
    for (int grew = 1; grew;) {
        grew = 0;
        for (uint32_t v = 0; v < gr->nnodes; v++)
            for (uint32_t e = g->off[gr->nodes[v].object]; seen[v] && e < g->off[gr->nodes[v].object + 1]; e++) {
                uint32_t w = node_of(gr, g->dst[e]);
                if (w != HD_NONE && !seen[w])
                    grew = seen[w] = 1;
            }
    }
    int found = seen[b];
    free(seen);
    return found;
}

/* Edge e of the dump goes from object u (CSR), found by search. */
static uint32_t edge_source(const rd_graph *g, uint64_t e)
{
    for (uint32_t u = 0; u < g->n; u++)
        if (e >= g->off[u] && e < g->off[u + 1])
            return u;
    return HD_NONE;
}

static int keep_type(const hd_dump *d, uint32_t o, void *user)
{
    return ((const uint8_t *)user)[hd_object_type(d, o)];
}

static hd_graph *build(hd_dump *d, const uint32_t *start, uint32_t nstart, int backward, uint32_t depth,
                       uint32_t too_many, uint32_t max_nodes, uint8_t *types)
{
    hd_graph_options opts;
    hd_graph_options_init(&opts);
    opts.direction = backward ? HD_GRAPH_REFERRERS : HD_GRAPH_REFERENTS;
    opts.max_depth = depth;
    opts.too_many = too_many;
    opts.max_nodes = max_nodes;
    if (types) {
        opts.filter = keep_type;
        opts.filter_user = types;
    }
    hd_graph *gr = NULL;
    cr_assert_eq(hd_graph_build(d, start, nstart, &opts, &gr), HD_OK);
    cr_assert_not_null(gr);
    return gr;
}

/* Edge e's ends as the walk sees them: the expanded object and the neighbour. */
static void edge_ends(const hd_graph *gr, const hd_graph_edge *ge, int backward, uint32_t *near, uint32_t *far)
{
    *near = backward ? ge->to : ge->from;
    *far = backward ? ge->from : ge->to;
    (void)gr;
}

/* Without limits: the nodes are exactly the objects within depth, at their distance, and every
 * reference of every expanded object is an edge, once, with in_cycle right. */
static void check_unlimited(const rd_graph *g, hd_dump *d, const uint32_t *start, uint32_t nstart,
                            int backward, uint32_t depth, uint8_t *types, uint64_t seed)
{
    hd_graph *gr = build(d, start, nstart, backward, depth, 0, 0, types);
    uint32_t *dist = rd_alloc((size_t)g->n * sizeof *dist);
    oracle_dist(g, start, nstart, backward, depth, types, dist);
    uint32_t want = 0;
    for (uint32_t o = 0; o < g->n; o++)
        want += dist[o] != UINT32_MAX;
    cr_assert_eq(gr->nobjects, want, "seed %llu: %u objects, want %u", (unsigned long long)seed,
                 gr->nobjects, want);
    cr_assert_eq(gr->nnodes, gr->nobjects, "no 'more' nodes without limits");
    cr_assert_eq(gr->omitted, 0);
    cr_assert(!gr->truncated);
    for (uint32_t i = 0; i < gr->nnodes; i++) {
        const hd_graph_node *n = &gr->nodes[i];
        cr_assert_neq(n->object, HD_NONE);
        cr_assert_eq(n->depth, dist[n->object], "seed %llu: object %u at depth %u, distance %u",
                     (unsigned long long)seed, n->object, n->depth, dist[n->object]);
        cr_assert_eq(!!(n->flags & HD_GNODE_ROOT), is_root(g, n->object));
        cr_assert_eq(!!(n->flags & HD_GNODE_START), i < nstart);
        cr_assert_eq(!!(n->flags & HD_GNODE_FINALIZER), !!(g->type_flags[g->type[n->object]] & HD_TYPE_FINALIZER));
        if (i > 0)
            cr_assert_geq(n->depth, gr->nodes[i - 1].depth, "breadth-first order");
    }
    /* Each expected reference appears exactly once. */
    uint8_t *seen = rd_alloc(g->off[g->n] + 1);
    for (uint32_t k = 0; k < gr->nedges; k++) {
        const hd_graph_edge *ge = &gr->edges[k];
        cr_assert_eq(ge->kind, HD_GEDGE_STRONG);
        uint32_t from = gr->nodes[ge->from].object, to = gr->nodes[ge->to].object;
        cr_assert_lt(ge->ref, g->off[g->n]);
        cr_assert_eq(edge_source(g, ge->ref), from, "an edge goes from the edge's referrer");
        cr_assert_eq(g->dst[ge->ref], to);
        cr_assert(!seen[ge->ref], "seed %llu: edge %llu twice", (unsigned long long)seed,
                  (unsigned long long)ge->ref);
        seen[ge->ref] = 1;
        /* Red: on a cycle through a start object within the picture. */
        int start_cycle = 0;
        for (uint32_t i = 0; i < nstart && !start_cycle; i++)
            start_cycle = picture_reaches(g, gr, i, ge->from) && picture_reaches(g, gr, ge->from, i);
        cr_assert_eq(ge->in_cycle, picture_reaches(g, gr, ge->to, ge->from) && start_cycle,
                     "seed %llu: in_cycle of %u -> %u", (unsigned long long)seed, from, to);
        uint32_t near, far;
        edge_ends(gr, ge, backward, &near, &far);
        cr_assert_lt(gr->nodes[near].depth, depth);
    }
    for (uint32_t u = 0; u < g->n; u++)
        for (uint32_t e = g->off[u]; e < g->off[u + 1]; e++) {
            uint32_t near = backward ? g->dst[e] : u, far = backward ? u : g->dst[e];
            int expanded = dist[near] < depth && !(backward && is_root(g, near) && dist[near] != 0);
            int drawn = expanded && dist[far] != UINT32_MAX;
            cr_assert_eq(seen[e], drawn, "seed %llu: edge %u -> %u drawn %d, want %d",
                         (unsigned long long)seed, u, g->dst[e], seen[e], drawn);
        }
    free(seen);
    free(dist);
    hd_graph_free(gr);
}

/* too_many and max_nodes against the unlimited graph: the first too_many references of each
 * object, the rest counted in one "more" node; the node budget keeps a prefix of the
 * breadth-first order, and edges between kept objects. */
static void check_limits(const rd_graph *g, hd_dump *d, const uint32_t *start, uint32_t nstart, int backward,
                         uint64_t seed)
{
    hd_graph *full = build(d, start, nstart, backward, 3, 0, 0, NULL);
    uint32_t k = 1 + (uint32_t)(seed % 3);
    hd_graph *few = build(d, start, nstart, backward, 3, k, 0, NULL);
    for (uint32_t i = 0; i < few->nnodes; i++) {
        if (few->nodes[i].object == HD_NONE)
            continue;
        uint32_t drawn = 0, more = 0, all = 0;
        for (uint32_t e = 0; e < few->nedges; e++) {
            uint32_t near, far;
            edge_ends(few, &few->edges[e], backward, &near, &far);
            if (near != i)
                continue;
            if (few->edges[e].kind == HD_GEDGE_MORE)
                more += few->nodes[far].more;
            else
                drawn++;
        }
        /* Depths may differ from the full graph's (a short way may be cut): count from the dump. */
        uint32_t o = few->nodes[i].object;
        cr_assert_neq(node_of(full, o), HD_NONE, "too_many only removes objects");
        int expanded = few->nodes[i].depth < 3 &&
                       !(backward && is_root(g, o) && !(few->nodes[i].flags & HD_GNODE_START));
        for (uint32_t u = 0; expanded && u < g->n; u++)
            for (uint32_t e = g->off[u]; e < g->off[u + 1]; e++)
                all += backward ? g->dst[e] == o : u == o;
        cr_assert_eq(drawn, all < k ? all : k, "seed %llu: %u drawn of %u with too_many %u",
                     (unsigned long long)seed, drawn, all, k);
        cr_assert_eq(more, all - drawn);
    }
    hd_graph_free(few);

    uint32_t budget = nstart + (uint32_t)(seed % 4);
    hd_graph *cut = build(d, start, nstart, backward, 3, 0, budget, NULL);
    uint32_t keep = full->nobjects < budget ? full->nobjects : budget;
    cr_assert_eq(cut->nobjects, keep);
    cr_assert_eq(cut->truncated, full->nobjects > budget);
    uint32_t j = 0;
    for (uint32_t i = 0; i < cut->nnodes; i++)
        if (cut->nodes[i].object != HD_NONE) {
            cr_assert_eq(cut->nodes[i].object, full->nodes[j].object, "seed %llu: a prefix", (unsigned long long)seed);
            cr_assert_eq(cut->nodes[i].depth, full->nodes[j].depth);
            j++;
        }
    uint64_t strong = 0, lost = 0;
    for (uint32_t e = 0; e < full->nedges; e++) {
        int in = full->edges[e].from < keep && full->edges[e].to < keep;
        uint32_t near, far;
        edge_ends(full, &full->edges[e], backward, &near, &far);
        strong += in;
        lost += !in && near < keep;
    }
    uint64_t cut_strong = 0;
    for (uint32_t e = 0; e < cut->nedges; e++)
        cut_strong += cut->edges[e].kind == HD_GEDGE_STRONG;
    cr_assert_eq(cut_strong, strong);
    cr_assert_eq(cut->omitted, lost, "seed %llu: omitted %llu, want %llu", (unsigned long long)seed,
                 (unsigned long long)cut->omitted, (unsigned long long)lost);
    hd_graph_free(cut);
    hd_graph_free(full);
}

static void check_chain(const rd_graph *g, hd_dump *d, uint32_t o)
{
    hd_path *p = NULL;
    cr_assert_eq(hd_path_find(d, o, &p), HD_OK);
    hd_graph *gr = NULL;
    cr_assert_eq(hd_graph_chain(d, o, NULL, &gr), HD_OK);
    cr_assert_eq(gr->chain_root, p->root);
    cr_assert_eq(gr->nodes[0].object, o);
    cr_assert(gr->nodes[0].flags & HD_GNODE_START);
    if (!p->nhops) {
        cr_assert_eq(gr->nnodes, 1);
        cr_assert_eq(gr->nedges, 0);
    } else {
        cr_assert_eq(gr->nnodes, p->nhops);
        cr_assert_eq(gr->nedges, p->nhops - 1);
        for (uint32_t i = 0; i < p->nhops; i++)
            cr_assert_eq(gr->nodes[p->nhops - 1 - i].object, p->hops[i].object);
        for (uint32_t e = 0; e < gr->nedges; e++) {
            cr_assert_eq(gr->nodes[gr->edges[e].from].object, edge_source(g, gr->edges[e].ref));
            cr_assert_eq(g->dst[gr->edges[e].ref], gr->nodes[gr->edges[e].to].object);
        }
    }
    hd_path_free(p);
    hd_graph_free(gr);
}

Test(graph, random_graphs_against_oracle)
{
    for (uint64_t seed = 1; seed <= 120; seed++) {
        rd_graph g;
        uint32_t n = 5 + (uint32_t)(seed % 40);
        rd_random(&g, seed, n, 1 + (uint32_t)(seed % 3), 1 + (uint32_t)(seed % 4));
        hd_dump *d = rd_load(&g);
        uint32_t start[3] = {(uint32_t)(seed % n), (uint32_t)(seed * 7 % n), (uint32_t)(seed * 13 % n)};
        uint32_t nstart = start[0] == start[1] || start[1] == start[2] || start[0] == start[2] ? 1 : 1 + (uint32_t)(seed % 3);
        uint8_t *types = rd_alloc(g.ntypes);
        for (uint32_t t = 0; t < g.ntypes; t++)
            types[t] = (uint8_t)((seed >> t) & 1);
        for (int backward = 0; backward < 2; backward++) {
            for (uint32_t depth = 0; depth <= 4; depth++)
                check_unlimited(&g, d, start, nstart, backward, depth, NULL, seed);
            check_unlimited(&g, d, start, nstart, backward, 3, types, seed);
            check_limits(&g, d, start, nstart, backward, seed);
        }
        for (uint32_t o = 0; o < n; o++)
            check_chain(&g, d, o);
        free(types);
        hd_dump_free(d);
        rd_free(&g);
    }
}

Test(graph, bad_arguments)
{
    rd_graph g;
    rd_random(&g, 7, 10, 2, 2);
    hd_dump *d = rd_load(&g);
    hd_graph *gr = (hd_graph *)1;
    uint32_t s = 3, bad = 10;
    cr_assert_eq(hd_graph_build(d, &s, 0, NULL, &gr), HD_EINVAL);
    cr_assert_null(gr);
    cr_assert_eq(hd_graph_build(d, &bad, 1, NULL, &gr), HD_EINVAL);
    cr_assert_eq(hd_graph_build(NULL, &s, 1, NULL, &gr), HD_EINVAL);
    cr_assert_eq(hd_graph_chain(d, 10, NULL, &gr), HD_EINVAL);
    cr_assert_eq(hd_graph_build(d, &s, 1, NULL, &gr), HD_OK, "NULL options are the defaults");
    cr_assert_eq(gr->max_depth, 3);
    hd_graph_free(gr);
    hd_graph_free(NULL);
    hd_dump_free(d);
    rd_free(&g);
}

Test(graph, long_chain_is_iterative)
{
    hd_dump *d = rd_chain(1000000, 1);
    uint32_t s = 0;
    hd_graph_options opts;
    hd_graph_options_init(&opts);
    opts.max_depth = UINT32_MAX;
    hd_graph *gr = NULL;
    cr_assert_eq(hd_graph_build(d, &s, 1, &opts, &gr), HD_OK);
    cr_assert_eq(gr->nobjects, 1000000);
    cr_assert_eq(gr->nedges, 1000000);
    cr_assert(gr->edges[999999].in_cycle, "the closing edge is in the cycle");
    hd_graph_free(gr);
    opts.direction = HD_GRAPH_REFERRERS;
    cr_assert_eq(hd_graph_build(d, &s, 1, &opts, &gr), HD_OK);
    cr_assert_eq(gr->nobjects, 1000000, "the root is the start object: walked through");
    hd_graph_free(gr);
    hd_dump_free(d);
}

/* --- DOT text and rendering ------------------------------------------------------------------- */

static hd_dump *load_text(const char *text)
{
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load_buffer(text, strlen(text), "test", NULL, &d, &err);
    cr_assert_eq(rc, HD_OK, "%s", err.message);
    return d;
}

static char *dot_of(hd_dump *d, const hd_graph *gr)
{
    char *text = NULL;
    size_t len = 0;
    cr_assert_eq(hd_dot_string(d, gr, &text, &len), HD_OK);
    cr_assert_eq(strlen(text), len);
    return text;
}

/* A quoted DOT string at *p: true, *p past its closing quote, when it is one, with no raw
 * control character inside and no backslash before the closing quote left unpaired. */
static int quoted(const char **p)
{
    const char *s = *p;
    if (*s++ != '"')
        return 0;
    for (; *s && *s != '"'; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
        if (*s == '\\' && !*++s)
            return 0;
    }
    if (*s != '"')
        return 0;
    *p = s + 1;
    return 1;
}

static int word(const char **p, const char *chars)
{
    const char *s = *p;
    while (*s && strchr(chars, *s))
        s++;
    int ok = s > *p;
    *p = s;
    return ok;
}

#define NAME_CHARS "abcdefghijklmnopqrstuvwxyz0123456789"
static const char *const allowed[] = {"label", "fillcolor", "fontcolor", "peripheries", "color",
                                      "penwidth", "style", "ordering", NULL};
static const char dot_head[] = "digraph ObjectGraph {\n"
                               "  graph [bgcolor=\"#ffffff\"];\n"
                               "  node [shape=box, style=filled, fillcolor=\"#ffffff\", fontcolor=\"#000000\"];\n"
                               "  edge [fontcolor=\"#000000\"];\n";

/* One node or edge line: NAME [-> NAME] [key=value, ...]; only the attributes dot.c writes,
 * each value a quoted string or a plain word. Anything a label injected would break this. */
static int dot_line(const char *line)
{
    const char *p = line;
    if (strncmp(p, "  ", 2))
        return 0;
    p += 2;
    if (!word(&p, NAME_CHARS))
        return 0;
    if (!strncmp(p, " -> ", 4)) {
        p += 4;
        if (!word(&p, NAME_CHARS))
            return 0;
    }
    if (strncmp(p, " [", 2))
        return 0;
    p += 2;
    for (int first = 1;; first = 0) {
        if (!first) {
            if (!strcmp(p, "];"))
                return 1;
            if (strncmp(p, ", ", 2))
                return 0;
            p += 2;
        }
        const char *key = p;
        if (!word(&p, NAME_CHARS) || *p != '=')
            return 0;
        int ok = 0;
        for (int i = 0; allowed[i]; i++)
            ok |= (size_t)(p - key) == strlen(allowed[i]) && !strncmp(key, allowed[i], strlen(allowed[i]));
        if (!ok)
            return 0;
        p++;
        if (*p == '"' ? !quoted(&p) : !word(&p, NAME_CHARS "."))
            return 0;
    }
}

static uint32_t check_dot_lines(const char *text)
{
    cr_assert(!strncmp(text, dot_head, strlen(dot_head)), "header");
    char *copy = strdup(text + strlen(dot_head));
    uint32_t lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (!strcmp(line, "}"))
            break;
        cr_assert(dot_line(line), "not a well-formed DOT line: %s", line);
        lines++;
    }
    free(copy);
    return lines;
}

static uint32_t count(const char *hay, const char *needle)
{
    uint32_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Edges drawn: one per pair of nodes for strong references in the same state (parallel ones
 * share a line), one per weak or "more" edge. */
static uint32_t drawn_edges(const hd_graph *gr)
{
    uint32_t n = 0;
    for (uint32_t e = 0; e < gr->nedges; e++) {
        const hd_graph_edge *a = &gr->edges[e];
        int merged = 0;
        for (uint32_t f = 0; f < e && !merged && a->kind == HD_GEDGE_STRONG; f++) {
            const hd_graph_edge *b = &gr->edges[f];
            merged = b->kind == HD_GEDGE_STRONG && b->from == a->from && b->to == a->to && b->in_cycle == a->in_cycle;
        }
        n += !merged;
    }
    return n;
}

static const char hostile[] =
    "{\"format\": \"heapdump\", \"version\": 1,\n"
    " \"types\": [{\"id\": 0, \"name\": \"T\\\"ype\\\\<b>\"}, {\"id\": 1, \"name\": \"weakref\"}],\n"
    " \"objects\": [\n"
    "  {\"id\": 1, \"type\": 0, \"size\": 8, \"label\": \"q\\\"uote\\\", fontcolor=blue, x=\\\"\","
    "   \"refs\": [[2, \"a\\\"]; o9 [label=\\\"x\"], [2, \"b\\\\\"], [2, \"{c}|<d>\"], [3, \"\\n\"]]},\n"
    "  {\"id\": 2, \"type\": 0, \"size\": 8, \"label\": \"back\\\\slash\\\\\"},\n"
    "  {\"id\": 3, \"type\": 0, \"size\": 8, \"label\": \"new\\nline\\r \\u001b[31mred\\u001b[0m\", \"refs\": [[6, \"x\"]]},\n"
    "  {\"id\": 6, \"type\": 0, \"size\": 8, \"label\": \"\\u0085 \\\\N \\\\G &amp; \\u00e9\"},\n"
    "  {\"id\": 4, \"type\": 0, \"size\": 8, \"label\": \"<<html>> {rec|ord} &lt; \\\\\\\"\"},\n"
    "  {\"id\": 5, \"type\": 1, \"size\": 8}],\n"
    " \"weakrefs\": [{\"id\": 5, \"referent\": 1}],\n"
    " \"roots\": [{\"id\": 1, \"kind\": \"named\", \"name\": \"r\\\"oot\\n]\"}, {\"id\": 4, \"kind\": \"ext\\\"ernal\"}]}\n";

Test(graph, hostile_labels_stay_inside_their_strings)
{
    hd_dump *d = load_text(hostile);
    uint32_t start[] = {hd_object_find(d, 1), hd_object_find(d, 4), hd_object_find(d, 5)};
    hd_graph *gr = NULL;
    cr_assert_eq(hd_graph_build(d, start, 3, NULL, &gr), HD_OK);
    cr_assert_eq(gr->nnodes, 6, "%u nodes", gr->nnodes);
    char *text = dot_of(d, gr);
    uint32_t lines = check_dot_lines(text);
    cr_assert_eq(lines, gr->nnodes + drawn_edges(gr));
    cr_assert(!strstr(text, "\x1b"), "no raw escape character");
    cr_assert(strstr(text, "\\\\x1b[31mred"), "shown as \\x1b");
    cr_assert(strstr(text, "\\\\N"), "a backslash is doubled, so \\N is not Graphviz's node name");
    cr_assert(strstr(text, "&amp;amp;"), "an entity in a label is shown, not expanded");
    cr_assert(strstr(text, "&lt;&lt;html&gt;&gt; \\{rec\\|ord\\}"));
    cr_assert(strstr(text, "\\u00e9") == NULL && strstr(text, "\xc3\xa9"), "valid UTF-8 is kept");
    cr_assert(strstr(text, "\\\\xc2\\\\x85"), "a C1 control is shown as bytes");
    cr_assert_eq(count(text, "style=dashed"), 1, "the weak reference");

    /* Graphviz reads it back: every node drawn, the label text intact in the SVG. */
    void *svg = NULL;
    size_t n = 0;
    hd_error err;
    cr_assert_eq(hd_render_data(text, strlen(text), "svg", &svg, &n, &err), HD_OK, "%s", err.message);
    char *s = calloc(1, n + 1);
    memcpy(s, svg, n);
    cr_assert_eq(count(s, "class=\"node\""), gr->nnodes);
    cr_assert_eq(count(s, "class=\"edge\""), drawn_edges(gr));
    cr_assert(strstr(s, "q&quot;uote&quot;, fontcolor=blue, x=&quot;"), "the injected text is text");
    cr_assert(strstr(s, "back\\slash\\"));
    cr_assert(strstr(s, "&lt;&lt;html&gt;&gt; {rec|ord} &amp;lt; \\&quot;"));
    cr_assert(strstr(s, "\\N \\G &amp;amp;"));
    cr_assert(!strstr(s, "fill=\"blue\""));
    free(s);
    free(svg);
    free(text);
    hd_graph_free(gr);
    hd_dump_free(d);
}

Test(graph, labels_are_cut_like_objgraph)
{
    char json[1024];
    snprintf(json, sizeof json,
             "{\"format\": \"heapdump\", \"version\": 1, \"types\": [{\"id\": 0, \"name\": \"S\"}],"
             " \"objects\": [{\"id\": 1, \"type\": 0, \"size\": 8, \"label\": \"%s\"},"
             " {\"id\": 2, \"type\": 0, \"size\": 8, \"label\": \"%s\"},"
             " {\"id\": 3, \"type\": 0, \"size\": 8, \"label\": \"%s\"}]}",
             "0123456789012345678901234567890123456789",   /* 40: kept */
             "01234567890123456789012345678901234567890",  /* 41: cut */
             "\\u001b\\u001b\\u001b\\u001b\\u001b\\u001b\\u001b\\u001b\\u001b\\u001b\\u001b");
    hd_dump *d = load_text(json);
    uint32_t start[] = {0, 1, 2};
    hd_graph *gr = NULL;
    cr_assert_eq(hd_graph_build(d, start, 3, NULL, &gr), HD_OK);
    char *text = dot_of(d, gr);
    cr_assert(strstr(text, "S#1\\n0123456789012345678901234567890123456789\""));
    cr_assert(strstr(text, "S#2\\n0123456789012345678901234567890123456...\""));
    /* Escapes are never split: 9 of \x1b make 36 characters, the 10th would pass 37. */
    cr_assert(strstr(text, "S#3\\n\\\\x1b\\\\x1b\\\\x1b\\\\x1b\\\\x1b\\\\x1b\\\\x1b\\\\x1b\\\\x1b...\""), "%s", text);
    free(text);
    hd_graph_free(gr);
    hd_dump_free(d);
}

static const char multi[] =
    "{\"format\": \"heapdump\", \"version\": 1,\n"
    " \"types\": [{\"id\": 0, \"name\": \"dict\"}, {\"id\": 1, \"name\": \"int\"}, {\"id\": 2, \"name\": \"weakref\"},"
    "  {\"id\": 3, \"name\": \"Res\", \"finalizer\": true}],\n"
    " \"objects\": [\n"
    "  {\"id\": 1, \"type\": 0, \"size\": 8, \"refs\": [[2, \"a\"], [2, \"b\"], [2, \"0\"], [3, \"w\"], [4, \"r\"]]},\n"
    "  {\"id\": 2, \"type\": 1, \"size\": 8, \"label\": \"7\"},\n"
    "  {\"id\": 3, \"type\": 2, \"size\": 8},\n"
    "  {\"id\": 4, \"type\": 3, \"size\": 8, \"refs\": [[1, \"owner\"]]}],\n"
    " \"weakrefs\": [{\"id\": 3, \"referent\": 4, \"callback\": true}],\n"
    " \"roots\": [{\"id\": 1, \"kind\": \"named\", \"name\": \"main\"}]}\n";

Test(graph, parallel_edges_share_one_label)
{
    hd_dump *d = load_text(multi);
    uint32_t s = 0;
    hd_graph *gr = NULL;
    cr_assert_eq(hd_graph_build(d, &s, 1, NULL, &gr), HD_OK);
    char *text = dot_of(d, gr);
    /* Three references from 1 to 2: one edge, a line per name (drawn apart, Graphviz lays
     * their labels on top of each other). */
    cr_assert(strstr(text, "  o1 -> o2 [label=\" .a \\n .b \\n [0] \"];\n"), "%s", text);
    cr_assert_eq(count(text, "  o1 -> o2 "), 1);
    cr_assert(strstr(text, "  o3 -> o4 [label=\" weak, callback \", style=dashed];\n"));
    cr_assert(strstr(text, "  o1 -> o4 [label=\" .r \", color=\"#a00000\", fontcolor=\"#a00000\"];\n"),
              "in the cycle 1 -> 4 -> 1");
    cr_assert(strstr(text, "  o4 -> o1 [label=\" .owner \", color=\"#a00000\", fontcolor=\"#a00000\"];\n"));
    cr_assert(strstr(text, "o4 [label=\"Res#4\\nfinalizer\""));
    cr_assert(strstr(text, "o1 [label=\"dict#1\\n[named 'main']\""));
    cr_assert(strstr(text, "fontcolor=\"#a00000\", peripheries=2"), "start and root");
    free(text);
    hd_graph_free(gr);

    hd_graph_options opts;
    hd_graph_options_init(&opts);
    opts.no_weak = 1;
    cr_assert_eq(hd_graph_build(d, &s, 1, &opts, &gr), HD_OK);
    for (uint32_t e = 0; e < gr->nedges; e++)
        cr_assert_neq(gr->edges[e].kind, HD_GEDGE_WEAK);
    hd_graph_free(gr);

    /* Backwards from the referent the weak reference leads to its weakref. */
    opts.no_weak = 0;
    opts.direction = HD_GRAPH_REFERRERS;
    opts.too_many = 1;
    s = 3;
    cr_assert_eq(hd_graph_build(d, &s, 1, &opts, &gr), HD_OK);
    text = dot_of(d, gr);
    /* o4 -> o1, the cycle's other half, is not drawn, yet both ends are: the edge is red. */
    cr_assert(strstr(text, "  o1 -> o4 [label=\" .r \", color=\"#a00000\", fontcolor=\"#a00000\"];\n"), "%s", text);
    cr_assert(strstr(text, "1 more referrer\""), "%s", text);
    cr_assert(strstr(text, "  more2 -> o4 [style=dotted];\n"), "%s", text);
    free(text);
    hd_graph_free(gr);
    hd_dump_free(d);
}

/* --- colours: WCAG 2 contrast computed from dot.c's table -------------------------------------- */

static double channel(unsigned v)
{
    double c = v / 255.0;
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static double luminance(const char *hex)
{
    unsigned r, g, b;
    cr_assert(strlen(hex) == 7 && sscanf(hex, "#%2x%2x%2x", &r, &g, &b) == 3, "not #rrggbb: %s", hex);
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
}

static double contrast(const char *a, const char *b)
{
    double x = luminance(a) + 0.05, y = luminance(b) + 0.05;
    return x > y ? x / y : y / x;
}

Test(graph, every_text_colour_on_every_fill_reaches_wcag_aa)
{
    /* The formula against WCAG's figures: 21:1 for black on white, and #767676 the lightest
     * grey that reaches 4.5:1 on white. */
    cr_assert_float_eq(contrast("#000000", "#ffffff"), 21.0, 1e-9);
    cr_assert_geq(contrast("#767676", "#ffffff"), 4.5);
    cr_assert_lt(contrast("#777777", "#ffffff"), 4.5);
    const hd_dot_palette *c = &hd_dot_colors;
    for (int t = 0; t < HD_DOT_NTEXTS; t++) {
        double on_background = contrast(c->text[t], c->background);
        cr_assert_geq(on_background, 4.5, "text %s on the background %s: %.2f", c->text[t], c->background,
                      on_background);
        for (int f = 0; f < HD_DOT_NFILLS; f++)
            for (int shade = 0; shade < HD_DOT_SHADES; shade++) {
                double r = contrast(c->text[t], c->fill[f][shade]);
                cr_assert_geq(r, 4.5, "text %s on fill %s: %.2f", c->text[t], c->fill[f][shade], r);
            }
    }
}

static int in_table(const char *const *colours, size_t n, const char *value, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(colours[i]) == len && !strncmp(colours[i], value, len))
            return 1;
    return 0;
}

/* Every fillcolor and fontcolor the DOT names is one of the table's: the pairs checked above
 * are the pairs drawn. Returns how many were found. */
static uint32_t colours_from_table(const char *text)
{
    const hd_dot_palette *c = &hd_dot_colors;
    uint32_t found = 0;
    for (const char *p = text; (p = strstr(p, "color=")); p += 6) {
        cr_assert_eq(p[6], '"', "a colour not from the table: %.20s", p);
        const char *v = p + 7;
        size_t len = strcspn(v, "\"");
        const char *attr = p;
        while (attr > text && attr[-1] >= 'a' && attr[-1] <= 'z')
            attr--;
        if (!strncmp(attr, "bgcolor", 7))
            cr_assert(in_table(&c->background, 1, v, len), "background %.*s", (int)len, v);
        else if (!strncmp(attr, "fillcolor", 9))
            cr_assert(in_table(&c->fill[0][0], HD_DOT_NFILLS * HD_DOT_SHADES, v, len), "fill %.*s", (int)len, v);
        else if (!strncmp(attr, "fontcolor", 9))
            cr_assert(in_table(c->text, HD_DOT_NTEXTS, v, len), "text %.*s", (int)len, v);
        else
            cr_assert(in_table(&c->cycle_edge, 1, v, len) || in_table(&c->finalizer_border, 1, v, len),
                      "line %.*s", (int)len, v);
        found++;
    }
    return found;
}

static int accept_all(const hd_dump *d, uint32_t o, void *user)
{
    (void)d, (void)o, (void)user;
    return 1;
}

Test(graph, every_colour_drawn_is_in_the_table)
{
    hd_dump *d = load_text(multi);
    hd_graph_options opts;
    hd_graph_options_init(&opts);
    uint32_t s = 0, seen = 0;
    for (int variant = 0; variant < 4; variant++) {
        opts.highlight = variant & 1 ? accept_all : NULL;
        opts.too_many = variant & 2 ? 1 : 10;
        opts.direction = variant & 2 ? HD_GRAPH_REFERRERS : HD_GRAPH_REFERENTS;
        s = variant & 2 ? 3 : 0;
        hd_graph *gr = NULL;
        cr_assert_eq(hd_graph_build(d, &s, 1, &opts, &gr), HD_OK);
        char *text = dot_of(d, gr);
        seen += colours_from_table(text);
        int highlighted = 0;
        for (int shade = 0; shade < HD_DOT_SHADES; shade++)
            highlighted |= strstr(text, hd_dot_colors.fill[HD_DOT_FILL_HIGHLIGHT][shade]) != NULL;
        cr_assert_eq(highlighted, variant & 1, "%s", text);
        if (variant & 2)
            cr_assert(strstr(text, "more referrer"), "%s", text);
        free(text);
        hd_graph_free(gr);
    }
    cr_assert_gt(seen, 20);
    hd_dump_free(d);
}

/* --- layout: what Graphviz makes of the DOT --------------------------------------------------- */

static char *render_svg(const char *dot)
{
    void *svg = NULL;
    size_t n = 0;
    hd_error err;
    cr_assert_eq(hd_render_data(dot, strlen(dot), "svg", &svg, &n, &err), HD_OK, "%s", err.message);
    char *s = calloc(1, n + 1);
    memcpy(s, svg, n);
    free(svg);
    return s;
}

/* The x of the centre of node NAME's first text line in an SVG from Graphviz. */
static double node_x(const char *svg, const char *name)
{
    char title[64];
    snprintf(title, sizeof title, "<title>%s</title>", name);
    const char *p = strstr(svg, title);
    cr_assert(p, "no node %s", name);
    p = strstr(p, "<text");
    cr_assert(p);
    p = strstr(p, " x=\"");
    cr_assert(p);
    return strtod(p + 4, NULL);
}

static const char elements[] =
    "{\"format\": \"heapdump\", \"version\": 1,\n"
    " \"types\": [{\"id\": 0, \"name\": \"list\"}, {\"id\": 1, \"name\": \"int\"}],\n"
    " \"objects\": [\n"
    "  {\"id\": 1, \"type\": 0, \"size\": 8,"
    "   \"refs\": [[3, \"2\"], [4, \"10\"], [2, \"[0]\"], [6, \"name\"], [5, \"1\"], [2, \"3\"]]},\n"
    "  {\"id\": 2, \"type\": 1, \"size\": 8, \"label\": \"zero\"},\n"
    "  {\"id\": 3, \"type\": 1, \"size\": 8, \"label\": \"two\"},\n"
    "  {\"id\": 4, \"type\": 1, \"size\": 8, \"label\": \"ten\"},\n"
    "  {\"id\": 5, \"type\": 1, \"size\": 8, \"label\": \"one\"},\n"
    "  {\"id\": 6, \"type\": 1, \"size\": 8, \"label\": \"named\"}]}\n";

Test(graph, elements_are_drawn_in_index_order)
{
    hd_dump *d = load_text(elements);
    uint32_t s = 0;
    hd_graph *gr = NULL;
    cr_assert_eq(hd_graph_build(d, &s, 1, NULL, &gr), HD_OK);
    char *text = dot_of(d, gr);
    /* The element edges take the slots elements had, in index order (10 after 3, not after 1);
     * the named reference keeps its place; [0] and [3] both lead to 2, so they share one edge,
     * at the first slot. */
    const char *want[] = {"  o1 -> o2 [label=\" [0] \\n [3] \"];\n", "  o1 -> o5 [label=\" [1] \"];\n",
                          "  o1 -> o3 [label=\" [2] \"];\n", "  o1 -> o6 [label=\" .name \"];\n",
                          "  o1 -> o4 [label=\" [10] \"];\n"};
    const char *at = text;
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        const char *p = strstr(at, want[i]);
        cr_assert(p, "%s not after the one before it in\n%s", want[i], text);
        at = p;
    }
    cr_assert(strstr(text, "  o1 [label=\"list#1\", fillcolor=\"#ffffff\", fontcolor=\"#a00000\", ordering=out];\n"),
              "%s", text);
    cr_assert_eq(count(text, "ordering=out"), 1, "only the list's edges are kept in order");

    /* Graphviz draws them left to right in that order. */
    char *svg = render_svg(text);
    const char *nodes[] = {"o2", "o5", "o3", "o6", "o4"};
    for (size_t i = 1; i < sizeof nodes / sizeof *nodes; i++)
        cr_assert_lt(node_x(svg, nodes[i - 1]), node_x(svg, nodes[i]), "%s left of %s", nodes[i - 1], nodes[i]);
    free(svg);
    free(text);
    hd_graph_free(gr);
    hd_dump_free(d);
}

typedef struct svg_label {
    double x, y, half_width;
    const char *edge; /* the <g class="edge"> it is in */
} svg_label;

/* Edge labels as drawn: each <text> inside an edge group, its box estimated from the font
 * size (a Times character is at least a third of an em wide, a line an em high). */
static uint32_t edge_labels(const char *svg, svg_label *out, uint32_t max)
{
    uint32_t n = 0;
    for (const char *g = svg; (g = strstr(g, "class=\"edge\"")); g++) {
        const char *end = strstr(g, "</g>");
        cr_assert(end);
        for (const char *t = g; (t = strstr(t, "<text")) && t < end; t++) {
            cr_assert_lt(n, max);
            const char *x = strstr(t, " x=\""), *y = strstr(t, " y=\""), *size = strstr(t, "font-size=\"");
            const char *body = strchr(t, '>'), *close = strstr(t, "</text>");
            cr_assert(x && y && size && body && close);
            double em = strtod(size + 11, NULL);
            out[n++] = (svg_label){strtod(x + 4, NULL), strtod(y + 4, NULL), (double)(close - body - 1) * em / 6, g};
        }
    }
    return n;
}

Test(graph, edge_labels_never_overprint)
{
    static const char doubly[] =
        "{\"format\": \"heapdump\", \"version\": 1, \"types\": [{\"id\": 0, \"name\": \"Node\"}],\n"
        " \"objects\": [\n"
        "  {\"id\": 1, \"type\": 0, \"size\": 8, \"refs\": [[2, \"next\"], [2, \"prev\"], [1, \"me\"], [1, \"self\"]]},\n"
        "  {\"id\": 2, \"type\": 0, \"size\": 8, \"refs\": [[1, \"next\"], [1, \"prev\"], [3, \"next\"]]},\n"
        "  {\"id\": 3, \"type\": 0, \"size\": 8, \"refs\": [[2, \"prev\"], [1, \"next\"]]}]}\n";
    const char *dumps[] = {doubly, multi, elements};
    for (size_t i = 0; i < sizeof dumps / sizeof *dumps; i++) {
        hd_dump *d = load_text(dumps[i]);
        uint32_t s = 0;
        hd_graph *gr = NULL;
        cr_assert_eq(hd_graph_build(d, &s, 1, NULL, &gr), HD_OK);
        char *text = dot_of(d, gr);
        char *svg = render_svg(text);
        svg_label labels[64];
        uint32_t n = edge_labels(svg, labels, 64);
        uint32_t named = 0;
        for (uint32_t e = 0; e < gr->nedges; e++)
            named += gr->edges[e].kind != HD_GEDGE_MORE;
        cr_assert_eq(n, named, "a line per name");
        for (uint32_t a = 0; a < n; a++)
            for (uint32_t b = a + 1; b < n; b++) {
                int apart = fabs(labels[a].y - labels[b].y) >= 12 ||
                            fabs(labels[a].x - labels[b].x) >= labels[a].half_width + labels[b].half_width;
                cr_assert(apart, "labels at (%.1f, %.1f) and (%.1f, %.1f) overlap in\n%s", labels[a].x,
                          labels[a].y, labels[b].x, labels[b].y, svg);
            }
        free(svg);
        free(text);
        hd_graph_free(gr);
        hd_dump_free(d);
    }
}

Test(graph, render_errors_are_messages)
{
    hd_error err;
    void *out = (void *)1;
    size_t n = 1;
    const char *bad = "digraph { a -> ; }";
    cr_assert_eq(hd_render_data(bad, strlen(bad), "svg", &out, &n, &err), HD_EINVAL);
    cr_assert_null(out);
    cr_assert(strstr(err.message, "syntax error"), "%s", err.message);
    cr_assert(!strchr(err.message, '\n'));
    const char *good = "digraph { a -> b; }";
    cr_assert_eq(hd_render_data(good, strlen(good), "nosuchformat", &out, &n, &err), HD_EINVAL);
    cr_assert(strstr(err.message, "nosuchformat"), "%s", err.message);
    cr_assert_eq(hd_render_data(good, strlen(good), "png", &out, &n, &err), HD_OK, "%s", err.message);
    cr_assert_gt(n, 24);
    cr_assert(!memcmp(out, "\x89PNG\r\n\x1a\n", 8));
    free(out);
    cr_assert_eq(hd_render_data(good, strlen(good), "pdf", &out, &n, &err), HD_OK, "%s", err.message);
    cr_assert(!memcmp(out, "%PDF-", 5));
    free(out);
}

Test(graph, files_are_written_atomically)
{
    char dir[] = "/tmp/hdgraphXXXXXX";
    cr_assert(mkdtemp(dir));
    char path[256], missing[256];
    snprintf(path, sizeof path, "%s/out.svg", dir);
    snprintf(missing, sizeof missing, "%s/no/such/dir/out.svg", dir);
    hd_error err;
    const char *good = "digraph { a -> b; }";
    cr_assert_eq(hd_render_file(good, strlen(good), "svg", path, &err), HD_OK, "%s", err.message);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_gt(st.st_size, 100);
    cr_assert_eq(hd_write_file_atomic(path, "old", 3, &err), HD_OK);
    /* A failed render leaves the old file as it was. */
    const char *bad = "digraph { a -> ; }";
    cr_assert_eq(hd_render_file(bad, strlen(bad), "svg", path, &err), HD_EINVAL);
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 3);
    cr_assert_eq(hd_write_file_atomic(missing, "x", 1, &err), HD_EIO);
    cr_assert(strstr(err.message, "No such file or directory"), "%s", err.message);
    cr_assert_str_eq(err.file, missing);
    /* Nothing but out.svg is left in the directory. */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A %s)\" = out.svg", dir);
    cr_assert_eq(system(cmd), 0);
    unlink(path);
    rmdir(dir);
}
