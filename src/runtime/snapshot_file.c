/* snapshot_file.c: where a snapshot goes: a path (atomically, gzip for ".gz"), an open FILE *,
 * or a memory buffer. Each is a drain for the writer's sink (snapshot_out.h). A path is written
 * by a second thread while the first formats the next buffer: writing, and above all
 * compressing, then overlaps with formatting instead of adding to it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "runtime/internal.h"
#include "runtime/snapshot.h"

static int emit(hm_heap *h, int (*drain)(hm__out *, size_t), void *target,
                const hm_snapshot_options *opts)
{
    hm__out out;
    if (hm__out_init(&out, h, drain, target) != HM_OK)
        return HM_ENOMEM;
    int r = hm__snapshot_emit(h, &out, opts);
    hm__out_fini(&out);
    return r;
}

/* ---- FILE * ---- */

static int drain_stdio(hm__out *out, size_t n)
{
    return fwrite(out->buf, 1, n, out->target) == n ? HM_OK : HM_EIO;
}

int hm_snapshot_write_file(hm_heap *h, FILE *f, const hm_snapshot_options *opts)
{
    if (!h || !f)
        return HM_EINVAL;
    int r = emit(h, drain_stdio, f, opts);
    if (r == HM_OK && fflush(f) != 0)
        r = HM_EIO;
    return r;
}

/* ---- memory ---- */

typedef struct membuf {
    hm_heap *heap;
    char *data;
    size_t len, cap;
} membuf;

static int drain_memory(hm__out *out, size_t n)
{
    membuf *m = out->target;
    if (n > m->cap - m->len) {
        size_t cap = m->cap ? m->cap : HM__OUT_BUFSIZE;
        while (cap - m->len < n)
            cap *= 2;
        char *p = hm__sys_realloc(m->heap, m->data, cap);
        if (!p)
            return HM_ENOMEM;
        m->data = p;
        m->cap = cap;
    }
    memcpy(m->data + m->len, out->buf, n);
    m->len += n;
    return HM_OK;
}

int hm_snapshot_write_buffer(hm_heap *h, char **data, size_t *size, const hm_snapshot_options *opts)
{
    if (!h || !data || !size)
        return HM_EINVAL;
    membuf m = {.heap = h};
    int r = emit(h, drain_memory, &m, opts);
    if (r != HM_OK) {
        free(m.data);
        return r;
    }
    *data = m.data;
    *size = m.len;
    return HM_OK;
}

/* ---- a file descriptor, plain or gzip, drained by a second thread ---- */

typedef struct pipeline {
    int fd;
    gzFile gz; /* NULL: plain */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *full;   /* the buffer the thread is to write; NULL when it is idle */
    size_t full_len;
    char *spare;  /* the buffer it finished with, for the formatter's next swap */
    bool closing;
    int status;   /* the thread's first failure */
} pipeline;

static int write_all(pipeline *p, const char *data, size_t n)
{
    if (p->gz) /* gzwrite takes an unsigned count; buffers are far smaller */
        return gzwrite(p->gz, data, (unsigned)n) == (int)n ? HM_OK : HM_EIO;
    while (n) {
        ssize_t k = write(p->fd, data, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return HM_EIO;
        data += k;
        n -= (size_t)k;
    }
    return HM_OK;
}

static void *pipeline_run(void *arg)
{
    pipeline *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->full && !p->closing)
            pthread_cond_wait(&p->cv, &p->mu);
        if (!p->full)
            break;
        char *data = p->full;
        size_t n = p->full_len;
        pthread_mutex_unlock(&p->mu);
        int r = p->status == HM_OK ? write_all(p, data, n) : HM_OK;
        pthread_mutex_lock(&p->mu);
        if (r != HM_OK && p->status == HM_OK)
            p->status = r;
        p->spare = data;
        p->full = NULL;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Hands the full buffer to the thread and takes back the one it finished. */
static int drain_pipeline(hm__out *out, size_t n)
{
    pipeline *p = out->target;
    pthread_mutex_lock(&p->mu);
    while (p->full)
        pthread_cond_wait(&p->cv, &p->mu);
    int r = p->status;
    if (r == HM_OK) {
        p->full = out->buf;
        p->full_len = n;
        out->buf = p->spare;
        p->spare = NULL;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return r;
}

static int emit_to_fd(hm_heap *h, int fd, bool gzip, const hm_snapshot_options *opts)
{
    pipeline p = {.fd = fd, .status = HM_OK};
    if (gzip) {
        int dupfd = dup(fd); /* gzclose closes its descriptor; the caller closes fd */
        p.gz = dupfd >= 0 ? gzdopen(dupfd, "wb1") : NULL;
        if (!p.gz) {
            if (dupfd < 0)
                return HM_EIO;
            close(dupfd);
            return HM_ENOMEM; /* the descriptor is good: zlib could not allocate its state */
        }
        gzbuffer(p.gz, 256 * 1024);
    }
    hm__out out;
    int r = HM_ENOMEM;
    p.spare = hm__sys_malloc(h, HM__OUT_BUFSIZE);
    if (p.spare && hm__out_init(&out, h, drain_pipeline, &p) == HM_OK) {
        pthread_mutex_init(&p.mu, NULL);
        pthread_cond_init(&p.cv, NULL);
        if (pthread_create(&p.thread, NULL, pipeline_run, &p) == 0) {
            r = hm__snapshot_emit(h, &out, opts);
            pthread_mutex_lock(&p.mu);
            p.closing = true;
            pthread_cond_broadcast(&p.cv);
            pthread_mutex_unlock(&p.mu);
            pthread_join(p.thread, NULL);
            if (r == HM_OK)
                r = p.status;
        }
        pthread_cond_destroy(&p.cv);
        pthread_mutex_destroy(&p.mu);
        hm__out_fini(&out);
    }
    free(p.spare);
    if (p.gz && gzclose(p.gz) != Z_OK && r == HM_OK)
        r = HM_EIO;
    return r;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Creates "DIR/.BASE.tmp-PID-N" beside path with the mode a plain fopen would give (0666 less the
 * umask), exclusively, so that nothing existing is ever opened. */
static int open_temp(hm_heap *h, const char *path, char **tmp_out)
{
    static unsigned counter;
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t cap = strlen(path) + 48;
    char *tmp = hm__sys_malloc(h, cap);
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

int hm_snapshot_write(hm_heap *h, const char *path, const hm_snapshot_options *opts)
{
    if (!h || !path || !*path)
        return HM_EINVAL;
    if (h->collecting || h->deallocating || h->destroying)
        return HM_EBUSY;
    if (ends_with(path, ".hdx.gz"))
        return HM_EINVAL;
    if (ends_with(path, ".hdx"))
        return hm__snapshot_write_index(h, path, opts);
    char *tmp = NULL;
    int fd = open_temp(h, path, &tmp);
    if (fd < 0)
        return errno == ENOMEM ? HM_ENOMEM : HM_EIO;
    int r = emit_to_fd(h, fd, ends_with(path, ".gz"), opts);
    int saved = errno;
    /* No fsync: the rename already guarantees that a crash of the process, at any point, leaves
     * either the old file or the whole new one under path. Surviving a power cut too would cost
     * seconds per GB, for a file the program can simply write again. */
    if (close(fd) != 0 && r == HM_OK)
        r = HM_EIO, saved = errno;
    if (r == HM_OK && rename(tmp, path) != 0)
        r = HM_EIO, saved = errno;
    if (r != HM_OK)
        unlink(tmp);
    free(tmp);
    errno = saved;
    return r;
}
