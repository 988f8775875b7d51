/* snapshot.h: the writer's core, shared by the destinations (snapshot_file.c) and the triggers
 * (snapshot_trigger.c). */
#ifndef HM_RUNTIME_SNAPSHOT_H
#define HM_RUNTIME_SNAPSHOT_H

#include <signal.h>

#include "hm_snapshot.h"
#include "runtime/snapshot_out.h"

/* Writes the whole dump through out and flushes it: HM_OK or the first failure. */
int hm__snapshot_emit(hm_heap *h, hm__out *out, const hm_snapshot_options *opts);

/* Bumped by the snapshot signal handler. A heap whose snapshot_epoch differs has a safe point
 * due: hm__snapshot_safe_point() takes the dumps its signal asked for. */
extern volatile sig_atomic_t hm__snapshot_epoch;
void hm__snapshot_safe_point(hm_heap *h);

#endif
