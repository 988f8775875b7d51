/* cmd_leaks.c: `heaptool leaks`: what no root keeps alive (garbage awaiting collection, or kept
 * only by the collector's garbage list) and what nothing refers to (objgraph's
 * get_leaking_objects), grouped by type. */
#include "analysis.h"
#include "leaks_native.h"
#include "options.h"

#include <inttypes.h>
#include <stdlib.h>

typedef struct leaks_args {
    uint64_t top;
    bool ids, json, reachable, fail_on_leak;
} leaks_args;

static const option_spec leaks_options[] = {
    OPT_TOP(leaks_args, top, "show the N most common types per group; native: the N\n"
            "biggest loss records, all unless given", "10"),
    {"ids", 0, OPT_FLAG, offsetof(leaks_args, ids), NULL,
     "also list every object of each group (not for native dumps)", NULL, 0, NULL},
    {"reachable", 0, OPT_FLAG, offsetof(leaks_args, reachable), NULL,
     "native: also the loss records of still reachable blocks", NULL, 0, NULL},
    {"fail-on-leak", 0, OPT_FLAG, offsetof(leaks_args, fail_on_leak), NULL,
     "exit 1 when something leaked: garbage or uncollectable objects;\n"
     "native: definitely or possibly lost blocks (memcheck's default)", NULL, 0, NULL},
    OPT_JSON(leaks_args, json),
    OPT_END,
};

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
            jw_object_ids(&w, d, g[i].objects, g[i].n);
        }
        jw_object_end(&w);
    }
    jw_object_end(&w);
    jw_finish(&w);
}

static int leaks_run(int argc, char **argv)
{
    leaks_args a = {.top = 10};
    operands ops;
    hd_dump *d;
    int rc = options_parse_dump(&cmd_leaks, argc, argv, &a, &ops, NULL, &d);
    if (rc != OPTIONS_GO_ON)
        return rc;
    const char *path = ops.v[0];
    if (hd_dump_is_native(d)) {
        bool leaked = false;
        uint64_t top = option_given(&cmd_leaks, &ops, "top") ? a.top : 0;
        rc = print_leak_kinds(path, d, a.json, top, a.reachable, &leaked);
        hd_dump_free(d);
        return rc == EXIT_OK && a.fail_on_leak && leaked ? EXIT_FOUND : rc;
    }
    hd_leaks *l;
    if ((rc = hd_leaks_find(d, NULL, &l))) {
        hd_dump_free(d);
        return report_status("leaks", rc);
    }
    group g[3] = {
        {"garbage", "garbage (unreachable from every root, awaiting collection)", l->nunreachable,
         l->unreachable, l->unreachable_size},
        {"uncollectable", "uncollectable (kept only by the collector's garbage list)",
         l->nuncollectable, l->uncollectable, l->uncollectable_size},
        {"unreferenced", "unreferenced (no object or root refers to them)", l->nunreferenced,
         l->unreferenced, l->unreferenced_size},
    };
    uint32_t most = l->nunreachable;
    most = l->nuncollectable > most ? l->nuncollectable : most;
    most = l->nunreferenced > most ? l->nunreferenced : most;
    hd_type_stat *st = xmalloc(((size_t)most + 1) * sizeof *st);
    if (a.json)
        print_json(path, d, g, a.top, a.ids, st);
    else
        print_text(d, g, a.top, a.ids, st);
    free(st);
    bool leaked = l->nunreachable > 0 || l->nuncollectable > 0;
    hd_leaks_free(l);
    hd_dump_free(d);
    return a.fail_on_leak && leaked ? EXIT_FOUND : EXIT_OK;
}

const command cmd_leaks = {
    "leaks", "garbage, uncollectable and unreferenced objects by type", "DUMP",
    "Objects no root keeps alive, grouped by type: 'garbage' (unreachable from every root,\n"
    "awaiting collection) and 'uncollectable' (kept only by the collector's garbage list,\n"
    "e.g. cycles with legacy finalizers); then 'unreferenced': objects that neither an\n"
    "object nor a root refers to (objgraph's get_leaking_objects).\n"
    "A dump of a native process (roots of kind global, stack, registers or tls, or blocks\n"
    "with addresses) is sorted into memcheck's categories instead: definitely, indirectly\n"
    "and possibly lost, still reachable, with loss records by allocation stack.\n",
    leaks_options, NULL, leaks_run,
};
