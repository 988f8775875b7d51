/* type_names.c: type names as people type them. An exact name wins; a bare class name stands
 * for the one qualified name that ends in it (objgraph prints "Node" for "__main__.Node"); a
 * name that matches nothing gets the nearest names as suggestions, as git does for commands. */
#include "analysis.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define SUGGESTIONS 3 /* names offered at most */

/* given (len bytes) is the last dotted part of name: "Node" of "__main__.Node". */
static bool bare_match(const char *given, size_t len, const char *name)
{
    size_t n = strlen(name);
    return memchr(given, '.', len) == NULL && n > len && name[n - len - 1] == '.' &&
           !memcmp(name + n - len, given, len);
}

static bool exact(const char *given, size_t len, const char *name)
{
    return strlen(name) == len && !memcmp(name, given, len);
}

/* The one qualified name that a bare name stands for, or NULL (none, or more than one). */
static const char *qualified_for(const hd_dump *d, const char *given, size_t len)
{
    const char *found = NULL;
    for (uint32_t t = 0; t < hd_type_count(d); t++) {
        const char *name = hd_type_name(d, t);
        if (exact(given, len, name))
            return NULL;
        if (bare_match(given, len, name)) {
            if (found && strcmp(found, name))
                return NULL;
            found = name;
        }
    }
    return found;
}

bool type_name_matches(const hd_dump *d, const char *given, size_t len, uint32_t type)
{
    const char *name = hd_type_name(d, type);
    if (exact(given, len, name))
        return true;
    const char *q = bare_match(given, len, name) ? qualified_for(d, given, len) : NULL;
    return q && !strcmp(q, name);
}

/* Levenshtein distance, case-insensitive, over bytes: names are short. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *row = xmalloc((lb + 1) * sizeof *row);
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            bool same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
            size_t best = diag + !same;
            best = up + 1 < best ? up + 1 : best;
            best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
            row[j] = best;
            diag = up;
        }
    }
    size_t dist = row[lb];
    free(row);
    return dist;
}

/* How far name is from what was typed: names that end in the bare name come first. */
static size_t nearness(const char *given, const char *name)
{
    if (bare_match(given, strlen(given), name))
        return 0;
    const char *dot = strrchr(name, '.');
    size_t whole = distance(given, name), last = dot ? distance(given, dot + 1) : whole;
    return 1 + (last < whole ? last : whole);
}

static void suggest(const hd_dump *d, const char *given)
{
    const char *best[SUGGESTIONS] = {NULL};
    size_t score[SUGGESTIONS];
    size_t limit = strlen(given) / 3 + 2; /* further than this is no longer a typo */
    for (uint32_t t = 0; t < hd_type_count(d); t++) {
        const char *name = hd_type_name(d, t);
        size_t s = nearness(given, name);
        bool dup = false;
        for (int i = 0; i < SUGGESTIONS && best[i]; i++)
            dup |= !strcmp(best[i], name);
        if (s > limit || dup)
            continue;
        for (int i = 0; i < SUGGESTIONS; i++)
            if (!best[i] || s < score[i]) {
                memmove(best + i + 1, best + i, (SUGGESTIONS - 1 - i) * sizeof *best);
                memmove(score + i + 1, score + i, (SUGGESTIONS - 1 - i) * sizeof *score);
                best[i] = name;
                score[i] = s;
                break;
            }
    }
    int k = 0;
    while (k < SUGGESTIONS && best[k])
        k++;
    for (int i = 0; i < k; i++) {
        fputs(i == 0 ? "; did you mean '" : i == k - 1 ? "' or '" : "', '", stderr);
        print_escaped(stderr, best[i]);
    }
    if (best[0])
        fputs("'?", stderr);
}

bool mark_types_named(const char *cmd, const hd_dump *d, const char *path, const char *name, uint8_t *mask)
{
    bool found = false;
    for (uint32_t t = 0; t < hd_type_count(d); t++)
        if (!strcmp(hd_type_name(d, t), name))
            mask[t] = found = true;
    const char *q = found ? NULL : qualified_for(d, name, strlen(name));
    for (uint32_t t = 0; q && t < hd_type_count(d); t++)
        if (!strcmp(hd_type_name(d, t), q))
            mask[t] = found = true;
    if (!found) {
        fprintf(stderr, "heaptool: %s: no type named '", cmd);
        print_escaped(stderr, name);
        fputs("' in '", stderr);
        print_escaped(stderr, path);
        fputc('\'', stderr);
        suggest(d, name);
        fputc('\n', stderr);
    }
    return found;
}
