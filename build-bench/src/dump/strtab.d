build-bench/src/dump/strtab.o: src/dump/strtab.c src/dump/strtab.h
src/dump/strtab.h:
