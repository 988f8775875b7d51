/* test_fault.c: allocation failure injection (hm_fault_fail_at) walked over a whole scenario:
 * objects of every kind, containers growing, classes with cycles and a legacy finalizer, weakrefs
 * with callbacks, the three weak containers and an iteration, a finalizer, named roots, a gc
 * callback, a recycler, tracing, the gc module's lists, snapshots to memory and to a path,
 * snapshot triggers, full collections. For every allocation the
 * scenario makes, a run fails that one (and, persistent, every one after it) and checks:
 *   - a step fails only when an injected failure happened inside it, and says so as documented
 *     (NULL or HM_ENOMEM); steps that cannot report (a collection, a site) carry on;
 *   - a snapshot that says it was written loads; one that failed left the old file, and no
 *     temporary, behind;
 *   - afterwards the heap is consistent: its snapshot loads with every reference resolved, the
 *     scenario then runs cleanly on it, and after cleaning up it holds exactly the objects and
 *     bytes it held before (nothing leaked inside the heap; LeakSanitizer under make check
 *     covers malloc's memory), and hm_heap_destroy() finds no object of ours alive. */
#define HM_NO_SITE_MACROS
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "heapdump.h"
#include "hm.h"
#include "hm_snapshot.h"

enum { NKINDS = 36 }; /* with the built-in types, past the 32 the snapshot's type table starts with */
static hm_type *node_cls, *slot_cls, *legacy_cls, *kinds[NKINDS];
static char dir[64];

static void classes_new(void)
{
    static const char *const slots[] = {"value", "peer", NULL};
    node_cls = hm_class_new(&(hm_class_spec){.name = "Node"});
    slot_cls = hm_class_new(&(hm_class_spec){.name = "Slotted", .slots = slots});
    legacy_cls = hm_class_new(&(hm_class_spec){.name = "Legacy", .flags = HM_TYPE_LEGACY_FINALIZER});
    cr_assert(node_cls && slot_cls && legacy_cls);
    static char names[NKINDS][8];
    for (int i = 0; i < NKINDS; i++) {
        snprintf(names[i], sizeof names[i], "K%d", i);
        kinds[i] = hm_class_new(&(hm_class_spec){.name = names[i]});
        cr_assert(kinds[i]);
    }
    strcpy(dir, "/tmp/hm-fault-XXXXXX");
    cr_assert(mkdtemp(dir));
}

static void classes_free(void)
{
    hm_class_free(node_cls);
    hm_class_free(slot_cls);
    hm_class_free(legacy_cls);
    for (int i = 0; i < NKINDS; i++)
        hm_class_free(kinds[i]);
    char path[128];
    snprintf(path, sizeof path, "%s/snap.json", dir);
    unlink(path);
    rmdir(dir);
}

/* ---- one run of the scenario ---- */

typedef struct run {
    hm_heap *h;
    uint64_t fail_at;   /* the absolute count that fails; 0: none */
    bool persistent;
    const char *where;  /* the step being run, for messages */
    uint64_t before;    /* the count when it began */
    bool settled;       /* the step has been judged */
    int failed_steps;   /* steps that reported the injected failure */
    int absorbed;       /* steps that cannot report, in which it happened */
    const char *first;  /* the first step the failure happened in */
} run;

static bool fired_in_step(const run *r)
{
    uint64_t now = hm_fault_count(r->h);
    if (!r->fail_at)
        return false;
    if (r->persistent)
        return now >= r->fail_at && now > r->before;
    return r->fail_at > r->before && r->fail_at <= now;
}

/* Judges the step that is ending if nothing did: one that cannot report an error. */
static void settle(run *r)
{
    if (!r->settled && fired_in_step(r)) {
        r->absorbed++;
        r->first = r->first ? r->first : r->where;
    }
    r->settled = true;
}

static void step(run *r, const char *where)
{
    settle(r);
    r->where = where;
    r->before = hm_fault_count(r->h);
    r->settled = false;
}

