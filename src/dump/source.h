/* source.h: where the reader's bytes come from, one chunk at a time, without copying: a memory
 * buffer, or a stream read ahead by a thread on the other core while the lexer works. */
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
    /* Back to the first byte; -1 when the source can be read only once. May be NULL. */
    int (*rewind)(void *ctx);
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

#endif
