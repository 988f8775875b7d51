/* cmd_diff.c: `heaptool diff`: two dumps of one process compared object by object (objgraph's
 * show_growth and get_new_ids, DevTools' Comparison view, tracemalloc's compare_to), memlab's
 * leak rule with a third dump, and a growth gate for CI. */
#include "analysis.h"
#include "options.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct opts {
    int by; /* enum hd_diff_by */
    uint64_t top, growth_limit;
    bool json, new_ids, force, gate;
    const char *final_path;
    string_list types; /* --type: what --new-ids and --final list */
} opts;

static const char *const by_words[] = {"type", "site", NULL}; /* enum hd_diff_by */

static const option_spec diff_options[] = {
    {"by", 'b', OPT_CHOICE, offsetof(opts, by), "KEY", "group by 'type' (default) or allocation 'site'", NULL, 0,
     by_words},
    OPT_TOP(opts, top, "show the N rows with the most growth", "20"),
    {"new-ids", 0, OPT_FLAG, offsetof(opts, new_ids), NULL, "list the objects new in NEW (objgraph's get_new_ids)",
     NULL, 0, NULL},
    {"final", 0, OPT_STRING, offsetof(opts, final_path), "FINAL",
     "memlab's leak rule: objects allocated between OLD and\nNEW and still alive in FINAL, by type and by "
     "retainer\npath in FINAL", NULL, 0, NULL},
    {"type", 0, OPT_LIST, offsetof(opts, types), "NAME",
     "with --new-ids or --final: only objects of type NAME\n(repeatable)", NULL, 0, NULL},
    {"fail-on-growth", 0, OPT_COUNT, offsetof(opts, growth_limit), "N",
     "exit 1 when some type grew by more than N objects", NULL, 0, NULL},
    {"force", 0, OPT_FLAG, offsetof(opts, force), NULL, "compare dumps from different processes or producers\nanyway",
     NULL, 0, NULL},
    OPT_JSON(opts, json),
    OPT_END,
};

static bool changed(const hd_diff_row *r)
{
    return r->count_delta || r->added || r->deleted || r->size_delta;
}

static char *row_key(const hd_diff_row *r)
{
    if (r->type)
        return xasprintf("%s", r->type);
    return site_text(r->file, r->line, r->function);
}

/* Refuses (or, forced, warns about) dumps whose ids cannot be matched. */
static bool compatible(const char *pa, const hd_dump *a, const char *pb, const hd_dump *b, bool force)
{
    unsigned c = hd_dump_compat(a, b);
    if (c == HD_COMPAT_SAME && hd_meta_pid(a) < 0 && hd_meta_pid(b) < 0) {
        fputs("heaptool: diff: note: '", stderr);
        print_escaped(stderr, pa);
        fputs("' and '", stderr);
        print_escaped(stderr, pb);
        fputs("' carry no process identity (no pid); objects are matched by id, which holds only for "
              "two dumps of one process\n", stderr);
    }
    if (c == HD_COMPAT_SAME)
        return true;
    bool fatal = (c & (HD_COMPAT_PRODUCER | HD_COMPAT_PID)) && !force;
    fputs(fatal ? "heaptool: diff: '" : "heaptool: diff: warning: '", stderr);
    print_escaped(stderr, pa);
    fputs("' and '", stderr);
    print_escaped(stderr, pb);
    fputs("' ", stderr);
    if (c & HD_COMPAT_PRODUCER) {
        fputs("come from different producers ('", stderr);
        print_escaped(stderr, hd_meta_producer(a));
        fputs("' and '", stderr);
        print_escaped(stderr, hd_meta_producer(b));
        fputs("')", stderr);
    } else if (c & HD_COMPAT_PID) {
        fprintf(stderr, "come from different processes (pid %" PRId64 " and %" PRId64 ")",
                hd_meta_pid(a), hd_meta_pid(b));
    } else {
        fprintf(stderr, "have different format versions (%" PRIu32 " and %" PRIu32 ")", hd_version(a),
                hd_version(b));
    }
    if (c & (HD_COMPAT_PRODUCER | HD_COMPAT_PID))
        fputs(fatal ? "; object ids match only within one process (--force compares anyway)\n"
                    : "; object ids may not match\n", stderr);
    else
        fputc('\n', stderr);
    return !fatal;
}

