/* binary_check.c: what the values of a binary index's sections must be, beyond their checksums
 * (formats/heapdump-binary.md §7): every value that indexes something against what it indexes,
 * element by element or against the element before, so that a chunk is checked on its own; and
 * what only the whole section can show (totals, chains that must end), once all of it is
 * verified. The reader (binary_read.c) decides when each runs; these read only the file's bytes.
 */
#include "binary_reader.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

/* Every element of a uint32 section below limit, or HD_NONE when none_ok. */
static int below(reader *r, uint32_t id, span s, uint64_t limit, bool none_ok)
{
    const uint32_t *a = raw(r, id);
    for (uint64_t i = s.from; i < s.to; i++)
        if (a[i] >= limit && !(none_ok && a[i] == HD_NONE))
            return hd__hdx_fail_in(r, id, i, "%u is out of range (below %llu%s)", a[i], (unsigned long long)limit,
                                   none_ok ? " or none" : "");
    return HD_OK;
}

/* Every byte of a uint8 section made of known flags, at most max, or also. */
static int bytes_ok(reader *r, uint32_t id, span s, unsigned known, unsigned max, unsigned also, const char *what)
{
    const uint8_t *a = raw(r, id);
    for (uint64_t i = s.from; i < s.to; i++)
        if ((a[i] & ~known) && a[i] > max && a[i] != also)
            return hd__hdx_fail_in(r, id, i, "%s 0x%x", what, a[i]);
    return HD_OK;
}

/* The id map answers by probing its slots: each slot is empty or an object index + 1; a hashed
 * map has a power of two of them (a probe gives up after visiting every slot, hd__idmap_find,
 * so a full map cannot make it loop) and compares the key it finds. A direct map compares none,
 * so each of its slots must hold the object whose id it stands for (the id read from the file's
 * bytes, §7.2): a lookup never answers with an object of another id. */
static int check_id_map(reader *r, span s)
{
    uint64_t nslots = r->at[HDX_OBJ_MAP]->count;
    if (!r->m.map_direct && (nslots & (nslots - 1)))
        return hd__hdx_fail_in(r, HDX_OBJ_MAP, 0, "not a valid id map");
    int rc = below(r, HDX_OBJ_MAP, s, r->m.nobjects + 1, false);
    if (rc || !r->m.map_direct)
        return rc;
    const uint32_t *slots = raw(r, HDX_OBJ_MAP);
    const uint64_t *ids = raw(r, HDX_OBJ_ID);
    for (uint64_t j = s.from; j < s.to; j++)
        if (slots[j] && ids[slots[j] - 1] - r->m.map_base != j) {
            if ((rc = hd__hdx_verify_element(r, HDX_OBJ_ID, slots[j] - 1))) /* the id may be the damaged one */
                return rc;
            return hd__hdx_fail_in(r, HDX_OBJ_MAP, j, "holds object %u, whose id is not %llu", slots[j] - 1,
                                   (unsigned long long)(r->m.map_base + j));
        }
    return HD_OK;
}

/* The whole id map holds as many objects as the dump has. */
static int check_id_map_count(reader *r)
{
    const uint32_t *slots = raw(r, HDX_OBJ_MAP);
    uint64_t used = 0;
    for (uint64_t j = 0; j < r->at[HDX_OBJ_MAP]->count; j++)
        used += slots[j] != 0;
    if (r->m.nobjects && (used != r->m.nobjects || r->m.map_used != r->m.nobjects))
        return hd__hdx_fail_in(r, HDX_OBJ_MAP, 0, "holds %llu objects, not %llu", (unsigned long long)used,
                               (unsigned long long)r->m.nobjects);
    return HD_OK;
}

/* Whether off[k] breaks offsets that rise from 0 to end (strictly: no range is empty), where
 * last is the last element; the one before is read as the file has it. */
static bool breaks_offsets(const uint32_t *off, uint64_t k, uint64_t last, uint64_t end, bool strict)
{
    return (k == 0 && off[0] != 0) || (k > 0 && (off[k] < off[k - 1] || (strict && off[k] == off[k - 1]))) ||
           off[k] > end || (k == last && off[k] != end);
}

/* Each offset of the span (EDGE_OFFSET, REF_BLOCK: CSR offsets into the edges) is at most
 * nedges and not below the one before it, which is read even when it lies in a chunk not yet
 * verified: the comparison is a fact about the file's bytes, and that chunk is verified before
 * any of them is used (§7.2 of the format). The last is nedges. */
static int check_offsets(reader *r, uint32_t id, span s)
{
    const uint32_t *off = raw(r, id);
    uint64_t last = r->at[id]->count - 1;
    for (uint64_t o = s.from; o < s.to; o++)
        if (breaks_offsets(off, o, last, r->m.nedges, false))
            return hd__hdx_fail_in(r, id, o, "%u breaks the increasing offsets from 0 to %llu", off[o],
                                   (unsigned long long)r->m.nedges);
    return HD_OK;
}

/* REF_EDGE's entries of each block of targets (REF_BLOCK) are edges to targets of that block,
 * in increasing (target, edge) order. So the entries of the verified chunks are distinct edges
 * (an edge has one target, in one block), and once every chunk is verified, as there are nedges
 * of them, every edge is there exactly once. A block's completeness is thus a fact about the
 * whole section (a resealed edit can drop an entry and repeat another in a block not yet
 * verified): until then the referrers are answered as the file has them, as DOM_TOP's ranking
 * is. Target and block are read from the file's bytes; when they disagree, the element to blame
 * is verified first. */
static int check_ref_edges(reader *r, span s)
{
    const uint32_t *edge = raw(r, HDX_REF_EDGE), *block = raw(r, HDX_REF_BLOCK), *dst = raw(r, HDX_EDGE_TARGET);
    uint64_t nblocks = r->at[HDX_REF_BLOCK]->count - 1, m = r->m.nedges, lo = 0, hi = nblocks;
    while (hi - lo > 1) { /* the block holding s.from: the last one starting at or before it */
        uint64_t mid = lo + (hi - lo) / 2;
        *(block[mid] <= s.from ? &lo : &hi) = mid;
    }
    int rc;
    for (uint64_t j = s.from, b = lo; j < s.to; j++) {
        while (b + 1 < nblocks && block[b + 1] <= j)
            b++;
        uint32_t e = edge[j], pe = j ? edge[j - 1] : 0;
        uint64_t t0 = b << r->ref_block_bits;
        bool ok = e < m && block[b] <= j && j < block[b + 1] && dst[e] >= t0 && dst[e] - t0 < (1u << r->ref_block_bits);
        if (ok && j > block[b]) /* after the entry before it, by target then edge */
            ok = pe < m && (dst[pe] < dst[e] || (dst[pe] == dst[e] && pe < e));
        if (ok)
            continue;
        if ((e < m && (rc = hd__hdx_verify_element(r, HDX_EDGE_TARGET, e))) ||
            (rc = hd__hdx_verify_element(r, HDX_REF_BLOCK, b)) || (rc = hd__hdx_verify_element(r, HDX_REF_BLOCK, b + 1)))
            return rc;
        return hd__hdx_fail_in(r, HDX_REF_EDGE, j, "edge %u is not the next referrer of block %llu's objects", e,
                               (unsigned long long)b);
    }
    return HD_OK;
}

/* Follows each chain of next[] (HD_NONE ends one) and fails on a chain that comes back on
 * itself: mark is 0 unvisited, 1 on the chain being walked, 2 known to end. */
static int chains_end(reader *r, uint32_t id, uint32_t skip)
{
    const uint32_t *next = raw(r, id);
    uint32_t n = (uint32_t)r->at[id]->count;
    uint8_t *mark = calloc(n ? n : 1, 1);
    if (!mark)
        return hd__error_oom(r->err, r->name);
    int rc = HD_OK;
    for (uint32_t s = 0; s < n && !rc; s++) {
        uint32_t x = s;
        while (x != HD_NONE && x != skip && mark[x] == 0) {
            mark[x] = 1;
            x = next[x];
        }
        if (x != HD_NONE && x != skip && mark[x] == 1)
            rc = hd__hdx_fail_in(r, id, x, "a chain of parents loops");
        for (x = s; x != HD_NONE && x != skip && mark[x] == 1; x = next[x])
            mark[x] = 2;
    }
    free(mark);
    return rc;
}

/* META's total of the shallow sizes is the sum of OBJ_SIZE (saturating, as hd_total_size). */
static int check_total_size(reader *r)
{
    const uint64_t *size = raw(r, HDX_OBJ_SIZE);
    uint64_t total = 0;
    for (uint64_t o = 0; o < r->m.nobjects; o++)
        total = total + size[o] < total ? UINT64_MAX : total + size[o];
    if (r->has_total_size && total != r->m.total_size)
        return hd__hdx_fail_in(r, HDX_META, 0, "total_size disagrees with OBJ_SIZE");
    return HD_OK;
}

static int check_interior(reader *r, span s)
{
    const uint32_t *edge = raw(r, HDX_INTERIOR_EDGE);
    for (uint64_t i = s.from ? s.from : 1; i < s.to; i++)
        if (edge[i] <= edge[i - 1])
            return hd__hdx_fail_in(r, HDX_INTERIOR_EDGE, i, "not increasing");
    return below(r, HDX_INTERIOR_EDGE, s, r->m.nedges, false);
}

/* Reachability's forest must be walkable: a root object at depth 0 named by its root, every
 * other reached object one deeper than its parent (so walks up end), via an edge index. Whether
 * via really joins parent and object is the checksum's to vouch for, not worth a random read
 * an object here. The objects of the span are checked, over all four arrays and ROOT_OBJECT
 * (read as the file has them: each is verified itself before it is used). */
static int check_reach(reader *r, span sp)
{
    const hdx_meta *m = &r->m;
    const uint8_t *state = raw(r, HDX_REACH_STATE);
    const uint32_t *depth = raw(r, HDX_REACH_DEPTH), *parent = raw(r, HDX_REACH_PARENT), *via = raw(r, HDX_REACH_VIA);
    const uint32_t *root_object = raw(r, HDX_ROOT_OBJECT);
    uint64_t n = m->nobjects;
    for (uint64_t o = sp.from; o < sp.to; o++) {
        uint8_t s = state[o];
        uint32_t dp = depth[o], p = parent[o], v = via[o];
        bool ok = s <= HD_REACH_UNREACHABLE;
        if (ok && s == HD_REACH_UNREACHABLE)
            ok = dp == HD_NONE && p == HD_NONE && v == HD_NONE;
        else if (ok && p == HD_NONE)
            ok = dp == 0 && v < m->nroots && root_object[v] == o;
        else if (ok) /* depths fall by one a step, so a walk up the parents ends */
            ok = p < n && dp != HD_NONE && dp > 0 && depth[p] == dp - 1 && v < m->nedges;
        if (!ok)
            return hd__hdx_fail_in(r, HDX_REACH_STATE, o, "with REACH_DEPTH, REACH_PARENT and REACH_VIA: not a path from a root");
    }
    return HD_OK;
}

/* The forest checked over the blocks of objects that span touches, each block once, though
 * each of the four arrays' chunks asks for its objects (every block whole, so at most
 * REACH_BLOCK objects more than the span: once for all four arrays instead of four times). */
static int check_reach_once(reader *r, span s)
{
    if (!r->reach_checked)
        return check_reach(r, s);
    int rc;
    for (uint64_t b = s.from / REACH_BLOCK; s.from < s.to && b <= (s.to - 1) / REACH_BLOCK; b++) {
        uint64_t end = (b + 1) * REACH_BLOCK < r->m.nobjects ? (b + 1) * REACH_BLOCK : r->m.nobjects;
        if (!r->reach_checked[b] && (rc = check_reach(r, (span){b * REACH_BLOCK, end})))
            return rc;
        r->reach_checked[b] = 1;
    }
    return HD_OK;
}

/* A word's bytes all states (0, 1 or 2): no bit above the lowest two, never both. */
static bool states_ok(uint64_t w)
{
    const uint64_t low2 = 0x0303030303030303ull, bit0 = 0x0101010101010101ull;
    return !(w & ~low2) && !(w & (w >> 1) & bit0);
}

/* Every byte of REACH_STATE in s a known state: eight at a time, as a big heap has millions. */
static int check_states(reader *r, span s)
{
    const uint8_t *state = raw(r, HDX_REACH_STATE);
    uint64_t i = s.from;
    for (uint64_t w; i + 8 <= s.to; i += 8) {
        memcpy(&w, state + i, 8);
        if (!states_ok(w))
            break;
    }
    return bytes_ok(r, HDX_REACH_STATE, (span){i, s.to}, 0, HD_REACH_UNREACHABLE, HD_REACH_UNREACHABLE, "state");
}

/* META's three counts are REACH_STATE's (verified whole by now, so each byte is 0, 1 or 2:
 * the uncollectable ones have bit 0, the unreachable bit 1, counted eight bytes at a time). */
static int check_reach_counts(reader *r)
{
    const hdx_meta *m = &r->m;
    const uint8_t *state = raw(r, HDX_REACH_STATE);
    const uint64_t bit0 = 0x0101010101010101ull;
    uint64_t count[3] = {0, 0, 0}, o = 0;
    for (uint64_t w; o + 8 <= m->nobjects; o += 8) {
        memcpy(&w, state + o, 8);
        count[1] += ((w & bit0) * bit0) >> 56; /* the bytes' sum lands in the top byte */
        count[2] += (((w >> 1) & bit0) * bit0) >> 56;
    }
    for (; o < m->nobjects; o++)
        count[state[o]]++;
    count[0] = m->nobjects - count[1] - count[2];
    if (count[0] != m->nlive || count[1] != m->nuncollectable || count[2] != m->nunreachable)
        return hd__hdx_fail_in(r, HDX_META, 0, "reachability counts disagree with REACH_STATE");
    return HD_OK;
}

/* Immediate dominators: an object, the virtual root or none; a reachable object's dominator is
 * reachable and, with the reachability forest, nearer a root (a dominator lies on the
 * breadth-first path to what it dominates): the depths fall along every chain, so each chain
 * from a reachable object ends at the virtual root (the CLI walks them up to it), proven
 * element by element. Both are read from the file's bytes (§7.2). */
static int check_idoms(reader *r, span s)
{
    const uint32_t *idom = raw(r, HDX_DOM_IDOM);
    const uint32_t *depth = r->used[HDX_REACH_DEPTH] ? raw(r, HDX_REACH_DEPTH) : NULL;
    uint64_t n = r->m.nobjects;
    for (uint64_t o = s.from; o < s.to; o++) {
        uint32_t x = idom[o];
        if (x >= n && x != HD_DOM_ROOT && x != HD_NONE)
            return hd__hdx_fail_in(r, HDX_DOM_IDOM, o, "%u is out of range", x);
        if (x < n && idom[x] == HD_NONE)
            return hd__hdx_fail_in(r, HDX_DOM_IDOM, o, "dominated by %u, which is unreachable", x);
        if (x < n && depth && depth[x] >= depth[o])
            return hd__hdx_fail_in(r, HDX_DOM_IDOM, o, "dominated by %u, which is no nearer a root (REACH_DEPTH)", x);
    }
    return HD_OK;
}

/* META's reachable count is DOM_IDOM's; without the depths, no chain loops. */
static int check_dominators_whole(reader *r)
{
    const uint32_t *idom = raw(r, HDX_DOM_IDOM);
    uint64_t reachable = 0;
    for (uint64_t o = 0; o < r->m.nobjects; o++)
        reachable += idom[o] != HD_NONE;
    if (reachable != r->m.dom_reachable)
        return hd__hdx_fail_in(r, HDX_META, 0, "the reachable count disagrees with DOM_IDOM");
    return r->used[HDX_REACH_DEPTH] ? HD_OK : chains_end(r, HDX_DOM_IDOM, HD_DOM_ROOT);
}

/* Does a retain more than b, as hd_dominators_top ranks them (ties: the lower number)? */
static bool ranks_above(const uint64_t *retained, uint32_t a, uint32_t b)
{
    return retained[a] > retained[b] || (retained[a] == retained[b] && a < b);
}

/* DOM_TOP: reachable objects, each ranking below the one before it. That they are the best of
 * all is a fact about the whole of DOM_RETAINED, checked when it is read whole. */
static int check_dom_top(reader *r, span s)
{
    const uint32_t *top = raw(r, HDX_DOM_TOP), *idom = raw(r, HDX_DOM_IDOM);
    const uint64_t *retained = raw(r, HDX_DOM_RETAINED);
    for (uint64_t i = s.from; i < s.to; i++) {
        uint32_t o = top[i], p = i ? top[i - 1] : 0;
        if (o >= r->m.nobjects || idom[o] == HD_NONE)
            return hd__hdx_fail_in(r, HDX_DOM_TOP, i, "%u is not a reachable object", o);
        if (i && (p >= r->m.nobjects || !ranks_above(retained, p, o)))
            return hd__hdx_fail_in(r, HDX_DOM_TOP, i, "%u does not rank below the object before it", o);
    }
    return HD_OK;
}

/* No reachable object outside DOM_TOP ranks above its last: then it is the ranking's start. */
static int check_dom_top_complete(reader *r)
{
    const hdx_entry *e = r->at[HDX_DOM_TOP];
    if (!e || !r->used[HDX_DOM_TOP] || e->count == 0)
        return HD_OK;
    const uint32_t *top = raw(r, HDX_DOM_TOP), *idom = raw(r, HDX_DOM_IDOM);
    const uint64_t *retained = raw(r, HDX_DOM_RETAINED);
    uint32_t last = top[e->count - 1];
    if (last >= r->m.nobjects) /* DOM_TOP's own check refuses it */
        return HD_OK;
    uint64_t above = 0;
    for (uint32_t o = 0; o < r->m.nobjects; o++)
        above += idom[o] != HD_NONE && (o == last || ranks_above(retained, o, last));
    if (above != e->count)
        return hd__hdx_fail_in(r, HDX_DOM_TOP, 0, "leaves out %llu objects that rank above its last",
                               (unsigned long long)(above - e->count));
    return HD_OK;
}

/* Whether object o is one of CYCLE_DENSE's (o below nobjects, so within it). */
static bool dense_has(const uint64_t *bits, uint32_t o)
{
    return bits[o / 64] >> (o % 64) & 1;
}

/* How many members CYCLE_DENSE has, as the file has it. */
static uint64_t dense_count(reader *r)
{
    const uint64_t *bits = raw(r, HDX_CYCLE_DENSE);
    uint64_t n = 0;
    for (uint64_t i = 0; i < r->at[HDX_CYCLE_DENSE]->count; i++)
        n += (uint64_t)__builtin_popcountll(bits[i]);
    return n;
}

/* CYCLE_DENSE's bits are objects: none past the last object (in the last word). */
static int check_dense_bits(reader *r, span s)
{
    const uint64_t *bits = raw(r, HDX_CYCLE_DENSE);
    uint64_t last = r->at[HDX_CYCLE_DENSE]->count - 1;
    unsigned used = r->m.nobjects % 64;
    if (s.from <= last && last < s.to && used && bits[last] >> used)
        return hd__hdx_fail_in(r, HDX_CYCLE_DENSE, last, "has members past the %llu objects",
                               (unsigned long long)r->m.nobjects);
    return HD_OK;
}

/* CYCLE_START's offsets (of the span) rise strictly from 0 to CYCLE_MEMBER's count: every
 * component has a member. With CYCLE_DENSE, component 0's are there: its range is empty
 * (CYCLE_START[1] = 0). The one before is read as check_offsets reads it. */
static int check_cycle_start(reader *r, span s)
{
    const uint32_t *start = raw(r, HDX_CYCLE_START);
    uint64_t last = r->at[HDX_CYCLE_START]->count - 1, members = r->at[HDX_CYCLE_MEMBER]->count;
    bool dense = r->at[HDX_CYCLE_DENSE];
    for (uint64_t k = s.from; k < s.to; k++)
        if (dense && k == 1 ? start[1] != 0 || (last == 1 && members != 0)
                            : breaks_offsets(start, k, last, members, true))
            return hd__hdx_fail_in(r, HDX_CYCLE_START, k, "%u breaks the rising offsets from 0 to %llu", start[k],
                                   (unsigned long long)members);
    return HD_OK;
}

/* CYCLE_PATH_START's offsets rise strictly from 0 to CYCLE_PATH's count, and no component's
 * cycle is longer than its members are many (CYCLE_START verified first: the bound is its). For
 * CYCLE_DENSE's component the bound is left to the cycle's check, which finds each object it
 * reaches a member not met before: counting the bits here would verify CYCLE_DENSE whenever the
 * index is opened. */
