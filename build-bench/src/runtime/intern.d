build-bench/src/runtime/intern.o: src/runtime/intern.c \
 src/runtime/internal.h include/hm.h src/runtime/pool.h
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
