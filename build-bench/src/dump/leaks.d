build-bench/src/dump/leaks.o: src/dump/leaks.c src/dump/analysis.h \
 include/heapdump.h
src/dump/analysis.h:
include/heapdump.h:
