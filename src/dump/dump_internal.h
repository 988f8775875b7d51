/* dump_internal.h: the loaded graph, struct of arrays with dense indices and CSR out-edges.
 *
 * Per object: id 8 + size 8 + type 4 + site 4 + label 4 + rc 4 + edge offset 4 + gen 1 +
 * flags 1 = 38 bytes, plus the id map (4 bytes a slot: one per id of a dense range, or at most
 * 70 % full). Per reference: target 4 + name 4 = 8 bytes. Strings live once in the arena.
 * hd_dump_memory() (dump.c) counts the same; formats/heapdump.md 13.1 documents it.
 */
#ifndef HD_DUMP_INTERNAL_H
#define HD_DUMP_INTERNAL_H

#include "heapdump.h"
#include "idmap.h"
#include "strtab.h"

#include <stdbool.h>
#include <stddef.h>

struct hd_dump {
    uint32_t version;
    enum hd_format format;
    uint32_t producer, created, name; /* strtab offsets */
    int64_t pid;

    uint32_t ntypes, types_cap;
    uint64_t *type_id, *type_size;
    uint32_t *type_name;
    uint8_t *type_flags;
    hd__idmap type_map;

    uint32_t nsites, sites_cap;
    uint64_t *site_id;
    uint32_t *site_file, *site_function, *site_line;
    hd__idmap site_map;

    uint32_t nobjects, objects_cap;
    uint64_t *obj_id, *obj_size;
    uint32_t *obj_type, *obj_site, *obj_label, *obj_rc;
    uint8_t *obj_gen, *obj_flags;
    hd__idmap obj_map;

    uint32_t second_half;  /* the first object a second thread read; 0: one thread read all */

    uint64_t nedges, edges_cap;
    uint32_t *edge_offset; /* nobjects + 1 */
    uint32_t *edge_target; /* object indices once loaded */
    uint32_t *edge_name;

    uint32_t nroots, roots_cap;
    uint32_t *root_object, *root_kind_name, *root_name;
    uint8_t *root_kind;

    uint32_t nweakrefs, weakrefs_cap;
    uint32_t *weakref_object, *weakref_referent;
    uint8_t *weakref_callback;

    hd_pools pools;
    hd_pool_class *pool_classes;
    hd_gc gc;
    uint32_t *gc_garbage;

    hd__strtab strings;
    struct hd__native *native; /* frames, stacks, addresses...: NULL when the dump has none (native.h) */
    /* Set when the dump was opened from a binary index (binary.h): then every array above points
     * into its mapping and is not the dump's to free. */
    struct hd__index *index;
};

/* Grows parallel arrays (a NULL-terminated list, with their element sizes) until index count
 * fits: the capacity *cap doubles, from first, up to limit elements. false when count is not
 * below limit or memory runs out (*cap unchanged; an array already grown stays valid). */
bool hd__grow_arrays(uint64_t count, uint64_t *cap, uint64_t first, uint64_t limit,
                     void **const arrays[], const size_t sizes[]);
static inline bool hd__grow(uint64_t count, uint64_t *cap, uint64_t first, uint64_t limit,
                            void **const arrays[], const size_t sizes[])
{
    return count < *cap || hd__grow_arrays(count, cap, first, limit, arrays, sizes); /* seldom */
}

/* Memory for a large array: aligned to 2 MiB and marked for transparent huge pages, which spares
 * most TLB misses when it is walked at random; a scratch file out of core (budget.h). Released
 * with hd__big_free. NULL when out of memory. */
void *hd__big_alloc(size_t size);
void *hd__big_calloc(size_t n, size_t size);
/* The same, but always in memory, even out of core (budget.h): for an array a pass walks at
 * random, which a file mapping would turn into disk traffic. */
void *hd__ram_alloc(size_t size);
void *hd__ram_calloc(size_t n, size_t size);
/* hd__ram_alloc for an array given back (hd__big_free) before the caller asks for any other: a
 * kept array it takes keeps all its pages, for the analysis that takes it next. */
void *hd__ram_borrow(size_t size);
/* Out of core, p (size bytes, from hd__ram_alloc) copied into a scratch file and freed: a
 * result kept for later, written once in order. Otherwise (or when that fails) p itself. */
void *hd__spill(void *p, size_t size);
/* What any of these gave, or NULL. An array in memory may be kept for a later request of the
 * same functions (big_alloc.c), so scratch is released here, not with free(). */
void hd__big_free(void *p);

/* A file written atomically (atomic_file.c): begin makes a unique temporary file beside file,
 * write appends (the first failure is kept), commit renames it over file (after fsync when
 * durable) or removes it and reports the failure; abort removes it. Until then the temporary
 * file is one hd_remove_unfinished_files removes. */
typedef struct hd__atomic {
    int fd, error, slot; /* slot: where the temporary file is listed, -1 if it is not */
    int direct_fd;       /* the same file opened with O_DIRECT (hd__atomic_direct), or -1 */
    void *bounce;        /* with it: a block-aligned buffer for data that is not */
    char *tmp;
    const char *file;
} hd__atomic;
int hd__atomic_begin(hd__atomic *a, const char *file, hd_error *err);
void hd__atomic_write(hd__atomic *a, const void *data, size_t len);
/* Writes at offset instead of appending; resize sets the file's size (zero bytes past what was
 * written). Both keep the first failure as write does. */
void hd__atomic_write_at(hd__atomic *a, uint64_t offset, const void *data, size_t len);
void hd__atomic_resize(hd__atomic *a, uint64_t size);
/* From now on write_at sends the block-aligned middle of a big write past the page cache, when
 * the file system allows: on this project's machines a gigabyte written through the page cache
 * cost seconds of system time that direct I/O does not. */
void hd__atomic_direct(hd__atomic *a);
int hd__atomic_commit(hd__atomic *a, bool durable, hd_error *err);
void hd__atomic_abort(hd__atomic *a);

/* Sorts a per-type table the way hd_stats_by_type does (stats.c). */
void hd__stats_sort(const hd_dump *d, enum hd_stat_sort sort, hd_type_stat *st, uint32_t n);

#endif
