/* row_format.c: a statement's rows as CSV (RFC 4180) or JSON, for query --csv/--json and the
 * exports. Values from the dump are data: every text goes through the quoting or escaping of
 * its format, so any label comes back byte for byte (JSON: as formats/heapdump.md escapes). */
#include "query_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len = s[0] < 0x80 ? 1 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2 : s[0] >= 0xE0 && s[0] < 0xF0 ? 3
               : s[0] >= 0xF0 && s[0] < 0xF5 ? 4 : 0;
    if (!len || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((len == 3 && s[0] == 0xE0 && s[1] < 0xA0) || (len == 3 && s[0] == 0xED && s[1] >= 0xA0) ||
        (len == 4 && s[0] == 0xF0 && s[1] < 0x90) || (len == 4 && s[0] == 0xF4 && s[1] >= 0x90))
        return 0; /* overlong, surrogate, beyond U+10FFFF */
    return len;
}

/* prefix, then the byte in two lowercase hex digits. */
static void put_escape(hq_sink *out, const char *prefix, unsigned char ch)
{
    hq_puts(out, prefix);
    hq_putc(out, "0123456789abcdef"[ch >> 4]);
    hq_putc(out, "0123456789abcdef"[ch & 15]);
}

/* The printable ASCII run at s[0..len) that JSON takes as it is. */
static size_t plain_ascii(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len && s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
        i++;
    return i;
}

void hq_write_json_text(hq_sink *out, const unsigned char *s, size_t len)
{
    hq_putc(out, '"');
    for (size_t i = 0; i < len;) {
        size_t plain = plain_ascii(s + i, len - i);
        hq_put(out, s + i, plain);
        if ((i += plain) == len)
            break;
        unsigned char ch = s[i];
        size_t n = utf8_len(s + i, len - i);
        if (ch == '"' || ch == '\\') {
            hq_putc(out, '\\');
            hq_putc(out, (char)ch);
        } else if (ch == '\n') {
            hq_puts(out, "\\n");
        } else if (ch == '\t') {
            hq_puts(out, "\\t");
        } else if (ch == '\r') {
            hq_puts(out, "\\r");
        } else if (ch < 0x20 || ch == 0x7f) {
            put_escape(out, "\\u00", ch);
        } else if (n == 2 && ch == 0xC2 && s[i + 1] < 0xA0) { /* C1 controls: escaped as C0 */
            put_escape(out, "\\u00", s[i + 1]);
        } else if (!n) {
            put_escape(out, "\\\\x", ch); /* not UTF-8: the four characters \xNN */
            n = 1;
        } else {
            hq_put(out, s + i, n);
        }
        i += n ? n : 1;
    }
    hq_putc(out, '"');
}

static void write_json_value(sqlite3_stmt *st, int i, hq_sink *out)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: hq_puts(out, "null"); break;
    case SQLITE_INTEGER: hq_put_decimal(out, sqlite3_column_int64(st, i)); break;
    case SQLITE_FLOAT: {
        double v = sqlite3_column_double(st, i);
        char buf[32];
        if (isfinite(v))
            hq_put(out, buf, (size_t)snprintf(buf, sizeof buf, "%.17g", v));
        else
            hq_puts(out, "null");
        break;
    }
    default: {
        const unsigned char *s = sqlite3_column_text(st, i);
        hq_write_json_text(out, s ? s : (const unsigned char *)"", (size_t)sqlite3_column_bytes(st, i));
        break;
    }
    }
}

static void write_json_object(sqlite3_stmt *st, hq_sink *out)
{
    int n = sqlite3_column_count(st);
    hq_putc(out, '{');
    for (int i = 0; i < n; i++) {
        const char *name = sqlite3_column_name(st, i);
        if (i)
            hq_puts(out, ", ");
        hq_write_json_text(out, (const unsigned char *)name, strlen(name));
        hq_puts(out, ": ");
        write_json_value(st, i, out);
    }
    hq_putc(out, '}');
}

/* The end of writing a statement's rows: SQLITE_DONE, SQLITE_IOERR or the step's error rc. */
static int finish(hq_sink *out, int rc)
{
    bool written = hq_sink_flush(out) && !ferror(out->file);
    hq_sink_close(out);
    return rc == SQLITE_DONE && !written ? SQLITE_IOERR : rc;
}

int hq_write_json_array(sqlite3_stmt *st, FILE *file)
{
    hq_sink sink, *out = &sink;
    if (!hq_sink_open(out, file))
        return SQLITE_NOMEM;
    int rc;
    uint64_t k = 0;
    hq_putc(out, '[');
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        hq_puts(out, k++ ? ",\n" : "\n");
        write_json_object(st, out);
    }
    hq_puts(out, k ? "\n]\n" : "]\n");
    return finish(out, rc);
}

/* Copies while it scans: most texts are short names and labels with nothing to quote, which a
 * scan, then a call to memcpy, would read twice. */
char *hq_csv_text_at(char *p, const unsigned char *s, size_t len)
{
    size_t plain = 0;
    while (plain < len && !hq_csv_special(s[plain])) {
        p[plain] = (char)s[plain];
        plain++;
    }
    if (len && plain == len)
        return p + len;
    *p++ = '"';
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            *p++ = '"';
        *p++ = (char)s[i];
    }
    *p++ = '"';
    return p;
}

/* RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. An empty
 * text is "" so that it differs from NULL, which is nothing. */
void hq_write_csv_text(hq_sink *out, const unsigned char *s, size_t len)
{
    if (out->cap - out->len >= 2 * len + 2) { /* the most it can take */
        out->len = (size_t)(hq_csv_text_at(out->buf + out->len, s, len) - out->buf);
        return;
    }
    size_t plain = 0;
    while (plain < len && !hq_csv_special(s[plain]))
        plain++;
    if (len && plain == len) {
        hq_put(out, s, len);
        return;
    }
    hq_putc(out, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            hq_putc(out, '"');
        hq_putc(out, (char)s[i]);
    }
    hq_putc(out, '"');
}

static void csv_row(sqlite3_stmt *st, hq_sink *out)
{
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++) {
        if (i)
            hq_putc(out, ',');
        int type = sqlite3_column_type(st, i);
        if (type == SQLITE_NULL)
            continue;
        if (type == SQLITE_INTEGER) {
            hq_put_decimal(out, sqlite3_column_int64(st, i));
            continue;
        }
        const unsigned char *s = sqlite3_column_text(st, i);
        if (type == SQLITE_TEXT || type == SQLITE_BLOB)
            hq_write_csv_text(out, s ? s : (const unsigned char *)"", (size_t)sqlite3_column_bytes(st, i));
        else
            hq_puts(out, (const char *)s);
    }
    hq_puts(out, "\r\n");
}

int hq_write_csv(sqlite3_stmt *st, FILE *file, int header)
{
    hq_sink sink, *out = &sink;
    if (!hq_sink_open(out, file))
        return SQLITE_NOMEM;
    int n = sqlite3_column_count(st);
    for (int i = 0; header && i < n; i++) {
        const char *name = sqlite3_column_name(st, i);
        if (i)
            hq_putc(out, ',');
        hq_write_csv_text(out, (const unsigned char *)name, strlen(name));
    }
    if (header)
        hq_puts(out, "\r\n");
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        csv_row(st, out);
    return finish(out, rc);
}
