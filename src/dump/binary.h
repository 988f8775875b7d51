/* binary.h: the heapdump binary index (.hdx, formats/heapdump-binary.md): the loaded graph's
 * arrays as they sit in memory, one section each, behind a header and a section table.
 *
 * Invariant: a section's bytes are exactly the array the hd_dump (or its hd__native, or a
 * precomputed analysis) points at, so reading is mapping the file and pointing into it. Every
 * number read from the file is checked against the file's size and the counts in META before it
 * is used as an offset or an index (binary_read.c).
 */
#ifndef HD_BINARY_H
#define HD_BINARY_H

#include "dump_internal.h"

#include <stdbool.h>

#define HDX_MAGIC "\x89HDX\r\n\x1a\n"
#define HDX_MAGIC_LEN 8
#define HDX_VERSION 1
#define HDX_HEADER_SIZE 128
#define HDX_ENTRY_SIZE 32

/* The sections: X(name, id, element size). Ids are the file's; names are what errors say. */
#define HDX_SECTION_MAP(X)                                                                        \
    X(META, 1, 8)                                                                                 \
    X(STRINGS, 2, 1)                                                                              \
    X(TYPE_ID, 3, 8) X(TYPE_SIZE, 4, 8) X(TYPE_NAME, 5, 4) X(TYPE_FLAGS, 6, 1)                    \
    X(SITE_ID, 7, 8) X(SITE_FILE, 8, 4) X(SITE_FUNCTION, 9, 4) X(SITE_LINE, 10, 4)                \
    X(OBJ_ID, 11, 8) X(OBJ_SIZE, 12, 8) X(OBJ_TYPE, 13, 4) X(OBJ_SITE, 14, 4)                     \
    X(OBJ_LABEL, 15, 4) X(OBJ_RC, 16, 4) X(OBJ_GEN, 17, 1) X(OBJ_FLAGS, 18, 1)                    \
    X(OBJ_MAP, 19, 4)                                                                             \
    X(EDGE_OFFSET, 20, 4) X(EDGE_TARGET, 21, 4) X(EDGE_NAME, 22, 4)                               \
    X(ROOT_OBJECT, 23, 4) X(ROOT_KIND_NAME, 24, 4) X(ROOT_NAME, 25, 4) X(ROOT_KIND, 26, 1)        \
    X(WEAKREF_OBJECT, 27, 4) X(WEAKREF_REFERENT, 28, 4) X(WEAKREF_CALLBACK, 29, 1)                \
    X(POOL_CLASS, 30, 32) X(GC_GARBAGE, 31, 4)                                                    \
    X(FRAME_ID, 32, 8) X(FRAME_OFFSET, 33, 8) X(FRAME_FUNCTION, 34, 4) X(FRAME_FILE, 35, 4)       \
    X(FRAME_MODULE, 36, 4) X(FRAME_LINE, 37, 4)                                                   \
    X(STACK_ID, 38, 8) X(STACK_FRAME, 39, 4) X(STACK_PARENT, 40, 4) X(SITE_STACK, 41, 4)          \
    X(OBJ_ADDRESS, 42, 8) X(OBJ_THREAD, 43, 4) X(INTERIOR_EDGE, 44, 4) X(INTERIOR_OFFSET, 45, 8)  \
    X(ROOT_OFFSET, 46, 8)                                                                         \
    X(REACH_STATE, 47, 1) X(REACH_DEPTH, 48, 4) X(REACH_PARENT, 49, 4) X(REACH_VIA, 50, 4)        \
    X(DOM_IDOM, 51, 4) X(DOM_RETAINED, 52, 8)                                                  \
    X(TYPE_OBJECTS, 53, 8) X(TYPE_BYTES, 54, 8) X(CHUNK_SUM, 55, 8)                               \
    X(DOM_TOP, 56, 4) X(REF_BLOCK, 57, 4) X(REF_EDGE, 58, 4)                                      \
    X(CYCLE_START, 59, 4) X(CYCLE_MEMBER, 60, 4) X(CYCLE_PATH_START, 61, 4)                       \
    X(CYCLE_PATH, 62, 4) X(CYCLE_DENSE, 63, 8)

#define HDX_SECTION_ENUM_(name, id, size) HDX_##name = id,
enum hdx_section { HDX_SECTION_MAP(HDX_SECTION_ENUM_) HDX_NSECTIONS };
#undef HDX_SECTION_ENUM_

/* CHUNK_SUM (optional): the chunk size, then each section's chunk checksums (§5.1). */
#define HDX_CHUNK_SIZE (64u << 10)

