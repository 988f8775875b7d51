/* cmd_suspects.c: `heaptool suspects`: what probably leaks or wastes memory, found for you
 * (hd_suspects_find): big retainers with their accumulation point, types spread over many
 * instances, growth over snapshots, duplicate strings, empty containers, uncollectable cycles,
 * garbage only weak references still name. */
#include "analysis.h"
#include "options.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PATH_ENDS 3 /* a long path shows its first and last hops in text */

static const char *plural_s(uint64_t n) { return n == 1 ? "" : "s"; }

/* "[named 'app'] App#1 .cache dict#3 ... [4] Entry#9": the whole path, or its ends. */
static void print_path(const hd_dump *d, const hd_path *p)
{
    if (!p || !p->nhops) {
        fputs("unreachable from every root", stdout);
        return;
    }
    char *root = root_label(d, p->root);
    print_escaped(stdout, root);
    free(root);
    for (uint32_t i = 0; i < p->nhops; i++) {
        if (p->nhops > 2 * PATH_ENDS && i == PATH_ENDS) {
            printf(" ... (%" PRIu32 " more)", p->nhops - 2 * PATH_ENDS);
            i = p->nhops - PATH_ENDS;
        }
        char *via = i ? edge_label(hd_edge_name(d, p->hops[i].edge)) : NULL;
        char *obj = objref(d, p->hops[i].object, false);
        putchar(' ');
        if (via) {
            print_escaped(stdout, via);
            putchar(' ');
        }
        print_escaped(stdout, obj);
        free(via);
        free(obj);
    }
}

static void print_merged(const hd_dump *d, const hd_suspect *s)
{
    fputs("   paths from the roots, merged (instances below each):\n", stdout);
    for (uint32_t i = 0; i < s->nmerged; i++) {
        const hd_merged_node *m = &s->merged[i];
        uint32_t depth = 0;
        for (uint32_t p = m->parent; p != HD_NONE; p = s->merged[p].parent)
            depth++;
        printf("     %*s", (int)(2 * depth), "");
        char *head = m->parent == HD_NONE ? root_label(d, m->root) : edge_label(hd_edge_name(d, m->edge));
        char *obj = objref(d, m->object, false);
        print_escaped(stdout, head);
        putchar(' ');
        print_escaped(stdout, obj);
        printf(" (%" PRIu64 ")\n", m->count);
        free(head);
        free(obj);
    }
}

static void print_headline(const hd_suspect *s)
{
    const hd_dump *d = s->dump;
    char size[16], each[16], spare[16];
    human_size(s->bytes, size);
    char *obj = s->object != HD_NONE ? objref(d, s->object, false) : NULL;
    switch (s->kind) {
    case HD_SUSPECT_BIG_RETAINER:
        print_escaped(stdout, obj);
        printf(" retains %s (%.1f%%) in %" PRIu64 " object%s", size, 100 * s->share, s->count,
               plural_s(s->count));
        break;
    case HD_SUSPECT_MANY_OF_KIND:
    case HD_SUSPECT_WEAK_ONLY:
        printf("%" PRIu64 " ", s->count);
        print_escaped(stdout, s->type_name);
        printf(s->kind == HD_SUSPECT_MANY_OF_KIND ? " object%s retain %s (%.1f%%)"
                                                  : " object%s of garbage named by live weak "
                                                    "references: %s (%.1f%%)",
               plural_s(s->count), size, 100 * s->share);
        break;
    case HD_SUSPECT_NEW_AND_ALIVE:
        printf("%" PRIu64 " object%s created after the baseline are alive in the final dump: %s "
               "(%.1f%%), e.g. ", s->count, plural_s(s->count), size, 100 * s->share);
        print_escaped(stdout, obj);
        break;
    case HD_SUSPECT_GROWING_TYPE:
        print_escaped(stdout, s->type_name);
        fputs(" grew at every step: ", stdout);
        for (uint32_t i = 0; i < s->nseries; i++)
            printf("%s%" PRIu64, i ? " -> " : "", s->series[i]);
        printf(" objects, +%s (%.1f%%)", size, 100 * s->share);
        break;
    case HD_SUSPECT_DUPLICATE_STRINGS:
        printf("%" PRIu64 " copies of ", s->count);
        print_escaped(stdout, s->type_name);
        putchar(' ');
        print_escaped(stdout, s->text);
        printf(" (%s each%s) waste %s (%.1f%%)", human_size(s->each, each),
               s->shortened ? ", text shortened in the dump" : "", size, 100 * s->share);
        break;
    case HD_SUSPECT_EMPTY_CONTAINERS:
        printf("%" PRIu64 " ", s->count);
        print_escaped(stdout, s->type_name);
        printf(" object%s empty (%" PRIu64 ") or nearly: %s (%.1f%%), %s of it spare table",
               plural_s(s->count), s->empty, size, 100 * s->share, human_size(s->spare, spare));
        break;
    case HD_SUSPECT_UNCOLLECTABLE:
        printf("a cycle of %" PRIu64 " object%s kept only by the collector's garbage list: %s "
               "(%.1f%%), through ", s->count, plural_s(s->count), size, 100 * s->share);
        print_escaped(stdout, obj);
        break;
    }
    putchar('\n');
    free(obj);
}

