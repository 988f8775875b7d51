/* native_dump.c: the public accessors over a dump's native parts (native.h). Every one answers
 * "unknown" (HD_NONE, 0, "") for a dump without them, so callers need not ask first. */
#include "native.h"

static const char *str(const hd_dump *d, uint32_t off) { return hd__strtab_get(&d->strings, off); }

uint32_t hd_frame_count(const hd_dump *d) { return d->native ? d->native->nframes : 0; }
uint64_t hd_frame_id(const hd_dump *d, uint32_t f) { return d->native->frame_id[f]; }
const char *hd_frame_function(const hd_dump *d, uint32_t f) { return str(d, d->native->frame_function[f]); }
const char *hd_frame_file(const hd_dump *d, uint32_t f) { return str(d, d->native->frame_file[f]); }
uint32_t hd_frame_line(const hd_dump *d, uint32_t f) { return d->native->frame_line[f]; }
const char *hd_frame_module(const hd_dump *d, uint32_t f) { return str(d, d->native->frame_module[f]); }
uint64_t hd_frame_offset(const hd_dump *d, uint32_t f) { return d->native->frame_offset[f]; }

uint32_t hd_stack_count(const hd_dump *d) { return d->native ? d->native->nstacks : 0; }
uint64_t hd_stack_id(const hd_dump *d, uint32_t n) { return d->native->stack_id[n]; }
uint32_t hd_stack_frame(const hd_dump *d, uint32_t n) { return d->native->stack_frame[n]; }
uint32_t hd_stack_parent(const hd_dump *d, uint32_t n) { return d->native->stack_parent[n]; }

uint32_t hd_stack_depth(const hd_dump *d, uint32_t n)
{
    uint32_t depth = 0;
    for (; n != HD_NONE; n = d->native->stack_parent[n])
        depth++;
    return depth;
}

uint32_t hd_site_stack(const hd_dump *d, uint32_t s)
{
    const hd__native *n = d->native;
    return n && s < n->nsite_stacks ? n->site_stack[s] : HD_NONE;
}

uint64_t hd_object_address(const hd_dump *d, uint32_t o)
{
    const hd__native *n = d->native;
    return n && o < n->nobjects ? n->obj_address[o] : 0;
}

uint32_t hd_object_thread(const hd_dump *d, uint32_t o)
{
    const hd__native *n = d->native;
    return n && o < n->nobjects ? n->obj_thread[o] : 0;
}

uint64_t hd_edge_interior_offset(const hd_dump *d, uint64_t e)
{
    const hd__native *n = d->native;
    if (!n)
        return 0;
    uint64_t lo = 0, hi = n->ninterior; /* interior_edge is increasing */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (n->interior_edge[mid] < e)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n->ninterior && n->interior_edge[lo] == e ? n->interior_offset[lo] : 0;
}

uint64_t hd_root_offset(const hd_dump *d, uint32_t r)
{
    const hd__native *n = d->native;
    return n && r < n->nroot_offsets ? n->root_offset[r] : 0;
}

int hd_dump_is_native(const hd_dump *d)
{
    for (uint32_t r = 0; r < d->nroots; r++)
        if (d->root_kind[r] >= HD_ROOT_GLOBAL && d->root_kind[r] <= HD_ROOT_TLS)
            return 1;
    const hd__native *n = d->native;
    for (uint32_t o = 0; n && o < n->nobjects; o++)
        if (n->obj_address[o])
            return 1;
    return 0;
}

uint64_t hd__native_memory(const hd__native *n)
{
    if (!n)
        return 0;
    uint64_t maps = 0;
    if (n->frame_map.slots)
        maps += ((uint64_t)n->frame_map.mask + 1) * sizeof *n->frame_map.slots;
    if (n->stack_map.slots)
        maps += ((uint64_t)n->stack_map.mask + 1) * sizeof *n->stack_map.slots;
    return (uint64_t)n->nframes * 32 + (uint64_t)n->nstacks * 16 + (uint64_t)n->nsite_stacks * 4 +
           (uint64_t)n->nobjects * 12 + n->ninterior * 12 + (uint64_t)n->nroot_offsets * 8 + maps;
}
