/* progress.c: a progress bar on stderr while a big dump loads: bytes, percent and rate, redrawn
 * in place, erased when loading ends. Only on a terminal, never with --quiet. */
#include "cli.h"

#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SHOW_FROM (8u << 20) /* smaller dumps load too fast to need one */
#define BAR_WIDTH 24

static struct {
    const char *path;
    double start;
    bool drawn;
} bar;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void draw(uint64_t done, uint64_t total, void *user)
{
    (void)user;
    bool finished = total ? done >= total : false;
    if (finished || (total == 0 && done == 0)) {
        if (bar.drawn)
            fputs("\r\033[K", stderr);
        bar.drawn = false;
        return;
    }
    if (!total && done < SHOW_FROM)
        return;
    char sdone[16], stotal[16], srate[16];
    double elapsed = now() - bar.start;
    human_size(done, sdone);
    human_size(elapsed > 0 ? (uint64_t)((double)done / elapsed) : 0, srate);
    fputs("\r\033[Kloading ", stderr);
    print_escaped(stderr, bar.path);
    if (total) {
        unsigned filled = (unsigned)((double)done / (double)total * BAR_WIDTH);
        char cells[BAR_WIDTH + 1];
        memset(cells, '#', filled);
        memset(cells + filled, '.', BAR_WIDTH - filled);
        cells[BAR_WIDTH] = '\0';
        fprintf(stderr, " [%s] %s / %s %3.0f%% %s/s", cells, sdone, human_size(total, stotal),
                100.0 * (double)done / (double)total, srate);
    } else {
        fprintf(stderr, " %s %s/s", sdone, srate);
    }
    fflush(stderr);
    bar.drawn = true;
}

hd_progress_fn progress_for(const char *path)
{
    if (cli_quiet || !isatty(STDERR_FILENO))
        return NULL;
    bar.path = path;
    bar.start = now();
    bar.drawn = false;
    return draw;
}
