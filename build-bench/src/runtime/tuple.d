build-bench/src/runtime/tuple.o: src/runtime/tuple.c \
 src/runtime/internal.h include/hm.h src/runtime/pool.h
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
