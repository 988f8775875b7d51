/* measure.c: runs a command several times and prints the median wall time and the largest
 * peak RSS, read from wait4's rusage (no /usr/bin/time needed). The command's standard output
 * is discarded, or kept in the file MEASURE_STDOUT names (the last run's), for a check of what
 * it printed without running it once more.
 * usage: measure RUNS command [args...]
 * prints: "<median seconds> <max RSS MiB> <median CPU seconds>" (user + system: on a machine
 * shared with other work, the figure that wall time would blur) */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: measure RUNS command [args...]\n");
        return 2;
    }
    int runs = atoi(argv[1]);
    if (runs < 1 || runs > 100)
        runs = 5;
    double times[100], cpu[100];
    long max_rss = 0;
    for (int r = 0; r < runs; r++) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pid_t pid = fork();
        if (pid == 0) {
            const char *keep = getenv("MEASURE_STDOUT");
            int out = keep ? open(keep, O_WRONLY | O_CREAT | O_TRUNC, 0666) : open("/dev/null", O_WRONLY);
            dup2(out, 1);
            execvp(argv[2], argv + 2);
            _exit(127);
        }
        int status;
        struct rusage ru;
        if (pid < 0 || wait4(pid, &status, 0, &ru) < 0) {
            perror("measure");
            return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "measure: %s failed (status %d)\n", argv[2], status);
            return 1;
        }
        times[r] = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        cpu[r] = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
        if (ru.ru_maxrss > max_rss)
            max_rss = ru.ru_maxrss;
    }
    qsort(times, (size_t)runs, sizeof times[0], cmp);
    qsort(cpu, (size_t)runs, sizeof cpu[0], cmp);
    printf("%.3f %.1f %.3f\n", times[runs / 2], (double)max_rss / 1024.0, cpu[runs / 2]);
    return 0;
}
