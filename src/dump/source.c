/* source.c: byte sources for the reader. A stream is read ahead by one thread into a small ring
 * of chunks, so the kernel's copy of the file overlaps the parsing; a buffer is handed out as is.
 *
 * Invariant of the ring: chunks [head, head + filled) hold data in order; the first of them may
 * be lent to the reader (lent), and the reading thread only ever writes chunk tail, which is
 * never among those. */
#include "source.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#define CHUNK (1u << 20)
#define NCHUNKS 4
#define MAX_BUFFER_CHUNK (1ul << 30)

static long buffer_next(void *ctx, const char **data)
{
    hd__buffer_source *b = ctx;
    size_t n = b->size - b->pos;
    if (n > MAX_BUFFER_CHUNK)
        n = MAX_BUFFER_CHUNK;
    *data = b->data + b->pos;
    b->pos += n;
    return (long)n;
}

static int buffer_rewind(void *ctx)
{
    ((hd__buffer_source *)ctx)->pos = 0;
    return 0;
}

hd__source hd__buffer_source_init(hd__buffer_source *b, const void *data, size_t size)
{
    b->data = data;
    b->size = size;
    b->pos = 0;
    return (hd__source){buffer_next, buffer_rewind, b};
}

struct hd__stream_source {
    FILE *f;
    char *chunk[NCHUNKS];
    size_t len[NCHUNKS];
    unsigned head, filled;
    bool lent, eof, stop, threaded;
    int error; /* errno of a failed read, 0 if none */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
};

/* Fills a whole chunk unless the stream ends first; sets *err on a read error. */
static size_t read_chunk(FILE *f, char *buf, int *err)
{
    size_t got = 0;
    while (got < CHUNK) {
        size_t n = fread(buf + got, 1, CHUNK - got, f);
        got += n;
        if (n == 0) {
            if (ferror(f))
                *err = errno ? errno : EIO;
            break;
        }
    }
    return got;
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
        size_t n = read_chunk(s->f, s->chunk[tail], &err);
        pthread_mutex_lock(&s->lock);
        s->len[tail] = n;
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

static long stream_next(void *ctx, const char **data)
{
    hd__stream_source *s = ctx;
    if (!s->threaded) { /* no thread could be had: read in line */
        int err = 0;
        size_t n = read_chunk(s->f, s->chunk[0], &err);
        *data = s->chunk[0];
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

static int stream_rewind(void *ctx)
{
    hd__stream_source *s = ctx;
    stop_thread(s);
    clearerr(s->f);
    if (fseeko(s->f, 0, SEEK_SET) != 0)
        return -1;
    start_thread(s);
    return 0;
}

hd__stream_source *hd__stream_source_new(FILE *f)
{
    hd__stream_source *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->f = f;
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
    return (hd__source){stream_next, stream_rewind, s};
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
    free(s);
}
