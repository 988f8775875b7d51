/* test_atomic_file.c: hd__atomic's writes at offsets, buffered and direct (O_DIRECT, through the
 * bounce buffer when the data is not block-aligned), give the bytes that were written where they
 * were written. The oracle is the same writes applied to a buffer in memory. */
#include "dump/dump_internal.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { FILE_SIZE = 24 << 20 };

static unsigned char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    unsigned char *buf = malloc(FILE_SIZE + 1);
    *len = fread(buf, 1, FILE_SIZE + 1, f);
    fclose(f);
    return buf;
}

/* Random writes of every shape (small, big, aligned or not in the file and in memory) over one
 * file, then its size set: the file must equal the same writes made in memory. */
static void random_writes(bool direct, unsigned seed, bool *went_direct)
{
    char path[] = "build/tests/atomic-XXXXXX.bin";
    int fd = mkstemps(path, 4);
    cr_assert(fd >= 0);
    close(fd);
    unsigned char *want = calloc(1, FILE_SIZE), *data = malloc(FILE_SIZE + 8192);
    srand(seed);
    for (size_t i = 0; i < FILE_SIZE + 8192; i++)
        data[i] = (unsigned char)rand();
    hd__atomic a;
    hd_error err = {0};
    cr_assert_eq(hd__atomic_begin(&a, path, &err), HD_OK);
    if (direct)
        hd__atomic_direct(&a);
    *went_direct = a.direct_fd >= 0;
    for (int w = 0; w < 24; w++) {
        size_t len = w % 3 == 0 ? (size_t)(rand() % 5000) : (1u << 20) + (size_t)rand() % (3u << 20);
        size_t offset = (size_t)rand() % (FILE_SIZE - len);
        if (w % 2)
            offset &= ~(size_t)4095; /* block-aligned in the file */
        size_t from = w % 4 < 2 ? (size_t)rand() % 8192 : 4096;
        hd__atomic_write_at(&a, offset, data + from, len);
        memcpy(want + offset, data + from, len);
    }
    hd__atomic_resize(&a, FILE_SIZE - 1234);
    cr_assert_eq(hd__atomic_commit(&a, false, &err), HD_OK, "%s", err.message);
    size_t len;
    unsigned char *got = read_whole(path, &len);
    cr_assert_eq(len, FILE_SIZE - 1234);
    cr_assert(memcmp(got, want, len) == 0, "the file differs from the writes (seed %u)", seed);
    unlink(path);
    free(got);
    free(want);
    free(data);
}

Test(atomic_file, writes_at_offsets_give_the_same_bytes_buffered_and_direct)
{
    bool went_direct = false, any_direct = false;
    for (unsigned seed = 1; seed <= 4; seed++) {
        random_writes(false, seed, &went_direct);
        cr_assert(!went_direct);
        random_writes(true, seed, &went_direct);
        any_direct |= went_direct;
    }
    /* Not an assertion: a file system without O_DIRECT (tmpfs) writes through the page cache. */
    if (!any_direct)
        cr_log_warn("build/tests does not take O_DIRECT here: only the buffered fallback was tested");
}
