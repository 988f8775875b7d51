/* cmd_export.c: `heaptool export`: the query tables with their computed columns, written for
 * other engines (SQLite, DuckDB, Spark, a warehouse): a SQLite database, or one CSV or
 * JSON-lines file per table in a directory. */
#include "options.h"
#include "query/query.h"

#include <string.h>
#include <sys/stat.h>

static void export_usage(FILE *out)
{
    fputs("usage: heaptool export [options] DUMP -o PATH\n"
          "Writes the tables heaptool query reads (objects, refs, types, sites, roots, weakrefs),\n"
          "computed columns included, each row starting with a column 'dump' that names the\n"
          "source, so that the exports of many dumps can be read together. PATH is complete or\n"
          "untouched: it is written under a temporary name and renamed.\n\n"
          "  -o, --output PATH   a database file (sqlite), or a directory that does not exist\n"
          "                      or is empty (csv, jsonl: TABLE.csv or TABLE.jsonl in it)\n"
          "      --format F      sqlite (default), csv or jsonl\n"
          "      --name NAME     what the dump column says (default: DUMP as given)\n"
          "  -h, --help          this help\n", out);
}

/* True when out names the same file as the dump at path: exporting there would replace it. */
static bool names_the_dump(const char *path, const char *out)
{
    struct stat a, b;
    return !strcmp(path, out) ||
           (stat(path, &a) == 0 && stat(out, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

static bool parse_format(const char *text, enum hq_export_format *out)
{
    static const char *const names[] = {"sqlite", "csv", "jsonl"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(text, names[i])) {
            *out = (enum hq_export_format)i;
            return true;
        }
    usage_error(&cmd_export, "export: --format must be sqlite, csv or jsonl, not '%s'", text);
    return false;
}

static int export_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"format", required_argument, NULL, 'F'},
        {"name", required_argument, NULL, 'N'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *output = NULL, *name = NULL;
    enum hq_export_format format = HQ_EXPORT_SQLITE;
    options_begin();
    for (int c; (c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1;) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'F':
            if (!parse_format(optarg, &format))
                return EXIT_USAGE;
            break;
        case 'N': name = optarg; break;
        case 'h': export_usage(stdout); return EXIT_OK;
        default: return options_error(&cmd_export, argc, argv, longopts);
        }
    }
    if (argc - optind != 1)
        return usage_error(&cmd_export, "export: expected one DUMP, got %d", argc - optind);
    const char *path = argv[optind];
    if (!output)
        return usage_error(&cmd_export, "export: -o PATH is required");
    if (names_the_dump(path, output))
        return usage_error(&cmd_export, "export: -o names the dump itself; heaptool never writes to its input");
    hd_dump *d;
    int rc = load_or_report(path, &d);
    if (rc)
        return rc;
    hq_db *q;
    char msg[512];
    if (hq_open(d, name ? name : path, HQ_EXPORT, &q) != SQLITE_OK) {
        fputs("heaptool: out of memory\n", stderr);
        hd_dump_free(d);
        return EXIT_NOMEM;
    }
    rc = hq_export(q, format, output, msg, sizeof msg);
    if (rc != SQLITE_OK) {
        fputs("heaptool: export: ", stderr);
        print_escaped(stderr, msg);
        fputc('\n', stderr);
    }
    hq_close(q);
    hd_dump_free(d);
    return rc == SQLITE_OK ? EXIT_OK : rc == SQLITE_NOMEM ? EXIT_NOMEM : EXIT_IO;
}

const command cmd_export = {"export", "the query tables as a SQLite database, CSV or JSON lines",
                            export_main, export_usage};
