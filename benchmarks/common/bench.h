/* bench.h: what every forage benchmark shares: option parsing, a monotonic
 * clock, the CSV line of docs (runtime,workload,param,grain,threads,rep,
 * seconds,checksum) and a median summary.  Header-only so each benchmark
 * stays one file.
 *
 * The options that pick one configuration (--variant, --grain, --expect,
 * --list) are for benchmarks/matrix.py's interleaved rounds, which run each
 * configuration as its own process; driver.h implements them. */
#ifndef FG_BENCH_H
#define FG_BENCH_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_THREADS 64
#define BENCH_MAX_REPS 101

typedef struct bench_opts {
    int threads[BENCH_MAX_THREADS]; /* --threads 1,2: forage worker counts */
    int nthreads;
    int reps;                       /* --reps R: timed repetitions */
    long param;                     /* --n N: the workload's size */
    int header;                     /* --no-header clears it */
    const char *variant;            /* --variant NAME: only that runtime (or the twin) */
    long grain;                     /* --grain G: with --variant, only that grain */
    int has_grain;
    uint64_t expect;                /* --expect C: the twin's checksum at --n, known */
    int has_expect;
    int list;                       /* --list: print the configurations and exit */
} bench_opts;

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int bench_usage(const char *prog, long default_param)
{
    fprintf(stderr, "usage: %s [--threads P[,P...]] [--reps R] [--n N (default %ld)] [--no-header]\n"
                    "       [--variant RUNTIME [--grain G]] [--expect CHECKSUM] [--list]\n",
            prog, default_param);
    return 2;
}

/* 0 on success, 2 (the exit code) on a bad command line. */
static inline int bench_parse(int argc, char **argv, bench_opts *o, long default_param)
{
    memset(o, 0, sizeof *o); /* not a compound literal: this also compiles as C++ */
    o->threads[0] = 2;
    o->nthreads = 1;
    o->reps = 5;
    o->param = default_param;
    o->header = 1;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--no-header") == 0) {
            o->header = 0;
        } else if (i + 1 < argc && strcmp(argv[i], "--threads") == 0) {
            o->nthreads = 0;
            for (char *s = argv[++i];; s = end + 1) {
                long t = strtol(s, &end, 10);
                if (end == s || t < 1 || t > 512 || o->nthreads == BENCH_MAX_THREADS)
                    return bench_usage(argv[0], default_param);
                o->threads[o->nthreads++] = (int)t;
                if (*end != ',')
                    break;
            }
            if (*end != '\0')
                return bench_usage(argv[0], default_param);
        } else if (i + 1 < argc && strcmp(argv[i], "--reps") == 0) {
            o->reps = (int)strtol(argv[++i], &end, 10);
            if (*end != '\0' || o->reps < 1 || o->reps > BENCH_MAX_REPS)
                return bench_usage(argv[0], default_param);
        } else if (i + 1 < argc && strcmp(argv[i], "--n") == 0) {
            o->param = strtol(argv[++i], &end, 10);
            if (*end != '\0' || o->param < 0)
                return bench_usage(argv[0], default_param);
        } else if (i + 1 < argc && strcmp(argv[i], "--variant") == 0) {
            o->variant = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--grain") == 0) {
            o->grain = strtol(argv[++i], &end, 10);
            if (*end != '\0' || end == argv[i])
                return bench_usage(argv[0], default_param);
            o->has_grain = 1;
        } else if (i + 1 < argc && strcmp(argv[i], "--expect") == 0) {
            o->expect = strtoull(argv[++i], &end, 10);
            if (*end != '\0' || end == argv[i])
                return bench_usage(argv[0], default_param);
            o->has_expect = 1;
        } else if (strcmp(argv[i], "--list") == 0) {
            o->list = 1;
        } else {
            return bench_usage(argv[0], default_param);
        }
    }
    if (o->has_grain && o->variant == NULL)
        return bench_usage(argv[0], default_param);
    return 0;
}

static inline void bench_header(const bench_opts *o)
{
    if (o->header)
        printf("runtime,workload,param,grain,threads,rep,seconds,checksum\n");
}

static inline void bench_row(const char *runtime, const char *workload, long param,
                             long grain, int threads, int rep, double seconds,
                             uint64_t checksum)
{
    printf("%s,%s,%ld,%ld,%d,%d,%.6f,%" PRIu64 "\n", runtime, workload, param, grain,
           threads, rep, seconds, checksum);
    fflush(stdout);
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#endif
