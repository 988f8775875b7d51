/* export.c: the tables with their computed columns, for engines past one machine: one SQLite
 * database file, or a directory of one CSV or JSON-lines file per table. Every row starts with
 * a dump column naming the source, so exports of many dumps concatenate.
 *
 * Invariant: nothing appears at path until the export is complete: it is written under a
 * temporary name beside path, synced, then renamed over it. The temporary file, or directory
 * and each file in it, is listed for hd_remove_unfinished_files from before it exists until the
 * rename, so that an interrupt takes it away.
 */
#include "query_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(char *msg, size_t len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *msg, size_t len, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, len, fmt, ap);
    va_end(ap);
    return rc;
}

static int run(sqlite3 *db, const char *sql, const char *bind, char *msg, size_t len)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && bind)
        rc = sqlite3_bind_text(st, 1, bind, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK) {
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
        rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
    if (rc != SQLITE_OK)
        fail(msg, len, rc, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

static int sync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    int ok = fd >= 0 && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    return ok ? SQLITE_OK : SQLITE_IOERR;
}

static int export_sqlite(hq_db *q, const char *tmp, char *msg, size_t len)
{
    sqlite3 *db = q->db;
    int rc = run(db, "ATTACH ?1 AS out", tmp, msg, len);
    if (rc == SQLITE_OK)
        rc = run(db, "PRAGMA out.journal_mode = OFF", NULL, msg, len);
    if (rc == SQLITE_OK)
        rc = run(db, "BEGIN", NULL, msg, len);
    for (size_t i = 0; rc == SQLITE_OK && i < hq_table_count(); i++) {
        const hq_table_info *t = hq_table_at(i);
        char *create = sqlite3_mprintf("CREATE TABLE out.%s(dump TEXT, %s)", t->name, t->columns);
        char *insert = sqlite3_mprintf("INSERT INTO out.%s SELECT ?1, * FROM main.%s", t->name, t->name);
        rc = create && insert ? run(db, create, NULL, msg, len) : fail(msg, len, SQLITE_NOMEM, "out of memory");
        if (rc == SQLITE_OK)
            rc = run(db, insert, q->ctx->dump_name, msg, len);
        sqlite3_free(create);
        sqlite3_free(insert);
    }
    if (rc == SQLITE_OK)
        rc = run(db, "COMMIT", NULL, msg, len);
    else
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_exec(db, "DETACH out", NULL, NULL, NULL);
    if (rc == SQLITE_OK && sync_path(tmp) != SQLITE_OK)
        rc = fail(msg, len, SQLITE_IOERR, "cannot sync '%s': %s", tmp, strerror(errno));
    return rc;
}

static int export_table_file(hq_db *q, const hq_table *t, enum hq_export_format format,
                             const char *file, hq_export_buffers *buffers, char *msg, size_t len)
{
    hq_sink out;
    int e = hq_export_file_open(&out, file, buffers);
    if (e)
        return fail(msg, len, SQLITE_CANTOPEN, "cannot create '%s': %s", file, strerror(e));
    int rc = hq_export_rows(q->ctx, t, format == HQ_EXPORT_CSV, &out);
    e = hq_export_file_close(&out);
    if (rc == SQLITE_NOMEM)
        return fail(msg, len, rc, "out of memory");
    if (rc != SQLITE_OK || e)
        return fail(msg, len, SQLITE_IOERR, "cannot write '%s': %s", file, strerror(e ? e : EIO));
    return SQLITE_OK;
}

/* The analyses on two threads, on the two cores of a small machine (a third memory-bound one
 * slowed all three), in two rounds: the dominators (and what derives from them) while the main
 * thread writes the tables that need no analysis; then the cycles beside the distances. None
 * reads another's results. The second round takes the scratch the dominators freed
 * (hq_compute keeps it): beside them, the others took fresh pages, which in a virtual machine
 * cost more than their searches. */
typedef struct analyses_job {
    hq_context *c;
    unsigned analyses;
} analyses_job;

static void *analyses_run(void *arg)
{
    analyses_job *j = arg; /* a failure shows as the table's out of memory */
    hq_compute(j->c, j->analyses);
    return NULL;
}

static char *table_file(const char *dir, size_t table, enum hq_export_format format)
{
    return sqlite3_mprintf("%s/%s.%s", dir, hq_table_at(table)->name, format == HQ_EXPORT_CSV ? "csv" : "jsonl");
}

/* The table files into dir, each listed (handles[i] for table i) before it is made. */
static int export_directory(hq_db *q, enum hq_export_format format, const char *dir, int *handles,
                            char *msg, size_t len)
{
    unsigned analyses = 0;
    for (size_t i = 0; i < hq_table_count(); i++)
        analyses |= hq_table_analyses(hq_table_def(i), UINT64_MAX);
    analyses_job dominators = {q->ctx, analyses & (HQ_DOMINATORS | HQ_TYPE_RETAINED)};
    analyses_job cycles = {q->ctx, analyses & HQ_SCC};
    pthread_t thread;
    bool threaded = pthread_create(&thread, NULL, analyses_run, &dominators) == 0;
    hq_export_buffers buffers = {{NULL, NULL}};
    int rc = SQLITE_OK;
    /* First the tables without computed columns, then (the analyses done) those with them. */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (threaded)
                pthread_join(thread, NULL);
            else if (rc == SQLITE_OK)
                analyses_run(&dominators);
            if (rc == SQLITE_OK) {
                threaded = pthread_create(&thread, NULL, analyses_run, &cycles) == 0;
                hq_compute(q->ctx, analyses & HQ_DISTANCE);
                if (threaded)
                    pthread_join(thread, NULL);
                else
                    analyses_run(&cycles);
            }
            hd_release_scratch();
        }
        for (size_t i = 0; rc == SQLITE_OK && i < hq_table_count(); i++) {
            const hq_table *t = hq_table_def(i);
            if ((hq_table_analyses(t, UINT64_MAX) != 0) != (pass == 1))
                continue;
            char *file = table_file(dir, i, format);
            if (file)
                handles[i] = hd_unfinished_name(file);
            rc = file ? export_table_file(q, t, format, file, &buffers, msg, len)
                      : fail(msg, len, SQLITE_NOMEM, "out of memory");
            sqlite3_free(file);
        }
    }
    hq_export_buffers_free(&buffers);
    return rc;
}

