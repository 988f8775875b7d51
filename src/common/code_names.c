/* code_names.c: see code_names.h. */
#include "common/code_names.h"
#include "common/symbol_index.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

const char *ht_covering_symbol(Dwfl_Module *m, uintptr_t addr, GElf_Off *off)
{
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(m, addr, off, &sym, NULL, NULL, NULL);
    if (!name || !*name || (sym.st_size ? *off >= sym.st_size : *off != 0))
        return NULL;
    return name;
}

void ht_code_names_of(Dwfl_Module *m, uintptr_t pc, ht_demangle_fn *demangle, ht_code_names *out)
{
    *out = (ht_code_names){0};
    uintptr_t at = pc - 1; /* a return address: the call is the instruction before it */
    GElf_Off off;
    const char *name = ht_indexed_covering_symbol(m, at, &off);
    if (name) {
        int status = -1;
        bool mangled = demangle && name[0] == '_' && name[1] == 'Z';
        char *plain = mangled ? demangle(name, NULL, NULL, &status) : NULL;
        /* no @@GLIBC_2.34 */
        out->function = status == 0 && plain ? plain : strndup(name, strcspn(name, "@"));
    }
    Dwfl_Line *line = dwfl_module_getsrc(m, at);
    int lineno = 0;
    const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
    if (file) {
        out->file = strdup(file);
        out->line = lineno > 0 ? (uint32_t)lineno : 0;
    }
}
