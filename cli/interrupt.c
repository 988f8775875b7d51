/* interrupt.c: Ctrl-C (SIGINT) or SIGTERM while heaptool writes a file (an index, a converted
 * dump, a rendered graph, an export) removes its temporary copy, then heaptool dies of the signal as
 * it would have (a shell sees 130 or 143). A signal the caller ignores stays ignored. */
#include "cli.h"

#include <signal.h>

static void die_tidily(int sig)
{
    hd_remove_unfinished_files();
    raise(sig); /* SA_RESETHAND made the action the default: delivered when this returns */
}

void remove_unfinished_files_on_interrupt(void)
{
    static const int signals[] = {SIGINT, SIGTERM};
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction old, sa = {.sa_handler = die_tidily, .sa_flags = SA_RESETHAND};
        sigemptyset(&sa.sa_mask);
        if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
            sigaction(signals[i], &sa, NULL);
    }
}
