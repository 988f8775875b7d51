/* row_format.c: a statement's rows as CSV (RFC 4180) or JSON, for query --csv/--json and the
 * exports. Values from the dump are data: every text goes through the quoting or escaping of
 * its format, so any label comes back byte for byte (JSON: as formats/heapdump.md escapes). */
#include "query.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* Writes v in decimal: millions of cells a second, so without printf or SQLite's own text. */
static void write_int(FILE *out, sqlite3_int64 v)
{
    char buf[24], *p = buf + sizeof buf;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    fwrite_unlocked(p, 1, (size_t)(buf + sizeof buf - p), out);
}

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

static void write_json_string(FILE *out, const unsigned char *s, size_t len)
{
    fputc_unlocked('"', out);
    for (size_t i = 0; i < len;) {
        unsigned char ch = s[i];
        size_t n = utf8_len(s + i, len - i);
        if (ch == '"' || ch == '\\') {
            fputc_unlocked('\\', out);
            fputc_unlocked(ch, out);
        } else if (ch == '\n') {
            fputs_unlocked("\\n", out);
        } else if (ch == '\t') {
            fputs_unlocked("\\t", out);
        } else if (ch == '\r') {
            fputs_unlocked("\\r", out);
        } else if (ch < 0x20 || ch == 0x7f) {
            fprintf(out, "\\u%04x", ch);
        } else if (n == 2 && ch == 0xC2 && s[i + 1] < 0xA0) { /* C1 controls: escaped as C0 */
            fprintf(out, "\\u%04x", s[i + 1]);
        } else if (!n) {
            fprintf(out, "\\\\x%02x", ch); /* not UTF-8: the four characters \xNN */
            n = 1;
        } else {
            fwrite_unlocked(s + i, 1, n, out);
        }
        i += n ? n : 1;
    }
    fputc_unlocked('"', out);
}

static void write_json_value(sqlite3_stmt *st, int i, FILE *out)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: fputs_unlocked("null", out); break;
    case SQLITE_INTEGER: write_int(out, sqlite3_column_int64(st, i)); break;
    case SQLITE_FLOAT: {
        double v = sqlite3_column_double(st, i);
        if (isfinite(v))
            fprintf(out, "%.17g", v);
        else
            fputs_unlocked("null", out);
        break;
    }
    default: {
        const unsigned char *s = sqlite3_column_text(st, i);
        write_json_string(out, s ? s : (const unsigned char *)"", (size_t)sqlite3_column_bytes(st, i));
        break;
    }
    }
}

static void write_json_object(sqlite3_stmt *st, FILE *out)
{
    int n = sqlite3_column_count(st);
    fputc_unlocked('{', out);
    for (int i = 0; i < n; i++) {
        const char *name = sqlite3_column_name(st, i);
        if (i)
            fputs_unlocked(", ", out);
        write_json_string(out, (const unsigned char *)name, strlen(name));
        fputs_unlocked(": ", out);
        write_json_value(st, i, out);
    }
    fputc_unlocked('}', out);
}

/* Steps st to the end, calling row for each; SQLITE_DONE, SQLITE_IOERR or the step's error. */
static int each_row(sqlite3_stmt *st, FILE *out, void (*row)(sqlite3_stmt *, FILE *, uint64_t))
{
    int rc;
    uint64_t k = 0;
    flockfile(out); /* the rows are written with the _unlocked calls */
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        row(st, out, k++);
    funlockfile(out);
    if (rc == SQLITE_DONE && ferror(out))
        return SQLITE_IOERR;
    return rc;
}

static void jsonl_row(sqlite3_stmt *st, FILE *out, uint64_t k)
{
    (void)k;
    write_json_object(st, out);
    fputc_unlocked('\n', out);
}

int hq_write_jsonl(sqlite3_stmt *st, FILE *out) { return each_row(st, out, jsonl_row); }

int hq_write_json_array(sqlite3_stmt *st, FILE *out)
{
    int rc;
    uint64_t k = 0;
    flockfile(out);
    fputc_unlocked('[', out);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fputs_unlocked(k++ ? ",\n" : "\n", out);
        write_json_object(st, out);
    }
    fputs_unlocked(k ? "\n]\n" : "]\n", out);
    funlockfile(out);
    return rc == SQLITE_DONE && ferror(out) ? SQLITE_IOERR : rc;
}

/* RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. An empty
 * text is "" so that it differs from NULL, which is nothing. */
static void write_csv_field(FILE *out, const unsigned char *s, size_t len)
{
    if (len && !memchr(s, ',', len) && !memchr(s, '"', len) && !memchr(s, '\n', len) &&
        !memchr(s, '\r', len)) {
        fwrite_unlocked(s, 1, len, out);
        return;
    }
    fputc_unlocked('"', out);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc_unlocked('"', out);
        fputc_unlocked(s[i], out);
    }
    fputc_unlocked('"', out);
}

static void csv_row(sqlite3_stmt *st, FILE *out, uint64_t k)
{
    (void)k;
    int n = sqlite3_column_count(st);
    for (int i = 0; i < n; i++) {
        if (i)
            fputc_unlocked(',', out);
        int type = sqlite3_column_type(st, i);
        if (type == SQLITE_NULL)
            continue;
        if (type == SQLITE_INTEGER) {
            write_int(out, sqlite3_column_int64(st, i));
            continue;
        }
        const unsigned char *s = sqlite3_column_text(st, i);
        if (type == SQLITE_TEXT || type == SQLITE_BLOB)
            write_csv_field(out, s ? s : (const unsigned char *)"", (size_t)sqlite3_column_bytes(st, i));
        else
            fputs_unlocked((const char *)s, out);
    }
    fputs_unlocked("\r\n", out);
}

int hq_write_csv(sqlite3_stmt *st, FILE *out, int header)
{
    int n = sqlite3_column_count(st);
    for (int i = 0; header && i < n; i++) {
        const char *name = sqlite3_column_name(st, i);
        if (i)
            fputc_unlocked(',', out);
        write_csv_field(out, (const unsigned char *)name, strlen(name));
    }
    if (header)
        fputs_unlocked("\r\n", out);
    return each_row(st, out, csv_row);
}
