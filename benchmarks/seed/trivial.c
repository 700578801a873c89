/* trivial.c: the façade's own cost, on tasks that only store their index
 * (task i stores i): 250 * n of them at batch auto on STEAL, and 2.5 * n
 * at batch size 1 on STEAL and SHARED (the cost of one batch).  forage
 * only: the peers' loops have no façade to measure.
 *
 * (P * Tp - Tseq) / tasks is the worker time per task beyond the task
 * itself; each forage run is paired with a plain-loop run just before it,
 * and the summary gives the medians of those paired overheads.
 *
 * usage: trivial [--threads 2] [--reps 5] [--n 40000] [--no-header]; --n is
 * the seed workload's, the sizes above derive from it. */
#include <forage.h>

#include "../common/bench.h"
#include "../../examples/seed_task.h"
#include "trivial.h"

static const struct trivial_config {
    const char *name;
    int backend;
    long batch;
    size_t divisor; /* tasks = 250 * n / divisor */
} configs[] = {
    { "forage-steal", FG_BACKEND_STEAL, FG_BATCH_AUTO, 1 },
    { "forage-steal", FG_BACKEND_STEAL, 1, 100 },
    { "forage-shared", FG_BACKEND_SHARED, 1, 100 },
};
#define NCONFIGS (int)(sizeof configs / sizeof configs[0])

/* One map of m trivial tasks: seconds, or -1 on a failure. */
static double trivial_par(uint64_t *r, size_t m, int threads, const struct trivial_config *tc)
{
    fg_parallel *par;
    if (fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = threads, .batch_size = tc->batch,
                                                    .backend = tc->backend)) < 0)
        return -1;
    memset(r, 0, m * sizeof *r);
    double t0 = bench_now();
    int err = fg_parallel_map(par, (fg_delayed){ trivial_task, NULL, sizeof *r }, 0, m, r, NULL);
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
    if (o.variant != NULL || o.has_expect || o.list) {
        fprintf(stderr, "trivial: --variant, --expect and --list are not supported\n");
        return 2;
    }
    size_t n = (size_t)o.param * 250;
    uint64_t *r = calloc(n + 1, sizeof *r);
    if (r == NULL)
        return 1;
    bench_header(&o);
    static double tp[NCONFIGS][BENCH_MAX_THREADS][BENCH_MAX_REPS];
    static double over[NCONFIGS][BENCH_MAX_THREADS][BENCH_MAX_REPS];
    for (int rep = -1; rep < o.reps; rep++) /* rep -1: warm-up */
        for (int c = 0; c < NCONFIGS; c++)
            for (int ti = 0; ti < o.nthreads; ti++) {
                const struct trivial_config *tc = &configs[c];
                size_t m = n / tc->divisor;
                double ts = trivial_seq(r, m);
                uint64_t expect = seed_checksum(r, m);
                double t = trivial_par(r, m, o.threads[ti], tc);
                if (t < 0 || seed_checksum(r, m) != expect) {
                    fprintf(stderr, "trivial: %s batch %ld: run failed or checksum mismatch\n",
                            tc->name, tc->batch);
                    free(r);
                    return 1;
                }
                if (rep < 0)
                    continue;
                tp[c][ti][rep] = t;
                over[c][ti][rep] = ((double)o.threads[ti] * t - ts) / (double)m * 1e9;
                bench_row("seq", "trivial", (long)m, 0, 1, rep, ts, expect);
                bench_row(tc->name, "trivial", (long)m, tc->batch, o.threads[ti], rep, t, expect);
            }
    fprintf(stderr, "trivial tasks (task i stores i): medians of %d paired reps\n", o.reps);
    for (int c = 0; c < NCONFIGS; c++)
        for (int ti = 0; ti < o.nthreads; ti++)
            fprintf(stderr, "  %-13s P=%d batch %3ld n=%9zu: %.4f s  overhead %.2f ns/task\n",
                    configs[c].name, o.threads[ti], configs[c].batch, n / configs[c].divisor,
                    bench_median(tp[c][ti], o.reps), bench_median(over[c][ti], o.reps));
    free(r);
    return 0;
}
