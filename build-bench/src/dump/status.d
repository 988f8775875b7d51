build-bench/src/dump/status.o: src/dump/status.c include/heapdump.h
include/heapdump.h:
