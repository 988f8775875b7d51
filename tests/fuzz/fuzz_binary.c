/* fuzz_binary.c: libFuzzer harness for the binary index reader (formats/heapdump-binary.md).
 * Any input must open or fail with a one-line message naming an offset, never crash, hang, leak
 * or read outside the input; whatever opens goes through every analysis and is written back as
 * JSON. Inputs get the index's magic, and every other one has its checksums recomputed, as a
 * hand editor would: mutations then reach the value checks instead of stopping at a checksum.
 * `make fuzz` runs it on tests/fuzz/seeds/binary; `make test` replays the kept inputs. */
#include "analyse_all.h"
#include "dump/binary.h"
#include "reseal.h"

#include <string.h>

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
