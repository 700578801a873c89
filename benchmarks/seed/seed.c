/* seed.c: the seed notebook's workload through the façade.
 *
 * --n tasks (default 40000), task i = my_task(i) = sum of the integers
 * below i, kept a real loop of one scalar add per m (common/seed.h says
 * how that was verified).  The sequential twin is the plain loop
 * [my_task(i) for i in range(n)] (seed_seq, shared with the peers).
 * forage runs every backend at batch sizes 1, 10, 100, 1000, 10000 and
 * auto, with n_jobs = the thread count; the SEQUENTIAL backend runs on one
 * worker whatever n_jobs, so it runs once, as threads = 1.
 * Checksum: the sum of all results, C(n, 3).
 *
 * The façade's own cost on trivial tasks is trivial.c's.
 *
 * usage: seed [--threads 2] [--reps 5] [--n 40000] [--no-header] (and
 * driver.h's --variant/--grain/--expect/--list)
 */
#include <forage.h>

#include "../common/driver.h"
#include "../common/seed.h"

/* One `with Parallel(...) as p: p(tasks)`: seconds, or -1 on a failure.
 * Opening the façade (its pool) stays outside the clock. */
static double run_forage(const bench_variant *v, int threads, long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    fg_parallel *par;
    int err = fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = threads, .batch_size = v->grain,
                                                          .backend = v->kind));
    if (err < 0) {
        fprintf(stderr, "seed: fg_parallel_open: %s\n", fg_strerror(err));
        return -1;
    }
    memset(seed_results, 0, n * sizeof *seed_results);
    double t0 = bench_now();
    err = fg_parallel_map(par, (fg_delayed){ my_task_delayed, NULL, sizeof *seed_results }, 0, n,
                          seed_results, NULL);
    double t = bench_now() - t0;
    fg_parallel_close(par);
    *checksum = seed_checksum(seed_results, n);
    return err == 0 ? t : -1;
}

/* Batch -1 is FG_BATCH_AUTO ("auto" in the report). */
#define BATCH_SWEEP(name, backend, threads)                                           \
    { name, FG_BATCH_AUTO, backend, run_forage, threads },                            \
    { name, 1, backend, run_forage, threads }, { name, 10, backend, run_forage, threads }, \
    { name, 100, backend, run_forage, threads },                                      \
    { name, 1000, backend, run_forage, threads },                                     \
    { name, 10000, backend, run_forage, threads }

static const bench_variant variants[] = {
    BATCH_SWEEP("forage-steal", FG_BACKEND_STEAL, 0),
    BATCH_SWEEP("forage-shared", FG_BACKEND_SHARED, 0),
    BATCH_SWEEP("forage-sequential", FG_BACKEND_SEQUENTIAL, 1),
};

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 40000);
    if (rc != 0)
        return rc;
    seed_results = calloc((size_t)o.param + 1, sizeof *seed_results);
    if (seed_results == NULL)
        return 1;
    bench_workload w = { "seed", "seq", seed_run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), seed_warmup_param };
    rc = bench_drive(&o, &w);
    free(seed_results);
    return rc;
}
