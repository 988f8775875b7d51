/* weakmap.c: the weak containers, WeakValueDictionary, WeakKeyDictionary and WeakSet, each an
 * object owning an hm dict `data` of weakrefs, with CPython's deferred removal during iteration.
 *
 * Invariant: every weakref in data carries the container's self-weakref as owner; its callback
 * reaches the container only through it, so a callback that fires after the container died (or
 * while it is garbage in a collection, where its self-weakref is cleared first) does nothing.
 * While iterating > 0, removals go to `pending` instead of data; the last iter_end applies them,
 * each only if data still holds a dead weakref under that key. A removal that could not be queued
 * (out of memory) sets `lost`, and the last iter_end then sweeps data for dead weakrefs instead.
 */
#include <stdio.h>
#include <string.h>

#include "runtime/weak.h"

typedef struct weakmap {
    hm_object base;
    hm_object *data;    /* dict: key -> weakref (value map) or int(id of key) -> weakref */
    hm_object *selfref; /* a weakref to this container */
    hm_object *pending; /* list of data keys whose removal waits for the iterations to end */
    size_t iterating;
    bool lost;          /* a removal during an iteration could not be queued */
} weakmap;

#define M(o) ((weakmap *)(o))
#define CM(o) ((const weakmap *)(o))

static int weakmap_traverse(hm_object *self, hm_visit_fn visit, void *arg)
{
    HM_VISIT(M(self)->data, HM_EDGE_NAMED("data"));
    HM_VISIT(M(self)->selfref, HM_EDGE_NAMED("selfref"));
    HM_VISIT(M(self)->pending, HM_EDGE_NAMED("_pending_removals"));
    return 0;
}

static void weakmap_clear(hm_object *self)
{
    weakmap *m = M(self);
    hm_object *d = m->data, *s = m->selfref, *p = m->pending;
    m->data = m->selfref = m->pending = NULL;
    hm_xdecref(d);
    hm_xdecref(s);
    hm_xdecref(p);
}

/* Entries whose object lives. Only while removals are pending (or lost) can data hold dead ones
 * (beyond a death whose callback is running), and then they are counted out one by one:
 * CPython's len(data) - len(pending) would count a key twice if its value died twice meanwhile. */
static size_t weakmap_len_raw(const hm_object *self)
{
    const weakmap *m = CM(self);
    if (!m->data)
        return 0;
    if (!m->pending && !m->lost)
        return hm_dict_len(m->data);
    size_t n = 0, pos = 0;
    hm_object *wr;
    while (hm_dict_next(m->data, &pos, NULL, &wr))
        n += !hm_weakref_is_dead(wr);
    return n;
}

static int weakmap_label(const hm_object *self, char *buf, size_t size)
{
    return snprintf(buf, size, "%s[%zu]", self->type->name, weakmap_len_raw(self));
}

#define WEAKMAP_TYPE(var, tname)                                                 \
    static const hm_type var = {                                                 \
        .name = tname,                                                           \
        .basicsize = sizeof(weakmap),                                            \
        .flags = HM_TYPE_GC,                                                     \
        .traverse = weakmap_traverse,                                            \
        .clear = weakmap_clear,                                                  \
        .label = weakmap_label,                                                  \
    }

WEAKMAP_TYPE(value_map_type, "WeakValueDictionary");
WEAKMAP_TYPE(key_map_type, "WeakKeyDictionary");
WEAKMAP_TYPE(set_type, "WeakSet");

static bool is_weakmap(const hm_object *o)
{
    return o && (o->type == &value_map_type || o->type == &key_map_type || o->type == &set_type);
}

static hm_object *weakmap_new(hm_heap *h, const hm_type *t)
{
    hm_object *self = hm_object_new(h, t);
    if (!self)
        return NULL;
    M(self)->data = hm_dict_new(h);
    M(self)->selfref = M(self)->data ? hm_weakref_new(self, NULL, NULL) : NULL;
    if (!M(self)->selfref) {
        hm_decref(self);
        return NULL;
    }
    return self;
}

/* Deletes data[key] if it still holds a dead weakref: the key may have been set again since the
 * death that asked for the removal (CPython's _remove_dead_weakref). */
static void remove_dead(weakmap *m, const hm_object *key)
{
    if (!m->data)
        return;
    hm_object *wr = hm_dict_get(m->data, key);
    if (wr && hm_weakref_is_dead(wr))
        hm_dict_del(m->data, key);
}

