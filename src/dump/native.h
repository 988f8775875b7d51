/* native.h: what native producers add to a dump (formats/heapdump.md 5.1, 6.2, 8): the frames and
 * the stack tree, a site's stack, an object's address and thread, interior references and a
 * root's offset. A dump without any of them has no hd__native at all (d->native is NULL), so
 * dumps of managed heaps pay nothing; within one, each part is allocated only when used.
 *
 * In memory: a frame 32 bytes (id 8, offset 8, function, file, module and line 4 each), a stack
 * node 16 (id 8, frame 4, parent 4), 4 a site once any site has a stack; 12 an object (address 8,
 * thread 4) up to the last object that has either; 12 an interior reference (edge 4, offset 8),
 * none for the others; 8 a root once any root has an offset. Id maps for frames and stack nodes
 * as for objects.
 *
 * native_read.c fills it while the heapdump reader reads (the hooks below); native_dump.c answers the public
 * accessors. */
#ifndef HD_NATIVE_H
#define HD_NATIVE_H

#include "dump_internal.h"
#include "lexer.h"

#include <stdbool.h>

struct hd__native_loading; /* raw ids and the object being read, until resolution */

typedef struct hd__native {
    uint32_t nframes, frames_cap;
    uint64_t *frame_id, *frame_offset;
    uint32_t *frame_function, *frame_file, *frame_module, *frame_line; /* strtab offsets; line */
    hd__idmap frame_map;

    uint32_t nstacks, stacks_cap;
    uint64_t *stack_id;
    uint32_t *stack_frame;  /* frame index */
    uint32_t *stack_parent; /* stack node index of the caller, or HD_NONE */
    hd__idmap stack_map;

    uint32_t nsite_stacks, site_stacks_cap; /* site_stack covers sites [0, nsite_stacks) */
    uint32_t *site_stack;   /* innermost stack node index, or HD_NONE */

    uint32_t nobjects, objects_cap; /* covers objects [0, nobjects): the last with either + 1 */
    uint64_t *obj_address;  /* 0: unknown */
    uint32_t *obj_thread;   /* 0: unknown */

    uint64_t ninterior, interior_cap;
    uint32_t *interior_edge;  /* edge indices, increasing */
    uint64_t *interior_offset;

    uint32_t nroot_offsets, root_offsets_cap; /* covers roots [0, nroot_offsets) */
    uint64_t *root_offset;

    struct hd__native_loading *loading;
} hd__native;

void hd__native_free(hd__native *n);
/* Bytes the native parts hold (hd_dump_memory's "native"). */
uint64_t hd__native_memory(const hd__native *n);

/* --- the hooks the heapdump reader calls (read_records.c, read_split.c, read_resolve.c) ------- */
typedef struct loader loader;
int hd__native_parse_frame(loader *L); /* one element of "frames" */
int hd__native_parse_stack(loader *L); /* one element of "stacks" */
/* An object's "interior", "address" or "thread" (key), held until the record is kept or dropped. */
int hd__native_object_member(loader *L, const char *key);
/* The record being read became object o, its references starting at edge first_edge. */
int hd__native_object_keep(loader *L, uint32_t o, uint64_t first_edge);
void hd__native_object_drop(hd_dump *d);
/* Site s (the element being read) names stack node id. */
int hd__native_site_stack(loader *L, uint32_t s, uint64_t id);
int hd__native_root_offset(loader *L, uint32_t r, uint64_t offset);
/* After the document: stack ids to indices, with dangling ids and loops reported. */
int hd__native_resolve(loader *L);
/* Appends what a second thread read for objects [n1, ..) and edges [e1, ..) (part p, which read
 * only objects). false when out of memory. */
bool hd__native_merge(hd_dump *d, hd_dump *p, uint32_t n1, uint64_t e1);

#endif
