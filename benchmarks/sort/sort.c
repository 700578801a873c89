/* sort.c: sorting --n doubles (default 10^7) with forage: the radix sort of
 * fixed-size keys (fg_parallel_sort_double), the qsort-compatible quicksort
 * (fg_parallel_sort) and the stable merge sort (fg_parallel_stable_sort),
 * the last two through qsort's comparator, and the same merge sort with the
 * comparison inlined (FG_PARALLEL_SORT, forage-sort-typed, as std::less is
 * into oneTBB's).  The twin is glibc's qsort with
 * the same comparator.  Input, checksum and comparator: common/sort.h,
 * shared with the oneTBB peer (sort_tbb.cpp: tbb::parallel_sort and
 * std::sort with std::execution::par).
 *
 * usage: sort [--threads 1,2] [--reps 5] [--n 10000000] [--no-header]
 * (and driver.h's --variant/--grain/--expect/--list)
 */
#include <forage.h>

#include "../common/driver.h"
#include "../common/pools.h"
#include "../common/sort.h"

enum { SORT_RADIX, SORT_QUICK, SORT_STABLE, SORT_TYPED };

#define before(a, b) ((a) < (b)) /* the input has no NaN */
FG_PARALLEL_SORT(typed_sort, double, before)

static double run_seq(long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    sort_reset(n);
    double t0 = bench_now();
    qsort(sort_work, n, sizeof *sort_work, sort_cmp_double);
    double t = bench_now() - t0;
    *checksum = sort_checksum(sort_work, n);
    return t;
}

static double run_forage(const bench_variant *v, int threads, long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    fg_pool *pool = bench_pool_for("sort", threads);
    if (pool == NULL)
        return -1;
    sort_reset(n);
    double t0 = bench_now();
    int err = v->kind == SORT_RADIX ? fg_parallel_sort_double(pool, sort_work, n)
            : v->kind == SORT_QUICK
                ? fg_parallel_sort(pool, sort_work, n, sizeof *sort_work, sort_cmp_double)
            : v->kind == SORT_TYPED
                ? typed_sort(pool, sort_work, n)
                : fg_parallel_stable_sort(pool, sort_work, n, sizeof *sort_work, sort_cmp_double);
    double t = bench_now() - t0;
    *checksum = sort_checksum(sort_work, n);
    if (err != 0)
        fprintf(stderr, "sort: %s: %s\n", v->runtime, fg_strerror(err));
    return err == 0 ? t : -1;
}

static const bench_variant variants[] = {
    { "forage-radix", 0, SORT_RADIX, run_forage, 0 },
    { "forage-sort", 0, SORT_QUICK, run_forage, 0 },
    { "forage-stable", 0, SORT_STABLE, run_forage, 0 },
    { "forage-sort-typed", 0, SORT_TYPED, run_forage, 0 },
};

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 10000000);
    if (rc != 0)
        return rc;
    if (sort_setup((size_t)o.param) != 0)
        return 1;
    bench_workload w = { "sort", "seq", run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), sort_warmup_param };
    rc = bench_drive(&o, &w);
    bench_pools_destroy();
    free(sort_in);
    free(sort_work);
    return rc;
}
