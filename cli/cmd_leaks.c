/* cmd_leaks.c: `heaptool leaks`: what no root keeps alive (garbage awaiting collection, or kept
 * only by the collector's garbage list) and what nothing refers to (objgraph's
 * get_leaking_objects), grouped by type. */
#include "analysis.h"
#include "leaks_native.h"
#include "options.h"

#include <inttypes.h>
#include <stdlib.h>

static void leaks_usage(FILE *out)
{
    fputs("usage: heaptool leaks [options] DUMP\n"
          "Objects no root keeps alive, grouped by type: 'garbage' (unreachable from every root,\n"
          "awaiting collection) and 'uncollectable' (kept only by the collector's garbage list,\n"
          "e.g. cycles with legacy finalizers); then 'unreferenced': objects no object refers to\n"
          "(objgraph's get_leaking_objects), whatever holds them from outside the heap.\n"
          "A dump of a native process (roots of kind global, stack, registers or tls, or blocks\n"
          "with addresses) is sorted into memcheck's categories instead: definitely, indirectly\n"
          "and possibly lost, still reachable, with loss records by allocation stack.\n\n"
          "  -n, --top N       show the N most common types per group (default 10; 0 shows all);\n"
          "                    native: the N biggest loss records (default all)\n"
          "      --ids         also list every object of each group (not for native dumps)\n"
          "      --reachable   native: also the loss records of still reachable blocks\n"
          "      --fail-on-leak  exit 1 when something leaked: garbage or uncollectable objects;\n"
          "                    native: definitely or possibly lost blocks (memcheck's default)\n"
          "      --json        machine-readable output\n"
          "  -h, --help        this help\n", out);
}

typedef struct group {
    const char *key, *title;
    uint32_t n;
    const uint32_t *objects;
    uint64_t size;
} group;

static void print_text(const hd_dump *d, const group *g, uint64_t top, bool ids, hd_type_stat *st)
{
    for (int i = 0; i < 3; i++) {
        char size[16];
        if (i)
            putchar('\n');
        printf("%s: %" PRIu32 " object%s", g[i].title, g[i].n, g[i].n == 1 ? "" : "s");
        if (!g[i].n) {
            putchar('\n');
            continue;
        }
        printf(", %s\n", human_size(g[i].size, size));
        uint32_t n = hd_stats_of_objects(d, g[i].objects, g[i].n, HD_SORT_COUNT, st);
        print_type_table(stdout, d, st, n, top, "  ");
        if (ids)
            for (uint32_t k = 0; k < g[i].n; k++) {
                char *ref = objref(d, g[i].objects[k], true);
                fputs("    ", stdout);
                print_escaped(stdout, ref);
                putchar('\n');
                free(ref);
            }
    }
}

static void print_json(const char *path, const hd_dump *d, const group *g, uint64_t top, bool ids,
                       hd_type_stat *st)
{
    json_writer w;
    jw_init(&w, stdout);
    jw_object_begin(&w);
    jw_key(&w, "dump");
    jw_string(&w, path);
    for (int i = 0; i < 3; i++) {
        jw_key(&w, g[i].key);
        jw_object_begin(&w);
        jw_key(&w, "count");
        jw_uint(&w, g[i].n);
        jw_key(&w, "size");
        jw_uint(&w, g[i].size);
        jw_key(&w, "by_type");
        uint32_t n = hd_stats_of_objects(d, g[i].objects, g[i].n, HD_SORT_COUNT, st);
        jw_type_stats(&w, d, st, n, top);
        if (ids) {
            jw_key(&w, "ids");
            jw_array_begin(&w);
            for (uint32_t k = 0; k < g[i].n; k++)
                jw_uint(&w, hd_object_id(d, g[i].objects[k]));
            jw_array_end(&w);
        }
        jw_object_end(&w);
    }
    jw_object_end(&w);
    jw_finish(&w);
}

static int leaks_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"top", required_argument, NULL, 'n'}, {"ids", no_argument, NULL, 'i'},
        {"json", no_argument, NULL, 'j'},      {"help", no_argument, NULL, 'h'},
        {"reachable", no_argument, NULL, 'r'}, {"fail-on-leak", no_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    bool json = false, ids = false, reachable = false, fail_on_leak = false, top_given = false;
    uint64_t top = 10;
    options_begin();
    for (int c; (c = getopt_long(argc, argv, "+n:h", longopts, NULL)) != -1;) {
        switch (c) {
        case 'n':
            if (!parse_count(&cmd_leaks, "--top", optarg, &top))
                return EXIT_USAGE;
            top_given = true;
            break;
        case 'r': reachable = true; break;
        case 'f': fail_on_leak = true; break;
        case 'i': ids = true; break;
        case 'j': json = true; break;
        case 'h': leaks_usage(stdout); return EXIT_OK;
        default: return options_error(&cmd_leaks, argc, argv, longopts);
        }
    }
    if (argc - optind != 1)
        return usage_error(&cmd_leaks, "leaks: expected one DUMP, got %d", argc - optind);
    const char *path = argv[optind];
    hd_dump *d;
    int rc = load_or_report(path, &d);
    if (rc)
        return rc;
    if (hd_dump_is_native(d)) {
        bool leaked = false;
        rc = print_leak_kinds(path, d, json, top_given ? top : 0, reachable, &leaked);
        hd_dump_free(d);
        return rc == EXIT_OK && fail_on_leak && leaked ? EXIT_FOUND : rc;
    }
    hd_leaks *l;
    if ((rc = hd_leaks_find(d, NULL, &l))) {
        hd_dump_free(d);
        return report_failure("leaks", rc);
    }
    group g[3] = {
        {"garbage", "garbage (unreachable from every root, awaiting collection)", l->nunreachable,
         l->unreachable, l->unreachable_size},
        {"uncollectable", "uncollectable (kept only by the collector's garbage list)",
         l->nuncollectable, l->uncollectable, l->uncollectable_size},
        {"unreferenced", "unreferenced (no object refers to them)", l->nunreferenced,
         l->unreferenced, l->unreferenced_size},
    };
    uint32_t most = l->nunreachable;
    most = l->nuncollectable > most ? l->nuncollectable : most;
    most = l->nunreferenced > most ? l->nunreferenced : most;
    hd_type_stat *st = xmalloc(((size_t)most + 1) * sizeof *st);
    if (json)
        print_json(path, d, g, top, ids, st);
    else
        print_text(d, g, top, ids, st);
    free(st);
    bool leaked = l->nunreachable > 0 || l->nuncollectable > 0;
    hd_leaks_free(l);
    hd_dump_free(d);
    return fail_on_leak && leaked ? EXIT_FOUND : EXIT_OK;
}

const command cmd_leaks = {"leaks", "garbage, uncollectable and unreferenced objects by type",
                           leaks_run, leaks_usage};
