/* robust.c: what the recorder must live through, one mode per run (argv[1]); each prints
 * {"blocks": N, "bytes": B} for the blocks its shape_* functions left live, like shapes.c.
 *   foreign     free() of a pointer malloc never gave: libc's verdict, recorder or not
 *   double      free() twice: the same
 *   handler     malloc and free in a SIGALRM handler, 200 times, while main allocates
 *   fork        the child allocates and exits on its own (its own dump); prints the pids too
 *   exec        allocates, then execs itself as "after", which allocates and exits
 *   dlopen      allocates through a library opened after start (libexpat)
 *   many N      allocates N blocks of 16 bytes and keeps them (out-of-memory and bench)
 *   handoff     threads allocate; main frees and reallocates half of their blocks while they
 *               live, they free some of their own and end; one more thread keeps its blocks and runs on
 *               at exit
 *   drop N      allocates N blocks of 32 bytes and keeps none: the dump at exit, written in
 *               place (one thread), must find every one lost
 *   altexit     exits from a signal handler running on a 16 KiB alternate stack
 *   claims      writes past blocks' ends over the next blocks' chunk sizes, so that the records
 *               found there claim ids other blocks have: the dump must still give unique ids
 *   overwrite   writes 16 bytes before a block's start (libc's chunk size), and past the end of
 *               another block up to the one after it (its record, in its tail, and the next
 *               one's chunk size): the dump must still be written, all three blocks in it
 *   blocked     one thread blocks every signal, another sleeps: at exit the dump waits for the
 *               sleeper's answer, not for the one that cannot answer
 *   forkstorm D two threads malloc and free each other's blocks and a third takes dumps to D
 *               (heaptool_record_dump) while main forks again and again: a snapshot's stop
 *               landing inside fork, every recorder lock held, must not hang the program */
#include <stdatomic.h>
#include <stdbool.h>
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static size_t live_blocks, live_bytes;
void *kept[256];
void **g_many;

static NOINLINE void *shape_block(size_t n)
{
    void *p = malloc(n);
    memset(p, 1, n);
    live_blocks++;
    live_bytes += n;
    return p;
}

static void report(void)
{
    printf("{\"blocks\": %zu, \"bytes\": %zu}\n", live_blocks, live_bytes);
    fflush(stdout);
}

static volatile sig_atomic_t handled;

static NOINLINE void *shape_handler(void)
{
    void *p = malloc(24);
    memset(p, 2, 24);
    return p;
}

static void on_alarm(int signo)
{
    (void)signo;
    void *scratch = malloc(100);
    free(scratch);
    if (handled < 200)
        kept[handled++] = shape_handler();
}

/* Signals land while main allocates; glibc's malloc is not async-signal-safe, so main blocks
 * SIGALRM around its own calls, as a correct program must, and the handler's calls go through the
 * recorder from a signal frame. */
static int handler(void)
{
    struct sigaction sa = {.sa_handler = on_alarm};
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval every = {{0, 500}, {0, 500}};
    setitimer(ITIMER_REAL, &every, NULL);
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    while (handled < 200) {
        sigprocmask(SIG_BLOCK, &alrm, NULL);
        free(malloc(64));
        sigprocmask(SIG_UNBLOCK, &alrm, NULL);
        for (volatile int spin = 0; spin < 10000; spin++)
            ;
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    live_blocks = 200;
    live_bytes = 200 * 24;
    report();
    return 0;
}

static int forked(void)
{
    for (int i = 0; i < 3; i++)
        kept[i] = shape_block(32);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
        for (int i = 3; i < 5; i++)
            kept[i] = shape_block(48);
        exit(0);
    }
    int status;
    waitpid(child, &status, 0);
    printf("{\"parent\": %ld, \"child\": %ld, \"child_status\": %d}\n", (long)getpid(), (long)child, status);
    report();
    return 0;
}

static int exec_self(const char *self)
{
    kept[0] = shape_block(1000); /* gone with the old image: never in a dump */
    execl(self, self, "after", (char *)NULL);
    perror("execl");
    return 1;
}

static int dlopened(void)
{
    void *lib = dlopen("libexpat.so.1", RTLD_NOW);
    void *(*create)(const char *) = lib ? (void *(*)(const char *))dlsym(lib, "XML_ParserCreate") : NULL;
    if (!create) {
        fprintf(stderr, "robust: no libexpat: %s\n", dlerror());
        return 1;
    }
    kept[0] = create(NULL);
    kept[1] = shape_block(10);
    report();
    return 0;
}

