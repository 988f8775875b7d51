/* suspects.h: what the suspect finders (suspects*.c) share inside libheapdump. */
#ifndef HD_SUSPECTS_H
#define HD_SUSPECTS_H

#include "analysis.h"

/* One run of hd_suspects_find: the dump, its shared analyses, the byte floors and the list
 * being filled. */
typedef struct hd__suspect_run {
    const hd_dump *d;
    const hd_dominators *dom;
    const hd_reach *reach;
    uint32_t *first, *child; /* the dominator tree's children (hd_dominator_children) */
    double threshold;
    uint64_t heap;  /* hd_total_size(d) */
    uint64_t big;   /* bytes that make a retainer or a kind: threshold of the heap, at least 1 */
    uint64_t small; /* bytes that make waste worth a line: a tenth of big, at least 1 */
    hd_suspect *items;
    uint32_t count, cap;
} hd__suspect_run;

/* Appends a suspect of kind about dump d (whose total size is heap) with its bytes, share and
 * severity set, indices HD_NONE, the rest zero; NULL when out of memory. */
hd_suspect *hd__suspect_add(hd__suspect_run *run, enum hd_suspect_kind kind, const hd_dump *d,
                            uint64_t bytes, uint64_t heap);

/* s->id = "prefix/text" when text is short and plain (letters, digits, "_.:-"), else
 * "prefix/" and text's 64-bit FNV-1a hash in hex: stable, and safe in any output. */
void hd__suspect_id(hd_suspect *s, const char *prefix, const char *text);

int hd__suspects_retainers(hd__suspect_run *run);
int hd__suspects_kinds(hd__suspect_run *run);
int hd__suspects_duplicate_strings(hd__suspect_run *run);
int hd__suspects_empty_containers(hd__suspect_run *run);
int hd__suspects_uncollectable(hd__suspect_run *run);
int hd__suspects_weak_only(hd__suspect_run *run);
int hd__suspects_new_and_alive(hd__suspect_run *run, const hd_dump *baseline, const hd_dump *final,
                               hd_leak_report **report);
int hd__suspects_growth(hd__suspect_run *run, const hd_dump *const *series, uint32_t n);

#endif
