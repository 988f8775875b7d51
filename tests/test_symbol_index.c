/* test_symbol_index.c: the symbol index (src/common/symbol_index.c) against its definition,
 * libdw's whole-table scan (ht_covering_symbol), on real modules: libc (whose symbols come from
 * libc6-dbg's debug file when it is installed: locals and globals), libdw, this test, CPython's
 * stripped binary when present, and every module of this process as libhm's tracing reports
 * them (the vdso's symbols come from its dynamic table alone). Addresses: every symbol's first
 * and last byte and the bytes around it, and random ones across each module and the gaps. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>

#include "common/code_names.h"
#include "common/symbol_index.h"
#include "random_numbers.h"

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

/* The libdw scan reads the whole table per address: libc's 10k symbols are sampled. */
#define SYMBOLS_CHECKED 1500
#define RANDOM_ADDRESSES 3000

typedef struct tally {
    size_t addresses, named;
} tally;

static void check_address(Dwfl_Module *m, uintptr_t addr, tally *t)
{
    GElf_Off want_off = 0, got_off = 0;
    const char *want = ht_covering_symbol(m, addr, &want_off);
    const char *got = ht_indexed_covering_symbol(m, addr, &got_off);
    const char *module = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    cr_assert_eq(got, want, "%s at %#jx: the index says %s, libdw %s", module, (uintmax_t)addr,
                 got ? got : "(none)", want ? want : "(none)");
    if (want)
        cr_assert_eq(got_off, want_off, "%s at %#jx (%s): offset %#jx, libdw's %#jx", module,
                     (uintmax_t)addr, want, (uintmax_t)got_off, (uintmax_t)want_off);
    t->addresses++;
    t->named += want != NULL;
}

static void check_module(Dwfl_Module *m, uint64_t seed, tally *t)
{
    Dwarf_Addr low, high;
    dwfl_module_info(m, NULL, &low, &high, NULL, NULL, NULL, NULL);
    int n = dwfl_module_getsymtab(m);
    int step = n > SYMBOLS_CHECKED ? n / SYMBOLS_CHECKED : 1;
    for (int i = 1 + (int)(seed % (uint64_t)step); i < n; i += step) {
        GElf_Sym sym;
        GElf_Addr value;
        if (!dwfl_module_getsym_info(m, i, &sym, &value, NULL, NULL, NULL))
            continue;
        uintptr_t around[] = {value - 1, value, value + 1, value + sym.st_size - 1,
                              value + sym.st_size, value + sym.st_size + 1};
        for (size_t k = 0; k < sizeof around / sizeof around[0]; k++)
            check_address(m, around[k], t);
    }
    /* across the module and a page either side of it */
    uintptr_t from = low - 4096, span = high - low + 2 * 4096;
    for (int i = 0; i < RANDOM_ADDRESSES; i++)
        check_address(m, from + splitmix64(&seed) % span, t);
}

static Dwfl *dwfl_of_files(const char *const *paths, size_t n)
{
    Dwfl *dwfl = dwfl_begin(&callbacks);
    cr_assert(dwfl);
    dwfl_report_begin(dwfl);
    for (size_t i = 0; i < n; i++)
        if (access(paths[i], R_OK) == 0)
            cr_assert(dwfl_report_elf(dwfl, paths[i], paths[i], -1, (i + 1) << 32, false),
                      "%s: %s", paths[i], dwfl_errmsg(-1));
    dwfl_report_end(dwfl, NULL, NULL);
    return dwfl;
}

static int check_each(Dwfl_Module *m, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
    (void)userdata, (void)start;
    tally t = {0};
    check_module(m, 0x5eed + start, &t);
    cr_log_info("%s: %zu addresses, %zu named", name, t.addresses, t.named);
    ((tally *)arg)->addresses += t.addresses;
    ((tally *)arg)->named += t.named;
    return DWARF_CB_OK;
}

Test(symbol_index, answers_as_libdw_does_on_files, .timeout = 300)
{
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert_gt(len, 0);
    self[len] = '\0';
    const char *const paths[] = {"/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libdw.so.1",
                                 self, "/usr/bin/python3.11"};
    Dwfl *dwfl = dwfl_of_files(paths, sizeof paths / sizeof paths[0]);
    tally all = {0};
    dwfl_getmodules(dwfl, check_each, &all, 0);
    cr_assert_gt(all.named, 0);
    ht_dwfl_end(dwfl);
}

Test(symbol_index, answers_as_libdw_does_on_this_process, .timeout = 300)
{
    Dwfl *dwfl = dwfl_begin(&callbacks);
    cr_assert(dwfl);
    dwfl_report_begin(dwfl);
    cr_assert_eq(dwfl_linux_proc_report(dwfl, getpid()), 0);
    dwfl_report_end(dwfl, NULL, NULL);
    tally all = {0};
    dwfl_getmodules(dwfl, check_each, &all, 0);
    cr_assert_gt(all.named, 0);
    ht_dwfl_end(dwfl);
}

/* A Dwfl ended without lookups, or with some modules looked up and others not. */
Test(symbol_index, ends_with_or_without_indexes)
{
    const char *const paths[] = {"/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libdw.so.1"};
    ht_dwfl_end(dwfl_of_files(paths, 2));
    Dwfl *dwfl = dwfl_of_files(paths, 2);
    Dwfl_Module *libc = dwfl_addrmodule(dwfl, (uintptr_t)1 << 32);
    cr_assert(libc);
    GElf_Off off;
    ht_indexed_covering_symbol(libc, ((uintptr_t)1 << 32) + 0x1000, &off);
    ht_dwfl_end(dwfl);
    ht_dwfl_end(NULL);
}
