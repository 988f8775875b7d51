/* semidominators_external.c: the semidominator pass out of core (budget.h), its predecessor
 * lists made by an external bucket sort instead of a CSR built at random.
 *
 * Invariant: bucket b holds the (to, from) number pairs of the late predecessors the DFS walks
 * whose target is numbered in [b * width, (b + 1) * width), in the order they were walked;
 * the pass reads the buckets last to first, each twice in order, and counting-sorts it into
 * that range's predecessor lists, in memory. So the only randomly accessed arrays are the DFS's
 * marks and the forest's nodes, both in memory; everything else is written and read in
 * order: the pairs appended to their bucket's file, the DFS stack a scratch file. */
#include "budget.h"
#include "dump_internal.h"
#include "semidominators.h"

#include <stdlib.h>
#include <unistd.h>

#define MAX_BUCKETS 256u
#define BUFFERED_PAIRS 8192u /* per bucket: 64 KiB appended at a time */
#define READ_PAIRS 131072u   /* 1 MiB read at a time */

typedef struct pair {
    uint32_t to, from;
} pair;

typedef struct buckets {
    uint32_t count, width; /* numbers per bucket */
    int *fd;
    uint64_t *npairs;
    pair *buffer; /* BUFFERED_PAIRS per bucket */
    uint32_t *buffered;
    int status; /* the first failure */
} buckets;

static bool write_all(int fd, const void *data, size_t size)
{
    for (const char *p = data; size > 0;) {
        ssize_t k = write(fd, p, size);
        if (k <= 0)
            return false;
        p += k, size -= (size_t)k;
    }
    return true;
}

static bool read_all(int fd, void *data, size_t size, off_t at)
{
    for (char *p = data; size > 0;) {
        ssize_t k = pread(fd, p, size, at);
        if (k <= 0)
            return false;
        p += k, size -= (size_t)k, at += k;
    }
    return true;
}

static void flush(buckets *b, uint32_t i)
{
    if (b->buffered[i] && !b->status &&
        !write_all(b->fd[i], &b->buffer[(size_t)i * BUFFERED_PAIRS], b->buffered[i] * sizeof(pair)))
        b->status = HD_EIO;
    b->buffered[i] = 0;
}

static void append(void *ctx, uint32_t from, uint32_t to)
{
    buckets *b = ctx;
    uint32_t i = to / b->width;
    b->buffer[(size_t)i * BUFFERED_PAIRS + b->buffered[i]++] = (pair){to, from};
    b->npairs[i]++;
    if (b->buffered[i] == BUFFERED_PAIRS)
        flush(b, i);
}

static void close_buckets(buckets *b)
{
    for (uint32_t i = 0; b->fd && i < b->count; i++)
        if (b->fd[i] >= 0)
            close(b->fd[i]);
    free(b->fd);
    free(b->npairs);
    free(b->buffer);
    free(b->buffered);
}

/* As many buckets as it takes for one, sorted, to need about an eighth of the budget (4 bytes a
 * pair, its place in the lists), assuming the targets spread evenly. */
static int open_buckets(buckets *b, const hd_dump *d)
{
    uint64_t pairs = d->nedges + d->nroots, per_bucket = hd__budget_bytes() / 8 / 4;
    if (per_bucket < 16)
        per_bucket = 16;
    uint64_t count = (pairs + per_bucket - 1) / per_bucket;
    b->count = count < 1 ? 1 : count > MAX_BUCKETS ? MAX_BUCKETS : (uint32_t)count;
    b->width = (uint32_t)(((uint64_t)d->nobjects + b->count) / b->count); /* numbers 0..nobjects */
    b->fd = malloc(b->count * sizeof *b->fd);
    b->npairs = calloc(b->count, sizeof *b->npairs);
    b->buffer = malloc((size_t)b->count * BUFFERED_PAIRS * sizeof *b->buffer);
    b->buffered = calloc(b->count, sizeof *b->buffered);
    if (!b->fd || !b->npairs || !b->buffer || !b->buffered)
        return HD_ENOMEM;
    for (uint32_t i = 0; i < b->count; i++)
        b->fd[i] = -1;
    for (uint32_t i = 0; i < b->count; i++)
        if ((b->fd[i] = hd__scratch_file()) < 0)
            return HD_EIO;
    return HD_OK;
}

