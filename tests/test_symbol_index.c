/* test_symbol_index.c: the symbol index (src/common/symbol_index.c) against its definition,
 * libdw's whole-table scan (ht_covering_symbol), on real modules: libc (whose symbols come from
 * libc6-dbg's debug file when it is installed: locals and globals), libdw, this test, CPython's
 * stripped binary when present, and every module of this process as libhm's tracing reports
 * them (the vdso's symbols come from its dynamic table alone). Addresses: every symbol's first
 * and last byte and the bytes around it, and random ones across each module and the gaps.
 * Then random symbol tables written with libelf, where aliases, nested and overlapping symbols
 * of every binding, sizeless labels and absolute symbols are the rule, not the exception: every
 * address of their module is checked. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>
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

/* ---- random symbol tables ---- */

#define TEXT_ADDR 0x1000u
#define TEXT_SIZE 0x200u

/* A section's header and data, added to elf. */
static Elf_Scn *add_section(Elf *elf, GElf_Shdr shdr, void *data, size_t size, Elf_Type type)
{
    Elf_Scn *scn = elf_newscn(elf);
    Elf_Data *d = elf_newdata(scn);
    cr_assert(scn && d);
    *d = (Elf_Data){.d_buf = data, .d_size = size, .d_type = type, .d_version = EV_CURRENT,
                    .d_align = type == ELF_T_SYM ? 8 : 1};
    GElf_Shdr now;
    gelf_getshdr(scn, &now);
    shdr.sh_size = size;
    shdr.sh_addralign = d->d_align;
    cr_assert(gelf_update_shdr(scn, &shdr));
    return scn;
}

/* A shared object at path whose .symtab has nsyms random symbols over its one loaded section,
 * .text, at [TEXT_ADDR, TEXT_ADDR + TEXT_SIZE). The first nlocals (sh_info) are "locals" to
 * libdw whatever their binding: libdw goes by the position, and so must the index. With huge,
 * the first symbol is 5 GiB long: too big for the index, which leaves the module to libdw. */
