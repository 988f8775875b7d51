/* snapshot_out.h: the buffered byte sink a snapshot is written through, and the JSON pieces the
 * writer needs (decimal integers, escaped strings). One sink type for the three destinations
 * (a FILE *, a gzip stream, a growing memory buffer), so the writer never knows which it feeds. */
#ifndef HM_SNAPSHOT_OUT_H
#define HM_SNAPSHOT_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HM__OUT_BUFSIZE ((size_t)512 * 1024)

typedef struct hm__out hm__out;
struct hm__out {
    /* Takes the n bytes at out->buf; returns 0, or an HM_E* status that sticks in `status`. It
     * may replace out->buf by another buffer of HM__OUT_BUFSIZE bytes (to keep the full one). */
    int (*drain)(hm__out *out, size_t n);
    void *target;
    int status; /* the first failure; once set, nothing more is written */
    size_t len;
    char *buf;
};

/* HM_OK or HM_ENOMEM (the buffer is h's side memory); hm__out_fini() frees it (not the target). */
int hm__out_init(hm__out *out, hm_heap *h, int (*drain)(hm__out *, size_t), void *target);
void hm__out_fini(hm__out *out);
void hm__out_flush(hm__out *out);
void hm__out_bytes_slow(hm__out *out, const char *data, size_t n);
void hm__out_u64(hm__out *out, uint64_t v);
/* The length of the valid UTF-8 sequence at s (at most n bytes), 0 when it is not one: a byte
 * that hm__out_string writes as the text \xNN. */
size_t hm__utf8_length(const unsigned char *s, size_t n);
/* A JSON string with its quotes: control characters, quotes and backslashes escaped; bytes that
 * are not valid UTF-8 written as the text \xNN (the heapdump format's rule). */
void hm__out_string(hm__out *out, const char *s, size_t n);

/* Most pieces are a few bytes and fit: one memcpy, no loop. */
static inline void hm__out_bytes(hm__out *out, const char *data, size_t n)
{
    if (n <= HM__OUT_BUFSIZE - out->len) {
        memcpy(out->buf + out->len, data, n);
        out->len += n;
    } else {
        hm__out_bytes_slow(out, data, n);
    }
}

static inline void hm__out_char(hm__out *out, char c)
{
    if (out->len == HM__OUT_BUFSIZE)
        hm__out_flush(out);
    out->buf[out->len++] = c;
}

#endif /* HM_SNAPSHOT_OUT_H */
