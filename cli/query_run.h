/* query_run.h: running SQL text against a dump for heaptool query: statements one after
 * another, errors as one line with their position, rows in the chosen format, Ctrl-C and
 * --timeout stopping a statement. */
#ifndef HEAPTOOL_QUERY_RUN_H
#define HEAPTOOL_QUERY_RUN_H

#include "cli.h"
#include "query/query.h"

enum query_format { QUERY_TABLE, QUERY_JSON, QUERY_CSV };

typedef struct query_session {
    hq_db *q;
    enum query_format format;
    double timeout;   /* seconds a statement may run; 0: no limit */
    int statements;   /* statements that gave output so far (tables are separated by a blank line) */
} query_session;

/* Runs every statement of text (source names it in errors: "query", a file, "stdin"). Stops at
 * the first that fails, after printing "heaptool: SOURCE:LINE:COL: message". Returns EXIT_OK,
 * EXIT_USAGE for an SQL error or refusal, or 130 when Ctrl-C interrupted it. */
int query_run_text(query_session *s, const char *source, const char *text);
/* Whether Ctrl-C interrupted the last statement (the prompt goes on after it). */
bool query_interrupted(void);

/* The interactive prompt (query_prompt.c): statements with history, .tables, .schema, .help. */
int query_prompt(query_session *s);

/* The aligned table for people (query_table.c); SQLITE_DONE or the step's error. */
int query_print_table(sqlite3_stmt *st, FILE *out);

#endif
