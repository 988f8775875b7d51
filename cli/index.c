/* index.c: building binary indexes, and auto-indexing: a command on a JSON or V8 dump opens its
 * fresh index instead when there is one, and makes one first when the dump is big.
 *
 * Invariant: an index is used only when its header checks out and its source stamp (size,
 * mtime, head and tail hash) is the dump's as it is now; anything else (stale, truncated,
 * corrupt, another version) is rebuilt in auto mode, and an explicitly named FILE.hdx is
 * refused. A file at DUMP.hdx that is not an index is never replaced: the index goes to the
 * cache directory instead. Indexes appear by rename, so a concurrent build never exposes half a file: two
 * builds of one index each write their own temporary file and the last rename wins.
 */
#include "index.h"

#include <errno.h>
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

int build_index(const char *cmd, const char *path, const char *out, bool must_write, hd_dump **keep)
{
    hd_error err;
    hd_index_source before, after;
    if (hd_index_source_of(path, &before, &err)) {
        print_load_error(&err);
        return exit_for_status(err.status);
    }
    hd_dump *d;
    int rc = load_plain(path, &d);
    if (rc)
        return rc;
    if (hd_index_source_of(path, &after, &err) || !same_source(&before, &after)) {
        fprintf(stderr, "heaptool: %s: '%s' changed while it was being indexed\n", cmd, path);
        hd_dump_free(d);
        return EXIT_IO;
    }
    hd_reach *reach = NULL;
    hd_dominators *dom = NULL;
    if ((rc = hd_reach_compute(d, &reach)) || (rc = hd_dominators_compute(d, &dom))) {
        hd_reach_free(reach);
        hd_dump_free(d);
        return report_status(cmd, rc);
    }
    rc = hd_index_write(d, reach, dom, &before, out, &err);
    hd_reach_free(reach);
    hd_dominators_free(dom);
    if (rc && must_write) {
        print_load_error(&err);
        hd_dump_free(d);
        return exit_for_status(rc);
    }
    if (keep)
        *keep = d;
    else
        hd_dump_free(d);
    return EXIT_OK;
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

/* Dumps with an index open at once; the others are parsed together (hd_load_many). */
int load_all_or_report(const char *const *paths, size_t n, hd_dump **out)
{
    const char **plain = xcalloc(n, sizeof *plain);
    int rc = EXIT_OK;
    size_t nplain = 0;
    for (size_t i = 0; i < n; i++)
        out[i] = NULL;
    for (size_t i = 0; i < n && !rc; i++) {
        char *index;
        bool build;
        rc = plan(paths[i], &index, &build);
        if (!rc && index)
            rc = open_index(paths[i], index, build, &out[i]);
        else if (!rc)
            plain[nplain++] = paths[i];
        free(index);
    }
    if (!rc && nplain) {
        hd_dump **loaded = xcalloc(nplain, sizeof *loaded);
        rc = load_all_plain(plain, nplain, loaded);
        for (size_t i = 0, k = 0; i < n && k < nplain; i++)
            if (!out[i])
                out[i] = loaded[k++];
        free(loaded);
    }
    free(plain);
    return rc;
}
