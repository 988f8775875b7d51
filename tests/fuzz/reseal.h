/* reseal.h: makes an index's checksums right again after a hand edit (the section table's,
 * the chunk sums' and the header's), as a hand editor would, so that the reader's value checks are
 * what refuses the edit. For tests: fuzz_binary.c and test_binary.c. */
#ifndef HT_TESTS_RESEAL_H
#define HT_TESTS_RESEAL_H

#include "dump/binary.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static bool inside(const hdx_entry *e, size_t size)
{
    return e->elem_size && e->offset <= size && e->count <= (size - e->offset) / e->elem_size;
}

/* Rewrites CHUNK_SUM's checksums (formats/heapdump-binary.md §5.1), as far as it has room and
 * its chunk size is one a reader takes, for the sections that lie inside the input. */
static void reseal_chunks(unsigned char *p, size_t size, const hdx_entry *table, uint32_t n)
{
    const hdx_entry *by_id[HDX_NSECTIONS] = {NULL};
    for (uint32_t i = 0; i < n; i++) {
        hdx_entry e;
        memcpy(&e, &table[i], sizeof e);
        if (e.id < HDX_NSECTIONS && inside(&e, size))
            by_id[e.id] = &table[i];
    }
    hdx_entry sums;
    if (!by_id[HDX_CHUNK_SUM])
        return;
    memcpy(&sums, by_id[HDX_CHUNK_SUM], sizeof sums);
    uint64_t chunk, at = 1;
    if (sums.count < 1 || sums.elem_size != 8)
        return;
    memcpy(&chunk, p + sums.offset, 8);
    if (chunk < 4096 || chunk > (1u << 30) || (chunk & (chunk - 1)))
        return;
    for (uint32_t id = 2; id < HDX_NSECTIONS; id++) {
        hdx_entry e;
        if (id == HDX_CHUNK_SUM || !by_id[id])
            continue;
        memcpy(&e, by_id[id], sizeof e);
        for (uint64_t from = 0, bytes = e.count * e.elem_size; from < bytes && at < sums.count; from += chunk, at++) {
            uint64_t sum = hd__hdx_checksum(p + e.offset + from, bytes - from < chunk ? bytes - from : chunk);
            memcpy(p + sums.offset + 8 * at, &sum, 8);
        }
    }
}

/* Rewrites the chunk checksums, the section checksums and the header's, for the entries that
 * lie inside the input. */
static void reseal(unsigned char *p, size_t size)
{
    if (size < HDX_HEADER_SIZE)
        return;
    uint32_t n;
    memcpy(&n, p + 12, sizeof n);
    if (n >= HDX_NSECTIONS || size < HDX_HEADER_SIZE + (size_t)n * HDX_ENTRY_SIZE)
        return;
    reseal_chunks(p, size, (const hdx_entry *)(p + HDX_HEADER_SIZE), n);
    for (uint32_t i = 0; i < n; i++) {
        hdx_entry e;
        memcpy(&e, p + HDX_HEADER_SIZE + i * HDX_ENTRY_SIZE, sizeof e);
        if (inside(&e, size))
            e.checksum = hd__hdx_checksum(p + e.offset, e.count * e.elem_size);
        memcpy(p + HDX_HEADER_SIZE + i * HDX_ENTRY_SIZE, &e, sizeof e);
    }
    memset(p + offsetof(hdx_header, checksum), 0, 8);
    uint64_t sum = hd__hdx_checksum(p, HDX_HEADER_SIZE + (size_t)n * HDX_ENTRY_SIZE);
    memcpy(p + offsetof(hdx_header, checksum), &sum, 8);
}

#endif
