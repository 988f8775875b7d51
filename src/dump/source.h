/* source.h: where the reader's bytes come from, one chunk at a time, without copying: a memory
 * buffer, or a stream read ahead by a thread on the other core while the lexer works; and, for a
 * second parsing thread, a range of either read from a given offset on. */
#ifndef HD_SOURCE_H
#define HD_SOURCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct hd__source {
    /* Sets *data to the next chunk, valid until the next call, and returns its length: 0 at the
     * end, -1 on a read error (errno set; EILSEQ for corrupt compressed data). *raw is how far
     * into the source itself (compressed bytes for gzip) that chunk ends, for progress. */
    long (*next)(void *ctx, const char **data, uint64_t *raw);
    /* Goes on from byte offset (0: the first byte); -1 when the source can be read only once.
     * May be NULL. */
    int (*seek)(void *ctx, uint64_t offset);
    /* Copies up to len bytes from offset into buf and returns how many (0 past the end, -1 on
     * error) without disturbing next(): safe to call from another thread while next() runs.
     * NULL when the bytes can only be had in order (a pipe, gzip data). */
    long (*read_at)(void *ctx, uint64_t offset, char *buf, size_t len);
    void *ctx;
} hd__source;

typedef struct hd__buffer_source {
    const char *data;
    size_t size, pos;
} hd__buffer_source;
hd__source hd__buffer_source_init(hd__buffer_source *b, const void *data, size_t size);

typedef struct hd__stream_source hd__stream_source;
/* Reads f (not closed here) ahead in a background thread, inflating it when it is gzip data;
 * NULL when out of memory. */
hd__stream_source *hd__stream_source_new(FILE *f);
hd__source hd__stream_source_get(hd__stream_source *s);
void hd__stream_source_free(hd__stream_source *s);

/* The bytes of a source with read_at from an offset on, in chunks of their own: what a second
 * thread parses while the first reads on. done counts the bytes handed out, for progress. */
typedef struct hd__range_source {
    hd__source of;
    uint64_t at;
    char *chunk;
    _Atomic uint64_t done;
} hd__range_source;
/* -1 when out of memory. */
int hd__range_source_init(hd__range_source *r, hd__source of, hd__source *out);
void hd__range_source_free(hd__range_source *r);

#endif