/* DOM_TOP (optional): the objects that retain the most, best first, at most this many. */
#define HDX_DOM_TOP_MAX 256u
/* REF_BLOCK (optional): where the referrers of each block of 2^bits consecutive objects start
 * in REF_EDGE. Writers use 8 (bits 3); the first files used 4 (bits 2), which REF_BLOCK's count
 * tells apart (it is the same for both only when one block holds every object). */
#define HDX_REF_BLOCK_BITS 3
#define HDX_REF_BLOCK_BITS_FIRST 2
/* CYCLE_DENSE (optional): the first component's members as a bitmap rather than a list, when
 * that saves at least this many bytes (a component holding most of a big heap); below it the
 * list, whose checks are the simpler, costs little. */
#define HDX_CYCLE_DENSE_SAVING (1u << 20)

/* META: one little-endian uint64 each, in this order. */
#define HDX_META_MAP(X)                                                                           \
    X(version) X(format) X(producer) X(created) X(name) X(pid)                                    \
    X(ntypes) X(nsites) X(nobjects) X(nedges) X(nroots) X(nweakrefs) X(nstrings)                  \
    X(map_direct) X(map_base) X(map_mask) X(map_used)                                             \
    X(pools_present) X(arena_size) X(pool_size) X(arenas_allocated) X(arenas_reclaimed)           \
    X(arenas_highwater) X(arenas_current) X(large_allocs) X(large_bytes) X(nclasses)              \
    X(gc_present) X(gc_enabled)                                                                   \
    X(g0_threshold) X(g0_count) X(g0_collections) X(g0_collected) X(g0_uncollectable)             \
    X(g1_threshold) X(g1_count) X(g1_collections) X(g1_collected) X(g1_uncollectable)             \
    X(g2_threshold) X(g2_count) X(g2_collections) X(g2_collected) X(g2_uncollectable)             \
    X(gc_frozen) X(ngarbage)                                                                      \
    X(native) X(nframes) X(nstacks) X(nsite_stacks) X(native_nobjects) X(ninterior)               \
    X(nroot_offsets)                                                                              \
    X(mem_objects) X(mem_references) X(mem_id_map) X(mem_strings) X(mem_other) X(mem_total)       \
    X(has_reach) X(nlive) X(nuncollectable) X(nunreachable)                                       \
    X(has_dom) X(dom_reachable)                                                                   \
    X(total_size)

/* Version 1's first META had 65 fields; total_size came after: a reader takes what is there. */
#define HDX_META_REQUIRED 65

#define HDX_META_FIELD_(name) uint64_t name;
typedef struct hdx_meta { HDX_META_MAP(HDX_META_FIELD_) } hdx_meta;
#undef HDX_META_FIELD_

/* What an index was made from: a changed dump has another stamp (hd_source_stamp). */
typedef struct hdx_header {
    char magic[HDX_MAGIC_LEN];
    uint32_t version, nsections;
    uint64_t file_size;
    uint64_t source_size;
    int64_t source_mtime_ns;
    uint64_t source_hash;
    uint64_t reserved[9];
    uint64_t checksum; /* of the header before this field and of the section table */
} hdx_header;

typedef struct hdx_entry {
    uint32_t id, elem_size;
    uint64_t offset, count, checksum;
} hdx_entry;

_Static_assert(sizeof(hdx_header) == HDX_HEADER_SIZE, "header layout");
_Static_assert(sizeof(hdx_entry) == HDX_ENTRY_SIZE, "entry layout");
_Static_assert(sizeof(hd_pool_class) == 32, "pool class layout");

/* The precomputed analyses a mapped dump carries (NULL arrays when absent), and the mapping. */
typedef struct hd__index {
    void *base;       /* the mapping, or an aligned copy of a buffer: what the checks read */
    void *view;       /* what the dump's arrays point into: base, or a second mapping of the file
                         whose lazy sections stay unreadable until verified (binary_lazy.c) */
    size_t size;
    bool mapped;      /* munmap, else free */
    struct hdx_reader *checks; /* what verifying a lazy section needs */
    hdx_header header;
    hd_memory memory; /* as the graph measured itself when loaded from its source */
    const uint8_t *reach_state;
    const uint32_t *reach_depth, *reach_parent, *reach_via;
    uint32_t nlive, nuncollectable, nunreachable;
    const uint32_t *dom_idom;
    const uint64_t *dom_retained;
    uint32_t dom_reachable;
    bool has_total_size;
    uint64_t total_size; /* hd_total_size(), held against OBJ_SIZE when that is verified */
    const uint64_t *type_objects, *type_bytes; /* per type: objects and their shallow size, or NULL */
    const uint32_t *dom_top;  /* the first ndom_top of hd_dominators_top's ranking, or NULL */
    uint32_t ndom_top;
    const uint32_t *ref_block, *ref_edge; /* referrers by blocks of targets, or NULL */
    unsigned ref_block_bits;              /* a block holds 2^ref_block_bits objects */
    /* The cyclic components (hd_cycles_find's), or NULL: ncycles + 1 offsets into member and
     * into path (a shortest cycle through the component's first member, as its edges). */
    const uint32_t *cycle_start, *cycle_member, *cycle_path_start, *cycle_path;
    uint32_t ncycles;
    const uint64_t *cycle_dense; /* component 0's members as a bitmap (then not in member), or NULL */
} hd__index;

