/* sink.h: a buffered writer for the row writers (row_format.c) and the exports. They write
 * hundreds of millions of short pieces (a digit run, a comma): copied into one buffer here each
 * costs a few instructions, where a stdio call costs a function call and a lock check.
 *
 * A sink drains into a stream (query output), or into an export file (export_file.c), which
 * writes whole buffers past the page cache while the next one fills.
 *
 * Invariant: the bytes reach the destination in the order they were put; a buffer is handed on
 * only when full, except by hq_sink_flush, so an export file's writes stay whole blocks.
 */
#ifndef HEAPTOOL_QUERY_SINK_H
#define HEAPTOOL_QUERY_SINK_H

#include <stdbool.h>
#include <stdint.h>
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

/* How many decimal digits u has: from its bit length (log10 2 ~ 1233 / 4096), less one when
 * below the power of ten that length may reach. u | 1 has as many digits as u, and 0 has one. */
static inline unsigned hq_decimal_digits(uint64_t u)
{
    static const uint64_t powers[20] = {
        1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u, 100000000u, 1000000000u,
        10000000000u, 100000000000u, 1000000000000u, 10000000000000u, 100000000000000u,
        1000000000000000u, 10000000000000000u, 100000000000000000u, 1000000000000000000u,
        10000000000000000000u};
    uint64_t v = u | 1;
    unsigned t = (unsigned)(64 - __builtin_clzll(v)) * 1233 >> 12;
    return t + 1 - (v < powers[t]);
}

/* The digits of u, two at a time, ending at end (n of them: u has n digits). Below 2^32, as
 * nearly every cell is, in 32-bit arithmetic: a division by 100 is then a shorter multiply. */
static inline void hq_put_digits(char *end, uint64_t u, unsigned n)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    for (; u > UINT32_MAX; n -= 2, u /= 100) {
        end -= 2;
        memcpy(end, pairs + 2 * (u % 100), 2);
    }
    uint32_t v = (uint32_t)u;
    for (; n >= 2; n -= 2, v /= 100) {
        end -= 2;
        memcpy(end, pairs + 2 * (v % 100), 2);
    }
    if (n)
        end[-1] = (char)('0' + v);
}

/* v in decimal at p, which has room for 20 characters; returns the end. */
static inline char *hq_decimal_at(char *p, int64_t v)
{
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    unsigned digits = hq_decimal_digits(u);
    size_t n = digits + (v < 0);
    if (v < 0)
        p[0] = '-';
    hq_put_digits(p + n, u, digits);
    return p + n;
}

/* Writes v in decimal: hundreds of millions of cells an export, so inline, without printf or
 * SQLite's own text, and straight into the buffer when it has room (no copy of a variable
 * length, which would be a call). */
static inline void hq_put_decimal(hq_sink *out, int64_t v)
{
    if (out->cap - out->len >= 20) {
        out->len = (size_t)(hq_decimal_at(out->buf + out->len, v) - out->buf);
    } else {
        char buf[24];
        hq_put(out, buf, (size_t)(hq_decimal_at(buf, v) - buf));
    }
}

/* The two buffers an export file writes from, one filled while the other is written. An
 * export's files take the same pair in turn, so that only the first faults its pages in. Both
 * NULL until an open makes them; hq_export_buffers_free frees them. */
typedef struct hq_export_buffers {
    char *buf[2];
} hq_export_buffers;
void hq_export_buffers_free(hq_export_buffers *b);

/* An export file at path (created, never there before), writing from b's buffers (made when
 * b has none): written by whole blocks with O_DIRECT where the file system takes it, each
 * asynchronously while the caller fills the next buffer. 0, or the errno of what failed. */
int hq_export_file_open(hq_sink *s, const char *path, hq_export_buffers *b);
/* An export file's hq_sink_flush: waits for the write in flight, starts writing the buffer and
 * gives the sink the other. */
void hq_export_file_drain(hq_sink *s);
/* Writes the rest, syncs and closes the file; 0, or the errno of the first failure. The
 * buffers go back to the pair the file took them from, either way. */
int hq_export_file_close(hq_sink *s);

#endif
