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
#include "common/symbol_index.h"
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

bool hm__frames_open(const hm_heap *h, hm__frames *f, int *status)
{
    memset(f, 0, sizeof *f);
    const hm__stacks *s = hm__trace_stacks(h);
    if (!s || !s->n)
        return false;
    f->pcs = hm__sys_malloc(h, s->n * sizeof *f->pcs);
    if (!f->pcs) {
        *status = HM_ENOMEM;
        return false;
    }
    for (size_t i = 0; i < s->n; i++)
        f->pcs[i] = s->nodes[i].pc;
    qsort(f->pcs, s->n, sizeof *f->pcs, by_address);
    for (size_t i = 0; i < s->n; i++)
        if (!f->n || f->pcs[f->n - 1] != f->pcs[i])
            f->pcs[f->n++] = f->pcs[i];
    f->dwfl = dwfl_begin(&callbacks);
    if (f->dwfl) {
        dwfl_report_begin(f->dwfl);
        dwfl_linux_proc_report(f->dwfl, getpid());
        dwfl_report_end(f->dwfl, NULL, NULL);
    }
    *(void **)&f->demangle = dlsym(RTLD_DEFAULT, "__cxa_demangle"); /* C++ programs' names */
    return true;
}

void hm__frames_name(const hm__frames *f, size_t i, hm__frame *out)
{
    uintptr_t pc = f->pcs[i];
    Dwfl_Module *m = f->dwfl ? dwfl_addrmodule(f->dwfl, pc - 1) : NULL;
    ht_code_names names = {0};
    if (m)
        ht_code_names_of(m, pc, f->demangle, &names);
    GElf_Addr bias = 0;
    const char *module = NULL;
    if (m && dwfl_module_getelf(m, &bias))
        module = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    *out = (hm__frame){names.function, names.file, module ? module : "?", names.line, module ? pc - bias : pc};
}

uint32_t hm__frames_index(const hm__frames *f, uintptr_t pc)
{
    const uintptr_t *at = bsearch(&pc, f->pcs, f->n, sizeof *f->pcs, by_address);
    return (uint32_t)(at - f->pcs);
}

void hm__frames_close(hm__frames *f)
{
    ht_dwfl_end(f->dwfl);
    free(f->pcs);
    memset(f, 0, sizeof *f);
}

static void put(hm__out *out, const char *s) { hm__out_bytes(out, s, strlen(s)); }

static void put_member_str(hm__out *out, const char *name, const char *value)
{
    put(out, name);
    hm__out_string(out, value, strlen(value));
}

/* One frame record: {"id", "function"?, "file"?, "line"?, "module", "offset"}. */
static void write_frame(hm__out *out, const hm__frames *f, size_t id)
{
    put(out, id ? ",\n  {\"id\": " : "\n  {\"id\": ");
    hm__out_u64(out, id);
    hm__frame fr;
    hm__frames_name(f, id, &fr);
    if (fr.function)
        put_member_str(out, ", \"function\": ", fr.function);
    if (fr.file) {
        put_member_str(out, ", \"file\": ", fr.file);
        put(out, ", \"line\": ");
        hm__out_u64(out, fr.line);
    }
    put_member_str(out, ", \"module\": ", fr.module);
    put(out, ", \"offset\": ");
    hm__out_u64(out, fr.offset);
    put(out, "}");
    free(fr.function);
    free(fr.file);
}

void hm__trace_write_stacks(hm__out *out, const hm_heap *h)
{
    hm__frames f;
    if (!hm__frames_open(h, &f, &out->status))
        return;
    const hm__stacks *s = hm__trace_stacks(h);
    put(out, " \"frames\": [");
    for (size_t i = 0; i < f.n; i++)
        write_frame(out, &f, i);
    put(out, "\n ],\n \"stacks\": [");
    for (size_t i = 0; i < s->n; i++) {
        put(out, i ? ",\n  {\"id\": " : "\n  {\"id\": ");
        hm__out_u64(out, i + 1);
        put(out, ", \"frame\": ");
        hm__out_u64(out, hm__frames_index(&f, s->nodes[i].pc));
        if (s->nodes[i].parent) {
            put(out, ", \"parent\": ");
            hm__out_u64(out, s->nodes[i].parent);
        }
        put(out, "}");
    }
    put(out, "\n ],\n");
    hm__frames_close(&f);
}
