build-bench/src/dump/paths.o: src/dump/paths.c src/dump/analysis.h \
 include/heapdump.h
src/dump/analysis.h:
include/heapdump.h:
