build-bench/src/dump/stats.o: src/dump/stats.c src/dump/dump_internal.h \
 include/heapdump.h src/dump/idmap.h src/dump/strtab.h
src/dump/dump_internal.h:
include/heapdump.h:
src/dump/idmap.h:
src/dump/strtab.h:
