/* dump.c: read-only accessors over the loaded graph, and its release. */
#include "analysis.h"
#include "binary.h"
#include "native.h"

#include <stdlib.h>

void hd_dump_free(hd_dump *d)
{
    if (!d)
        return;
    hd_release_scratch();
    if (d->index) { /* the arrays are the index's mapping */
        free(d->native);
        hd__index_close(d->index);
        free(d);
        return;
    }
    void *arrays[] = {
        d->type_id, d->type_size, d->type_name, d->type_flags, d->site_id, d->site_file,
        d->site_function, d->site_line, d->obj_id, d->obj_size, d->obj_type, d->obj_site,
        d->obj_label, d->obj_rc, d->obj_gen, d->obj_flags, d->edge_offset, d->edge_target,
        d->edge_name, d->root_object, d->root_kind_name, d->root_name, d->root_kind,
        d->weakref_object, d->weakref_referent, d->weakref_callback, d->pool_classes, d->gc_garbage,
    };
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        free(arrays[i]);
    hd__idmap_free(&d->type_map);
    hd__idmap_free(&d->site_map);
    hd__idmap_free(&d->obj_map);
    hd__strtab_free(&d->strings);
    hd__native_free(d->native);
    free(d);
}

static const char *str(const hd_dump *d, uint32_t off) { return hd__strtab_get(&d->strings, off); }

enum hd_format hd_dump_format(const hd_dump *d) { return d->format; }
uint32_t hd_version(const hd_dump *d) { return d->version; }
const char *hd_meta_producer(const hd_dump *d) { return str(d, d->producer); }
const char *hd_meta_created(const hd_dump *d) { return str(d, d->created); }
const char *hd_meta_name(const hd_dump *d) { return str(d, d->name); }
int64_t hd_meta_pid(const hd_dump *d) { return d->pid; }

uint32_t hd_type_count(const hd_dump *d) { return d->ntypes; }
uint64_t hd_type_id(const hd_dump *d, uint32_t t) { return d->type_id[t]; }
const char *hd_type_name(const hd_dump *d, uint32_t t) { return str(d, d->type_name[t]); }
uint64_t hd_type_size(const hd_dump *d, uint32_t t) { return d->type_size[t]; }
unsigned hd_type_flags(const hd_dump *d, uint32_t t) { return d->type_flags[t]; }

uint32_t hd_site_count(const hd_dump *d) { return d->nsites; }
uint64_t hd_site_id(const hd_dump *d, uint32_t s) { return d->site_id[s]; }
const char *hd_site_file(const hd_dump *d, uint32_t s) { return str(d, d->site_file[s]); }
uint32_t hd_site_line(const hd_dump *d, uint32_t s) { return d->site_line[s]; }
const char *hd_site_function(const hd_dump *d, uint32_t s) { return str(d, d->site_function[s]); }

uint32_t hd_object_count(const hd_dump *d) { return d->nobjects; }
uint64_t hd_object_id(const hd_dump *d, uint32_t o) { return d->obj_id[o]; }
const uint64_t *hd_object_ids(const hd_dump *d) { return d->obj_id; }
uint32_t hd_object_type(const hd_dump *d, uint32_t o) { return d->obj_type[o]; }
uint64_t hd_object_size(const hd_dump *d, uint32_t o) { return d->obj_size[o]; }
uint32_t hd_object_rc(const hd_dump *d, uint32_t o) { return d->obj_rc[o]; }
uint32_t hd_object_site(const hd_dump *d, uint32_t o) { return d->obj_site[o]; }
unsigned hd_object_gen(const hd_dump *d, uint32_t o) { return d->obj_gen[o]; }
unsigned hd_object_flags(const hd_dump *d, uint32_t o) { return d->obj_flags[o]; }

const char *hd_object_label(const hd_dump *d, uint32_t o)
{
    return d->obj_label[o] == HD_NONE ? NULL : str(d, d->obj_label[o]);
}

uint32_t hd_object_find(const hd_dump *d, uint64_t id)
{
    return d->nobjects ? hd__idmap_find(&d->obj_map, d->obj_id, id) : HD_NONE;
}

