/* referrers.c: the reverse of the strong-reference CSR, a stable counting sort of the edges by
 * target, so each object's referrers come out in increasing source order.
 *
 * In a big heap a plain counting sort misses the cache on nearly every edge (its counters and
 * its output are spread over the whole heap), so this one sorts in two passes: the edges go, in
 * source order, to buckets of BUCKET consecutive targets (a bucket's part of the output is
 * contiguous: its targets' slots), then each bucket is counting-sorted within its part, whose
 * counters and slots fit in the cache.
 */
#include "analysis.h"
#include "binary.h"

#include <stdlib.h>
#include <string.h>

#define BUCKET_BITS 13
#define BUCKET (1u << BUCKET_BITS)

void hd_referrers_free(hd_referrers *r)
{
    if (!r)
        return;
    free(r->offsets);
    free(r->sources);
    free(r->edges);
    free(r);
}

/* bucket_start[b] = the first slot of bucket b's edges (nbuckets + 1 entries); returns the
 * most edges a bucket has. */
static uint64_t count_buckets(const hd_dump *d, uint64_t *bucket_start, uint32_t nbuckets)
{
    uint64_t m = hd_edge_count(d), most = 0;
    const uint32_t *dst = hd_edge_targets(d);
    memset(bucket_start, 0, ((size_t)nbuckets + 1) * sizeof *bucket_start);
    for (uint64_t e = 0; e < m; e++)
        bucket_start[(dst[e] >> BUCKET_BITS) + 1]++;
    for (uint32_t b = 0; b < nbuckets; b++) {
        most = bucket_start[b + 1] > most ? bucket_start[b + 1] : most;
        bucket_start[b + 1] += bucket_start[b];
    }
    return most;
}

/* Sorts bucket b's edges, at [first, end) of sources and edges in source order, into place by
 * target, and sets its targets' offsets. scratch has room for 3 (end - first) + BUCKET. */
static void sort_bucket(const hd_dump *d, hd_referrers *r, uint32_t b, uint64_t first, uint64_t end,
                        uint32_t *scratch)
{
    const uint32_t *dst = hd_edge_targets(d);
    uint32_t t0 = b << BUCKET_BITS, nt = hd_object_count(d) - t0 < BUCKET ? hd_object_count(d) - t0 : BUCKET;
    uint64_t k = end - first;
    uint32_t *src = scratch, *edge = src + k, *target = edge + k, *next = target + k;
    memcpy(src, r->sources + first, k * sizeof *src);
    memcpy(edge, r->edges + first, k * sizeof *edge);
    memset(next, 0, nt * sizeof *next);
    for (uint64_t i = 0; i < k; i++) { /* the targets are read at random: fetch ahead */
        if (i + 16 < k)
            __builtin_prefetch(&dst[edge[i + 16]]);
        target[i] = dst[edge[i]] - t0;
        next[target[i]]++;
    }
    uint64_t slot = first;
    for (uint32_t t = 0; t < nt; t++) {
        uint32_t count = next[t];
        r->offsets[t0 + t] = (uint32_t)slot;
        next[t] = (uint32_t)(slot - first);
        slot += count;
    }
    for (uint64_t i = 0; i < k; i++) {
        uint64_t at = first + next[target[i]]++;
        r->sources[at] = src[i];
        r->edges[at] = edge[i];
    }
}

