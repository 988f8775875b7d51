/* cmd_show.c: `heaptool show`: one object's record, its referents and referrers with edge names,
 * the roots that name it and the weak references to (or from) it. */
#include "analysis.h"
#include "options.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct show_args {
    uint64_t top;
    bool json;
} show_args;

static const option_spec show_options[] = {
    OPT_TOP(show_args, top, "list at most N referents and N referrers", "50"),
    OPT_JSON(show_args, json),
    OPT_END,
};

typedef struct facts {
    uint32_t *ref_sources, *ref_edges; /* its referrers (hd_referrers_of) */
    uint64_t nrefs;
    hd_reach *reach;
    hd_dominators *dom;
    uint32_t o;
} facts;

static char *type_text(const hd_dump *d, uint32_t t)
{
    unsigned f = hd_type_flags(d, t);
    char size[16], *instance = NULL; /* a size of 0 is one the producer does not know (V8) */
    if (hd_type_size(d, t))
        instance = xasprintf(", instance size %s", human_size(hd_type_size(d, t), size));
    char *text = xasprintf("%s (type id %" PRIu64 "%s%s%s%s)", hd_type_name(d, t), hd_type_id(d, t),
                     instance ? instance : "", f & HD_TYPE_GC ? ", gc" : "",
                     f & HD_TYPE_FINALIZER ? ", finalizer" : "",
                     f & HD_TYPE_LEGACY_FINALIZER ? ", legacy finalizer" : "");
    free(instance);
    return text;
}

static char *flags_text(unsigned flags)
{
    char buf[128] = "";
    for (unsigned i = 0; i < 32; i++) {
        const char *name = flags & (1u << i) ? hd_object_flag_name(1u << i) : NULL;
        if (name) {
            if (buf[0])
                strcat(buf, ", ");
            strcat(buf, name);
        }
    }
    return xasprintf("%s", buf[0] ? buf : "-");
}

static void field(table *t, const char *name, const char *value) { table_row(t, name, value); }

/* A referent or a referrer: the edge between, and the object at its other end. */
typedef struct neighbour {
    uint64_t edge;
    uint32_t object;
} neighbour;

/* "referents (N):" and its table (edge and object, or object and edge for referrers), at most
 * top rows (0: all), V8's internal objects left out and counted. */
static void print_neighbours(const hd_dump *d, const char *title, const neighbour *list, uint64_t n, uint64_t top)
{
    bool referents = title[5] == 'e'; /* "referents" / "referrers" */
    static const char *const rheads[] = {"edge", "object"}, *const fheads[] = {"object", "edge"};
    printf("\n%s (%" PRIu64 "):\n", title, n);
    table t;
    table_init(&t, 2, referents ? rheads : fheads, "ll");
    uint64_t shown = 0, hidden = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (hidden_type(d, hd_object_type(d, list[i].object))) {
            hidden++;
            continue;
        }
        if (top && shown >= top)
            continue;
        shown++;
        char *el = edge_label_of(d, list[i].edge), *obj = objref(d, list[i].object, true);
        table_row(&t, referents ? el : obj, referents ? obj : el);
        free(el);
        free(obj);
    }
    if (shown)
        table_print(&t, stdout, "  ");
    table_free(&t);
    if (shown + hidden < n)
        printf("  ... %" PRIu64 " more\n", n - shown - hidden);
    if (hidden)
        printf("  (%" PRIu64 " V8 internal object%s left out; --internals shows them)\n", hidden, hidden == 1 ? "" : "s");
}

/* The record's own fields: id, type, size, refcount, generation, flags, site. */
static void record_rows(table *t, const hd_dump *d, uint32_t o)
{
    char buf[32], size[16];
    char *s = type_text(d, hd_object_type(d, o));
    field(t, "id", fmt_u64(hd_object_id(d, o), buf));
    field(t, "type", s);
    free(s);
    field(t, "size", human_size(hd_object_size(d, o), size));
    uint32_t rc = hd_object_rc(d, o); /* what the producer does not record is left out */
    if (rc != HD_RC_UNKNOWN)
        field(t, "refcount", fmt_u64(rc, buf));
    unsigned gen = hd_object_gen(d, o);
    if (gen != HD_GEN_UNKNOWN)
        field(t, "generation", fmt_u64(gen, buf));
    if (hd_dump_format(d) != HD_FORMAT_V8) {
        s = flags_text(hd_object_flags(d, o));
        field(t, "flags", s);
        free(s);
    }
    uint32_t site = hd_object_site(d, o);
    if (site != HD_NONE) {
        s = site_text(hd_site_file(d, site), hd_site_line(d, site), hd_site_function(d, site));
        field(t, "site", s);
        free(s);
    }
}

