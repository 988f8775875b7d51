/* maps.c: the process's mappings as /proc/self/maps lists them, read in a snapshot child (or in
 * place at exit): which ranges can be read, and which are the program's private writable
 * anonymous memory. Its memory is the reader's malloc (a snapshot child's own heap). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record/record.h"

int rec_maps_read(rec_maps *m)
{
    *m = (rec_maps){0};
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    size_t len = 0, cap = 1 << 16;
    char *text = malloc(cap);
    for (ssize_t k; text && (k = read(fd, text + len, cap - len - 1)) > 0;) {
        len += (size_t)k;
        if (cap - len < 4096)
            text = realloc(text, cap *= 2);
    }
    close(fd);
    if (!text)
        return ENOMEM;
    text[len] = '\0';
    m->readable = malloc((len / 20 + 1) * sizeof *m->readable);
    m->anonymous = malloc((len / 20 + 1) * sizeof *m->anonymous);
    if (!m->readable || !m->anonymous) {
        free(text);
        return ENOMEM;
    }
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n'), *end;
        if (nl)
            *nl = '\0';
        /* start-end perms offset dev inode [path] */
        uintptr_t a = strtoull(line, &end, 16), b = strtoull(end + 1, &end, 16);
        const char *perms = end + 1;
        if (perms[0] == 'r' && !strstr(end, "[vvar]")) /* vvar may fault when read */
            m->readable[m->nreadable++] = (rec_range){a, b};
        char *field = end + 5;
        for (int i = 0; i < 3 && field; i++) /* to the path, past offset, device and inode */
            field = strchr(field + 1, ' ');
        while (field && *field == ' ')
            field++;
        bool anonymous = !field || !*field || !strncmp(field, "[anon:", 6);
        if (!strncmp(perms, "rw-p", 4) && anonymous)
            m->anonymous[m->nanonymous++] = (rec_range){a, b};
        line = nl ? nl + 1 : line + strlen(line);
    }
    free(text);
    return 0;
}

bool rec_maps_readable(const rec_maps *m, uintptr_t lo, uintptr_t hi)
{
    size_t l = 0, h = m->nreadable; /* the last range starting at or below lo */
    while (l < h) {
        size_t mid = l + (h - l) / 2;
        if (m->readable[mid].lo <= lo)
            l = mid + 1;
        else
            h = mid;
    }
    if (l == 0 || m->readable[l - 1].hi <= lo)
        return false;
    /* Adjacent ranges read as one: a heap may be split where its protections were changed. */
    uintptr_t end = m->readable[l - 1].hi;
    for (size_t i = l; i < m->nreadable && end < hi && m->readable[i].lo == end; i++)
        end = m->readable[i].hi;
    return hi <= end;
}
