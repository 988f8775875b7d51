/* sink.h: a buffered writer over a FILE for the row writers (row_format.c) and the exports.
 * They write hundreds of millions of short pieces (a digit run, a comma): copied into one
 * buffer here each costs a few instructions, where a stdio call costs a function call and a
 * lock check.
 *
 * Invariant: the bytes reach the FILE in the order they were put; hq_sink_flush hands over what
 * is buffered and tells whether the FILE took everything so far.
 */
#ifndef HEAPTOOL_QUERY_SINK_H
#define HEAPTOOL_QUERY_SINK_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

typedef struct hq_sink {
    FILE *file;
    bool failed; /* a write to file failed: the rest is dropped */
    size_t len;
    char buf[1 << 16];
} hq_sink;

static inline void hq_sink_init(hq_sink *s, FILE *file)
{
    s->file = file;
    s->failed = false;
    s->len = 0;
}

/* Writes the buffered bytes to the FILE (without fflush); false once a write failed. */
bool hq_sink_flush(hq_sink *s);
/* The slow path of hq_put: a piece that does not fit in what is left of the buffer. */
void hq_put_long(hq_sink *s, const void *p, size_t n);

static inline void hq_put(hq_sink *s, const void *p, size_t n)
{
    if (n <= sizeof s->buf - s->len) {
        memcpy(s->buf + s->len, p, n);
        s->len += n;
    } else {
        hq_put_long(s, p, n);
    }
}

static inline void hq_putc(hq_sink *s, char c)
{
    if (s->len == sizeof s->buf)
        hq_sink_flush(s);
    s->buf[s->len++] = c;
}

static inline void hq_puts(hq_sink *s, const char *text) { hq_put(s, text, strlen(text)); }

#endif
