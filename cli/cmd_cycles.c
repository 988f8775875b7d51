/* cmd_cycles.c: `heaptool cycles`: reference cycles (strongly connected components with a cycle),
 * largest first, each with its types, one concrete cycle, and whether anything keeps it alive. */
#include "analysis.h"
#include "options.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PATH_HEAD 10 /* a long example cycle shows its first and last hops in text */
#define PATH_TAIL 3

typedef struct cycles_args {
    uint64_t top, min_size;
    bool garbage_only, json;
} cycles_args;

static const option_spec cycles_options[] = {
    OPT_TOP(cycles_args, top, "show the N largest cycles", "10"),
    {"garbage-only", 0, OPT_FLAG, offsetof(cycles_args, garbage_only), NULL,
     "only cycles no live root keeps alive (garbage,\nuncollectable)", NULL, 0, NULL},
    {"min-size", 0, OPT_COUNT, offsetof(cycles_args, min_size), "N", "only cycles with at least N member objects",
     NULL, 0, NULL},
    {"json", 0, OPT_FLAG, offsetof(cycles_args, json), NULL,
     "machine-readable output (every member and the whole\ncycle)", NULL, 0, NULL},
    OPT_END,
};

/* "Node 3, str 2, int 1, +2 more": the three most common member types. */
static char *types_text(const hd_dump *d, const hd_type_stat *st, uint32_t n)
{
    char *s = xasprintf("%s", "");
    for (uint32_t i = 0; i < n && i < 3; i++) {
        char *longer = xasprintf("%s%s%s %" PRIu64, s, i ? ", " : "", hd_type_name(d, st[i].type), st[i].count);
        free(s);
        s = longer;
    }
    if (n <= 3)
        return s;
    char *longer = xasprintf("%s, +%" PRIu32 " more", s, n - 3);
    free(s);
    return longer;
}

static void print_hop(FILE *out, const hd_dump *d, uint32_t o, uint32_t edge)
{
    char *ref = objref(d, o, false);
    print_escaped(out, ref);
    free(ref);
    if (edge != HD_NONE) {
        char *e = edge_label_of(d, edge);
        fputc(' ', out);
        print_escaped(out, e);
        fputs(" → ", out);
        free(e);
    }
}

static void print_cycle_path(FILE *out, const hd_dump *d, const hd_cycle *c)
{
    for (uint32_t i = 0; i <= c->length; i++) {
        if (c->length > PATH_HEAD + PATH_TAIL + 1 && i == PATH_HEAD) {
            fprintf(out, "… %" PRIu32 " more references … → ", c->length - PATH_HEAD - PATH_TAIL);
            i = c->length - PATH_TAIL;
        }
        print_hop(out, d, c->objects[i], i < c->length ? c->edges[i] : HD_NONE);
    }
    fputc('\n', out);
}

static bool selected(const hd_cycle *c, bool garbage_only, uint64_t min_size)
{
    return (!garbage_only || c->state != HD_REACH_LIVE) && c->nmembers >= min_size;
}

static const char *finalizer_word(const hd_cycle *c)
{
    return c->has_legacy_finalizer ? "legacy" : c->has_finalizer ? "yes" : "-";
}

static void print_text(const hd_dump *d, const hd_cycles *cy, bool garbage_only, uint64_t min_size,
                       uint64_t top)
{
    uint32_t garbage = 0, uncollectable = 0, matching = 0;
    for (uint32_t i = 0; i < cy->count; i++) {
        garbage += cy->cycles[i].state == HD_REACH_UNREACHABLE;
        uncollectable += cy->cycles[i].state == HD_REACH_UNCOLLECTABLE;
        matching += selected(&cy->cycles[i], garbage_only, min_size);
    }
    printf("%" PRIu32 " cycle%s, %" PRIu64 " object%s in cycles; %" PRIu32 " garbage, %" PRIu32
           " uncollectable\n", cy->count, cy->count == 1 ? "" : "s", cy->in_cycles,
           cy->in_cycles == 1 ? "" : "s", garbage, uncollectable);
    if (!matching) {
        if (cy->count)
            printf("no cycle matches the filters\n");
        return;
    }
    static const char *const heads[] = {"#", "objects", "size", "state", "finalizer", "types"};
    table t;
    table_init(&t, 6, heads, "rrrlll");
    uint32_t shown = 0;
    hd_type_stat *st = xmalloc(((size_t)(cy->count ? cy->cycles[0].nmembers : 0) + 1) * sizeof *st);
    uint32_t *order = xmalloc(((size_t)matching + 1) * sizeof *order);
    for (uint32_t i = 0; i < cy->count && (top == 0 || shown < top); i++) {
        const hd_cycle *c = &cy->cycles[i];
        if (!selected(c, garbage_only, min_size))
            continue;
        order[shown++] = i;
        char rank[32], count[32], size[16];
        uint32_t n = hd_stats_of_objects(d, c->members, c->nmembers, HD_SORT_COUNT, st), kept = 0;
        for (uint32_t k = 0; k < n; k++) /* V8's internal types stay out of text */
            if (!hidden_type(d, st[k].type))
                st[kept++] = st[k];
        char *types = types_text(d, st, kept);
        table_row(&t, fmt_u64(shown, rank), fmt_u64(c->nmembers, count), human_size(c->size, size),
                  state_word(c->state), finalizer_word(c), types);
        free(types);
    }
    putchar('\n');
    table_print(&t, stdout, "");
    table_free(&t);
    putchar('\n');
    for (uint32_t k = 0; k < shown; k++) {
        printf("#%" PRIu32 ": ", k + 1);
        print_cycle_path(stdout, d, &cy->cycles[order[k]]);
    }
    if (shown < matching)
        printf("... %" PRIu32 " more cycle%s (--top 0 shows all)\n", matching - shown,
               matching - shown == 1 ? "" : "s");
    free(order);
    free(st);
}