static int check_cycle_path_start(reader *r, span s)
{
    int rc = hd__hdx_verify(r, HDX_CYCLE_START);
    if (rc)
        return rc;
    const uint32_t *start = raw(r, HDX_CYCLE_START), *path = raw(r, HDX_CYCLE_PATH_START);
    uint64_t last = r->at[HDX_CYCLE_PATH_START]->count - 1, edges = r->at[HDX_CYCLE_PATH]->count;
    bool dense = r->at[HDX_CYCLE_DENSE];
    for (uint64_t k = s.from; k < s.to; k++)
        if (breaks_offsets(path, k, last, edges, true) ||
            (k > 0 && !(dense && k == 1) && path[k] - path[k - 1] > start[k] - start[k - 1]))
            return hd__hdx_fail_in(r, HDX_CYCLE_PATH_START, k, "%u breaks the rising offsets from 0 to %llu, a cycle no longer than its component",
                                   path[k], (unsigned long long)edges);
    return HD_OK;
}

/* Each component's members rise (as hd_cycles_find lists them) and no object is in two: nor in
 * CYCLE_DENSE's component, whose bits are read as the file has them (a page for each listed
 * member's), and verified only to blame it when one is set: so that an index whose CYCLE_MEMBER
 * is small, verified when it is opened, does not verify CYCLE_DENSE then too. */
static int check_cycle_members(reader *r)
{
    int rc = hd__hdx_verify(r, HDX_CYCLE_START);
    if (rc)
        return rc;
    const uint32_t *start = raw(r, HDX_CYCLE_START), *member = raw(r, HDX_CYCLE_MEMBER);
    const uint64_t *dense = r->at[HDX_CYCLE_DENSE] ? raw(r, HDX_CYCLE_DENSE) : NULL;
    uint64_t ncycles = r->at[HDX_CYCLE_START]->count - 1;
    uint8_t *seen = calloc(r->m.nobjects / 8 + 1, 1);
    if (!seen)
        return hd__error_oom(r->err, r->name);
    for (uint64_t k = 0; k < ncycles && !rc; k++)
        for (uint32_t i = start[k]; i < start[k + 1] && !rc; i++) {
            uint32_t o = member[i];
            if (i > start[k] && o <= member[i - 1])
                rc = hd__hdx_fail_in(r, HDX_CYCLE_MEMBER, i, "%u does not follow %u in its component", o, member[i - 1]);
            else if ((seen[o / 8] & (1u << (o % 8))) ||
                     (dense && dense_has(dense, o) && !(rc = hd__hdx_verify(r, HDX_CYCLE_DENSE))))
                rc = hd__hdx_fail_in(r, HDX_CYCLE_MEMBER, i, "object %u is in two components", o);
            seen[o / 8] |= (uint8_t)(1u << (o % 8));
        }
    free(seen);
    return rc;
}

/* Whether o is one of the n rising objects at member. */
static bool among(const uint32_t *member, uint32_t n, uint32_t o)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (member[mid] < o)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && member[lo] == o;
}

/* Component k's cycle is one: from its first member, each edge leaves the object reached so far,
 * every object it reaches is another member not met before, and the last edge comes back to the
 * first. The members and the edges' offsets and targets are read as the file has them (§7.2 of
 * the format), each bounded before it indexes, so that the check costs a few pages of them, not
 * their verification (a small CYCLE_PATH is verified when the index is opened). A path that
 * fails may be the fault of one of those instead: they are verified then, to blame the right
 * section. seen (a bit an object) is clear on entry and on return. */
