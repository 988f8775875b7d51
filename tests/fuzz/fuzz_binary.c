/* fuzz_binary.c: libFuzzer harness for the binary index reader (formats/heapdump-binary.md).
 * Any input must open or fail with a one-line message naming an offset, never crash, hang, leak
 * or read outside the input; whatever opens goes through every analysis and is written back as
 * JSON. Inputs get the index's magic, and every other one has its checksums recomputed, as a
 * hand editor would: mutations then reach the value checks instead of stopping at a checksum.
 * `make fuzz` runs it on tests/fuzz/seeds/binary; `make test` replays the kept inputs. */
#include "analyse_all.h"
#include "dump/binary.h"

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

static int discard(const void *data, size_t len, void *user)
{
    (void)data;
    (void)len;
    (void)user;
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned char *copy = malloc(size + HDX_MAGIC_LEN);
    if (!copy)
        return 0;
    /* The first byte chooses: resealed or not; the rest is the file, magic forced. */
    bool sealed = data[0] & 1;
    size_t n = size - 1;
    memcpy(copy, data + 1, n);
    if (n >= HDX_MAGIC_LEN)
        memcpy(copy, HDX_MAGIC, HDX_MAGIC_LEN);
    if (sealed)
        reseal(copy, n);
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load_buffer(copy, n, "fuzz.hdx", NULL, &d, &err);
    if (rc == HD_OK) {
        analyse(d);
        hd_dump_write_json(d, discard, NULL);
        hd_dump_free(d);
    } else if (n >= HDX_MAGIC_LEN &&
               (err.status != rc || !memchr(err.message, '\0', sizeof err.message) ||
                strchr(err.message, '\n') || rc == HD_ENOMEM || strncmp(err.message, "index: ", 7))) {
        abort(); /* every refusal is one line of its own, from the index reader */
    }
    free(copy);
    return 0;
}
