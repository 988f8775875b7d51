build-bench/src/runtime/heap.o: src/runtime/heap.c src/runtime/internal.h \
 include/hm.h src/runtime/pool.h
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
