/* hdx_writer.h: writes an unanalysed binary index (formats/heapdump-binary.md §9.1: sections
 * 1-46, has_reach = has_dom = 0) as a producer makes its heap's arrays, without holding them:
 * shared by libhm's snapshots (src/runtime/snapshot_index.c), the native recorder's dumps
 * (src/record/writer_index.c) and tests/bench/gen_binary.c. It needs only the format's header
 * and hdx_format.c, none of libheapdump's reader or analyses.
 *
 * Invariant: the file is written under a temporary name beside its target and renamed over it
 * only once whole (header, table, every checksum), so no reader ever sees part of one.
 *
 * A section is either placed or streamed. A placed section's count is known before any byte
 * is written (ht_hdx_place): it gets its offset at once and its elements are written into place
 * in any order (ht_hdx_put). A streamed section (count HT_HDX_STREAMED) is appended to in order
 * (ht_hdx_append; STRINGS through ht_hdx_intern and ht_hdx_label) into a buffer that spills to
 * an unlinked file; ht_hdx_finish copies it after the placed ones. Checksums are computed by
 * reading each section back, so memory stays at a few buffers whatever the heap's size.
 *
 * Memory comes from malloc (in the recorder's snapshot child, the recorder's own); the first
 * failure sticks and ht_hdx_finish reports it. */
#ifndef HEAPTOOL_HDX_WRITER_H
#define HEAPTOOL_HDX_WRITER_H

#include "dump/binary.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#define HT_HDX_STREAMED UINT64_MAX
#define HT_HDX_NSECTIONS HDX_ROOT_OFFSET /* the graph's sections, 1-46 */

typedef struct ht_hdx_stream ht_hdx_stream;

typedef struct ht_hdx_writer {
    int fd, err;            /* err: the first errno */
    bool page_align;        /* big sections get pages of their own (§1), for lazy verification */
    const char *path;
    char tmp[PATH_MAX + 64];
    hdx_entry e[HT_HDX_NSECTIONS + 1]; /* by id */
    ht_hdx_stream *streams[HT_HDX_NSECTIONS + 1]; /* streamed sections; NULL when placed */
    uint64_t placed_end;
    /* STRINGS' interning index: each interned string once; labels are only appended. */
    uint32_t *slots;        /* offset in STRINGS, 0 empty; a power of two, at most 3/4 full */
    char *kept;             /* the interned strings, NUL-terminated, at kept_at[slot] */
    uint64_t *kept_at;
    size_t kept_len, kept_cap;
    uint32_t mask, used;
} ht_hdx_writer;

/* Opens the temporary file beside path: 0 or an errno (nothing left behind). page_align as above. */
int ht_hdx_begin(ht_hdx_writer *w, const char *path, bool page_align);
/* Fixes the placed sections' offsets, in id order after the table: counts[id] for ids 1-46
 * (META's is set here), HT_HDX_STREAMED for the streamed ones. Once, before any write. */
void ht_hdx_place(ht_hdx_writer *w, const uint64_t counts[HT_HDX_NSECTIONS + 1]);
/* Writes count elements of placed section id from element at on. */
void ht_hdx_put(ht_hdx_writer *w, uint32_t id, uint64_t at, const void *data, uint64_t count);
/* Appends count elements to streamed section id. */
void ht_hdx_append(ht_hdx_writer *w, uint32_t id, const void *data, uint64_t count);
uint64_t ht_hdx_count(const ht_hdx_writer *w, uint32_t id); /* so far, for a streamed section */
/* A string's offset in STRINGS (streamed): ht_hdx_intern keeps each text once ("" is 0), as
 * libheapdump's loader interns names; ht_hdx_label appends every time, as it keeps labels. */
uint32_t ht_hdx_intern(ht_hdx_writer *w, const char *s, size_t len);
uint32_t ht_hdx_label(ht_hdx_writer *w, const char *s, size_t len);
/* META's counts from the sections (nobjects, nedges, nstrings, ...), and the in-memory figures
 * libheapdump reports for the same graph loaded from JSON (heapdump.md §13.1), given the masks
 * of its frame and stack id maps (ht_hdx_map_mask). */
void ht_hdx_meta_counts(const ht_hdx_writer *w, hdx_meta *m, uint32_t frame_mask, uint32_t stack_mask);
/* The id map libheapdump makes for n ids in [lo, hi]: direct (one slot an id) when the range is
 * under 2n, else hashed with a power of two of slots at most 70 % full; its mask. */
uint32_t ht_hdx_map_mask(uint64_t lo, uint64_t hi, uint64_t n, bool *direct);
/* Places objects 0..n-1, whose ids id_of gives (increasing from lo), in a map's mask + 1 zeroed
 * slots as libheapdump does: at id - lo when direct, else by linear probing from the id's slot. */
void ht_hdx_fill_map(uint32_t *slots, uint32_t mask, bool direct, uint64_t lo, uint32_t n,
                     uint64_t (*id_of)(const void *ctx, uint32_t i), const void *ctx);
/* A root kind's number (enum hd_root_kind) from its word, as libheapdump's loader reads it. */
uint8_t ht_hdx_root_kind(const char *word);
/* Writes META and the streamed sections, checksums every section, writes the header and renames
 * the file into place: 0, or an errno with the temporary file removed. */
int ht_hdx_finish(ht_hdx_writer *w, const hdx_meta *meta);
/* Removes the temporary file and frees what the writer holds (after an error of the caller). */
void ht_hdx_abort(ht_hdx_writer *w);

#endif