/* The DFS, its walked references appended to the buckets; then the nodes made from it. */
static int number_into_buckets(const hd_dump *d, hd__dom_node **nodes, uint32_t *vertex, uint32_t *n,
                               buckets *b)
{
    size_t cap = (size_t)d->nobjects + 1;
    hd__dfs_mark *mark = hd__ram_alloc(cap * sizeof *mark);
    uint32_t *parent = hd__big_alloc(cap * sizeof *parent);
    uint32_t *stack = hd__big_alloc(cap * sizeof *stack);
    int rc = HD_ENOMEM;
    if (mark && parent && stack) {
        *n = hd__dfs_number(d, mark, vertex, parent, stack, append, b);
        for (uint32_t i = 0; i < b->count; i++)
            flush(b, i);
        rc = b->status;
    }
    hd__big_free(stack);
    if (rc == HD_OK) {
        *nodes = hd__ram_alloc(((size_t)*n + 1) * sizeof **nodes); /* + the sentinel */
        if (*nodes)
            hd__semi_init(*nodes, *n, parent, mark, vertex);
        else
            rc = HD_ENOMEM;
    }
    hd__big_free(mark);
    hd__big_free(parent);
    return rc;
}

/* Bucket i's pairs as predecessor lists of its numbers: first[k - lo] .. first[k - lo + 1]
 * in from[] for number k. The file is read twice through buffer (READ_PAIRS pairs), to count,
 * then to place, so that the pairs themselves are never all in memory. */
static int sort_bucket(const buckets *b, uint32_t i, pair *buffer, uint64_t *first, uint32_t *from)
{
    uint64_t np = b->npairs[i];
    uint32_t lo = i * b->width;
    for (uint32_t k = 0; k <= b->width + 1; k++)
        first[k] = 0;
    for (int placing = 0; placing < 2; placing++) {
        for (uint64_t done = 0; done < np;) {
            uint64_t k = np - done < READ_PAIRS ? np - done : READ_PAIRS;
            if (!read_all(b->fd[i], buffer, k * sizeof *buffer, (off_t)(done * sizeof *buffer)))
                return HD_EIO;
            for (uint64_t p = 0; p < k; p++)
                if (placing)
                    from[first[buffer[p].to - lo + 1]++] = buffer[p].from;
                else
                    first[buffer[p].to - lo + 2]++;
            done += k;
        }
        for (uint32_t k = 2; !placing && k <= b->width + 1; k++)
            first[k] += first[k - 1];
    }
    return HD_OK;
}

/* The pass, bucket by bucket from the last; path is scratch of n entries. */
static int semidominators_from_buckets(const buckets *b, hd__dom_node *nodes, uint32_t n, uint32_t *path)
{
    uint64_t most = 1;
    for (uint32_t i = 0; i < b->count; i++)
        if (b->npairs[i] > most)
            most = b->npairs[i];
    pair *buffer = hd__ram_alloc(READ_PAIRS * sizeof *buffer);
    uint32_t *from = hd__ram_alloc(most * sizeof *from);
    uint64_t *first = hd__ram_alloc(((size_t)b->width + 2) * sizeof *first);
    int rc = buffer && from && first ? HD_OK : HD_ENOMEM;
    for (uint32_t i = b->count; rc == HD_OK && i-- > 0;) {
        uint32_t lo = i * b->width;
        if (lo >= n)
            continue; /* no node numbered there: an empty bucket */
        rc = sort_bucket(b, i, buffer, first, from);
        uint32_t hi = n - lo < b->width ? n : lo + b->width;
        for (uint32_t w = hi - 1; rc == HD_OK && w >= (lo ? lo : 1); w--)
            hd__semi_step(nodes, n, w, from, first[w - lo], first[w - lo + 1], path);
    }
    hd__big_free(buffer);
    hd__big_free(from);
    hd__big_free(first);
    return rc;
}

int hd__semidominators_external(const hd_dump *d, hd__dom_node **nodes, uint32_t *vertex, uint32_t *n)
{
    buckets b = {0};
    int rc = open_buckets(&b, d);
    if (rc == HD_OK)
        rc = number_into_buckets(d, nodes, vertex, n, &b);
    if (rc == HD_OK) {
        uint32_t *path = hd__big_alloc(((size_t)*n + 1) * sizeof *path); /* as deep as a forest path */
        rc = path ? semidominators_from_buckets(&b, *nodes, *n, path) : HD_ENOMEM;
        hd__big_free(path);
    }
    close_buckets(&b);
    return rc;
}