static void print_text(const hd_suspects *all, const hd_dump *d)
{
    char size[16];
    printf("heap: %s in %" PRIu32 " object%s; %" PRIu32 " suspect%s (threshold %g%%)\n",
           human_size(all->heap_size, size), hd_object_count(d), plural_s(hd_object_count(d)),
           all->count, plural_s(all->count), 100 * all->threshold);
    for (uint32_t i = 0; i < all->count; i++) {
        const hd_suspect *s = &all->items[i];
        printf("\n%" PRIu32 ". [%s] %s  ", i + 1, hd_severity_name(s->severity), s->id);
        print_headline(s);
        if (s->accumulation != HD_NONE) {
            char *acc = objref(s->dump, s->accumulation, false);
            fputs("   accumulation point: ", stdout);
            print_escaped(stdout, acc);
            free(acc);
            putchar('\n');
        }
        if (s->path) {
            fputs("   path: ", stdout);
            print_path(s->dump, s->path);
            putchar('\n');
        }
        if (s->trace) {
            fputs("   retained through:", stdout);
            for (uint32_t k = 0; k < s->trace->nsteps; k++) {
                const hd_trace_step *st = &s->trace->steps[k];
                char *via = st->edge ? edge_label(st->edge) : NULL;
                putchar(' ');
                if (via) {
                    print_escaped(stdout, via);
                    putchar(' ');
                }
                print_escaped(stdout, hd_type_name(s->dump, st->type));
                fputs(st->repeated ? "*" : "", stdout);
                free(via);
            }
            if (!s->trace->nsteps)
                fputs(" nothing: unreachable from every root", stdout);
            putchar('\n');
        }
        if (s->ntypes) {
            fputs("   retains:", stdout);
            for (uint32_t k = 0; k < s->ntypes; k++) {
                printf("%s %" PRIu64 " ", k ? "," : "", s->types[k].count);
                print_escaped(stdout, hd_type_name(s->dump, s->types[k].type));
                printf(" (%s)", human_size(s->types[k].size, size));
            }
            putchar('\n');
        }
        if (s->nmerged)
            print_merged(s->dump, s);
    }
}

static void jw_path(json_writer *w, const hd_dump *d, const hd_path *p)
{
    jw_key(w, "root");
    if (p->nhops)
        jw_root(w, d, p->root);
    else
        jw_null(w);
    jw_key(w, "path");
    jw_array_begin(w);
    for (uint32_t i = 0; i < p->nhops; i++) {
        jw_object_begin(w);
        jw_key(w, "edge");
        if (i)
            jw_string(w, hd_edge_name(d, p->hops[i].edge));
        else
            jw_null(w);
        jw_key(w, "object");
        jw_objref(w, d, p->hops[i].object);
        jw_object_end(w);
    }
    jw_array_end(w);
}

