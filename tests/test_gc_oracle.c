/* test_gc_oracle.c: the collector against an oracle. Random graphs of nodes with random
 * mutations (link, unlink, drop and take external references, collections of every generation,
 * automatic ones all along) and finalizers that resurrect or allocate. The oracle mirrors every
 * edge and every reference the test holds; after each full collection exactly the nodes it finds
 * unreachable from the test's references are gone, and every other node is intact: same edges,
 * reference count equal to the references the oracle knows of. Nodes also hold objects the
 * collector does not examine (pooled ints, a malloc'd str, an untracked list), made between the
 * nodes, so that a collection's visits meet leaves and containers from pools side by side. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hm.h"

enum { K = 3, MAXN = 12000, OPS = 3000, CHECK_EVERY = 97 };

enum mode { PLAIN, COUNTS, RESURRECTS, ALLOCATES, MODES };

typedef struct tnode {
    hm_object base;
    int idx;
    hm_object *slot[K];
    hm_object *leaf; /* not a candidate, whatever it is: the oracle ignores it */
} tnode;

typedef struct onode {
    hm_object *obj; /* NULL once freed */
    enum mode mode;
    int edge[K];    /* oracle's copy of the slots: a node index or -1 */
    int ext;        /* references the test holds */
    int indeg;      /* edges into this node from nodes not yet freed */
    int rescued;    /* times it is in the rescue list */
    int fin_runs;
    bool cleared;   /* its clear hook ran: it must be dying */
    bool created;
} onode;

static hm_heap *h;
static hm_object *rescue; /* where resurrecting finalizers put themselves; held by the test */
static onode nodes[MAXN];
static int n_nodes;
static bool tearing_down;
static unsigned rng;

static unsigned next_rand(void)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 16) & 0x7fff;
}

static const char *const slot_names[K] = {"s0", "s1", "s2"};

static int tnode_traverse(hm_object *self, hm_visit_fn visit, void *arg)
{
    tnode *n = (tnode *)self;
    for (int k = 0; k < K; k++)
        HM_VISIT(n->slot[k], HM_EDGE_NAMED(slot_names[k]));
    HM_VISIT(n->leaf, HM_EDGE_NAMED("leaf"));
    return 0;
}

/* Every change of a slot goes through here: the oracle first, then the object, then the drop of
 * the old target (which may run finalizers that look at the oracle). */
static void set_edge(int a, int k, int b)
{
    onode *o = &nodes[a];
    if (o->edge[k] >= 0)
        nodes[o->edge[k]].indeg--;
    o->edge[k] = b;
    if (b >= 0)
        nodes[b].indeg++;
    hm_setref(&((tnode *)o->obj)->slot[k], b >= 0 ? nodes[b].obj : NULL);
}

/* The oracle follows a clear, so that its counts stay right, but remembers it: a node the
 * collector cleared and that then survives is a node the collector broke. */
static void tnode_clear(hm_object *self)
{
    tnode *n = (tnode *)self;
    nodes[n->idx].cleared = true;
    for (int k = 0; k < K; k++)
        if (n->slot[k])
            set_edge(n->idx, k, -1);
    hm_setref(&n->leaf, NULL);
}

static void tnode_release(hm_object *self)
{
    onode *o = &nodes[((tnode *)self)->idx];
    if (!tearing_down) {
        cr_assert_eq(o->ext, 0, "node %d freed while the test holds it", ((tnode *)self)->idx);
        cr_assert_eq(o->indeg, 0, "node %d freed while referenced", ((tnode *)self)->idx);
        cr_assert_eq(o->rescued, 0);
        if (o->mode != PLAIN)
            cr_assert_eq(o->fin_runs, 1, "node %d freed without its finalizer", ((tnode *)self)->idx);
    }
    o->obj = NULL;
}

static int new_node(enum mode mode);

