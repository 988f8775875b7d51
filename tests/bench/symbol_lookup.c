/* symbol_lookup.c: times naming random addresses in libc (with libc6-dbg's full table when
 * installed) and CPython's binary, as the recorder's dump names frames and globals: through the
 * symbol index (its build included) and through libdw's whole-table scan, and checks they agree;
 * and the indexes' bytes on the heap.
 *   build/bench/symbol_lookup [ADDRESSES (default 100000)] */
#include <elfutils/libdwfl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../random_numbers.h"
#include "common/code_names.h"
#include "common/symbol_index.h"
#include "timing.h"

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

typedef const char *lookup_fn(Dwfl_Module *m, uintptr_t addr, GElf_Off *off);

/* Seconds to name every address; names[i] receives address i's. */
static double time_lookups(Dwfl *dwfl, const uintptr_t *addrs, size_t n, lookup_fn *lookup,
                           const char **names)
{
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        Dwfl_Module *m = dwfl_addrmodule(dwfl, addrs[i]);
        GElf_Off off;
        names[i] = m ? lookup(m, addrs[i], &off) : NULL;
    }
    return now() - t0;
}

/* Bytes allocated, big blocks (mmap'd) included. */
static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    const char *paths[] = {"/lib/x86_64-linux-gnu/libc.so.6", "/usr/bin/python3.11"};
    Dwfl *dwfl = dwfl_begin(&callbacks);
    dwfl_report_begin(dwfl);
    Dwarf_Addr lows[2], highs[2];
    size_t nmodules = 0, nsymbols = 0;
    for (size_t i = 0; i < 2; i++) {
        Dwfl_Module *m = access(paths[i], R_OK) ? NULL
                                                : dwfl_report_elf(dwfl, paths[i], paths[i], -1,
                                                                  (Dwarf_Addr)(i + 1) << 32, false);
        if (!m)
            continue;
        dwfl_module_info(m, NULL, &lows[nmodules], &highs[nmodules], NULL, NULL, NULL, NULL);
        int count = dwfl_module_getsymtab(m);
        printf("%s: %d symbols\n", paths[i], count);
        nsymbols += count > 0 ? (size_t)count : 0;
        nmodules++;
    }
    dwfl_report_end(dwfl, NULL, NULL);
    if (!nmodules) {
        fprintf(stderr, "symbol_lookup: neither %s nor %s\n", paths[0], paths[1]);
        return 1;
    }
    uintptr_t *addrs = malloc(n * sizeof *addrs);
    const char **by_index = malloc(n * sizeof *by_index), **by_scan = malloc(n * sizeof *by_scan);
    if (!n || !addrs || !by_index || !by_scan) {
        fprintf(stderr, "symbol_lookup: no room for %zu addresses\n", n);
        return 1;
    }
    uint64_t seed = 42;
    for (size_t i = 0; i < n; i++) {
        size_t k = i % nmodules;
        addrs[i] = lows[k] + splitmix64(&seed) % (highs[k] - lows[k]);
    }
    size_t heap_before = heap_bytes();
    double indexed = time_lookups(dwfl, addrs, n, ht_indexed_covering_symbol, by_index);
    size_t index_bytes = heap_bytes() - heap_before;
    double scanned = time_lookups(dwfl, addrs, n, ht_covering_symbol, by_scan);
    size_t named = 0, differ = 0;
    for (size_t i = 0; i < n; i++) {
        named += by_scan[i] != NULL;
        differ += by_scan[i] != by_index[i];
    }
    printf("%zu addresses (%zu named): libdw's scan %.3f s (%.2f us each), index %.3f s "
           "(%.3f us each, its build included)\n",
           n, named, scanned, scanned * 1e6 / (double)n, indexed, indexed * 1e6 / (double)n);
    printf("indexes: %zu bytes on the heap, %.1f per symbol\n", index_bytes, (double)index_bytes / (double)nsymbols);
    ht_dwfl_end(dwfl);
    free(addrs);
    free(by_index);
    free(by_scan);
    if (differ)
        fprintf(stderr, "symbol_lookup: %zu addresses named differently\n", differ);
    return differ != 0;
}