static void jw_details(json_writer *w, const hd_suspect *s)
{
    const hd_dump *d = s->dump;
    if (s->ntypes) {
        jw_key(w, "retains");
        jw_type_stats(w, d, s->types, s->ntypes, 0);
    }
    if (s->nmerged) {
        jw_key(w, "merged_paths");
        jw_array_begin(w);
        for (uint32_t i = 0; i < s->nmerged; i++) {
            const hd_merged_node *m = &s->merged[i];
            jw_object_begin(w);
            jw_key(w, "object");
            jw_objref(w, d, m->object);
            jw_key(w, "parent");
            if (m->parent == HD_NONE)
                jw_null(w);
            else
                jw_uint(w, m->parent);
            if (m->parent == HD_NONE) {
                jw_key(w, "root");
                jw_root(w, d, m->root);
            } else {
                jw_key(w, "edge");
                jw_string(w, hd_edge_name(d, m->edge));
            }
            jw_key(w, "count");
            jw_uint(w, m->count);
            jw_object_end(w);
        }
        jw_array_end(w);
    }
    if (s->kind == HD_SUSPECT_DUPLICATE_STRINGS) {
        jw_key(w, "text");
        jw_string(w, s->text);
        jw_key(w, "each");
        jw_uint(w, s->each);
        jw_key(w, "shortened");
        jw_bool(w, s->shortened);
    }
    if (s->kind == HD_SUSPECT_EMPTY_CONTAINERS) {
        jw_key(w, "empty");
        jw_uint(w, s->empty);
        jw_key(w, "spare");
        jw_uint(w, s->spare);
    }
    if (s->nseries) {
        jw_key(w, "series");
        jw_array_begin(w);
        for (uint32_t i = 0; i < s->nseries; i++)
            jw_uint(w, s->series[i]);
        jw_array_end(w);
    }
    if (s->trace) {
        jw_key(w, "trace");
        jw_array_begin(w);
        for (uint32_t k = 0; k < s->trace->nsteps; k++) {
            const hd_trace_step *st = &s->trace->steps[k];
            jw_object_begin(w);
            jw_key(w, "edge");
            if (st->edge)
                jw_string(w, st->edge);
            else
                jw_null(w);
            jw_key(w, "type");
            jw_string(w, hd_type_name(d, st->type));
            jw_key(w, "repeated");
            jw_bool(w, st->repeated);
            jw_object_end(w);
        }
        jw_array_end(w);
    }
}

static void print_json(const char *path, const hd_suspects *all)
{
    json_writer w;
    jw_init(&w, stdout);
    jw_object_begin(&w);
    jw_key(&w, "dump");
    jw_string(&w, path);
    jw_key(&w, "heap_size");
    jw_uint(&w, all->heap_size);
    jw_key(&w, "threshold");
    jw_double(&w, all->threshold);
    jw_key(&w, "suspects");
    jw_array_begin(&w);
    for (uint32_t i = 0; i < all->count; i++) {
        const hd_suspect *s = &all->items[i];
        jw_object_begin(&w);
        jw_key(&w, "id");
        jw_string(&w, s->id);
        jw_key(&w, "kind");
        jw_string(&w, hd_suspect_kind_name(s->kind));
        jw_key(&w, "severity");
        jw_string(&w, hd_severity_name(s->severity));
        jw_key(&w, "bytes");
        jw_uint(&w, s->bytes);
        jw_key(&w, "share");
        jw_double(&w, s->share);
        jw_key(&w, "count");
        jw_uint(&w, s->count);
        if (s->type_name) {
            jw_key(&w, "type");
            jw_string(&w, s->type_name);
        }
        if (s->object != HD_NONE) {
            jw_key(&w, "object");
            jw_objref(&w, s->dump, s->object);
        }
        if (s->accumulation != HD_NONE) {
            jw_key(&w, "accumulation_point");
            jw_objref(&w, s->dump, s->accumulation);
        }
        if (s->path)
            jw_path(&w, s->dump, s->path);
        jw_details(&w, s);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    jw_finish(&w);
}

/* "10", "2.5", "10%": a share of the heap in (0, 100] percent. */
static bool parse_percent(const char *text, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || (*end && strcmp(end, "%")) || !isfinite(v) || v <= 0 || v > 100)
        return false;
    *out = v / 100;
    return true;
}

static bool parse_severity(const char *text, enum hd_severity *out)
{
    for (int s = HD_SEVERITY_LOW; s <= HD_SEVERITY_HIGH; s++)
        if (!strcmp(text, hd_severity_name((enum hd_severity)s))) {
            *out = (enum hd_severity)s;
            return true;
        }
    return false;
}

/* Dumps of different processes cannot be compared by object id. */
static bool same_process(const char *pa, const hd_dump *a, const char *pb, const hd_dump *b, bool force)
{
    if (force || !(hd_dump_compat(a, b) & (HD_COMPAT_PRODUCER | HD_COMPAT_PID)))
        return true;
    fputs("heaptool: suspects: '", stderr);
    print_escaped(stderr, pa);
    fputs("' and '", stderr);
    print_escaped(stderr, pb);
    fputs("' come from different processes; object ids match only within one (--force compares "
          "anyway)\n", stderr);
    return false;
}

