build-bench/src/dump/load.o: src/dump/load.c src/dump/dump_internal.h \
 include/heapdump.h src/dump/idmap.h src/dump/strtab.h src/dump/lexer.h \
 src/dump/source.h src/dump/v8.h
src/dump/dump_internal.h:
include/heapdump.h:
src/dump/idmap.h:
src/dump/strtab.h:
src/dump/lexer.h:
src/dump/source.h:
src/dump/v8.h:
