/* cmd_stats.c: `heaptool stats`: the most common types, like objgraph's show_most_common_types,
 * with shallow sizes, shares of the heap and the dump's totals. */
#include "options.h"
#include "stats_extra.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void stats_usage(FILE *out)
{
    fputs("usage: heaptool stats [options] DUMP\n"
          "The most common types in a heap dump: object count, total shallow size, share of the\n"
          "heap; then totals (objects, references, types, roots, weakrefs).\n\n"
          "  -n, --top N       show the N most common types (default 10; 0 shows all)\n"
          "  -b, --by KEY      group by 'type' (default) or allocation 'site' (tracemalloc's\n"
          "                    statistics('lineno'))\n"
          "  -s, --sort KEY    order by 'count' (default), 'size' or 'retained': the memory the\n"
          "                    type's objects keep alive, each object counted only when no\n"
          "                    object of the same type dominates it (as Chrome DevTools does)\n"
          "      --json        machine-readable output\n"
          "  -h, --help        this help\n\n"
          "When the dump has them, the allocator's pools (per size class and arena, like\n"
          "sys._debugmallocstats()) and the collector's state follow the table.\n", out);
}

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

static void print_text(const hd_dump *d, const hd_type_stat *st, uint32_t n, uint32_t shown,
                       uint64_t total_size, bool retained)
{
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
    uint32_t nobjects = hd_object_count(d);
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

static void print_json(const char *path, const hd_dump *d, const hd_type_stat *st, uint32_t shown,
                       uint32_t n, uint64_t total_size, bool retained, bool by_site,
                       enum hd_stat_sort sort, uint64_t top)
{
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
        jw_double(&w, share(st[i].count, hd_object_count(d)) / 100);
        jw_key(&w, "size_share");
        jw_double(&w, share(st[i].size, total_size) / 100);
        if (retained) {
            jw_key(&w, "retained");
            jw_uint(&w, st[i].retained);
        }
        jw_object_end(&w);
    }
    jw_array_end(&w);
    if (by_site) {
        jw_key(&w, "by_site");
        jw_site_stats(&w, d, sort, top);
    }
    jw_key(&w, "pools");
    jw_pools(&w, d);
    jw_key(&w, "gc");
    jw_gc(&w, d);
    jw_object_end(&w);
    jw_finish(&w);
}

static int stats_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"top", required_argument, NULL, 'n'}, {"sort", required_argument, NULL, 's'},
        {"by", required_argument, NULL, 'b'},
        {"json", no_argument, NULL, 'j'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t top = 10;
    enum hd_stat_sort sort = HD_SORT_COUNT;
    bool json = false, by_site = false;
    options_begin();
    for (int c; (c = getopt_long(argc, argv, "+n:s:b:h", longopts, NULL)) != -1;) {
        switch (c) {
        case 'n':
            if (!parse_count(&cmd_stats, "--top", optarg, &top))
                return EXIT_USAGE;
            break;
        case 's':
            if (!strcmp(optarg, "count"))
                sort = HD_SORT_COUNT;
            else if (!strcmp(optarg, "size"))
                sort = HD_SORT_SIZE;
            else if (!strcmp(optarg, "retained"))
                sort = HD_SORT_RETAINED;
            else
                return usage_error(&cmd_stats, "stats: --sort takes 'count', 'size' or 'retained', not '%s'",
                                   optarg);
            break;
        case 'b':
            if (strcmp(optarg, "type") && strcmp(optarg, "site"))
                return usage_error(&cmd_stats, "stats: --by takes 'type' or 'site', not '%s'", optarg);
            by_site = optarg[0] == 's';
            break;
        case 'j': json = true; break;
        case 'h': stats_usage(stdout); return EXIT_OK;
        default: return options_error(&cmd_stats, argc, argv, longopts);
        }
    }
    if (argc - optind != 1)
        return usage_error(&cmd_stats, "stats: expected one DUMP, got %d", argc - optind);
    if (by_site && sort == HD_SORT_RETAINED)
        return usage_error(&cmd_stats, "stats: --sort retained groups by type only");
    const char *path = argv[optind];
    hd_dump *d;
    int rc = load_or_report(path, &d);
    if (rc)
        return rc;
    hd_type_stat *st = malloc(((size_t)hd_type_count(d) + 1) * sizeof *st);
    if (!st) {
        hd_dump_free(d);
        fputs("heaptool: out of memory\n", stderr);
        return EXIT_NOMEM;
    }
    uint32_t n;
    hd_dominators *dom = NULL;
    if (sort != HD_SORT_RETAINED)
        n = hd_stats_by_type(d, sort, st);
    else if (hd_dominators_compute(d, &dom) != HD_OK || hd_stats_retained_by_type(d, dom, st, &n) != HD_OK) {
        hd_dominators_free(dom);
        free(st);
        hd_dump_free(d);
        fputs("heaptool: out of memory\n", stderr);
        return EXIT_NOMEM;
    }
    hd_dominators_free(dom);
    bool retained = sort == HD_SORT_RETAINED;
    uint32_t shown = top == 0 || top > n ? n : (uint32_t)top;
    uint64_t total = hd_total_size(d);
    if (json)
        print_json(path, d, st, shown, n, total, retained, by_site, sort, top);
    else {
        if (by_site)
            print_site_stats(stdout, d, sort, top);
        else
            print_text(d, st, n, shown, total, retained);
        print_totals(d, n, total);
        print_runtime_tables(d);
    }
    free(st);
    hd_dump_free(d);
    return EXIT_OK;
}

const command cmd_stats = {"stats", "most common types, sizes and totals", stats_run, stats_usage};
