/* heaptool_record.h: ask the native recorder (heaptool record, or LD_PRELOAD=libheaptool-record.so)
 * for a heap dump from inside the program. Optional: the symbol is weak, so a program built with
 * this header runs the same without the recorder, where the call does nothing and returns -1. */
#ifndef HEAPTOOL_RECORD_PUBLIC_H
#define HEAPTOOL_RECORD_PUBLIC_H

#ifdef __cplusplus
extern "C" {
#endif

/* Writes a heapdump v1 of every live block to path (".gz": compressed), atomically, and returns
 * 0 once it is written; -1 when it could not be (the reason is on stderr) or when the program
 * runs without the recorder. The dump is taken in a forked child: the calling thread waits for
 * it, the program's other threads run on. */
int heaptool_record_dump(const char *path) __attribute__((weak));

#ifndef HEAPTOOL_RECORD_IMPLEMENTATION
#define heaptool_record_dump(path) (heaptool_record_dump ? (heaptool_record_dump)(path) : -1)
#endif

#ifdef __cplusplus
}
#endif
#endif
