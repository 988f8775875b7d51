/* report_tree.c: the dominator tree for the treemap, cut to a budget of nodes: breadth-first
 * from the heap, each object showing its largest children (up to CHILDREN, each at least
 * 1/4000 of the heap: smaller ones would be under a pixel) and one "more" node for the rest.
 * Nodes are [parent, label, type, retained, distance, more], parents first; node 0 is the heap.
 */
#include "report.h"

#include <stdlib.h>

#define CHILDREN 24
#define MAX_DEPTH 40

/* The k largest (by retained size) of n children into best, largest first; returns how many. */
static uint32_t largest(const hd_dominators *dom, const uint32_t *children, uint32_t n, uint32_t *best)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t o = children[i];
        uint64_t r = hd_retained_size(dom, o);
        if (k == CHILDREN && r <= hd_retained_size(dom, best[k - 1]))
            continue;
        uint32_t j = k < CHILDREN ? k++ : k - 1;
        for (; j > 0 && hd_retained_size(dom, best[j - 1]) < r; j--)
            best[j] = best[j - 1];
        best[j] = o;
    }
    return k;
}

typedef struct item {
    uint32_t object, node, depth;
} item;

int hd__report_tree(const hd__report_ctx *c)
{
    const hd_dump *d = c->d;
    uint32_t n = hd_object_count(d), *first, *child;
    int rc = hd_dominator_children(c->dom, &first, &child);
    if (rc)
        return rc;
    item *queue = malloc(((size_t)c->tree_nodes + 1) * sizeof *queue);
    if (!queue) {
        free(first);
        free(child);
        return HD_ENOMEM;
    }
    uint64_t heap = 0;
    for (uint32_t k = first[n]; k < first[n + 1]; k++)
        heap += hd_retained_size(c->dom, child[k]);
    uint64_t least = heap / 4000 ? heap / 4000 : 1;
    FILE *out = c->out;
    fprintf(out, "[[-1,\"heap\",\"\",%llu,-1,0]", (unsigned long long)heap);
    uint32_t nodes = 1, head = 0, tail = 0;
    queue[tail++] = (item){n, 0, 0};
    while (head < tail) {
        item it = queue[head++];
        uint32_t best[CHILDREN];
        uint32_t from = first[it.object], count = first[it.object + 1] - from;
        uint32_t k = it.depth < MAX_DEPTH ? largest(c->dom, child + from, count, best) : 0;
        uint64_t shown = 0;
        uint32_t drawn = 0;
        for (uint32_t i = 0; i < k && nodes < c->tree_nodes; i++) {
            uint32_t o = best[i];
            uint64_t r = hd_retained_size(c->dom, o);
            if (r < least)
                break;
            fprintf(out, ",[%u,", it.node);
            hd__rj_object(c, o);
            fputc(',', out);
            hd__rj_str(out, hd_type_name(d, hd_object_type(d, o)));
            fprintf(out, ",%llu,%lld,0]", (unsigned long long)r,
                    c->reach->depth[o] == HD_NONE ? -1LL : (long long)c->reach->depth[o]);
            queue[tail++] = (item){o, nodes++, it.depth + 1};
            shown += r;
            drawn++;
        }
        uint64_t all = it.object == n ? heap : hd_retained_size(c->dom, it.object) - hd_object_size(d, it.object);
        if (count > drawn && all > shown && nodes < c->tree_nodes) {
            fprintf(out, ",[%u,\"%u more\",\"\",%llu,-1,%u]", it.node, count - drawn,
                    (unsigned long long)(all - shown), count - drawn);
            nodes++;
        }
    }
    fputc(']', out);
    free(queue);
    free(first);
    free(child);
    return HD_OK;
}
