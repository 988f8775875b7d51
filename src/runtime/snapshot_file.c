/* snapshot_file.c: where a snapshot goes: a path (atomically, gzip for ".gz"), an open FILE *,
 * or a memory buffer. Each is a drain for the writer's sink. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "runtime/internal.h"
#include "runtime/snapshot.h"

/* ---- FILE * ---- */

static int drain_stdio(hm__out *out, const char *data, size_t n)
{
    return fwrite(data, 1, n, out->target) == n ? HM_OK : HM_EIO;
}

int hm_snapshot_write_file(hm_heap *h, FILE *f, const hm_snapshot_options *opts)
{
    if (!h || !f)
        return HM_EINVAL;
    hm__out *out = malloc(sizeof *out);
    if (!out)
        return HM_ENOMEM;
    out->drain = drain_stdio;
    out->target = f;
    out->status = HM_OK;
    out->len = 0;
    int r = hm__snapshot_emit(h, out, opts);
    free(out);
    if (r == HM_OK && fflush(f) != 0)
        r = HM_EIO;
    return r;
}

/* ---- memory ---- */

typedef struct membuf {
    char *data;
    size_t len, cap;
} membuf;

static int drain_memory(hm__out *out, const char *data, size_t n)
{
    membuf *m = out->target;
    if (n > m->cap - m->len) {
        size_t cap = m->cap ? m->cap : HM__OUT_BUFSIZE;
        while (cap - m->len < n)
            cap *= 2;
        char *p = realloc(m->data, cap);
        if (!p)
            return HM_ENOMEM;
        m->data = p;
        m->cap = cap;
    }
    memcpy(m->data + m->len, data, n);
    m->len += n;
    return HM_OK;
}

int hm_snapshot_write_buffer(hm_heap *h, char **data, size_t *size, const hm_snapshot_options *opts)
{
    if (!h || !data || !size)
        return HM_EINVAL;
    membuf m = {0};
    hm__out *out = malloc(sizeof *out);
    if (!out)
        return HM_ENOMEM;
    out->drain = drain_memory;
    out->target = &m;
    out->status = HM_OK;
    out->len = 0;
    int r = hm__snapshot_emit(h, out, opts);
    free(out);
    if (r != HM_OK) {
        free(m.data);
        return r;
    }
    *data = m.data;
    *size = m.len;
    return HM_OK;
}

/* ---- a path: a temporary file beside it, renamed into place ---- */

static int drain_fd(hm__out *out, const char *data, size_t n)
{
    int fd = *(int *)out->target;
    while (n) {
        ssize_t k = write(fd, data, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return HM_EIO;
        data += k;
        n -= (size_t)k;
    }
    return HM_OK;
}

static int drain_gzip(hm__out *out, const char *data, size_t n)
{
    /* gzwrite takes an unsigned count; the sink never hands over more than its buffer. */
    return gzwrite(out->target, data, (unsigned)n) == (int)n ? HM_OK : HM_EIO;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Creates "DIR/.BASE.tmp-PID-N" beside path with the mode a plain fopen would give (0666 less the
 * umask), exclusively, so that nothing existing is ever opened. */
static int open_temp(const char *path, char **tmp_out)
{
    static unsigned counter;
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t cap = strlen(path) + 48;
    char *tmp = malloc(cap);
    if (!tmp) {
        errno = ENOMEM;
        return -1;
    }
    for (int attempt = 0; attempt < 100; attempt++) {
        snprintf(tmp, cap, "%.*s.%s.tmp-%ld-%u", (int)dirlen, path, path + dirlen, (long)getpid(),
                 counter++);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            *tmp_out = tmp;
            return fd;
        }
        if (errno != EEXIST)
            break;
    }
    free(tmp);
    return -1;
}

/* Makes the rename itself durable; failing to is not an error of the dump. */
static void sync_directory(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

static int emit_to_fd(hm_heap *h, int fd, bool gzip, const hm_snapshot_options *opts)
{
    hm__out *out = malloc(sizeof *out);
    if (!out)
        return HM_ENOMEM;
    gzFile gz = NULL;
    if (gzip) {
        int dupfd = dup(fd); /* gzclose closes its descriptor; ours is synced and closed after */
        gz = dupfd >= 0 ? gzdopen(dupfd, "wb1") : NULL;
        if (!gz) {
            if (dupfd >= 0)
                close(dupfd);
            free(out);
            return HM_EIO;
        }
        gzbuffer(gz, 256 * 1024);
    }
    out->drain = gzip ? drain_gzip : drain_fd;
    out->target = gzip ? (void *)gz : (void *)&fd;
    out->status = HM_OK;
    out->len = 0;
    int r = hm__snapshot_emit(h, out, opts);
    free(out);
    if (gz && gzclose(gz) != Z_OK && r == HM_OK)
        r = HM_EIO;
    return r;
}

int hm_snapshot_write(hm_heap *h, const char *path, const hm_snapshot_options *opts)
{
    if (!h || !path || !*path)
        return HM_EINVAL;
    if (h->collecting || h->deallocating || h->destroying)
        return HM_EBUSY;
    char *tmp = NULL;
    int fd = open_temp(path, &tmp);
    if (fd < 0)
        return HM_EIO;
    int r = emit_to_fd(h, fd, ends_with(path, ".gz"), opts);
    int saved = errno;
    if (r == HM_OK && fsync(fd) != 0)
        r = HM_EIO, saved = errno;
    if (close(fd) != 0 && r == HM_OK)
        r = HM_EIO, saved = errno;
    if (r == HM_OK && rename(tmp, path) != 0)
        r = HM_EIO, saved = errno;
    if (r != HM_OK)
        unlink(tmp);
    else
        sync_directory(path);
    free(tmp);
    errno = saved;
    return r;
}
