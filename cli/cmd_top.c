/* cmd_top.c: `heaptool top`: the objects that retain the most memory, with their dominator
 * chains (Eclipse MAT's "biggest objects" and dominator tree). */
#include "analysis.h"
#include "options.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

typedef struct top_args {
    uint64_t top;
    bool json;
} top_args;

static const option_spec top_options[] = {
    OPT_TOP(top_args, top, "show the N biggest retainers", "10"),
    OPT_JSON(top_args, json),
    OPT_END,
};

static void print_text(const hd_dump *d, const hd_dominators *dom, chains *ch, const uint32_t *top, uint32_t k)
{
    char size[16], retained[16];
    uint64_t total = hd_total_size(d);
    size_t wname = strlen("object"), wsize = strlen("shallow"), wret = strlen("retained");
    for (uint32_t i = 0; i < k; i++) {
        char *name = objref(d, top[i], false);
        size_t w = escaped_width(name);
        free(name);
        wname = w > wname ? w : wname;
        w = strlen(human_size(hd_retained_size(dom, top[i]), retained));
        wret = w > wret ? w : wret;
    }
    print_cell(stdout, "object", wname, false);
    printf("  ");
    print_cell(stdout, "shallow", wsize, true);
    printf("  ");
    print_cell(stdout, "retained", wret, true);
    printf("  %6s  %s\n", "heap%", "dominators");
    for (uint32_t i = 0; i < k; i++) {
        uint32_t o = top[i];
        char *name = objref(d, o, false), *chain = dominator_chain(ch, o);
        print_cell(stdout, name, wname, false);
        printf("  ");
        print_cell(stdout, human_size(hd_object_size(d, o), size), wsize, true);
        printf("  ");
        print_cell(stdout, human_size(hd_retained_size(dom, o), retained), wret, true);
        printf("  %5.1f%%  ", total ? 100.0 * (double)hd_retained_size(dom, o) / (double)total : 0.0);
        print_escaped(stdout, chain);
        const char *label = hd_object_label(d, o);
        if (label) {
            fputs("   ", stdout);
            print_escaped(stdout, label);
        }
        putchar('\n');
        free(name);
        free(chain);
    }
    uint32_t unreachable = hd_object_count(d) - hd_dominators_reachable(dom);
    if (unreachable) {
        char buf[48];
        printf("\n%s unreachable from every root retain nothing (see 'heaptool leaks')\n",
               plural(unreachable, "object", buf));
    }
}

static void print_json(const char *path, const hd_dump *d, const hd_dominators *dom, chains *ch,
                       const uint32_t *top, uint32_t k)
{
    json_writer w;
    jw_init(&w, stdout);
    jw_object_begin(&w);
    jw_key(&w, "dump");
    jw_string(&w, path);
    jw_key(&w, "size");
    jw_uint(&w, hd_total_size(d));
    jw_key(&w, "reachable");
    jw_uint(&w, hd_dominators_reachable(dom));
    jw_key(&w, "top");
    jw_array_begin(&w);
    for (uint32_t i = 0; i < k; i++) {
        uint32_t o = top[i];
        jw_object_begin(&w);
        jw_key(&w, "id");
        jw_uint(&w, hd_object_id(d, o));
        jw_key(&w, "type");
        jw_string(&w, hd_type_name(d, hd_object_type(d, o)));
        if (hd_object_label(d, o)) {
            jw_key(&w, "label");
            jw_string(&w, hd_object_label(d, o));
        }
        jw_key(&w, "shallow");
        jw_uint(&w, hd_object_size(d, o));
        jw_key(&w, "retained");
        jw_uint(&w, hd_retained_size(dom, o));
        jw_dominators(&w, ch, o);
        jw_object_end(&w);
    }
    jw_array_end(&w);
    jw_object_end(&w);
    jw_finish(&w);
}

static int top_run(int argc, char **argv)
{
    top_args a = {.top = 10};
    operands ops;
    hd_dump *d;
    int rc = options_parse_dump(&cmd_top, argc, argv, &a, &ops, NULL, &d);
    if (rc != OPTIONS_GO_ON)
        return rc;
    const char *path = ops.v[0];
    hd_dominators *dom = NULL;
    uint32_t k = a.top == 0 || a.top > hd_object_count(d) ? hd_object_count(d) : (uint32_t)a.top;
    if ((rc = hd_dominators_compute(d, &dom))) {
        hd_dump_free(d);
        return report_status("top", rc);
    }
    uint32_t want = k; /* text leaves V8's internal objects out: rank them all, keep the first k */
    bool hiding = !a.json && !cli_internals && hd_dump_format(d) == HD_FORMAT_V8;
    if (hiding)
        k = hd_dominators_reachable(dom);
    uint32_t *top = xmalloc(((size_t)k + 1) * sizeof *top);
    k = hd_dominators_top(dom, k, top);
    if (hiding) {
        uint32_t kept = 0;
        for (uint32_t i = 0; i < k && kept < want; i++)
            if (!hidden_type(d, hd_object_type(d, top[i])))
                top[kept++] = top[i];
        k = kept;
    }
    chains ch;
    chains_init(&ch, d, dom, k);
    if (a.json)
        print_json(path, d, dom, &ch, top, k);
    else
        print_text(d, dom, &ch, top, k);
    chains_free(&ch);
    free(top);
    hd_dominators_free(dom);
    hd_dump_free(d);
    return EXIT_OK;
}

const command cmd_top = {
    "top", "objects that retain the most, with dominator chains", "DUMP",
    "The objects that retain the most: freeing one would free its retained size (itself\n"
    "and everything only it keeps reachable). Each comes with its dominator chain up to\n"
    "the root that holds it. Weak references never retain.\n",
    top_options, NULL, top_run,
};
