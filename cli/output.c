/* output.c: diagnostics and text output shared by the commands. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int exit_for_status(int status)
{
    switch (status) {
    case HD_OK: return EXIT_OK;
    case HD_EIO: return EXIT_IO;
    case HD_ENOMEM: return EXIT_NOMEM;
    case HD_EINVAL: return EXIT_USAGE;
    default: return EXIT_INVALID;
    }
}

bool hidden_type_name(const hd_dump *d, const char *name)
{
    static const char *const internal[] = {"(system)", "(object shape)", "(compiled code)", "(synthetic)"};
    if (cli_internals || hd_dump_format(d) != HD_FORMAT_V8)
        return false;
    for (size_t i = 0; i < sizeof internal / sizeof internal[0]; i++)
        if (!strcmp(name, internal[i]))
            return true;
    return false;
}

bool hidden_type(const hd_dump *d, uint32_t t) { return hidden_type_name(d, hd_type_name(d, t)); }

int report_status(const char *cmd, int status)
{
    fprintf(stderr, "heaptool: %s: %s\n", cmd, hd_status_message(status));
    return exit_for_status(status);
}

/* Dump text (and file names) in a diagnostic go through the same escaping as tables. */
static void print_diagnostic_text(const char *s)
{
    print_escaped(stderr, s);
}

void print_load_error(const hd_error *err)
{
    fputs("heaptool: ", stderr);
    if (err->line || err->status != HD_EIO) { /* an I/O message names the file itself */
        print_diagnostic_text(err->file);
        if (err->line)
            fprintf(stderr, ":%" PRIu64 ":%" PRIu64, err->line, err->column);
        fputs(": ", stderr);
    }
    print_diagnostic_text(err->message);
    fputc('\n', stderr);
}

int load_plain(const char *path, hd_dump **out)
{
    hd_error err;
    hd_load_options opts = {.on_progress = progress_for(path)};
    int rc = hd_load(path, &opts, out, &err);
    if (rc != HD_OK) {
        print_load_error(&err);
        return exit_for_status(rc);
    }
    return EXIT_OK;
}

int load_all_plain(const char *const *paths, size_t n, hd_dump **out)
{
    hd_error *errs = xcalloc(n, sizeof *errs);
    char label[600];
    snprintf(label, sizeof label, "%s%s%s%s", paths[0], n > 1 ? " + " : "", n > 1 ? paths[1] : "",
             n > 2 ? " + ..." : "");
    hd_load_options opts = {.on_progress = progress_for(label)};
    int rc = hd_load_many(paths, n, &opts, out, errs);
    for (size_t i = 0; rc != HD_OK && i < n; i++)
        if (errs[i].status != HD_OK) { /* the first failure in order, as loading one by one */
            print_load_error(&errs[i]);
            break;
        }
    free(errs);
    return exit_for_status(rc);
}

int usage_error(const command *cmd, const char *fmt, ...)
{
    fputs("heaptool: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (cmd)
        command_usage(cmd, stderr);
    return EXIT_USAGE;
}

bool parse_count(const command *cmd, const char *name, const char *text, uint64_t *out)
{
    char *end;
    if (*text >= '0' && *text <= '9') {
        errno = 0;
        unsigned long long v = strtoull(text, &end, 10);
        if (*end == '\0' && errno == 0) {
            *out = v;
            return true;
        }
    }
    usage_error(cmd, "%s: '%s' is not a non-negative integer", name, text);
    return false;
}

static size_t walk_escaped(FILE *out, const char *s)
{
    size_t cols = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = hd_utf8_printable_len((const char *)p);
        if (n) {
            if (out)
                fwrite(p, 1, n, out);
            p += n;
            cols++;
        } else if (*p == '\n' || *p == '\t') {
            if (out)
                fputs(*p == '\n' ? "\\n" : "\\t", out);
            p++;
            cols += 2;
        } else {
            if (out)
                fprintf(out, "\\x%02x", *p);
            p++;
            cols += 4;
        }
    }
    return cols;
}

size_t print_escaped(FILE *out, const char *s) { return walk_escaped(out, s); }
size_t escaped_width(const char *s) { return walk_escaped(NULL, s); }

const char *plural(uint64_t n, const char *noun, char *buf)
{
    snprintf(buf, 48, "%" PRIu64 " %s%s", n, noun, n == 1 ? "" : "s");
    return buf;
}

const char *human_size(uint64_t bytes, char *buf) { return hd_human_size(bytes, buf); }

void print_cell(FILE *out, const char *s, size_t width, bool right)
{
    size_t w = escaped_width(s);
    if (right)
        for (size_t i = w; i < width; i++)
            fputc(' ', out);
    print_escaped(out, s);
    if (!right)
        for (size_t i = w; i < width; i++)
            fputc(' ', out);
}

const char *fmt_u64(uint64_t v, char *buf)
{
    snprintf(buf, 32, "%" PRIu64, v);
    return buf;
}

const char *fmt_delta(int64_t v, char *buf)
{
    snprintf(buf, 32, v > 0 ? "+%" PRId64 : "%" PRId64, v);
    return buf;
}

const char *fmt_size_change(uint64_t before, uint64_t after, char *buf)
{
    char h[16];
    uint64_t mag = after >= before ? after - before : before - after;
    snprintf(buf, 32, "%s%s", after > before ? "+" : after < before ? "-" : "", human_size(mag, h));
    return buf;
}
