build-bench/src/runtime/snapshot_out.o: src/runtime/snapshot_out.c \
 include/hm.h src/runtime/snapshot_out.h
include/hm.h:
src/runtime/snapshot_out.h:
