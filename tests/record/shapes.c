/* shapes.c: heap shapes planted for the leak checkers, one per mode (argv[1]). Every block the
 * program means is allocated by a function named shape_*, so a dump's blocks of those types are
 * exactly the program's; it prints what it left live as {"blocks": N, "bytes": B}. Pointers are
 * kept where the mode says and nowhere else: helpers are noinline and the allocating frames are
 * gone by the time main returns. tests/record/shapes.memcheck.json has what valgrind's memcheck
 * reports for each mode. */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define NOINLINE __attribute__((noinline))

struct node {
    struct node *next;
    char pad[24];
};

static size_t live_blocks, live_bytes;

static NOINLINE void *shape_block(size_t n)
{
    void *p = malloc(n);
    memset(p, 0, n);
    live_blocks++;
    live_bytes += n;
    return p;
}

static NOINLINE struct node *shape_list(int n)
{
    struct node *head = NULL;
    for (int i = 0; i < n; i++) {
        struct node *x = shape_block(sizeof *x);
        x->next = head;
        head = x;
    }
    return head;
}

/* Keeps a value out of every register and stack slot the compiler could leave behind. */
static NOINLINE void scrub_stack(void)
{
    volatile char junk[16384];
    memset((char *)junk, 0, sizeof junk);
}

struct node *g_list;      /* globals */
char *g_interior;         /* a global pointing into the middle of a block */
_Thread_local struct node *t_list; /* thread-local storage */

static NOINLINE void dropped(void)
{
    for (int i = 0; i < 5; i++)
        shape_block(40 + (size_t)i);
}

static NOINLINE void dropped_list(void) { shape_list(6); }

static NOINLINE void lost_cycle(void)
{
    struct node *a = shape_list(3);
    a->next->next->next = a; /* a -> b -> c -> a */
}

static NOINLINE void interior(void)
{
    g_interior = (char *)shape_block(64) + 24;
    struct node *held = shape_block(sizeof *held); /* a block only interior pointers reach */
    held->next = (struct node *)((char *)shape_block(48) + 16);
    g_list = (struct node *)((char *)held + 12);
}

static NOINLINE void globals(void)
{
    g_list = shape_list(4);
    g_interior = shape_block(100);
}

static void *stack_thread(void *arg)
{
    struct node *volatile mine = shape_list(3); /* on this thread's stack until it is told */
    pthread_barrier_t *b = arg;
    pthread_barrier_wait(b); /* the dump is taken while it waits here */
    pthread_barrier_wait(b);
    return (void *)(uintptr_t)(mine != NULL);
}

static NOINLINE void thread_stacks(void)
{
    static pthread_barrier_t b;
    pthread_barrier_init(&b, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, stack_thread, &b);
    pthread_barrier_wait(&b);
    /* Only memcheck's exit-time check and an explicit dump see a live thread: at exit this
     * mode leaves the thread parked, the process ends with it. */
    fflush(stdout);
}

static void *tls_thread(void *arg)
{
    t_list = shape_list(2);
    pthread_barrier_wait(arg);
    pthread_barrier_wait(arg); /* never released: parked until exit */
    return NULL;
}

static NOINLINE void thread_local(void)
{
    t_list = shape_list(4);
    static pthread_barrier_t b;
    pthread_barrier_init(&b, NULL, 2);
    pthread_t t;
    pthread_create(&t, NULL, tls_thread, &b);
    pthread_barrier_wait(&b);
}

static void *churn(void *arg)
{
    struct node **keep = arg;
    void *ring[64] = {0};
    for (int i = 0; i < 20000; i++) {
        free(ring[i % 64]);
        ring[i % 64] = malloc(16 + (size_t)(i % 200));
    }
    for (int i = 0; i < 64; i++)
        free(ring[i]);
    *keep = shape_list(10);
    return NULL;
}

/* Blocks held only in a register of a running thread: each thread takes its block from
 * g_handoff into r15, clears g_handoff and spins, calling nothing (a callee would save r15 on
 * the stack), until the process ends. */
#define REGISTER_THREADS 3
void *volatile g_handoff;
volatile int g_holding;

static void *register_thread(void *unused)
{
    (void)unused;
    __asm__ volatile("mov g_handoff(%%rip), %%r15\n\t"
                     "movq $0, g_handoff(%%rip)\n\t"
                     "lock incl g_holding(%%rip)\n"
                     "1:\tpause\n\t"
                     "jmp 1b"
                     :
                     :
                     : "r15", "memory");
    return NULL;
}

static NOINLINE void hand_off(void) { g_handoff = shape_block(48); }

static NOINLINE void registers(void)
{
    for (int i = 0; i < REGISTER_THREADS; i++) {
        hand_off();
        scrub_stack();
        pthread_t t;
        pthread_create(&t, NULL, register_thread, NULL);
        while (g_holding <= i)
            sched_yield();
    }
}

/* A list held only from a page the program mapped itself. */
static NOINLINE void mapped(void)
{
    struct node **page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    page[100] = shape_list(3);
}

/* Addresses freed and handed out again at once (malloc's per-thread cache returns the last
 * freed first): the blocks kept are the new ones, held from a global. */
struct node *g_again[20];

static NOINLINE void reuse(void)
{
    struct node *old[20];
    for (int i = 0; i < 20; i++)
        old[i] = malloc(sizeof(struct node));
    for (int i = 0; i < 20; i++)
        free(old[i]);
    for (int i = 0; i < 20; i++)
        g_again[i] = shape_block(sizeof(struct node));
}

static struct node *kept[8];
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;

static NOINLINE void threads(void)
{
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, churn, &kept[i]);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    pthread_mutex_lock(&count_lock); /* shape_block's counters were raced: recount */
    live_blocks = 80;
    live_bytes = 80 * sizeof(struct node);
    pthread_mutex_unlock(&count_lock);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*run)(void);
    } modes[] = {{"dropped", dropped},         {"list", dropped_list},       {"cycle", lost_cycle},
                 {"interior", interior},       {"globals", globals},         {"stack", thread_stacks},
                 {"tls", thread_local},        {"threads", threads},         {"registers", registers},
                 {"mmap", mapped},             {"reuse", reuse}};
    for (size_t i = 0; argc == 2 && i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(argv[1], modes[i].name))
            continue;
        modes[i].run();
        scrub_stack();
        printf("{\"blocks\": %zu, \"bytes\": %zu}\n", live_blocks, live_bytes);
        fflush(stdout);
        return 0;
    }
    fprintf(stderr, "usage: shapes dropped|list|cycle|interior|globals|stack|tls|threads|registers|mmap|reuse\n");
    return 2;
}
