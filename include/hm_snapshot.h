/* hm_snapshot.h: heap snapshots from libhm. A snapshot is a heapdump v1 document
 * (formats/heapdump.md) that heaptool and libheapdump read: every live object with its type,
 * size, count, generation, flags, site and label, every strong reference with its name, the weak
 * references, the roots, and the allocator's and collector's state.
 *
 * The writer streams: it holds a fixed-size buffer, never the dump, whatever the heap's size. It
 * reads the heap and runs the types' label and traverse hooks, which must not create or free
 * objects (the same rule traverse already has). While it runs it borrows the collector's
 * per-object scratch word and sorts each collector list by id (so that records come out in id
 * order, as the format asks); nothing else about the heap changes.
 *
 * Every function returns HM_OK or a negative HM_E* status: HM_EINVAL (bad argument), HM_EBUSY
 * (called during a collection or a deallocation, when objects are on private lists), HM_ENOMEM,
 * HM_EIO (errno tells why). */
#ifndef HM_SNAPSHOT_H
#define HM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "hm.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hm_snapshot_options {
    const char *name; /* meta.name: what the program calls this snapshot; NULL for none */
    bool no_labels;   /* leave the labels out: smaller, and none of the program's data */
} hm_snapshot_options;

/* Writes atomically: to a temporary file in path's directory, then renamed over path, so that
 * whatever happens to the process, path holds the old file or the whole new one (not synced to
 * disk: a power cut may lose the newest). On a failure path is untouched and no temporary file
 * is left. A path ending in ".gz" is written gzip-compressed; one ending in ".hdx" is written as a
 * binary index (formats/heapdump-binary.md), which every heaptool command reads as it reads the
 * JSON of the same moment, with nothing to parse; ".hdx.gz" is HM_EINVAL (an index is not
 * compressed). opts may be NULL. */
int hm_snapshot_write(hm_heap *h, const char *path, const hm_snapshot_options *opts);

/* Writes to an open stream (not closed; flushed). A failure may leave part of a dump in it. */
int hm_snapshot_write_file(hm_heap *h, FILE *f, const hm_snapshot_options *opts);

/* Writes into a new malloc'd buffer (*data, *size; free() it), for reading back in the same
 * process with hd_load_buffer() from heapdump.h, without touching the disk. */
int hm_snapshot_write_buffer(hm_heap *h, char **data, size_t *size, const hm_snapshot_options *opts);

/* ---- named roots: objects the program holds under a name, like a module's globals ----
 * A named root holds one reference; snapshots list it with kind "named" and its name.
 * hm_heap_destroy() drops the named roots (newest first) before it reports what is alive. */
int hm_root_set(hm_heap *h, const char *name, hm_object *o); /* replaces a root of that name */
int hm_root_remove(hm_heap *h, const char *name);             /* HM_EKEY if there is none */
hm_object *hm_root_get(const hm_heap *h, const char *name);   /* borrowed; NULL if none */
size_t hm_root_count(const hm_heap *h);

/* ---- snapshots on request ----
 * Paths may hold "%p" (the process id), "%n" (1, 2, 3... per heap and trigger) and "%%".
 *
 * At exit: the dump is written when the heap is destroyed (first, before atexit finalizers run
 * and named roots are dropped) or, if the heap is still alive then, when the process exits.
 * path NULL disarms. */
int hm_snapshot_at_exit(hm_heap *h, const char *path, const hm_snapshot_options *opts);

/* On a signal: the handler only notes that the signal came. The dump is taken at the next safe
 * point of the heap: the next creation of a container object (where a collection could run too),
 * or an explicit hm_snapshot_poll(). Never inside the handler. path NULL disarms. */
int hm_snapshot_on_signal(hm_heap *h, int signo, const char *path, const hm_snapshot_options *opts);

/* A safe point: takes the dumps signals asked for. Returns how many it wrote, or a status. */
int hm_snapshot_poll(hm_heap *h);

/* Arms from the environment: HM_SNAPSHOT=PATH dumps at exit; HM_SNAPSHOT_SIGNAL=SIG (a number or
 * a name such as USR1 or SIGUSR1) together with HM_SNAPSHOT_SIGNAL_PATH=PATH (default
 * "heap-%p-%n.json") dumps on that signal. Returns HM_OK also when neither is set, HM_EINVAL for
 * a signal it does not know. */
int hm_snapshot_from_env(hm_heap *h);

#ifdef __cplusplus
}
#endif

#endif /* HM_SNAPSHOT_H */
