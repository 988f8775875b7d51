/* symbols.c: in the snapshot child, code addresses and data addresses to names, with elfutils'
 * libdw: function, source file and line where DWARF allows (separate debug files by build ID or
 * .gnu_debuglink), module and offset always. A symbol only names an address it covers: a stripped
 * library's static function is not passed off as the exported one before it. The modules are the
 * ones the parent listed before the fork (no /proc reading, no loader lock here). Also: which
 * functions are allocation wrappers, so that a block's type is its innermost other function. */
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/code_names.h"
#include "common/symbol_index.h"
#include "record/symbols.h"

/* The CRC-32 of the file is crc (zlib's is the one .gnu_debuglink keeps); fd is left at its start. */
static bool crc_matches(int fd, GElf_Word crc)
{
    enum { CHUNK = 1 << 16 };
    unsigned char *buf = malloc(CHUNK);
    uLong sum = crc32(0, NULL, 0);
    ssize_t k = 0;
    while (buf && (k = read(fd, buf, CHUNK)) > 0)
        sum = crc32(sum, buf, (uInt)k);
    free(buf);
    return buf && k == 0 && sum == crc && lseek(fd, 0, SEEK_SET) == 0;
}

/* A debug file the binary names in its .gnu_debuglink, where gdb looks for it: beside the binary,
 * in its .debug directory, and under /usr/lib/debug by the binary's directory. */
static int find_debuglink(const char *file_name, const char *debuglink, GElf_Word crc, char **found)
{
    if (!file_name || !debuglink || strchr(debuglink, '/'))
        return -1;
    const char *slash = strrchr(file_name, '/');
    int dirlen = slash ? (int)(slash - file_name) : 0;
    for (int place = 0; place < 3; place++) {
        char path[4096];
        if (place == 0)
            snprintf(path, sizeof path, "%.*s/%s", dirlen, file_name, debuglink);
        else if (place == 1)
            snprintf(path, sizeof path, "%.*s/.debug/%s", dirlen, file_name, debuglink);
        else
            snprintf(path, sizeof path, "/usr/lib/debug%.*s/%s", dirlen, file_name, debuglink);
        int fd = strcmp(path, file_name) ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        if (fd >= 0 && crc_matches(fd, crc) && (*found = strdup(path)))
            return fd;
        if (fd >= 0)
            close(fd);
    }
    return -1;
}

/* Separate debug files are found by build ID under the debug path (/usr/lib/debug/.build-id, as
 * Debian's -dbgsym packages install them), then by .gnu_debuglink; never through debuginfod:
 * libdw's standard lookup would dlopen libdebuginfod, and with it curl and TLS, in the snapshot
 * child (30 ms, and a dlopen there could wait on a loader lock that another thread held at the
 * fork), and with DEBUGINFOD_URLS set it would fetch files over the network while the dump
 * waits. */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                          const char *file_name, const char *debuglink, GElf_Word crc, char **found)
{
    int fd = dwfl_build_id_find_debuginfo(mod, userdata, modname, base, file_name, debuglink, crc, found);
    return fd >= 0 ? fd : find_debuglink(file_name, debuglink, crc, found);
}

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

struct rec_symbols {
    Dwfl *dwfl;
    const rec_world *world;
    char *(*demangle)(const char *, char *, size_t *, int *);
};

rec_symbols *rec_symbols_open(const rec_world *w)
{
    rec_symbols *s = calloc(1, sizeof *s);
    if (!s || !(s->dwfl = dwfl_begin(&callbacks))) {
        free(s);
        return NULL;
    }
    s->world = w;
    s->demangle = w->demangle;
    dwfl_report_begin(s->dwfl);
    for (size_t i = 0; i < w->nmodules; i++)
        if (w->modules[i].path[0] == '/')
            dwfl_report_elf(s->dwfl, w->modules[i].path, w->modules[i].path, -1, w->modules[i].base,
                            false);
    dwfl_report_end(s->dwfl, NULL, NULL);
    return s;
}

void rec_symbols_close(rec_symbols *s)
{
    if (s)
        ht_dwfl_end(s->dwfl);
    free(s);
}

static const rec_module *module_of(const rec_world *w, uintptr_t addr, Dwfl_Module *m)
{
    Dwarf_Addr lo;
    const char *name = m ? dwfl_module_info(m, NULL, &lo, NULL, NULL, NULL, NULL, NULL) : NULL;
    for (size_t i = 0; name && i < w->nmodules; i++)
        if (!strcmp(w->modules[i].path, name))
            return &w->modules[i];
    (void)addr;
    return NULL;
}

void rec_symbolize(rec_symbols *s, uintptr_t pc, rec_frame_info *f)
{
    *f = (rec_frame_info){0};
    uintptr_t at = pc - 1; /* a return address: the call is the instruction before it */
    Dwfl_Module *m = dwfl_addrmodule(s->dwfl, at);
    const rec_module *mod = module_of(s->world, at, m);
    if (mod) {
        f->module = mod->path;
        f->offset = pc - mod->base;
    }
    if (!m)
        return;
    ht_code_names names;
    ht_code_names_of(m, pc, s->demangle, &names);
    f->function = names.function;
    f->file = names.file;
    f->line = names.line;
}

static const char *basename_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void rec_global_name(rec_symbols *s, int module, uintptr_t where, char *buf, size_t cap)
{
    const rec_module *mod = &s->world->modules[module];
    bool main_program = module == 0;
    Dwfl_Module *m = dwfl_addrmodule(s->dwfl, where);
    GElf_Off off = 0;
    const char *name = m ? ht_indexed_covering_symbol(m, where, &off) : NULL;
    const char *prefix = main_program ? "" : basename_of(mod->path);
    const char *colon = main_program ? "" : ":";
    if (name && off)
        snprintf(buf, cap, "%s%s%s+0x%llx", prefix, colon, name, (unsigned long long)off);
    else if (name)
        snprintf(buf, cap, "%s%s%s", prefix, colon, name);
    else
        snprintf(buf, cap, "%s+0x%llx", basename_of(mod->path),
                 (unsigned long long)(where - mod->base));
}

/* Allocators and the wrappers people put around them; '*' ends a prefix. */
static const char *const builtin_wrappers[] = {
    "malloc", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc", "memalign",
    "valloc", "pvalloc", "operator new*", "operator new[]*", "_Znwm*", "_Znam*",
    "__gnu_cxx::new_allocator*", "std::__new_allocator*", "std::allocator*",
    "std::allocator_traits*", "xmalloc", "xcalloc", "xrealloc", "xzalloc", "xstrdup", "xstrndup",
    "xmemdup", "xreallocarray", "g_malloc*", "g_try_malloc*", "g_realloc*", "g_try_realloc*",
    "g_new*", "g_strdup*", "g_strndup", "g_memdup*", "g_slice_alloc*", "strdup", "strndup",
    "__strdup", "__strndup", "wcsdup", "asprintf", "vasprintf", "__asprintf_chk",
    "__vasprintf_chk", "emalloc*", "ecalloc*", "erealloc*", "estrdup*", "PyMem_RawMalloc",
    "PyMem_RawCalloc", "PyMem_RawRealloc", "PyMem_Malloc", "PyMem_Calloc", "PyMem_Realloc",
    "PyObject_Malloc", "PyObject_Calloc", "PyObject_Realloc", "_PyMem_*", "_PyObject_Malloc*",
    "sqlite3Malloc*", "sqlite3_malloc*", "sqlite3_realloc*", "sqlite3DbMalloc*",
    "sqlite3DbRealloc*", "jv_mem_alloc*", "jv_mem_calloc*", "jv_mem_realloc*",
    "xmallocz", "do_xmalloc",
};

static bool matches(const char *pattern, size_t len, const char *function)
{
    if (len && pattern[len - 1] == '*')
        return strncmp(pattern, function, len - 1) == 0;
    return strlen(function) == len && strncmp(pattern, function, len) == 0;
}

bool rec_is_wrapper(const char *function, const char *extra)
{
    for (size_t i = 0; i < sizeof builtin_wrappers / sizeof builtin_wrappers[0]; i++)
        if (matches(builtin_wrappers[i], strlen(builtin_wrappers[i]), function))
            return true;
    for (const char *p = extra; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len && matches(p, len, function))
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}
