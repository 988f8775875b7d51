build-bench/src/runtime/weakref.o: src/runtime/weakref.c \
 src/runtime/weak.h src/runtime/internal.h include/hm.h \
 src/runtime/pool.h
src/runtime/weak.h:
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
