build-bench/src/dump/graph.o: src/dump/graph.c src/dump/analysis.h \
 include/heapdump.h
src/dump/analysis.h:
include/heapdump.h:
