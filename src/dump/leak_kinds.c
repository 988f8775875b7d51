/* leak_kinds.c: memcheck's leak categories over a dump (see hd_leak_kinds in heapdump.h).
 *
 * Two passes, as memcheck's leak checker makes them. The first marks from the roots: a start
 * pointer from a root or from a still-reachable block makes its target still reachable; any
 * other pointer (an interior one, or any pointer out of a possibly lost block) makes an unreached
 * target possibly lost. A block is rescanned when its state rises, so the marks are a fixpoint
 * whatever the order. The second pass visits the unreached blocks in address order; each one
 * still unreached then leads a clique: everything unreached it reaches, interior pointers or not,
 * is indirectly lost under it, former leaders included (their cliques join the new one). The
 * leaders left are the definitely lost blocks. */
#include "analysis.h"
#include "native.h"

#include <stdlib.h>

/* One bit per edge: set when the edge points inside its target. NULL when no edge does. */
static uint8_t *interior_bits(const hd_dump *d, int *rc)
{
    const hd__native *n = d->native;
    *rc = HD_OK;
    if (!n || !n->ninterior)
        return NULL;
    uint8_t *bits = calloc(d->nedges / 8 + 1, 1);
    if (!bits) {
        *rc = HD_ENOMEM;
        return NULL;
    }
    for (uint64_t i = 0; i < n->ninterior; i++)
        bits[n->interior_edge[i] / 8] |= (uint8_t)(1u << (n->interior_edge[i] % 8));
    return bits;
}

static int is_interior(const uint8_t *bits, uint64_t e)
{
    return bits && (bits[e / 8] >> (e % 8) & 1);
}

/* Raises target t by one pointer from a prior that is definite (a root, or a still reachable
 * block) or not; pushes it when its state rose and it is not already waiting. */
static void reach(uint8_t *kind, uint8_t *pending, uint32_t *stack, uint32_t *top, uint32_t t,
                  int start_pointer, int prior_definite)
{
    if (kind[t] == HD_LEAK_REACHABLE)
        return;
    if (start_pointer && prior_definite)
        kind[t] = HD_LEAK_REACHABLE;
    else if (kind[t] == HD_LEAK_DEFINITE) /* unreached */
        kind[t] = HD_LEAK_POSSIBLE;
    else
        return;
    if (!pending[t]) {
        pending[t] = 1;
        stack[(*top)++] = t;
    }
}

static void mark_from_roots(const hd_dump *d, const uint8_t *bits, uint8_t *kind, uint8_t *pending,
                            uint32_t *stack)
{
    uint32_t top = 0;
    for (uint32_t r = 0; r < d->nroots; r++)
        reach(kind, pending, stack, &top, d->root_object[r], hd_root_offset(d, r) == 0, 1);
    while (top) {
        uint32_t o = stack[--top];
        pending[o] = 0;
        int definite = kind[o] == HD_LEAK_REACHABLE; /* as it is now, not when it was pushed */
        for (uint64_t e = d->edge_offset[o]; e < d->edge_offset[o + 1]; e++)
            reach(kind, pending, stack, &top, d->edge_target[e], !is_interior(bits, e), definite);
    }
}

typedef struct placed { uint64_t address; uint32_t object; } placed;

static int by_address(const void *a, const void *b)
{
    const placed *x = a, *y = b;
    if (x->address != y->address)
        return x->address < y->address ? -1 : 1;
    return (x->object > y->object) - (x->object < y->object);
}

/* The unreached blocks in address order (dump order where addresses are unknown or equal). */
static uint32_t *unreached_in_address_order(const hd_dump *d, const uint8_t *kind, uint32_t *count)
{
    uint32_t n = 0;
    for (uint32_t o = 0; o < d->nobjects; o++)
        n += kind[o] == HD_LEAK_DEFINITE;
    placed *p = malloc(((size_t)n + 1) * sizeof *p);
    uint32_t *order = malloc(((size_t)n + 1) * sizeof *order);
    if (!p || !order) {
        free(p);
        free(order);
        return NULL;
    }
    n = 0;
    for (uint32_t o = 0; o < d->nobjects; o++)
        if (kind[o] == HD_LEAK_DEFINITE)
            p[n++] = (placed){hd_object_address(d, o), o};
    qsort(p, n, sizeof *p, by_address);
    for (uint32_t i = 0; i < n; i++)
        order[i] = p[i].object;
    free(p);
    *count = n;
    return order;
}

