/* cmd_export.c: `heaptool export`: the query tables with their computed columns, written for
 * other engines (SQLite, DuckDB, Spark, a warehouse): a SQLite database, or one CSV or
 * JSON-lines file per table in a directory. */
#include "analysis.h"
#include "options.h"
#include "query/query.h"

#include <string.h>

typedef struct export_args {
    const char *output, *name;
    int format; /* enum hq_export_format: the index in format_names */
} export_args;

static const char *const format_names[] = {"sqlite", "csv", "jsonl", NULL};

static const option_spec export_options[] = {
    {"output", 'o', OPT_STRING, offsetof(export_args, output), "PATH",
     "a database file (sqlite), or a directory that does not exist\n"
     "or is empty (csv, jsonl: TABLE.csv or TABLE.jsonl in it); required", NULL, 0, NULL},
    {"format", 0, OPT_CHOICE, offsetof(export_args, format), "F", "sqlite, csv or jsonl", "sqlite", 0,
     format_names},
    {"name", 0, OPT_STRING, offsetof(export_args, name), "NAME", "what the dump column says",
     "DUMP as given", 0, NULL},
    OPT_END,
};

static int export_main(int argc, char **argv)
{
    export_args a = {.format = HQ_EXPORT_SQLITE};
    operands ops;
    int rc = options_parse(&cmd_export, argc, argv, &a, &ops);
    if (rc != OPTIONS_GO_ON)
        return rc;
    const char *path = ops.v[0], *output = a.output, *name = a.name;
    enum hq_export_format format = (enum hq_export_format)a.format;
    if (!output)
        return usage_error(&cmd_export, "export: -o PATH is required");
    if (same_file(path, output))
        return usage_error(&cmd_export, "export: -o names the dump itself; heaptool never writes to its input");
    hd_dump *d;
    if ((rc = load_or_report(path, &d)))
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

const command cmd_export = {
    "export", "the query tables as a SQLite database, CSV or JSON lines", "DUMP",
    "Writes the tables heaptool query reads (objects, refs, types, sites, roots, weakrefs,\n"
    "frames, stack_frames), computed columns included, each row starting with a column\n"
    "'dump' that names the source, so that the exports of many dumps can be read together.\n"
    "PATH is complete or untouched: it is written under a temporary name and renamed.\n",
    export_options, NULL, export_main,
};
