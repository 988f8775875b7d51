build-bench/src/runtime/snapshot.o: src/runtime/snapshot.c \
 include/hm_snapshot.h include/hm.h src/runtime/internal.h include/hm.h \
 src/runtime/pool.h src/runtime/snapshot.h src/runtime/snapshot_out.h
include/hm_snapshot.h:
include/hm.h:
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
src/runtime/snapshot.h:
src/runtime/snapshot_out.h:
