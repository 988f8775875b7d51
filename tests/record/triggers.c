/* triggers.c: the dumps a program gets besides the one at exit (argv[1] picks):
 *   signal DIR    raises SIGUSR2 (the recorder runs with HEAPTOOL_SIGNAL=USR2), waits for the
 *                 numbered dump to appear in DIR, then allocates more
 *   interval      allocates for 2.5 s (with HEAPTOOL_INTERVAL=1: two numbered dumps)
 *   explicit PATH heaptool_record_dump(PATH): prints its result; 0 means PATH is written
 *   thread PATH   the same from a second thread while main keeps allocating
 *   twice A B     heaptool_record_dump(A) then (B) with nothing allocated between, of a heap with
 *                 lists, a cycle, interior pointers, a dropped block and ids past a gap: one
 *                 moment, two forms */
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "heaptool_record.h"

void *kept[64];

static __attribute__((noinline)) void *shape_block(size_t n) { return memset(malloc(n), 0, n); }

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&t, NULL);
}

static int count_files(const char *dir, const char *part)
{
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        n += strstr(e->d_name, part) != NULL && e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static volatile int stop;

static void *dump_from_thread(void *path)
{
    int r = heaptool_record_dump(path);
    stop = 1;
    return (void *)(long)r;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    kept[0] = shape_block(10);
    if (!strcmp(mode, "signal") && argc == 3) {
        raise(SIGUSR2);
        for (int i = 0; i < 500 && count_files(argv[2], ".1.json") == 0; i++)
            sleep_ms(10);
        kept[1] = shape_block(20);
        printf("signal dumps: %d\n", count_files(argv[2], ".1.json"));
        return 0;
    }
    if (!strcmp(mode, "interval")) {
        for (int i = 0; i < 250; i++) {
            free(kept[2]);
            kept[2] = shape_block(30);
            sleep_ms(10);
        }
        return 0;
    }
    if (!strcmp(mode, "explicit") && argc == 3) {
        int r = heaptool_record_dump(argv[2]);
        printf("heaptool_record_dump: %d, written: %s\n", r, access(argv[2], F_OK) == 0 ? "yes" : "no");
        return 0;
    }
    if (!strcmp(mode, "twice") && argc == 4) {
        for (int i = 0; i < 8; i++) { /* a list through kept[0..8), each node's word 0 the next */
            kept[i] = shape_block(16 + 8 * (size_t)i);
            if (i)
                *(void **)kept[i - 1] = kept[i];
        }
        *(void **)kept[7] = kept[0];                     /* a cycle */
        kept[8] = (char *)shape_block(64) + 24;          /* held only by an interior pointer */
        for (int i = 0; i < 2000; i++)                   /* ids past a gap: a hashed id map */
            free(shape_block(16));
        void **inner = shape_block(40);                  /* a block pointing into another's middle */
        inner[2] = (char *)shape_block(96) + 40;
        kept[9] = inner;
        void **lost = shape_block(32);                   /* dropped, holding a block */
        lost[1] = shape_block(48);
        lost = NULL;
        int a = heaptool_record_dump(argv[2]), b = heaptool_record_dump(argv[3]);
        printf("heaptool_record_dump: %d %d\n", a, b);
        return 0;
    }
    if (!strcmp(mode, "thread") && argc == 3) {
        pthread_t t;
        pthread_create(&t, NULL, dump_from_thread, argv[2]);
        for (int i = 0; !stop; i = (i + 1) % 64) {
            free(kept[i]);
            kept[i] = shape_block(16 + (size_t)i);
        }
        void *r;
        pthread_join(t, &r);
        printf("heaptool_record_dump: %ld, written: %s\n", (long)r, access(argv[2], F_OK) == 0 ? "yes" : "no");
        return 0;
    }
    fprintf(stderr, "usage: triggers signal DIR|interval|explicit PATH|thread PATH\n");
    return 2;
}