/* Cliques: leader[x] is the leader whose walk claimed x; chains of absorbed leaders are followed
 * to the definitely lost block at their end afterwards. */
static int form_cliques(const hd_dump *d, uint8_t *kind, uint32_t *leader, uint32_t *stack)
{
    uint32_t n;
    uint32_t *order = unreached_in_address_order(d, kind, &n);
    if (!order)
        return HD_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t lead = order[i], top = 0;
        if (kind[lead] != HD_LEAK_DEFINITE)
            continue; /* claimed by an earlier leader */
        stack[top++] = lead;
        while (top) {
            uint32_t o = stack[--top];
            for (uint64_t e = d->edge_offset[o]; e < d->edge_offset[o + 1]; e++) {
                uint32_t t = d->edge_target[e];
                if (kind[t] != HD_LEAK_DEFINITE || t == lead)
                    continue;
                kind[t] = HD_LEAK_INDIRECT;
                leader[t] = lead;
                stack[top++] = t;
            }
        }
    }
    for (uint32_t i = 0; i < n; i++) { /* to the end of each chain, compressing it */
        uint32_t x = order[i], end = x;
        while (kind[end] == HD_LEAK_INDIRECT)
            end = leader[end];
        while (kind[x] == HD_LEAK_INDIRECT) {
            uint32_t next = leader[x];
            leader[x] = end;
            x = next;
        }
    }
    free(order);
    return HD_OK;
}

/* --- loss records ------------------------------------------------------------------------------ */

static int by_size(const void *a, const void *b)
{
    const hd_loss_record *x = a, *y = b;
    uint64_t tx = hd__add_sat(x->bytes, x->indirect_bytes), ty = hd__add_sat(y->bytes, y->indirect_bytes);
    if (tx != ty)
        return tx < ty ? -1 : 1;
    if (x->blocks != y->blocks)
        return x->blocks < y->blocks ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    if (x->stack != y->stack)
        return x->stack < y->stack ? -1 : 1;
    return (x->site > y->site) - (x->site < y->site);
}

/* The group of an object's loss record: its site's stack node, else its site (after the stack
 * nodes), else the group of objects without a site (the last). */
static uint32_t group_of(const hd_dump *d, uint32_t o, uint32_t nstacks)
{
    uint32_t site = d->obj_site[o];
    if (site == HD_NONE)
        return nstacks + d->nsites;
    uint32_t stack = hd_site_stack(d, site);
    return stack != HD_NONE ? stack : nstacks + site;
}

/* Objects by group in one counting sort (groups are dense), then one record per kind present in
 * each group; records sorted by size at the end, which are far fewer than objects. */
