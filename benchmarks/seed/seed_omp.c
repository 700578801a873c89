/* seed_omp.c: the seed workload (common/seed.h) as OpenMP loops over the
 * task index: `parallel for schedule(dynamic, B)` and `taskloop
 * grainsize(B)` at the batch sizes forage's façade runs (1, 10, 100, 1000,
 * 10000), and schedule(guided) as OpenMP's self-sizing schedule, filed
 * under batch -1 ("auto") beside forage's FG_BATCH_AUTO.  Built as
 * seed-gomp and seed-libomp.
 *
 * usage: seed-gomp [--threads 2] [--reps 5] [--n 40000] */
#include "../common/driver.h"
#include "../common/omp.h"
#include "../common/seed.h"

enum { SEED_DYNAMIC, SEED_TASKLOOP, SEED_GUIDED };

static void loop_dynamic(size_t n, int threads, long batch)
{
#pragma omp parallel for num_threads(threads) schedule(dynamic, batch)
    for (size_t i = 0; i < n; i++)
        seed_results[i] = my_task(i);
}

static void loop_taskloop(size_t n, int threads, long batch)
{
#pragma omp parallel num_threads(threads)
#pragma omp single
#pragma omp taskloop grainsize(batch)
    for (size_t i = 0; i < n; i++)
        seed_results[i] = my_task(i);
}

static void loop_guided(size_t n, int threads)
{
#pragma omp parallel for num_threads(threads) schedule(guided)
    for (size_t i = 0; i < n; i++)
        seed_results[i] = my_task(i);
}

static double run_loop(const bench_variant *v, int threads, long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    memset(seed_results, 0, n * sizeof *seed_results);
    omp_set_dynamic(0);
    double t0 = bench_now();
    switch (v->kind) {
    case SEED_DYNAMIC: loop_dynamic(n, threads, v->grain); break;
    case SEED_TASKLOOP: loop_taskloop(n, threads, v->grain); break;
    default: loop_guided(n, threads); break;
    }
    double t = bench_now() - t0;
    *checksum = seed_checksum(seed_results, n);
    return t;
}

#define BATCH_SWEEP(name, kind)                                                      \
    { name, 1, kind, run_loop, 0 }, { name, 10, kind, run_loop, 0 },                       \
    { name, 100, kind, run_loop, 0 }, { name, 1000, kind, run_loop, 0 },                   \
    { name, 10000, kind, run_loop, 0 }

static const bench_variant variants[] = {
    BATCH_SWEEP(BENCH_OMP "-dynamic", SEED_DYNAMIC),
    { BENCH_OMP "-guided", -1, SEED_GUIDED, run_loop, 0 },
    BATCH_SWEEP(BENCH_OMP "-taskloop", SEED_TASKLOOP),
};

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 40000);
    if (rc != 0)
        return rc;
    if (bench_omp_check_runtime() != 0)
        return 1;
    seed_results = (uint64_t *)calloc((size_t)o.param + 1, sizeof *seed_results);
    if (seed_results == NULL)
        return 1;
    bench_workload w = { "seed", "seq-" BENCH_OMP, seed_run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), NULL };
    rc = bench_drive(&o, &w);
    free(seed_results);
    return rc;
}
