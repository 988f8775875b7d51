/* cmd_path.c: `heaptool path`: the shortest chain of strong references from a root to an object
 * (objgraph's find_backref_chain, MAT's path to GC roots). */
#include "analysis.h"
#include "options.h"

#include <inttypes.h>
#include <stdlib.h>

typedef struct path_args {
    bool json;
} path_args;

static const option_spec path_options[] = {
    OPT_JSON(path_args, json),
    OPT_END,
};

static void print_text(const hd_dump *d, const hd_path *p, uint32_t o)
{
    char *target = objref(d, o, true);
    if (!p->nhops) {
        print_escaped(stdout, target);
        fputs(" is unreachable from every root: garbage awaiting collection\n", stdout);
        free(target);
        return;
    }
    char *root = root_label_by_name(d, p->root);
    fputs("path to ", stdout);
    print_escaped(stdout, target);
    printf(": %" PRIu32 " reference%s from root ", p->nhops - 1, p->nhops == 2 ? "" : "s");
    print_escaped(stdout, root);
    if (p->state == HD_REACH_UNCOLLECTABLE)
        fputs(" (uncollectable: only the collector's garbage list keeps it)", stdout);
    putchar('\n');
    /* Two passes instead of a table: a path can be millions of hops long. */
    size_t wvia = 3;
    for (uint32_t i = 0; i < p->nhops; i++) {
        char *via = i ? edge_label_of(d, p->hops[i].edge) : NULL;
        size_t w = escaped_width(via ? via : root);
        wvia = w > wvia ? w : wvia;
        free(via);
    }
    char num[32];
    int wnum = snprintf(num, sizeof num, "%" PRIu32, p->nhops - 1);
    wnum = wnum < 3 ? 3 : wnum;
    printf("  %*s  ", wnum, "hop");
    print_cell(stdout, "via", wvia, false);
    fputs("  object\n", stdout);
    for (uint32_t i = 0; i < p->nhops; i++) {
        char *via = i ? edge_label_of(d, p->hops[i].edge) : NULL;
        char *obj = objref(d, p->hops[i].object, true);
        printf("  %*" PRIu32 "  ", wnum, i);
        print_cell(stdout, via ? via : root, wvia, false);
        fputs("  ", stdout);
        print_escaped(stdout, obj);
        putchar('\n');
        free(via);
        free(obj);
    }
    free(root);
    free(target);
}

static void print_json(const char *path, const hd_dump *d, const hd_path *p, uint32_t o)
{
    json_writer w;
    jw_init(&w, stdout);
    jw_object_begin(&w);
    jw_key(&w, "dump");
    jw_string(&w, path);
    jw_key(&w, "object");
    jw_objref(&w, d, o);
    jw_key(&w, "reachable");
    jw_bool(&w, p->nhops > 0);
    jw_key(&w, "state");
    jw_string(&w, state_word(p->state));
    jw_key(&w, "root");
    if (p->nhops)
        jw_root(&w, d, p->root);
    else
        jw_null(&w);
    jw_key(&w, "path");
    jw_array_begin(&w);
    for (uint32_t i = 0; i < p->nhops; i++) {
        jw_object_begin(&w);
        jw_key(&w, "edge");
        if (i)
            jw_string(&w, hd_edge_name(d, p->hops[i].edge));
        else
            jw_null(&w);
        jw_key(&w, "object");
        jw_objref(&w, d, p->hops[i].object);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    jw_finish(&w);
}

static int path_run(int argc, char **argv)
{
    path_args a = {0};
    operands ops;
    hd_dump *d;
    uint32_t o;
    int rc = options_parse_dump_object(&cmd_path, argc, argv, &a, &ops, &d, &o);
    if (rc != OPTIONS_GO_ON)
        return rc;
    const char *path = ops.v[0];
    hd_path *p;
    if ((rc = hd_path_find(d, o, &p))) {
        hd_dump_free(d);
        return report_status("path", rc);
    }
    if (a.json)
        print_json(path, d, p, o);
    else
        print_text(d, p, o);
    rc = p->nhops ? EXIT_OK : EXIT_FOUND;
    hd_path_free(p);
    hd_dump_free(d);
    return rc;
}

const command cmd_path = {
    "path", "shortest chain of references from a root to an object", "DUMP ID",
    "The shortest chain of strong references from a root to object ID (a number, or\n"
    "TYPE#NUMBER as the other commands print it, or @NUMBER), each hop with its edge name,\n"
    "starting at the root and its kind. Live roots are preferred: a path from the\n"
    "collector's garbage list is shown only when no live root reaches the object.\n",
    path_options,
    "exit status: 0 a path was found; 1 the object is unreachable from every root;\n"
    "3 no object has that id or type (or the dump is invalid); 2 usage; 4 unreadable file.\n",
    path_run,
};
