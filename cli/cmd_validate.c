/* cmd_validate.c: `heaptool validate`: every structural and referential problem of a dump,
 * each with its position; exit 0 only for a valid dump. */
#include "options.h"

#include <inttypes.h>
#include <string.h>

typedef struct validate_args {
    bool quiet;
} validate_args;

static const option_spec validate_options[] = {
    {"quiet", 'q', OPT_FLAG, offsetof(validate_args, quiet), NULL, "print nothing; the exit status says it all",
     NULL, 0, NULL},
    OPT_END,
};

typedef struct tally {
    uint64_t problems;
    bool quiet;
    hd_error first; /* to tell a problem already printed from the one that stopped loading */
} tally;

static void on_problem(const hd_error *p, void *user)
{
    tally *t = user;
    if (t->problems++ == 0)
        t->first = *p;
    if (t->quiet)
        return;
    print_escaped(stdout, p->file); /* a file name may hold control characters too */
    if (p->line)
        printf(":%" PRIu64 ":%" PRIu64, p->line, p->column);
    fputs(": ", stdout);
    print_escaped(stdout, p->message);
    putchar('\n');
}

static int validate_run(int argc, char **argv)
{
    validate_args a = {cli_quiet};
    operands ops;
    int rc = options_parse(&cmd_validate, argc, argv, &a, &ops);
    if (rc != OPTIONS_GO_ON)
        return rc;
    tally t = {0};
    t.quiet = a.quiet;
    const char *path = ops.v[0];
    hd_load_options opts = {.on_problem = on_problem, .user = &t, .on_progress = progress_for(path)};
    hd_dump *d = NULL;
    hd_error err;
    rc = hd_load(path, &opts, &d, &err);
    if (rc == HD_OK && (rc = hd_index_verify(d, &err)) != HD_OK) { /* an index's every section */
        hd_dump_free(d);
        d = NULL;
    }
    if (rc == HD_OK) {
        if (!t.quiet) {
            char buf[48];
            print_escaped(stdout, path);
            if (hd_dump_format(d) == HD_FORMAT_V8)
                printf(": valid V8 heap snapshot: ");
            else
                printf(": valid heapdump v%" PRIu32 ": ", hd_version(d));
            printf("%s, ", plural(hd_object_count(d), "object", buf));
            printf("%s, ", plural(hd_edge_count(d), "reference", buf));
            printf("%s, ", plural(hd_type_count(d), "type", buf));
            printf("%s, ", plural(hd_root_count(d), "root", buf));
            printf("%s\n", plural(hd_weakref_count(d), "weakref", buf));
        }
        hd_dump_free(d);
        return EXIT_OK;
    }
    /* Problems the loader could go on after were printed as found; one that stopped it is not. */
    bool printed = t.problems > 0 && err.status == t.first.status && err.offset == t.first.offset &&
                   err.line == t.first.line && !strcmp(err.message, t.first.message);
    if (!printed) {
        if (rc == HD_EIO || rc == HD_ENOMEM)
            print_load_error(&err);
        else
            on_problem(&err, &t);
    }
    if (!t.quiet && rc != HD_EIO && rc != HD_ENOMEM) {
        print_escaped(stdout, path);
        printf(": invalid: %" PRIu64 " problem%s\n", t.problems, t.problems == 1 ? "" : "s");
    }
    return exit_for_status(rc);
}

const command cmd_validate = {
    "validate", "check a dump's structure and references", "DUMP",
    "Checks a heap dump's structure and referential integrity: member types, duplicate ids,\n"
    "references to missing objects, unknown type or site ids, weakrefs and roots naming\n"
    "missing objects; of a binary index, every section (the other commands verify a big\n"
    "section when they first read it). Prints every problem as FILE:LINE:COLUMN: message;\n"
    "exits 0 only when the dump is valid, 3 when it is not, 4 when it cannot be read.\n",
    validate_options, NULL, validate_run,
};
