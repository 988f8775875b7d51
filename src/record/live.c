/* live.c: every live block the recorder knows, as a dump sees them: the tailed blocks (tailed.c),
 * most of them, and the few others in the shared table (blocks.c). */
#include <stdlib.h>

#include "record/record.h"

bool rec_blocks_init(void) { return rec_table_init(); }

/* The bitmap's bits take no lock (a snapshot holds the program's threads outside the recorder, and
 * a fork of the program's own copies a bit set or cleared whole); only making a region does. */
void rec_blocks_lock_all(void)
{
    rec_tailed_lock();
    rec_table_lock_all();
}

void rec_blocks_unlock_all(void)
{
    rec_table_unlock_all();
    rec_tailed_unlock();
}

size_t rec_blocks_count(void) { return rec_tailed_count() + rec_table_count(); }

/* Merges the sorted others into out[0..n), sorted, from the back; returns the new count. Two
 * blocks at one address: the shared table's was freed where the recorder could not see it, and
 * the tailed one is kept. */
static size_t merge(rec_block *out, size_t n, const rec_block *others, size_t m)
{
    size_t k = n + m, i = n, j = m;
    while (j > 0) {
        if (i > 0 && out[i - 1].addr > others[j - 1].addr)
            out[--k] = out[--i];
        else
            out[--k] = others[--j];
    }
    size_t kept = 0;
    for (size_t r = 0; r < n + m; r++) {
        if (kept && out[kept - 1].addr == out[r].addr)
            continue; /* the tailed one came first */
        out[kept++] = out[r];
    }
    return kept;
}

size_t rec_blocks_sorted(rec_block *out, size_t cap)
{
    size_t m = rec_table_count();
    if (m > cap)
        m = cap;
    size_t n = rec_tailed_sorted(out, cap - m);
    if (!m)
        return n;
    rec_block *others = malloc(m * sizeof *others); /* in a snapshot child: its own heap */
    if (!others)
        return n;
    n = merge(out, n, others, rec_table_sorted(others, m));
    free(others);
    return n;
}
