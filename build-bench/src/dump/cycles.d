build-bench/src/dump/cycles.o: src/dump/cycles.c src/dump/analysis.h \
 include/heapdump.h
src/dump/analysis.h:
include/heapdump.h:
