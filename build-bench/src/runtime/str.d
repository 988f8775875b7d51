build-bench/src/runtime/str.o: src/runtime/str.c src/runtime/internal.h \
 include/hm.h src/runtime/pool.h
src/runtime/internal.h:
include/hm.h:
src/runtime/pool.h:
