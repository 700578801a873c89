/* parallel_for_tbb.cpp: the parallel_for workload with tbb::parallel_for
 * over a blocked_range: simple_partitioner at each grain of the sweep, and
 * auto_partitioner at the default grain (1), oneTBB's recommended setting.
 * Each chunk is one pf_body call, as in forage.
 *
 * Chunk sizes at a nominal grain G: simple_partitioner splits a range while
 * it is longer than G, so chunks hold G/2 to G iterations (forage's SIMPLE:
 * G to 2G - 1); compare per chunk count, not only per nominal grain.
 *
 * usage: parallel_for-tbb [--threads 1,2] [--reps 5] [--n 10000000] */
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include "../common/driver.h"
#include "../common/parallel_for.h"
#include "../common/tbb.hpp"

enum { PF_SIMPLE, PF_AUTO };

static double run_loop(const bench_variant *v, int threads, long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    memset(pf_out, 0, n * sizeof *pf_out);
    auto chunk = [](const tbb::blocked_range<size_t> &r) { pf_body(r.begin(), r.end(), pf_out); };
    double t;
    if (v->kind == PF_SIMPLE) {
        tbb::blocked_range<size_t> all(0, n, (size_t)v->grain);
        t = bench_tbb_run(threads, [&] { tbb::parallel_for(all, chunk, tbb::simple_partitioner()); });
    } else {
        tbb::blocked_range<size_t> all(0, n);
        t = bench_tbb_run(threads, [&] { tbb::parallel_for(all, chunk, tbb::auto_partitioner()); });
    }
    *checksum = pf_checksum(pf_out, n);
    return t;
}

static const bench_variant variants[] = {
    { "tbb-simple", 1, PF_SIMPLE, run_loop, 0 },    { "tbb-simple", 16, PF_SIMPLE, run_loop, 0 },
    { "tbb-simple", 256, PF_SIMPLE, run_loop, 0 },  { "tbb-simple", 4096, PF_SIMPLE, run_loop, 0 },
    { "tbb-simple", 65536, PF_SIMPLE, run_loop, 0 }, { "tbb-auto", 0, PF_AUTO, run_loop, 0 },
};

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 10000000);
    if (rc != 0)
        return rc;
    pf_out = (uint32_t *)calloc((size_t)o.param + 1, sizeof *pf_out);
    if (pf_out == NULL)
        return 1;
    bench_workload w = { "parallel_for", "seq-tbb", pf_run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), pf_warmup_param };
    rc = bench_drive(&o, &w);
    free(pf_out);
    return rc;
}
