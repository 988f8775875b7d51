/* cmd_report.c: `heaptool report`: one self-contained HTML page on one dump or a series
 * (hd_report_write), written atomically. */
#include "analysis.h"
#include "options.h"

#include <inttypes.h>
#include <stdlib.h>

typedef struct report_args {
    const char *output;
    uint64_t top, percent;
    bool force;
} report_args;

static const option_spec report_options[] = {
    {"output", 'o', OPT_STRING, offsetof(report_args, output), "FILE", "where to write the page (required)",
     NULL, 0, NULL},
    {"threshold", 0, OPT_COUNT, offsetof(report_args, percent), "PCT",
     "whole percent of the heap that makes a suspect", "10", 0, NULL},
    {"top", 'n', OPT_COUNT, offsetof(report_args, top), "N", "rows per table, 1 to 10000", "50", 0, NULL},
    {"force", 0, OPT_FLAG, offsetof(report_args, force), NULL, "compare dumps of different processes anyway",
     NULL, 0, NULL},
    OPT_END,
};

static int report_run(int argc, char **argv)
{
    report_args a = {.top = 50, .percent = 10};
    operands ops;
    int rc = options_parse(&cmd_report, argc, argv, &a, &ops);
    if (rc != OPTIONS_GO_ON)
        return rc;
    const char *output = a.output;
    uint64_t top = a.top, percent = a.percent;
    bool force = a.force;
    if (percent == 0 || percent > 100)
        return usage_error(&cmd_report, "report: --threshold takes a percentage in 1..100, not '%llu'",
                           (unsigned long long)percent);
    if (top == 0 || top > 10000)
        return usage_error(&cmd_report, "report: --top takes 1..10000, not '%llu'", (unsigned long long)top);
    if (!output)
        return usage_error(&cmd_report, "report: -o FILE is required");
    size_t n = (size_t)ops.n;
    const char *const *paths = (const char *const *)ops.v;
    hd_dump **dumps = xcalloc(n, sizeof *dumps);
    rc = load_all_or_report(paths, n, dumps);
    for (size_t i = 0; i + 1 < n && !rc && !force; i++)
        if (hd_dump_compat(dumps[i], dumps[n - 1]) & (HD_COMPAT_PRODUCER | HD_COMPAT_PID)) {
            fputs("heaptool: report: '", stderr);
            print_escaped(stderr, paths[i]);
            fputs("' and '", stderr);
            print_escaped(stderr, paths[n - 1]);
            fputs("' come from different processes; object ids match only within one (--force "
                  "compares anyway)\n", stderr);
            rc = EXIT_INVALID;
        }
    char *page = NULL;
    size_t len = 0;
    if (!rc) {
        FILE *mem = open_memstream(&page, &len);
        if (!mem) {
            fputs("heaptool: out of memory\n", stderr);
            rc = EXIT_NOMEM;
        } else {
            hd_report_options ro = {.names = paths, .threshold = (double)percent / 100, .top = (uint32_t)top};
            int st = hd_report_write((const hd_dump *const *)dumps, n, &ro, mem);
            if (fclose(mem) && !st)
                st = HD_ENOMEM;
            if (st)
                rc = report_status("report", st);
        }
    }
    hd_error err;
    if (!rc && hd_write_file_atomic(output, page, len, &err)) {
        print_load_error(&err);
        rc = EXIT_IO;
    }
    free(page);
    for (size_t i = 0; i < n; i++)
        hd_dump_free(dumps[i]);
    free(dumps);
    return rc;
}

const command cmd_report = {
    "report", "one self-contained HTML page: suspects, treemap, flame graph", "DUMP [MORE...]",
    "One HTML page, self-contained (nothing is fetched; it opens offline) and small whatever\n"
    "the dump's size: overview tables, the suspects (as heaptool suspects, with the dump\n"
    "before the last as baseline), a zoomable treemap of the dominator tree, a flame graph\n"
    "of live bytes by allocation site, the largest cycles drawn, and with two dumps or more\n"
    "(oldest first; the last is analysed) a comparison per type.\n",
    report_options, NULL, report_run,
};