/* The same for the entry of wr, found with no allocation (a keyed container's data key is the
 * int of the dead key's id, looked up by value). */
static void remove_dead_entry(weakmap *m, const hm__weakref *wr)
{
    if (m->base.type == &value_map_type) {
        remove_dead(m, wr->payload);
        return;
    }
    hm_object *cur = m->data ? hm__dict_get_int(m->data, (int64_t)wr->id) : NULL;
    if (cur && hm_weakref_is_dead(cur))
        hm__dict_del_int(m->data, (int64_t)wr->id);
}

/* Whether the entry of wr is gone for the container's users although data still holds it: its
 * object died and the container has been told (its removal waits for an iteration's end, as
 * CPython's _pending_removals). Until the container's callback runs, the entry is still there,
 * dead (a callback that runs before it can delete it), as in CPython. */
static bool entry_removed(const hm_object *wr)
{
    return hm_weakref_is_dead(wr) && !hm_weakref_has_callback(wr);
}

/* The data key of an entry, from its weakref (new reference). */
static hm_object *data_key_of(weakmap *m, hm__weakref *wr);

/* The callback of every entry's weakref. */
static void on_death(hm_object *self, void *user)
{
    (void)user;
    hm__weakref *wr = WR(self);
    hm_object *owner = wr->owner ? hm_weakref_get(wr->owner) : NULL;
    if (!owner)
        return; /* the container is gone, or garbage */
    weakmap *m = M(owner);
    if (m->iterating) {
        hm_object *key = data_key_of(m, wr);
        if (key && !m->pending)
            m->pending = hm_list_new(hm__heap_of(owner));
        if (!key || !m->pending || hm_list_append(m->pending, key) != HM_OK)
            m->lost = true;
        hm_xdecref(key);
    } else {
        remove_dead_entry(m, wr);
        /* The entry is gone: what the weakref held for it goes now, not when the weakref does
         * (the callbacks of this death still hold it), so that it dies with its last reference
         * even where releases wait on the deallocation queue. */
        hm_object *payload = wr->payload;
        wr->payload = NULL;
        hm_xdecref(payload);
    }
    hm_decref(owner);
}

/* ---- keys ---- */

/* The data key for a weakly held key: its id as an int, never reused by the process, so a dead
 * key's entry can never be mistaken for a new object's. New reference. */
static hm_object *id_key(const hm_object *m, const hm_object *o)
{
    return hm_int_new(hm__heap_of(m), (int64_t)o->id);
}

static hm_object *data_key_of(weakmap *m, hm__weakref *wr)
{
    if (m->base.type == &value_map_type)
        return hm_xincref(wr->payload); /* the key itself */
    return hm_int_new(hm__heap_of(&m->base), (int64_t)wr->id); /* the dead key's id */
}

static int store(hm_object *map, hm_object *dkey, hm_object *target, hm_object *payload)
{
    weakmap *m = M(map);
    hm_heap *h = hm__heap_of(map);
    if (!m->data && !(m->data = hm_dict_new(h)))
        return HM_ENOMEM;
    if (!m->selfref && !(m->selfref = hm_weakref_new(map, NULL, NULL)))
        return HM_ENOMEM;
    hm_object *wr = hm__weakref_new_full(target, on_death, NULL, payload, m->selfref);
    if (!wr)
        return target->rc == 0 ? HM_EINVAL : HM_ENOMEM;
    hm_object *old = hm_dict_get(m->data, dkey);
    if (old)
        hm_incref(old);
    int r = hm_dict_set(m->data, dkey, wr);
    if (old) {
        if (r == HM_OK)
            hm__weakref_disarm(old); /* someone else may hold it: it must not remove the new entry */
        hm_decref(old);
    }
    hm_decref(wr);
    return r;
}

/* ---- WeakValueDictionary ---- */

hm_object *hm_weakvaluemap_new(hm_heap *h) { return weakmap_new(h, &value_map_type); }

int hm_weakvaluemap_set(hm_object *map, hm_object *key, hm_object *value)
{
    if (!map || map->type != &value_map_type || !key || !value)
        return map && map->type != &value_map_type ? HM_ETYPE : HM_EINVAL;
    return store(map, key, value, key);
}

