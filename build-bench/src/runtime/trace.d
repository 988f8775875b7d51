build-bench/src/runtime/trace.o: src/runtime/trace.c \
 src/runtime/internal.h include/hm.h src/runtime/pool.h
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
