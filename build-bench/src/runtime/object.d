build-bench/src/runtime/object.o: src/runtime/object.c \
 src/runtime/internal.h include/hm.h src/runtime/pool.h \
 src/runtime/snapshot.h include/hm_snapshot.h include/hm.h \
 src/runtime/snapshot_out.h
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
src/runtime/snapshot.h:
include/hm_snapshot.h:
include/hm.h:
src/runtime/snapshot_out.h:
