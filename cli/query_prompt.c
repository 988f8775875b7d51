/* query_prompt.c: heaptool query's interactive prompt (libedit): a statement may span lines and
 * runs once complete (ends with ';'), history is kept across sessions in ~/.heaptool_history (or
 * $HEAPTOOL_HISTORY), and a few dot commands work as in the sqlite3 shell. Ctrl-C stops the
 * running statement and returns to the prompt; Ctrl-D leaves. */
#include "query_run.h"

#include <editline/readline.h>
#include <stdlib.h>
#include <string.h>

static void print_tables(bool schema, const char *only)
{
    for (size_t i = 0; i < hq_table_count(); i++) {
        const hq_table_info *t = hq_table_at(i);
        if (only && strcmp(only, t->name))
            continue;
        if (schema)
            printf("CREATE TABLE %s(%s);\n", t->name, t->columns);
        else
            printf("%s%s", i ? "  " : "", t->name);
    }
    if (!schema)
        puts("");
    if (schema && !only)
        puts("-- table-valued functions: referrers(id), referents(id) -> (id, type, size, name, weak)\n"
             "-- path_to_root(id) -> (hop, edge, object, type)\n"
             "-- retained_set(id), dominated(id) -> (id, type, size, retained)\n"
             "-- scalar: human_size(n)");
}

/* A line starting with '.': true to go on, false for .quit. */
static bool dot_command(char *line)
{
    char *name = strtok(line, " \t"), *arg = strtok(NULL, " \t");
    if (!strcmp(name, ".quit") || !strcmp(name, ".exit"))
        return false;
    if (!strcmp(name, ".tables"))
        print_tables(false, NULL);
    else if (!strcmp(name, ".schema"))
        print_tables(true, arg);
    else if (!strcmp(name, ".help"))
        puts(".tables          the tables\n.schema [TABLE]  their columns, and the functions\n"
             ".quit            leave (so does Ctrl-D)\nOther lines are SQL, run at the ';' that ends them.");
    else
        fprintf(stderr, "heaptool: unknown command '%s'; .help lists them\n", name);
    return true;
}

static char *history_path(void)
{
    const char *env = getenv("HEAPTOOL_HISTORY"), *home = getenv("HOME");
    if (env)
        return strdup(env);
    if (!home)
        return NULL;
    char *path = malloc(strlen(home) + sizeof "/.heaptool_history");
    if (path)
        sprintf(path, "%s/.heaptool_history", home);
    return path;
}

/* Appends line to the statement being typed; false when memory ran out. */
static bool append(char **buf, const char *line)
{
    size_t have = *buf ? strlen(*buf) : 0;
    char *more = realloc(*buf, have + strlen(line) + 2);
    if (!more)
        return false;
    if (have)
        more[have++] = '\n';
    strcpy(more + have, line);
    *buf = more;
    return true;
}

int query_prompt(query_session *s)
{
    char *hist = history_path(), *pending = NULL, *line;
    bool quit = false;
    using_history();
    if (hist)
        read_history(hist);
    puts("heaptool query: SQL ending with ';', .help for more, Ctrl-D to leave");
    while ((line = readline(pending ? "     ...> " : "heaptool> ")) != NULL) {
        if (!pending && line[0] == '.') {
            add_history(line);
            quit = !dot_command(line);
            free(line);
            if (quit)
                break;
            continue;
        }
        bool blank = !pending && !line[strspn(line, " \t")], ok = blank || append(&pending, line);
        free(line);
        if (!ok)
            break;
        if (blank || !sqlite3_complete(pending))
            continue;
        add_history(pending);
        query_run_text(s, "prompt", pending); /* errors are printed; the prompt goes on */
        fflush(stdout);
        free(pending);
        pending = NULL;
    }
    if (!quit)
        putchar('\n'); /* Ctrl-D left the cursor after the prompt */
    if (hist)
        write_history(hist);
    free(hist);
    free(pending);
    return EXIT_OK;
}
