/* robust.c: what the recorder must live through, one mode per run (argv[1]); each prints
 * {"blocks": N, "bytes": B} for the blocks its shape_* functions left live, like shapes.c.
 *   foreign     free() of a pointer malloc never gave: libc's verdict, recorder or not
 *   double      free() twice: the same
 *   handler     malloc and free in a SIGALRM handler, 200 times, while main allocates
 *   fork        the child allocates and exits on its own (its own dump); prints the pids too
 *   exec        allocates, then execs itself as "after", which allocates and exits
 *   dlopen      allocates through a library opened after start (libexpat)
 *   many N      allocates N blocks of 16 bytes and keeps them (out-of-memory and bench) */
#include <dlfcn.h>
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

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
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
    if (!strcmp(mode, "many") && argc == 3) {
        size_t n = strtoul(argv[2], NULL, 10);
        g_many = malloc(n * sizeof *g_many);
        for (size_t i = 0; i < n; i++)
            g_many[i] = shape_block(16);
        live_blocks = n; /* the array itself is not a shape */
        report();
        return 0;
    }
    fprintf(stderr, "usage: robust foreign|double|handler|fork|exec|dlopen|many N\n");
    return 2;
}
