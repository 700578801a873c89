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

static uint64_t *results;

static void run_chunk(const tbb::blocked_range<size_t> &r)
{
    for (size_t i = r.begin(); i < r.end(); i++)
        results[i] = my_task(i);
}

static double run_loop(const bench_variant *v, int threads, long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    memset(results, 0, n * sizeof *results);
    auto chunk = [](const tbb::blocked_range<size_t> &r) { run_chunk(r); };
    double t;
    if (v->kind == SEED_SIMPLE) {
        tbb::blocked_range<size_t> all(0, n, (size_t)v->grain);
        t = bench_tbb_run(threads, [&] { tbb::parallel_for(all, chunk, tbb::simple_partitioner()); });
    } else {
        tbb::blocked_range<size_t> all(0, n);
        t = bench_tbb_run(threads, [&] { tbb::parallel_for(all, chunk, tbb::auto_partitioner()); });
    }
    *checksum = seed_checksum(results, n);
    return t;
}

static double run_seq(long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    memset(results, 0, n * sizeof *results);
    double t0 = bench_now();
    seed_seq(results, n);
    double t = bench_now() - t0;
    *checksum = seed_checksum(results, n);
    return t;
}

static const bench_variant variants[] = {
    { "tbb-simple", 1, SEED_SIMPLE, run_loop },    { "tbb-simple", 10, SEED_SIMPLE, run_loop },
    { "tbb-simple", 100, SEED_SIMPLE, run_loop },  { "tbb-simple", 1000, SEED_SIMPLE, run_loop },
    { "tbb-simple", 10000, SEED_SIMPLE, run_loop }, { "tbb-auto", -1, SEED_AUTO, run_loop },
};

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 40000);
    if (rc != 0)
        return rc;
    results = (uint64_t *)calloc((size_t)o.param + 1, sizeof *results);
    if (results == NULL)
        return 1;
    bench_workload w = { "seed", "seq-tbb", run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), NULL };
    rc = bench_drive(&o, &w);
    free(results);
    return rc;
}
