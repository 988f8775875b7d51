/* v8.h: the importer of Chrome/Node heap snapshots (.heapsnapshot), shared by v8_read.c (the
 * document, number by number) and v8_graph.c (the raw arrays turned into the dump's graph).
 *
 * A snapshot is one JSON object: "snapshot" (the meta that names the fields), then "nodes" and
 * "edges" as flat arrays of unsigned integers, a few arrays this reader skips, and "strings",
 * which node names and edge names index. Nodes refer to their edges by count (a node's edges
 * follow those of the node before it), edges to their targets by offset into "nodes".
 */
#ifndef HD_V8_H
#define HD_V8_H

#include "dump_internal.h"
#include "lexer.h"

#include <stdbool.h>

#define HD__V8_MAX_FIELDS 64 /* numbers per node or per edge */
#define HD__V8_MAX_TYPES 255 /* node or edge types: one byte each, per node and per edge */

enum hd__v8_length { HD__V8_EMPTY, HD__V8_SHORT, HD__V8_LONG /* over a label's 80 bytes */ };
#define HD__V8_MAX_LABEL 80

/* What a node type becomes (node_types in the meta, matched by name). */
enum hd__v8_node_class {
    HD__V8_NODE_KIND,      /* one type for the kind, "(closure)"; the node's name is its label */
    HD__V8_NODE_NAMED,     /* "object", "native": the node's name is its type (a class name) */
    HD__V8_NODE_SYNTHETIC, /* "synthetic": the engine's roots, "(GC roots)" */
};
/* What an edge type becomes. */
enum hd__v8_edge_class {
    HD__V8_EDGE_NAMED,     /* a reference named by a string: property, context, internal */
    HD__V8_EDGE_INDEXED,   /* a reference named by a number: element, hidden */
    HD__V8_EDGE_WEAK,      /* a weak link */
    HD__V8_EDGE_SHORTCUT,  /* a strong reference from the root node, a weak link elsewhere
                            * (it only repeats a longer path, as bound arguments do) */
};

/* Where the reader stands, and the raw arrays it fills. The nodes' arrays are the dump's own,
 * holding raw values until the graph is built: obj_type the name's string index, obj_gen the
 * node type index. edge_name holds the raw name_or_index, kind the edge type index. */
typedef struct hd__v8 {
    hd__lexer *lx;
    hd_dump *d;

    bool have_meta;
    uint32_t nf, ef;                        /* numbers per node, per edge */
    uint8_t node_role[HD__V8_MAX_FIELDS];   /* enum in v8_read.c */
    uint8_t edge_role[HD__V8_MAX_FIELDS];
    uint32_t node_id_at, node_name_at, edge_name_at, edge_to_at; /* which field holds these */
    uint32_t nnode_types, nedge_types;
    uint8_t node_class[HD__V8_MAX_TYPES];
    uint32_t node_type_name[HD__V8_MAX_TYPES]; /* strtab: "(closure)", for kind classes */
    uint8_t edge_class[HD__V8_MAX_TYPES];
    uint64_t root_index;                    /* the node every path starts from (node 0) */

    uint64_t edges_expected;                /* the nodes' edge_count, summed */
    uint8_t *edge_kind;

    uint32_t nstrings, strings_cap;
    uint32_t *string_off;                   /* strtab offset of each string */
    uint8_t *string_len;                    /* enum hd__v8_length of each, so that building
                                             * the graph need not read the text itself */

    bool seen_nodes, seen_edges, seen_strings;
    hd__pos nodes_pos, edges_pos;           /* where the arrays start */
} hd__v8;

/* Is a first member name one of a heap snapshot's? That is how a snapshot is told from a
 * heapdump (whose first member is "format" by convention). */
bool hd__v8_is_member(const char *name);
/* Reads the rest of a snapshot whose first member name is lx's current token into d, which
 * hd_load has just created. HD_OK, or a status with lx->err filled. */
int hd__v8_read(hd__lexer *lx, hd_dump *d);
/* v8_graph.c: types, labels, references, weak links, roots and the id map from the raw arrays;
 * frees what only the reader needed. */
int hd__v8_build(hd__v8 *v);
/* The position of number `index` of the top-level array `member` (for problems found only once
 * the whole document is read); the array's start when the source cannot be read again. */
hd__pos hd__v8_locate(hd__v8 *v, const char *member, uint64_t index, hd__pos fallback);

#endif
