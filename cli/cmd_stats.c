/* cmd_stats.c: `heaptool stats`: the most common types, like objgraph's show_most_common_types,
 * with shallow sizes, shares of the heap and the dump's totals. */
#include "options.h"
#include "stats_tables.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct stats_args {
    uint64_t top;
    int by, sort; /* by_words, enum hd_stat_sort */
    bool json, tracked_only;
} stats_args;

static const char *const by_words[] = {"type", "site", NULL};
static const char *const sort_words[] = {"count", "size", "retained", NULL}; /* enum hd_stat_sort */

static const option_spec stats_options[] = {
    OPT_TOP(stats_args, top, "show the N most common types", "10"),
    {"by", 'b', OPT_CHOICE, offsetof(stats_args, by), "KEY",
     "group by 'type' (default) or allocation 'site'\n(tracemalloc's statistics('lineno'))", NULL, 0, by_words},
    {"sort", 's', OPT_CHOICE, offsetof(stats_args, sort), "KEY",
     "order by 'count' (default), 'size' or 'retained': the\nmemory the type's objects keep alive, each "
     "object\ncounted only when no object of the same type\ndominates it (as Chrome DevTools does)",
     NULL, 0, sort_words},
    {"tracked-only", 0, OPT_FLAG, offsetof(stats_args, tracked_only), NULL,
     "count only the objects the collector tracks, as\ngc.get_objects() lists them (objgraph's "
     "counts)", NULL, 0, NULL},
    OPT_JSON(stats_args, json),
    OPT_END,
};

/* The per-type table and what its shares are of: every object, or --tracked-only's. */
typedef struct type_table {
    hd_type_stat *st;
    uint32_t n;        /* rows */
    uint32_t nobjects; /* objects counted */
    uint64_t size;     /* their total size */
    bool retained;
} type_table;

static double share(uint64_t part, uint64_t whole) { return whole ? 100.0 * (double)part / (double)whole : 0; }

static void print_totals(const hd_dump *d, uint32_t ntypes, uint64_t total_size)
{
    char buf[48], size[16];
    printf("\n%s, %s, ", plural(hd_object_count(d), "object", buf), human_size(total_size, size));
    printf("%s, ", plural(hd_edge_count(d), "reference", buf));
    printf("%s, ", plural(ntypes, "type", buf));
    printf("%s, ", plural(hd_root_count(d), "root", buf));
    printf("%s\n", plural(hd_weakref_count(d), "weakref", buf));
}

static void print_runtime_tables(const hd_dump *d)
{
    if (hd_dump_pools(d)->present) {
        putchar('\n');
        print_pools_table(stdout, d);
    }
    if (hd_dump_gc(d)->present) {
        putchar('\n');
        print_gc_table(stdout, d);
    }
}

static void print_text(const hd_dump *d, const type_table *tt, uint32_t n, uint32_t shown)
{
    const hd_type_stat *st = tt->st;
    uint32_t nobjects = tt->nobjects;
    uint64_t total_size = tt->size;
    bool retained = tt->retained;
    char buf[48], size[16];
    size_t wname = strlen("type"), wcount = strlen("count"), wsize = strlen("size");
    size_t wret = strlen("retained");
    for (uint32_t i = 0; i < shown; i++) {
        size_t w = escaped_width(hd_type_name(d, st[i].type));
        wname = w > wname ? w : wname;
        snprintf(buf, sizeof buf, "%" PRIu64, st[i].count);
        wcount = strlen(buf) > wcount ? strlen(buf) : wcount;
        human_size(st[i].size, size);
        wsize = strlen(size) > wsize ? strlen(size) : wsize;
        human_size(st[i].retained, size);
        wret = strlen(size) > wret ? strlen(size) : wret;
    }
    print_cell(stdout, "type", wname, false);
    printf("  ");
    print_cell(stdout, "count", wcount, true);
    printf("  %6s  ", "count%");
    print_cell(stdout, "size", wsize, true);
    printf("  %6s", "size%");
    if (retained) {
        printf("  ");
        print_cell(stdout, "retained", wret, true);
        printf("  %6s", "ret%");
    }
    putchar('\n');
    for (uint32_t i = 0; i < shown; i++) {
        print_cell(stdout, hd_type_name(d, st[i].type), wname, false);
        snprintf(buf, sizeof buf, "%" PRIu64, st[i].count);
        printf("  ");
        print_cell(stdout, buf, wcount, true);
        printf("  %5.1f%%  ", share(st[i].count, nobjects));
        print_cell(stdout, human_size(st[i].size, size), wsize, true);
        printf("  %5.1f%%", share(st[i].size, total_size));
        if (retained) {
            printf("  ");
            print_cell(stdout, human_size(st[i].retained, size), wret, true);
            printf("  %5.1f%%", share(st[i].retained, total_size));
        }
        putchar('\n');
    }
    if (shown < n)
        printf("... %" PRIu32 " more type%s\n", n - shown, n - shown == 1 ? "" : "s");
}

