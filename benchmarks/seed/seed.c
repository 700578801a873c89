/* seed.c: the seed notebook's workload through the façade.
 *
 * --n tasks (default 40000), task i = my_task(i) = sum of the integers
 * below i, kept a real loop of one scalar add per m (common/seed.h says
 * how that was verified).  The sequential twin is the plain loop
 * [my_task(i) for i in range(n)] (seed_seq, shared with the peers).
 * forage runs every backend at batch sizes 1, 10, 100, 1000, 10000 and
 * auto, with n_jobs = the thread count.
 * Checksum: the sum of all results, C(n, 3).
 *
 * The summary prints the efficiency Tseq / (P * Tp) and the overhead
 * (P * Tp - Tseq) / n: worker time per task beyond the task itself, which at
 * batch size 1 is the cost of one batch.
 *
 * Then the façade's own cost on trivial tasks (task i stores i): 250 * n
 * of them at batch auto on STEAL, and 2.5 * n at batch size 1 on STEAL and
 * SHARED (the cost of one batch), in ns per task against the plain loop.
 *
 * usage: seed [--threads 2] [--reps 5] [--n 40000]
 */
#include <forage.h>

#include "../common/bench.h"
#include "../common/seed.h"

/* The façade's own cost: a task that only stores its index. */
static int trivial_task(size_t i, void *ctx, void *result)
{
    (void)ctx;
    *(uint64_t *)result = i;
    return 0;
}

/* The façade's own cost on trivial tasks: at batch auto on STEAL (n tasks),
 * and per batch at batch size 1 on STEAL and SHARED (n / 100 tasks).
 * (P * Tp - Tseq) / tasks is the overhead per task, paired as above. */
static const struct trivial_config {
    const char *name;
    int backend;
    long batch;
    size_t divisor;
} trivial_configs[] = {
    { "forage-steal", FG_BACKEND_STEAL, FG_BATCH_AUTO, 1 },
    { "forage-steal", FG_BACKEND_STEAL, 1, 100 },
    { "forage-shared", FG_BACKEND_SHARED, 1, 100 },
};
#define NTRIVIAL (int)(sizeof trivial_configs / sizeof trivial_configs[0])

static double trivial_seq(uint64_t *r, size_t n)
{
    double t0 = bench_now();
    for (size_t i = 0; i < n; i++)
        trivial_task(i, NULL, &r[i]);
    __asm__ volatile("" ::: "memory");
    return bench_now() - t0;
}

static int trivial_overhead(const bench_opts *o, size_t n)
{
    uint64_t *r = calloc(n + 1, sizeof *r);
    if (r == NULL)
        return 1;
    static double tp[NTRIVIAL][BENCH_MAX_THREADS][BENCH_MAX_REPS];
    static double over[NTRIVIAL][BENCH_MAX_THREADS][BENCH_MAX_REPS];
    for (int rep = -1; rep < o->reps; rep++)
        for (int c = 0; c < NTRIVIAL; c++)
            for (int ti = 0; ti < o->nthreads; ti++) {
                const struct trivial_config *tc = &trivial_configs[c];
                size_t m = n / tc->divisor;
                double ts = trivial_seq(r, m);
                uint64_t expect = seed_checksum(r, m);
                fg_parallel *par;
                if (fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = o->threads[ti],
                                                                .batch_size = tc->batch,
                                                                .backend = tc->backend)) < 0)
                    return 1;
                memset(r, 0, m * sizeof *r);
                double t0 = bench_now();
                int err = fg_parallel_map(par, (fg_delayed){ trivial_task, NULL, sizeof *r }, 0,
                                          m, r, NULL);
                double t = bench_now() - t0;
                fg_parallel_close(par);
                if (err != 0 || seed_checksum(r, m) != expect) {
                    fprintf(stderr, "seed: trivial checksum mismatch\n");
                    return 1;
                }
                if (rep < 0)
                    continue;
                tp[c][ti][rep] = t;
                over[c][ti][rep] = ((double)o->threads[ti] * t - ts) / (double)m * 1e9;
                bench_row("seq", "trivial", (long)m, 0, 1, rep, ts, expect);
                bench_row(tc->name, "trivial", (long)m, tc->batch, o->threads[ti], rep, t, expect);
            }
    fprintf(stderr, "trivial tasks (task i stores i): medians of %d paired reps\n", o->reps);
    for (int c = 0; c < NTRIVIAL; c++)
        for (int ti = 0; ti < o->nthreads; ti++)
            fprintf(stderr, "  %-13s P=%d batch %3ld n=%9zu: %.4f s  overhead %.2f ns/task\n",
                    trivial_configs[c].name, o->threads[ti], trivial_configs[c].batch,
                    n / trivial_configs[c].divisor, bench_median(tp[c][ti], o->reps),
                    bench_median(over[c][ti], o->reps));
    free(r);
    return 0;
}

static const long batches[] = { 1, 10, 100, 1000, 10000, FG_BATCH_AUTO };
#define NBATCH (int)(sizeof batches / sizeof batches[0])
static const char *const backends[] = { "forage-steal", "forage-shared", "forage-sequential" };
#define NBACKEND 3

/* The plain loop [my_task(i) for i in range(n)]: seconds. */
static double seq_run(uint64_t *r, size_t n)
{
    double t0 = bench_now();
    seed_seq(r, n);
    return bench_now() - t0;
}

/* One `with Parallel(...) as p: p(tasks)`: seconds, or -1 on a failure. */
static double par_run(uint64_t *r, size_t n, int threads, int backend, long batch)
{
    fg_parallel *par;
    int err = fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = threads, .batch_size = batch,
                                                          .backend = backend));
    if (err < 0)
        return -1;
    memset(r, 0, n * sizeof *r);
    double t0 = bench_now();
    err = fg_parallel_map(par, (fg_delayed){ my_task_delayed, NULL, sizeof *r }, 0, n, r, NULL);
    double t = bench_now() - t0;
    fg_parallel_close(par);
    return err == 0 ? t : -1;
}

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 40000);
    if (rc != 0)
        return rc;
    size_t n = (size_t)o.param;
    uint64_t *r = calloc(n + 1, sizeof *r);
    if (r == NULL)
        return 1;
    bench_header(&o);
    /* Every forage run is paired with a plain loop run just before it: the
     * machine's speed drifts by 10-20 % over seconds here, so the ratio of
     * a pair is steadier than a ratio of medians taken minutes apart. */
    static double t[NBACKEND][NBATCH][BENCH_MAX_THREADS][BENCH_MAX_REPS];
    static double eff[NBACKEND][NBATCH][BENCH_MAX_THREADS][BENCH_MAX_REPS];
    static double over[NBACKEND][NBATCH][BENCH_MAX_THREADS][BENCH_MAX_REPS];
    uint64_t expect = seed_reference_checksum((uint64_t)n);
    for (int rep = -1; rep < o.reps; rep++) /* rep -1: warm-up */
        for (int ti = 0; ti < o.nthreads; ti++)
            for (int b = 0; b < NBACKEND; b++)
                for (int k = 0; k < NBATCH; k++) {
                    if (b == FG_BACKEND_SEQUENTIAL && ti > 0)
                        continue; /* one worker whatever n_jobs: once is enough */
                    int p = b == FG_BACKEND_SEQUENTIAL ? 1 : o.threads[ti];
                    double ts = seq_run(r, n);
                    uint64_t cseq = seed_checksum(r, n);
                    double tp = par_run(r, n, o.threads[ti], b, batches[k]);
                    uint64_t cs = seed_checksum(r, n);
                    if (tp < 0 || cs != expect || cseq != expect) {
                        fprintf(stderr, "seed: %s batch %ld: checksum %" PRIu64 " (loop %" PRIu64
                                ") != %" PRIu64 "\n", backends[b], batches[k], cs, cseq, expect);
                        return 1;
                    }
                    if (rep < 0)
                        continue;
                    t[b][k][ti][rep] = tp;
                    eff[b][k][ti][rep] = ts / (p * tp);
                    over[b][k][ti][rep] = (p * tp - ts) / (double)n * 1e9;
                    bench_row("seq", "seed", (long)n, 0, 1, rep, ts, cseq);
                    bench_row(backends[b], "seed", (long)n, batches[k], p, rep, tp, cs);
                }
    fprintf(stderr, "seed(n=%zu): medians of %d paired reps (batch -1 = auto)\n", n, o.reps);
    for (int ti = 0; ti < o.nthreads; ti++)
        for (int b = 0; b < NBACKEND; b++)
            for (int k = 0; k < NBATCH; k++) {
                if (b == FG_BACKEND_SEQUENTIAL && ti > 0)
                    continue;
                int p = b == FG_BACKEND_SEQUENTIAL ? 1 : o.threads[ti];
                fprintf(stderr, "  %-17s P=%d batch %6ld: Tp %.4f s  Tseq/(P*Tp) %.3f  "
                        "overhead %.1f ns/task\n", backends[b], p, batches[k],
                        bench_median(t[b][k][ti], o.reps), bench_median(eff[b][k][ti], o.reps),
                        bench_median(over[b][k][ti], o.reps));
            }
    free(r);
    return trivial_overhead(&o, n * 250);
}
