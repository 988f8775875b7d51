/* source.c: byte sources for the reader. A stream is read ahead by one thread into a small ring
 * of chunks, so the kernel's copy of the file (or zlib's inflating of a gzip stream) overlaps
 * the parsing; a buffer is handed out as is; a range is copied out chunk by chunk with read_at.
 *
 * Invariant of the ring: chunks [head, head + filled) hold data in order; the first of them may
 * be lent to the reader (lent), and the reading thread only ever writes chunk tail, which is
 * never among those. */
#include "source.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK (1u << 20)
#define NCHUNKS 4
#define MAX_BUFFER_CHUNK (1ul << 30)

static long buffer_next(void *ctx, const char **data, uint64_t *raw)
{
    hd__buffer_source *b = ctx;
    size_t n = b->size - b->pos;
    if (n > MAX_BUFFER_CHUNK)
        n = MAX_BUFFER_CHUNK;
    *data = b->data + b->pos;
    b->pos += n;
    *raw = b->pos;
    return (long)n;
}

static int buffer_seek(void *ctx, uint64_t offset)
{
    hd__buffer_source *b = ctx;
    b->pos = offset < b->size ? (size_t)offset : b->size;
    return 0;
}

static long buffer_read_at(void *ctx, uint64_t offset, char *buf, size_t len)
{
    const hd__buffer_source *b = ctx;
    if (offset >= b->size)
        return 0;
    size_t n = b->size - (size_t)offset < len ? b->size - (size_t)offset : len;
    memcpy(buf, b->data + offset, n);
    return (long)n;
}

hd__source hd__buffer_source_init(hd__buffer_source *b, const void *data, size_t size)
{
    b->data = data;
    b->size = size;
    b->pos = 0;
    return (hd__source){buffer_next, buffer_seek, buffer_read_at, b};
}

struct hd__stream_source {
    FILE *f;
    gzFile gz; /* set when the stream is gzip-compressed: chunks are inflated from it */
    bool whole_file; /* a plain regular file read from its first byte: read_at may pread it */
    uint64_t raw[NCHUNKS]; /* bytes of the stream itself (compressed ones for gzip) read so far,
                            * as of the end of each chunk: for progress */
    char *chunk[NCHUNKS];
    size_t len[NCHUNKS];
    unsigned head, filled;
    bool lent, eof, stop, threaded;
    int error; /* errno of a failed read, 0 if none */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
};

/* Fills a whole chunk unless the stream ends first; sets *err on a read error (EILSEQ for
 * corrupt gzip data). */
static size_t read_chunk(hd__stream_source *s, char *buf, int *err)
{
    size_t got = 0;
    while (got < CHUNK) {
        size_t n;
        if (s->gz) {
            int r = gzread(s->gz, buf + got, (unsigned)(CHUNK - got));
            int zerr = Z_OK;
            if (r <= 0) /* a cut or corrupt stream may end as a short read with an error set */
                gzerror(s->gz, &zerr);
            if (r < 0 || (zerr != Z_OK && zerr != Z_STREAM_END)) {
                *err = zerr == Z_ERRNO ? (errno ? errno : EIO) : EILSEQ;
                break;
            }
            n = (size_t)r;
        } else {
            n = fread(buf + got, 1, CHUNK - got, s->f);
            if (n == 0 && ferror(s->f))
                *err = errno ? errno : EIO;
        }
        got += n;
        if (n == 0)
            break;
    }
    return got;
}

static uint64_t raw_position(hd__stream_source *s)
{
    off_t at = s->gz ? gzoffset(s->gz) : ftello(s->f);
    return at < 0 ? 0 : (uint64_t)at;
}