static int loss_records(const hd_dump *d, hd_leak_kinds *k)
{
    uint32_t n = d->nobjects, nstacks = hd_stack_count(d), ngroups = nstacks + d->nsites + 1;
    uint32_t *start = calloc((size_t)ngroups + 1, sizeof *start);
    uint32_t *order = malloc(((size_t)n + 1) * sizeof *order);
    uint64_t *indirect = calloc((size_t)n + 1, sizeof *indirect); /* per leader */
    /* A record per kind present in a group: never more than the objects, nor than that. */
    uint64_t most = (uint64_t)ngroups * HD_LEAK_KINDS < n ? (uint64_t)ngroups * HD_LEAK_KINDS : n;
    k->records = malloc(((size_t)most + 1) * sizeof *k->records);
    if (!start || !order || !indirect || !k->records) {
        free(start);
        free(order);
        free(indirect);
        return HD_ENOMEM;
    }
    for (uint32_t o = 0; o < n; o++) {
        start[group_of(d, o, nstacks) + 1]++;
        if (k->kind[o] == HD_LEAK_INDIRECT)
            indirect[k->leader[o]] = hd__add_sat(indirect[k->leader[o]], d->obj_size[o]);
    }
    for (uint32_t g = 0; g < ngroups; g++)
        start[g + 1] += start[g];
    for (uint32_t o = 0; o < n; o++) /* stable: a group's objects stay in dump order */
        order[start[group_of(d, o, nstacks)]++] = o;
    for (uint32_t i = 0; i < n;) {
        uint32_t g = group_of(d, order[i], nstacks), slot[HD_LEAK_KINDS];
        for (int kind = 0; kind < HD_LEAK_KINDS; kind++)
            slot[kind] = HD_NONE;
        for (; i < n && group_of(d, order[i], nstacks) == g; i++) {
            uint32_t o = order[i], kind = k->kind[o], site = d->obj_site[o];
            if (slot[kind] == HD_NONE) {
                slot[kind] = k->nrecords++;
                k->records[slot[kind]] = (hd_loss_record){
                    .kind = (enum hd_leak_kind)kind, .site = site, .example = o,
                    .stack = site == HD_NONE ? HD_NONE : hd_site_stack(d, site)};
            }
            hd_loss_record *r = &k->records[slot[kind]];
            r->blocks++;
            r->bytes = hd__add_sat(r->bytes, d->obj_size[o]);
            r->indirect_bytes = hd__add_sat(r->indirect_bytes, indirect[o]);
        }
    }
    qsort(k->records, k->nrecords, sizeof *k->records, by_size);
    free(start);
    free(order);
    free(indirect);
    return HD_OK;
}

/* --- entry points ------------------------------------------------------------------------------ */

void hd_leak_kinds_free(hd_leak_kinds *k)
{
    if (!k)
        return;
    free(k->kind);
    free(k->leader);
    free(k->records);
    free(k);
}

const char *hd_leak_kind_name(enum hd_leak_kind kind)
{
    static const char *const names[HD_LEAK_KINDS] = {"still reachable", "possibly lost",
                                                     "indirectly lost", "definitely lost"};
    return (unsigned)kind < HD_LEAK_KINDS ? names[kind] : "?";
}

int hd_leak_kinds_compute(const hd_dump *d, hd_leak_kinds **out)
{
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    if (!d)
        return HD_EINVAL;
    uint32_t n = d->nobjects;
    int rc;
    uint8_t *bits = interior_bits(d, &rc);
    hd_leak_kinds *k = calloc(1, sizeof *k);
    uint8_t *pending = calloc((size_t)n + 1, 1);
    uint32_t *stack = malloc(((size_t)n + 1) * sizeof *stack);
    if (k) {
        k->nobjects = n;
        k->kind = malloc((size_t)n + 1);
        k->leader = malloc(((size_t)n + 1) * sizeof *k->leader);
    }
    if (rc == HD_OK && (!k || !pending || !stack || !k->kind || !k->leader))
        rc = HD_ENOMEM;
    if (rc == HD_OK) {
        for (uint32_t o = 0; o < n; o++) {
            k->kind[o] = HD_LEAK_DEFINITE; /* unreached, until a pass says otherwise */
            k->leader[o] = HD_NONE;
        }
        mark_from_roots(d, bits, k->kind, pending, stack);
        rc = form_cliques(d, k->kind, k->leader, stack);
    }
    if (rc == HD_OK) {
        for (uint32_t o = 0; o < n; o++) {
            k->blocks[k->kind[o]]++;
            k->bytes[k->kind[o]] = hd__add_sat(k->bytes[k->kind[o]], d->obj_size[o]);
        }
        rc = loss_records(d, k);
    }
    free(bits);
    free(pending);
    free(stack);
    if (rc)
        hd_leak_kinds_free(k);
    else
        *out = k;
    return rc;
}
