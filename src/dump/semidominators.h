/* semidominators.h: the pieces of the dominator computation (dominators.c) that the in-memory
 * and the out-of-core (semidominators_external.c) builds share: the DFS numbering and the
 * semidominator pass over a link-eval forest.
 *
 * Invariant: nodes are numbered in DFS preorder from a virtual root (number 0) whose children are
 * the dump's roots; node k's parent, and every node its semidominator pass reads, has a smaller
 * number, so the pass runs in decreasing number and may be fed its predecessors in slices. */
#ifndef HD_SEMIDOMINATORS_H
#define HD_SEMIDOMINATORS_H

#include "heapdump.h"

#define HD__NOT_SEEN UINT32_MAX

/* Per node (in number space), what the semidominator pass touches together, so one cache miss
 * brings all of it: the DFS tree parent, the semidominator, and the link-eval forest. The pass
 * done, the same memory holds the results in number space (dominators.c): the climb writes
 * each idom over the node's forest ancestor, then the fold its retained size over the parent
 * and semidominator, so that no arrays of their own are made for them. */
typedef union hd__dom_node {
    struct {
        uint32_t parent, semi, ancestor, label;
        uint32_t child, size; /* the balanced link-eval forest's bookkeeping (Lengauer-Tarjan) */
    };
    struct {
        uint64_t retained;
        uint32_t idom;
    };
} hd__dom_node;

/* Per object, what the DFS reads and writes together for every reference to it: its number
 * (HD__NOT_SEEN while unreached) and the least number among its predecessors numbered before it
 * (its parent's, or a smaller one through a forward reference). While the object waits on the
 * DFS's stack under a child, early holds its next reference instead (semidominators.c). */
typedef struct hd__dfs_mark {
    uint32_t number, early;
} hd__dfs_mark;

/* Told of the references the DFS walks from a node numbered after their target (both numbered
 * by then): the late predecessors, whose part in the target's semidominator needs the link-eval
 * forest. A reference from a smaller number (a tree edge, a forward edge, or a root entry, from
 * the virtual root 0) gives the target that number as a candidate outright: such a source is not
 * yet linked when the target's turn comes, so its evaluation is itself. */
typedef void hd__dfs_walked(void *ctx, uint32_t from, uint32_t to);

/* DFS preorder from the virtual root: vertex[k] is the object numbered k (vertex[0] unused),
 * parent[k] its DFS tree parent's number, mark[o] object o's number and early candidate; stack
 * holds as many objects as the DFS gets deep (up to nobjects). Returns the count of numbered
 * nodes, the root included. */
uint32_t hd__dfs_number(const hd_dump *d, hd__dfs_mark *mark, uint32_t *vertex, uint32_t *parent,
                        uint32_t *stack, hd__dfs_walked *walked, void *ctx);

/* Readies nodes[0..n] (nodes[n] the forest's sentinel) for the pass from the DFS's parents and
 * early semidominator candidates. */
void hd__semi_init(hd__dom_node *nodes, uint32_t n, const uint32_t *parent, const hd__dfs_mark *mark,
                   const uint32_t *vertex);
/* Node w's semidominator from its DFS candidate and its late predecessors preds[begin..end)
 * (numbers, each greater than w), then w linked into the forest. Called for w = n - 1 down
 * to 1; preds[0..end) must be readable (it is read ahead). path: scratch of n entries. */
void hd__semi_step(hd__dom_node *nodes, uint32_t n, uint32_t w, const uint32_t *preds, uint64_t begin,
                   uint64_t end, uint32_t *path);

/* Out of core (budget.h): numbers the nodes (vertex, *n as hd__dfs_number), makes *nodes (n + 1
 * of them, in memory: walked at random) and runs the whole semidominator pass, the predecessors
 * made by an external bucket sort. HD_OK, HD_ENOMEM or HD_EIO. */
int hd__semidominators_external(const hd_dump *d, hd__dom_node **nodes, uint32_t *vertex, uint32_t *n);

#endif