static void *read_ahead(void *arg)
{
    hd__stream_source *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stop && !s->eof && !s->error) {
        if (s->filled == NCHUNKS) {
            pthread_cond_wait(&s->changed, &s->lock);
            continue;
        }
        unsigned tail = (s->head + s->filled) % NCHUNKS;
        pthread_mutex_unlock(&s->lock);
        int err = 0;
        size_t n = read_chunk(s, s->chunk[tail], &err);
        uint64_t raw = raw_position(s);
        pthread_mutex_lock(&s->lock);
        s->len[tail] = n;
        s->raw[tail] = raw;
        if (n > 0)
            s->filled++;
        if (err)
            s->error = err;
        else if (n < CHUNK)
            s->eof = true;
        pthread_cond_broadcast(&s->changed);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static long stream_next(void *ctx, const char **data, uint64_t *raw)
{
    hd__stream_source *s = ctx;
    if (!s->threaded) { /* no thread could be had: read in line */
        int err = 0;
        size_t n = read_chunk(s, s->chunk[0], &err);
        *data = s->chunk[0];
        *raw = raw_position(s);
        if (err && n == 0) {
            errno = err;
            return -1;
        }
        return (long)n;
    }
    pthread_mutex_lock(&s->lock);
    if (s->lent) { /* the reader is done with the chunk it had */
        s->lent = false;
        s->head = (s->head + 1) % NCHUNKS;
        s->filled--;
        pthread_cond_broadcast(&s->changed);
    }
    while (s->filled == 0 && !s->eof && !s->error)
        pthread_cond_wait(&s->changed, &s->lock);
    long n;
    if (s->filled > 0) {
        s->lent = true;
        *data = s->chunk[s->head];
        *raw = s->raw[s->head];
        n = (long)s->len[s->head];
    } else if (s->error) {
        errno = s->error;
        n = -1;
    } else {
        n = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void stop_thread(hd__stream_source *s)
{
    if (!s->threaded)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->thread, NULL);
    s->threaded = false;
}

static void start_thread(hd__stream_source *s)
{
    s->head = s->filled = 0;
    s->lent = s->eof = s->stop = false;
    s->error = 0;
    s->threaded = pthread_create(&s->thread, NULL, read_ahead, s) == 0;
}

static int stream_seek(void *ctx, uint64_t offset)
{
    hd__stream_source *s = ctx;
    stop_thread(s);
    if (offset > INT64_MAX)
        return -1;
    /* gzseek inflates its way forward: fine for the rewinds it serves */
    if (s->gz ? gzseek(s->gz, (z_off_t)offset, SEEK_SET) < 0
              : (clearerr(s->f), fseeko(s->f, (off_t)offset, SEEK_SET) != 0))
        return -1;
    start_thread(s);
    return 0;
}

static long stream_read_at(void *ctx, uint64_t offset, char *buf, size_t len)
{
    const hd__stream_source *s = ctx;
    if (offset > INT64_MAX)
        return -1;
    /* pread leaves the descriptor's offset, and so the FILE the read-ahead thread uses, alone */
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fileno(s->f), buf + got, len - got, (off_t)(offset + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (long)got;
}

/* gzip's magic bytes, looked at without consuming them where the stream can seek back; a
 * stream that cannot is handed to zlib, which passes plain data through unchanged. */
static bool needs_zlib(FILE *f)
{
    off_t at = ftello(f);
    if (at < 0 || fseeko(f, at, SEEK_SET) != 0)
        return true;
    unsigned char magic[2];
    size_t n = fread(magic, 1, 2, f);
    clearerr(f);
    if (fseeko(f, at, SEEK_SET) != 0)
        return true;
    return n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

hd__stream_source *hd__stream_source_new(FILE *f)
{
    hd__stream_source *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->f = f;
    struct stat st;
    s->whole_file = ftello(f) == 0 && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    if (needs_zlib(f)) {
        s->whole_file = false;
        /* zlib reads the descriptor, whose offset glibc may have left past what the FILE holds
         * in its buffer: put it where the stream stands (a pipe has nothing buffered yet). */
        off_t at = ftello(f);
        int fd = dup(fileno(f));
        if (fd >= 0 && at >= 0 && lseek(fd, at, SEEK_SET) < 0) {
            close(fd);
            fd = -1;
        }
        if (fd < 0 || !(s->gz = gzdopen(fd, "rb"))) {
            if (fd >= 0)
                close(fd);
            free(s);
            return NULL;
        }
        gzbuffer(s->gz, 1u << 18);
    }
    for (unsigned i = 0; i < NCHUNKS; i++) {
        if (!(s->chunk[i] = malloc(CHUNK))) {
            hd__stream_source_free(s);
            return NULL;
        }
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->changed, NULL);
    start_thread(s);
    return s;
}

hd__source hd__stream_source_get(hd__stream_source *s)
{
    return (hd__source){stream_next, stream_seek, s->whole_file ? stream_read_at : NULL, s};
}

void hd__stream_source_free(hd__stream_source *s)
{
    if (!s)
        return;
    if (s->chunk[NCHUNKS - 1]) { /* fully built: the thread and its lock exist */
        stop_thread(s);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->changed);
    }
    for (unsigned i = 0; i < NCHUNKS; i++)
        free(s->chunk[i]);
    if (s->gz)
        gzclose(s->gz);
    free(s);
}

/* --- a range, for a second thread -------------------------------------------------------- */

static long range_next(void *ctx, const char **data, uint64_t *raw)
{
    hd__range_source *r = ctx;
    long n = r->of.read_at(r->of.ctx, r->at, r->chunk, CHUNK);
    if (n > 0) {
        r->at += (uint64_t)n;
        atomic_fetch_add(&r->done, (uint64_t)n);
    }
    *data = r->chunk;
    *raw = r->at;
    return n;
}

static int range_seek(void *ctx, uint64_t offset)
{
    ((hd__range_source *)ctx)->at = offset;
    return 0;
}

int hd__range_source_init(hd__range_source *r, hd__source of, hd__source *out)
{
    r->of = of;
    r->at = 0;
    atomic_init(&r->done, 0);
    r->chunk = malloc(CHUNK);
    *out = (hd__source){range_next, range_seek, NULL, r};
    return r->chunk ? 0 : -1;
}

void hd__range_source_free(hd__range_source *r)
{
    free(r->chunk);
    r->chunk = NULL;
}
