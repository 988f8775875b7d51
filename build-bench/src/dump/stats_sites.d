build-bench/src/dump/stats_sites.o: src/dump/stats_sites.c \
 src/dump/analysis.h include/heapdump.h
src/dump/analysis.h:
include/heapdump.h:
