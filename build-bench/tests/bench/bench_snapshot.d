build-bench/tests/bench/bench_snapshot.o: tests/bench/bench_snapshot.c \
 include/hm.h include/hm_snapshot.h include/hm.h
include/hm.h:
include/hm_snapshot.h:
include/hm.h:
