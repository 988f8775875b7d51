/* record_alloc.c: an allocation-heavy C program for the recorder's benchmark (run_record.sh).
 *   record_alloc churn N   N rounds of a small workload: a binary tree of 1023 nodes built and
 *                          freed, strings duplicated, a vector grown by realloc; deterministic
 *   record_alloc live N    keeps N blocks of 16 bytes live, then exits (the dump's worst case)
 *   record_alloc snap N    keeps N blocks of 16 bytes live, asks the recorder for a dump to
 *                          $HEAPTOOL_OUTPUT (heaptool_record_dump), taken while the program
 *                          runs, and ends without the one at exit
 *   record_alloc fork N    keeps N blocks of 16 bytes live and forks 5 times: prints the median
 *                          time fork took, the part of a dump's pause that is the program's own
 *                          (the kernel copying its page tables), without the recorder
 * Prints a checksum so the work cannot be optimized away. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "heaptool_record.h"

typedef struct tree {
    struct tree *left, *right;
    uint64_t value;
} tree;

static tree *build(int depth, uint64_t *seed)
{
    tree *t = malloc(sizeof *t);
    *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
    t->value = *seed >> 33;
    t->left = depth ? build(depth - 1, seed) : NULL;
    t->right = depth ? build(depth - 1, seed) : NULL;
    return t;
}

static uint64_t drop(tree *t)
{
    if (!t)
        return 0;
    uint64_t sum = t->value + drop(t->left) + drop(t->right);
    free(t);
    return sum;
}

static uint64_t churn(long rounds)
{
    uint64_t seed = 42, sum = 0;
    char text[64];
    for (long r = 0; r < rounds; r++) {
        sum += drop(build(9, &seed));
        char **words = NULL;
        size_t n = 0;
        for (int i = 0; i < 200; i++) {
            snprintf(text, sizeof text, "word-%ld-%d", r, i);
            if ((n & (n - 1)) == 0) /* grow by doubling, through realloc */
                words = realloc(words, (n ? n * 2 : 1) * sizeof *words);
            words[n++] = strdup(text);
        }
        for (size_t i = 0; i < n; i++) {
            sum += (unsigned char)words[i][5];
            free(words[i]);
        }
        free(words);
    }
    return sum;
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of 5 forks of this process, in milliseconds; -1 when fork fails. */
static double fork_ms(void)
{
    double took[5];
    for (int i = 0; i < 5; i++) {
        double t0 = seconds();
        pid_t pid = fork();
        if (pid == 0)
            _exit(0);
        took[i] = (seconds() - t0) * 1e3;
        if (pid < 0 || waitpid(pid, NULL, 0) != pid)
            return -1;
    }
    qsort(took, 5, sizeof *took, by_value);
    return took[2];
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "churn") && strcmp(argv[1], "live") && strcmp(argv[1], "fork") &&
                      strcmp(argv[1], "snap"))) {
        fprintf(stderr, "usage: record_alloc churn|live|snap|fork N\n");
        return 2;
    }
    long n = atol(argv[2]);
    if (!strcmp(argv[1], "churn")) {
        printf("%llu\n", (unsigned long long)churn(n));
        return 0;
    }
    void **keep = malloc((size_t)n * sizeof *keep);
    for (long i = 0; i < n; i++)
        keep[i] = malloc(16);
    if (!strcmp(argv[1], "fork")) {
        double ms = fork_ms();
        printf("%.1f\n", ms);
        return ms < 0;
    }
    printf("%ld\n", n);
    if (!strcmp(argv[1], "snap")) {
        const char *path = getenv("HEAPTOOL_OUTPUT");
        fflush(stdout);
        _exit(path && heaptool_record_dump(path) == 0 ? 0 : 1);
    }
    return 0;
}
