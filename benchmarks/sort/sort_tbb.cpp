/* sort_tbb.cpp: the sort workload (common/sort.h) with oneTBB's
 * tbb::parallel_sort (tbb-sort) and, when libstdc++'s parallel algorithms
 * build here (BENCH_HAVE_PSTL, found by benchmarks/meson.build), std::sort
 * with std::execution::par (tbb-pstl: libstdc++ runs it on oneTBB, inside
 * the run's task_arena, so it gets the same thread count).  The twin is
 * sequential std::sort.
 *
 * usage: sort-tbb [--threads 1,2] [--reps 5] [--n 10000000] */
#include <algorithm>
#if BENCH_HAVE_PSTL
#  include <execution>
#endif

#include <tbb/parallel_sort.h>

#include "../common/driver.h"
#include "../common/sort.h"
#include "../common/tbb.hpp"

enum { SORT_TBB, SORT_PSTL };

static double run_seq(long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    sort_reset(n);
    double t0 = bench_now();
    std::sort(sort_work, sort_work + n);
    double t = bench_now() - t0;
    *checksum = sort_checksum(sort_work, n);
    return t;
}

static double run_sort(const bench_variant *v, int threads, long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    sort_reset(n);
    double t;
    if (v->kind == SORT_TBB) {
        t = bench_tbb_run(threads, [&] { tbb::parallel_sort(sort_work, sort_work + n); });
    } else {
#if BENCH_HAVE_PSTL
        t = bench_tbb_run(threads,
                          [&] { std::sort(std::execution::par, sort_work, sort_work + n); });
#else
        t = -1;
#endif
    }
    *checksum = sort_checksum(sort_work, n);
    return t;
}

static const bench_variant variants[] = {
    { "tbb-sort", 0, SORT_TBB, run_sort, 0 },
#if BENCH_HAVE_PSTL
    { "tbb-pstl", 0, SORT_PSTL, run_sort, 0 },
#endif
};

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 10000000);
    if (rc != 0)
        return rc;
    if (sort_setup((size_t)o.param) != 0)
        return 1;
    bench_workload w = { "sort", "seq-tbb", run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), sort_warmup_param };
    rc = bench_drive(&o, &w);
    free(sort_in);
    free(sort_work);
    return rc;
}
