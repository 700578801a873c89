/* seed_tbb.cpp: the seed workload (common/seed.h) with tbb::parallel_for:
 * simple_partitioner at the batch sizes forage's façade runs (1, 10, 100,
 * 1000, 10000; chunks of B/2 to B tasks), and auto_partitioner filed under
 * batch -1 ("auto") beside forage's FG_BATCH_AUTO.
 *
 * usage: seed-tbb [--threads 2] [--reps 5] [--n 40000] */
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include "../common/driver.h"
#include "../common/seed.h"
#include "../common/tbb.hpp"

enum { SEED_SIMPLE, SEED_AUTO };

static void run_chunk(const tbb::blocked_range<size_t> &r)
{
    for (size_t i = r.begin(); i < r.end(); i++)
        seed_results[i] = my_task(i);
}

static double run_loop(const bench_variant *v, int threads, long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    memset(seed_results, 0, n * sizeof *seed_results);
    auto chunk = [](const tbb::blocked_range<size_t> &r) { run_chunk(r); };
    double t;
    if (v->kind == SEED_SIMPLE) {
        tbb::blocked_range<size_t> all(0, n, (size_t)v->grain);
        t = bench_tbb_run(threads, [&] { tbb::parallel_for(all, chunk, tbb::simple_partitioner()); });
    } else {
        tbb::blocked_range<size_t> all(0, n);
        t = bench_tbb_run(threads, [&] { tbb::parallel_for(all, chunk, tbb::auto_partitioner()); });
    }
    *checksum = seed_checksum(seed_results, n);
    return t;
}

static const bench_variant variants[] = {
    { "tbb-simple", 1, SEED_SIMPLE, run_loop, 0 },    { "tbb-simple", 10, SEED_SIMPLE, run_loop, 0 },
    { "tbb-simple", 100, SEED_SIMPLE, run_loop, 0 },  { "tbb-simple", 1000, SEED_SIMPLE, run_loop, 0 },
    { "tbb-simple", 10000, SEED_SIMPLE, run_loop, 0 }, { "tbb-auto", -1, SEED_AUTO, run_loop, 0 },
};

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 40000);
    if (rc != 0)
        return rc;
    seed_results = (uint64_t *)calloc((size_t)o.param + 1, sizeof *seed_results);
    if (seed_results == NULL)
        return 1;
    bench_workload w = { "seed", "seq-tbb", seed_run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), NULL };
    rc = bench_drive(&o, &w);
    free(seed_results);
    return rc;
}
