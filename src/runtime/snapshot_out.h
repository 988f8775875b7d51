/* snapshot_out.h: the buffered byte sink a snapshot is written through, and the JSON pieces the
 * writer needs (decimal integers, escaped strings). One sink type for the three destinations
 * (a FILE *, a gzip stream, a growing memory buffer), so the writer never knows which it feeds. */
#ifndef HM_SNAPSHOT_OUT_H
#define HM_SNAPSHOT_OUT_H

#include <stddef.h>
#include <stdint.h>

#define HM__OUT_BUFSIZE (64 * 1024)

typedef struct hm__out hm__out;
struct hm__out {
    /* Takes n bytes; returns 0, or an HM_E* status that sticks in `status`. */
    int (*drain)(hm__out *out, const char *data, size_t n);
    void *target;
    int status; /* the first failure; once set, nothing more is written */
    size_t len;
    char buf[HM__OUT_BUFSIZE];
};

void hm__out_flush(hm__out *out);
void hm__out_bytes(hm__out *out, const char *data, size_t n);
void hm__out_cstr(hm__out *out, const char *s);
void hm__out_u64(hm__out *out, uint64_t v);
void hm__out_i64(hm__out *out, int64_t v);
/* A JSON string with its quotes: control characters, quotes and backslashes escaped; bytes that
 * are not valid UTF-8 written as the text \xNN (the heapdump format's rule). */
void hm__out_string(hm__out *out, const char *s, size_t n);

static inline void hm__out_char(hm__out *out, char c)
{
    if (out->len == HM__OUT_BUFSIZE)
        hm__out_flush(out);
    out->buf[out->len++] = c;
}

#endif /* HM_SNAPSHOT_OUT_H */
