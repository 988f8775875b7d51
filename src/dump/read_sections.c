/* read_sections.c: the heapdump's small sections: meta and pools through cJSON, gc by hand.
 *
 * Invariant: cJSON, which reads numbers as doubles, only gets a section whose numbers are
 * counters (a value past 2^53 is refused, never rounded); gc, whose garbage list holds ids that
 * may be any u64, is read token by token.
 */
#include "reader.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static int json_uint(loader *L, hd__pos at, const cJSON *obj, const char *section, const char *key,
                     uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return HD_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
        (v->valuedouble <= 9007199254740992.0 && v->valuedouble != (double)(uint64_t)v->valuedouble))
        return hd__problem(L, HD_EFORMAT, at, "%s: '%s' must be an unsigned integer", section, key);
    if (v->valuedouble > 9007199254740992.0) /* cJSON reads doubles: past 2^53 not exactly */
        return hd__problem(L, HD_ELIMIT, at, "%s: '%s' is above 2^53, the limit of this section", section, key);
    *out = (uint64_t)v->valuedouble;
    return HD_OK;
}

static int json_string(loader *L, hd__pos at, const cJSON *obj, const char *key, uint32_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return HD_OK;
    if (!cJSON_IsString(v))
        return hd__problem(L, HD_EFORMAT, at, "meta: '%s' must be a string", key);
    *out = hd__strtab_intern(&L->d->strings, v->valuestring, strlen(v->valuestring));
    return *out == UINT32_MAX ? hd__oom(L) : HD_OK;
}

/* The section's value, an object, parsed by cJSON; NULL with *rc set when it is something else
 * (reported and skipped: SKIPPED, or < 0) or memory runs out. */
static cJSON *capture_object(loader *L, const char *section, int *rc)
{
    if (L->lx.tok != HD__T_LBRACE) {
        *rc = hd__wrong_value(L, section, "an object");
        return NULL;
    }
    const char *text;
    size_t len;
    if ((*rc = hd__lex_capture_value(&L->lx, &text, &len)))
        return NULL;
    cJSON *j = cJSON_ParseWithLength(text, len);
    if (!j)
        *rc = hd__oom(L); /* the lexer already checked the syntax */
    return j;
}

int hd__read_meta(loader *L)
{
    hd__pos at = L->lx.tok_pos;
    int rc;
    cJSON *j = capture_object(L, "meta", &rc);
    if (!j)
        return rc;
    hd_dump *d = L->d;
    uint64_t pid = 0;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "pid");
    if ((rc = json_string(L, at, j, "producer", &d->producer)) == 0 &&
        (rc = json_string(L, at, j, "created", &d->created)) == 0 &&
        (rc = json_string(L, at, j, "name", &d->name)) == 0 &&
        (rc = json_uint(L, at, j, "meta", "pid", &pid)) == 0 && p && cJSON_IsNumber(p))
        d->pid = (int64_t)pid;
    cJSON_Delete(j);
    return rc;
}

