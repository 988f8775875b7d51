/* fuzz_v8.c: libFuzzer harness for the V8 heap snapshot importer. Any input must load or fail
 * with a status and a position, never crash, hang or leak; whatever loads must be a sound graph
 * (every index in range, CSR offsets in order, labels cut short, ids mapped back to their
 * objects) and go through every analysis (analyse_all.h). `make fuzz FUZZER=v8` runs it from
 * a corpus seeded with tests/data/v8. */
#include "heapdump.h"

#include <stdlib.h>
#include <string.h>

#include "analyse_all.h"

static void check_graph(const hd_dump *d)
{
    uint32_t n = hd_object_count(d), nt = hd_type_count(d);
    const uint32_t *off = hd_edge_offsets(d);
    if (off[0] != 0 || off[n] != hd_edge_count(d))
        abort();
    for (uint32_t o = 0; o < n; o++) {
        if (off[o] > off[o + 1] || hd_object_type(d, o) >= nt || hd_object_find(d, hd_object_id(d, o)) != o)
            abort();
        const char *label = hd_object_label(d, o);
        if (label && strlen(label) > 80)
            abort();
        for (uint64_t e = off[o]; e < off[o + 1]; e++)
            if (hd_edge_target(d, e) >= n || !hd_edge_name(d, e))
                abort();
    }
    for (uint32_t w = 0; w < hd_weakref_count(d); w++)
        if (hd_weakref_object(d, w) >= n || hd_weakref_referent(d, w) >= n)
            abort();
    for (uint32_t r = 0; r < hd_root_count(d); r++)
        if (hd_root_object(d, r) >= n || hd_root_kind(d, r) != HD_ROOT_NAMED || !hd_root_name(d, r)[0])
            abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load_buffer(data, size, "fuzz.heapsnapshot", NULL, &d, &err);
    if (rc == HD_OK) {
        if (hd_dump_format(d) == HD_FORMAT_V8)
            check_graph(d);
        analyse(d);
        hd_dump_free(d);
    } else if (err.status != rc || !memchr(err.message, '\0', sizeof err.message) ||
               (rc != HD_ENOMEM && err.line == 0 && strncmp(err.message, "index: ", 7))) {
        abort(); /* a failure must come with its own description and, for bad input, a place
                  * (a binary index's is a byte offset, in the message) */
    }
    return 0;
}
