/* writer.h: what the snapshot child's two writers share: the JSON one (writer.c) and the binary
 * index one (writer_index.c, for a path ending in ".hdx"). Both write the same heap: one names
 * it in heapdump v1, the other lays out the arrays libheapdump would load from that JSON. */
#ifndef HEAPTOOL_RECORD_WRITER_H
#define HEAPTOOL_RECORD_WRITER_H

#include "record/symbols.h"

/* The live blocks' stacks named: frames, the nodes in use, a type for each leaf node. */
typedef struct rec_naming {
    size_t nnodes;
    const rec_stack_node *nodes;
    uint8_t *used;            /* node is on some live block's stack */
    uint32_t *frame_of;       /* node -> frame id */
    rec_frame_info *frames;   /* by frame id */
    size_t nframes;
    uint32_t *type_of;        /* leaf node -> type id; UINT32_MAX: not a leaf */
    char **types;             /* by type id */
    size_t ntypes;
    uint32_t *type_frame;     /* leaf node -> node of the frame that names it */
} rec_naming;

extern const char *const rec_root_kinds[]; /* by enum rec_root_kind: "global", ... */
/* A root's name: the global's symbol, "mmap 0x...+0x...", or "stack of thread 3". */
void rec_root_name(rec_symbols *sym, const rec_root *r, char *name, size_t cap);
/* Now, as the dump's "created" says it (UTC, ISO 8601). */
void rec_created(char *buf, size_t cap);
/* The length of the UTF-8 sequence at p that the JSON writer passes as is; 0: a byte it writes
 * as the text \xNN. */
size_t rec_utf8_seq(const unsigned char *p);
/* Writes the binary index at path (atomically): 0 or an errno. */
int rec_write_index(const char *path, const rec_world *w, const rec_heap *h, const rec_naming *n,
                    rec_symbols *sym, const rec_root *roots, size_t nroots);

#endif
