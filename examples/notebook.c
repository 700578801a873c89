/* notebook.c: the seed notebook as a C program (forage-demo).
 *
 * The notebook (docs/reference/joblib.md, "The seed notebook") runs 40000 independent
 * tasks, task i = my_task(i) = the sum of the integers below i, through
 * joblib's Parallel(n_jobs=4, batch_size=1000, verbose=10) with each
 * backend (loky, threading, sequential), then as a plain loop.  This
 * program does the same with forage's façade in the notebook's order: the
 * process backend (loky's role), SHARED (threading's), sequential, then
 * forage's own work-stealing backend, each with joblib's progress lines on
 * stderr, then a table of seconds, speedup over the loop and checksum (the
 * sum of the results, C(n, 3) = 10665866680000 for n = 40000).  Every row,
 * the plain loop's too, is the median of 3 timed runs after one warm-up
 * run; the warm-up prints the lines, the timed runs are silent.
 *
 * With any of --n-jobs --batch-size --verbose --backend it runs that one
 * configuration (the others at the notebook's values), prints joblib's lines
 * on the stream joblib would use and then the checksum line.
 *
 * usage: forage-demo [--n 40000] [--n-jobs 4] [--batch-size 1000|auto]
 *                    [--verbose 10] [--backend process|shared|sequential|steal]
 */
#include <forage.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seed_task.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct demo_opts {
    long n, n_jobs, batch_size, verbose;
    int backend;
    int single; /* a flag other than --n was given: run one configuration */
} demo_opts;

/* The notebook's order: loky, threading, sequential; then forage's own. */
enum { NBACKENDS = 4 };
static const int backend_order[NBACKENDS] = { FG_BACKEND_PROCESS, FG_BACKEND_SHARED,
                                              FG_BACKEND_SEQUENTIAL, FG_BACKEND_STEAL };
static const char *const backend_names[NBACKENDS] = { "process", "shared", "sequential",
                                                      "steal" };

static int parse_args(int argc, char **argv, demo_opts *o)
{
    *o = (demo_opts){ .n = 40000, .n_jobs = 4, .batch_size = 1000, .verbose = 10 };
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i], *val = i + 1 < argc ? argv[++i] : NULL;
        int ok = val != NULL;
        if (ok && strcmp(flag, "--n") == 0) {
            ok = seed_parse_long(val, &o->n) == 0 && o->n >= 0;
        } else if (ok && strcmp(flag, "--n-jobs") == 0) {
            ok = seed_parse_long(val, &o->n_jobs) == 0;
            o->single = 1;
        } else if (ok && strcmp(flag, "--batch-size") == 0) {
            o->batch_size = FG_BATCH_AUTO;
            ok = strcmp(val, "auto") == 0 ||
                 (seed_parse_long(val, &o->batch_size) == 0 && o->batch_size > 0);
            o->single = 1;
        } else if (ok && strcmp(flag, "--verbose") == 0) {
            ok = seed_parse_long(val, &o->verbose) == 0 && o->verbose >= 0;
            o->single = 1;
        } else if (ok && strcmp(flag, "--backend") == 0) {
            o->backend = -1;
            for (int b = 0; b < NBACKENDS; b++)
                if (strcmp(val, backend_names[b]) == 0)
                    o->backend = backend_order[b];
            ok = o->backend >= 0;
            o->single = 1;
        } else {
            ok = 0;
        }
        if (!ok) {
            fprintf(stderr, "usage: %s [--n 40000] [--n-jobs 4] [--batch-size 1000|auto] "
                            "[--verbose 10] [--backend process|shared|sequential|steal]\n",
                    argv[0]);
            return 2;
        }
    }
    return 0;
}

