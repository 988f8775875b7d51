/* symbol_index.h: ht_covering_symbol's answers by binary search. libdw's dwfl_module_addrinfo
 * reads a module's whole symbol table on every call; this reads it once per module, into a
 * sorted index kept in the module's userdata slot (nothing else of ours uses that slot). */
#ifndef HEAPTOOL_SYMBOL_INDEX_H
#define HEAPTOOL_SYMBOL_INDEX_H

#include <elfutils/libdwfl.h>
#include <stdint.h>

/* Exactly what ht_covering_symbol(m, addr, off) returns: the name (libdw's string, valid until
 * the Dwfl ends) of the symbol covering addr, with addr's offset in *off, or NULL. The first
 * call on m builds m's index: a Dwfl whose modules were looked up must end with ht_dwfl_end.
 * One thread at a time per Dwfl, as libdw itself asks. */
const char *ht_indexed_covering_symbol(Dwfl_Module *m, uintptr_t addr, GElf_Off *off);

/* dwfl_end(dwfl), after freeing the indexes its modules keep. */
void ht_dwfl_end(Dwfl *dwfl);

#endif
