/* json_writer.c: streaming JSON output for --json, exact for 64-bit integers. */
#include "cli.h"

#include <inttypes.h>
#include <math.h>

void jw_init(json_writer *w, FILE *out)
{
    w->out = out;
    w->depth = 0;
    w->need_comma[0] = false;
    w->after_key = false;
}

static void before_value(json_writer *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->need_comma[w->depth])
        fputc(',', w->out);
    w->need_comma[w->depth] = true;
}

static void open(json_writer *w, char c)
{
    before_value(w);
    fputc(c, w->out);
    if (w->depth < 63)
        w->depth++;
    w->need_comma[w->depth] = false;
}

static void close(json_writer *w, char c)
{
    fputc(c, w->out);
    if (w->depth > 0)
        w->depth--;
}

void jw_object_begin(json_writer *w) { open(w, '{'); }
void jw_object_end(json_writer *w) { close(w, '}'); }
void jw_array_begin(json_writer *w) { open(w, '['); }
void jw_array_end(json_writer *w) { close(w, ']'); }

/* Dump text as a JSON string that is valid UTF-8 and shows no control character raw: controls
 * (C1 included) become \u escapes, bytes that are not UTF-8 become U+FFFD, as jq does. */
static void put_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = hd_utf8_printable_len((const char *)p);
        if (n > 1) {
            fwrite(p, 1, n, out);
        } else if (n == 1) {
            if (*p == '"' || *p == '\\')
                fputc('\\', out);
            fputc(*p, out);
        } else if (*p == '\n' || *p == '\r' || *p == '\t') {
            fprintf(out, "\\%c", *p == '\n' ? 'n' : *p == '\r' ? 'r' : 't');
            n = 1;
        } else if (*p < 0x80) {
            fprintf(out, "\\u%04x", *p);
            n = 1;
        } else if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] < 0xA0) {
            fprintf(out, "\\u%04x", p[1]);
            n = 2;
        } else {
            fputs("\\ufffd", out);
            n = 1;
        }
        p += n;
    }
    fputc('"', out);
}

void jw_key(json_writer *w, const char *key)
{
    before_value(w);
    put_string(w->out, key);
    fputc(':', w->out);
    w->after_key = true;
}

void jw_string(json_writer *w, const char *s)
{
    before_value(w);
    put_string(w->out, s);
}

void jw_uint(json_writer *w, uint64_t v)
{
    before_value(w);
    fprintf(w->out, "%" PRIu64, v);
}

void jw_int(json_writer *w, int64_t v)
{
    before_value(w);
    fprintf(w->out, "%" PRId64, v);
}

void jw_difference(json_writer *w, uint64_t after, uint64_t before)
{
    before_value(w);
    if (after >= before)
        fprintf(w->out, "%" PRIu64, after - before);
    else
        fprintf(w->out, "-%" PRIu64, before - after);
}

void jw_double(json_writer *w, double v)
{
    before_value(w);
    if (isfinite(v))
        fprintf(w->out, "%.6g", v);
    else
        fputs("null", w->out);
}

void jw_bool(json_writer *w, bool v)
{
    before_value(w);
    fputs(v ? "true" : "false", w->out);
}

void jw_null(json_writer *w)
{
    before_value(w);
    fputs("null", w->out);
}

void jw_finish(json_writer *w) { fputc('\n', w->out); }
