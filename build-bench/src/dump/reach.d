build-bench/src/dump/reach.o: src/dump/reach.c src/dump/analysis.h \
 include/heapdump.h
src/dump/analysis.h:
include/heapdump.h:
