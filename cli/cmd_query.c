/* cmd_query.c: `heaptool query`: SQL over a heap, through SQLite virtual tables that read the
 * loaded graph in place (src/query/). */
#include "options.h"
#include "query_run.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct query_args {
    const char *file, *timeout;
    bool json, csv;
} query_args;

static const option_spec query_options[] = {
    {"file", 'f', OPT_STRING, offsetof(query_args, file), "FILE", "run the statements in FILE", NULL, 0, NULL},
    {"json", 0, OPT_FLAG, offsetof(query_args, json), NULL, "rows as a JSON array of objects", NULL, 0, NULL},
    {"csv", 0, OPT_FLAG, offsetof(query_args, csv), NULL, "rows as CSV (RFC 4180) with a header", NULL, 0, NULL},
    {"timeout", 0, OPT_STRING, offsetof(query_args, timeout), "S",
     "stop a statement that runs longer than S seconds", NULL, 0, NULL},
    OPT_END,
};

/* The whole of a file ("-": standard input) as a string; NULL with errno set on failure. */
static char *read_all(const char *path)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f)
        return NULL;
    size_t len = 0, cap = 4096;
    char *text = malloc(cap);
    for (size_t n; text && (n = fread(text + len, 1, cap - len - 1, f)) > 0;) {
        len += n;
        if (cap - len < 2) {
            char *more = realloc(text, cap *= 2);
            if (!more)
                free(text);
            text = more;
        }
    }
    int failed = ferror(f);
    if (f != stdin)
        fclose(f);
    if (failed || !text) {
        free(text);
        return NULL;
    }
    text[len] = '\0';
    return text;
}

static int run_source(query_session *s, const char *file, const char *sql)
{
    if (sql)
        return query_run_text(s, "query", sql);
    if (!file && isatty(STDIN_FILENO))
        return query_prompt(s);
    char *text = read_all(file ? file : "-");
    if (!text) {
        fprintf(stderr, "heaptool: cannot read '%s': %s\n", file ? file : "standard input", strerror(errno));
        return EXIT_IO;
    }
    int rc = query_run_text(s, file ? file : "stdin", text);
    free(text);
    return rc;
}

static bool parse_seconds(const char *text, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(text, &end);
    if (end == text || *end || errno || !(*out > 0) || *out > 1e9)
        return usage_error(&cmd_query, "--timeout: '%s' is not a positive number of seconds", text), false;
    return true;
}

static int query_main(int argc, char **argv)
{
    query_args a = {0};
    operands ops;
    int rc = options_parse(&cmd_query, argc, argv, &a, &ops);
    if (rc != OPTIONS_GO_ON)
        return rc;
    if (a.json && a.csv)
        return usage_error(&cmd_query, "query: --json and --csv exclude each other");
    query_session s = {.format = a.json ? QUERY_JSON : a.csv ? QUERY_CSV : QUERY_TABLE};
    if (a.timeout && !parse_seconds(a.timeout, &s.timeout))
        return EXIT_USAGE;
    const char *file = a.file, *path = ops.v[0], *sql = ops.n == 2 ? ops.v[1] : NULL;
    if (sql && file)
        return usage_error(&cmd_query, "query: give SQL or --file, not both");
    if (!sql && (!file || !strcmp(file, "-")) && !strcmp(path, "-"))
        return usage_error(&cmd_query, "query: the dump is standard input: give the SQL as an argument or --file");
    hd_dump *d;
    if ((rc = load_or_report(path, &d)))
        return rc;
    if (hq_open(d, path, HQ_READ_ONLY, &s.q) != SQLITE_OK) {
        fputs("heaptool: out of memory\n", stderr);
        hd_dump_free(d);
        return EXIT_NOMEM;
    }
    rc = run_source(&s, file, sql);
    hq_close(s.q);
    hd_dump_free(d);
    return rc;
}

const command cmd_query = {
    "query", "SQL over the dump's objects, references, types and roots", "DUMP [SQL]",
    "Runs SQL statements (SQLite's dialect) over the dump's tables:\n"
    "  objects(id, type, type_id, size, rc, gen, flags, site, label,\n"
    "          retained, idom, reachable, distance, scc)\n"
    "  refs(src, dst, name, weak)   types(id, name, count, size, retained, instance_size)\n"
    "  sites(id, file, line, function, count, size)   roots(id, kind, name)\n"
    "  weakrefs(id, referent, callback)\n"
    "and functions referrers(ID), referents(ID), path_to_root(ID), retained_set(ID),\n"
    "dominated(ID), human_size(N). Computed columns (retained, idom, reachable, distance,\n"
    "scc) cost only the statements that use them. A query only reads: statements that\n"
    "write are refused. With no SQL, statements come from standard input, or from an\n"
    "interactive prompt on a terminal (.tables, .schema, .help).\n",
    query_options,
    "An SQL error or a refused statement: one line with its position, exit status 2.\n"
    "Ctrl-C stops the statement that runs (exit status 130).\n",
    query_main,
};