typedef struct suspects_args {
    const char *baseline, *final, *threshold, *fail_on;
    bool json, force;
} suspects_args;

static const option_spec suspects_options[] = {
    {"baseline", 0, OPT_STRING, offsetof(suspects_args, baseline), "OLD", "an earlier dump of the same process",
     NULL, 0, NULL},
    {"final", 0, OPT_STRING, offsetof(suspects_args, final), "FINAL", "a later one (needs --baseline)", NULL, 0,
     NULL},
    {"threshold", 0, OPT_STRING, offsetof(suspects_args, threshold), "PCT",
     "share of the heap that makes a suspect (waste and\ngrowth from a tenth of it)", "10", 0, NULL},
    {"fail-on", 0, OPT_STRING, offsetof(suspects_args, fail_on), "SEV",
     "exit 1 when a suspect is at least SEV: low, medium or high", NULL, 0, NULL},
    {"force", 0, OPT_FLAG, offsetof(suspects_args, force), NULL, "compare dumps of different processes anyway",
     NULL, 0, NULL},
    OPT_JSON(suspects_args, json),
    OPT_END,
};

typedef struct opts {
    const char *baseline, *final;
    double threshold;
    enum hd_severity fail_on; /* 0: never fail */
    bool json, force;
} opts;

/* The options into o and the DUMP into *path: EXIT_OK, -1 after --help, or a usage status. */
static int parse(int argc, char **argv, opts *o, const char **path)
{
    suspects_args a = {0};
    operands ops;
    int rc = options_parse(&cmd_suspects, argc, argv, &a, &ops);
    if (rc != OPTIONS_GO_ON)
        return rc == EXIT_OK ? -1 : rc;
    *o = (opts){a.baseline, a.final, 0.10, 0, a.json, a.force};
    *path = ops.v[0];
    if (a.threshold && !parse_percent(a.threshold, &o->threshold))
        return usage_error(&cmd_suspects, "suspects: --threshold takes a percentage in "
                           "(0, 100], not '%s'", a.threshold);
    if (a.fail_on && !parse_severity(a.fail_on, &o->fail_on))
        return usage_error(&cmd_suspects, "suspects: --fail-on takes low, medium or high, "
                           "not '%s'", a.fail_on);
    if (o->final && !o->baseline)
        return usage_error(&cmd_suspects, "suspects: --final needs --baseline");
    return EXIT_OK;
}

static int suspects_run(int argc, char **argv)
{
    opts o;
    const char *path = NULL;
    int rc = parse(argc, argv, &o, &path);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    const char *paths[3] = {path, o.baseline, o.final};
    hd_dump *dumps[3] = {NULL, NULL, NULL};
    size_t n = o.final ? 3 : o.baseline ? 2 : 1;
    rc = load_all_or_report(paths, n, dumps);
    for (size_t i = 1; i < n && !rc; i++)
        if (!same_process(paths[i], dumps[i], paths[0], dumps[0], o.force))
            rc = EXIT_INVALID;
    hd_suspects *all = NULL;
    if (!rc) {
        hd_suspects_options so = {.threshold = o.threshold, .baseline = dumps[1], .final = dumps[2]};
        int st = hd_suspects_find(dumps[0], &so, &all);
        if (st)
            rc = report_status("suspects", st);
    }
    if (!rc) {
        if (o.json)
            print_json(paths[0], all);
        else
            print_text(all, dumps[0]);
        for (uint32_t i = 0; i < all->count && o.fail_on; i++)
            if (all->items[i].severity >= o.fail_on)
                rc = EXIT_FOUND;
    }
    hd_suspects_free(all);
    for (size_t i = 0; i < n; i++)
        hd_dump_free(dumps[i]);
    return rc;
}

const command cmd_suspects = {
    "suspects", "what probably leaks or wastes memory, found for you", "DUMP",
    "What probably leaks or wastes memory, most severe first: objects retaining a large\n"
    "share of the heap (with the accumulation point that holds it and the path from a root),\n"
    "types whose instances together do (with their paths from the roots merged), duplicate\n"
    "strings, empty containers, uncollectable cycles, garbage only weak references name;\n"
    "given earlier and later dumps of the process, types that grew at every step and\n"
    "objects created between BASELINE and DUMP still alive in FINAL (memlab's rule).\n",
    suspects_options, NULL, suspects_run,
};