/* The checksum of a section (and of the header): 64 bits, four lanes of multiply-rotate over
 * little-endian words, then the length. */
uint64_t hd__hdx_checksum(const void *data, size_t len);
/* The same, and in one pass each chunk-byte piece's into sums (ceil(len / chunk) of them; chunk
 * a multiple of 32), as CHUNK_SUM lists them. */
uint64_t hd__hdx_checksum_chunks(const void *data, size_t len, size_t chunk, uint64_t *sums);
const char *hd__hdx_section_name(uint32_t id); /* "edge_target"; NULL for an unknown id */
uint32_t hd__hdx_elem_size(uint32_t id);

/* Opens the binary image at base (size bytes, 8-aligned; ownership moves to the dump, released
 * with munmap when mapped, else free). On failure everything is released and err says why. */
int hd__binary_open(void *base, void *view, size_t size, bool mapped, const char *name, hd_dump **out,
                    hd_error *err);
void hd__index_close(hd__index *ix);

/* Lazy verification (binary_read.c): the lazy section (or chunk) of ix's view holding addr, or
 * section id, verified now unless it was: HD_OK when it passes, or when addr is in no lazy
 * section or was readable already (*found says which), else err says why. Callers hold the lazy
 * lock (binary_lazy.c). */
enum hd__addr_found { HD_ADDR_ELSEWHERE, HD_ADDR_VERIFIED, HD_ADDR_READABLE };
int hd__index_verify_addr(hd__index *ix, uintptr_t addr, enum hd__addr_found *found, hd_error *err);
int hd__index_verify_section(hd__index *ix, uint32_t id, hd_error *err);
bool hd__index_has_lazy(const hd__index *ix);
/* binary_lazy.c: the process's fault handler learns of ix's view (watch) until it is closed
 * (forget); need verifies a section before its count or array is handed out, and reports damage
 * as a fault on it would. */
int hd__lazy_watch(hd__index *ix, hd_error *err);
void hd__lazy_forget(hd__index *ix);
void hd__index_need(const hd__index *ix, uint32_t id);
/* hd_load's ways in (binary_load.c): the first bytes are an index's; a regular file's fd mapped
 * (size bytes); a buffer or a stream copied. */
bool hd__binary_magic(const void *data, size_t n);
/* No JSON text or gzip member starts with the magic's first byte (0x89): input that does is an
 * index, whole or damaged, and gets the index reader's diagnosis. */
static inline bool hd__binary_first_byte(int c) { return c == (unsigned char)HDX_MAGIC[0]; }
int hd__binary_map(int fd, uint64_t size, const char *name, hd_dump **out, hd_error *err);
int hd__binary_buffer(const void *data, size_t size, const char *name, hd_dump **out, hd_error *err);
int hd__binary_stream(FILE *f, const char *name, hd_dump **out, hd_error *err);
/* Checks the header and section table at head (n bytes: the file's first bytes, at most its
 * size) of a file of file_size bytes: HD_OK with *h filled, else err says why. */
int hd__binary_peek(const void *head, size_t n, uint64_t file_size, const char *name, hdx_header *h,
                    hd_error *err);
/* The largest header and table a valid index has. */
#define HDX_HEAD_MAX (HDX_HEADER_SIZE + HDX_NSECTIONS * HDX_ENTRY_SIZE)

/* The precomputed results of a mapped dump, NULL when it has none (reach.c, dominators.c). */
const hd__index *hd__dump_index(const hd_dump *d);
/* The arrays of computed dominators, for the writer (dominators.c). */
const uint32_t *hd__dominators_idom(const hd_dominators *dom);
const uint64_t *hd__dominators_retained(const hd_dominators *dom);
/* REF_EDGE and REF_BLOCK for the writer (referrers.c): every edge by target, each target's in
 * increasing edge order, and where each block of targets starts; hd__big_free both. */
int hd__referrer_sections(const hd_dump *d, uint32_t **edges, uint32_t **blocks);
static inline uint64_t hd__ref_blocks(uint64_t nobjects, unsigned bits)
{
    return ((nobjects + (1u << bits) - 1) >> bits) + 1;
}

#endif