static char *shape_text(const hd_dump *f, const hd_leak_trace *t)
{
    if (!t->nsteps)
        return xasprintf("(unreachable in FINAL: garbage)");
    char *root = root_label_by_name(f, t->root);
    char *s = xasprintf("%s %s", root, hd_type_name(f, t->steps[0].type));
    free(root);
    for (uint32_t i = 1; i < t->nsteps; i++) {
        char *e = edge_label(t->steps[i].edge);
        const char *ty = hd_type_name(f, t->steps[i].type);
        char *next = t->steps[i].repeated ? xasprintf("%s (%s → %s)+", s, e, ty)
                                          : xasprintf("%s %s → %s", s, e, ty);
        free(e);
        free(s);
        s = next;
    }
    return s;
}

static void print_rows(const hd_dump *new_, const hd_diff *df, uint64_t top)
{
    static const char *const heads[] = {"type", "before", "after", "delta", "new", "deleted",
                                        "allocated", "freed", "size delta"};
    static const char *const site_heads[] = {"site", "before", "after", "delta", "new", "deleted",
                                             "allocated", "freed", "size delta"};
    table t;
    table_init(&t, 9, df->by == HD_DIFF_BY_TYPE ? heads : site_heads, "lrrrrrrrr");
    uint32_t nchanged = 0, shown = 0;
    for (uint32_t i = 0; i < df->nrows; i++) {
        const hd_diff_row *r = &df->rows[i];
        if (!changed(r) || (r->type && hidden_type_name(new_, r->type)))
            continue;
        nchanged++;
        if (top && shown >= top)
            continue;
        shown++;
        char a[32], b[32], c[32], e[32], f[32], g[16], h[16], k[32];
        char *key = row_key(r);
        table_row(&t, key, fmt_u64(r->count_old, a), fmt_u64(r->count_new, b), fmt_delta(r->count_delta, c),
                  fmt_u64(r->added, e), fmt_u64(r->deleted, f), human_size(r->allocated, g),
                  human_size(r->freed, h), fmt_size_change(r->size_old, r->size_new, k));
        free(key);
    }
    if (nchanged) {
        table_print(&t, stdout, "");
        if (shown < nchanged)
            printf("... %" PRIu32 " more row%s (--top 0 shows all)\n", nchanged - shown,
                   nchanged - shown == 1 ? "" : "s");
    } else {
        printf("no changes\n");
    }
    table_free(&t);
}

static void print_leaks_text(const hd_dump *f, const hd_leak_report *rep, uint64_t top)
{
    char size[16];
    printf("\nleaked (allocated between OLD and NEW, still alive in FINAL): %" PRIu32 " object%s",
           rep->nleaked, rep->nleaked == 1 ? "" : "s");
    if (!rep->nleaked) {
        putchar('\n');
        return;
    }
    printf(", %s\n", human_size(rep->leaked_size, size));
    print_type_table(stdout, f, rep->by_type, rep->ntypes, top, "  ");
    printf("\nretainer paths in FINAL (%" PRIu32 "):\n", rep->ntraces);
    static const char *const heads[] = {"count", "size", "example", "path from a root"};
    table t;
    table_init(&t, 4, heads, "rrll");
    uint32_t shown = 0;
    for (uint32_t i = 0; i < rep->ntraces && (top == 0 || shown < top); i++, shown++) {
        const hd_leak_trace *tr = &rep->traces[i];
        char c[32];
        char *ex = objref(f, tr->example, false), *path = shape_text(f, tr);
        table_row(&t, fmt_u64(tr->count, c), human_size(tr->size, size), ex, path);
        free(ex);
        free(path);
    }
    table_print(&t, stdout, "  ");
    table_free(&t);
    if (shown < rep->ntraces)
        printf("  ... %" PRIu32 " more path%s\n", rep->ntraces - shown, rep->ntraces - shown == 1 ? "" : "s");
}

