/* export_file.c: an export's files, written past the page cache. An export writes gigabytes
 * once and never reads them back: through the page cache each byte is copied into a fresh page
 * and written back later, which on a 10M-object dump cost more than a third of the export;
 * with O_DIRECT the disk reads the sink's own buffers. A thread of the file's own writes one
 * buffer while the sink fills the other, so the disk's time hides behind the formatting.
 *
 * Invariant: the file's writes are whole aligned blocks while it is in direct mode; the first
 * write that cannot be (the last, partial buffer) or that the file system refuses (EINVAL)
 * turns direct mode off for the rest of the file, which then goes through the page cache.
 */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define BLOCK 4096              /* the alignment O_DIRECT asks for, on any common device */
#define BUFFER (4u << 20)       /* a multiple of BLOCK: big writes keep the disk busy */
#define HUGE_PAGE (2u << 20)    /* the buffers' alignment: a few huge pages, not 2048 small ones */

struct hq_export_file {
    hq_export_buffers *buffers; /* where the sink's two buffers go back */
    int fd;
    bool direct;
    int error;                  /* errno of the first failed write, else 0 */
    bool threaded, stop;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    char *pending;              /* a buffer the thread is to write, NULL when it is idle */
    size_t pending_len;
    char *done;                 /* the buffer the sink takes next */
};

static void leave_direct_mode(hq_export_file *f)
{
    int flags = fcntl(f->fd, F_GETFL);
    if (flags >= 0)
        fcntl(f->fd, F_SETFL, flags & ~O_DIRECT);
    f->direct = false;
}

/* Writes p[0..n) on at the file's end: in direct mode the whole blocks, then the rest once the
 * mode is left. A short write leaves it too (the end is no longer aligned), and so does a
 * file system that takes the flag at open but refuses the write (EINVAL). */
static int write_buffer(hq_export_file *f, const char *p, size_t n)
{
    while (n) {
        size_t chunk = f->direct ? n - n % BLOCK : n;
        if (!chunk) {
            leave_direct_mode(f);
            continue;
        }
        ssize_t w = write(f->fd, p, chunk);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EINVAL && f->direct) {
            leave_direct_mode(f);
            continue;
        }
        if (w < 0)
            return errno;
        p += w;
        n -= (size_t)w;
        if (f->direct && w % BLOCK)
            leave_direct_mode(f);
    }
    return 0;
}

static void *writer_run(void *arg)
{
    hq_export_file *f = arg;
    pthread_mutex_lock(&f->lock);
    for (;;) {
        while (!f->pending && !f->stop)
            pthread_cond_wait(&f->changed, &f->lock);
        if (!f->pending)
            break;
        char *p = f->pending;
        size_t n = f->pending_len;
        pthread_mutex_unlock(&f->lock);
        int e = f->error ? 0 : write_buffer(f, p, n);
        pthread_mutex_lock(&f->lock);
        if (e && !f->error)
            f->error = e;
        f->done = p;
        f->pending = NULL;
        pthread_cond_broadcast(&f->changed);
    }
    pthread_mutex_unlock(&f->lock);
    return NULL;
}

void hq_export_file_drain(hq_sink *s)
{
    hq_export_file *f = s->export_file;
    if (!f->threaded) {
        int e = f->error ? 0 : write_buffer(f, s->buf, s->len);
        f->error = f->error ? f->error : e;
    } else {
        pthread_mutex_lock(&f->lock);
        while (f->pending)
            pthread_cond_wait(&f->changed, &f->lock);
        f->pending = s->buf;
        f->pending_len = s->len;
        s->buf = f->done;
        f->done = NULL;
        pthread_cond_broadcast(&f->changed);
        s->failed = f->error != 0;
        pthread_mutex_unlock(&f->lock);
    }
    s->len = 0;
    if (!f->threaded)
        s->failed = f->error != 0;
}

static char *aligned_buffer(void)
{
    void *p = NULL;
    if (posix_memalign(&p, HUGE_PAGE, BUFFER) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, BUFFER, MADV_HUGEPAGE); /* advice only: ignore failure */
#endif
    return p;
}

void hq_export_buffers_free(hq_export_buffers *b)
{
    free(b->buf[0]);
    free(b->buf[1]);
    b->buf[0] = b->buf[1] = NULL;
}

int hq_export_file_open(hq_sink *s, const char *path, hq_export_buffers *b)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < 2; i++)
        if (!b->buf[i])
            b->buf[i] = aligned_buffer();
    hq_export_file *f = calloc(1, sizeof *f);
    if (!f || !b->buf[0] || !b->buf[1]) {
        free(f);
        return ENOMEM;
    }
    /* Direct mode is asked for once the file exists: an open with O_DIRECT that the file system
     * refuses (EINVAL) has already created the file, and O_EXCL would then refuse a second open. */
    f->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    int flags = f->fd >= 0 ? fcntl(f->fd, F_GETFL) : -1;
    f->direct = flags >= 0 && fcntl(f->fd, F_SETFL, flags | O_DIRECT) == 0;
    if (f->fd < 0) {
        int e = errno;
        free(f);
        return e;
    }
    pthread_mutex_init(&f->lock, NULL);
    pthread_cond_init(&f->changed, NULL);
    f->buffers = b;
    f->done = b->buf[1];
    f->threaded = pthread_create(&f->thread, NULL, writer_run, f) == 0;
    s->buf = b->buf[0];
    s->cap = BUFFER;
    s->export_file = f;
    return 0;
}

int hq_export_file_close(hq_sink *s)
{
    hq_export_file *f = s->export_file;
    hq_export_file_drain(s);
    if (f->threaded) {
        pthread_mutex_lock(&f->lock);
        f->stop = true;
        pthread_cond_broadcast(&f->changed);
        pthread_mutex_unlock(&f->lock);
        pthread_join(f->thread, NULL);
    }
    int e = f->error;
    if (!e && fsync(f->fd) != 0)
        e = errno;
    if (close(f->fd) != 0 && !e)
        e = errno;
    pthread_mutex_destroy(&f->lock);
    pthread_cond_destroy(&f->changed);
    f->buffers->buf[0] = s->buf; /* the two, perhaps swapped */
    f->buffers->buf[1] = f->done;
    free(f);
    s->buf = NULL;
    s->export_file = NULL;
    return e;
}
