/* parallel_for_omp.c: the parallel_for workload as OpenMP loops: `parallel
 * for schedule(dynamic, G)` and `taskloop grainsize(G)` over the grain
 * sweep, plus schedule(static) (one block per thread, as forage-static)
 * and schedule(guided) (shrinking chunks, the runtime's adaptive choice).
 * Built as parallel_for-gomp and parallel_for-libomp.
 *
 * Chunk sizes at a nominal grain G: dynamic hands out exactly G iterations,
 * taskloop makes tasks of G to 2G - 1 (as forage's SIMPLE).  The loop body
 * is out[i] = pf_mix(i) written in the loop, which the compiler outlines
 * and inlines just as pf_body does for forage and the twin.
 *
 * usage: parallel_for-gomp [--threads 1,2] [--reps 5] [--n 10000000] */
#include "../common/driver.h"
#include "../common/omp.h"
#include "../common/parallel_for.h"

enum { PF_DYNAMIC, PF_TASKLOOP, PF_STATIC, PF_GUIDED };

static void loop_dynamic(size_t n, int threads, long grain)
{
#pragma omp parallel for num_threads(threads) schedule(dynamic, grain)
    for (size_t i = 0; i < n; i++)
        pf_out[i] = pf_mix(i);
}

static void loop_taskloop(size_t n, int threads, long grain)
{
#pragma omp parallel num_threads(threads)
#pragma omp single
#pragma omp taskloop grainsize(grain)
    for (size_t i = 0; i < n; i++)
        pf_out[i] = pf_mix(i);
}

static void loop_static(size_t n, int threads)
{
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; i++)
        pf_out[i] = pf_mix(i);
}

static void loop_guided(size_t n, int threads)
{
#pragma omp parallel for num_threads(threads) schedule(guided)
    for (size_t i = 0; i < n; i++)
        pf_out[i] = pf_mix(i);
}

static double run_loop(const bench_variant *v, int threads, long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    memset(pf_out, 0, n * sizeof *pf_out);
    omp_set_dynamic(0);
    double t0 = bench_now();
    switch (v->kind) {
    case PF_DYNAMIC: loop_dynamic(n, threads, v->grain); break;
    case PF_TASKLOOP: loop_taskloop(n, threads, v->grain); break;
    case PF_STATIC: loop_static(n, threads); break;
    default: loop_guided(n, threads); break;
    }
    double t = bench_now() - t0;
    *checksum = pf_checksum(pf_out, n);
    return t;
}

#define GRAIN_SWEEP(name, kind)                                                      \
    { name, 1, kind, run_loop, 0 }, { name, 16, kind, run_loop, 0 },                       \
    { name, 256, kind, run_loop, 0 }, { name, 4096, kind, run_loop, 0 },                   \
    { name, 65536, kind, run_loop, 0 }

static const bench_variant variants[] = {
    GRAIN_SWEEP(BENCH_OMP "-dynamic", PF_DYNAMIC),
    GRAIN_SWEEP(BENCH_OMP "-taskloop", PF_TASKLOOP),
    { BENCH_OMP "-static", 0, PF_STATIC, run_loop, 0 },
    { BENCH_OMP "-guided", 0, PF_GUIDED, run_loop, 0 },
};

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 10000000);
    if (rc != 0)
        return rc;
    if (bench_omp_check_runtime() != 0)
        return 1;
    pf_out = (uint32_t *)calloc((size_t)o.param + 1, sizeof *pf_out);
    if (pf_out == NULL)
        return 1;
    bench_workload w = { "parallel_for", "seq-" BENCH_OMP, pf_run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), pf_warmup_param };
    rc = bench_drive(&o, &w);
    free(pf_out);
    return rc;
}