/* Takes away a temporary export that failed: its table files, then the directory; or unlists
 * them once renamed. */
static void finish_temporary(const char *tmp, int handle, const int *handles, enum hq_export_format format,
                             bool renamed)
{
    for (size_t i = 0; format != HQ_EXPORT_SQLITE && i < hq_table_count(); i++) {
        char *file = renamed ? NULL : table_file(tmp, i, format);
        if (file)
            hd_unfinished_remove(file, handles[i]);
        else
            hd_unfinished_done(handles[i]);
        sqlite3_free(file);
    }
    if (renamed)
        hd_unfinished_done(handle);
    else
        hd_unfinished_remove(tmp, handle);
}

int hq_export(hq_db *q, enum hq_export_format format, const char *path, char *msg, size_t len)
{
    char *tmp = sqlite3_mprintf("%s.tmp-XXXXXX", path);
    int handle, *handles = malloc(hq_table_count() * sizeof *handles);
    if (!tmp || !handles) {
        sqlite3_free(tmp);
        free(handles);
        return fail(msg, len, SQLITE_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < hq_table_count(); i++)
        handles[i] = -1;
    int made = format == HQ_EXPORT_SQLITE ? hd_unfinished_file(tmp, &handle) : hd_unfinished_directory(tmp, &handle);
    if (made < 0) {
        int rc = fail(msg, len, SQLITE_CANTOPEN, "cannot create '%s': %s", tmp, strerror(errno));
        sqlite3_free(tmp);
        free(handles);
        return rc;
    }
    if (format == HQ_EXPORT_SQLITE)
        close(made); /* SQLite opens it by name */
    /* The directory export writes refs beside the analyses, reading the dump's own ids: its
     * prefetch runs far enough ahead (no slower than from the copy, measured at 10M), and the
     * copy would add to the analyses' peak. */
    if (format == HQ_EXPORT_SQLITE)
        hq_object_ids_copy(q->ctx);
    int rc = format == HQ_EXPORT_SQLITE ? export_sqlite(q, tmp, msg, len)
                                        : export_directory(q, format, tmp, handles, msg, len);
    if (rc == SQLITE_OK && rename(tmp, path) != 0) {
        if (errno == ENOTEMPTY || errno == EEXIST)
            rc = fail(msg, len, SQLITE_CANTOPEN, "'%s' exists and is not an empty directory", path);
        else
            rc = fail(msg, len, SQLITE_CANTOPEN, "cannot write '%s': %s", path, strerror(errno));
    }
    finish_temporary(tmp, handle, handles, format, rc == SQLITE_OK);
    sqlite3_free(tmp);
    free(handles);
    return rc;
}