/* What keeps it alive: the roots that name it, its state, retained size and dominators, and the
 * weak reference it is. */
static void liveness_rows(table *t, const hd_dump *d, const facts *f)
{
    uint32_t o = f->o;
    char *s;
    for (uint32_t r = 0; r < hd_root_count(d); r++)
        if (hd_root_object(d, r) == o) {
            s = root_label(d, r);
            field(t, "root", s);
            free(s);
        }
    uint8_t st = f->reach->state[o];
    if (st == HD_REACH_UNREACHABLE)
        s = xasprintf("garbage: unreachable from every root");
    else if (f->reach->depth[o] == 0)
        s = xasprintf("%s: a root itself", state_word(st));
    else
        s = xasprintf("%s: %" PRIu32 " reference%s from a%s root (heaptool path shows them)",
                      state_word(st), f->reach->depth[o], f->reach->depth[o] == 1 ? "" : "s",
                      st == HD_REACH_UNCOLLECTABLE ? " garbage" : "");
    field(t, "state", s);
    free(s);
    if (hd_dominator_of(f->dom, o) != HD_NONE) {
        char hsize[16];
        uint64_t total = hd_total_size(d), retained = hd_retained_size(f->dom, o);
        s = xasprintf("%s (%.1f%% of the heap)", human_size(retained, hsize),
                      total ? 100.0 * (double)retained / (double)total : 0.0);
        field(t, "retained", s);
        free(s);
        chains ch;
        chains_init(&ch, d, f->dom, 1);
        s = dominator_chain(&ch, o);
        chains_free(&ch);
        field(t, "dominators", s);
        free(s);
    }
    for (uint32_t w = 0; w < hd_weakref_count(d); w++)
        if (hd_weakref_object(d, w) == o) {
            uint32_t ref_o = hd_weakref_referent(d, w);
            char *r = ref_o == HD_NONE ? xasprintf("none (the referent is dead)") : objref(d, ref_o, true);
            s = xasprintf("referent %s%s", r, hd_weakref_has_callback(d, w) ? ", with callback" : "");
            field(t, "weakref", s);
            free(s);
            free(r);
        }
}

/* Its referents (or referrers, the other way): what both the text and the JSON list. */
static neighbour *neighbours_of(const hd_dump *d, const facts *f, bool referents, uint64_t *n)
{
    uint64_t first = 0, end = f->nrefs;
    if (referents)
        hd_object_edges(d, f->o, &first, &end);
    neighbour *list = xmalloc((end - first + 1) * sizeof *list);
    for (uint64_t k = first; k < end; k++)
        list[k - first] = referents ? (neighbour){k, hd_edge_target(d, k)}
                                    : (neighbour){f->ref_edges[k], f->ref_sources[k]};
    *n = end - first;
    return list;
}

static void print_weak_referrers(const hd_dump *d, uint32_t o)
{
    table t;
    uint32_t nweak = 0;
    for (uint32_t w = 0; w < hd_weakref_count(d); w++)
        nweak += hd_weakref_referent(d, w) == o;
    printf("\nweak references to it (%" PRIu32 "):\n", nweak);
    static const char *const wheads[] = {"weakref", "callback"};
    table_init(&t, 2, wheads, "ll");
    for (uint32_t w = 0; w < hd_weakref_count(d); w++)
        if (hd_weakref_referent(d, w) == o) {
            char *obj = objref(d, hd_weakref_object(d, w), true);
            table_row(&t, obj, hd_weakref_has_callback(d, w) ? "yes" : "no");
            free(obj);
        }
    if (nweak)
        table_print(&t, stdout, "  ");
    table_free(&t);
}

