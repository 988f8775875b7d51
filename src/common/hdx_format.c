/* hdx_format.c: what every writer and the reader of the binary index (formats/heapdump-binary.md)
 * share: the checksum and the sections' names and element sizes. libheapdump, libhm and the
 * native recorder each link it; it needs nothing but the format's header. */
#include "dump/binary.h"

#include <string.h>

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

#define K1 0x9E3779B185EBCA87ull
#define K2 0xC2B2AE3D27D4EB4Full

#define LANES_START {K1, K2, K1 ^ K2, K1 + K2}

static inline uint64_t mix(uint64_t lane, uint64_t w) { return rotl(lane ^ (w * K2), 31) * K1; }

/* The lanes folded, bytes [i, len) of p (fewer than 32) mixed in, then the length. */
static uint64_t finish(const uint64_t lane[4], const unsigned char *p, size_t i, size_t len)
{
    uint64_t h = rotl(lane[0], 1) + rotl(lane[1], 7) + rotl(lane[2], 12) + rotl(lane[3], 18);
    for (; i < len; i++)
        h = rotl(h ^ (p[i] * K1), 23) * K2;
    h ^= (uint64_t)len * K1;
    h ^= h >> 29;
    h *= K2;
    return h ^ (h >> 32);
}

/* Four independent lanes keep the multiplier busy; words are read with memcpy, so any
 * alignment is fine and the value is the little-endian one on this (little-endian) host. */
uint64_t hd__hdx_checksum(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t lane[4] = LANES_START;
    size_t i = 0;
    for (; i + 32 <= len; i += 32)
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * k, 8);
            lane[k] = mix(lane[k], w);
        }
    return finish(lane, p, i, len);
}

/* A chunk's 32-byte blocks are the whole's from the chunk's start, so both sets of lanes take
 * each word as it is read: the section is read from memory once, not twice. */
uint64_t hd__hdx_checksum_chunks(const void *data, size_t len, size_t chunk, uint64_t *sums)
{
    const unsigned char *p = data;
    uint64_t whole[4] = LANES_START;
    size_t i = 0;
    for (size_t at = 0; at < len; at += chunk) {
        size_t end = len - at < chunk ? len : at + chunk;
        uint64_t part[4] = LANES_START;
        for (i = at; i + 32 <= end; i += 32)
            for (int k = 0; k < 4; k++) {
                uint64_t w;
                memcpy(&w, p + i + 8 * k, 8);
                whole[k] = mix(whole[k], w);
                part[k] = mix(part[k], w);
            }
        *sums++ = finish(part, p + at, i - at, end - at);
    }
    return finish(whole, p, i, len);
}

const char *hd__hdx_section_name(uint32_t id)
{
    switch (id) {
#define NAME_(name, id_, size) case id_: return #name;
        HDX_SECTION_MAP(NAME_)
#undef NAME_
    }
    return NULL;
}

uint32_t hd__hdx_elem_size(uint32_t id)
{
    switch (id) {
#define SIZE_(name, id_, size) case id_: return size;
        HDX_SECTION_MAP(SIZE_)
#undef SIZE_
    }
    return 0;
}
