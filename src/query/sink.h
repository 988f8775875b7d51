/* sink.h: a buffered writer for the row writers (row_format.c) and the exports. They write
 * hundreds of millions of short pieces (a digit run, a comma): copied into one buffer here each
 * costs a few instructions, where a stdio call costs a function call and a lock check.
 *
 * A sink drains into a stream (query output), or into an export file (export_file.c), which
 * writes whole buffers past the page cache on a thread of its own.
 *
 * Invariant: the bytes reach the destination in the order they were put; a buffer is handed on
 * only when full, except by hq_sink_flush, so an export file's writes stay whole blocks.
 */
#ifndef HEAPTOOL_QUERY_SINK_H
#define HEAPTOOL_QUERY_SINK_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef struct hq_export_file hq_export_file;

typedef struct hq_sink {
    char *buf;
    size_t len, cap;
    bool failed;          /* a write failed: the rest is dropped */
    FILE *file;           /* the destination: a stream, */
    hq_export_file *export_file; /* or an export file */
} hq_sink;

/* A sink over a stream, with a buffer of its own; false when out of memory. */
bool hq_sink_open(hq_sink *s, FILE *file);
/* Frees the stream sink's buffer (without flushing it). */
void hq_sink_close(hq_sink *s);
/* Hands the buffered bytes on (a stream: without fflush); false once a write failed. */
bool hq_sink_flush(hq_sink *s);
/* The slow path of hq_put: a piece that does not fit in what is left of the buffer. */
void hq_put_long(hq_sink *s, const void *p, size_t n);

static inline void hq_put(hq_sink *s, const void *p, size_t n)
{
    if (n <= s->cap - s->len) {
        memcpy(s->buf + s->len, p, n);
        s->len += n;
    } else {
        hq_put_long(s, p, n);
    }
}

static inline void hq_putc(hq_sink *s, char c)
{
    if (s->len == s->cap)
        hq_sink_flush(s);
    s->buf[s->len++] = c;
}

static inline void hq_puts(hq_sink *s, const char *text) { hq_put(s, text, strlen(text)); }

/* An export file at path (created, never there before): written by whole blocks with O_DIRECT
 * where the file system takes it, from a thread of its own while the caller fills the next
 * buffer. 0, or the errno of what failed. */
int hq_export_file_open(hq_sink *s, const char *path);
/* An export file's hq_sink_flush: hands the buffer to the writer thread and takes the one it
 * is done with. */
void hq_export_file_drain(hq_sink *s);
/* Writes the rest, syncs and closes the file; 0, or the errno of the first failure. Frees the
 * sink's buffers either way. */
int hq_export_file_close(hq_sink *s);

#endif
