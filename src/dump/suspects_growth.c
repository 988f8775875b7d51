/* suspects_growth.c: what grows between snapshots of one process.
 *
 * A series (BASELINE, the dump, FINAL when given): a type whose instance count went up at every
 * step (objgraph's show_growth, run at each snapshot), reported when its size grew by the waste
 * floor or more. With three snapshots, memlab's rule too: objects allocated between BASELINE
 * and the dump and still alive in FINAL, one suspect per retainer path shape in FINAL
 * (hd_leak_report_compute), when their size reaches the waste floor.
 */
#include "suspects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRACES 10

static int compare_row_names(const void *pa, const void *pb)
{
    return strcmp(((const hd_diff_row *)pa)->type, ((const hd_diff_row *)pb)->type);
}

/* The row for type name in a diff whose rows were sorted by name, or NULL. */
static const hd_diff_row *row_of(const hd_diff *diff, const char *name)
{
    hd_diff_row key = {.type = name};
    return diff->nrows ? bsearch(&key, diff->rows, diff->nrows, sizeof key, compare_row_names) : NULL;
}

int hd__suspects_growth(hd__suspect_run *run, const hd_dump *const *series, uint32_t n)
{
    hd_diff *steps[2] = {NULL, NULL};
    int rc = HD_OK;
    for (uint32_t i = 0; i + 1 < n && !rc; i++)
        rc = hd_diff_compute(series[i], series[i + 1], HD_DIFF_BY_TYPE, &steps[i]);
    if (!rc && n == 3 && steps[1]->nrows)
        qsort(steps[1]->rows, steps[1]->nrows, sizeof *steps[1]->rows, compare_row_names);
    const hd_dump *last = series[n - 1];
    uint64_t heap = hd_total_size(last);
    uint64_t floor = (uint64_t)((double)heap * run->threshold / 10);
    for (uint32_t i = 0; !rc && i < steps[0]->nrows; i++) {
        const hd_diff_row *a = &steps[0]->rows[i], *b = n == 3 ? row_of(steps[1], a->type) : a;
        if (a->count_new <= a->count_old || !b || b->count_new <= b->count_old ||
            b->size_new <= a->size_old || b->size_new - a->size_old < (floor ? floor : 1))
            continue;
        hd_suspect *s = hd__suspect_add(run, HD_SUSPECT_GROWING_TYPE, last,
                                        b->size_new - a->size_old, heap);
        if (!s) {
            rc = HD_ENOMEM;
            break;
        }
        s->type_name = a->type;
        s->count = b->count_new - a->count_old;
        s->nseries = n;
        s->series[0] = a->count_old;
        s->series[1] = a->count_new;
        s->series[2] = n == 3 ? b->count_new : 0;
        hd__suspect_id(s, "growth", a->type);
    }
    hd_diff_free(steps[0]);
    hd_diff_free(steps[1]);
    return rc;
}

int hd__suspects_new_and_alive(hd__suspect_run *run, const hd_dump *baseline, const hd_dump *final,
                               hd_leak_report **report)
{
    int rc = hd_leak_report_compute(baseline, run->d, final, report);
    if (rc)
        return rc;
    uint64_t heap = hd_total_size(final);
    uint64_t floor = (uint64_t)((double)heap * run->threshold / 10);
    const hd_leak_report *lr = *report;
    for (uint32_t i = 0, kept = 0; i < lr->ntraces && kept < MAX_TRACES; i++) {
        const hd_leak_trace *t = &lr->traces[i];
        if (t->size < (floor ? floor : 1))
            continue;
        kept++;
        hd_suspect *s = hd__suspect_add(run, HD_SUSPECT_NEW_AND_ALIVE, final, t->size, heap);
        if (!s)
            return HD_ENOMEM;
        s->object = t->example;
        s->count = t->count;
        s->trace = t;
        s->type_name = hd_type_name(final, hd_object_type(final, t->example));
        uint64_t h = HD__HASH_SEED;
        for (uint32_t k = 0; k < t->nsteps; k++) {
            h = hd__hash_str(h, t->steps[k].edge ? t->steps[k].edge : "");
            h = hd__hash_str(hd__hash_u64(h, k), hd_type_name(final, t->steps[k].type));
        }
        snprintf(s->id, sizeof s->id, "new-alive/%016llx", (unsigned long long)h);
    }
    return HD_OK;
}