static void print_text(const hd_dump *d, const facts *f, uint64_t top)
{
    char *ref = objref(d, f->o, true);
    print_escaped(stdout, ref);
    putchar('\n');
    free(ref);
    table t;
    table_init(&t, 2, NULL, "ll");
    record_rows(&t, d, f->o);
    liveness_rows(&t, d, f);
    table_print(&t, stdout, "  ");
    table_free(&t);
    for (int referents = 1; referents >= 0; referents--) {
        uint64_t n;
        neighbour *list = neighbours_of(d, f, referents, &n);
        print_neighbours(d, referents ? "referents" : "referrers", list, n, top);
        free(list);
    }
    print_weak_referrers(d, f->o);
}

static void jw_type(json_writer *w, const hd_dump *d, uint32_t t)
{
    jw_object_begin(w);
    jw_key(w, "id");
    jw_uint(w, hd_type_id(d, t));
    jw_key(w, "name");
    jw_string(w, hd_type_name(d, t));
    jw_key(w, "size");
    jw_uint(w, hd_type_size(d, t));
    const char *flags[] = {"gc", "finalizer", "legacy_finalizer"};
    const unsigned bits[] = {HD_TYPE_GC, HD_TYPE_FINALIZER, HD_TYPE_LEGACY_FINALIZER};
    for (int i = 0; i < 3; i++) {
        jw_key(w, flags[i]);
        jw_bool(w, hd_type_flags(d, t) & bits[i]);
    }
    jw_object_end(w);
}

/* The record's own fields, as record_rows. */
static void jw_record(json_writer *w, const hd_dump *d, uint32_t o)
{
    jw_key(w, "object");
    jw_objref(w, d, o);
    jw_key(w, "type");
    jw_type(w, d, hd_object_type(d, o));
    jw_key(w, "size");
    jw_uint(w, hd_object_size(d, o));
    jw_key(w, "rc");
    if (hd_object_rc(d, o) == HD_RC_UNKNOWN)
        jw_null(w);
    else
        jw_uint(w, hd_object_rc(d, o));
    jw_key(w, "gen");
    if (hd_object_gen(d, o) == HD_GEN_UNKNOWN)
        jw_null(w);
    else
        jw_uint(w, hd_object_gen(d, o));
    jw_key(w, "flags");
    jw_array_begin(w);
    for (unsigned i = 0; i < 32; i++)
        if ((hd_object_flags(d, o) & (1u << i)) && hd_object_flag_name(1u << i))
            jw_string(w, hd_object_flag_name(1u << i));
    jw_array_end(w);
    jw_key(w, "site");
    jw_site_of(w, d, hd_object_site(d, o));
}

/* What keeps it alive, as liveness_rows (the weak reference it is comes last, in jw_weak). */
static void jw_liveness(json_writer *w, const hd_dump *d, const facts *f)
{
    uint32_t o = f->o;
    jw_key(w, "roots");
    jw_array_begin(w);
    for (uint32_t r = 0; r < hd_root_count(d); r++)
        if (hd_root_object(d, r) == o)
            jw_root(w, d, r);
    jw_array_end(w);
    jw_key(w, "state");
    jw_string(w, state_word(f->reach->state[o]));
    jw_key(w, "depth");
    if (f->reach->state[o] == HD_REACH_UNREACHABLE)
        jw_null(w);
    else
        jw_uint(w, f->reach->depth[o]);
    jw_key(w, "retained");
    if (hd_dominator_of(f->dom, o) != HD_NONE)
        jw_uint(w, hd_retained_size(f->dom, o));
    else
        jw_null(w);
    chains ch;
    chains_init(&ch, d, f->dom, 1);
    jw_dominators(w, &ch, o);
    chains_free(&ch);
}

