/* query_run.c: statements of a SQL text run one by one against the dump's connection.
 *
 * A statement stops early on Ctrl-C (SIGINT calls sqlite3_interrupt) or when it has run longer
 * than --timeout (SQLite's progress handler looks at the clock every few thousand steps).
 */
#include "query_run.h"

#include <signal.h>
#include <string.h>
#include <time.h>

static sqlite3 *volatile running; /* the connection a statement runs on, for the handler */
static volatile sig_atomic_t interrupted;
static struct timespec deadline;
static bool timed_out;

static void on_sigint(int signo)
{
    (void)signo;
    interrupted = 1;
    if (running)
        sqlite3_interrupt(running);
}

bool query_interrupted(void) { return interrupted; }

static int past_deadline(void *user)
{
    (void)user;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    timed_out = now.tv_sec > deadline.tv_sec ||
                (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec);
    return timed_out;
}

/* Line and column (1-based, columns in bytes) of position at in text. */
static void position(const char *text, const char *at, unsigned long *line, unsigned long *col)
{
    *line = 1;
    *col = 1;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

static void report(query_session *s, const char *source, const char *text, const char *at, int rc)
{
    sqlite3 *db = hq_sqlite(s->q);
    unsigned long line, col;
    int offset = sqlite3_error_offset(db);
    if (offset >= 0)
        at += offset;
    else /* no token to blame: point at the statement, not the blank before it */
        at += strspn(at, " \t\r\n");
    position(text, at, &line, &col);
    fprintf(stderr, "heaptool: ");
    print_escaped(stderr, source);
    fprintf(stderr, ":%lu:%lu: ", line, col);
    const char *refused = hq_refused(s->q);
    if (rc == SQLITE_AUTH && refused)
        fprintf(stderr, "%s is refused: a query only reads the dump\n", refused);
    else if (rc == SQLITE_INTERRUPT && timed_out)
        fprintf(stderr, "interrupted: the statement ran longer than --timeout %g s\n", s->timeout);
    else {
        print_escaped(stderr, sqlite3_errmsg(db));
        fputc('\n', stderr);
    }
}

static int print_rows(query_session *s, sqlite3_stmt *st)
{
    if (s->format == QUERY_JSON)
        return hq_write_json_array(st, stdout);
    if (s->format == QUERY_CSV)
        return hq_write_csv(st, stdout, 1);
    if (s->statements > 0)
        putchar('\n');
    return query_print_table(st, stdout);
}

static void arm_limits(query_session *s, sqlite3 *db)
{
    timed_out = false;
    interrupted = 0;
    running = db;
    if (s->timeout > 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        double whole = (double)(time_t)s->timeout;
        deadline.tv_sec += (time_t)s->timeout;
        deadline.tv_nsec += (long)((s->timeout - whole) * 1e9);
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
        sqlite3_progress_handler(db, 4000, past_deadline, NULL);
    }
}

int query_run_text(query_session *s, const char *source, const char *text)
{
    sqlite3 *db = hq_sqlite(s->q);
    struct sigaction sa = {.sa_handler = on_sigint}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old);
    int status = EXIT_OK;
    const char *at = text;
    while (status == EXIT_OK && at && *at) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        arm_limits(s, db);
        int rc = sqlite3_prepare_v2(db, at, -1, &st, &tail);
        if (rc == SQLITE_OK && st) {
            rc = print_rows(s, st);
            s->statements++;
            rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
        if (rc != SQLITE_OK) {
            report(s, source, text, at, rc);
            status = interrupted && !timed_out ? 130 : rc == SQLITE_IOERR ? EXIT_IO : EXIT_USAGE;
        }
        sqlite3_finalize(st);
        at = tail;
    }
    running = NULL;
    sqlite3_progress_handler(db, 0, NULL, NULL);
    sigaction(SIGINT, &old, NULL);
    return status;
}