static int check_one_cycle(reader *r, uint64_t k, uint8_t *seen)
{
    const uint32_t *start = raw(r, HDX_CYCLE_START), *member = raw(r, HDX_CYCLE_MEMBER);
    const uint32_t *path_start = raw(r, HDX_CYCLE_PATH_START), *path = raw(r, HDX_CYCLE_PATH);
    const uint32_t *off = raw(r, HDX_EDGE_OFFSET), *target = raw(r, HDX_EDGE_TARGET);
    const uint32_t *members = member + start[k], nmembers = start[k + 1] - start[k];
    const uint64_t *bits = k == 0 && r->at[HDX_CYCLE_DENSE] ? raw(r, HDX_CYCLE_DENSE) : NULL;
    uint64_t n = r->m.nobjects;
    uint32_t first = nmembers ? members[0] : HD_NONE;
    for (uint64_t w = 0; bits && first == HD_NONE && w < r->at[HDX_CYCLE_DENSE]->count; w++)
        if (bits[w])
            first = (uint32_t)(64 * w + (uint64_t)__builtin_ctzll(bits[w]));
    uint32_t at = first, i = path_start[k], to = HD_NONE;
    bool ok = first < n;
    for (; ok && i < path_start[k + 1]; i++) {
        uint32_t e = path[i];
        to = target[e];
        bool last = i + 1 == path_start[k + 1];
        bool in = to < n && (bits ? dense_has(bits, to) : among(members, nmembers, to));
        ok = off[at] <= e && e < off[at + 1] && to < n &&
             (last ? to == first : to != first && in && !(seen[to / 8] & (1u << (to % 8))));
        if (ok)
            seen[to / 8] |= (uint8_t)(1u << (to % 8));
        at = to;
    }
    for (uint32_t j = path_start[k]; j < i; j++)
        if (target[path[j]] < n)
            seen[target[path[j]] / 8] = 0;
    int rc;
    if (ok)
        return HD_OK;
    if ((rc = hd__hdx_verify(r, HDX_CYCLE_MEMBER)) || (rc = hd__hdx_verify(r, HDX_EDGE_OFFSET)) ||
        (rc = hd__hdx_verify(r, HDX_EDGE_TARGET)) || (bits && (rc = hd__hdx_verify(r, HDX_CYCLE_DENSE))))
        return rc;
    return hd__hdx_fail_in(r, HDX_CYCLE_PATH, i - 1, "edge %u (to object %u) strays from a cycle through component %llu's members",
                           path[i - 1], to, (unsigned long long)k);
}

/* Every component's cycle is a cycle of its members (the offsets verified first; they are no
 * bigger than CYCLE_PATH, which has an edge a component at least). */
static int check_cycle_paths(reader *r)
{
    int rc;
    if ((rc = hd__hdx_verify(r, HDX_CYCLE_START)) || (rc = hd__hdx_verify(r, HDX_CYCLE_PATH_START)))
        return rc;
    uint64_t ncycles = r->at[HDX_CYCLE_START]->count - 1;
    uint8_t *seen = calloc(r->m.nobjects / 8 + 1, 1);
    if (!seen)
        return hd__error_oom(r->err, r->name);
    for (uint64_t k = 0; k < ncycles && !rc; k++)
        rc = check_one_cycle(r, k, seen);
    free(seen);
    return rc;
}

/* What the elements of span s of a section must be, beyond its checksum: each check holds
 * element by element (or against the element before), so a chunk is checked on its own. */
