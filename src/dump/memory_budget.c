/* memory_budget.c: hd_memory_budget, the out-of-core mode (budget.h). Scratch arrays are
 * O_TMPFILE files in the budget's directory, sized with ftruncate (so they start as holes,
 * zero, costing no disk until written), mapped MAP_SHARED; the kernel writes their dirty pages
 * back as memory fills. The watcher reads /proc/self/statm every 50 ms and, over the budget,
 * advises every tracked region MADV_DONTNEED: the resident set falls to the anonymous memory,
 * and the next touches fault pages back in from the page cache (or the disk). */
#include "budget.h"
#include "heapdump.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef struct region {
    void *base;
    size_t size;
    bool scratch; /* ours to unmap */
} region;

static struct {
    pthread_mutex_t lock;
    region *regions;
    unsigned nregions, cap;
    uint64_t budget;
    char *dir;
    bool on, stop;
    pthread_t watcher;
} B = {.lock = PTHREAD_MUTEX_INITIALIZER};

bool hd__budget_on(void) { return B.on; }

static bool add_region(void *base, size_t size, bool scratch)
{
    pthread_mutex_lock(&B.lock);
    bool ok = B.nregions < B.cap;
    if (!ok && B.cap < UINT32_MAX / 2) {
        region *grown = realloc(B.regions, (B.cap * 2 + 16) * sizeof *grown);
        if ((ok = grown != NULL))
            B.regions = grown, B.cap = B.cap * 2 + 16;
    }
    if (ok)
        B.regions[B.nregions++] = (region){base, size, scratch};
    pthread_mutex_unlock(&B.lock);
    return ok;
}

/* Removes base's region (unmapping it when it is scratch); false when base is not tracked. */
static bool remove_region(void *base)
{
    pthread_mutex_lock(&B.lock);
    bool found = false;
    for (unsigned i = 0; i < B.nregions && !found; i++) {
        if (B.regions[i].base != base)
            continue;
        found = true;
        if (B.regions[i].scratch)
            munmap(base, B.regions[i].size);
        B.regions[i] = B.regions[--B.nregions];
    }
    pthread_mutex_unlock(&B.lock);
    return found;
}

uint64_t hd__budget_bytes(void) { return B.budget; }

int hd__scratch_file(void) { return open(B.dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600); }

void *hd__scratch_alloc(size_t size)
{
    size_t len = size ? size : 1;
    int fd = hd__scratch_file();
    if (fd < 0)
        return NULL;
    void *p = ftruncate(fd, (off_t)len) == 0 ? mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
    close(fd); /* the mapping keeps the file */
    if (p == MAP_FAILED)
        return NULL;
    if (!add_region(p, len, true)) {
        munmap(p, len);
        return NULL;
    }
    return p;
}

bool hd__scratch_free(void *p) { return p && B.nregions && remove_region(p); }

void hd__budget_track(void *base, size_t size)
{
    if (B.on)
        add_region(base, size, false); /* untracked when out of memory: only the budget suffers */
}

void hd__budget_untrack(void *base)
{
    if (B.nregions)
        remove_region(base);
}

static uint64_t resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void *watch(void *unused)
{
    (void)unused;
    const struct timespec tick = {0, 50 * 1000 * 1000};
    for (;;) {
        nanosleep(&tick, NULL);
        pthread_mutex_lock(&B.lock);
        if (B.stop) {
            pthread_mutex_unlock(&B.lock);
            return NULL;
        }
        if (resident_bytes() > B.budget)
            for (unsigned i = 0; i < B.nregions; i++)
                madvise(B.regions[i].base, B.regions[i].size, MADV_DONTNEED);
        pthread_mutex_unlock(&B.lock);
    }
}

int hd_memory_budget(uint64_t budget, const char *dir)
{
    if (B.on) {
        pthread_mutex_lock(&B.lock);
        B.stop = true;
        pthread_mutex_unlock(&B.lock);
        pthread_join(B.watcher, NULL);
        free(B.dir);
        B.dir = NULL;
        B.on = B.stop = false;
    }
    if (!budget)
        return HD_OK;
    int probe = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (probe < 0)
        return HD_EIO;
    close(probe);
    if (!(B.dir = strdup(dir)))
        return HD_ENOMEM;
    B.budget = budget;
    if (pthread_create(&B.watcher, NULL, watch, NULL) != 0) {
        free(B.dir);
        B.dir = NULL;
        return HD_ENOMEM;
    }
    B.on = true;
    return HD_OK;
}