/* One `with Parallel(...) as p: p(tasks)`; returns seconds or -1. */
static double run_parallel(const demo_opts *o, int backend, long verbose, uint64_t *results)
{
    fg_parallel *par;
    fg_parallel_opts po = FG_PARALLEL_OPTS_INIT(.n_jobs = (int)o->n_jobs, .batch_size = o->batch_size,
                            .verbose = (int)verbose, .backend = backend);
    int err = fg_parallel_open(&par, &po);
    if (err < 0) {
        fprintf(stderr, "forage-demo: fg_parallel_open: %s\n", fg_strerror(err));
        return -1;
    }
    fg_error_info info = FG_ERROR_INFO_INIT();
    double t0 = now_s();
    err = fg_parallel_map(par, (fg_delayed){ my_task_delayed, NULL, sizeof(uint64_t) }, 0,
                          (size_t)o->n, results, &info);
    double t = now_s() - t0;
    fg_parallel_close(par);
    if (err != 0) {
        fprintf(stderr, "forage-demo: task %zu failed: %d (%s)\n", info.index, err,
                fg_strerror(err));
        return -1;
    }
    return t;
}

static double run_loop(size_t n, uint64_t *results)
{
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) /* In [10]: [my_task(i) for i in range(n)] */
        results[i] = my_task(i);
    return now_s() - t0;
}

static double median3(double a, double b, double c)
{
    return a > b ? (b > c ? b : a > c ? c : a) : (a > c ? a : b > c ? c : b);
}

/* A row of the table: one warm-up run (with the lines), then the median of
 * three timed runs (silent); backend -1 is the plain loop.  -1 on error. */
static double time_row(const demo_opts *o, int backend, uint64_t *results)
{
    size_t n = (size_t)o->n;
    double t[4];
    for (int r = 0; r < 4; r++) {
        memset(results, 0, n * sizeof *results);
        t[r] = backend < 0 ? run_loop(n, results)
                           : run_parallel(o, backend, r == 0 ? o->verbose : 0, results);
        if (t[r] < 0)
            return -1;
    }
    return median3(t[1], t[2], t[3]);
}

int main(int argc, char **argv)
{
    demo_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc;
    size_t n = (size_t)o.n;
    uint64_t *results = calloc(n + 1, sizeof *results);
    if (results == NULL)
        return 1;
    uint64_t expect = seed_reference_checksum((uint64_t)n);
    if (o.single) {
        double t = run_parallel(&o, o.backend, o.verbose, results);
        uint64_t cs = seed_checksum(results, n);
        printf("checksum %" PRIu64 " (%s, %.4f s)\n", cs, cs == expect ? "ok" : "MISMATCH", t);
        free(results);
        return t < 0 || cs != expect;
    }
    double tseq = time_row(&o, -1, results);
    uint64_t cseq = seed_checksum(results, n);
    double times[NBACKENDS];
    uint64_t sums[NBACKENDS];
    int bad = cseq != expect;
    for (int b = 0; b < NBACKENDS; b++) {
        fprintf(stderr, "\n# backend=%s n_jobs=%ld batch_size=%ld verbose=%ld\n",
                backend_names[b], o.n_jobs, o.batch_size, o.verbose);
        times[b] = time_row(&o, backend_order[b], results);
        sums[b] = seed_checksum(results, n);
        bad |= times[b] < 0 || sums[b] != expect;
    }
    printf("\nseed notebook: %zu tasks, n_jobs=%ld, batch_size=%ld, forage %s\n", n, o.n_jobs,
           o.batch_size, fg_version_string());
    printf("each row: median of 3 timed runs after one warm-up\n");
    printf("%-22s %10s %8s %16s\n", "backend", "seconds", "speedup", "checksum");
    printf("%-22s %10.4f %8.2f %16" PRIu64 "\n", "sequential loop", tseq, 1.0, cseq);
    for (int b = 0; b < NBACKENDS; b++)
        printf("%-22s %10.4f %8.2f %16" PRIu64 "\n", backend_names[b], times[b],
               times[b] > 0 ? tseq / times[b] : 0.0, sums[b]);
    printf("reference checksum %" PRIu64 ": %s\n", expect, bad ? "MISMATCH" : "ok");
    free(results);
    return bad;
}
