/* trace_frames.c: the stacks tracing recorded (trace_stacks.c), written in a snapshot as
 * formats/heapdump.md §5.1's "frames" and "stacks": every distinct return address once as a
 * frame, named now with libdwfl (src/common/code_names.c, as the native recorder names its
 * frames) from this process's own modules; every node of the stack tree as a stack record whose
 * id is the node + 1, which is what sites name in their "stack". */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/code_names.h"
#include "runtime/internal.h"
#include "runtime/snapshot_out.h"

static char *debuginfo_path;
static const Dwfl_Callbacks callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

static int by_address(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return (x > y) - (x < y);
}

static void put(hm__out *out, const char *s) { hm__out_bytes(out, s, strlen(s)); }

static void put_member_str(hm__out *out, const char *name, const char *value)
{
    put(out, name);
    hm__out_string(out, value, strlen(value));
}

/* One frame record: {"id", "function"?, "file"?, "line"?, "module", "offset"}. */
static void write_frame(hm__out *out, Dwfl *dwfl, ht_demangle_fn *demangle, size_t id, uintptr_t pc)
{
    put(out, id ? ",\n  {\"id\": " : "\n  {\"id\": ");
    hm__out_u64(out, id);
    Dwfl_Module *m = dwfl ? dwfl_addrmodule(dwfl, pc - 1) : NULL;
    ht_code_names names = {0};
    if (m)
        ht_code_names_of(m, pc, demangle, &names);
    if (names.function)
        put_member_str(out, ", \"function\": ", names.function);
    if (names.file) {
        put_member_str(out, ", \"file\": ", names.file);
        put(out, ", \"line\": ");
        hm__out_u64(out, names.line);
    }
    GElf_Addr bias = 0;
    const char *module = NULL;
    if (m && dwfl_module_getelf(m, &bias))
        module = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    put_member_str(out, ", \"module\": ", module ? module : "?");
    put(out, ", \"offset\": ");
    hm__out_u64(out, module ? pc - bias : pc);
    put(out, "}");
    free(names.function);
    free(names.file);
}

void hm__trace_write_stacks(hm__out *out, const hm_heap *h)
{
    const hm__stacks *s = hm__trace_stacks(h);
    if (!s || !s->n)
        return;
    uintptr_t *pcs = hm__sys_malloc(h, s->n * sizeof *pcs);
    if (!pcs) {
        out->status = out->status ? out->status : HM_ENOMEM;
        return;
    }
    for (size_t i = 0; i < s->n; i++)
        pcs[i] = s->nodes[i].pc;
    qsort(pcs, s->n, sizeof *pcs, by_address);
    size_t nframes = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!nframes || pcs[nframes - 1] != pcs[i])
            pcs[nframes++] = pcs[i];
    Dwfl *dwfl = dwfl_begin(&callbacks);
    if (dwfl) {
        dwfl_report_begin(dwfl);
        dwfl_linux_proc_report(dwfl, getpid());
        dwfl_report_end(dwfl, NULL, NULL);
    }
    ht_demangle_fn *demangle;
    *(void **)&demangle = dlsym(RTLD_DEFAULT, "__cxa_demangle"); /* C++ programs' names */
    put(out, " \"frames\": [");
    for (size_t i = 0; i < nframes; i++)
        write_frame(out, dwfl, demangle, i, pcs[i]);
    put(out, "\n ],\n \"stacks\": [");
    for (size_t i = 0; i < s->n; i++) {
        put(out, i ? ",\n  {\"id\": " : "\n  {\"id\": ");
        hm__out_u64(out, i + 1);
        const uintptr_t *f = bsearch(&s->nodes[i].pc, pcs, nframes, sizeof *pcs, by_address);
        put(out, ", \"frame\": ");
        hm__out_u64(out, (uint64_t)(f - pcs));
        if (s->nodes[i].parent) {
            put(out, ", \"parent\": ");
            hm__out_u64(out, s->nodes[i].parent);
        }
        put(out, "}");
    }
    put(out, "\n ],\n");
    if (dwfl)
        dwfl_end(dwfl);
    free(pcs);
}
