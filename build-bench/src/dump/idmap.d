build-bench/src/dump/idmap.o: src/dump/idmap.c src/dump/idmap.h \
 src/dump/dump_internal.h include/heapdump.h src/dump/strtab.h
src/dump/idmap.h:
src/dump/dump_internal.h:
include/heapdump.h:
src/dump/strtab.h:
