/* dict.c: the dict type, laid out as CPython's compact dict: entries in insertion order, found
 * through a small open-addressing index of entry numbers. str and int keys compare by value,
 * every other key by identity. */
#include <stdio.h>
#include <string.h>

#include "runtime/internal.h"

typedef struct entry {
    uint64_t hash;
    hm_object *key, *value; /* key NULL: a deleted entry */
} entry;

typedef struct dict_obj {
    hm_object base;
    entry *entries;  /* usable(nindex) of them */
    int32_t *index;  /* nindex slots: EMPTY, DUMMY or an entry number */
    size_t nindex;   /* a power of two, 0 until the first insertion */
    size_t used;     /* entries handed out, deleted ones included */
    size_t len;      /* live entries */
} dict_obj;

#define EMPTY (-1)
#define DUMMY (-2)
#define D(o) ((dict_obj *)(o))
#define CD(o) ((const dict_obj *)(o))

/* Keeping a third of the index empty keeps linear probes short, and guarantees an EMPTY slot
 * that ends every probe. */
static size_t usable(size_t nindex) { return nindex * 2 / 3; }

static uint64_t key_hash(const hm_object *k)
{
    if (k->type == &hm_str_type)
        return hm__str_hash_of(k);
    if (k->type == &hm_int_type)
        return hm__hash_mix((uint64_t)hm_int_value(k));
    return hm__hash_mix(k->id);
}

static bool key_equal(const hm_object *a, const hm_object *b)
{
    if (a == b)
        return true;
    if (a->type != b->type)
        return false;
    if (a->type == &hm_str_type)
        return hm_str_equal(a, b);
    if (a->type == &hm_int_type)
        return hm_int_value(a) == hm_int_value(b);
    return false;
}

/* What is looked for: a key object, the text of a str key, or the value of an int key. */
typedef struct probe {
    enum { BY_OBJECT, BY_TEXT, BY_INT } kind;
    uint64_t hash;
    const hm_object *key;
    const char *s;
    size_t len;
    int64_t i;
} probe;

static probe probe_obj(const hm_object *key) { return (probe){.kind = BY_OBJECT, .hash = key_hash(key), .key = key}; }

static probe probe_str(const char *s)
{
    size_t len = strlen(s);
    return (probe){.kind = BY_TEXT, .hash = hm__str_hash(s, len), .s = s, .len = len};
}

static probe probe_int(int64_t i) { return (probe){.kind = BY_INT, .hash = hm__hash_mix((uint64_t)i), .i = i}; }

static bool matches(const entry *e, const probe *p)
{
    if (!e->key || e->hash != p->hash)
        return false;
    if (p->kind == BY_OBJECT)
        return key_equal(e->key, p->key);
    if (p->kind == BY_INT)
        return e->key->type == &hm_int_type && hm_int_value(e->key) == p->i;
    return e->key->type == &hm_str_type && hm_str_len(e->key) == p->len &&
           memcmp(hm_str_data(e->key), p->s, p->len) == 0;
}

/* The entry number holding the key, or -1; *slot gets the index slot where it is, or where it
 * would be inserted (the first DUMMY on the way, else the EMPTY that ended the probe). */
static long lookup(const dict_obj *d, const probe *p, size_t *slot)
{
    if (!d->nindex)
        return -1;
    size_t mask = d->nindex - 1, reuse = SIZE_MAX;
    for (size_t i = (size_t)p->hash & mask;; i = (i + 1) & mask) {
        int32_t ix = d->index[i];
        if (ix == EMPTY) {
            *slot = reuse != SIZE_MAX ? reuse : i;
            return -1;
        }
        if (ix == DUMMY) {
            if (reuse == SIZE_MAX)
                reuse = i;
        } else if (matches(&d->entries[ix], p)) {
            *slot = i;
            return ix;
        }
    }
}

/* Rebuilds the table with room for twice the live entries, dropping deleted ones. */
static int resize(dict_obj *d)
{
    hm_heap *h = hm__heap_of(&d->base);
    size_t nindex = 8;
    while (usable(nindex) <= d->len * 2)
        nindex *= 2;
    if (usable(nindex) > INT32_MAX)
        return HM_ENOMEM;
    entry *entries = hm__alloc(h, usable(nindex) * sizeof *entries);
    int32_t *index = hm__alloc(h, nindex * sizeof *index);
    if (!entries || !index) {
        hm__free(h, entries, usable(nindex) * sizeof *entries);
        hm__free(h, index, nindex * sizeof *index);
        return HM_ENOMEM;
    }
    memset(index, 0xff, nindex * sizeof *index); /* all EMPTY */
    size_t n = 0;
    for (size_t i = 0; i < d->used; i++) {
        if (!d->entries[i].key)
            continue;
        entries[n] = d->entries[i];
        size_t j = (size_t)entries[n].hash & (nindex - 1);
        while (index[j] != EMPTY)
            j = (j + 1) & (nindex - 1);
        index[j] = (int32_t)n++;
    }
    hm__free(h, d->entries, usable(d->nindex) * sizeof *entries);
    hm__free(h, d->index, d->nindex * sizeof *index);
    d->entries = entries;
    d->index = index;
    d->nindex = nindex;
    d->used = n;
    return HM_OK;
}

/* Inserts a new entry for a key known to be absent; takes references to key and value. */
static int insert_new(dict_obj *d, const probe *p, size_t slot, hm_object *key, hm_object *value)
{
    if (d->used >= usable(d->nindex)) {
        int r = resize(d);
        if (r != HM_OK)
            return r;
        lookup(d, p, &slot);
    }
    d->entries[d->used] = (entry){p->hash, hm_incref(key), hm_incref(value)};
    d->index[slot] = (int32_t)d->used++;
    d->len++;
    return HM_OK;
}

static int dict_traverse(hm_object *self, hm_visit_fn visit, void *arg)
{
    dict_obj *d = D(self);
    for (size_t i = 0; i < d->used; i++) {
        entry *e = &d->entries[i];
        if (!e->key)
            continue;
        HM_VISIT(e->key, HM_EDGE_KEY_AT(i));
        HM_VISIT(e->value, HM_EDGE_OF_KEY(e->key));
    }
    return 0;
}

static void free_tables(hm_heap *h, entry *entries, int32_t *index, size_t nindex)
{
    hm__free(h, entries, usable(nindex) * sizeof *entries);
    hm__free(h, index, nindex * sizeof *index);
}

/* The tables are detached first: a finalizer run by a decref may use this dict. */
static void dict_clear(hm_object *self)
{
    dict_obj *d = D(self);
    entry *entries = d->entries;
    int32_t *index = d->index;
    size_t used = d->used, nindex = d->nindex;
    d->entries = NULL;
    d->index = NULL;
    d->nindex = d->used = d->len = 0;
    for (size_t i = 0; i < used; i++) {
        if (entries[i].key) {
            hm_decref(entries[i].key);
            hm_xdecref(entries[i].value);
        }
    }
    free_tables(hm__heap_of(self), entries, index, nindex);
}

static void dict_release(hm_object *self)
{
    dict_obj *d = D(self);
    free_tables(hm__heap_of(self), d->entries, d->index, d->nindex);
    d->entries = NULL;
    d->index = NULL;
    d->nindex = d->used = d->len = 0;
}

static size_t dict_extra_size(const hm_object *self)
{
    size_t n = CD(self)->nindex;
    return usable(n) * sizeof(entry) + n * sizeof(int32_t);
}

static int dict_label(const hm_object *self, char *buf, size_t size)
{
    return snprintf(buf, size, "dict{%zu}", CD(self)->len);
}

const hm_type hm_dict_type = {
    .name = "dict",
    .basicsize = sizeof(dict_obj),
    .flags = HM_TYPE_GC,
    .traverse = dict_traverse,
    .clear = dict_clear,
    .release = dict_release,
    .extra_size = dict_extra_size,
    .label = dict_label,
};

hm_object *hm_dict_new(hm_heap *h) { return hm_object_new(h, &hm_dict_type); }

size_t hm_dict_len(const hm_object *dict)
{
    assert(dict->type == &hm_dict_type);
    return CD(dict)->len;
}

int hm_dict_set(hm_object *dict, hm_object *key, hm_object *value)
{
    if (!dict || !key || !value || dict->type != &hm_dict_type)
        return HM_EINVAL;
    dict_obj *d = D(dict);
    probe p = probe_obj(key);
    size_t slot = 0;
    long ix = lookup(d, &p, &slot);
    if (ix >= 0) {
        hm_setref(&d->entries[ix].value, value);
        return HM_OK;
    }
    return insert_new(d, &p, slot, key, value);
}

int hm_dict_set_str(hm_object *dict, const char *key, hm_object *value)
{
    if (!dict || !key || !value || dict->type != &hm_dict_type)
        return HM_EINVAL;
    dict_obj *d = D(dict);
    probe p = probe_str(key);
    size_t slot = 0;
    long ix = lookup(d, &p, &slot);
    if (ix >= 0) {
        hm_setref(&d->entries[ix].value, value);
        return HM_OK;
    }
    hm_object *k = hm_str_new_len(hm__heap_of(dict), key, p.len);
    if (!k)
        return HM_ENOMEM;
    int r = insert_new(d, &p, slot, k, value);
    hm_decref(k);
    return r;
}

static hm_object *get(const hm_object *dict, const probe *p)
{
    const dict_obj *d = CD(dict);
    size_t slot;
    long ix = lookup(d, p, &slot);
    return ix >= 0 ? d->entries[ix].value : NULL;
}

hm_object *hm_dict_get(const hm_object *dict, const hm_object *key)
{
    assert(dict->type == &hm_dict_type);
    probe p = probe_obj(key);
    return get(dict, &p);
}

hm_object *hm_dict_get_str(const hm_object *dict, const char *key)
{
    assert(dict->type == &hm_dict_type);
    probe p = probe_str(key);
    return get(dict, &p);
}

hm_object *hm__dict_get_int(const hm_object *dict, int64_t key)
{
    assert(dict->type == &hm_dict_type);
    probe p = probe_int(key);
    return get(dict, &p);
}

static int del(hm_object *dict, const probe *p)
{
    dict_obj *d = D(dict);
    size_t slot;
    long ix = lookup(d, p, &slot);
    if (ix < 0)
        return HM_EKEY;
    hm_object *key = d->entries[ix].key, *value = d->entries[ix].value;
    d->entries[ix].key = d->entries[ix].value = NULL;
    d->index[slot] = DUMMY;
    d->len--;
    /* The dict is consistent again before any finalizer can run. */
    hm_decref(key);
    hm_decref(value);
    return HM_OK;
}

int hm_dict_del(hm_object *dict, const hm_object *key)
{
    if (!dict || !key || dict->type != &hm_dict_type)
        return HM_EINVAL;
    probe p = probe_obj(key);
    return del(dict, &p);
}

int hm_dict_del_str(hm_object *dict, const char *key)
{
    if (!dict || !key || dict->type != &hm_dict_type)
        return HM_EINVAL;
    probe p = probe_str(key);
    return del(dict, &p);
}

int hm__dict_del_int(hm_object *dict, int64_t key)
{
    assert(dict->type == &hm_dict_type);
    probe p = probe_int(key);
    return del(dict, &p);
}

int hm_dict_clear(hm_object *dict)
{
    if (!dict || dict->type != &hm_dict_type)
        return HM_EINVAL;
    dict_clear(dict);
    return HM_OK;
}

bool hm_dict_next(const hm_object *dict, size_t *pos, hm_object **key, hm_object **value)
{
    const dict_obj *d = CD(dict);
    while (*pos < d->used) {
        const entry *e = &d->entries[(*pos)++];
        if (e->key) {
            if (key)
                *key = e->key;
            if (value)
                *value = e->value;
            return true;
        }
    }
    return false;
}
