build-bench/src/runtime/status.o: src/runtime/status.c include/hm.h
include/hm.h:
