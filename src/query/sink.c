/* sink.c: the slow paths of the buffered writer (sink.h), and its streams. */
#include "sink.h"
#include "query_internal.h"

#include <stdlib.h>

#define STREAM_BUFFER (1 << 16)

bool hq_sink_open(hq_sink *s, FILE *file)
{
    memset(s, 0, sizeof *s);
    s->file = file;
    s->cap = STREAM_BUFFER;
    s->buf = malloc(s->cap);
    return s->buf != NULL;
}

void hq_sink_close(hq_sink *s)
{
    free(s->buf);
    s->buf = NULL;
}

bool hq_sink_flush(hq_sink *s)
{
    if (s->export_file)
        hq_export_file_drain(s);
    else if (s->len && !s->failed && fwrite(s->buf, 1, s->len, s->file) != s->len)
        s->failed = true;
    s->len = 0;
    return !s->failed;
}

/* Fills the buffer to the brim before each hand-over, so every buffer but the last is full. */
void hq_put_long(hq_sink *s, const void *p, size_t n)
{
    for (const char *from = p; n;) {
        size_t room = s->cap - s->len, k = n < room ? n : room;
        memcpy(s->buf + s->len, from, k);
        s->len += k;
        from += k;
        n -= k;
        if (s->len == s->cap)
            hq_sink_flush(s);
    }
}