int hd_referrers_build(const hd_dump *d, hd_referrers **out)
{
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    if (!d)
        return HD_EINVAL;
    uint32_t n = hd_object_count(d);
    uint64_t m = hd_edge_count(d);
    uint32_t nbuckets = (uint32_t)(((uint64_t)n + BUCKET - 1) >> BUCKET_BITS);
    const uint32_t *off = hd_edge_offsets(d), *dst = hd_edge_targets(d);
    hd_referrers *r = calloc(1, sizeof *r);
    uint64_t *bucket_start = malloc(((size_t)nbuckets + 1) * sizeof *bucket_start);
    uint64_t *bucket_fill = malloc(((size_t)nbuckets + 1) * sizeof *bucket_fill);
    uint32_t *scratch = NULL;
    if (r) {
        r->nobjects = n;
        r->nedges = m;
        r->offsets = malloc(((size_t)n + 1) * sizeof *r->offsets);
        r->sources = malloc((m ? m : 1) * sizeof *r->sources);
        r->edges = malloc((m ? m : 1) * sizeof *r->edges);
    }
    if (bucket_start)
        scratch = malloc((3 * count_buckets(d, bucket_start, nbuckets) + BUCKET) * sizeof *scratch);
    if (!r || !r->offsets || !r->sources || !r->edges || !bucket_fill || !scratch) {
        hd_referrers_free(r);
        free(bucket_start);
        free(bucket_fill);
        free(scratch);
        return HD_ENOMEM;
    }
    memcpy(bucket_fill, bucket_start, ((size_t)nbuckets + 1) * sizeof *bucket_fill);
    for (uint32_t s = 0; s < n; s++)
        for (uint32_t e = off[s]; e < off[s + 1]; e++) {
            uint64_t slot = bucket_fill[dst[e] >> BUCKET_BITS]++;
            r->sources[slot] = s;
            r->edges[slot] = e;
        }
    for (uint32_t b = 0; b < nbuckets; b++)
        sort_bucket(d, r, b, bucket_start[b], bucket_start[b + 1], scratch);
    r->offsets[n] = (uint32_t)m;
    free(bucket_start);
    free(bucket_fill);
    free(scratch);
    *out = r;
    return HD_OK;
}

/* The object whose edges hold edge e: the last one whose edges start at or before e. A
 * galloping search from where e would be if every object had as many edges, so that a
 * question about one object reads a chunk or two of EDGE_OFFSET, not a binary search's many. */
static uint32_t source_of(const hd_dump *d, uint32_t e)
{
    const uint32_t *off = hd_edge_offsets(d);
    uint32_t n = hd_object_count(d);
    uint64_t m = hd_edge_count(d), guess = m ? (uint64_t)e * n / m : 0, lo, hi, step = 1;
    if (off[guess] <= e) { /* lo: at or before e; hi: past it */
        for (lo = guess, hi = guess + 1; hi < n && off[hi] <= e; step *= 2)
            lo = hi, hi = hi + step < n ? hi + step : n;
    } else {
        for (hi = guess, lo = guess > step ? guess - step : 0; off[lo] > e; step *= 2)
            hi = lo, lo = lo > step ? lo - step : 0;
    }
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        *(off[mid] <= e ? &lo : &hi) = mid;
    }
    return (uint32_t)lo;
}

/* The index's REF_EDGE lists o's referrers with those of the other objects of its block, by
 * target then edge (binary_check.c holds every entry to its block's targets): o's are the
 * entries whose edge targets o, already in increasing edge, hence source, order. */
static uint64_t referrers_from_index(const hd_dump *d, const hd__index *ix, uint32_t o, uint32_t *pairs,
                                     uint64_t room)
{
    const uint32_t *dst = hd_edge_targets(d);
    uint32_t b = o >> ix->ref_block_bits;
    uint64_t count = 0;
    for (uint32_t j = ix->ref_block[b]; j < ix->ref_block[b + 1]; j++) {
        uint32_t e = ix->ref_edge[j];
        if (dst[e] != o)
            continue;
        if (count < room) {
            pairs[count] = source_of(d, e);
            pairs[room + count] = e;
        }
        count++;
    }
    return count;
}

/* From the edges: the ones that target o, in order (their sources increase with them). */
static uint64_t referrers_by_scan(const hd_dump *d, uint32_t o, uint32_t *pairs, uint64_t room)
{
    const uint32_t *off = hd_edge_offsets(d), *dst = hd_edge_targets(d);
    uint64_t k = 0;
    if (!pairs) {
        for (uint64_t e = 0, m = hd_edge_count(d); e < m; e++)
            k += dst[e] == o;
        return k;
    }
    for (uint32_t s = 0, nobj = hd_object_count(d); s < nobj && k < room; s++)
        for (uint32_t e = off[s]; e < off[s + 1]; e++)
            if (dst[e] == o) {
                pairs[k] = s;
                pairs[room + k++] = e;
            }
    return k;
}

