/* snapshot_out.c: the snapshot writer's buffered sink and its JSON formatting. Formatting is by
 * hand rather than through printf: a dump is millions of small integers and strings, and the
 * writer's speed is mostly this file's. */
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"
#include "runtime/snapshot_out.h"

int hm__out_init(hm__out *out, hm_heap *h, int (*drain)(hm__out *, size_t), void *target)
{
    *out = (hm__out){.drain = drain, .target = target, .status = HM_OK};
    out->buf = hm__sys_malloc(h, HM__OUT_BUFSIZE);
    return out->buf ? HM_OK : HM_ENOMEM;
}

void hm__out_fini(hm__out *out)
{
    free(out->buf);
    out->buf = NULL;
}

void hm__out_flush(hm__out *out)
{
    if (out->len && out->status == HM_OK) {
        int r = out->drain(out, out->len);
        if (r != HM_OK)
            out->status = r;
    }
    out->len = 0;
}

void hm__out_bytes_slow(hm__out *out, const char *data, size_t n)
{
    while (n) {
        if (out->len == HM__OUT_BUFSIZE)
            hm__out_flush(out);
        size_t room = HM__OUT_BUFSIZE - out->len, k = n < room ? n : room;
        memcpy(out->buf + out->len, data, k);
        out->len += k;
        data += k;
        n -= k;
    }
}

void hm__out_u64(hm__out *out, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    hm__out_bytes(out, tmp + i, sizeof tmp - i);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if it is not one: no overlong
 * forms, no surrogates, nothing above U+10FFFF. */
size_t hm__utf8_length(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    unsigned cp = c & (0x7fu >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static const char hex[] = "0123456789abcdef";

void hm__out_string(hm__out *out, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    hm__out_char(out, '"');
    size_t run = 0; /* bytes at s[i - run .. i) that need no escaping, copied in one go */
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            i++;
            run++;
            continue;
        }
        size_t len = c < 0x80 ? 1 : hm__utf8_length(s + i, n - i);
        if (len > 1) {
            i += len;
            run += len;
            continue;
        }
        hm__out_bytes(out, (const char *)s + i - run, run);
        run = 0;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t k = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            if (c < 0x80) { /* other control characters, and DEL: \u00XX */
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
                k = 6;
            } else { /* not UTF-8: the four characters \xNN, the backslash escaped for JSON */
                memcpy(esc, "\\\\x", 3);
                esc[3] = hex[c >> 4];
                esc[4] = hex[c & 15];
                k = 5;
            }
        }
        hm__out_bytes(out, esc, k);
        i++;
    }
    hm__out_bytes(out, (const char *)s + n - run, run);
    hm__out_char(out, '"');
}
