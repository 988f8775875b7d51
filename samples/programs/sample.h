/* sample.h: what the sample programs share: where their snapshots go (the directory given as the
 * first argument, else the current one) and a line saying each was taken. */
#ifndef SAMPLE_H
#define SAMPLE_H

#include <stdio.h>
#include <stdlib.h>

#include "hm.h"
#include "hm_snapshot.h"

static const char *sample_dir = ".";

static void sample_args(int argc, char **argv)
{
    if (argc > 1)
        sample_dir = argv[1];
}

/* Writes DIR/NAME.json and says so; a sample that cannot write its dump stops. */
static void snapshot(hm_heap *h, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.json", sample_dir, name);
    int r = hm_snapshot_write(h, path, &(hm_snapshot_options){.name = name});
    if (r != HM_OK) {
        fprintf(stderr, "%s: %s\n", path, hm_status_message(r));
        exit(1);
    }
    printf("  [snapshot %s.json]\n", name);
}

#endif