static void jw_neighbours(json_writer *w, const hd_dump *d, const facts *f, bool referents, uint64_t top)
{
    uint64_t n;
    neighbour *list = neighbours_of(d, f, referents, &n);
    jw_key(w, referents ? "referents_total" : "referrers_total");
    jw_uint(w, n);
    jw_key(w, referents ? "referents" : "referrers");
    jw_array_begin(w);
    for (uint64_t i = 0; i < n && (top == 0 || i < top); i++) {
        jw_object_begin(w);
        jw_key(w, referents ? "edge" : "object");
        if (referents)
            jw_string(w, hd_edge_name(d, list[i].edge));
        else
            jw_objref(w, d, list[i].object);
        jw_key(w, referents ? "object" : "edge");
        if (referents)
            jw_objref(w, d, list[i].object);
        else
            jw_string(w, hd_edge_name(d, list[i].edge));
        jw_object_end(w);
    }
    jw_array_end(w);
    free(list);
}

/* The weak references to it, and the one it is (null when it is none). */
static void jw_weak(json_writer *w, const hd_dump *d, uint32_t o)
{
    jw_key(w, "weakrefs");
    jw_array_begin(w);
    for (uint32_t k = 0; k < hd_weakref_count(d); k++)
        if (hd_weakref_referent(d, k) == o) {
            jw_object_begin(w);
            jw_key(w, "weakref");
            jw_objref(w, d, hd_weakref_object(d, k));
            jw_key(w, "callback");
            jw_bool(w, hd_weakref_has_callback(d, k));
            jw_object_end(w);
        }
    jw_array_end(w);
    jw_key(w, "weakref");
    for (uint32_t k = 0; k < hd_weakref_count(d); k++)
        if (hd_weakref_object(d, k) == o) {
            jw_object_begin(w);
            jw_key(w, "referent");
            if (hd_weakref_referent(d, k) == HD_NONE)
                jw_null(w);
            else
                jw_objref(w, d, hd_weakref_referent(d, k));
            jw_key(w, "callback");
            jw_bool(w, hd_weakref_has_callback(d, k));
            jw_object_end(w);
            return;
        }
    jw_null(w);
}

static void print_json(const char *path, const hd_dump *d, const facts *f, uint64_t top)
{
    json_writer w;
    jw_init(&w, stdout);
    jw_object_begin(&w);
    jw_key(&w, "dump");
    jw_string(&w, path);
    jw_record(&w, d, f->o);
    jw_liveness(&w, d, f);
    jw_neighbours(&w, d, f, true, top);
    jw_neighbours(&w, d, f, false, top);
    jw_weak(&w, d, f->o);
    jw_object_end(&w);
    jw_finish(&w);
}

static int show_run(int argc, char **argv)
{
    show_args a = {.top = 50};
    operands ops;
    hd_dump *d;
    facts f = {NULL, NULL, 0, NULL, NULL, HD_NONE};
    int rc = options_parse_dump_object(&cmd_show, argc, argv, &a, &ops, &d, &f.o);
    if (rc != OPTIONS_GO_ON)
        return rc;
    const char *path = ops.v[0];
    if ((rc = hd_referrers_of(d, f.o, &f.ref_sources, &f.ref_edges, &f.nrefs)) || (rc = hd_reach_compute(d, &f.reach)) ||
        (rc = hd_dominators_compute(d, &f.dom))) {
        free(f.ref_sources);
        hd_reach_free(f.reach);
        hd_dump_free(d);
        return report_status("show", rc);
    }
    if (a.json)
        print_json(path, d, &f, a.top);
    else
        print_text(d, &f, a.top);
    free(f.ref_sources);
    hd_reach_free(f.reach);
    hd_dominators_free(f.dom);
    hd_dump_free(d);
    return EXIT_OK;
}

const command cmd_show = {
    "show", "one object: record, referents, referrers, weakrefs", "DUMP ID",
    "One object (ID is a number, TYPE#NUMBER or @NUMBER): its record (type, size, refcount,\n"
    "generation, flags, allocation site, label), the roots that name it, whether a root\n"
    "keeps it alive, its retained size and dominator chain, its referents and referrers\n"
    "with edge names, and its weak references.\n",
    show_options,
    "exit status: 0 shown; 3 no object has that id or type (or the dump is invalid);\n"
    "2 usage; 4 unreadable file.\n",
    show_run,
};
