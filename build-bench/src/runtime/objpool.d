build-bench/src/runtime/objpool.o: src/runtime/objpool.c \
 src/runtime/internal.h include/hm.h src/runtime/pool.h
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
