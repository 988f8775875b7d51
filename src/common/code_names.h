/* code_names.h: a return address's function, source file and line, with elfutils' libdwfl.
 * Shared by the native recorder (src/record/symbols.c, in its snapshot child) and libhm's
 * tracing (src/runtime/trace_frames.c, when a snapshot is written). */
#ifndef HEAPTOOL_CODE_NAMES_H
#define HEAPTOOL_CODE_NAMES_H

#include <elfutils/libdwfl.h>
#include <stdint.h>

/* __cxa_demangle's signature: libstdc++'s, when the program has it. */
typedef char *ht_demangle_fn(const char *mangled, char *buf, size_t *len, int *status);

/* The symbol covering addr in m (a size-0 symbol covers only its own address), with addr's
 * offset from it in *off; NULL when none does. A stripped library's static function is not
 * passed off as the exported one before it. Reads m's whole symbol table (libdw's
 * dwfl_module_addrinfo): lookups go through ht_indexed_covering_symbol (symbol_index.h), which
 * answers the same, and this stays as its definition and its tests' oracle. */
const char *ht_covering_symbol(Dwfl_Module *m, uintptr_t addr, GElf_Off *off);

typedef struct ht_code_names {
    char *function; /* demangled when demangle is given; malloc'd; NULL without a symbol */
    char *file;     /* malloc'd; NULL without line information */
    uint32_t line;
} ht_code_names;
/* The names of the call that return address pc (in m) comes back to: the instruction before.
 * Builds m's symbol index: m's Dwfl ends with ht_dwfl_end. */
void ht_code_names_of(Dwfl_Module *m, uintptr_t pc, ht_demangle_fn *demangle, ht_code_names *out);

#endif
