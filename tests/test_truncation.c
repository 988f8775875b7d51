/* test_truncation.c: dumps cut short, as a crashed writer or a full disk leaves them: the sample
 * dumps at every byte, plain and gzip-compressed, and a generated dump at every record boundary
 * and inside every record, from memory and from files bigger than the reader's chunks. Each
 * must fail as a syntax error (exit status 3) with one line placed exactly where the input
 * stops making sense, never load, crash or leak (this suite runs under ASan in make check). */
#include "heapdump.h"
#include "random_dump.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s (tests run from the top of the tree)", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    rewind(f);
    char *buf = malloc(*len + 1);
    cr_assert(buf);
    cr_assert_eq(fread(buf, 1, *len, f), *len);
    fclose(f);
    return buf;
}

static bool only_whitespace(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\r\n", s[i]))
            return false;
    return true;
}

/* The reader's verdict on the first cut bytes of text (len in all), from load's result: a clean
 * failure whose position is consistent with where it points, unless only whitespace was cut.
 * compressed: positions count uncompressed bytes, which cut may not reach. */
static void check_cut(const char *text, size_t len, size_t cut, int rc, hd_dump *d, const hd_error *err,
                      const char *file, bool compressed)
{
    if (!compressed && only_whitespace(text + cut, len - cut)) {
        cr_assert_eq(rc, HD_OK, "cut at %zu of %zu (trailing whitespace): %s", cut, len, err->message);
        hd_dump_free(d);
        return;
    }
    cr_assert_eq(rc, HD_ESYNTAX, "cut at %zu of %zu: %s (%s)", cut, len, hd_status_name(rc),
                 rc ? err->message : "loaded");
    cr_assert_null(d);
    cr_assert_eq(err->status, rc);
    cr_assert_str_eq(err->file, file);
    cr_assert_null(strchr(err->message, '\n'), "one line: %s", err->message);
    cr_assert_gt(err->line, 0, "cut at %zu: no position: %s", cut, err->message);
    cr_assert_gt(err->column, 0);
    if (compressed)
        return;
    cr_assert_leq(err->offset, cut, "cut at %zu: error placed after the end (%llu): %s", cut,
                  (unsigned long long)err->offset, err->message);
    uint64_t line = 1, line_start = 0;
    for (size_t i = 0; i < err->offset; i++)
        if (text[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    cr_assert_eq(err->line, line, "cut at %zu: line %llu for offset %llu", cut, (unsigned long long)err->line,
                 (unsigned long long)err->offset);
    cr_assert_eq(err->column, err->offset - line_start + 1, "cut at %zu: column %llu for offset %llu", cut,
                 (unsigned long long)err->column, (unsigned long long)err->offset);
}

/* One thread, then two (the objects array split in halves): the same positioned error. */
static void cut_buffer(const char *text, size_t len, size_t cut)
{
    hd_dump *d = NULL;
    hd_error err, err2;
    int rc = hd_load_buffer(text, cut, "cut.json", &(hd_load_options){.threads = 1}, &d, &err);
    check_cut(text, len, cut, rc, d, &err, "cut.json", false);
    hd_dump *d2 = NULL;
    int rc2 = hd_load_buffer(text, cut, "cut.json", &(hd_load_options){.threads = 2}, &d2, &err2);
    cr_assert_eq(rc2, rc, "cut at %zu: two threads %d, one %d", cut, rc2, rc);
    if (rc != HD_OK) {
        cr_assert_str_eq(err2.message, err.message, "cut at %zu", cut);
        cr_assert_eq(err2.line, err.line, "cut at %zu", cut);
        cr_assert_eq(err2.column, err.column, "cut at %zu", cut);
    }
    hd_dump_free(d2);
}

static const char *const samples[] = {
    "samples/dumps/cycle.json",          "samples/dumps/weak_cache.json",
    "samples/dumps/growing_list_1.json", "samples/dumps/growing_list_2.json",
    "samples/dumps/growing_list_3.json",
};
#define NSAMPLES (sizeof samples / sizeof samples[0])

Test(truncation, samples_cut_at_every_byte)
{
    for (size_t s = 0; s < NSAMPLES; s++) {
        size_t len;
        char *text = read_file(samples[s], &len);
        for (size_t cut = 0; cut < len; cut++)
            cut_buffer(text, len, cut);
        free(text);
    }
}

/* Validation mode goes on past problems: a cut still stops it, with the same one error. */
static void count_problem(const hd_error *e, void *user)
{
    (void)e;
    ++*(int *)user;
}

Test(truncation, validation_stops_at_the_cut)
{
    size_t len;
    char *text = read_file("samples/dumps/growing_list_3.json", &len);
    for (size_t cut = 0; cut + 2 < len; cut++) {
        int problems = 0;
        hd_load_options opts = {.on_problem = count_problem, .user = &problems};
        hd_dump *d = NULL;
        hd_error err;
        int rc = hd_load_buffer(text, cut, "cut.json", &opts, &d, &err);
        check_cut(text, len, cut, rc, d, &err, "cut.json", false);
        cr_assert_eq(problems, 0, "cut at %zu: a syntax error is not a problem to go past", cut);
    }
    free(text);
}

static unsigned char *gzip(const char *text, size_t len, size_t *out_len)
{
    z_stream z = {0};
    cr_assert_eq(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, len);
    unsigned char *out = malloc(cap);
    cr_assert(out);
    z.next_in = (unsigned char *)(uintptr_t)text;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

/* A cut gzip stream (the trailer's checksum and length included) is as broken as a cut text. */
Test(truncation, gzip_samples_cut_at_every_byte)
{
    for (size_t s = 0; s < NSAMPLES; s += 2) {
        size_t len, zlen;
        char *text = read_file(samples[s], &len);
        unsigned char *z = gzip(text, len, &zlen);
        for (size_t cut = 2; cut < zlen; cut++) { /* two bytes: the magic that says gzip */
            hd_dump *d = NULL;
            hd_error err;
            int rc = hd_load_buffer(z, cut, "cut.json.gz", NULL, &d, &err);
            check_cut(text, len, cut, rc, d, &err, "cut.json.gz", true);
        }
        free(z);
        free(text);
    }
}

/* Where records start and end in a dump written one record per line: every line break. */
static size_t line_breaks(const char *text, size_t len, size_t **out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    *out = malloc((n + 1) * sizeof **out);
    cr_assert(*out);
    n = 0;
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\n')
            (*out)[n++] = i;
    return n;
}

Test(truncation, generated_dump_cut_at_every_record_boundary_and_inside_every_record)
{
    rd_graph g;
    rd_random(&g, 12, 400, 3, 20);
    size_t len, *br;
    char *text = rd_json(&g, &len);
    size_t n = line_breaks(text, len, &br);
    cr_assert_gt(n, 400);
    uint64_t seed = 5;
    for (size_t i = 0, start = 0; i < n; start = br[i++] + 1) {
        cut_buffer(text, len, br[i]);     /* the record whole, the line break not */
        cut_buffer(text, len, br[i] + 1); /* the record and its line break */
        if (br[i] > start + 1) {          /* inside the record: its middle and one more place */
            cut_buffer(text, len, start + (br[i] - start) / 2);
            cut_buffer(text, len, start + 1 + rd_below(&seed, (uint32_t)(br[i] - start - 1)));
        }
    }
    free(br);
    free(text);
    rd_free(&g);
}

/* From a file, the reader works through read-ahead chunks of 1 MiB: cuts near their edges and
 * at record boundaries far into a dump of several MiB. */
Test(truncation, big_file_cut_across_read_chunks)
{
    rd_graph g;
    rd_random(&g, 13, 60000, 3, 50);
    size_t len, *br;
    char *text = rd_json(&g, &len);
    cr_assert_gt(len, 3u << 20);
    size_t n = line_breaks(text, len, &br);
    size_t cuts[64], ncuts = 0;
    for (size_t mib = 1; mib <= 3; mib++)
        for (size_t delta = 0; delta < 3; delta++) {
            cuts[ncuts++] = (mib << 20) - 1 + delta;
            cuts[ncuts++] = br[n * mib / 4] + delta; /* a record boundary, then inside the next */
        }
    cuts[ncuts++] = len - 2; /* the closing brace only */
    char path[] = "/tmp/heaptool-cut-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    for (size_t i = 0; i < ncuts; i++) {
        cr_assert_eq(ftruncate(fd, 0), 0);
        cr_assert_eq(pwrite(fd, text, cuts[i], 0), (ssize_t)cuts[i]);
        hd_dump *d = NULL;
        hd_error err;
        int rc = hd_load(path, NULL, &d, &err);
        check_cut(text, len, cuts[i], rc, d, &err, path, false);
    }
    close(fd);
    unlink(path);
    free(br);
    free(text);
    rd_free(&g);
}
