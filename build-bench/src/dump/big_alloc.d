build-bench/src/dump/big_alloc.o: src/dump/big_alloc.c \
 src/dump/dump_internal.h include/heapdump.h src/dump/idmap.h \
 src/dump/strtab.h
src/dump/dump_internal.h:
include/heapdump.h:
src/dump/idmap.h:
src/dump/strtab.h:
