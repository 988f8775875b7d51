/* leaks_native.h: `heaptool leaks` for dumps of native processes (leaks_native.c). */
#ifndef HEAPTOOL_LEAKS_NATIVE_H
#define HEAPTOOL_LEAKS_NATIVE_H

#include "cli.h"

/* Prints memcheck's loss records (the lost kinds; still reachable too when reachable is set; the
 * top biggest, 0: all) and its summary, as text or JSON. Sets *leaked when some block is
 * definitely or possibly lost. Returns an exit status. */
int print_leak_kinds(const char *path, const hd_dump *d, bool json, uint64_t top, bool reachable,
                     bool *leaked);

#endif
