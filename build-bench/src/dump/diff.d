build-bench/src/dump/diff.o: src/dump/diff.c src/dump/analysis.h \
 include/heapdump.h
src/dump/analysis.h:
include/heapdump.h:
