/* index.c: building binary indexes, and auto-indexing: a command on a JSON or V8 dump opens its
 * fresh index instead when there is one, and makes one first when the dump is big.
 *
 * Invariant: an index is used only when its header checks out and its source stamp (size,
 * mtime, head and tail hash) is the dump's as it is now; anything else (stale, truncated,
 * corrupt, another version) is rebuilt in auto mode, and an explicitly named FILE.hdx is
 * refused. A file at DUMP.hdx that is not an index is never replaced: the index goes to the
 * cache directory instead. Indexes appear by rename, so a concurrent build never exposes half a file: two
 * builds of one index each write their own temporary file and the last rename wins. A command
 * on several dumps builds the indexes it lacks together, one thread each.
 */
#include "index.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum index_mode cli_index_mode = INDEX_AUTO;

bool index_mode_from_env(void)
{
    const char *v = getenv("HEAPTOOL_INDEX");
    if (!v || !*v || !strcmp(v, "auto"))
        cli_index_mode = INDEX_AUTO;
    else if (!strcmp(v, "never"))
        cli_index_mode = INDEX_NEVER;
    else if (!strcmp(v, "always"))
        cli_index_mode = INDEX_ALWAYS;
    else {
        usage_error(NULL, "HEAPTOOL_INDEX must be never, auto or always, not '%s'", v);
        return false;
    }
    return true;
}

static bool same_source(const hd_index_source *a, const hd_index_source *b)
{
    return a->size == b->size && a->mtime_ns == b->mtime_ns && a->hash == b->hash;
}

/* One index being built: the dump's stamp before it was read, the loaded dump, and how its
 * analyses and the write went (HD_ statuses; nothing is printed, so builds may share threads). */
typedef struct index_job {
    const char *path, *out;
    hd_index_source before;
    hd_dump *d;
    int status; /* hd_index_build's */
    hd_error err;
} index_job;

/* The dump's stamp before it is read; prints what went wrong and returns an exit status. */
static int stamp_before(index_job *j)
{
    if (hd_index_source_of(j->path, &j->before, &j->err)) {
        print_load_error(&j->err);
        return exit_for_status(j->err.status);
    }
    return EXIT_OK;
}

/* A dump that changed while it was read is not indexed. */
static int unchanged(const char *cmd, index_job *j)
{
    hd_index_source after;
    hd_error err;
    if (hd_index_source_of(j->path, &after, &err) || !same_source(&j->before, &after)) {
        fprintf(stderr, "heaptool: %s: '%s' changed while it was being indexed\n", cmd, j->path);
        return EXIT_IO;
    }
    return EXIT_OK;
}

static void *analyse_and_write(void *arg)
{
    index_job *j = arg;
    j->status = hd_index_build(j->d, &j->before, j->out, &j->err);
    return NULL;
}

/* What the job came to, printed; an exit status. An index that could not be made is no
 * failure when must_write is false: the command goes on from the loaded dump (and reports what
 * its own analyses run into). */
static int job_status(const index_job *j, bool must_write)
{
    if (!j->status || !must_write)
        return EXIT_OK;
    print_load_error(&j->err);
    return exit_for_status(j->status);
}

int build_index(const char *cmd, const char *path, const char *out, bool must_write, hd_dump **keep)
{
    index_job j = {.path = path, .out = out};
    int rc = stamp_before(&j);
    if (!rc)
        rc = load_plain(path, &j.d);
    if (!rc && !(rc = unchanged(cmd, &j))) {
        analyse_and_write(&j);
        rc = job_status(&j, must_write);
    }
    if (!rc && keep)
        *keep = j.d;
    else
        hd_dump_free(j.d);
    return rc;
}

/* Builds n automatic indexes at once: the dumps loaded together (hd_load_many), then each
 * one's analyses and index on a thread of its own. out[i] takes the loaded dumps; all are
 * freed on a failure, which is reported as building them one by one would. */
static int build_indexes(const char *const *paths, char *const *indexes, size_t n, hd_dump **out)
{
    index_job *jobs = xcalloc(n, sizeof *jobs);
    int rc = EXIT_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        jobs[i] = (index_job){.path = paths[i], .out = indexes[i]};
        rc = stamp_before(&jobs[i]);
    }
    if (!rc)
        rc = load_all_plain(paths, n, out);
    for (size_t i = 0; i < n && !rc; i++)
        rc = unchanged("index", &jobs[i]);
    if (!rc) {
        pthread_t *threads = xcalloc(n, sizeof *threads);
        bool *started = xcalloc(n, sizeof *started);
        for (size_t i = 0; i < n; i++)
            jobs[i].d = out[i];
        for (size_t i = 1; i < n; i++) /* the first runs here */
            started[i] = pthread_create(&threads[i], NULL, analyse_and_write, &jobs[i]) == 0;
        for (size_t i = 0; i < n; i++)
            if (!started[i])
                analyse_and_write(&jobs[i]);
        for (size_t i = 1; i < n; i++)
            if (started[i])
                pthread_join(threads[i], NULL);
        for (size_t i = 0; i < n && !rc; i++)
            rc = job_status(&jobs[i], false);
        free(threads);
        free(started);
    }
    for (size_t i = 0; i < n && rc; i++) {
        hd_dump_free(out[i]);
        out[i] = NULL;
    }
    free(jobs);
    return rc;
}

static bool writable_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? xasprintf("%.*s", (int)(slash - path + 1), path) : xasprintf(".");
    bool ok = access(dir, W_OK) == 0;
    free(dir);
    return ok;
}

bool foreign_file(const char *path)
{
    return access(path, F_OK) == 0 && !hd_is_index(path);
}