/* A step that reports: it failed exactly when an injected failure happened in it. */
static bool reported(run *r, bool ok, bool is_enomem)
{
    bool fired = fired_in_step(r);
    r->settled = true;
    if (!ok) {
        cr_assert(fired, "%s failed with no injected failure in it (fail_at %llu)", r->where,
                  (unsigned long long)r->fail_at);
        cr_assert(is_enomem, "%s failed, but not as out of memory", r->where);
        r->failed_steps++;
        r->first = r->first ? r->first : r->where;
        return false;
    }
    cr_assert(!fired, "%s succeeded although allocation %llu failed inside it", r->where,
              (unsigned long long)r->fail_at);
    return true;
}

#define OBJ(r, var, expr) \
    (step((r), #expr), (var) = (expr), reported((r), (var) != NULL, true))
#define STATUS(r, expr) \
    (step((r), #expr), status = (expr), reported((r), status >= 0, status == HM_ENOMEM))

static void on_weak(hm_object *wr, void *user)
{
    (void)wr;
    hm_object *log = user, *i = hm_int_new(hm_object_heap(log), 1000);
    if (i) { /* a callback cannot report; losing its record is all that happens */
        hm_list_append(log, i);
        hm_decref(i);
    }
}

static void on_final(hm_object *arg, void *user)
{
    (void)arg;
    ++*(int *)user;
}

static void on_gc(hm_heap *h, hm_gc_phase phase, const hm_gc_info *info, void *user)
{
    (void)h, (void)phase, (void)info;
    ++*(int *)user;
}

static hm_object *make_node(hm_heap *h, void *user)
{
    (void)user;
    return hm_instance_new(h, node_cls);
}

static char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s: %s", path, strerror(errno));
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    cr_assert(feof(f), "%s is larger than the test reads", path);
    fclose(f);
    buf[n] = '\0';
    if (size)
        *size = n;
    return buf;
}

static size_t files_in_dir(void)
{
    DIR *d = opendir(dir);
    cr_assert(d, "%s: %s", dir, strerror(errno));
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, ".."));
    closedir(d);
    return n;
}

/* Objects by type name: the heap's, or a dump's. */
typedef struct histogram {
    size_t n;
    struct { const char *name; size_t count; } types[128];
    const hm_object *skip;
} histogram;

static void histogram_add(histogram *hg, const char *name)
{
    for (size_t i = 0; i < hg->n; i++)
        if (strcmp(hg->types[i].name, name) == 0) {
            hg->types[i].count++;
            return;
        }
    cr_assert_lt(hg->n, 128);
    hg->types[hg->n].name = name;
    hg->types[hg->n++].count = 1;
}

static int histogram_visit(hm_object *o, int generation, void *user)
{
    (void)generation;
    histogram *hg = user;
    if (o != hg->skip)
        histogram_add(hg, o->type->name);
    return 0;
}

/* The dump parses, every reference resolves, and it lists the heap's objects type by type (all
 * but the runtime's garbage list object, which walk_one() makes first: snapshots give its
 * contents as roots, not the list itself). */
static void check_dump(const char *data, size_t size, hm_heap *h, const char *what)
{
    hd_dump *d = NULL;
    hd_error err;
    int rc = hd_load_buffer(data, size, what, NULL, &d, &err);
    cr_assert_eq(rc, HD_OK, "%s does not load: %s", what, err.message);
    static histogram heap, dump;
    hm_object *garbage = hm_gc_garbage(h); /* the heap keeps it */
    hm_decref(garbage);
    heap = (histogram){.skip = garbage};
    hm_heap_foreach(h, histogram_visit, &heap);
    dump = (histogram){0};
    for (uint32_t o = 0; o < hd_object_count(d); o++)
        histogram_add(&dump, hd_type_name(d, hd_object_type(d, o)));
    cr_assert_eq(dump.n, heap.n, "%s: %zu types, the heap has %zu", what, dump.n, heap.n);
    for (size_t i = 0; i < heap.n; i++) {
        size_t j = 0;
        while (j < dump.n && strcmp(dump.types[j].name, heap.types[i].name) != 0)
            j++;
        cr_assert(j < dump.n && dump.types[j].count == heap.types[i].count, "%s: %zu %s objects, the heap has %zu",
                  what, j < dump.n ? dump.types[j].count : 0, heap.types[i].name, heap.types[i].count);
    }
    hd_dump_free(d);
}

/* What a Python program does about gc.garbage: collect, break the cycles the collector could not
 * (the Legacy pair), empty the list, collect again. Out of memory, the collector may not have
 * listed them; a later tidy() finds them again. */
static void tidy(hm_heap *h)
{
    hm_gc_collect(h, HM_GC_FULL, NULL);
    hm_object *garbage = hm_gc_garbage(h);
    for (size_t i = 0; i < hm_list_len(garbage); i++)
        hm_instance_set(hm_list_get(garbage, i), "other", NULL);
    hm_list_clear(garbage);
    hm_decref(garbage);
    hm_gc_collect(h, HM_GC_FULL, NULL);
}

static void scenario(run *r)
{
    hm_heap *h = r->h;
    enum { NOBJ = 24, NSITES = 20 };
    hm_object *o[NOBJ] = {0}; /* every reference the scenario owns, dropped at the end */
    hm_object *a = NULL, *b = NULL, *d = NULL, *e = NULL, *wr = NULL, *fin = NULL, *log = NULL;
    hm_object *list = NULL, *dict = NULL, *map = NULL, *recycler = NULL, *tmp = NULL;
    int status, finals = 0, gcs = 0;
    bool root = false, callback = false, tracing = false;
    char path[128];
    snprintf(path, sizeof path, "%s/snap.json", dir);

    if (!STATUS(r, hm_trace_start(h)))
        goto out;
    tracing = true;
    step(r, "hm_trace_here"); /* best effort: a site it cannot keep is "<unknown>" */
    hm_trace_here(h, __FILE__, __LINE__, __func__);

    if (!OBJ(r, o[0], hm_int_new(h, 7)) || !OBJ(r, o[1], hm_int_new(h, (int64_t)1 << 40)) ||
        !OBJ(r, o[2], hm_str_new(h, "a string of some length, past the small classes")) ||
        !OBJ(r, o[3], hm_str_intern(h, "interned-key")) || !OBJ(r, o[4], hm_str_intern(h, "interned-key")))
        goto out;
    cr_assert_eq(o[3], o[4]);
    if (!OBJ(r, list, hm_list_new(h)) || !OBJ(r, dict, hm_dict_new(h)) || !OBJ(r, log, hm_list_new(h)))
        goto out;
    for (int i = 0; i < 40; i++) {
        if (!OBJ(r, tmp, hm_int_new(h, 1000 + i)))
            goto out;
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        bool ok = STATUS(r, hm_list_append(list, tmp)) && STATUS(r, hm_dict_set_str(dict, key, tmp));
        hm_decref(tmp);
        if (!ok)
            goto out;
    }
    if (!OBJ(r, o[5], hm_tuple_new(h, 3, (hm_object *[]){o[0], o[2], list})))
        goto out;

    /* An instance of each of NKINDS more classes (the snapshot's type table grows), and ints made
     * at NSITES lines (the tracer's site table grows). */
    if (!OBJ(r, o[17], hm_list_new(h)))
        goto out;
    for (int i = 0; i < NKINDS + NSITES; i++) {
        if (i >= NKINDS) {
            step(r, "hm_trace_here");
            hm_trace_here(h, __FILE__, 10000 + i, __func__);
        }
        if (!(i < NKINDS ? OBJ(r, tmp, hm_instance_new(h, kinds[i])) : OBJ(r, tmp, hm_int_new(h, 5000 + i))))
            goto out;
        bool ok = STATUS(r, hm_list_append(o[17], tmp));
        hm_decref(tmp);
        if (!ok)
            goto out;
    }
    hm_trace_here(h, __FILE__, __LINE__, __func__); /* a site seen before: allocates nothing */

    /* A buffer of the heap's, grown past the pools into a malloc block, then again. */
    void *buf, *grown;
    if (!OBJ(r, buf, hm_mem_alloc(h, 400)))
        goto out;
    size_t held = 400; /* a failed realloc leaves the block as it was */
    if (OBJ(r, grown, hm_mem_realloc(h, buf, 400, 3000))) {
        buf = grown, held = 3000;
        if (OBJ(r, grown, hm_mem_realloc(h, buf, 3000, 9000)))
            buf = grown, held = 9000;
    }
    hm_mem_free(h, buf, held);
    if (held != 9000)
        goto out;

    /* A garbage cycle of Nodes, a slotted pair, a cycle with a legacy finalizer. */
    if (!OBJ(r, a, hm_instance_new(h, node_cls)) || !OBJ(r, b, hm_instance_new(h, node_cls)) ||
        !STATUS(r, hm_instance_set(a, "next", b)) || !STATUS(r, hm_instance_set(b, "next", a)) ||
        !STATUS(r, hm_instance_set(a, "payload", dict)))
        goto out;
    if (!OBJ(r, o[6], hm_instance_new(h, slot_cls)) || !STATUS(r, hm_instance_set_slot(o[6], 0, o[1])) ||
        !STATUS(r, hm_instance_set_slot(o[6], 1, o[6])))
        goto out;
    if (!OBJ(r, d, hm_instance_new(h, legacy_cls)) || !OBJ(r, e, hm_instance_new(h, legacy_cls)) ||
        !STATUS(r, hm_instance_set(d, "other", e)) || !STATUS(r, hm_instance_set(e, "other", d)))
        goto out;

    /* Weak references, a weak-value map, a finalizer. */
    if (!OBJ(r, wr, hm_weakref_new(a, on_weak, log)) || !OBJ(r, o[7], hm_weakref_new(o[6], NULL, NULL)) ||
        !OBJ(r, map, hm_weakvaluemap_new(h)) || !STATUS(r, hm_weakvaluemap_set_str(map, "a", a)) ||
        !STATUS(r, hm_weakvaluemap_set_str(map, "slotted", o[6])) ||
        !OBJ(r, fin, hm_finalize_new(b, on_final, o[2], &finals)))
        goto out;

    /* Roots, callbacks, a recycler. */
    if (!STATUS(r, hm_root_set(h, "main", list)))
        goto out;
    root = true;
    if (!STATUS(r, hm_gc_callback_add(h, on_gc, &gcs)))
        goto out;
    callback = true;
    if (!OBJ(r, recycler, hm_recycler_new(h, make_node, NULL, 2)))
        goto out;
    for (int i = 8; i < 11; i++)
        if (!OBJ(r, o[i], hm_recycler_acquire(recycler)))
            goto out;
    for (int i = 8; i < 11; i++) {
        step(r, "hm_recycler_release"); /* steals; keeps or drops, never fails on a good recycler */
        cr_assert_geq(hm_recycler_release(recycler, o[i]), 0);
        o[i] = NULL;
    }

    /* Snapshots: to memory (it must load), to a path (old file kept on failure). */
    char *data = NULL;
    size_t size = 0;
    if (!STATUS(r, hm_snapshot_write_buffer(h, &data, &size, NULL)))
        goto out;
    check_dump(data, size, h, "the buffer snapshot");
    free(data);
    FILE *f = fopen(path, "w");
    cr_assert(f, "%s: %s", path, strerror(errno));
    fputs("old", f);
    fclose(f);
    bool wrote = STATUS(r, hm_snapshot_write(h, path, NULL));
    cr_assert_eq(files_in_dir(), 1, "a temporary file was left beside %s", path);
    const char *now = read_all(path, NULL);
    if (!wrote) {
        cr_assert_str_eq(now, "old", "a failed snapshot changed %s", path);
        goto out;
    }
    check_dump(now, strlen(now), h, path);
    /* The binary index form (a path ending in .hdx): whole and loading, or nothing left. */
    char index[140];
    snprintf(index, sizeof index, "%s/snap.hdx", dir);
    wrote = STATUS(r, hm_snapshot_write(h, index, NULL));
    cr_assert_eq(files_in_dir(), wrote ? 2 : 1, "a temporary file was left beside %s", index);
    if (!wrote)
        goto out;
    size_t index_size;
    now = read_all(index, &index_size);
    check_dump(now, index_size, h, index);
    unlink(index);

    hm_trace_stats st;
    if (!STATUS(r, hm_trace_statistics(h, HM_TRACE_LINENO, &st)))
        goto out;
    cr_assert_gt(st.total_count, 0);
    hm_trace_stats_free(&st);

    /* Weak-key map, weak set, an iteration; the gc module's lists; snapshot triggers armed and
     * disarmed. */
    if (!OBJ(r, o[11], hm_weakkeymap_new(h)) || !STATUS(r, hm_weakkeymap_set(o[11], a, o[2])) ||
        !STATUS(r, hm_weakkeymap_set(o[11], o[6], o[5])) || !OBJ(r, o[12], hm_weakset_new(h)) ||
        !STATUS(r, hm_weakset_add(o[12], b)) || !STATUS(r, hm_weakset_add(o[12], o[6])))
        goto out;
    /* A key dies during an iteration of the set: its removal waits for the end (and, when the
     * memory to queue it is missing, is made by a sweep there). */
    if (!OBJ(r, tmp, hm_instance_new(h, node_cls)) || !STATUS(r, hm_weakset_add(o[12], tmp)) ||
        !STATUS(r, hm_weakkeymap_set(o[11], tmp, o[2]))) {
        hm_xdecref(tmp);
        goto out;
    }
    cr_assert_eq(hm_weakset_len(o[12]), 3);
    hm_weakmap_iter it;
    if (!STATUS(r, hm_weakmap_iter_begin(&it, o[12]))) {
        hm_decref(tmp);
        goto out;
    }
    size_t seen = 0;
    step(r, "a key dies during an iteration"); /* a callback: it cannot report */
    for (hm_object *key; hm_weakmap_iter_next(&it, &key, NULL);)
        if (++seen == 1)
            hm_decref(tmp);
    hm_weakmap_iter_end(&it);
    cr_assert_eq(hm_weakset_len(o[12]), 2, "the dead key's entry is gone after the iteration");
    cr_assert_eq(hm_weakkeymap_len(o[11]), 2);
    size_t left = 0;
    if (!STATUS(r, hm_weakmap_iter_begin(&it, o[12])))
        goto out;
    for (hm_object *key; hm_weakmap_iter_next(&it, &key, NULL);)
        left++;
    hm_weakmap_iter_end(&it);
    cr_assert_eq(left, 2);
    if (!OBJ(r, o[13], hm_gc_get_objects(h, 0)) || !OBJ(r, o[14], hm_gc_get_referrers(h, dict)) ||
        !OBJ(r, o[15], hm_gc_get_referents(a)) || !OBJ(r, o[16], hm_weakref_list(a)))
        goto out;
    cr_assert_eq(hm_list_len(o[14]), 2, "referrers of dict: a's __dict__ and the list of gc objects, not %zu", hm_list_len(o[14]));
    char later[128];
    snprintf(later, sizeof later, "%s/at-exit-%%p.json", dir);
    if (!STATUS(r, hm_snapshot_at_exit(h, later, &(hm_snapshot_options){.name = "at exit"})) ||
        !STATUS(r, hm_snapshot_on_signal(h, SIGUSR2, later, NULL)))
        goto out;
    /* The signal's dump, taken at a safe point; the at-exit one disarmed again. */
    raise(SIGUSR2);
    bool polled = STATUS(r, hm_snapshot_poll(h));
    cr_assert(!polled || status == 1, "one dump for one signal, not %d", status);
    char taken[160];
    snprintf(taken, sizeof taken, "%s/at-exit-%ld.json", dir, (long)getpid());
    cr_assert_eq(access(taken, F_OK) == 0, polled, "the signal's dump is there exactly when written");
    unlink(taken);
    cr_assert_eq(hm_snapshot_at_exit(h, NULL, NULL), HM_OK);
    cr_assert_eq(hm_snapshot_on_signal(h, SIGUSR2, NULL, NULL), HM_OK);
    if (!polled)
        goto out;

out:
    /* Let the cycles go and collect: a collection cannot fail; what it could not record (a
     * weakref callback's list, the garbage list) it does without. */
    hm_xdecref(a), hm_xdecref(b), hm_xdecref(d), hm_xdecref(e);
    step(r, "hm_gc_collect");
    cr_assert_geq(hm_gc_collect(h, HM_GC_FULL, NULL), 0);
    if (root)
        cr_assert_eq(hm_root_remove(h, "main"), HM_OK);
    if (callback)
        cr_assert_eq(hm_gc_callback_remove(h, on_gc, &gcs), HM_OK);
    hm_xdecref(wr), hm_xdecref(fin), hm_xdecref(log), hm_xdecref(list), hm_xdecref(dict);
    hm_xdecref(map), hm_xdecref(recycler);
    for (int i = 0; i < NOBJ; i++)
        hm_xdecref(o[i]);
    if (tracing)
        hm_trace_stop(h);
    tidy(h);
    settle(r);
}

/* The heap after a run: a snapshot of it loads, and it holds what it held before. */
static void check_heap(hm_heap *h, size_t objects, size_t bytes, uint64_t k, const char *where)
{
    hm_heap_stats st;
    hm_heap_get_stats(h, &st);
    cr_assert_eq(st.objects, objects, "failing allocation %llu (in %s): %zu objects left, %zu before",
                 (unsigned long long)k, where, st.objects, objects);
    cr_assert_eq(st.bytes, bytes, "failing allocation %llu (in %s): %zu bytes left, %zu before",
                 (unsigned long long)k, where, st.bytes, bytes);
    char *data;
    size_t size;
    cr_assert_eq(hm_snapshot_write_buffer(h, &data, &size, NULL), HM_OK);
    check_dump(data, size, h, "the heap after the run");
    free(data);
}

/* A run with allocation k failing (k = 0: none, only counting), then a clean run again, on a heap
 * that is cold (fresh: the failure also lands on what a heap makes on first use, its weakref and
 * interned-string tables, tracing's tables, the snapshot triggers) or warm (caches, tables and
 * pools at their size after a clean run: the heap must then come back to exactly the objects and
 * bytes it held). */
static void walk_one(uint64_t k, bool persistent, bool cold, uint64_t *total_seen)
{
    run r = {.h = hm_heap_new()};
    cr_assert(r.h);
    /* The garbage list is the runtime's, made on first use: check_dump() needs it made first. */
    hm_decref(hm_gc_garbage(r.h));
    if (!cold) {
        for (int i = -5; i <= 256; i++) /* the small-int cache, also made on first use */
            hm_decref(hm_int_new(r.h, i));
        scenario(&r);
    }
    hm_heap_stats st;
    hm_heap_get_stats(r.h, &st);
    hm_fault_fail_at(r.h, k, persistent);
    r.fail_at = k;
    r.persistent = persistent;
    scenario(&r);
    if (!k)
        *total_seen = hm_fault_count(r.h);
    hm_fault_stop(r.h);
    tidy(r.h);
    /* The failure happened, and exactly once where it is not persistent, in one step. */
    if (k && k <= *total_seen && !persistent)
        cr_assert_eq(r.failed_steps + r.absorbed, 1, "failing allocation %llu: %d steps failed, %d absorbed it",
                     (unsigned long long)k, r.failed_steps, r.absorbed);
    if (k && k <= *total_seen && persistent)
        cr_assert_geq(r.failed_steps + r.absorbed, 1, "failing allocation %llu went unseen", (unsigned long long)k);
    const char *where = r.first ? r.first : "-";
    if (!cold)
        check_heap(r.h, st.objects, st.bytes, k, where);
    run again = {.h = r.h};
    scenario(&again);
    hm_heap_get_stats(r.h, &st);
    check_heap(r.h, st.objects, st.bytes, k, where); /* its snapshot loads and matches */
    cr_assert_eq(hm_heap_destroy(r.h, NULL), 0, "failing allocation %llu (in %s): objects alive at destroy",
                 (unsigned long long)k, where);
}

static void walk(bool persistent, bool cold)
{
    uint64_t total = 0;
    walk_one(0, false, cold, &total);
    cr_assert_gt(total, 150, "the scenario makes %llu allocations", (unsigned long long)total);
    for (uint64_t k = 1; k <= total + 1; k++)
        walk_one(k, persistent, cold, &total);
}

Test(fault, counts_and_disarms)
{
    hm_heap *h = hm_heap_new();
    hm_decref(hm_str_new(h, "the first object also maps the first arena"));
    hm_object *s = hm_str_new(h, "not counted");
    cr_assert_eq(hm_fault_count(h), 0, "nothing is counted before hm_fault_fail_at()");
    hm_fault_fail_at(h, 0, false);
    hm_decref(hm_str_new(h, "counted"));
    cr_assert_eq(hm_fault_count(h), 1, "one object, one allocation");
    hm_fault_fail_at(h, 2, false);
    hm_object *x = hm_str_new(h, "first"), *y = hm_str_new(h, "second"), *z = hm_str_new(h, "third");
    cr_assert(x && !y && z, "only the second allocation from now fails");
    hm_fault_fail_at(h, 1, true);
    cr_assert_null(hm_list_new(h));
    cr_assert_null(hm_str_new(h, "still failing"));
    cr_assert_eq(hm_list_append(s, s), HM_EINVAL, "argument errors come before allocation");
    hm_fault_stop(h);
    hm_object *l = hm_list_new(h);
    cr_assert_not_null(l, "stopped");
    cr_assert_eq(hm_fault_count(h), 0);
    hm_decref(s), hm_decref(x), hm_decref(z), hm_decref(l);
    cr_assert_eq(hm_heap_destroy(h, NULL), 0);
}

Test(fault, walk_every_allocation_once, .init = classes_new, .fini = classes_free, .timeout = 600)
{
    walk(false, false);
}

Test(fault, walk_every_allocation_persistent, .init = classes_new, .fini = classes_free, .timeout = 600)
{
    walk(true, false);
}

Test(fault, walk_every_allocation_on_a_fresh_heap, .init = classes_new, .fini = classes_free, .timeout = 600)
{
    walk(false, true);
}

/* A new arena that cannot be had: the block asked for is refused, nothing else changes. */
Test(fault, arena_failure)
{
    enum { MAX = 8192, SIZE = 512 };
    static void *blocks[MAX];
    /* Where does a block need a new arena? Counting: such an allocation counts twice. */
    hm_heap *h = hm_heap_new();
    size_t m = 0;
    for (size_t i = 0; i < MAX && !m; i++) {
        hm_fault_fail_at(h, 0, false);
        blocks[i] = hm_mem_alloc(h, SIZE);
        if (i > 0 && hm_fault_count(h) == 2)
            m = i;
    }
    cr_assert_gt(m, 0, "no second arena in %d blocks", MAX);
    hm_heap_destroy(h, NULL);

    /* The same blocks again, the arena of block m refused. */
    h = hm_heap_new();
    for (size_t i = 0; i < m; i++)
        cr_assert_not_null(blocks[i] = hm_mem_alloc(h, SIZE));
    hm_pool_stats before, after;
    hm_heap_stats hs_before, hs_after;
    hm_pool_get_stats(h, &before);
    hm_heap_get_stats(h, &hs_before);
    hm_fault_fail_at(h, 2, false); /* the block (1), then its arena (2) */
    cr_assert_null(hm_mem_alloc(h, SIZE));
    cr_assert_eq(hm_fault_count(h), 2);
    hm_fault_stop(h);
    hm_pool_get_stats(h, &after);
    hm_heap_get_stats(h, &hs_after);
    cr_assert_eq(after.arenas_current, before.arenas_current);
    cr_assert_eq(after.arenas_allocated, before.arenas_allocated);
    cr_assert_eq(after.bytes_in_allocated_blocks, before.bytes_in_allocated_blocks);
    cr_assert_eq(hs_after.bytes, hs_before.bytes);
    cr_assert_not_null(blocks[m] = hm_mem_alloc(h, SIZE), "memory is back");
    hm_pool_get_stats(h, &after);
    cr_assert_eq(after.arenas_current, before.arenas_current + 1);
    for (size_t i = 0; i <= m; i++)
        hm_mem_free(h, blocks[i], SIZE);
    hm_heap_get_stats(h, &hs_after);
    cr_assert_eq(hs_after.bytes, 0);
    hm_heap_destroy(h, NULL);
}
