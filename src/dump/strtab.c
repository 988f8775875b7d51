/* strtab.c: string arena with an interning index (FNV-1a, linear probing). */
#include "strtab.h"
#include "common/string_hash.h"

#include <stdlib.h>
#include <string.h>

int hd__strtab_init(hd__strtab *st)
{
    memset(st, 0, sizeof *st);
    st->size = 1 << 16;
    st->data = malloc(st->size);
    st->mask = 1023;
    st->slots = calloc(st->mask + 1, sizeof *st->slots);
    if (!st->data || !st->slots) {
        hd__strtab_free(st);
        return -1;
    }
    st->data[0] = '\0';
    st->len = 1;
    return 0;
}

void hd__strtab_free(hd__strtab *st)
{
    free(st->data);
    free(st->slots);
    memset(st, 0, sizeof *st);
}

void hd__strtab_freeze(hd__strtab *st)
{
    free(st->slots);
    st->slots = NULL;
    st->mask = st->used = 0;
    char *shrunk = realloc(st->data, st->len);
    if (shrunk) {
        st->data = shrunk;
        st->size = st->len;
    }
}

uint32_t hd__strtab_append(hd__strtab *st, const char *s, size_t len)
{
    if (len >= UINT32_MAX - st->len)
        return UINT32_MAX;
    if (st->len + len + 1 > st->size) {
        size_t want = st->size * 2;
        while (want < st->len + len + 1)
            want *= 2;
        char *grown = realloc(st->data, want);
        if (!grown)
            return UINT32_MAX;
        st->data = grown;
        st->size = want;
    }
    uint32_t off = (uint32_t)st->len;
    memcpy(st->data + off, s, len);
    st->data[off + len] = '\0';
    st->len += len + 1;
    return off;
}

static int grow_index(hd__strtab *st)
{
    uint32_t mask = st->mask * 2 + 1;
    uint32_t *slots = calloc((size_t)mask + 1, sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t i = 0; i <= st->mask; i++) {
        uint32_t off = st->slots[i];
        if (!off)
            continue;
        const char *s = st->data + off;
        uint32_t j = ht_string_hash(s, strlen(s)) & mask;
        while (slots[j])
            j = (j + 1) & mask;
        slots[j] = off;
    }
    free(st->slots);
    st->slots = slots;
    st->mask = mask;
    return 0;
}

uint32_t hd__strtab_intern(hd__strtab *st, const char *s, size_t len)
{
    if (len == 0)
        return 0;
    if ((st->used + 1) * 4 > (st->mask + 1) * 3 && grow_index(st) != 0)
        return UINT32_MAX;
    uint32_t j = ht_string_hash(s, len) & st->mask;
    for (uint32_t off; (off = st->slots[j]) != 0; j = (j + 1) & st->mask) {
        const char *t = st->data + off;
        if (memcmp(t, s, len) == 0 && t[len] == '\0')
            return off;
    }
    uint32_t off = hd__strtab_append(st, s, len);
    if (off != UINT32_MAX) {
        st->slots[j] = off;
        st->used++;
    }
    return off;
}
