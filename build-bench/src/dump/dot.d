build-bench/src/dump/dot.o: src/dump/dot.c src/dump/analysis.h \
 include/heapdump.h
src/dump/analysis.h:
include/heapdump.h:
