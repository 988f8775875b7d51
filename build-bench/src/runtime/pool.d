build-bench/src/runtime/pool.o: src/runtime/pool.c src/runtime/internal.h \
 include/hm.h src/runtime/pool.h
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
