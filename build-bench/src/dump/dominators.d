build-bench/src/dump/dominators.o: src/dump/dominators.c \
 src/dump/dump_internal.h include/heapdump.h src/dump/idmap.h \
 src/dump/strtab.h
src/dump/dump_internal.h:
include/heapdump.h:
src/dump/idmap.h:
src/dump/strtab.h:
