/* seed.c: the seed notebook's workload through the façade.
 *
 * --n tasks (default 40000), task i = my_task(i) = sum of the integers
 * below i, with the empty-asm barrier that keeps one scalar add per m
 * (`objdump -d seed | grep -A12 '<my_task>:'` shows the 4-instruction
 * loop for gcc and clang -O3).  The sequential twin is the plain loop
 * [my_task(i) for i in range(n)].  forage runs every backend at batch
 * sizes 1, 10, 100, 1000, 10000 and auto, with n_jobs = the thread count.
 * Checksum: the sum of all results, C(n, 3).
 *
 * The summary prints the efficiency Tseq / (P * Tp) and the overhead
 * (P * Tp - Tseq) / n: worker time per task beyond the task itself, which at
 * batch size 1 is the cost of one batch.
 *
 * Then the façade's own cost: 250 * n trivial tasks (task i stores i) at
 * batch auto on STEAL against the plain loop, in ns per task.
 *
 * usage: seed [--threads 2] [--reps 5] [--n 40000]
 */
#include <forage.h>

#include "../common/bench.h"

__attribute__((noinline)) static uint64_t my_task(uint64_t n)
{
    uint64_t sum = 0;
    for (uint64_t m = 0; m < n; m++) {
        sum += m;
        __asm__ volatile("" : "+r"(sum));
    }
    return sum;
}

static int delayed_task(size_t i, void *ctx, void *result)
{
    (void)ctx;
    *(uint64_t *)result = my_task(i);
    return 0;
}

static uint64_t sum_of(const uint64_t *v, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i];
    return s;
}

/* The façade's own cost: a task that only stores its index. */
static int trivial_task(size_t i, void *ctx, void *result)
{
    (void)ctx;
    *(uint64_t *)result = i;
    return 0;
}

/* --n-trivial tasks of trivial_task through STEAL at batch auto, against
 * the plain loop: (P * Tp - Tseq) / n is the façade's overhead per task. */
static int trivial_overhead(const bench_opts *o, size_t n)
{
    uint64_t *r = calloc(n + 1, sizeof *r);
    if (r == NULL)
        return 1;
    double tseq[BENCH_MAX_REPS], tp[BENCH_MAX_THREADS][BENCH_MAX_REPS];
    for (int rep = -1; rep < o->reps; rep++) {
        double t0 = bench_now();
        for (size_t i = 0; i < n; i++)
            trivial_task(i, NULL, &r[i]);
        __asm__ volatile("" ::: "memory");
        double ts = bench_now() - t0;
        uint64_t expect = sum_of(r, n);
        if (rep >= 0) {
            tseq[rep] = ts;
            bench_row("seq", "trivial", (long)n, 0, 1, rep, ts, expect);
        }
        for (int ti = 0; ti < o->nthreads; ti++) {
            fg_parallel *par;
            if (fg_parallel_open(&par, &(fg_parallel_opts){ .n_jobs = o->threads[ti],
                                                            .batch_size = FG_BATCH_AUTO }) < 0)
                return 1;
            memset(r, 0, n * sizeof *r);
            t0 = bench_now();
            int err = fg_parallel_map(par, (fg_delayed){ trivial_task, NULL, sizeof *r }, 0, n,
                                      r, NULL);
            double t = bench_now() - t0;
            fg_parallel_close(par);
            if (err != 0 || sum_of(r, n) != expect) {
                fprintf(stderr, "seed: trivial checksum mismatch\n");
                return 1;
            }
            if (rep >= 0) {
                tp[ti][rep] = t;
                bench_row("forage-steal", "trivial", (long)n, FG_BATCH_AUTO, o->threads[ti], rep,
                          t, expect);
            }
        }
    }
    double ms = bench_median(tseq, o->reps);
    fprintf(stderr, "trivial(n=%zu) batch auto: Tseq %.4f s\n", n, ms);
    for (int ti = 0; ti < o->nthreads; ti++) {
        double mp = bench_median(tp[ti], o->reps);
        fprintf(stderr, "  forage-steal P=%d: %.4f s  overhead %.2f ns/task\n", o->threads[ti],
                mp, ((double)o->threads[ti] * mp - ms) / (double)n * 1e9);
    }
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
    for (size_t i = 0; i < n; i++)
        r[i] = my_task(i);
    return bench_now() - t0;
}

/* One `with Parallel(...) as p: p(tasks)`: seconds, or -1 on a failure. */
static double par_run(uint64_t *r, size_t n, int threads, int backend, long batch)
{
    fg_parallel *par;
    int err = fg_parallel_open(&par, &(fg_parallel_opts){ .n_jobs = threads, .batch_size = batch,
                                                          .backend = backend });
    if (err < 0)
        return -1;
    memset(r, 0, n * sizeof *r);
    double t0 = bench_now();
    err = fg_parallel_map(par, (fg_delayed){ delayed_task, NULL, sizeof *r }, 0, n, r, NULL);
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
    uint64_t expect = n >= 3 ? (uint64_t)n * (n - 1) * (n - 2) / 6 : 0;
    for (int rep = -1; rep < o.reps; rep++) /* rep -1: warm-up */
        for (int ti = 0; ti < o.nthreads; ti++)
            for (int b = 0; b < NBACKEND; b++)
                for (int k = 0; k < NBATCH; k++) {
                    if (b == FG_BACKEND_SEQUENTIAL && ti > 0)
                        continue; /* one worker whatever n_jobs: once is enough */
                    int p = b == FG_BACKEND_SEQUENTIAL ? 1 : o.threads[ti];
                    double ts = seq_run(r, n);
                    uint64_t cseq = sum_of(r, n);
                    double tp = par_run(r, n, o.threads[ti], b, batches[k]);
                    uint64_t cs = sum_of(r, n);
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