static void print_json(const char *path, const hd_dump *d, const hd_cycles *cy, bool garbage_only,
                       uint64_t min_size, uint64_t top)
{
    json_writer w;
    jw_init(&w, stdout);
    jw_object_begin(&w);
    jw_key(&w, "dump");
    jw_string(&w, path);
    jw_key(&w, "cycles_total");
    jw_uint(&w, cy->count);
    jw_key(&w, "objects_in_cycles");
    jw_uint(&w, cy->in_cycles);
    jw_key(&w, "cycles");
    jw_array_begin(&w);
    hd_type_stat *st = xmalloc(((size_t)(cy->count ? cy->cycles[0].nmembers : 0) + 1) * sizeof *st);
    uint32_t shown = 0;
    for (uint32_t i = 0; i < cy->count && (top == 0 || shown < top); i++) {
        const hd_cycle *c = &cy->cycles[i];
        if (!selected(c, garbage_only, min_size))
            continue;
        shown++;
        jw_object_begin(&w);
        jw_key(&w, "objects");
        jw_uint(&w, c->nmembers);
        jw_key(&w, "size");
        jw_uint(&w, c->size);
        jw_key(&w, "state");
        jw_string(&w, state_word(c->state));
        jw_key(&w, "finalizer");
        jw_bool(&w, c->has_finalizer);
        jw_key(&w, "legacy_finalizer");
        jw_bool(&w, c->has_legacy_finalizer);
        jw_key(&w, "types");
        uint32_t n = hd_stats_of_objects(d, c->members, c->nmembers, HD_SORT_COUNT, st);
        jw_type_stats(&w, d, st, n, 0);
        jw_key(&w, "cycle");
        jw_array_begin(&w);
        for (uint32_t k = 0; k <= c->length; k++) {
            jw_object_begin(&w);
            jw_key(&w, "object");
            jw_objref(&w, d, c->objects[k]);
            if (k < c->length) {
                jw_key(&w, "edge");
                jw_string(&w, hd_edge_name(d, c->edges[k]));
            }
            jw_object_end(&w);
        }
        jw_array_end(&w);
        jw_key(&w, "members");
        jw_object_ids(&w, d, c->members, c->nmembers);
        jw_object_end(&w);
    }
    free(st);
    jw_array_end(&w);
    jw_object_end(&w);
    jw_finish(&w);
}

static int cycles_run(int argc, char **argv)
{
    cycles_args a = {.top = 10};
    operands ops;
    hd_dump *d;
    int rc = options_parse_dump(&cmd_cycles, argc, argv, &a, &ops, NULL, &d);
    if (rc != OPTIONS_GO_ON)
        return rc;
    const char *path = ops.v[0];
    hd_cycles *cy;
    if ((rc = hd_cycles_find(d, NULL, &cy))) {
        hd_dump_free(d);
        return report_status("cycles", rc);
    }
    if (a.json)
        print_json(path, d, cy, a.garbage_only, a.min_size, a.top);
    else
        print_text(d, cy, a.garbage_only, a.min_size, a.top);
    hd_cycles_free(cy);
    hd_dump_free(d);
    return EXIT_OK;
}

const command cmd_cycles = {
    "cycles", "reference cycles, largest first, garbage or alive", "DUMP",
    "Reference cycles: strongly connected components of the strong-reference graph that\n"
    "contain a cycle (an object referring to itself included), largest first. For each:\n"
    "members, total size, member types, one shortest cycle with its edge names, whether a\n"
    "root keeps it alive ('reachable'), only the collector's garbage list does\n"
    "('uncollectable'), or nothing does ('garbage'), and whether a member has a finalizer.\n",
    cycles_options, NULL, cycles_run,
};
