build-bench/src/runtime/finalize.o: src/runtime/finalize.c \
 src/runtime/weak.h src/runtime/internal.h include/hm.h \
 src/runtime/pool.h
src/runtime/weak.h:
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