static void jw_row(json_writer *w, const hd_diff_row *r)
{
    jw_object_begin(w);
    if (r->type) {
        jw_key(w, "type");
        jw_string(w, r->type);
    } else {
        jw_key(w, "site");
        jw_site(w, r->file, r->line, r->function);
    }
    const char *keys[] = {"count_old", "count_new", "new", "deleted", "size_old", "size_new",
                          "allocated", "freed"};
    uint64_t vals[] = {r->count_old, r->count_new, r->added, r->deleted, r->size_old, r->size_new,
                       r->allocated, r->freed};
    for (int i = 0; i < 8; i++) {
        jw_key(w, keys[i]);
        jw_uint(w, vals[i]);
        if (i == 1) {
            jw_key(w, "count_delta");
            jw_int(w, r->count_delta);
        }
    }
    jw_key(w, "size_delta");
    jw_difference(w, r->size_new, r->size_old);
    jw_object_end(w);
}

static void jw_leaks(json_writer *w, const hd_dump *f, const hd_leak_report *rep, uint64_t top)
{
    jw_object_begin(w);
    jw_key(w, "count");
    jw_uint(w, rep->nleaked);
    jw_key(w, "size");
    jw_uint(w, rep->leaked_size);
    jw_key(w, "by_type");
    jw_type_stats(w, f, rep->by_type, rep->ntypes, top);
    jw_key(w, "paths");
    jw_array_begin(w);
    for (uint32_t i = 0; i < rep->ntraces && (top == 0 || i < top); i++) {
        const hd_leak_trace *tr = &rep->traces[i];
        jw_object_begin(w);
        jw_key(w, "count");
        jw_uint(w, tr->count);
        jw_key(w, "size");
        jw_uint(w, tr->size);
        jw_key(w, "state");
        jw_string(w, state_word(tr->state));
        jw_key(w, "example");
        jw_objref(w, f, tr->example);
        jw_key(w, "root");
        if (tr->nsteps)
            jw_root(w, f, tr->root);
        else
            jw_null(w);
        jw_key(w, "steps");
        jw_array_begin(w);
        for (uint32_t k = 0; k < tr->nsteps; k++) {
            jw_object_begin(w);
            jw_key(w, "edge");
            if (tr->steps[k].edge)
                jw_string(w, tr->steps[k].edge);
            else
                jw_null(w);
            jw_key(w, "type");
            jw_string(w, hd_type_name(f, tr->steps[k].type));
            jw_key(w, "repeated");
            jw_bool(w, tr->steps[k].repeated);
            jw_object_end(w);
        }
        jw_array_end(w);
        jw_object_end(w);
    }
    jw_array_end(w);
    jw_key(w, "ids");
    jw_object_ids(w, f, rep->leaked, rep->nleaked);
    jw_object_end(w);
}

/* What the text and the JSON both show, worked out once. */
typedef struct findings {
    const hd_dump *old, *new_, *fin;
    hd_diff *df, *types;       /* types: by type, for --fail-on-growth (df itself when by type) */
    uint32_t *added, nadded;   /* indices into NEW of the new objects, --type applied */
    hd_leak_report *rep;       /* --final, --type applied; NULL without --final */
    uint32_t grew;             /* types that grew past --fail-on-growth */
} findings;

static bool grew_too_much(const opts *o, const hd_diff_row *r)
{
    return r->count_delta > 0 && (uint64_t)r->count_delta > o->growth_limit;
}

/* The --type mask over d's types, all set without --type; false after a message. */
static bool type_mask_for(const opts *o, const hd_dump *d, const char *path, uint8_t **mask)
{
    *mask = xcalloc((size_t)hd_type_count(d) + 1, 1);
    memset(*mask, !o->types.n, hd_type_count(d));
    for (size_t i = 0; i < o->types.n; i++)
        if (!mark_types_named("diff", d, path, o->types.v[i], *mask))
            return false;
    return true;
}

/* Keeps the leaked objects, types and paths whose (last) type the mask accepts. */
static void filter_leaks(hd_leak_report *rep, const hd_dump *f, const uint8_t *mask)
{
    uint32_t k = 0;
    rep->leaked_size = 0;
    for (uint32_t i = 0; i < rep->nleaked; i++)
        if (mask[hd_object_type(f, rep->leaked[i])]) {
            rep->leaked[k++] = rep->leaked[i];
            uint64_t size = hd_object_size(f, rep->leaked[i]);
            rep->leaked_size = rep->leaked_size + size < size ? UINT64_MAX : rep->leaked_size + size;
        }
    rep->nleaked = k;
    k = 0;
    for (uint32_t i = 0; i < rep->ntypes; i++)
        if (mask[rep->by_type[i].type])
            rep->by_type[k++] = rep->by_type[i];
    rep->ntypes = k;
    k = 0;
    for (uint32_t i = 0; i < rep->ntraces; i++) {
        hd_leak_trace *t = &rep->traces[i];
        if (mask[hd_object_type(f, t->example)])
            rep->traces[k++] = *t;
        else
            free(t->steps);
    }
    rep->ntraces = k;
}

