build-bench/src/runtime/int.o: src/runtime/int.c src/runtime/internal.h \
 include/hm.h src/runtime/pool.h
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
