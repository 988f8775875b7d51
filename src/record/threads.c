/* threads.c: the program's threads, numbered from 1 (the main thread) in the order they first
 * run, with the stack and thread pointer of each live one so that a dump can scan them.
 * pthread_create is interposed to register a thread when it starts and forget it when it ends
 * (a key destructor runs on return and on pthread_exit alike). Threads made some other way
 * (a raw clone) get a number on their first allocation but their stacks are not scanned. */
#include <dlfcn.h>
#include <pthread.h>
#include <unistd.h>

#include "record/record.h"

REC_TLS rec_thread_state rec_me;
static REC_TLS rec_thread *my_slot;
static atomic_uint next_number = 1;
static rec_thread *slots; /* REC_MAX_THREADS, in sysmem */
static size_t slots_used; /* slots ever taken: the walks stop there (the rest never touched) */
static rec_lock slots_lock;
static pthread_key_t exit_key;
static int (*real_create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

uint32_t rec_thread_number_new(void) { return rec_me.number = atomic_fetch_add(&next_number, 1); }

uint32_t rec_threads_numbered(void) { return atomic_load(&next_number) - 1; }

uint32_t rec_thread_registered(void) { return my_slot ? my_slot->number : 0; }

rec_thread *rec_thread_slot(void) { return my_slot; }

/* At the thread's end its slot stays, marked exited: glibc keeps the stack of an ended thread
 * in a cache, thread control block and all, and the DTV that block points to stays allocated. */
static void forget(void *slot)
{
    rec_me.busy++; /* a snapshot must not stop this thread while it holds the lock */
    rec_lock_take(&slots_lock);
    ((rec_thread *)slot)->exited = true;
    rec_lock_give(&slots_lock);
    my_slot = NULL;
    rec_stacks_thread_exit();
    rec_leave();
}

/* Registers the calling thread. pthread_getattr_np allocates: the caller holds rec_me.busy. */
static void enroll(void)
{
    rec_thread t = {.number = rec_thread_number(), .tp = (uintptr_t)pthread_self(), .tid = gettid()};
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *lo;
        size_t size;
        if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
            t.stack_lo = (uintptr_t)lo;
            t.stack_hi = (uintptr_t)lo + size;
        }
        pthread_attr_destroy(&attr);
    }
    rec_lock_take(&slots_lock);
    rec_thread *free_slot = NULL, *oldest_exited = NULL;
    for (size_t i = 0; slots && i < REC_MAX_THREADS && i <= slots_used; i++) {
        rec_thread *s = &slots[i];
        if (s->number && s->exited && s->tp == t.tp)
            s->number = 0; /* a cached stack, reused by this thread */
        if (!s->number && !free_slot)
            free_slot = s;
        if (s->number && s->exited && (!oldest_exited || s->number < oldest_exited->number))
            oldest_exited = s;
    }
    my_slot = free_slot ? free_slot : oldest_exited;
    if (my_slot) {
        *my_slot = t;
        if ((size_t)(my_slot - slots) >= slots_used)
            slots_used = (size_t)(my_slot - slots) + 1;
    }
    rec_lock_give(&slots_lock);
    if (my_slot)
        pthread_setspecific(exit_key, my_slot);
}

size_t rec_tcb_size;

void rec_threads_init(void)
{
    /* glibc publishes the size of its thread control block for libthread_db. */
    const unsigned *size = dlsym(RTLD_DEFAULT, "_thread_db_sizeof_pthread");
    rec_tcb_size = size ? *size : 0;
    real_create = dlsym(RTLD_NEXT, "pthread_create");
    slots = rec_map(REC_MAX_THREADS * sizeof *slots);
    pthread_key_create(&exit_key, forget);
    enroll(); /* the main thread: the constructor runs on it */
}

typedef struct start {
    void *(*fn)(void *);
    void *arg;
} start;

static void *run(void *arg)
{
    start s = *(start *)arg;
    rec_me.busy++;
    rec_real_free(arg);
    enroll();
    rec_leave();
    return s.fn(s.arg);
}

REC_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    if (!real_create)
        real_create = dlsym(RTLD_NEXT, "pthread_create");
    rec_me.busy++;
    start *s = rec_real_malloc ? rec_real_malloc(sizeof *s) : NULL;
    rec_leave();
    if (!s)
        return real_create(thread, attr, fn, arg);
    *s = (start){fn, arg};
    int r = real_create(thread, attr, run, s);
    if (r != 0)
        rec_real_free(s);
    return r;
}

size_t rec_threads_copy(rec_thread *out, size_t cap)
{
    size_t n = 0;
    rec_lock_take(&slots_lock);
    for (size_t i = 0; slots && i < slots_used && n < cap; i++)
        if (slots[i].number)
            out[n++] = slots[i];
    rec_lock_give(&slots_lock);
    return n;
}

size_t rec_threads_prepare_stop(int *tids, size_t cap)
{
    size_t n = 0;
    rec_lock_take(&slots_lock);
    for (size_t i = 0; slots && i < slots_used; i++) {
        if (!slots[i].number)
            continue; /* never written: an untouched page of the table stays unmapped */
        slots[i].has_regs = false;
        if (!slots[i].exited && &slots[i] != my_slot && n < cap)
            tids[n++] = slots[i].tid;
    }
    rec_lock_give(&slots_lock);
    return n;
}

void rec_threads_after_fork_child(void)
{
    /* Only the forking thread goes on; the others' stacks are gone. */
    for (size_t i = 0; slots && i < slots_used; i++)
        if (slots[i].number && &slots[i] != my_slot)
            slots[i].number = 0;
    rec_lock_give(&slots_lock);
}
