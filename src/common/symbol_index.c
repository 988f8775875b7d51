/* symbol_index.c: see symbol_index.h.
 *
 * Invariant: for every address, the index answers what dwfl_module_addrinfo followed by
 * ht_covering_symbol's check answers. libdw's scan (elfutils' dwfl_module_addrsym.c) considers
 * the named, defined symbols that are not section, file or TLS symbols and start at or below
 * the address. It reads the globals (the table from dwfl_module_getsymtab_first_global on, or
 * the whole table when that is 0 or 1) and then the locals, unless the globals gave a sized
 * symbol containing the address or a sizeless one starting at it. Of what it may keep, the
 * check lets through only
 *  - a sized symbol containing the address. The scan meets them in table order and a later one
 *    takes over when it starts higher or binds more strongly (global, weak, local, then any
 *    other binding), or starts at the same place, is smaller and binds no less strongly;
 *  - failing that, a sizeless symbol starting at the address: the last one in table order.
 *    (Every other symbol the scan kept ends at or below the address, so none rules it out; a
 *    sizeless symbol below the address is a guess the check refuses.)
 * Which sized symbols contain an address changes only where one starts or ends, so the index
 * cuts the module at those places into spans, each with its winner, and keeps every address a
 * sizeless symbol starts at with its winner: a lookup is two binary searches.
 * Function descriptors (ppc64 ELFv1), which libdw also tries at a second address, are not
 * modelled: x86-64 and aarch64 have none. */
#include "common/symbol_index.h"

#include <stdbool.h>
#include <stdlib.h>

#include "common/code_names.h"

enum { NO_SYMBOL = UINT32_MAX };

/* A symbol libdw's scan considers; 24 bytes, the index's main cost. */
typedef struct candidate {
    uintptr_t start;
    const char *name; /* libdw's */
    uint32_t size;    /* a module with a bigger symbol is not indexed */
    bool local;       /* among the locals, read only when the globals gave nothing */
    uint8_t strength; /* its binding as libdw ranks it: higher takes over */
} candidate;

/* The symbol the scan keeps from start on (a span: up to the next one) or at start only (a
 * label), unless what the globals give comes first: a local one is only found after them. */
typedef struct span {
    uintptr_t start;
    uint32_t symbol; /* into candidates; NO_SYMBOL where no sized symbol covers */
    bool local;
} span;

typedef struct symbol_index {
    candidate *candidates; /* in table order */
    span *spans;           /* by start; each reaches to the next */
    size_t nspans;
    span *labels; /* by start, one per address */
    size_t nlabels;
} symbol_index;

/* A module's userdata when it has no index (no room, or a symbol of 4 GiB or more): lookups
 * scan with libdw. */
static char scan_instead;

/* c's last byte (a sizeless symbol's is its start); the top of the address space if it wraps,
 * as libdw's test (addr - start < size) has it. */
static uintptr_t last_byte(const candidate *c)
{
    if (!c->size)
        return c->start;
    return c->size - 1 > UINTPTR_MAX - c->start ? UINTPTR_MAX : c->start + c->size - 1;
}

static unsigned char binding_strength(unsigned char binding)
{
    switch (binding) {
    case STB_GLOBAL: return 3;
    case STB_WEAK:   return 2;
    case STB_LOCAL:  return 1;
    default:         return 0;
    }
}

/* The candidates of m's table in table order into out; false if one is too big to keep. */
static bool read_candidates(Dwfl_Module *m, int n, int first_global, candidate *out, size_t *count)
{
    *count = 0;
    for (int i = 1; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr value;
        GElf_Word shndx; /* asked for as libdw's scan asks, so that both read the table alike */
        const char *name = dwfl_module_getsym_info(m, i, &sym, &value, &shndx, NULL, NULL);
        if (!name || !*name || sym.st_shndx == SHN_UNDEF)
            continue;
        int type = GELF_ST_TYPE(sym.st_info);
        if (type == STT_SECTION || type == STT_FILE || type == STT_TLS)
            continue;
        if (sym.st_size > UINT32_MAX)
            return false;
        out[(*count)++] = (candidate){
            .start = value,
            .name = name,
            .size = (uint32_t)sym.st_size,
            .local = first_global > 1 && i < first_global,
            .strength = binding_strength(GELF_ST_BIND(sym.st_info)),
        };
    }
    return true;
}

/* Whether the scan, holding best, keeps later (met after it, both containing the address). */
static bool takes_over(const candidate *best, const candidate *later)
{
    if (best->start < later->start || best->strength < later->strength)
        return true;
    return best->start == later->start && later->size < best->size
           && best->strength <= later->strength;
}

/* What covers an address the symbols in active (in table order) contain, and no other does. */
static span covering(const candidate *c, const uint32_t *active, size_t n, uintptr_t start)
{
    span s = {start, NO_SYMBOL, false};
    for (int pass = 0; pass < 2 && s.symbol == NO_SYMBOL; pass++)
        for (size_t i = 0; i < n; i++)
            if (c[active[i]].local == (pass == 1)
                && (s.symbol == NO_SYMBOL || takes_over(&c[s.symbol], &c[active[i]]))) {
                s.symbol = active[i];
                s.local = pass == 1;
            }
    return s;
}

static int by_start_then_table_order(const void *a, const void *b, void *candidates)
{
    const candidate *c = candidates;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    uintptr_t sx = c[x].start, sy = c[y].start;
    return sx != sy ? (sx > sy) - (sx < sy) : (x > y) - (x < y);
}

/* The symbols of candidates that pick are, by start then table order. */
static uint32_t *sorted(candidate *c, size_t n, bool sized, size_t *count)
{
    uint32_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return NULL;
    *count = 0;
    for (size_t i = 0; i < n; i++)
        if ((c[i].size != 0) == sized)
            order[(*count)++] = (uint32_t)i;
    qsort_r(order, *count, sizeof *order, by_start_then_table_order, c);
    return order;
}

/* Sweeps the sized symbols (order: by start) by address, keeping those that contain the current
 * place in active, in table order: a span starts wherever one starts or the place after one's
 * last byte, and is kept when its answer differs from the one before. Returns the spans' count,
 * written to out unless it is NULL. */
static size_t sweep(const candidate *c, const uint32_t *order, size_t n, uint32_t *active,
                    span *out)
{
    size_t count = 0, next = 0, nactive = 0;
    span prev = {0, NO_SYMBOL, false};
    uintptr_t at = n ? c[order[0]].start : 0;
    while (next < n || nactive) {
        size_t kept = 0;
        for (size_t i = 0; i < nactive; i++)
            if (last_byte(&c[active[i]]) >= at)
                active[kept++] = active[i];
        nactive = kept;
        for (; next < n && c[order[next]].start == at; next++) {
            size_t j = nactive++;
            for (; j && active[j - 1] > order[next]; j--)
                active[j] = active[j - 1];
            active[j] = order[next];
        }
        span s = covering(c, active, nactive, at);
        if (s.symbol != prev.symbol) { /* a symbol is local or not for good */
            if (out)
                out[count] = s;
            count++;
            prev = s;
        }
        bool more = next < n;
        uintptr_t following = more ? c[order[next]].start : 0;
        for (size_t i = 0; i < nactive; i++) {
            uintptr_t last = last_byte(&c[active[i]]);
            if (last != UINTPTR_MAX && (!more || last + 1 < following)) {
                following = last + 1;
                more = true;
            }
        }
        if (!more)
            break;
        at = following;
    }
    return count;
}

/* Two sweeps: one to count the spans, so that the index holds no spare room. */
static bool cut_spans(symbol_index *x, size_t ncandidates)
{
    size_t n;
    uint32_t *order = sorted(x->candidates, ncandidates, true, &n);
    uint32_t *active = malloc((n ? n : 1) * sizeof *active);
    bool ok = order && active;
    if (ok) {
        x->nspans = sweep(x->candidates, order, n, active, NULL);
        x->spans = malloc((x->nspans ? x->nspans : 1) * sizeof *x->spans);
        ok = x->spans && sweep(x->candidates, order, n, active, x->spans) == x->nspans;
    }
    free(order);
    free(active);
    return ok;
}

/* Each address sizeless symbols start at, with the last global there, else the last local. */
static bool index_labels(symbol_index *x, size_t ncandidates)
{
    const candidate *c = x->candidates;
    size_t n;
    uint32_t *order = sorted(x->candidates, ncandidates, false, &n);
    x->labels = malloc((n ? n : 1) * sizeof *x->labels);
    if (!order || !x->labels) {
        free(order);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const candidate *s = &c[order[i]];
        span *at = x->nlabels ? &x->labels[x->nlabels - 1] : NULL;
        if (!at || at->start != s->start)
            x->labels[x->nlabels++] = (span){s->start, order[i], s->local};
        else if (at->local || !s->local)
            *at = (span){s->start, order[i], s->local};
    }
    free(order);
    return true;
}

static void index_free(symbol_index *x)
{
    if (!x)
        return;
    free(x->candidates);
    free(x->spans);
    free(x->labels);
    free(x);
}

static symbol_index *index_build(Dwfl_Module *m)
{
    symbol_index *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    int n = dwfl_module_getsymtab(m);
    int first_global = n > 1 ? dwfl_module_getsymtab_first_global(m) : -1;
    if (first_global < 0)
        return x; /* no symbols: libdw finds none either */
    x->candidates = malloc((size_t)n * sizeof *x->candidates);
    if (!x->candidates) {
        index_free(x);
        return NULL;
    }
    size_t count;
    if (!read_candidates(m, n, first_global, x->candidates, &count) || !cut_spans(x, count)
        || !index_labels(x, count)) {
        index_free(x);
        return NULL;
    }
    return x;
}

static const symbol_index *index_of(Dwfl_Module *m)
{
    void **slot;
    dwfl_module_info(m, &slot, NULL, NULL, NULL, NULL, NULL, NULL);
    if (!*slot) {
        symbol_index *x = index_build(m);
        *slot = x ? (void *)x : &scan_instead;
    }
    return *slot == &scan_instead ? NULL : *slot;
}

/* The last of a[0..n) (sorted by start) that starts at or below addr, or NULL. */
static const span *at_or_below(const span *a, size_t n, uintptr_t addr)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid].start <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? &a[lo - 1] : NULL;
}

const char *ht_indexed_covering_symbol(Dwfl_Module *m, uintptr_t addr, GElf_Off *off)
{
    const symbol_index *x = index_of(m);
    if (!x)
        return ht_covering_symbol(m, addr, off);
    const span *sized = at_or_below(x->spans, x->nspans, addr);
    if (sized && sized->symbol == NO_SYMBOL)
        sized = NULL;
    const span *label = at_or_below(x->labels, x->nlabels, addr);
    if (label && label->start != addr)
        label = NULL;
    /* the globals' answer ends the scan before the locals are read */
    const span *found = sized && !sized->local ? sized
                        : label && !label->local ? label
                        : sized ? sized
                                : label;
    if (!found)
        return NULL;
    const candidate *c = &x->candidates[found->symbol];
    *off = addr - c->start;
    return c->name;
}

static int free_module_index(Dwfl_Module *m, void **userdata, const char *name, Dwarf_Addr start,
                             void *arg)
{
    (void)m, (void)name, (void)start, (void)arg;
    if (*userdata != &scan_instead)
        index_free(*userdata);
    *userdata = NULL;
    return DWARF_CB_OK;
}

void ht_dwfl_end(Dwfl *dwfl)
{
    if (dwfl)
        dwfl_getmodules(dwfl, free_module_index, NULL, 0);
    dwfl_end(dwfl);
}