static int find(const opts *o, const char *pn, findings *x)
{
    uint8_t *mask = NULL;
    bool ok = true;
    if (o->new_ids && (ok = type_mask_for(o, x->new_, pn, &mask))) {
        x->added = xmalloc(((size_t)x->df->nadded + 1) * sizeof *x->added);
        for (uint32_t i = 0; i < x->df->nadded; i++)
            if (mask[hd_object_type(x->new_, x->df->added[i])])
                x->added[x->nadded++] = x->df->added[i];
    }
    free(mask);
    mask = NULL;
    if (ok && x->rep && (ok = type_mask_for(o, x->fin, o->final_path, &mask)))
        filter_leaks(x->rep, x->fin, mask);
    free(mask);
    for (uint32_t i = 0; o->gate && i < x->types->nrows; i++)
        x->grew += grew_too_much(o, &x->types->rows[i]);
    return ok ? EXIT_OK : EXIT_INVALID;
}

static void print_json(const opts *o, const char *po, const char *pn, const findings *x)
{
    json_writer w;
    jw_init(&w, stdout);
    jw_object_begin(&w);
    jw_key(&w, "old");
    jw_string(&w, po);
    jw_key(&w, "new");
    jw_string(&w, pn);
    jw_key(&w, "by");
    jw_string(&w, x->df->by == HD_DIFF_BY_TYPE ? "type" : "site");
    const char *keys[] = {"objects_old", "objects_new", "size_old", "size_new", "new", "deleted"};
    uint64_t vals[] = {hd_object_count(x->old), hd_object_count(x->new_), hd_total_size(x->old),
                       hd_total_size(x->new_), x->df->nadded, x->df->ndeleted};
    for (int i = 0; i < 6; i++) {
        jw_key(&w, keys[i]);
        jw_uint(&w, vals[i]);
    }
    jw_key(&w, "rows");
    jw_array_begin(&w);
    uint32_t shown = 0;
    for (uint32_t i = 0; i < x->df->nrows; i++)
        if (changed(&x->df->rows[i]) && (o->top == 0 || shown++ < o->top))
            jw_row(&w, &x->df->rows[i]);
    jw_array_end(&w);
    if (o->new_ids) {
        jw_key(&w, "new_ids");
        jw_object_ids(&w, x->new_, x->added, x->nadded);
    }
    if (x->rep) {
        jw_key(&w, "leaks");
        jw_leaks(&w, x->fin, x->rep, o->top);
    }
    if (o->gate) {
        jw_key(&w, "growth");
        jw_object_begin(&w);
        jw_key(&w, "limit");
        jw_uint(&w, o->growth_limit);
        jw_key(&w, "exceeded");
        jw_array_begin(&w);
        for (uint32_t i = 0; i < x->types->nrows; i++)
            if (grew_too_much(o, &x->types->rows[i])) {
                jw_object_begin(&w);
                jw_key(&w, "type");
                jw_string(&w, x->types->rows[i].type);
                jw_key(&w, "count_delta");
                jw_int(&w, x->types->rows[i].count_delta);
                jw_object_end(&w);
            }
        jw_array_end(&w);
        jw_object_end(&w);
    }
    jw_object_end(&w);
    jw_finish(&w);
}

static void print_text(const opts *o, const findings *x)
{
    char a[16], b[16], c[32], e[32];
    uint32_t no = hd_object_count(x->old), nn = hd_object_count(x->new_);
    uint64_t so = hd_total_size(x->old), sn = hd_total_size(x->new_);
    printf("objects %" PRIu32 " → %" PRIu32 " (%s), size %s → %s (%s); %" PRIu32 " new, %" PRIu32 " deleted\n\n",
           no, nn, fmt_delta((int64_t)nn - (int64_t)no, c), human_size(so, a), human_size(sn, b),
           fmt_size_change(so, sn, e), x->df->nadded, x->df->ndeleted);
    print_rows(x->new_, x->df, o->top);
    if (o->new_ids) {
        printf("\nnew objects (%" PRIu32 "):\n", x->nadded);
        for (uint32_t i = 0; i < x->nadded; i++) {
            char *ref = objref(x->new_, x->added[i], true);
            fputs("  ", stdout);
            print_escaped(stdout, ref);
            putchar('\n');
            free(ref);
        }
    }
    if (x->rep)
        print_leaks_text(x->fin, x->rep, o->top);
}

