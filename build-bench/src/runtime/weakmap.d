build-bench/src/runtime/weakmap.o: src/runtime/weakmap.c \
 src/runtime/weak.h src/runtime/internal.h include/hm.h \
 src/runtime/pool.h
src/runtime/weak.h:
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