#define PRODUCERS 4
#define EACH 20000 /* blocks a thread allocates */

typedef struct handed {
    void *p;
    size_t size; /* 0: freed */
} handed;
static handed given[PRODUCERS][EACH];
static pthread_barrier_t handed_over, taken;

static NOINLINE void *shape_made(size_t n) { return malloc(n); } /* counted by main */
static NOINLINE void *shape_grow(void *p, size_t n) { return realloc(p, n); }

static void *produce(void *arg)
{
    handed *mine = arg;
    for (size_t i = 0; i < EACH; i++) {
        mine[i].size = 8 + i % 200;
        mine[i].p = shape_made(mine[i].size);
        memset(mine[i].p, 3, mine[i].size);
    }
    pthread_barrier_wait(&handed_over);
    pthread_barrier_wait(&taken); /* main frees and grows some meanwhile */
    for (size_t i = 1; i < EACH; i += 4)
        if (mine[i].size) {
            free(mine[i].p);
            mine[i].size = 0;
        }
    return NULL;
}

static void *keep_running(void *arg)
{
    void **blocks = arg;
    for (int i = 0; i < 50; i++)
        blocks[i] = shape_block(40);
    pthread_barrier_wait(&handed_over);
    pause(); /* still running when the program exits */
    return NULL;
}

/* The blocks left are counted here, by main, once the threads are done with them. */
static int handoff(void)
{
    pthread_t t[PRODUCERS], runner;
    static void *running_blocks[50];
    pthread_barrier_init(&handed_over, NULL, PRODUCERS + 1);
    pthread_barrier_init(&taken, NULL, PRODUCERS + 1);
    for (int k = 0; k < PRODUCERS; k++)
        pthread_create(&t[k], NULL, produce, given[k]);
    pthread_barrier_wait(&handed_over);
    for (int k = 0; k < PRODUCERS; k++)
        for (size_t i = 0; i < EACH; i += 2) {
            if (i % 6 == 0) {
                free(given[k][i].p);
                given[k][i].size = 0;
            } else {
                given[k][i].size += 100;
                given[k][i].p = shape_grow(given[k][i].p, given[k][i].size);
            }
        }
    pthread_barrier_wait(&taken);
    for (int k = 0; k < PRODUCERS; k++)
        pthread_join(t[k], NULL);
    for (int k = 0; k < PRODUCERS; k++)
        for (size_t i = 0; i < EACH; i++)
            if (given[k][i].size) {
                live_blocks++;
                live_bytes += given[k][i].size;
            }
    pthread_barrier_init(&handed_over, NULL, 2);
    pthread_create(&runner, NULL, keep_running, running_blocks);
    pthread_barrier_wait(&handed_over);
    report();
    return 0;
}

static void *sleep_blocked(void *arg)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    *(void **)arg = shape_block(64);
    pthread_barrier_wait(&handed_over);
    pause(); /* never woken: every signal is blocked */
    return NULL;
}

static void *sleep_open(void *arg)
{
    *(void **)arg = shape_block(32);
    pthread_barrier_wait(&handed_over);
    for (;;)
        sleep(10);
    return NULL;
}

static int blocked(void)
{
    pthread_t t;
    pthread_barrier_init(&handed_over, NULL, 3);
    pthread_create(&t, NULL, sleep_blocked, &kept[0]);
    pthread_create(&t, NULL, sleep_open, &kept[1]);
    pthread_barrier_wait(&handed_over);
    report();
    return 0;
}

enum { STORM_SLOTS = 4096, STORM_FORKS = 500 };
static _Atomic(void *) storm_slot[STORM_SLOTS];
static atomic_bool storm_over;

static void *storm_churn(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    while (!atomic_load(&storm_over))
        free(atomic_exchange(&storm_slot[rand_r(&seed) % STORM_SLOTS], malloc(16 + rand_r(&seed) % 200)));
    return NULL;
}

static void *storm_dumps(void *dir)
{
    int (*dump)(const char *) = (int (*)(const char *))dlsym(RTLD_DEFAULT, "heaptool_record_dump");
    char path[4096];
    snprintf(path, sizeof path, "%s/storm.json", (const char *)dir);
    while (dump && !atomic_load(&storm_over))
        dump(path);
    return NULL;
}

static int forkstorm(char *dir)
{
    pthread_t t[3];
    pthread_create(&t[0], NULL, storm_churn, (void *)1);
    pthread_create(&t[1], NULL, storm_churn, (void *)2);
    pthread_create(&t[2], NULL, storm_dumps, dir);
    for (int i = 0; i < STORM_FORKS; i++) {
        pid_t child = fork();
        if (child == 0) {
            free(malloc(64));
            _exit(0);
        }
        waitpid(child, NULL, 0);
    }
    atomic_store(&storm_over, true);
    for (int k = 0; k < 3; k++)
        pthread_join(t[k], NULL);
    for (int i = 0; i < STORM_SLOTS; i++)
        free(atomic_exchange(&storm_slot[i], NULL));
    report();
    return 0;
}

static void exit_from_handler(int sig)
{
    (void)sig;
    exit(0);
}

/* 300 pairs: a's end is 8 bytes before b's chunk size, which gets the chunk size of 48 bytes, so
 * that b's record is read from b's fifth word, where b keeps a record-shaped value (thread 1 and
 * an id of 1 to 3, given out long before). */
static void *claims[600];
static int claim_ids(void)
{
    for (int i = 0; i < 300; i++) {
        uint64_t *a = malloc(24), *b = malloc(40);
        memset(b, 0, 40);
        b[4] = (uint64_t)1 << 46 | (uint64_t)(i % 3 + 1);
        uint64_t chunk = 0x31;
        memcpy((char *)b - 8, &chunk, sizeof chunk);
        claims[2 * i] = a, claims[2 * i + 1] = b;
    }
    printf("{\"claims\": 300}\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "drop") && argc == 3) {
        for (long i = atol(argv[2]); i > 0; i--) {
            char *volatile p = malloc(32);
            memset(p, 0, 32);
        }
        return 0;
    }
    if (!strcmp(mode, "altexit")) {
        stack_t alt = {.ss_sp = malloc(16384), .ss_size = 16384};
        struct sigaction sa = {.sa_handler = exit_from_handler, .sa_flags = SA_ONSTACK};
        if (!alt.ss_sp || sigaltstack(&alt, NULL) != 0 || sigaction(SIGUSR1, &sa, NULL) != 0)
            return 1;
        shape_block(100);
        raise(SIGUSR1);
        return 1;
    }
    if (!strcmp(mode, "claims"))
        return claim_ids();
    if (!strcmp(mode, "foreign")) {
        static char not_malloced[64];
        char *volatile foreign = not_malloced + 16; /* hidden from the compiler's own check */
        free(foreign);
        return 0;
    }
    if (!strcmp(mode, "double")) {
        char *volatile p = malloc(40); /* volatile: the compiler may not fold the pair away */
        free(p);
        free(p);
        return 0;
    }
    if (!strcmp(mode, "handler"))
        return handler();
    if (!strcmp(mode, "fork"))
        return forked();
    if (!strcmp(mode, "exec"))
        return exec_self(argv[0]);
    if (!strcmp(mode, "after")) {
        kept[0] = shape_block(20);
        kept[1] = shape_block(30);
        report();
        return 0;
    }
    if (!strcmp(mode, "dlopen"))
        return dlopened();
    if (!strcmp(mode, "handoff"))
        return handoff();
    if (!strcmp(mode, "overwrite")) {
        static char *keep[3];
        keep[0] = malloc(64);
        char *volatile before = keep[0] - 16; /* hidden from the compiler's own check */
        memset(before, 0xff, 16);
        for (int tries = 0; tries < 1000; tries++) { /* two blocks side by side, as malloc gives them */
            keep[1] = malloc(24);
            keep[2] = malloc(24);
            if (keep[2] > keep[1] && keep[2] - keep[1] <= 64)
                break;
        }
        memset(keep[1], 'x', (size_t)(keep[2] - keep[1]));
        printf("{\"blocks\": 3}\n");
        return 0;
    }
    if (!strcmp(mode, "blocked"))
        return blocked();
    if (!strcmp(mode, "many") && argc == 3) {
        size_t n = strtoul(argv[2], NULL, 10);
        g_many = malloc(n * sizeof *g_many);
        for (size_t i = 0; i < n; i++)
            g_many[i] = shape_block(16);
        live_blocks = n; /* the array itself is not a shape */
        report();
        return 0;
    }
    if (!strcmp(mode, "forkstorm") && argc == 3)
        return forkstorm(argv[2]);
    fprintf(stderr, "usage: robust foreign|double|handler|fork|exec|dlopen|handoff|overwrite|blocked|many N|drop N|altexit|"
                    "claims|forkstorm DIR\n");
    return 2;
}