int hd__read_pools(loader *L)
{
    hd__pos at = L->lx.tok_pos;
    int rc;
    cJSON *j = capture_object(L, "pools", &rc);
    if (!j)
        return rc;
    hd_pools *p = &L->d->pools;
    const cJSON *arenas = cJSON_GetObjectItemCaseSensitive(j, "arenas");
    const cJSON *large = cJSON_GetObjectItemCaseSensitive(j, "large");
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(j, "classes");
    p->present = 1;
    if ((rc = json_uint(L, at, j, "pools", "arena_size", &p->arena_size)) ||
        (rc = json_uint(L, at, j, "pools", "pool_size", &p->pool_size)))
        goto out;
    if (arenas && ((rc = json_uint(L, at, arenas, "pools.arenas", "allocated", &p->arenas_allocated)) ||
                   (rc = json_uint(L, at, arenas, "pools.arenas", "reclaimed", &p->arenas_reclaimed)) ||
                   (rc = json_uint(L, at, arenas, "pools.arenas", "highwater", &p->arenas_highwater)) ||
                   (rc = json_uint(L, at, arenas, "pools.arenas", "current", &p->arenas_current))))
        goto out;
    if (large && ((rc = json_uint(L, at, large, "pools.large", "count", &p->large_allocs)) ||
                  (rc = json_uint(L, at, large, "pools.large", "bytes", &p->large_bytes))))
        goto out;
    if (classes && !cJSON_IsArray(classes)) {
        rc = hd__problem(L, HD_EFORMAT, at, "pools: 'classes' must be an array");
        goto out;
    }
    int n = cJSON_GetArraySize(classes);
    if (n > 0) {
        L->d->pool_classes = calloc((size_t)n, sizeof *L->d->pool_classes);
        if (!L->d->pool_classes) {
            rc = hd__oom(L);
            goto out;
        }
        const cJSON *c;
        cJSON_ArrayForEach(c, classes) {
            hd_pool_class *pc = &L->d->pool_classes[p->nclasses];
            uint64_t size = 0;
            if ((rc = json_uint(L, at, c, "pools.classes[]", "size", &size)) ||
                (rc = json_uint(L, at, c, "pools.classes[]", "pools", &pc->pools)) ||
                (rc = json_uint(L, at, c, "pools.classes[]", "blocks_in_use", &pc->blocks_in_use)) ||
                (rc = json_uint(L, at, c, "pools.classes[]", "blocks_free", &pc->blocks_free)))
                goto out;
            pc->size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
            p->nclasses++;
        }
        p->classes = L->d->pool_classes;
    }
out:
    cJSON_Delete(j);
    return rc;
}

static int gc_generation_member(loader *L, int k, const char *key, void *state)
{
    (void)k;
    hd_gc_generation *g = state;
    uint64_t v = 0;
    uint64_t *dst = !strcmp(key, "collections")     ? &g->collections
                  : !strcmp(key, "collected")       ? &g->collected
                  : !strcmp(key, "uncollectable")   ? &g->uncollectable : NULL;
    bool int_field = !strcmp(key, "threshold") || !strcmp(key, "count");
    if (!dst && !int_field)
        return hd__lex_skip_value(&L->lx);
    int rc = hd__read_uint(L, key, &v);
    if (rc)
        return rc;
    if (dst)
        *dst = v;
    else
        *(key[0] == 't' ? &g->threshold : &g->count) = v > INT64_MAX ? INT64_MAX : (int64_t)v;
    return HD_OK;
}

static int gc_member(loader *L, int k, const char *key, void *state)
{
    (void)k;
    (void)state;
    hd_gc *gc = &L->d->gc;
    hd__lexer *lx = &L->lx;
    int rc;
    if (!strcmp(key, "enabled")) {
        bool b = false;
        rc = hd__read_bool(L, key, &b);
        gc->enabled = b;
        return rc;
    }
    if (!strcmp(key, "frozen"))
        return hd__read_uint(L, key, &gc->frozen);
    bool gens = !strcmp(key, "generations");
    if (!gens && strcmp(key, "garbage"))
        return hd__lex_skip_value(lx);
    if (lx->tok != HD__T_LBRACKET)
        return hd__wrong_value(L, key, "an array");
    if ((rc = hd__lex_next(lx)))
        return rc;
    for (uint32_t i = 0; lx->tok != HD__T_RBRACKET; i++) {
        if (gens) {
            if (i >= 3)
                return hd__problem(L, HD_EFORMAT, lx->tok_pos, "gc: more than 3 generations");
            rc = hd__each_member(L, gc_generation_member, &gc->gen[i]);
        } else {
            uint64_t id = 0;
            if ((rc = hd__read_uint(L, "garbage", &id)) == 0) {
                void **const arrays[] = {(void **)&L->garbage_tid, NULL};
                const size_t sizes[] = {8};
                if (!hd__grow_records(gc->ngarbage, &L->garbage_cap, arrays, sizes))
                    return hd__oom(L);
                L->garbage_tid[gc->ngarbage++] = id;
            }
        }
        if (rc < 0 || (rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok == HD__T_COMMA) {
            if ((rc = hd__lex_next(lx)))
                return rc;
        } else if (lx->tok != HD__T_RBRACKET) {
            return hd__syntax(L, "',' or ']'");
        }
    }
    return HD_OK;
}

int hd__read_gc(loader *L)
{
    L->gc_pos = L->lx.tok_pos;
    L->d->gc.present = 1;
    return hd__each_member(L, gc_member, NULL);
}
