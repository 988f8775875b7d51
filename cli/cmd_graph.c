/* cmd_graph.c: `heaptool graph`: objgraph's show_refs, show_backrefs and show_chain from a dump,
 * as DOT on standard output or rendered to PNG, SVG or PDF in-process by Graphviz. */
#include "analysis.h"
#include "options.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const formats[] = {"dot", "png", "svg", "pdf"};

static const char *format_named(const char *name)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (!strcasecmp(name, formats[i]))
            return formats[i];
    return NULL;
}

typedef struct type_mask {
    uint8_t *types; /* per type index: accepted */
} type_mask;

static int mask_accepts(const hd_dump *d, uint32_t o, void *user)
{
    return ((const type_mask *)user)->types[hd_object_type(d, o)];
}

/* True when out names the same file as the dump at path (analysis.h). */
bool same_file(const char *path, const char *out)
{
    if (!strcmp(path, out))
        return true;
    struct stat a, b;
    return stat(path, &a) == 0 && stat(out, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

typedef struct request {
    string_list ids, types, filters, excludes, highlights;
    uint64_t max, top_retainers, depth, too_many, max_nodes;
    const char *chain, *output, *format;
    bool backrefs, no_weak;
} request;

static const option_spec graph_options[] = {
    OPT_GROUP("start objects (at least one of):"),
    {"id", 0, OPT_LIST, offsetof(request, ids), "ID",
     "start at object ID (a number, TYPE#NUMBER or @NUMBER);\nrepeatable", NULL, 0, NULL},
    {"type", 0, OPT_LIST, offsetof(request, types), "NAME", "start at the objects of type NAME, in dump order",
     NULL, 0, NULL},
    {"max", 0, OPT_COUNT, offsetof(request, max), "K", "with --type: the first K of them", "10", OPTF_ZERO_ALL, NULL},
    {"top-retainers", 0, OPT_COUNT, offsetof(request, top_retainers), "N",
     "start at the N objects that retain the most (as\nheaptool top)", NULL, 0, NULL},
    {"chain", 0, OPT_STRING, offsetof(request, chain), "ID",
     "only the shortest chain of references from a root to\nID", NULL, 0, NULL},
    OPT_GROUP("what to draw:"),
    {"backrefs", 0, OPT_FLAG, offsetof(request, backrefs), NULL,
     "what refers to the start objects, stopping at roots", NULL, 0, NULL},
    {"depth", 0, OPT_COUNT, offsetof(request, depth), "N", "references followed from a start object", "3", 0, NULL},
    {"too-many", 0, OPT_COUNT, offsetof(request, too_many), "N",
     "references drawn per object, the rest become one\n\"N more references\" box", "10", OPTF_ZERO_ALL, NULL},
    {"max-nodes", 0, OPT_COUNT, offsetof(request, max_nodes), "N", "objects drawn at most", "100", OPTF_ZERO_ALL,
     NULL},
    {"filter-type", 0, OPT_LIST, offsetof(request, filters), "NAME",
     "draw and follow only objects of type NAME (repeatable)", NULL, 0, NULL},
    {"exclude-type", 0, OPT_LIST, offsetof(request, excludes), "NAME",
     "neither draw nor follow objects of type NAME\n(repeatable)", NULL, 0, NULL},
    {"highlight", 0, OPT_LIST, offsetof(request, highlights), "NAME", "fill the objects of type NAME red (repeatable)",
     NULL, 0, NULL},
    {"no-weak", 0, OPT_FLAG, offsetof(request, no_weak), NULL, "leave weak references out", NULL, 0, NULL},
    OPT_GROUP("output:"),
    {"output", 'o', OPT_STRING, offsetof(request, output), "FILE",
     "write FILE instead of DOT on standard output; never\nthe DUMP", NULL, 0, NULL},
    {"format", 0, OPT_STRING, offsetof(request, format), "FMT",
     "dot, png, svg or pdf (default: FILE's extension, else\ndot)", NULL, 0, NULL},
    OPT_END,
};

static int add_start(uint32_t **start, uint32_t *n, uint32_t o)
{
    for (uint32_t i = 0; i < *n; i++)
        if ((*start)[i] == o)
            return 0;
    *start = xrealloc(*start, (*n + 1) * sizeof **start);
    (*start)[(*n)++] = o;
    return 0;
}

/* The start objects, or an exit status after a message. */
static int collect_starts(const request *q, const hd_dump *d, const char *path, uint32_t **start, uint32_t *n)
{
    for (size_t i = 0; i < q->ids.n; i++) {
        object_id id;
        parse_object_id(&cmd_graph, q->ids.v[i], &id); /* checked after parsing options */
        uint32_t o = find_object_or_report("graph", d, path, &id);
        if (o == HD_NONE)
            return EXIT_INVALID;
        add_start(start, n, o);
    }
    if (q->types.n) {
        uint8_t *types = xcalloc(hd_type_count(d) + 1, 1);
        bool ok = true;
        for (size_t i = 0; i < q->types.n && ok; i++)
            ok = mark_types_named("graph", d, path, q->types.v[i], types);
        uint64_t taken = 0;
        for (uint32_t o = 0; ok && o < hd_object_count(d) && (!q->max || taken < q->max); o++)
            if (types[hd_object_type(d, o)]) {
                add_start(start, n, o);
                taken++;
            }
        free(types);
        if (!ok)
            return EXIT_INVALID;
        if (!taken) {
            fputs("heaptool: graph: no objects of type '", stderr);
            for (size_t i = 0; i < q->types.n; i++) {
                fputs(i ? "' or '" : "", stderr);
                print_escaped(stderr, q->types.v[i]);
            }
            fputs("' in '", stderr);
            print_escaped(stderr, path);
            fputs("'\n", stderr);
            return EXIT_INVALID;
        }
    }
    if (q->top_retainers) {
        hd_dominators *dom;
        int rc = hd_dominators_compute(d, &dom);
        if (rc)
            return report_status("graph", rc);
        uint32_t k = q->top_retainers > UINT32_MAX ? UINT32_MAX : (uint32_t)q->top_retainers;
        uint32_t reachable = hd_dominators_reachable(dom);
        k = k < reachable ? k : reachable;
        uint32_t *top = xmalloc((size_t)k * sizeof *top);
        k = hd_dominators_top(dom, k, top);
        for (uint32_t i = 0; i < k; i++)
            add_start(start, n, top[i]);
        free(top);
        hd_dominators_free(dom);
        if (!k) {
            fputs("heaptool: graph: --top-retainers: no object is reachable from a root in '", stderr);
            print_escaped(stderr, path);
            fputs("'\n", stderr);
            return EXIT_INVALID;
        }
    }
    return EXIT_OK;
}

static int write_output(const request *q, const char *format, const char *dot, size_t len, const hd_graph *g)
{
    hd_error err;
    int rc = HD_OK;
    if (q->output) {
        if (!strcmp(format, "dot"))
            rc = hd_write_file_atomic(q->output, dot, len, &err);
        else
            rc = hd_render_file(dot, len, format, q->output, &err);
    } else if (!strcmp(format, "dot")) {
        fwrite(dot, 1, len, stdout);
    } else {
        void *data;
        size_t n;
        if (!(rc = hd_render_data(dot, len, format, &data, &n, &err))) {
            fwrite(data, 1, n, stdout);
            free(data);
        }
    }
    if (rc == HD_ENOMEM)
        return report_status("graph", rc);
    if (rc) {
        fputs("heaptool: graph: ", stderr);
        print_escaped(stderr, err.message);
        fputc('\n', stderr);
        return EXIT_IO;
    }
    if (q->output) {
        char a[48], b[48];
        uint32_t refs = 0;
        for (uint32_t e = 0; e < g->nedges; e++)
            refs += g->edges[e].kind != HD_GEDGE_MORE;
        fputs("wrote ", stdout);
        print_escaped(stdout, q->output); /* a file name may hold control characters too */
        printf(": %s, %s", plural(g->nobjects, "object", a), plural(refs, "reference", b));
        if (g->omitted)
            printf(" (%" PRIu64 " more not drawn)", g->omitted);
        putchar('\n');
    }
    return EXIT_OK;
}

/* The type masks for --filter-type, --exclude-type (and V8's internals) and --highlight; false
 * after a message naming a type that is not there. */
static bool make_masks(const request *q, const hd_dump *d, const char *path, hd_graph_options *opts,
                       type_mask *filter, type_mask *highlight)
{
    uint32_t ntypes = hd_type_count(d);
    uint8_t *excluded = xcalloc(ntypes + 1, 1);
    bool ok = true, hides = false;
    for (size_t i = 0; i < q->filters.n && ok; i++)
        ok = mark_types_named("graph", d, path, q->filters.v[i], filter->types);
    for (size_t i = 0; i < q->excludes.n && ok; i++)
        ok = mark_types_named("graph", d, path, q->excludes.v[i], excluded);
    for (size_t i = 0; i < q->highlights.n && ok; i++)
        ok = mark_types_named("graph", d, path, q->highlights.v[i], highlight->types);
    for (uint32_t t = 0; t < ntypes; t++) {
        hides |= hidden_type(d, t); /* V8's internal objects, unless --internals */
        filter->types[t] = (filter->types[t] || !q->filters.n) && !excluded[t] && !hidden_type(d, t);
    }
    free(excluded);
    if (q->filters.n || q->excludes.n || hides) {
        opts->filter = mask_accepts;
        opts->filter_user = filter;
    }
    if (q->highlights.n) {
        opts->highlight = mask_accepts;
        opts->highlight_user = highlight;
    }
    return ok;
}

/* --backrefs: the objects at the depth limit that have referrers and are not roots, i.e. where
 * the walk stopped before reaching a root. */
static uint32_t stopped_at_depth(const hd_dump *d, const hd_graph *g, uint64_t depth)
{
    hd_referrers *refs;
    if (hd_referrers_build(d, &refs))
        return 0; /* out of memory: the picture is right, only the note is missing */
    uint32_t cut = 0;
    for (uint32_t i = 0; i < g->nnodes; i++) {
        const hd_graph_node *n = &g->nodes[i];
        cut += n->object != HD_NONE && n->depth >= depth && !(n->flags & HD_GNODE_ROOT) &&
               refs->offsets[n->object + 1] > refs->offsets[n->object];
    }
    hd_referrers_free(refs);
    return cut;
}

/* A caption under the picture: DOT's graph label, put before the closing brace. */
static void add_caption(char **dot, size_t *len, const char *text)
{
    char *end = strrchr(*dot, '}');
    char *with = xasprintf("%.*s  label=\"%s\";\n  labelloc=b;\n%s", (int)(end - *dot), *dot, text, end);
    free(*dot);
    *dot = with;
    *len = strlen(with);
}

/* The graph the request asks for, or an exit status after a message. */
static int build(const request *q, const hd_dump *d, const char *path, hd_graph **g)
{
    hd_graph_options opts;
    hd_graph_options_init(&opts);
    opts.direction = q->backrefs ? HD_GRAPH_REFERRERS : HD_GRAPH_REFERENTS;
    opts.max_depth = q->depth > UINT32_MAX ? UINT32_MAX : (uint32_t)q->depth;
    opts.too_many = q->too_many > UINT32_MAX ? UINT32_MAX : (uint32_t)q->too_many;
    opts.max_nodes = q->max_nodes > UINT32_MAX ? UINT32_MAX : (uint32_t)q->max_nodes;
    opts.no_weak = q->no_weak;
    uint32_t ntypes = hd_type_count(d), *start = NULL, nstart = 0;
    type_mask filter = {xcalloc(ntypes + 1, 1)}, highlight = {xcalloc(ntypes + 1, 1)};
    int rc = make_masks(q, d, path, &opts, &filter, &highlight) ? EXIT_OK : EXIT_INVALID;
    if (!rc && q->chain) {
        object_id id;
        parse_object_id(&cmd_graph, q->chain, &id);
        uint32_t o = find_object_or_report("graph", d, path, &id);
        if (o == HD_NONE)
            rc = EXIT_INVALID;
        else if ((rc = hd_graph_chain(d, o, &opts, g)))
            rc = report_status("graph", rc);
    } else if (!rc && !(rc = collect_starts(q, d, path, &start, &nstart))) {
        if ((rc = hd_graph_build(d, start, nstart, &opts, g)))
            rc = report_status("graph", rc);
    }
    free(start);
    free(filter.types);
    free(highlight.types);
    return rc;
}

static int draw(const request *q, const hd_dump *d, const char *path, const char *format)
{
    hd_graph *g = NULL;
    char *dot = NULL;
    size_t len = 0;
    int rc = build(q, d, path, &g);
    if (!rc && (rc = hd_dot_string(d, g, &dot, &len)))
        rc = report_status("graph", rc);
    uint32_t cut = !rc && q->backrefs ? stopped_at_depth(d, g, q->depth) : 0;
    char *note = cut ? xasprintf("stopped at --depth %" PRIu64 " before reaching a root: %" PRIu32 " object%s "
                                 "ha%s referrers not drawn", q->depth, cut, cut == 1 ? "" : "s", cut == 1 ? "s" : "ve")
                     : NULL;
    if (note)
        add_caption(&dot, &len, note);
    if (!rc)
        rc = write_output(q, format, dot, len, g);
    if (!rc && note)
        fprintf(stderr, "heaptool: graph: --backrefs %s; a larger --depth draws more ('heaptool path' shows "
                        "one whole chain)\n", note);
    if (!rc && g->truncated)
        fprintf(stderr, "heaptool: graph: stopped at %" PRIu32 " objects (--max-nodes); the rest are "
                        "drawn as \"more\" boxes\n", g->nobjects);
    if (!rc && q->chain && g->chain_root == HD_NONE) {
        char *ref = objref(d, g->nodes[0].object, false);
        fputs("heaptool: graph: ", stderr);
        print_escaped(stderr, ref);
        fputs(" is unreachable from every root: drawn alone\n", stderr);
        free(ref);
        rc = EXIT_FOUND;
    }
    free(note);
    free(dot);
    hd_graph_free(g);
    return rc;
}

/* Checks what the table cannot: ids, formats, and which options go together. */
static int check_request(request *q, const operands *ops)
{
    object_id id;
    for (size_t i = 0; i < q->ids.n; i++)
        if (!parse_object_id(&cmd_graph, q->ids.v[i], &id))
            return EXIT_USAGE;
    if (q->chain && !parse_object_id(&cmd_graph, q->chain, &id))
        return EXIT_USAGE;
    if (option_given(&cmd_graph, ops, "top-retainers") && !q->top_retainers)
        return usage_error(&cmd_graph, "graph: --top-retainers needs at least 1");
    const char *format = q->format;
    if (format && !(q->format = format_named(format)))
        return usage_error(&cmd_graph, "graph: unknown format '%s' (dot, png, svg or pdf)", format);
    bool starts = q->ids.n || q->types.n || q->top_retainers;
    if (q->chain && (starts || q->backrefs))
        return usage_error(&cmd_graph, "graph: --chain draws one chain; it takes no --id, --type, "
                                       "--top-retainers or --backrefs");
    if (!q->chain && !starts)
        return usage_error(&cmd_graph, "graph: say where to start: --id, --type, --top-retainers or --chain");
    if (option_given(&cmd_graph, ops, "max") && !q->types.n)
        return usage_error(&cmd_graph, "graph: --max goes with --type");
    return OPTIONS_GO_ON;
}

/* Where the drawing goes: q->format becomes the format drawn (--format, else -o's extension,
 * else DOT); never the input dump, never PNG or PDF to a terminal. */
static int check_output(request *q, const char *path)
{
    const char *format = q->format;
    if (q->output) {
        if (!q->output[0] || !strcmp(q->output, "-"))
            return usage_error(&cmd_graph, "graph: -o needs a file name (without -o, DOT goes to stdout)");
        if (strcmp(path, "-") && same_file(path, q->output))
            return usage_error(&cmd_graph, "graph: refusing to overwrite the input dump '%s'", path);
        const char *dot = strrchr(q->output, '.'), *slash = strrchr(q->output, '/');
        const char *ext = dot && (!slash || dot > slash) ? format_named(dot + 1) : NULL;
        if (!format && !ext)
            return usage_error(&cmd_graph, "graph: cannot tell the format of '%s': name it .dot, .png, "
                                           ".svg or .pdf, or give --format", q->output);
        format = format ? format : ext;
    }
    q->format = format ? format : "dot";
    if (!q->output && strcmp(q->format, "dot") && strcmp(q->format, "svg") && isatty(STDOUT_FILENO))
        return usage_error(&cmd_graph, "graph: not writing %s to a terminal; use -o FILE", q->format);
    return OPTIONS_GO_ON;
}

static int check_graph(const command *cmd, void *values, const operands *ops)
{
    (void)cmd;
    int rc = check_request(values, ops);
    return rc == OPTIONS_GO_ON ? check_output(values, ops->v[0]) : rc;
}

static int graph_run(int argc, char **argv)
{
    request q = {.max = 10, .depth = 3, .too_many = 10, .max_nodes = 100};
    operands ops;
    hd_dump *d;
    int rc = options_parse_dump(&cmd_graph, argc, argv, &q, &ops, check_graph, &d);
    if (rc == OPTIONS_GO_ON) {
        rc = draw(&q, d, ops.v[0], q.format);
        hd_dump_free(d);
    }
    string_list_free(&q.ids);
    string_list_free(&q.types);
    string_list_free(&q.filters);
    string_list_free(&q.excludes);
    string_list_free(&q.highlights);
    return rc;
}

const command cmd_graph = {
    "graph", "draw objects and their references (DOT, PNG, SVG, PDF)", "DUMP",
    "Draws objects and the references around them, as objgraph's show_refs, show_backrefs\n"
    "and show_chain do: DOT on standard output, or PNG, SVG or PDF rendered by Graphviz.\n",
    graph_options,
    "Start objects have red text; boxes grow darker with depth; roots are green with a\n"
    "double border and their kind; objects whose type has a finalizer have an orange\n"
    "border; edges carry the field, index or key; weak references are dashed; edges\n"
    "inside a reference cycle are red.\n\n"
    "exit status: 0 drawn; 1 --chain: no root reaches the object (drawn alone); 2 usage;\n"
    "3 no such object or type (or the dump is invalid); 4 unreadable dump, or the output\n"
    "cannot be rendered or written.\n",
    graph_run,
};
