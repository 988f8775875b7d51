build-bench/src/dump/source.o: src/dump/source.c src/dump/source.h
src/dump/source.h:
