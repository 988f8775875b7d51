/* symbols.h: names for code and data addresses in a snapshot child (symbols.c). */
#ifndef HEAPTOOL_RECORD_SYMBOLS_H
#define HEAPTOOL_RECORD_SYMBOLS_H

#include "record/record.h"

typedef struct rec_symbols rec_symbols;

typedef struct rec_frame_info {
    char *function;     /* demangled; NULL when no symbol covers the address */
    char *file;         /* NULL without line information */
    uint32_t line;
    const char *module; /* NULL outside every known module */
    uint64_t offset;    /* the address's offset from the module's load bias */
} rec_frame_info;

rec_symbols *rec_symbols_open(const rec_world *w);
void rec_symbols_close(rec_symbols *s);
/* pc is a return address. */
void rec_symbolize(rec_symbols *s, uintptr_t pc, rec_frame_info *out);
/* A global's name: "sym", "sym+0x10" in the program, "libfoo.so:sym+0x10" in a library,
 * "libfoo.so+0x2340" where no symbol covers it. */
void rec_global_name(rec_symbols *s, int module, uintptr_t where, char *buf, size_t cap);
/* function is an allocator or an allocation wrapper: built in, or in extra ("a,b*"). */
bool rec_is_wrapper(const char *function, const char *extra);

#endif
