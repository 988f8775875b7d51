/* temp_file.h: test data written to a new temporary file, for the readers' file paths. */
#ifndef TESTS_TEMP_FILE_H
#define TESTS_TEMP_FILE_H

#include <criterion/criterion.h>
#include <stdlib.h>
#include <unistd.h>

/* Writes len bytes of data to a new file named from path, a "/tmp/NAME-XXXXXX" template that
 * receives the name; the caller unlinks it. */
static inline void temp_file_write(char *path, const void *data, size_t len)
{
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0, "mkstemp %s", path);
    cr_assert_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
}

#endif