char *auto_index_path(const char *path)
{
    char *beside = xasprintf("%s.hdx", path);
    if (writable_dir_of(path) && !foreign_file(beside))
        return beside;
    free(beside);
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char *cache = xdg && *xdg ? xasprintf("%s/heaptool", xdg) : xasprintf("%s/.cache/heaptool", home ? home : "/tmp");
    for (char *p = cache + 1; *p; p++) /* mkdir -p */
        if (*p == '/') {
            *p = '\0';
            mkdir(cache, 0777);
            *p = '/';
        }
    mkdir(cache, 0777);
    /* Named by the dump's absolute path, so two dumps called alike never share an index. */
    char *abs = realpath(path, NULL);
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = abs ? abs : path; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    const char *slash = strrchr(path, '/');
    char *out = xasprintf("%s/%s-%016llx.hdx", cache, slash ? slash + 1 : path, (unsigned long long)h);
    free(abs);
    free(cache);
    return out;
}

/* A fresh index of path, checked as far as the header: the dump is what it was made from, and
 * the index is the user's own (in a shared directory another user's file is not trusted). */
static bool fresh_index(const char *path, const char *index)
{
    hd_index_source now, then;
    hd_error err;
    struct stat st;
    return stat(index, &st) == 0 && st.st_uid == geteuid() && hd_index_peek(index, &then, &err) == HD_OK &&
           hd_index_source_of(path, &now, &err) == HD_OK && same_source(&now, &then);
}

/* An index named on the command line (FILE.hdx) whose source FILE is beside it must still be
 * that file's: a stale one is refused rather than answering for a dump that changed. */
static int check_explicit(const char *index)
{
    size_t n = strlen(index);
    if (n <= 4 || strcmp(index + n - 4, ".hdx"))
        return EXIT_OK;
    char *source = xasprintf("%.*s", (int)(n - 4), index);
    hd_index_source now, then;
    hd_error err;
    int rc = EXIT_OK;
    if (access(source, R_OK) == 0 && hd_index_peek(index, &then, &err) == HD_OK &&
        hd_index_source_of(source, &now, &err) == HD_OK && !same_source(&now, &then)) {
        fprintf(stderr, "heaptool: %s: index: stale: '%s' changed since it was indexed; rebuild it with 'heaptool index'\n",
                index, source);
        rc = EXIT_INVALID;
    }
    free(source);
    return rc;
}

/* How path is to be opened: the file itself (*index NULL), or its automatic index, fresh or
 * to be built (*build). Explicit indexes are checked here; returns an exit status. */
static int plan(const char *path, char **index, bool *build)
{
    *index = NULL;
    *build = false;
    struct stat st;
    if (!strcmp(path, "-") || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return EXIT_OK;
    if (hd_is_index(path))
        return check_explicit(path);
    if (cli_index_mode == INDEX_NEVER)
        return EXIT_OK;
    char *ix = auto_index_path(path);
    if (fresh_index(path, ix))
        *index = ix;
    else if (cli_index_mode == INDEX_ALWAYS || (uint64_t)st.st_size > AUTO_INDEX_FROM) {
        *index = ix;
        *build = true;
    } else
        free(ix);
    return EXIT_OK;
}

/* Opens path's automatic index, building it first when it is missing, stale or unusable. */
static int open_index(const char *path, const char *index, bool build, hd_dump **out)
{
    hd_error err;
    if (!build && hd_load(index, NULL, out, &err) == HD_OK) {
        index_opened_automatic(index);
        return EXIT_OK;
    }
    return build_index("index", path, index, false, out); /* corrupt beyond its header: rebuilt */
}

int load_or_report(const char *path, hd_dump **out)
{
    char *index;
    bool build;
    int rc = plan(path, &index, &build);
    if (!rc)
        rc = index ? open_index(path, index, build, out) : load_plain(path, out);
    free(index);
    return rc;
}

/* Dumps with a fresh index open at once; those whose index is to be built are built together,
 * and the others are parsed together (hd_load_many). */
int load_all_or_report(const char *const *paths, size_t n, hd_dump **out)
{
    const char **plain = xcalloc(n, sizeof *plain), **built = xcalloc(n, sizeof *built);
    char **indexes = xcalloc(n, sizeof *indexes);
    size_t *built_at = xcalloc(n, sizeof *built_at);
    int rc = EXIT_OK;
    size_t nplain = 0, nbuilt = 0;
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    for (size_t i = 0; i < n && !rc; i++) {
        char *index;
        bool build;
        hd_error err;
        rc = plan(paths[i], &index, &build);
        if (!rc && index && (build || hd_load(index, NULL, &out[i], &err) != HD_OK)) {
            out[i] = NULL; /* missing, stale, or corrupt beyond its header: rebuilt */
            built_at[nbuilt] = i;
            built[nbuilt] = paths[i];
            indexes[nbuilt++] = index;
        } else {
            if (!rc && !index)
                plain[nplain++] = paths[i];
            else if (!rc)
                index_opened_automatic(index);
            free(index);
        }
    }
    hd_dump **loaded = xcalloc(n, sizeof *loaded);
    if (!rc && nbuilt)
        rc = build_indexes(built, indexes, nbuilt, loaded);
    for (size_t k = 0; !rc && k < nbuilt; k++)
        out[built_at[k]] = loaded[k];
    if (!rc && nplain) {
        rc = load_all_plain(plain, nplain, loaded);
        for (size_t i = 0, k = 0; i < n && k < nplain; i++)
            if (!out[i])
                out[i] = loaded[k++];
    }
    for (size_t k = 0; k < nbuilt; k++)
        free(indexes[k]);
    free(loaded);
    free(plain);
    free(built);
    free(indexes);
    free(built_at);
    return rc;
}