/* Leaves V8's internal types out of a text table; returns how many rows are left. */
static uint32_t drop_hidden(const hd_dump *d, hd_type_stat *st, uint32_t n, uint32_t *hidden)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n; i++)
        if (!hidden_type(d, st[i].type))
            st[kept++] = st[i];
    *hidden = n - kept;
    return kept;
}

static void print_json(const char *path, const hd_dump *d, const type_table *tt, const stats_args *a)
{
    const hd_type_stat *st = tt->st;
    uint32_t n = tt->n, shown = a->top == 0 || a->top > n ? n : (uint32_t)a->top;
    uint64_t total_size = hd_total_size(d);
    json_writer w;
    jw_init(&w, stdout);
    jw_object_begin(&w);
    jw_key(&w, "dump");
    jw_string(&w, path);
    jw_key(&w, "objects");
    jw_uint(&w, hd_object_count(d));
    jw_key(&w, "size");
    jw_uint(&w, total_size);
    jw_key(&w, "references");
    jw_uint(&w, hd_edge_count(d));
    jw_key(&w, "types");
    jw_uint(&w, n);
    jw_key(&w, "roots");
    jw_uint(&w, hd_root_count(d));
    jw_key(&w, "weakrefs");
    jw_uint(&w, hd_weakref_count(d));
    hd_memory mem;
    hd_dump_memory(d, &mem);
    const char *parts[] = {"objects", "references", "id_map", "strings", "other", "total"};
    const uint64_t bytes[] = {mem.objects, mem.references, mem.id_map, mem.strings, mem.other, mem.total};
    jw_key(&w, "memory"); /* what the loaded graph holds, in bytes */
    jw_object_begin(&w);
    for (int i = 0; i < 6; i++) {
        jw_key(&w, parts[i]);
        jw_uint(&w, bytes[i]);
    }
    jw_object_end(&w);
    jw_key(&w, "by_type");
    jw_array_begin(&w);
    for (uint32_t i = 0; i < shown; i++) {
        jw_object_begin(&w);
        jw_key(&w, "type");
        jw_string(&w, hd_type_name(d, st[i].type));
        jw_key(&w, "count");
        jw_uint(&w, st[i].count);
        jw_key(&w, "size");
        jw_uint(&w, st[i].size);
        jw_key(&w, "count_share");
        jw_double(&w, share(st[i].count, tt->nobjects) / 100);
        jw_key(&w, "size_share");
        jw_double(&w, share(st[i].size, tt->size) / 100);
        if (tt->retained) {
            jw_key(&w, "retained");
            jw_uint(&w, st[i].retained);
        }
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_key(&w, "tracked_only");
    jw_bool(&w, a->tracked_only);
    if (a->by == 1) {
        jw_key(&w, "by_site");
        jw_site_stats(&w, d, (enum hd_stat_sort)a->sort, a->top);
    }
    jw_key(&w, "pools");
    jw_pools(&w, d);
    jw_key(&w, "gc");
    jw_gc(&w, d);
    jw_object_end(&w);
    jw_finish(&w);
}

/* The per-type table --sort and --tracked-only ask for; an exit status on failure. */
static int count_types(const hd_dump *d, const stats_args *a, type_table *tt)
{
    uint32_t n = hd_object_count(d), *objects = NULL;
    *tt = (type_table){NULL, 0, n, hd_total_size(d), a->sort == HD_SORT_RETAINED};
    if (a->tracked_only) {
        objects = xmalloc(((size_t)n + 1) * sizeof *objects);
        tt->nobjects = 0;
        tt->size = 0;
        for (uint32_t o = 0; o < n; o++)
            if (hd_object_flags(d, o) & HD_OBJ_TRACKED) {
                objects[tt->nobjects++] = o;
                uint64_t size = hd_object_size(d, o);
                tt->size = tt->size + size < size ? UINT64_MAX : tt->size + size;
            }
    }
    uint32_t room = hd_type_count(d) > tt->nobjects ? hd_type_count(d) : tt->nobjects;
    tt->st = xmalloc(((size_t)room + 1) * sizeof *tt->st);
    hd_dominators *dom = NULL;
    int rc = HD_OK;
    if (objects)
        tt->n = hd_stats_of_objects(d, objects, tt->nobjects, (enum hd_stat_sort)a->sort, tt->st);
    else if (!tt->retained)
        tt->n = hd_stats_by_type(d, (enum hd_stat_sort)a->sort, tt->st);
    else if (!(rc = hd_dominators_compute(d, &dom)))
        rc = hd_stats_retained_by_type(d, dom, tt->st, &tt->n);
    hd_dominators_free(dom);
    free(objects);
    return rc ? report_status("stats", rc) : EXIT_OK;
}

static void print_report(const hd_dump *d, type_table *tt, const stats_args *a)
{
    if (a->by == 1) {
        print_site_stats(stdout, d, (enum hd_stat_sort)a->sort, a->top);
    } else {
        uint32_t hidden, rows = drop_hidden(d, tt->st, tt->n, &hidden);
        print_text(d, tt, rows, a->top == 0 || a->top > rows ? rows : (uint32_t)a->top);
        if (hidden)
            printf("(%" PRIu32 " V8 internal type%s left out; --internals shows them)\n", hidden,
                   hidden == 1 ? "" : "s");
    }
    uint32_t ntypes = tt->n; /* types that have objects, all objects counted */
    if (a->tracked_only) {
        uint8_t *has = xcalloc((size_t)hd_type_count(d) + 1, 1);
        ntypes = 0;
        for (uint32_t o = 0; o < hd_object_count(d); o++)
            if (!has[hd_object_type(d, o)]++)
                ntypes++;
        free(has);
    }
    print_totals(d, ntypes, hd_total_size(d));
    if (a->tracked_only)
        printf("(--tracked-only: %" PRIu32 " of them counted above, the ones gc.get_objects() lists)\n",
               tt->nobjects);
    print_runtime_tables(d);
}

static int stats_run(int argc, char **argv)
{
    stats_args a = {.top = 10, .sort = HD_SORT_COUNT};
    operands ops;
    int rc = options_parse(&cmd_stats, argc, argv, &a, &ops);
    if (rc != OPTIONS_GO_ON)
        return rc;
    if (a.by == 1 && a.sort == HD_SORT_RETAINED)
        return usage_error(&cmd_stats, "stats: --sort retained groups by type only");
    if (a.tracked_only && (a.by == 1 || a.sort == HD_SORT_RETAINED))
        return usage_error(&cmd_stats, "stats: --tracked-only counts types by count or size");
    hd_dump *d;
    if ((rc = load_or_report(ops.v[0], &d)))
        return rc;
    type_table tt;
    if (!(rc = count_types(d, &a, &tt))) {
        if (a.json)
            print_json(ops.v[0], d, &tt, &a);
        else
            print_report(d, &tt, &a);
    }
    free(tt.st);
    hd_dump_free(d);
    return rc;
}

const command cmd_stats = {
    "stats", "most common types, sizes and totals", "DUMP",
    "The most common types in a heap dump: object count, total shallow size, share of the\n"
    "heap; then totals (objects, references, types, roots, weakrefs).\n",
    stats_options,
    "When the dump has them, the allocator's pools (per size class and arena, like\n"
    "sys._debugmallocstats()) and the collector's state follow the table.\n",
    stats_run,
};
