build-bench/src/dump/dump.o: src/dump/dump.c src/dump/dump_internal.h \
 include/heapdump.h src/dump/idmap.h src/dump/strtab.h
src/dump/dump_internal.h:
include/heapdump.h:
src/dump/idmap.h:
src/dump/strtab.h:
