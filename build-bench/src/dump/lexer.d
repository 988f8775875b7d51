build-bench/src/dump/lexer.o: src/dump/lexer.c src/dump/lexer.h \
 include/heapdump.h src/dump/source.h
src/dump/lexer.h:
include/heapdump.h:
src/dump/source.h:
