build-bench/src/dump/referrers.o: src/dump/referrers.c \
 src/dump/analysis.h include/heapdump.h
src/dump/analysis.h:
include/heapdump.h:
