/* flame.c: objects folded by allocation stack (heapdump.h, hd_flame_fold): the collapsed stacks
 * of flamegraph.pl and the tree of frames they make, for `heaptool flame` and the report's
 * flame graph alike.
 *
 * Invariant: stacks are sorted in path order, ';' before every other character, so the stacks
 * under one frame are contiguous and sibling frames come in name order; the tree is then built
 * in one pass, each stack sharing its frames with the node last made at each level. Frames and
 * sites are named in code_location.c; a name's ';' and line breaks become '_' here.
 */
#include "analysis.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *flame_safe(char *s)
{
    for (char *p = s; p && *p; p++)
        if (*p == ';' || *p == '\n' || *p == '\r')
            *p = '_';
    return s;
}

void hd_flame_free(hd_flame *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nstacks; i++)
        free(f->stacks[i].path);
    free(f->stacks);
    free(f->nodes);
    free(f);
}

/* Frames joined outermost first; NULL when out of memory. */
static char *stack_path(const hd_dump *d, uint32_t node)
{
    uint32_t depth = hd_stack_depth(d, node), i = depth;
    char **names = calloc((size_t)depth + 1, sizeof *names);
    size_t len = 0;
    bool ok = names != NULL;
    for (uint32_t n = node; ok && n != HD_NONE; n = hd_stack_parent(d, n)) {
        names[--i] = flame_safe(hd_frame_short_name(d, hd_stack_frame(d, n)));
        ok = names[i] != NULL;
        len += ok ? strlen(names[i]) + 1 : 0;
    }
    char *path = ok ? malloc(len + 1) : NULL, *w = path;
    for (i = 0; names && i < depth; i++) {
        if (path)
            w += sprintf(w, "%s%s", i ? ";" : "", names[i]);
        free(names[i]);
    }
    if (path)
        *w = '\0';
    free(names);
    return path;
}

static int path_cmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = *a == ';' ? 1 : *a ? (unsigned char)*a + 2 : 0;
        int y = *b == ';' ? 1 : *b ? (unsigned char)*b + 2 : 0;
        if (x != y || !x)
            return x - y;
    }
}

static int by_path(const void *a, const void *b)
{
    return path_cmp(((const hd_flame_stack *)a)->path, ((const hd_flame_stack *)b)->path);
}

/* The value of each object, summed per stack node, per site without a stack (sums[nstacks +
 * site]) and without a site (the last). */
static uint64_t *sum_values(const hd_dump *d, enum hd_flame_measure m, const hd_leak_kinds *k)
{
    uint32_t nstacks = hd_stack_count(d), nsites = hd_site_count(d);
    uint64_t *sums = calloc((size_t)nstacks + nsites + 1, sizeof *sums);
    for (uint32_t o = 0; sums && o < hd_object_count(d); o++) {
        if (m == HD_FLAME_LOST_BYTES && k->kind[o] == HD_LEAK_REACHABLE)
            continue;
        uint32_t s = hd_object_site(d, o), node = s == HD_NONE ? HD_NONE : hd_site_stack(d, s);
        uint64_t *sum = &sums[node != HD_NONE ? node : s == HD_NONE ? nstacks + nsites : nstacks + s];
        *sum = hd__add_sat(*sum, m == HD_FLAME_BLOCKS ? 1 : hd_object_size(d, o));
    }
    return sums;
}

/* One stack per distinct path with a non-zero value, in path order. */
static int collapse(const hd_dump *d, enum hd_flame_measure m, const hd_leak_kinds *k, hd_flame *f)
{
    uint32_t nstacks = hd_stack_count(d), nsites = hd_site_count(d);
    uint64_t *sums = sum_values(d, m, k);
    f->stacks = sums ? malloc(((size_t)nstacks + nsites + 1) * sizeof *f->stacks) : NULL;
    if (!f->stacks) {
        free(sums);
        return HD_ENOMEM;
    }
    int rc = HD_OK;
    for (uint32_t s = 0; s <= nstacks + nsites && !rc; s++) {
        if (!sums[s])
            continue;
        char *path = s < nstacks ? stack_path(d, s)
                   : s < nstacks + nsites ? flame_safe(hd_site_label(d, s - nstacks)) : strdup("[no site]");
        if (path)
            f->stacks[f->nstacks++] = (hd_flame_stack){path, sums[s]};
        else
            rc = HD_ENOMEM;
    }
    free(sums);
    if (rc)
        return rc;
    qsort(f->stacks, f->nstacks, sizeof *f->stacks, by_path);
    size_t kept = 0; /* frames of one name from different places make one path: merge them */
    for (size_t i = 0; i < f->nstacks; i++) {
        if (kept && !strcmp(f->stacks[kept - 1].path, f->stacks[i].path)) {
            f->stacks[kept - 1].value = hd__add_sat(f->stacks[kept - 1].value, f->stacks[i].value);
            free(f->stacks[i].path);
        } else {
            f->stacks[kept++] = f->stacks[i];
        }
    }
    f->nstacks = kept;
    return HD_OK;
}

static int build_tree(hd_flame *f)
{
    size_t cap = 1;
    for (size_t i = 0; i < f->nstacks; i++)
        for (const char *p = f->stacks[i].path; p; p = strchr(p + 1, ';'))
            cap++;
    if (cap > UINT32_MAX)
        return HD_ENOMEM;
    hd_flame_node *t = f->nodes = malloc(cap * sizeof *t);
    uint32_t *last_child = malloc(cap * sizeof *last_child), nn = 1;
    if (!t || !last_child) {
        free(last_child);
        return HD_ENOMEM;
    }
    t[0] = (hd_flame_node){"all", 3, 0, HD_NONE, HD_NONE, HD_NONE, 0};
    for (size_t i = 0; i < f->nstacks; i++) {
        uint32_t at = 0;
        t[0].value = hd__add_sat(t[0].value, f->stacks[i].value);
        for (const char *p = f->stacks[i].path;; p++) {
            size_t len = strcspn(p, ";");
            uint32_t c = t[at].first_child == HD_NONE ? HD_NONE : last_child[at];
            if (c == HD_NONE || t[c].len != len || memcmp(t[c].name, p, len)) {
                c = nn++;
                t[c] = (hd_flame_node){p, len, 0, at, HD_NONE, HD_NONE, t[at].depth + 1};
                if (t[at].first_child == HD_NONE)
                    t[at].first_child = c;
                else
                    t[last_child[at]].next_sibling = c;
                last_child[at] = c;
                f->max_depth = t[c].depth > f->max_depth ? t[c].depth : f->max_depth;
            }
            t[c].value = hd__add_sat(t[c].value, f->stacks[i].value);
            at = c;
            p += len;
            if (!*p)
                break;
        }
    }
    free(last_child);
    f->nnodes = nn;
    return HD_OK;
}

int hd_flame_fold(const hd_dump *d, enum hd_flame_measure m, hd_flame **out)
{
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    if (!d || (unsigned)m > HD_FLAME_LOST_BYTES)
        return HD_EINVAL;
    hd_leak_kinds *k = NULL;
    hd_flame *f = calloc(1, sizeof *f);
    int rc = f ? HD_OK : HD_ENOMEM;
    if (!rc && m == HD_FLAME_LOST_BYTES)
        rc = hd_leak_kinds_compute(d, &k);
    if (!rc)
        rc = collapse(d, m, k, f);
    if (!rc)
        rc = build_tree(f);
    hd_leak_kinds_free(k);
    if (rc) {
        hd_flame_free(f);
        return rc;
    }
    *out = f;
    return HD_OK;
}