int hd__hdx_check_values(reader *r, uint32_t id, span s)
{
    const hdx_meta *m = &r->m;
    const unsigned type_flags = HD_TYPE_GC | HD_TYPE_FINALIZER | HD_TYPE_LEGACY_FINALIZER;
    const unsigned obj_flags = HD_OBJ_TRACKED | HD_OBJ_FINALIZED | HD_OBJ_FROZEN | HD_OBJ_IMMORTAL | HD_OBJ_INTERNED;
    const char *strings = raw(r, id);
    switch (id) {
    case HDX_STRINGS: /* a string runs to the next NUL: the last byte ends every one */
        if ((s.from == 0 && strings[0] != '\0') || (s.to == m->nstrings && strings[m->nstrings - 1] != '\0'))
            return hd__hdx_fail_in(r, HDX_STRINGS, s.from ? s.to - 1 : 0, "does not start and end with a NUL");
        return HD_OK;
    case HDX_TYPE_NAME: case HDX_SITE_FILE: case HDX_SITE_FUNCTION: case HDX_EDGE_NAME: case HDX_ROOT_KIND_NAME:
    case HDX_ROOT_NAME: case HDX_FRAME_FUNCTION: case HDX_FRAME_FILE: case HDX_FRAME_MODULE:
        return below(r, id, s, m->nstrings, false);
    case HDX_OBJ_LABEL: return below(r, id, s, m->nstrings, true);
    case HDX_OBJ_TYPE: return below(r, id, s, m->ntypes, false);
    case HDX_OBJ_SITE: return below(r, id, s, m->nsites, true);
    case HDX_EDGE_TARGET: case HDX_ROOT_OBJECT: case HDX_WEAKREF_OBJECT: case HDX_GC_GARBAGE:
        return below(r, id, s, m->nobjects, false);
    case HDX_WEAKREF_REFERENT: return below(r, id, s, m->nobjects, true);
    case HDX_STACK_FRAME: return below(r, id, s, m->nframes, false);
    case HDX_SITE_STACK: return below(r, id, s, m->nstacks, true);
    case HDX_STACK_PARENT: return below(r, id, s, m->nstacks, true);
    case HDX_INTERIOR_EDGE: return check_interior(r, s);
    case HDX_TYPE_FLAGS: return bytes_ok(r, id, s, type_flags, 0, 0, "unknown flags");
    case HDX_OBJ_FLAGS: return bytes_ok(r, id, s, obj_flags, 0, 0, "unknown flags");
    case HDX_OBJ_GEN: return bytes_ok(r, id, s, 0, 2, HD_GEN_UNKNOWN, "generation");
    case HDX_ROOT_KIND: return bytes_ok(r, id, s, 0, HD_ROOT_OTHER, HD_ROOT_OTHER, "kind");
    case HDX_EDGE_OFFSET: case HDX_REF_BLOCK: return check_offsets(r, id, s);
    case HDX_REF_EDGE: return check_ref_edges(r, s);
    case HDX_DOM_IDOM: return check_idoms(r, s);
    case HDX_DOM_TOP: return check_dom_top(r, s);
    case HDX_OBJ_MAP: return check_id_map(r, s);
    case HDX_REACH_STATE: /* chunk by chunk: a state alone; the rest with the other three */
        if (r->chunk_done[id])
            return check_states(r, s);
        return check_reach_once(r, s);
    case HDX_REACH_DEPTH: case HDX_REACH_PARENT: case HDX_REACH_VIA: return check_reach_once(r, s);
    case HDX_CYCLE_START: return check_cycle_start(r, s);
    case HDX_CYCLE_PATH_START: return check_cycle_path_start(r, s);
    case HDX_CYCLE_MEMBER: return below(r, id, s, m->nobjects, false);
    case HDX_CYCLE_PATH: return below(r, id, s, m->nedges, false);
    case HDX_CYCLE_DENSE: return check_dense_bits(r, s);
    }
    return HD_OK;
}

/* The per-type summary adds up to META's counts: objects to nobjects, bytes to total_size
 * (saturating). It indexes nothing: that is all a reader can hold it against without reading
 * OBJ_TYPE and OBJ_SIZE, which it is there to spare. */
static int check_type_summary(reader *r, uint32_t id)
{
    const uint64_t *a = raw(r, id);
    uint64_t sum = 0;
    for (uint64_t t = 0; t < r->m.ntypes; t++)
        sum = sum + a[t] < sum ? UINT64_MAX : sum + a[t];
    if (id == HDX_TYPE_OBJECTS ? sum != r->m.nobjects : r->has_total_size && sum != r->m.total_size)
        return hd__hdx_fail_in(r, id, 0, "adds up to %llu, META says %llu", (unsigned long long)sum,
                               (unsigned long long)(id == HDX_TYPE_OBJECTS ? r->m.nobjects : r->m.total_size));
    return HD_OK;
}

/* What needs the whole section: run once all of it is verified. */
int hd__hdx_check_whole(reader *r, uint32_t id)
{
    switch (id) {
    case HDX_OBJ_SIZE: return check_total_size(r);
    case HDX_STACK_PARENT: return chains_end(r, id, HD_NONE);
    case HDX_REACH_STATE: return check_reach_counts(r);
    case HDX_DOM_IDOM: return check_dominators_whole(r);
    case HDX_DOM_RETAINED: return check_dom_top_complete(r);
    case HDX_TYPE_OBJECTS: case HDX_TYPE_BYTES: return check_type_summary(r, id);
    case HDX_OBJ_MAP: return check_id_map_count(r);
    case HDX_CYCLE_MEMBER: return check_cycle_members(r);
    case HDX_CYCLE_PATH: return check_cycle_paths(r);
    case HDX_CYCLE_DENSE: /* the component it holds has a member */
        return dense_count(r) ? HD_OK : hd__hdx_fail_in(r, HDX_CYCLE_DENSE, 0, "has no member");
    }
    return HD_OK;
}
