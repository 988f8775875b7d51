/* report_compare.c: with two dumps or more, DevTools' Comparison between the first and the last
 * (new, deleted and delta per type, by growth) with each type's count in every dump, and the
 * types that grew at every step of the series. Types match across dumps by name.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#define GROWING 20

typedef struct named_count {
    const char *name;
    uint64_t count;
} named_count;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const named_count *)a)->name, ((const named_count *)b)->name);
}

/* Per dump, its types' counts sorted by name. */
static named_count *counts_of(const hd_dump *d, uint32_t *n)
{
    uint32_t nt = hd_type_count(d);
    hd_type_stat *st = malloc(((size_t)nt + 1) * sizeof *st);
    named_count *nc = malloc(((size_t)nt + 1) * sizeof *nc);
    if (!st || !nc) {
        free(st);
        free(nc);
        return NULL;
    }
    *n = hd_stats_by_type(d, HD_SORT_COUNT, st);
    for (uint32_t i = 0; i < *n; i++)
        nc[i] = (named_count){hd_type_name(d, st[i].type), st[i].count};
    free(st);
    qsort(nc, *n, sizeof *nc, by_name);
    return nc;
}

static uint64_t count_in(const named_count *nc, uint32_t n, const char *name)
{
    named_count key = {name, 0};
    const named_count *hit = bsearch(&key, nc, n, sizeof key, by_name);
    return hit ? hit->count : 0;
}

static void row(FILE *out, const hd_diff_row *r, named_count *const *counts, const uint32_t *ncounts, size_t n)
{
    fputc('[', out);
    hd__rj_str(out, r->type);
    fputs(",[", out);
    for (size_t k = 0; k < n; k++)
        fprintf(out, "%s%llu", k ? "," : "", (unsigned long long)count_in(counts[k], ncounts[k], r->type));
    fprintf(out, "],%llu,%llu,%lld,%lld]", (unsigned long long)r->added, (unsigned long long)r->deleted,
            (long long)r->count_delta, (long long)r->size_delta);
}

int hd__report_compare(const hd__report_ctx *c, const hd_dump *const *dumps, size_t n)
{
    FILE *out = c->out;
    if (n < 2) {
        fputs("null", out);
        return HD_OK;
    }
    hd_diff *diff;
    int rc = hd_diff_compute(dumps[0], dumps[n - 1], HD_DIFF_BY_TYPE, &diff);
    if (rc)
        return rc;
    named_count **counts = calloc(n, sizeof *counts);
    uint32_t *ncounts = calloc(n, sizeof *ncounts);
    rc = counts && ncounts ? HD_OK : HD_ENOMEM;
    for (size_t k = 0; k < n && !rc; k++)
        if (!(counts[k] = counts_of(dumps[k], &ncounts[k])))
            rc = HD_ENOMEM;
    if (!rc) {
        fprintf(out, "{\"added\":%u,\"deleted\":%u,\"rows\":[", diff->nadded, diff->ndeleted);
        for (uint32_t i = 0; i < diff->nrows && i < c->top; i++) {
            if (i)
                fputc(',', out);
            row(out, &diff->rows[i], counts, ncounts, n);
        }
        fprintf(out, "],\"rows_more\":%u,\"growing\":[", diff->nrows > c->top ? diff->nrows - c->top : 0);
        for (uint32_t i = 0, shown = 0; i < diff->nrows && shown < GROWING; i++) {
            const char *t = diff->rows[i].type;
            size_t k = 1;
            while (k < n && count_in(counts[k], ncounts[k], t) > count_in(counts[k - 1], ncounts[k - 1], t))
                k++;
            if (k < n)
                continue;
            fputs(shown++ ? "," : "", out);
            row(out, &diff->rows[i], counts, ncounts, n);
        }
        fputs("]}", out);
    }
    for (size_t k = 0; counts && k < n; k++)
        free(counts[k]);
    free(counts);
    free(ncounts);
    hd_diff_free(diff);
    return rc;
}
