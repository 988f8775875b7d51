/* strtab.h: the dump's strings in one arena, addressed by 32-bit offsets; names are interned
 * (edge names, type names and root kinds repeat), labels are only appended. */
#ifndef HD_STRTAB_H
#define HD_STRTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct hd__strtab {
    char *data;
    size_t len, size;
    uint32_t *slots; /* open addressing over interned offsets; 0 = empty (offset 0 is "") */
    uint32_t mask, used;
} hd__strtab;

int hd__strtab_init(hd__strtab *st);
void hd__strtab_free(hd__strtab *st);
/* Returns the offset of s (len bytes, no NUL inside counted) or UINT32_MAX when out of memory or
 * past 4 GiB. */
uint32_t hd__strtab_intern(hd__strtab *st, const char *s, size_t len);
uint32_t hd__strtab_append(hd__strtab *st, const char *s, size_t len);
static inline const char *hd__strtab_get(const hd__strtab *st, uint32_t off) { return st->data + off; }
/* Drops the interning index once loading is done. */
void hd__strtab_freeze(hd__strtab *st);

#endif
