/* sink.c: the slow paths of the buffered writer (sink.h). */
#include "sink.h"

bool hq_sink_flush(hq_sink *s)
{
    if (s->len && !s->failed && fwrite(s->buf, 1, s->len, s->file) != s->len)
        s->failed = true;
    s->len = 0;
    return !s->failed;
}

void hq_put_long(hq_sink *s, const void *p, size_t n)
{
    hq_sink_flush(s);
    if (n <= sizeof s->buf) {
        memcpy(s->buf, p, n);
        s->len = n;
    } else if (!s->failed && fwrite(p, 1, n, s->file) != n) {
        s->failed = true;
    }
}
