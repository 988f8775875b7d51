/* report_json.c: JSON strings that are safe inside an HTML <script> element. */
#include "report.h"

#include <string.h>

/* Length of the well-formed UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!n || (n == 2 && c < 0xc2) || c > 0xf4)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0)))
        return 0; /* overlong, surrogate */
    if (n == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90)))
        return 0;
    return n;
}

void hd__rj_str(FILE *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    fputc('"', out);
    while (*s) {
        unsigned c = *s;
        size_t n = utf8_len(s);
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f)
            fprintf(out, "\\u%04x", c);
        else if (!n)
            fputs("\\ufffd", out);
        else if (n == 3 && c == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
            fprintf(out, "\\u%04x", s[2] == 0xa8 ? 0x2028u : 0x2029u);
        else
            fwrite(s, 1, n, out);
        s += n ? n : 1;
    }
    fputc('"', out);
}

void hd__rj_object(const hd__report_ctx *c, uint32_t o)
{
    const hd_dump *d = c->d;
    char text[160];
    const char *label = hd_object_label(d, o);
    int len = snprintf(text, sizeof text, "%s#%llu", hd_type_name(d, hd_object_type(d, o)),
                       (unsigned long long)hd_object_id(d, o));
    if (label && len > 0 && (size_t)len < sizeof text - 4)
        snprintf(text + len, sizeof text - (size_t)len, " %.60s", label);
    hd__rj_str(c->out, text); /* a cut inside a UTF-8 sequence becomes U+FFFD */
}