hm_object *hm_weakvaluemap_get(hm_object *map, const hm_object *key)
{
    if (!map || map->type != &value_map_type || !key || !M(map)->data)
        return NULL;
    hm_object *wr = hm_dict_get(M(map)->data, key);
    return wr ? hm_weakref_get(wr) : NULL;
}

/* Deletes data[dkey], disarming its weakref (the entry is gone: its death must not count). */
static int delete_entry(hm_object *map, const hm_object *dkey)
{
    weakmap *m = M(map);
    hm_object *wr = m->data ? hm_dict_get(m->data, dkey) : NULL;
    if (!wr || entry_removed(wr))
        return HM_EKEY;
    hm__weakref_disarm(wr);
    return hm_dict_del(m->data, dkey);
}

int hm_weakvaluemap_del(hm_object *map, const hm_object *key)
{
    if (!map || map->type != &value_map_type || !key)
        return map && map->type != &value_map_type ? HM_ETYPE : HM_EINVAL;
    return delete_entry(map, key);
}

int hm_weakvaluemap_set_str(hm_object *map, const char *key, hm_object *value)
{
    if (!map || !key)
        return HM_EINVAL;
    hm_object *k = hm_str_new(hm__heap_of(map), key);
    if (!k)
        return HM_ENOMEM;
    int r = hm_weakvaluemap_set(map, k, value);
    hm_decref(k);
    return r;
}

hm_object *hm_weakvaluemap_get_str(hm_object *map, const char *key)
{
    if (!map || map->type != &value_map_type || !key || !M(map)->data)
        return NULL;
    hm_object *wr = hm_dict_get_str(M(map)->data, key);
    return wr ? hm_weakref_get(wr) : NULL;
}

int hm_weakvaluemap_del_str(hm_object *map, const char *key)
{
    if (!map || map->type != &value_map_type || !key)
        return map && map->type != &value_map_type ? HM_ETYPE : HM_EINVAL;
    hm_object *wr = M(map)->data ? hm_dict_get_str(M(map)->data, key) : NULL;
    if (!wr || entry_removed(wr))
        return HM_EKEY;
    hm__weakref_disarm(wr);
    return hm_dict_del_str(M(map)->data, key);
}

size_t hm_weakvaluemap_len(const hm_object *map)
{
    return map && map->type == &value_map_type ? weakmap_len_raw(map) : 0;
}

/* ---- WeakKeyDictionary and WeakSet ---- */

hm_object *hm_weakkeymap_new(hm_heap *h) { return weakmap_new(h, &key_map_type); }
hm_object *hm_weakset_new(hm_heap *h) { return weakmap_new(h, &set_type); }

static int keyed_store(hm_object *map, const hm_type *t, hm_object *key, hm_object *value)
{
    if (!map || map->type != t || !key)
        return map && map->type != t ? HM_ETYPE : HM_EINVAL;
    hm_object *dkey = id_key(map, key);
    if (!dkey)
        return HM_ENOMEM;
    int r = store(map, dkey, key, value);
    hm_decref(dkey);
    return r;
}

/* The entry's weakref for key (borrowed), or NULL. Allocates nothing, so it cannot fail. A key
 * resurrected after its weakrefs were cleared (by a finalizer in a collection) is not found by
 * its removed entry, as in CPython, where a new weakref never equals a dead one. */
static hm_object *keyed_find(hm_object *map, const hm_type *t, const hm_object *key)
{
    if (!map || map->type != t || !key || !M(map)->data || !(key->flags & HM__WEAKREFS))
        return NULL; /* an object that has no weakref is in no such container */
    hm_object *wr = hm__dict_get_int(M(map)->data, (int64_t)key->id);
    return wr && !entry_removed(wr) ? wr : NULL;
}

static int keyed_delete(hm_object *map, const hm_type *t, const hm_object *key)
{
    if (!map || map->type != t || !key)
        return map && map->type != t ? HM_ETYPE : HM_EINVAL;
    hm_object *wr = keyed_find(map, t, key);
    if (!wr)
        return HM_EKEY;
    hm__weakref_disarm(wr); /* the entry is gone: its death must not count */
    return hm__dict_del_int(M(map)->data, (int64_t)key->id);
}

int hm_weakkeymap_set(hm_object *map, hm_object *key, hm_object *value)
{
    if (!value)
        return HM_EINVAL;
    return keyed_store(map, &key_map_type, key, value);
}