static void tnode_finalize(hm_object *self)
{
    int i = ((tnode *)self)->idx;
    onode *o = &nodes[i];
    cr_assert_eq(o->fin_runs, 0, "finalizer of node %d ran twice", i);
    o->fin_runs++;
    if (o->mode == RESURRECTS) {
        hm_list_append(rescue, self);
        o->rescued++;
    } else if (o->mode == ALLOCATES) {
        int j = new_node(PLAIN);
        if (j >= 0) {
            set_edge(i, 0, j);
            nodes[j].ext--;
            hm_decref(nodes[j].obj);
        }
    }
}

static const hm_type plain_type = {
    .name = "T", .basicsize = sizeof(tnode), .flags = HM_TYPE_GC,
    .traverse = tnode_traverse, .clear = tnode_clear, .release = tnode_release,
};
static const hm_type fin_type = {
    .name = "TF", .basicsize = sizeof(tnode), .flags = HM_TYPE_GC,
    .traverse = tnode_traverse, .clear = tnode_clear, .release = tnode_release,
    .finalize = tnode_finalize,
};

/* A leaf of the nodes' own size: the same size class. */
static const hm_type leaf_type = {.name = "L", .basicsize = sizeof(tnode)};

/* Something for a node's leaf slot, made right after it. */
static hm_object *new_leaf(int i)
{
    static char big[700];
    switch (next_rand() % 6) {
    case 0:
        return NULL;
    case 1: /* an untracked container: read, never a candidate */
    {
        hm_object *l = hm_list_new(h);
        hm_gc_untrack(l);
        return l;
    }
    case 2: /* larger than any pool block: from malloc */
        memset(big, 'a' + i % 26, sizeof big - 1);
        return hm_str_new(h, big);
    case 3:
        return hm_object_new(h, &leaf_type);
    default:
        return hm_int_new(h, 1000 + i);
    }
}

/* A new node the test holds one reference to; -1 when the table is full. */
static int new_node(enum mode mode)
{
    if (n_nodes >= MAXN)
        return -1;
    hm_object *obj = hm_object_new(h, mode == PLAIN ? &plain_type : &fin_type);
    cr_assert_not_null(obj);
    int i = n_nodes++; /* after the allocation: it may have run finalizers that made nodes */
    ((tnode *)obj)->idx = i;
    nodes[i] = (onode){.obj = obj, .mode = mode, .edge = {-1, -1, -1}, .ext = 1, .created = true};
    hm_object *leaf = new_leaf(i); /* may collect: the node is in the oracle by now */
    ((tnode *)obj)->leaf = leaf;
    return i;
}

/* A random node that still exists (reachable or not), or -1. */
static int pick_node(void)
{
    if (n_nodes == 0)
        return -1;
    for (int tries = 0; tries < 20; tries++) {
        /* Half the time among the latest nodes: chains and small cycles form. */
        int span = (next_rand() & 1) && n_nodes > 16 ? 16 : n_nodes;
        int i = n_nodes - 1 - (int)(next_rand() % (unsigned)span);
        if (nodes[i].obj)
            return i;
    }
    return -1;
}

static int pick_held(void)
{
    for (int tries = 0; tries < 40; tries++) {
        int i = pick_node();
        if (i >= 0 && nodes[i].ext > 0)
            return i;
    }
    return -1;
}

/* Reachability from the test's references, over the oracle's edges. */
static void reachable(bool *seen)
{
    static int stack[MAXN];
    int top = 0;
    for (int i = 0; i < n_nodes; i++) {
        seen[i] = false;
        if (nodes[i].obj && (nodes[i].ext > 0 || nodes[i].rescued > 0)) {
            seen[i] = true;
            stack[top++] = i;
        }
    }
    while (top > 0) {
        int i = stack[--top];
        for (int k = 0; k < K; k++) {
            int j = nodes[i].edge[k];
            if (j >= 0 && !seen[j]) {
                cr_assert_not_null(nodes[j].obj, "edge %d -> %d to a freed node", i, j);
                seen[j] = true;
                stack[top++] = j;
            }
        }
    }
}