uint64_t hd_edge_count(const hd_dump *d) { return d->nedges; }
uint32_t hd_edge_target(const hd_dump *d, uint64_t e) { return d->edge_target[e]; }
const char *hd_edge_name(const hd_dump *d, uint64_t e) { return str(d, d->edge_name[e]); }
const uint32_t *hd_edge_offsets(const hd_dump *d) { return d->edge_offset; }
const uint32_t *hd_edge_targets(const hd_dump *d) { return d->edge_target; }

void hd_object_edges(const hd_dump *d, uint32_t o, uint64_t *first, uint64_t *end)
{
    *first = d->edge_offset[o];
    *end = d->edge_offset[o + 1];
}

uint32_t hd_root_count(const hd_dump *d) { return d->nroots; }
uint32_t hd_root_object(const hd_dump *d, uint32_t r) { return d->root_object[r]; }
enum hd_root_kind hd_root_kind(const hd_dump *d, uint32_t r) { return (enum hd_root_kind)d->root_kind[r]; }

const char *hd_root_kind_word(enum hd_root_kind kind)
{
    switch (kind) {
#define ROOT_KIND_WORD(name, word) case name: return word;
        HD_ROOT_KIND_MAP(ROOT_KIND_WORD)
#undef ROOT_KIND_WORD
    case HD_ROOT_OTHER: break;
    }
    return NULL;
}

const char *hd_object_flag_name(unsigned flag)
{
    switch (flag) {
#define OBJECT_FLAG_NAME(name, bit, word) case name: return word;
        HD_OBJECT_FLAG_MAP(OBJECT_FLAG_NAME)
#undef OBJECT_FLAG_NAME
    }
    return NULL;
}

const char *hd_root_kind_name(const hd_dump *d, uint32_t r) { return str(d, d->root_kind_name[r]); }
const char *hd_root_name(const hd_dump *d, uint32_t r) { return str(d, d->root_name[r]); }

uint32_t hd_weakref_count(const hd_dump *d) { return d->nweakrefs; }
uint32_t hd_weakref_object(const hd_dump *d, uint32_t w) { return d->weakref_object[w]; }
uint32_t hd_weakref_referent(const hd_dump *d, uint32_t w) { return d->weakref_referent[w]; }
int hd_weakref_has_callback(const hd_dump *d, uint32_t w) { return d->weakref_callback[w]; }

const hd_pools *hd_dump_pools(const hd_dump *d) { return &d->pools; }
const hd_gc *hd_dump_gc(const hd_dump *d) { return &d->gc; }

uint64_t hd_total_size(const hd_dump *d)
{
    if (d->index && d->index->has_total_size)
        return d->index->total_size;
    uint64_t total = 0;
    for (uint32_t o = 0; o < d->nobjects; o++)
        total = hd__add_sat(total, d->obj_size[o]);
    return total;
}

const hd__index *hd__dump_index(const hd_dump *d) { return d->index; }
int hd_dump_is_index(const hd_dump *d) { return d->index != NULL; }

/* A dump opened from an index answers as the graph loaded from its source did: the figures are
 * those of the in-memory graph, which the index's arrays are. */
void hd_dump_memory(const hd_dump *d, hd_memory *out)
{
    if (d->index) {
        *out = d->index->memory;
        return;
    }
    uint64_t n = d->nobjects;
    out->objects = n * (8 + 8 + 4 + 4 + 4 + 4 + 1 + 1) + (n + 1) * 4;
    out->references = d->nedges * (4 + 4);
    out->id_map = d->nobjects ? ((uint64_t)d->obj_map.mask + 1) * sizeof *d->obj_map.slots : 0;
    out->strings = d->strings.len;
    out->other = (uint64_t)d->ntypes * (8 + 8 + 4 + 1) + (uint64_t)d->nsites * (8 + 4 + 4 + 4) +
                 (uint64_t)d->nroots * (4 + 4 + 4 + 1) + (uint64_t)d->nweakrefs * (4 + 4 + 1) +
                 (uint64_t)d->pools.nclasses * sizeof *d->pool_classes +
                 (uint64_t)d->gc.ngarbage * sizeof *d->gc_garbage + hd__native_memory(d->native);
    out->total = out->objects + out->references + out->id_map + out->strings + out->other;
}