/* --fail-on-growth's verdict, on stderr after the report it is about. */
static void print_growth(const opts *o, const findings *x)
{
    fflush(stdout);
    for (uint32_t i = 0; i < x->types->nrows; i++) {
        const hd_diff_row *r = &x->types->rows[i];
        if (grew_too_much(o, r)) {
            fputs("heaptool: diff: ", stderr);
            print_escaped(stderr, r->type);
            fprintf(stderr, " grew by %" PRId64 " objects (more than %" PRIu64 ")\n", r->count_delta,
                    o->growth_limit);
        }
    }
}

/* Loads the dumps, refuses incompatible ones, computes; EXIT_OK with x filled. */
static int compute(const opts *o, const char *po, const char *pn, hd_dump **dumps, findings *x)
{
    const char *paths[] = {po, pn, o->final_path};
    int rc = load_all_or_report(paths, o->final_path ? 3 : 2, dumps);
    if (rc)
        return rc;
    x->old = dumps[0], x->new_ = dumps[1], x->fin = dumps[2];
    if (!compatible(po, x->old, pn, x->new_, o->force) ||
        (x->fin && !compatible(pn, x->new_, o->final_path, x->fin, o->force)))
        return EXIT_INVALID;
    hd_diff *df = NULL, *types = NULL;
    int st = hd_diff_compute(x->old, x->new_, (enum hd_diff_by)o->by, &df);
    x->df = x->types = df;
    if (!st && o->gate && o->by != HD_DIFF_BY_TYPE && !(st = hd_diff_compute(x->old, x->new_, HD_DIFF_BY_TYPE, &types)))
        x->types = types;
    if (!st && x->fin)
        st = hd_leak_report_compute(x->old, x->new_, x->fin, &x->rep);
    return st ? report_status("diff", st) : find(o, pn, x);
}

static int diff_run(int argc, char **argv)
{
    opts o = {.by = HD_DIFF_BY_TYPE, .top = 20};
    operands ops;
    int rc = options_parse(&cmd_diff, argc, argv, &o, &ops);
    if (rc == OPTIONS_GO_ON && o.types.n && !o.new_ids && !o.final_path)
        rc = usage_error(&cmd_diff, "diff: --type goes with --new-ids or --final");
    if (rc != OPTIONS_GO_ON) {
        string_list_free(&o.types);
        return rc;
    }
    o.gate = option_given(&cmd_diff, &ops, "fail-on-growth");
    hd_dump *dumps[3] = {NULL, NULL, NULL};
    findings x = {0};
    rc = compute(&o, ops.v[0], ops.v[1], dumps, &x);
    if (!rc && o.json)
        print_json(&o, ops.v[0], ops.v[1], &x);
    else if (!rc)
        print_text(&o, &x);
    if (!rc && x.grew) {
        print_growth(&o, &x);
        rc = EXIT_FOUND;
    }
    free(x.added);
    hd_leak_report_free(x.rep);
    if (x.types != x.df)
        hd_diff_free(x.types);
    hd_diff_free(x.df);
    for (int i = 2; i >= 0; i--)
        hd_dump_free(dumps[i]);
    string_list_free(&o.types);
    return rc;
}

const command cmd_diff = {
    "diff", "growth between two dumps by type or site; leaks over three", "OLD NEW",
    "Compares two dumps of one process, matching objects by id (an id whose type changed\n"
    "counts as freed and reallocated). Per type: objects before and after, delta, new,\n"
    "deleted, bytes allocated and freed, size delta; largest growth first.\n",
    diff_options,
    "Object ids match only within one process: dumps from different producers or with\n"
    "different pids are refused (exit 3) unless --force, which compares with a warning;\n"
    "dumps that carry no pid (V8 snapshots) are compared with a note on stderr.\n"
    "exit status: 0 done; 1 --fail-on-growth saw growth; 2 usage; 3 invalid dump or\n"
    "incompatible dumps; 4 unreadable file.\n",
    diff_run,
};
