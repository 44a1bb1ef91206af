/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench — time commands side by side.  Each round runs every variant once,
 * in order (so that noise hits them alike), as fork + exec + wait with its
 * own stdin file; after the rounds it prints, per variant, the median and
 * the 10th/90th percentiles of the wall time in microseconds and the ratio
 * of medians to the first variant.
 *
 *   bench ROUNDS NAME STDIN CMD ARGS... [::: NAME STDIN CMD ARGS...]...
 *
 * STDIN is a file or "-" for /dev/null.  The environment is passed as is.
 * Output is one line per variant:  NAME median p10 p90 ratio
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct variant {
        const char *name, *input;
        char **argv;
        double *us;
} variant;

static double now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static double pct(const double *sorted, int n, double p)
{
        double idx = p * (n - 1);
        int lo = (int)idx;
        int hi = lo + 1 < n ? lo + 1 : lo;
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (idx - lo);
}

static double run(const variant *v)
{
        int in = open(strcmp(v->input, "-") ? v->input : "/dev/null", O_RDONLY | O_CLOEXEC);
        if (in < 0) {
                fprintf(stderr, "bench: %s: %s\n", v->input, strerror(errno));
                exit(2);
        }
        double t0 = now_us();
        pid_t pid = fork();
        if (pid < 0) {
                perror("bench: fork");
                exit(2);
        }
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);
                if (dup2(in, 0) < 0 || null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
                        _exit(126);
                execvp(v->argv[0], v->argv);
                _exit(127);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid) {
                perror("bench: waitpid");
                exit(2);
        }
        double t = now_us() - t0;
        close(in);
        if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 1)) {
                fprintf(stderr, "bench: %s exited abnormally (status %d)\n", v->name, status);
                exit(2);
        }
        return t;
}

int main(int argc, char **argv)
{
        if (argc < 5) {
                fprintf(stderr, "usage: bench ROUNDS NAME STDIN CMD ARGS... [::: NAME STDIN CMD ARGS...]...\n");
                return 2;
        }
        char *end;
        long rounds = strtol(argv[1], &end, 10);
        if (*end || rounds < 3 || rounds > 100000) {
                fprintf(stderr, "bench: ROUNDS must be 3..100000\n");
                return 2;
        }
        variant vs[32];
        int nv = 0;
        for (int i = 2; i < argc && nv < 32;) {
                if (argc - i < 3) {
                        fprintf(stderr, "bench: each variant needs NAME STDIN CMD\n");
                        return 2;
                }
                variant *v = &vs[nv++];
                v->name = argv[i];
                v->input = argv[i + 1];
                v->argv = &argv[i + 2];
                int j = i + 2;
                while (j < argc && strcmp(argv[j], ":::") != 0)
                        j++;
                argv[j < argc ? j : argc] = NULL;
                v->us = calloc((size_t)rounds, sizeof(double));
                if (!v->us)
                        return 2;
                i = j + 1;
        }
        for (int v = 0; v < nv; v++) /* warm the page cache */
                (void)run(&vs[v]);
        for (long r = 0; r < rounds; r++)
                for (int v = 0; v < nv; v++)
                        vs[v].us[r] = run(&vs[v]);
        double base = 0;
        for (int v = 0; v < nv; v++) {
                qsort(vs[v].us, (size_t)rounds, sizeof(double), cmp);
                double med = pct(vs[v].us, (int)rounds, 0.5);
                if (v == 0)
                        base = med;
                printf("%s %.0f %.0f %.0f %.2f\n", vs[v].name, med, pct(vs[v].us, (int)rounds, 0.1),
                       pct(vs[v].us, (int)rounds, 0.9), base > 0 ? med / base : 0.0);
                free(vs[v].us);
        }
        return 0;
}
