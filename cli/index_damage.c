/* index_damage.c: what heaptool does when an index it opened turns out damaged only as a
 * command reads it (its big sections are verified on first use: formats/heapdump-binary.md §7).
 * The command stops there with the one-line error and exit 3, as when the damage is found at
 * open; what it had printed and not yet flushed is dropped. An automatic index is removed, so
 * that the next command rebuilds it from its dump.
 *
 * The handler runs inside the SIGSEGV handler (the fault that found the damage): it uses only
 * async-signal-safe calls (write, unlink, _exit) and builds the line by hand, as
 * print_load_error would print it. */
#include "index.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_AUTOMATIC = 8 };
static char *automatic[MAX_AUTOMATIC];

void index_opened_automatic(const char *index)
{
    for (int i = 0; i < MAX_AUTOMATIC; i++)
        if (!automatic[i]) {
            size_t n = strlen(index) + 1;
            automatic[i] = memcpy(xmalloc(n), index, n);
            return;
        }
}

typedef struct line {
    char text[1024];
    size_t len;
} line;

/* Appends s; escaped as print_escaped shows it (\n, \t, \xNN for what is not printable). */
static void put(line *l, const char *s, bool escape)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    while (*p && l->len + 8 < sizeof l->text) {
        size_t n = escape ? hd_utf8_printable_len((const char *)p) : 1;
        if (n && l->len + n + 8 < sizeof l->text) {
            memcpy(l->text + l->len, p, n);
            l->len += n, p += n;
        } else if (n) {
            break;
        } else if (*p == '\n' || *p == '\t') {
            memcpy(l->text + l->len, *p == '\n' ? "\\n" : "\\t", 2);
            l->len += 2, p++;
        } else {
            memcpy(l->text + l->len, "\\x", 2);
            l->text[l->len + 2] = hex[*p >> 4];
            l->text[l->len + 3] = hex[*p & 15];
            l->len += 4, p++;
        }
    }
}

static void put_number(line *l, uint64_t n)
{
    char digits[24];
    int k = sizeof digits;
    digits[--k] = '\0';
    do
        digits[--k] = (char)('0' + n % 10);
    while ((n /= 10) && k > 0);
    put(l, digits + k, false);
}

static void damaged(const hd_error *err)
{
    line l = {.len = 0};
    put(&l, "heaptool: ", false);
    if (err->line || err->status != HD_EIO) {
        put(&l, err->file, true);
        if (err->line) {
            put(&l, ":", false), put_number(&l, err->line);
            put(&l, ":", false), put_number(&l, err->column);
        }
        put(&l, ": ", false);
    }
    put(&l, err->message, true);
    for (int i = 0; i < MAX_AUTOMATIC; i++)
        if (automatic[i] && !strcmp(automatic[i], err->file) && unlink(automatic[i]) == 0)
            put(&l, " (removed: the next command rebuilds it)", false);
    l.text[l.len++] = '\n'; /* put leaves room for it */
    for (size_t done = 0; done < l.len;) {
        ssize_t n = write(STDERR_FILENO, l.text + done, l.len - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    _exit(EXIT_INVALID);
}

void index_damage_handle(void) { hd_set_index_damage_handler(damaged); }
