/* driver.h: the repetition loop of every program that compares runtimes
 * on one workload (forage's programs and the peers').
 *
 * Per rep (rep -1 is the warm-up and is not printed): the sequential twin
 * once, then every variant at every --threads count.  The warm-up runs at
 * the workload's warmup_param size when it has one: starting threads and
 * filling task pools takes far less than a full fib(38) on a peer that
 * spends 20 s on it.  Each run's checksum
 * must equal the twin's of the same rep, else the program reports it and
 * exits 1 (the matrix then fails).  Rows are bench.h's CSV; the twin's row
 * carries the program's own twin name ("seq" in forage's programs,
 * "seq-gomp", "seq-libomp", "seq-tbb", "seq-lace" in the peers'), so that
 * each runtime is compared with the twin built by the same compiler in the
 * same binary.  A median summary goes to stderr.  Plain C that also
 * compiles as C++.
 *
 * One configuration per process, for matrix.py's interleaved rounds:
 *   --list                 prints "runtime,grain,threads" per configuration
 *                          (the twin first; threads 0: any --threads) and exits;
 *   --variant R [--grain G] runs only the variants named R (at grain G); R
 *                          may be the twin's name, which then runs alone;
 *   --expect C             the twin's checksum at --n, from an earlier run
 *                          of this binary's twin: the timed reps check
 *                          against C instead of running the twin again (the
 *                          warm-up still checks against its own twin run). */
#ifndef FG_BENCH_DRIVER_H
#define FG_BENCH_DRIVER_H

#include "bench.h"

typedef struct bench_variant bench_variant;

/* One run on `threads` workers: the seconds of the parallel part only
 * (pool or arena set-up stays outside the clock), or < 0 on a failure;
 * *checksum receives the result. */
typedef double (*bench_run_fn)(const bench_variant *v, int threads, long param,
                               uint64_t *checksum);

struct bench_variant {
    const char *runtime; /* CSV runtime column, e.g. "tbb-simple" */
    long grain;          /* CSV grain column (0: none or the runtime's own) */
    int kind;            /* the program's own knob: which schedule */
    bench_run_fn run;
    int threads;         /* 0: every --threads count; else run once, at this count */
};

/* The twin: seconds, *checksum its result; < 0 on a failure. */
typedef double (*bench_seq_fn)(long param, uint64_t *checksum);

typedef struct bench_workload {
    const char *name;        /* CSV workload column */
    const char *seq_runtime; /* CSV runtime column of the twin */
    bench_seq_fn seq;
    const bench_variant *variants;
    int nvariants;
    long (*warmup_param)(long param); /* NULL: warm up at the timed size */
} bench_workload;

/* times[(v * nthreads + i) * reps + rep] */
static inline double *bench_cell(double *times, const bench_opts *o, int v, int i)
{
    return times + ((size_t)v * (size_t)o->nthreads + (size_t)i) * (size_t)o->reps;
}

static inline int bench_selected(const bench_opts *o, const bench_variant *v)
{
    return o->variant == NULL ||
           (strcmp(o->variant, v->runtime) == 0 && (!o->has_grain || o->grain == v->grain));
}

/* The thread counts variant v runs at: all of --threads, or its own one. */
static inline int bench_nthreads_of(const bench_opts *o, const bench_variant *v)
{
    return v->threads > 0 ? 1 : o->nthreads;
}

static inline int bench_threads_of(const bench_opts *o, const bench_variant *v, int i)
{
    return v->threads > 0 ? v->threads : o->threads[i];
}

/* Every selected variant at every thread count once; 0, or 1 on a failure. */
static inline int bench_drive_variants(const bench_opts *o, const bench_workload *w, int rep,
                                       long param, uint64_t expect, double *times)
{
    for (int v = 0; v < w->nvariants; v++) {
        const bench_variant *var = &w->variants[v];
        if (!bench_selected(o, var))
            continue;
        for (int i = 0; i < bench_nthreads_of(o, var); i++) {
            int threads = bench_threads_of(o, var, i);
            uint64_t sum = 0;
            double t = var->run(var, threads, param, &sum);
            if (t < 0 || sum != expect) {
                fprintf(stderr, "%s: %s grain %ld P=%d: %s (checksum %" PRIu64
                        ", sequential %" PRIu64 ")\n", w->name, var->runtime, var->grain,
                        threads, t < 0 ? "run failed" : "checksum mismatch", sum, expect);
                return 1;
            }
            if (rep >= 0) {
                bench_cell(times, o, v, i)[rep] = t;
                bench_row(var->runtime, w->name, param, var->grain, threads, rep, t, sum);
            }
        }
    }
    return 0;
}

/* Medians to stderr; ms < 0 when the twin was not timed (--expect). */
static inline void bench_drive_summary(const bench_opts *o, const bench_workload *w,
                                       double ms, double *times)
{
    fprintf(stderr, "%s(%ld): median of %d reps", w->name, o->param, o->reps);
    if (ms >= 0)
        fprintf(stderr, ": %s %.4f s", w->seq_runtime, ms);
    fprintf(stderr, "\n");
    for (int v = 0; v < w->nvariants; v++) {
        if (!bench_selected(o, &w->variants[v]))
            continue;
        for (int i = 0; i < bench_nthreads_of(o, &w->variants[v]); i++) {
            double mp = bench_median(bench_cell(times, o, v, i), o->reps);
            fprintf(stderr, "  %-18s grain %6ld P=%d: %.4f s", w->variants[v].runtime,
                    w->variants[v].grain, bench_threads_of(o, &w->variants[v], i), mp);
            if (ms >= 0)
                fprintf(stderr, "  Tp/Tseq %.2f  Tseq/Tp %.2f", mp / ms, ms / mp);
            fprintf(stderr, "\n");
        }
    }
}

/* --list: the twin, then every variant. */
static inline int bench_drive_list(const bench_workload *w)
{
    printf("%s,0,1\n", w->seq_runtime);
    for (int v = 0; v < w->nvariants; v++)
        printf("%s,%ld,%d\n", w->variants[v].runtime, w->variants[v].grain,
               w->variants[v].threads);
    return 0;
}

/* The whole program after option parsing: the exit code. */
static inline int bench_drive(const bench_opts *o, const bench_workload *w)
{
    if (o->list)
        return bench_drive_list(w);
    int seq_only = o->variant != NULL && strcmp(o->variant, w->seq_runtime) == 0;
    int any = seq_only;
    for (int v = 0; v < w->nvariants; v++)
        any |= bench_selected(o, &w->variants[v]);
    if (!any) {
        fprintf(stderr, "%s: no variant %s%s (see --list)\n", w->name, o->variant,
                o->has_grain ? " at that grain" : "");
        return 2;
    }
    size_t cells = (size_t)w->nvariants * (size_t)o->nthreads * (size_t)o->reps;
    double *tseq = (double *)calloc((size_t)o->reps, sizeof *tseq);
    double *times = (double *)calloc(cells + 1, sizeof *times);
    int rc = tseq == NULL || times == NULL;
    bench_header(o);
    for (int rep = -1; rep < o->reps && rc == 0; rep++) {
        long param = rep < 0 && w->warmup_param ? w->warmup_param(o->param) : o->param;
        uint64_t expect = o->expect;
        if (rep < 0 || !o->has_expect || seq_only) {
            double t = w->seq(param, &expect);
            if (t < 0) {
                fprintf(stderr, "%s: the sequential twin failed\n", w->name);
                rc = 1;
                break;
            }
            if (rep >= 0 && o->has_expect && expect != o->expect) {
                fprintf(stderr, "%s: %s checksum %" PRIu64 " != --expect %" PRIu64 "\n",
                        w->name, w->seq_runtime, expect, o->expect);
                rc = 1;
                break;
            }
            if (rep >= 0) {
                tseq[rep] = t;
                bench_row(w->seq_runtime, w->name, o->param, 0, 1, rep, t, expect);
            }
        }
        if (!seq_only)
            rc = bench_drive_variants(o, w, rep, param, expect, times);
    }
    if (rc == 0 && !seq_only)
        bench_drive_summary(o, w, o->has_expect ? -1 : bench_median(tseq, o->reps), times);
    else if (rc == 0)
        fprintf(stderr, "%s(%ld): median of %d reps: %s %.4f s\n", w->name, o->param, o->reps,
                w->seq_runtime, bench_median(tseq, o->reps));
    free(tseq);
    free(times);
    return rc;
}

#endif