static void write_random_module(const char *path, uint64_t *seed, size_t nsyms, size_t nlocals,
                                bool huge)
{
    static const unsigned char bindings[] = {STB_LOCAL, STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE};
    static const unsigned char types[] = {STT_FUNC, STT_OBJECT, STT_NOTYPE, STT_GNU_IFUNC,
                                          STT_SECTION, STT_FILE, STT_TLS};
    static char text[TEXT_SIZE];
    static char strtab[1 + 64 * 8];
    static const char shstrtab[] = "\0.text\0.symtab\0.strtab\0.shstrtab";
    GElf_Sym syms[65] = {{0}};
    cr_assert_lt(nsyms, sizeof syms / sizeof syms[0]);
    size_t strtab_len = 1;
    for (size_t i = 1; i <= nsyms; i++) {
        /* a few names, so that equal names stand at different addresses */
        size_t name = strtab_len;
        strtab_len += (size_t)sprintf(strtab + strtab_len, "s%u", (unsigned)(splitmix64(seed) % 40)) + 1;
        if (splitmix64(seed) % 16 == 0)
            name = 0; /* nameless */
        uint64_t r = splitmix64(seed);
        GElf_Addr start = TEXT_ADDR + r % TEXT_SIZE;
        if (r % 5 == 0) /* sharing an address with an earlier symbol */
            start = syms[1 + (r >> 8) % i].st_value ? syms[1 + (r >> 8) % i].st_value : start;
        GElf_Xword size = (r >> 16) % 3 == 0 ? 0 : 1 + (r >> 20) % ((r >> 30) % 4 == 0 ? 256 : 24);
        GElf_Half shndx = 1; /* .text */
        uint64_t kind = (r >> 40) % 32;
        if (kind == 0)
            shndx = SHN_UNDEF;
        else if (kind == 1)
            shndx = SHN_ABS;
        else if (kind == 2)
            shndx = 3; /* .strtab: not loaded */
        /* mostly what the scan considers; now and then a section, file or TLS symbol */
        size_t type = (r >> 50) % 10 < 7 ? (r >> 50) % 4 : 4 + (r >> 54) % 3;
        syms[i] = (GElf_Sym){
            .st_name = (GElf_Word)name,
            .st_info = GELF_ST_INFO(bindings[(r >> 45) % 4], types[type]),
            .st_shndx = shndx,
            .st_value = start,
            .st_size = size,
        };
    }
    if (huge)
        syms[1].st_size = (GElf_Xword)5 << 30;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    cr_assert_geq(fd, 0);
    Elf *elf = elf_begin(fd, ELF_C_WRITE, NULL);
    cr_assert(elf);
    cr_assert(gelf_newehdr(elf, ELFCLASS64));
    cr_assert(gelf_newphdr(elf, 1));
    GElf_Ehdr ehdr;
    gelf_getehdr(elf, &ehdr);
    ehdr.e_ident[EI_DATA] = ELFDATA2LSB;
    ehdr.e_type = ET_DYN;
    ehdr.e_machine = EM_X86_64;
    ehdr.e_version = EV_CURRENT;
    add_section(elf, (GElf_Shdr){.sh_name = 1, .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC | SHF_EXECINSTR,
                                 .sh_addr = TEXT_ADDR}, text, sizeof text, ELF_T_BYTE);
    add_section(elf, (GElf_Shdr){.sh_name = 7, .sh_type = SHT_SYMTAB, .sh_link = 3, .sh_info = (GElf_Word)nlocals,
                                 .sh_entsize = sizeof(Elf64_Sym)},
                syms, (nsyms + 1) * sizeof(Elf64_Sym), ELF_T_SYM);
    add_section(elf, (GElf_Shdr){.sh_name = 15, .sh_type = SHT_STRTAB}, strtab, strtab_len, ELF_T_BYTE);
    Elf_Scn *names = add_section(elf, (GElf_Shdr){.sh_name = 23, .sh_type = SHT_STRTAB}, (void *)(uintptr_t)shstrtab,
                                 sizeof shstrtab, ELF_T_BYTE);
    ehdr.e_shstrndx = (GElf_Half)elf_ndxscn(names);
    cr_assert(gelf_update_ehdr(elf, &ehdr));
    cr_assert_geq(elf_update(elf, ELF_C_NULL), 0, "%s", elf_errmsg(-1));
    GElf_Shdr text_shdr;
    gelf_getshdr(elf_getscn(elf, 1), &text_shdr);
    GElf_Phdr load = {.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = text_shdr.sh_offset,
                      .p_vaddr = TEXT_ADDR, .p_paddr = TEXT_ADDR, .p_filesz = TEXT_SIZE,
                      .p_memsz = TEXT_SIZE, .p_align = 1};
    cr_assert(gelf_update_phdr(elf, 0, &load));
    cr_assert_geq(elf_update(elf, ELF_C_WRITE), 0, "%s", elf_errmsg(-1));
    elf_end(elf);
    close(fd);
}

Test(symbol_index, answers_as_libdw_does_on_random_tables, .timeout = 300)
{
    elf_version(EV_CURRENT);
    char path[] = "/tmp/test_symbol_index-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    uint64_t seed = 0x7ab1e5;
    tally all = {0};
    for (int round = 0; round < 400; round++) {
        size_t nsyms = 1 + splitmix64(&seed) % 64;
        size_t nlocals = splitmix64(&seed) % (nsyms + 2); /* 0 and 1: one pass over everything */
        write_random_module(path, &seed, nsyms, nlocals, round % 50 == 49);
        Dwfl *dwfl = dwfl_begin(&callbacks);
        cr_assert(dwfl);
        dwfl_report_begin(dwfl);
        Dwarf_Addr base = (Dwarf_Addr)1 << 32;
        Dwfl_Module *m = dwfl_report_elf(dwfl, "random", path, -1, base, false);
        cr_assert(m, "%s", dwfl_errmsg(-1));
        dwfl_report_end(dwfl, NULL, NULL);
        cr_assert_eq(dwfl_module_getsymtab(m), (int)nsyms + 1, "round %d: %s", round, dwfl_errmsg(-1));
        /* .text's symbols at .text's loaded place; absolute ones and those of a section not
         * loaded keep their st_value */
        GElf_Addr bias;
        cr_assert(dwfl_module_getelf(m, &bias));
        for (uintptr_t a = TEXT_ADDR - 2; a < TEXT_ADDR + TEXT_SIZE + 2; a++) {
            check_address(m, a, &all);
            check_address(m, bias + a, &all);
        }
        ht_dwfl_end(dwfl);
    }
    unlink(path);
    cr_log_info("random tables: %zu addresses, %zu named", all.addresses, all.named);
    cr_assert_gt(all.named, all.addresses / 8);
}