int hd_referrers_of(const hd_dump *d, uint32_t o, uint32_t **sources, uint32_t **edges, uint64_t *n)
{
    if (!sources || !edges || !n)
        return HD_EINVAL;
    *sources = *edges = NULL;
    *n = 0;
    if (!d || o >= hd_object_count(d))
        return HD_EINVAL;
    const hd__index *ix = hd__dump_index(d);
    bool indexed = ix && ix->ref_edge;
    uint64_t count = indexed ? referrers_from_index(d, ix, o, NULL, 0) : referrers_by_scan(d, o, NULL, 0);
    uint32_t *pairs = malloc(2 * (count ? count : 1) * sizeof *pairs);
    if (!pairs)
        return HD_ENOMEM;
    if (indexed)
        referrers_from_index(d, ix, o, pairs, count);
    else
        referrers_by_scan(d, o, pairs, count);
    *sources = pairs;
    *edges = pairs + count;
    *n = count;
    return HD_OK;
}

/* REF_EDGE by the same two passes as hd_referrers_build, keeping the edges alone: the edges to
 * buckets of targets in edge order, each with its target's place in its bucket (two bytes), then
 * each bucket counting-sorted by target (stable, so a target's edges stay increasing); REF_BLOCK
 * from the targets' starts. Every array is read and written in order (the edges' targets once,
 * in the first two passes), so out of core they can be scratch files. */
int hd__referrer_sections(const hd_dump *d, uint32_t **edges_out, uint32_t **blocks_out)
{
    _Static_assert(BUCKET_BITS <= 16 && BUCKET_BITS >= HDX_REF_BLOCK_BITS, "a target's place in its bucket in 16 bits");
    uint32_t n = hd_object_count(d), nbuckets = (uint32_t)(((uint64_t)n + BUCKET - 1) >> BUCKET_BITS);
    uint64_t m = hd_edge_count(d);
    const uint32_t *dst = hd_edge_targets(d);
    uint64_t *start = malloc(((size_t)nbuckets + 1) * sizeof *start);
    uint64_t *fill = malloc(((size_t)nbuckets + 1) * sizeof *fill);
    uint32_t *edges = hd__big_alloc((m ? m : 1) * sizeof *edges);
    uint16_t *place = hd__big_alloc((m ? m : 1) * sizeof *place);
    uint32_t *blocks = hd__big_alloc(hd__ref_blocks(n, HDX_REF_BLOCK_BITS) * sizeof *blocks);
    uint32_t *scratch = start ? malloc((count_buckets(d, start, nbuckets) + BUCKET) * sizeof *scratch) : NULL;
    if (!start || !fill || !edges || !place || !blocks || !scratch) {
        free(start), free(fill), free(scratch);
        hd__big_free(edges), hd__big_free(place), hd__big_free(blocks);
        return HD_ENOMEM;
    }
    memcpy(fill, start, ((size_t)nbuckets + 1) * sizeof *fill);
    for (uint64_t e = 0; e < m; e++) {
        uint64_t slot = fill[dst[e] >> BUCKET_BITS]++;
        edges[slot] = (uint32_t)e;
        place[slot] = (uint16_t)(dst[e] & (BUCKET - 1));
    }
    uint32_t *count = scratch, *bucket = scratch + BUCKET;
    for (uint32_t b = 0; b < nbuckets; b++) {
        uint32_t t0 = b << BUCKET_BITS, nt = n - t0 < BUCKET ? n - t0 : BUCKET;
        uint64_t first = start[b], k = start[b + 1] - first;
        memcpy(bucket, edges + first, k * sizeof *bucket);
        memset(count, 0, BUCKET * sizeof *count);
        for (uint64_t i = 0; i < k; i++)
            count[place[first + i]]++;
        uint64_t slot = first;
        for (uint32_t t = 0; t < nt; t++) {
            uint32_t c = count[t];
            if ((t & ((1u << HDX_REF_BLOCK_BITS) - 1)) == 0)
                blocks[(t0 + t) >> HDX_REF_BLOCK_BITS] = (uint32_t)slot;
            count[t] = (uint32_t)(slot - first);
            slot += c;
        }
        for (uint64_t i = 0; i < k; i++)
            edges[first + count[place[first + i]]++] = bucket[i];
    }
    blocks[hd__ref_blocks(n, HDX_REF_BLOCK_BITS) - 1] = (uint32_t)m;
    free(start), free(fill), free(scratch);
    hd__big_free(place);
    *edges_out = edges;
    *blocks_out = blocks;
    return HD_OK;
}