static void check_after_full_collection(int seed, int op)
{
    static bool seen[MAXN];
    reachable(seen);
    for (int i = 0; i < n_nodes; i++) {
        onode *o = &nodes[i];
        if (!seen[i]) {
            cr_assert_null(o->obj, "seed %d op %d: node %d unreachable but alive", seed, op, i);
            continue;
        }
        cr_assert_not_null(o->obj, "seed %d op %d: node %d reachable but freed", seed, op, i);
        tnode *t = (tnode *)o->obj;
        cr_assert_eq(t->idx, i);
        cr_assert(!o->cleared, "seed %d op %d: node %d survived its clear", seed, op, i);
        for (int k = 0; k < K; k++) {
            hm_object *want = o->edge[k] >= 0 ? nodes[o->edge[k]].obj : NULL;
            cr_assert_eq(t->slot[k], want, "seed %d op %d: node %d slot %d changed", seed, op, i, k);
        }
        size_t rc = (size_t)(o->ext + o->indeg + o->rescued);
        cr_assert_eq(hm_object_refcount(o->obj), rc, "seed %d op %d: node %d count %zu, oracle %zu", seed,
                     op, i, hm_object_refcount(o->obj), rc);
    }
}

static void run_seed(int seed)
{
    h = hm_heap_new();
    rng = (unsigned)seed;
    n_nodes = 0;
    tearing_down = false;
    rescue = hm_list_new(h);
    hm_gc_set_threshold(h, 5 + seed % 20, 1 + seed % 4, 1 + seed % 3);

    for (int op = 0; op < OPS; op++) {
        unsigned what = next_rand() % 100;
        if (what < 20) {
            new_node((enum mode)(next_rand() % MODES));
        } else if (what < 50) { /* link */
            int a = pick_node(), b = pick_node();
            if (a >= 0 && b >= 0)
                set_edge(a, (int)(next_rand() % K), b);
        } else if (what < 60) { /* unlink */
            int a = pick_node();
            if (a >= 0)
                set_edge(a, (int)(next_rand() % K), -1);
        } else if (what < 80) { /* drop an external reference */
            int a = pick_held();
            if (a >= 0) {
                nodes[a].ext--;
                hm_decref(nodes[a].obj);
            }
        } else if (what < 85) { /* take one, even to garbage not collected yet */
            int a = pick_node();
            if (a >= 0) {
                nodes[a].ext++;
                hm_incref(nodes[a].obj);
            }
        } else if (what < 90) { /* let a rescued node go */
            size_t n = hm_list_len(rescue);
            if (n) {
                hm_object *o = hm_list_pop(rescue, next_rand() % n);
                nodes[((tnode *)o)->idx].rescued--;
                hm_decref(o);
            }
        } else if (what < 95) {
            hm_gc_collect(h, (int)(next_rand() % 2), NULL);
        } else {
            hm_gc_collect(h, HM_GC_FULL, NULL);
            check_after_full_collection(seed, op);
        }
        if (op % CHECK_EVERY == 0) {
            hm_gc_collect(h, HM_GC_FULL, NULL);
            check_after_full_collection(seed, op);
        }
    }

    /* Let everything go. Finalizers may still rescue nodes, but each runs once: the rescue list
     * ends up empty after a few rounds, and then nothing may be left. */
    for (int i = 0; i < n_nodes; i++) {
        while (nodes[i].ext > 0 && nodes[i].obj) {
            nodes[i].ext--;
            hm_decref(nodes[i].obj);
        }
    }
    for (int round = 0; hm_list_len(rescue) > 0 || round < 2; round++) {
        cr_assert_lt(round, 100);
        for (int i = 0; i < n_nodes; i++)
            nodes[i].rescued = 0;
        hm_list_clear(rescue);
        hm_gc_collect(h, HM_GC_FULL, NULL);
    }
    hm_decref(rescue);
    check_after_full_collection(seed, OPS);
    hm_heap_stats st;
    hm_heap_get_stats(h, &st);
    cr_assert_eq(st.objects, 0, "seed %d: %zu objects left", seed, st.objects);
    tearing_down = true;
    cr_assert_eq(hm_heap_destroy(h, NULL), 0);
}

Test(oracle, fixed_seed)
{
    run_seed(12345);
}

Test(oracle, many_seeds)
{
    for (int seed = 1; seed <= 40; seed++)
        run_seed(seed);
}