hm_object *hm_weakkeymap_get(hm_object *map, const hm_object *key)
{
    hm_object *wr = keyed_find(map, &key_map_type, key);
    return wr ? hm_xincref(WR(wr)->payload) : NULL;
}

int hm_weakkeymap_del(hm_object *map, const hm_object *key) { return keyed_delete(map, &key_map_type, key); }

size_t hm_weakkeymap_len(const hm_object *map)
{
    return map && map->type == &key_map_type ? weakmap_len_raw(map) : 0;
}

int hm_weakset_add(hm_object *set, hm_object *item)
{
    if (keyed_find(set, &set_type, item))
        return HM_OK; /* already there: keep the entry (and its place in the order) */
    return keyed_store(set, &set_type, item, NULL);
}

bool hm_weakset_contains(hm_object *set, const hm_object *item)
{
    return keyed_find(set, &set_type, item) != NULL;
}

int hm_weakset_discard(hm_object *set, const hm_object *item) { return keyed_delete(set, &set_type, item); }

size_t hm_weakset_len(const hm_object *set)
{
    return set && set->type == &set_type ? weakmap_len_raw(set) : 0;
}

/* ---- iteration ---- */

int hm_weakmap_iter_begin(hm_weakmap_iter *it, hm_object *map)
{
    memset(it, 0, sizeof *it);
    if (!is_weakmap(map))
        return HM_ETYPE;
    /* The walk goes over a copy of data's (key, weakref) pairs, so that nothing done during it
     * (deaths, sets, deletions) can move an entry under it. */
    hm_object *snap = hm_list_new(hm__heap_of(map));
    if (!snap)
        return HM_ENOMEM;
    size_t pos = 0;
    hm_object *k, *v;
    while (M(map)->data && hm_dict_next(M(map)->data, &pos, &k, &v)) {
        if (hm_list_append(snap, k) != HM_OK || hm_list_append(snap, v) != HM_OK) {
            hm_decref(snap);
            return HM_ENOMEM;
        }
    }
    it->map = hm_incref(map);
    it->snapshot = snap;
    M(map)->iterating++;
    return HM_OK;
}

static void drop_current(hm_weakmap_iter *it)
{
    hm_object *k = it->key, *v = it->value;
    it->key = it->value = NULL;
    hm_xdecref(k);
    hm_xdecref(v);
}

bool hm_weakmap_iter_next(hm_weakmap_iter *it, hm_object **key, hm_object **value)
{
    drop_current(it);
    if (!it->map)
        return false;
    weakmap *m = M(it->map);
    while (it->pos + 1 < hm_list_len(it->snapshot)) {
        hm_object *dkey = hm_list_get(it->snapshot, it->pos);
        hm_object *wr = hm_list_get(it->snapshot, it->pos + 1);
        it->pos += 2;
        /* Gone or replaced since begin: skipped, as the entry it was no longer exists. */
        if (!m->data || hm_dict_get(m->data, dkey) != wr)
            continue;
        hm_object *target = hm_weakref_get(wr);
        if (!target)
            continue;
        if (it->map->type == &value_map_type) {
            it->key = hm_incref(dkey);
            it->value = target;
        } else {
            it->key = target;
            it->value = hm_xincref(WR(wr)->payload);
        }
        if (key)
            *key = it->key;
        if (value)
            *value = it->value;
        return true;
    }
    return false;
}

void hm_weakmap_iter_end(hm_weakmap_iter *it)
{
    drop_current(it);
    hm_object *map = it->map, *snap = it->snapshot;
    it->map = it->snapshot = NULL;
    if (!map)
        return;
    weakmap *m = M(map);
    if (--m->iterating == 0 && m->pending) {
        /* CPython's _commit_removals. Taken off the map first: a removal may free a value whose
         * callback starts another round. */
        hm_object *p = m->pending;
        m->pending = NULL;
        for (size_t i = 0; i < hm_list_len(p); i++)
            remove_dead(m, hm_list_get(p, i));
        hm_decref(p);
    }
    if (m->iterating == 0 && m->lost) {
        m->lost = false;
        size_t pos = 0;
        hm_object *key, *wr;
        while (m->data && hm_dict_next(m->data, &pos, &key, &wr))
            if (hm_weakref_is_dead(wr))
                hm_dict_del(m->data, key); /* leaves the other entries where they are */
    }
    hm_decref(snap);
    hm_decref(map);
}
