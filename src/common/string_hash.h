/* string_hash.h: the hash of a string's bytes (FNV-1a, 32 bits) by which string tables intern:
 * libheapdump's (src/dump/strtab.c) and the .hdx writer's (src/common/hdx_writer.c). */
#ifndef HEAPTOOL_STRING_HASH_H
#define HEAPTOOL_STRING_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t ht_string_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

#endif
