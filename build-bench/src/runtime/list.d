build-bench/src/runtime/list.o: src/runtime/list.c src/runtime/internal.h \
 include/hm.h src/runtime/pool.h
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
