/* cmd_report.c: `heaptool report`: one self-contained HTML page on one dump or a series
 * (hd_report_write), written atomically. */
#include "analysis.h"
#include "options.h"

#include <inttypes.h>
#include <stdlib.h>

static void report_usage(FILE *out)
{
    fputs("usage: heaptool report [options] -o FILE DUMP [MORE DUMPS...]\n"
          "One HTML page, self-contained (nothing is fetched; it opens offline) and small whatever\n"
          "the dump's size: overview tables, the suspects (as heaptool suspects, with the dump\n"
          "before the last as baseline), a zoomable treemap of the dominator tree, a flame graph\n"
          "of live bytes by allocation site, the largest cycles drawn, and with two dumps or more\n"
          "(oldest first; the last is analysed) a comparison per type.\n\n"
          "  -o, --output FILE     where to write the page (required)\n"
          "      --threshold PCT   whole percent of the heap that makes a suspect (default 10)\n"
          "  -n, --top N           rows per table (default 50)\n"
          "      --force           compare dumps of different processes anyway\n"
          "  -h, --help            this help\n", out);
}

static int report_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"threshold", required_argument, NULL, 't'},
        {"top", required_argument, NULL, 'n'},    {"force", no_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *output = NULL;
    uint64_t top = 50, percent = 10;
    bool force = false;
    options_begin();
    for (int c; (c = getopt_long(argc, argv, "+o:n:h", longopts, NULL)) != -1;) {
        switch (c) {
        case 'o': output = optarg; break;
        case 't':
            if (!parse_count(&cmd_report, "--threshold", optarg, &percent))
                return EXIT_USAGE;
            if (percent == 0 || percent > 100)
                return usage_error(&cmd_report, "report: --threshold takes a percentage in 1..100, not '%s'", optarg);
            break;
        case 'n':
            if (!parse_count(&cmd_report, "--top", optarg, &top))
                return EXIT_USAGE;
            if (top == 0 || top > 10000)
                return usage_error(&cmd_report, "report: --top takes 1..10000, not '%s'", optarg);
            break;
        case 'F': force = true; break;
        case 'h': report_usage(stdout); return EXIT_OK;
        default: return options_error(&cmd_report, argc, argv, longopts);
        }
    }
    if (!output)
        return usage_error(&cmd_report, "report: -o FILE is required");
    if (argc - optind < 1)
        return usage_error(&cmd_report, "report: expected at least one DUMP");
    size_t n = (size_t)(argc - optind);
    const char *const *paths = (const char *const *)(argv + optind);
    hd_dump **dumps = xcalloc(n, sizeof *dumps);
    int rc = load_all_or_report(paths, n, dumps);
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
                rc = report_failure("report", st);
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

const command cmd_report = {"report", "one self-contained HTML page: suspects, treemap, flame graph",
                            report_run, report_usage};
