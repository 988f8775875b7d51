/* leaks_native.c: `heaptool leaks` on a dump of a native process: memcheck's categories
 * (hd_leak_kinds), its loss records smallest first with their allocation stacks innermost
 * first, then its LEAK SUMMARY, so that the output reads like valgrind's. */
#include "analysis.h"
#include "frames.h"
#include "leaks_native.h"

#include <inttypes.h>
#include <stdlib.h>

/* The kinds in memcheck's summary order. */
static const enum hd_leak_kind summary_order[HD_LEAK_KINDS] = {
    HD_LEAK_DEFINITE, HD_LEAK_INDIRECT, HD_LEAK_POSSIBLE, HD_LEAK_REACHABLE};
static const char *const json_keys[HD_LEAK_KINDS] = {"still_reachable", "possibly_lost",
                                                     "indirectly_lost", "definitely_lost"};

static bool shown(const hd_loss_record *r, bool reachable)
{
    return reachable || r->kind != HD_LEAK_REACHABLE;
}

/* Which records to print: the kinds asked for, and of those the top biggest (0: all). Records
 * are smallest first, so the biggest are at the end. */
static uint32_t first_shown(const hd_leak_kinds *k, uint64_t top, bool reachable)
{
    uint32_t i = k->nrecords;
    for (uint64_t left = top; i > 0 && (top == 0 || left > 0); i--)
        if (shown(&k->records[i - 1], reachable))
            left--;
    return i;
}

static void print_stack(const hd_dump *d, const hd_loss_record *r)
{
    if (r->stack == HD_NONE) {
        char *where = r->site == HD_NONE ? xasprintf("(no allocation site)") : site_label(d, r->site);
        fputs("   at ", stdout);
        print_escaped(stdout, where);
        putchar('\n');
        free(where);
        return;
    }
    const char *word = "at";
    for (uint32_t n = r->stack; n != HD_NONE; n = hd_stack_parent(d, n), word = "by") {
        char *label = frame_label(d, hd_stack_frame(d, n));
        printf("   %s ", word);
        print_escaped(stdout, label);
        putchar('\n');
        free(label);
    }
}

static void print_text(const hd_dump *d, const hd_leak_kinds *k, uint64_t top, bool reachable)
{
    for (uint32_t i = first_shown(k, top, reachable); i < k->nrecords; i++) {
        const hd_loss_record *r = &k->records[i];
        if (!shown(r, reachable))
            continue;
        uint64_t total = r->bytes + r->indirect_bytes;
        if (r->indirect_bytes)
            printf("%" PRIu64 " (%" PRIu64 " direct, %" PRIu64 " indirect)",
                   total < r->bytes ? UINT64_MAX : total, r->bytes, r->indirect_bytes);
        else
            printf("%" PRIu64, r->bytes);
        printf(" bytes in %" PRIu64 " blocks are %s in loss record %" PRIu32 " of %" PRIu32 "\n",
               r->blocks, hd_leak_kind_name(r->kind), i + 1, k->nrecords);
        print_stack(d, r);
        putchar('\n');
    }
    puts("LEAK SUMMARY:");
    for (int i = 0; i < HD_LEAK_KINDS; i++) {
        enum hd_leak_kind kind = summary_order[i];
        printf("   %15s: %" PRIu64 " bytes in %" PRIu64 " blocks\n", hd_leak_kind_name(kind),
               k->bytes[kind], k->blocks[kind]);
    }
}

static void jw_record(json_writer *w, const hd_dump *d, const hd_loss_record *r, uint32_t number)
{
    jw_object_begin(w);
    jw_key(w, "record");
    jw_uint(w, number);
    jw_key(w, "kind");
    jw_string(w, json_keys[r->kind]);
    jw_key(w, "blocks");
    jw_uint(w, r->blocks);
    jw_key(w, "bytes");
    jw_uint(w, r->bytes);
    jw_key(w, "indirect_bytes");
    jw_uint(w, r->indirect_bytes);
    jw_key(w, "example");
    jw_objref(w, d, r->example);
    if (r->site != HD_NONE) {
        jw_key(w, "site");
        jw_object_begin(w);
        jw_key(w, "file");
        jw_string(w, hd_site_file(d, r->site));
        jw_key(w, "line");
        jw_uint(w, hd_site_line(d, r->site));
        jw_key(w, "function");
        jw_string(w, hd_site_function(d, r->site));
        jw_object_end(w);
    }
    jw_key(w, "stack"); /* innermost first; [] when the site has no stack */
    jw_array_begin(w);
    for (uint32_t n = r->stack; n != HD_NONE; n = hd_stack_parent(d, n))
        jw_frame(w, d, hd_stack_frame(d, n));
    jw_array_end(w);
    jw_object_end(w);
}

static void print_json(const char *path, const hd_dump *d, const hd_leak_kinds *k, uint64_t top,
                       bool reachable)
{
    json_writer w;
    jw_init(&w, stdout);
    jw_object_begin(&w);
    jw_key(&w, "dump");
    jw_string(&w, path);
    jw_key(&w, "categories");
    jw_string(&w, "memcheck");
    jw_key(&w, "summary");
    jw_object_begin(&w);
    for (int i = 0; i < HD_LEAK_KINDS; i++) {
        enum hd_leak_kind kind = summary_order[i];
        jw_key(&w, json_keys[kind]);
        jw_object_begin(&w);
        jw_key(&w, "blocks");
        jw_uint(&w, k->blocks[kind]);
        jw_key(&w, "bytes");
        jw_uint(&w, k->bytes[kind]);
        jw_object_end(&w);
    }
    jw_object_end(&w);
    jw_key(&w, "records"); /* smallest first, numbered as memcheck numbers its loss records */
    jw_array_begin(&w);
    for (uint32_t i = first_shown(k, top, reachable); i < k->nrecords; i++)
        if (shown(&k->records[i], reachable))
            jw_record(&w, d, &k->records[i], i + 1);
    jw_array_end(&w);
    jw_object_end(&w);
    jw_finish(&w);
}

int print_leak_kinds(const char *path, const hd_dump *d, bool json, uint64_t top, bool reachable,
                     bool *leaked)
{
    hd_leak_kinds *k;
    int rc = hd_leak_kinds_compute(d, &k);
    if (rc)
        return report_status("leaks", rc);
    if (json)
        print_json(path, d, k, top, reachable);
    else
        print_text(d, k, top, reachable);
    /* memcheck's default --errors-for-leak-kinds: definite and possible (indirect implies definite) */
    *leaked = k->blocks[HD_LEAK_DEFINITE] > 0 || k->blocks[HD_LEAK_POSSIBLE] > 0;
    hd_leak_kinds_free(k);
    return EXIT_OK;
}
