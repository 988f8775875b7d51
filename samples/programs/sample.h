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

static void snapshot_to(hm_heap *h, const char *name, const char *suffix)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s%s", sample_dir, name, suffix);
    int r = hm_snapshot_write(h, path, &(hm_snapshot_options){.name = name});
    if (r != HM_OK) {
        fprintf(stderr, "%s: %s\n", path, hm_status_message(r));
        exit(1);
    }
}

/* Writes DIR/NAME.json and says so; a sample that cannot write its dump stops. With
 * SAMPLE_ALSO_HDX set in the environment (tests/cli/snapshot_forms.sh), DIR/NAME.hdx too, the
 * binary index of the same moment. */
static void snapshot(hm_heap *h, const char *name)
{
    snapshot_to(h, name, ".json");
    if (getenv("SAMPLE_ALSO_HDX"))
        snapshot_to(h, name, ".hdx");
    printf("  [snapshot %s.json]\n", name);
}

#endif
