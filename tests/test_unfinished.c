/* test_unfinished.c: temporaries listed with hd_unfinished_* are what hd_remove_unfinished_files
 * removes (files, then the directory they were in), made with the usual mode; unlisted ones
 * stay; a full list says so with -1. */
#include "heapdump.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "%s", path);
    return st.st_mode & 07777;
}

Test(unfinished, an_interrupt_removes_listed_files_then_their_directory)
{
    umask(022);
    char base[] = "/tmp/hdunfinishedXXXXXX";
    cr_assert(mkdtemp(base));
    char dir[256], inside[300], file[256], kept[256];
    snprintf(dir, sizeof dir, "%s/out.tmp-XXXXXX", base);
    snprintf(file, sizeof file, "%s/.one.XXXXXX", base);
    snprintf(kept, sizeof kept, "%s/.kept.XXXXXX", base);

    int hdir, hfile, hkept;
    cr_assert_eq(hd_unfinished_directory(dir, &hdir), 0);
    cr_assert_geq(hdir, 0);
    cr_assert_eq(mode_of(dir), 0755);
    snprintf(inside, sizeof inside, "%s/objects.csv", dir);
    int hinside = hd_unfinished_name(inside);
    cr_assert_geq(hinside, 0);
    FILE *f = fopen(inside, "w");
    cr_assert(f);
    fputs("id\r\n", f);
    fclose(f);
    int fd = hd_unfinished_file(file, &hfile);
    cr_assert_geq(fd, 0);
    cr_assert_geq(hfile, 0);
    cr_assert_eq(mode_of(file), 0644);
    close(fd);
    fd = hd_unfinished_file(kept, &hkept);
    cr_assert_geq(fd, 0);
    close(fd);
    hd_unfinished_done(hkept); /* renamed, say: no longer the interrupt's to remove */

    hd_remove_unfinished_files();
    cr_assert(!exists(inside));
    cr_assert(!exists(dir), "the directory, emptied, goes too");
    cr_assert(!exists(file));
    cr_assert(exists(kept));

    /* A failed write's own removal unlists as it removes. */
    snprintf(dir, sizeof dir, "%s/out.tmp-XXXXXX", base);
    cr_assert_eq(hd_unfinished_directory(dir, &hdir), 0);
    hd_unfinished_remove(dir, hdir);
    cr_assert(!exists(dir));
    unlink(kept);
    cr_assert_eq(rmdir(base), 0, "nothing else was left in %s", base);
}

Test(unfinished, a_full_list_gives_no_handle)
{
    int handles[64], n = 0, h;
    while (n < 64 && (h = hd_unfinished_name("/nonexistent/unfinished")) >= 0)
        handles[n++] = h;
    cr_assert_gt(n, 0);
    cr_assert_lt(n, 64, "the list is bounded");
    hd_unfinished_done(handles[0]);
    cr_assert_eq(hd_unfinished_name("/nonexistent/again"), handles[0], "a freed slot is used again");
    for (int i = 0; i < n; i++)
        hd_unfinished_done(handles[i]);
    hd_unfinished_done(-1); /* a write the list had no room for: nothing to unlist */
}
