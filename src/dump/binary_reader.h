/* binary_reader.h: what the index reader (binary_read.c) and its value checks (binary_check.c)
 * share: the reader's state over one open index, and how a check reports a bad value. */
#ifndef HD_BINARY_READER_H
#define HD_BINARY_READER_H

#include "binary.h"

#include <stdbool.h>
#include <stdint.h>

/* What a reader knows of an open index. Failures go to err: the caller's while opening, the
 * index's own (fault) when a section is verified later, on first use. */
typedef struct hdx_reader {
    unsigned char *base; /* what the checks read: readable from the start */
    unsigned char *view; /* what the dump points into: base, or a second mapping (lazy) */
    size_t size;
    char name[256];
    hd_error *err, fault;
    const hdx_entry *at[HDX_NSECTIONS]; /* by id */
    hdx_meta m;
    bool used[HDX_NSECTIONS];           /* the dump points into it */
    bool lazy[HDX_NSECTIONS];           /* still unreadable in view, verified on first touch */
    bool checked[HDX_NSECTIONS];
    uint64_t page_from[HDX_NSECTIONS], page_to[HDX_NSECTIONS]; /* a lazy section's pages in view */
    bool has_total_size;                /* META has the field */
    unsigned ref_block_bits;            /* REF_BLOCK's block size, 2^bits objects (when present) */
    uint64_t chunk;                     /* CHUNK_SUM's chunk size in bytes, 0 without it */
    const uint64_t *chunk_sum[HDX_NSECTIONS]; /* a section's chunk checksums, in base */
    uint8_t *chunk_done[HDX_NSECTIONS]; /* a lazy section verified chunk by chunk: which are */
    uint64_t chunks_left[HDX_NSECTIONS];
    uint32_t faults[HDX_NSECTIONS];     /* a chunked section's faults so far */
    uint64_t group;                     /* chunks verified together on a fault (a power of two) */
    uint8_t *reach_checked;             /* blocks of REACH_BLOCK objects whose forest is checked */
} reader;

/* The forest of reachability is checked a block of this many objects at a time. */
enum { REACH_BLOCK = 1 << 16 };

/* The elements [from, to) of a section that its checks look at: a chunk, or all. */
typedef struct span {
    uint64_t from, to;
} span;

/* A section's bytes as the checks read them. */
static inline const void *raw(const reader *r, uint32_t id) { return r->base + r->at[id]->offset; }

/* A bad value in section id, element i: "section X at offset N (element i): ...", HD_EFORMAT. */
int hd__hdx_fail_in(reader *r, uint32_t id, uint64_t i, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Verifies a whole section (its checksums and values), unless it was. */
int hd__hdx_verify(reader *r, uint32_t id);
/* Verifies the part of a section that holds element i: its chunk, or the whole section. */
int hd__hdx_verify_element(reader *r, uint32_t id, uint64_t i);
/* What a section's elements in s must be, each on its own or against the one before. */
int hd__hdx_check_values(reader *r, uint32_t id, span s);
/* What needs the whole section, once all of it is verified. */
int hd__hdx_check_whole(reader *r, uint32_t id);

#endif
