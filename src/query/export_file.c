/* export_file.c: an export's files, written past the page cache. An export writes gigabytes
 * once and never reads them back: through the page cache each byte is copied into a fresh page
 * and written back later, which on a 10M-object dump cost more than a third of the export;
 * with O_DIRECT the disk reads the sink's own buffers. Each full buffer goes to the kernel as
 * an asynchronous write (Linux AIO, which O_DIRECT makes truly asynchronous) while the sink fills
 * the other, so the disk's time hides behind the formatting. No thread of the file's own: one
 * woke on another core for every buffer, there the analyses' (export.c), and cost them CPU.
 *
 * Invariant: writes are positioned, at most one is in flight, and the sink fills a buffer again
 * only once its write is done, so the bytes land in order. The file's writes are whole aligned
 * blocks while it is in direct mode; the first write that cannot be (the last, partial buffer)
 * or that the file system refuses (EINVAL) turns direct mode off for the rest of the file, which
 * then goes through the page cache. Writes outside direct mode, or where the kernel offers no
 * AIO, are synchronous.
 */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BLOCK 4096              /* the alignment O_DIRECT asks for, on any common device */
#define BUFFER (4u << 20)       /* a multiple of BLOCK: big writes keep the disk busy */
#define HUGE_PAGE (2u << 20)    /* the buffers' alignment: a few huge pages, not 2048 small ones */

struct hq_export_file {
    hq_export_buffers *buffers; /* where the sink's two buffers go back */
    int fd;
    bool direct;
    int error;                  /* errno of the first failed write, else 0 */
    uint64_t offset;            /* where the written bytes end: the next write starts there */
    aio_context_t aio;          /* 0: no AIO, every write synchronous */
    struct iocb write;          /* the write in flight, when in_flight */
    bool in_flight;
    char *other;                /* the buffer not in the sink: in flight, or free */
};

static void leave_direct_mode(hq_export_file *f)
{
    int flags = fcntl(f->fd, F_GETFL);
    if (flags >= 0)
        fcntl(f->fd, F_SETFL, flags & ~O_DIRECT);
    f->direct = false;
}

/* Writes p[0..n) at the file's end, synchronously: in direct mode the whole blocks, then the
 * rest once the mode is left. A short write leaves it too (the end is no longer aligned), and
 * so does a file system that takes the flag at open but refuses the write (EINVAL). */
static int write_buffer(hq_export_file *f, const char *p, size_t n)
{
    while (n) {
        size_t chunk = f->direct ? n - n % BLOCK : n;
        if (!chunk) {
            leave_direct_mode(f);
            continue;
        }
        ssize_t w = pwrite(f->fd, p, chunk, (off_t)f->offset);
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
        f->offset += (uint64_t)w;
        if (f->direct && w % BLOCK)
            leave_direct_mode(f);
    }
    return 0;
}

static void keep_error(hq_export_file *f, int e)
{
    if (e && !f->error)
        f->error = e;
}

/* Waits for the write in flight; what it left unwritten (the rest of a short write, or all of
 * one the file system refused) is then written synchronously. */
static void finish_in_flight(hq_export_file *f)
{
    if (!f->in_flight)
        return;
    f->in_flight = false;
    struct io_event done;
    long got;
    do
        got = syscall(SYS_io_getevents, f->aio, 1L, 1L, &done, NULL);
    while (got < 0 && errno == EINTR);
    if (got != 1) { /* no word of the write: wait it out, and write synchronously from now on */
        keep_error(f, got < 0 ? errno : EIO);
        syscall(SYS_io_destroy, f->aio);
        f->aio = 0;
        return;
    }
    if (done.res < 0 && done.res != -EINVAL) {
        keep_error(f, (int)-done.res);
        return;
    }
    if (done.res < 0)
        leave_direct_mode(f);
    size_t written = done.res > 0 ? (size_t)done.res : 0;
    f->offset += written;
    const char *p = (const char *)(uintptr_t)f->write.aio_buf;
    if (written < f->write.aio_nbytes)
        keep_error(f, write_buffer(f, p + written, (size_t)f->write.aio_nbytes - written));
}

/* Starts writing p[0..n) at the file's end; synchronously when it cannot be submitted. */
static void start_write(hq_export_file *f, char *p, size_t n)
{
    f->write = (struct iocb){.aio_lio_opcode = IOCB_CMD_PWRITE, .aio_fildes = (uint32_t)f->fd,
                             .aio_buf = (uintptr_t)p, .aio_nbytes = n, .aio_offset = (int64_t)f->offset};
    struct iocb *list[1] = {&f->write};
    if (syscall(SYS_io_submit, f->aio, 1L, list) == 1)
        f->in_flight = true;
    else
        keep_error(f, write_buffer(f, p, n));
}

void hq_export_file_drain(hq_sink *s)
{
    hq_export_file *f = s->export_file;
    finish_in_flight(f); /* the other buffer is free again */
    if (s->len && !f->error) {
        if (f->aio && f->direct && s->len % BLOCK == 0)
            start_write(f, s->buf, s->len);
        else
            keep_error(f, write_buffer(f, s->buf, s->len));
    }
    char *filled = s->buf;
    s->buf = f->other;
    f->other = filled;
    s->len = 0;
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
    if (f->direct && syscall(SYS_io_setup, 1L, &f->aio) != 0) /* a kernel or sandbox without it */
        f->aio = 0;
    f->buffers = b;
    f->other = b->buf[1];
    s->buf = b->buf[0];
    s->cap = BUFFER;
    s->export_file = f;
    return 0;
}

int hq_export_file_close(hq_sink *s)
{
    hq_export_file *f = s->export_file;
    hq_export_file_drain(s);
    finish_in_flight(f);
    int e = f->error;
    if (!e && fsync(f->fd) != 0)
        e = errno;
    if (close(f->fd) != 0 && !e)
        e = errno;
    if (f->aio)
        syscall(SYS_io_destroy, f->aio);
    f->buffers->buf[0] = s->buf; /* the two, perhaps swapped */
    f->buffers->buf[1] = f->other;
    free(f);
    s->buf = NULL;
    s->export_file = NULL;
    return e;
}
