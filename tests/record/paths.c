/* paths.c: allocations from one call site at one stack depth along 64 different call paths, so
 * that stacks which agree on where the allocator was called and on its stack address differ in
 * their outer frames. A block's size says its path: 16 * (path + 1) bytes, where bit k of path is
 * 1 when the k-th frame out of the recursion (from the innermost) is go_right. Three rounds in
 * different orders; every block stays live for the dump at exit. Prints the blocks it keeps. */
#include <stdio.h>
#include <stdlib.h>

#define LEVELS 6
#define PATHS (1u << LEVELS)
#define ROUNDS 3

void *kept[ROUNDS * PATHS];

static void *descend(int level, unsigned path);

/* Two call sites: which one a frame returns to is the path's bit at that level. The result is
 * used after the call, so that no call becomes a jump and every frame stays on the stack. */
static __attribute__((noinline)) void *go_left(int level, unsigned path)
{
    void *p = descend(level - 1, path);
    __asm__ volatile("" : : "r"(p) : "memory");
    return p;
}

static __attribute__((noinline)) void *go_right(int level, unsigned path)
{
    void *p = descend(level - 1, path);
    __asm__ volatile("" : : "r"(p) : "memory");
    return p;
}

static __attribute__((noinline)) void *descend(int level, unsigned path)
{
    void *p;
    if (level == 0)
        p = malloc(16 * ((size_t)path + 1));
    else if (path >> (level - 1) & 1)
        p = go_right(level, path);
    else
        p = go_left(level, path);
    __asm__ volatile("" : : "r"(p) : "memory");
    return p;
}

int main(void)
{
    size_t n = 0;
    for (unsigned round = 0; round < ROUNDS; round++)
        for (unsigned i = 0; i < PATHS; i++)
            kept[n++] = descend(LEVELS, (i * 37 + round * 11) % PATHS);
    printf("{\"blocks\": %zu}\n", n);
    return 0;
}
