/* report_flame.c: live bytes by where they were allocated, for the flame graph:
 * {"by": "stack" | "site", "nodes": [[parent, name, bytes], ...]}, parents first, node 0 the
 * whole heap. With call stacks the nodes are their frames, folded as `heaptool flame` folds
 * them (hd_flame_fold); without, two levels: file, then function and line.
 *
 * Invariant: the page stays small for any dump: at most FRAMES frames (the largest: a frame is
 * never smaller than its callees, so the largest always include their callers) or SITES sites
 * are named, and what is left out under a node is one "N more" node with its bytes.
 */
#include "report.h"
#include "dump/analysis.h"

#include <stdlib.h>
#include <string.h>

#define SITES 200
#define FRAMES 1500
#define NAME_BYTES 120 /* a frame's name is cut (at a character boundary) after this */

static int by_site(const hd__report_ctx *c)
{
    const hd_dump *d = c->d;
    FILE *out = c->out;
    hd_site_stat *st = malloc(((size_t)hd_site_count(d) + 1) * sizeof *st);
    const char **files = malloc(SITES * sizeof *files);
    uint64_t *file_bytes = calloc(SITES, sizeof *file_bytes);
    uint32_t *site_file = malloc(SITES * sizeof *site_file);
    if (!st || !files || !file_bytes || !site_file) {
        free(st), free(files), free(file_bytes), free(site_file);
        return HD_ENOMEM;
    }
    uint32_t n = hd_stats_by_site(d, HD_SORT_SIZE, st), shown = n < SITES ? n : SITES, nfiles = 0;
    uint64_t rest = 0;
    for (uint32_t i = shown; i < n; i++)
        rest += st[i].size;
    for (uint32_t i = 0; i < shown; i++) {
        const char *file = st[i].site == HD_NONE ? "(no site)" : hd_site_file(d, st[i].site);
        uint32_t f = 0;
        while (f < nfiles && strcmp(files[f], file))
            f++;
        if (f == nfiles)
            files[nfiles++] = file;
        file_bytes[f] += st[i].size;
        site_file[i] = f;
    }
    fprintf(out, "{\"by\":\"site\",\"nodes\":[[-1,\"all\",%llu]", (unsigned long long)hd_total_size(d));
    for (uint32_t f = 0; f < nfiles; f++) {
        fputs(",[0,", out);
        hd__rj_str(out, files[f]);
        fprintf(out, ",%llu]", (unsigned long long)file_bytes[f]);
    }
    for (uint32_t i = 0; i < shown; i++) {
        if (st[i].site == HD_NONE)
            continue;
        char name[160];
        const char *fn = hd_site_function(d, st[i].site);
        snprintf(name, sizeof name, "%.100s%s%u", fn, fn[0] ? ":" : "line ", hd_site_line(d, st[i].site));
        fprintf(out, ",[%u,", 1 + site_file[i]);
        hd__rj_str(out, name);
        fprintf(out, ",%llu]", (unsigned long long)st[i].size);
    }
    if (rest)
        fprintf(out, ",[0,\"%u more sites\",%llu]", n - shown, (unsigned long long)rest);
    fputs("]}", out);
    free(st), free(files), free(file_bytes), free(site_file);
    return HD_OK;
}

/* Largest first; of equal ones, the earlier (a caller before its callees). */
static int larger_frame(const void *a, const void *b, void *ctx)
{
    const hd_flame_node *t = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    if (t[x].value != t[y].value)
        return t[x].value > t[y].value ? -1 : 1;
    return x < y ? -1 : x > y;
}

static void frame_name(FILE *out, const hd_flame_node *n)
{
    char name[NAME_BYTES + 4];
    size_t len = n->len;
    if (len > NAME_BYTES) {
        len = NAME_BYTES;
        while (len > 0 && ((unsigned char)n->name[len] & 0xC0) == 0x80)
            len--; /* not inside a UTF-8 character */
    }
    memcpy(name, n->name, len);
    strcpy(name + len, len < n->len ? "..." : "");
    hd__rj_str(out, name);
}

/* The FRAMES largest frames, numbered in tree order (callers first), each with an "N more" node
 * for the callees left out. */
static int by_stack(const hd__report_ctx *c)
{
    hd_flame *f;
    int rc = hd_flame_fold(c->d, HD_FLAME_BYTES, &f);
    if (rc)
        return rc;
    uint32_t n = f->nnodes, shown = n < FRAMES ? n : FRAMES;
    uint32_t *order = malloc((size_t)n * sizeof *order), *number = malloc((size_t)n * sizeof *number);
    if (!order || !number) {
        free(order), free(number), hd_flame_free(f);
        return HD_ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++)
        order[i] = i, number[i] = HD_NONE;
    qsort_r(order, n, sizeof *order, larger_frame, f->nodes);
    for (uint32_t i = 0; i < shown; i++)
        number[order[i]] = 0;
    FILE *out = c->out;
    fputs("{\"by\":\"stack\",\"nodes\":[", out);
    uint32_t next = 0;
    for (uint32_t i = 0; i < n; i++) {
        const hd_flame_node *t = &f->nodes[i];
        if (number[i] == HD_NONE)
            continue;
        number[i] = next++;
        fprintf(out, "%s[%d,", i ? "," : "", i ? (int)number[t->parent] : -1);
        frame_name(out, t);
        fprintf(out, ",%llu]", (unsigned long long)t->value);
        uint64_t rest = 0;
        uint32_t left_out = 0;
        for (uint32_t k = t->first_child; k != HD_NONE; k = f->nodes[k].next_sibling)
            if (number[k] == HD_NONE)
                rest = hd__add_sat(rest, f->nodes[k].value), left_out++;
        if (left_out) {
            fprintf(out, ",[%u,\"%u more frames\",%llu]", number[i], left_out, (unsigned long long)rest);
            next++;
        }
    }
    fputs("]}", out);
    free(order), free(number), hd_flame_free(f);
    return HD_OK;
}

int hd__report_flame(const hd__report_ctx *c)
{
    return hd_stack_count(c->d) ? by_stack(c) : by_site(c);
}
