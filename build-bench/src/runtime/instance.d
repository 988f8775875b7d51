build-bench/src/runtime/instance.o: src/runtime/instance.c \
 src/runtime/internal.h include/hm.h src/runtime/pool.h
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
