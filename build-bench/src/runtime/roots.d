build-bench/src/runtime/roots.o: src/runtime/roots.c \
 include/hm_snapshot.h include/hm.h src/runtime/internal.h include/hm.h \
 src/runtime/pool.h
include/hm_snapshot.h:
include/hm.h:
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
