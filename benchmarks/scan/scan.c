/* scan.c: an inclusive prefix sum of --n 64-bit integers (default 10^7)
 * with fg_parallel_scan at its default grain, out of place
 * (forage-scan) and in place on a copy (forage-scan-inplace: the copy is
 * made outside the clock), the combine an opaque function pointer as that
 * API takes it; and with FG_PARALLEL_SCAN (forage-scan-typed, out of
 * place), the combine inlined into each block's loop as oneTBB's lambda
 * is.  Input, twin (one sequential loop) and checksum:
 * common/scan.h, shared with the oneTBB peer (tbb::parallel_scan).
 *
 * usage: scan [--threads 1,2] [--reps 5] [--n 10000000] [--no-header]
 * (and driver.h's --variant/--grain/--expect/--list)
 */
#include <forage.h>

#include "../common/driver.h"
#include "../common/pools.h"
#include "../common/scan.h"

enum { SCAN_OUT, SCAN_INPLACE, SCAN_TYPED };

static inline uint64_t plus(uint64_t a, uint64_t b)
{
    return a + b;
}

FG_PARALLEL_SCAN(typed_sum, uint64_t, plus)

static void add_u64(void *left, const void *right, void *ctx)
{
    (void)ctx;
    *(uint64_t *)left += *(const uint64_t *)right;
}

static double run_forage(const bench_variant *v, int threads, long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    fg_pool *pool = bench_pool_for("scan", threads);
    if (pool == NULL)
        return -1;
    if (v->kind == SCAN_INPLACE)
        memcpy(scan_out, scan_in, n * sizeof *scan_out);
    else
        memset(scan_out, 0, n * sizeof *scan_out);
    const uint64_t zero = 0;
    const uint64_t *in = v->kind == SCAN_INPLACE ? scan_out : scan_in;
    double t0 = bench_now();
    int err = v->kind == SCAN_TYPED
                  ? typed_sum(pool, scan_in, scan_out, n, 0, NULL)
                  : fg_parallel_scan(pool, in, scan_out, n, sizeof *scan_out, &zero, add_u64,
                                     NULL, NULL);
    double t = bench_now() - t0;
    *checksum = scan_checksum(scan_out, n);
    return err == 0 ? t : -1;
}

static const bench_variant variants[] = {
    { "forage-scan", 0, SCAN_OUT, run_forage, 0 },
    { "forage-scan-inplace", 0, SCAN_INPLACE, run_forage, 0 },
    { "forage-scan-typed", 0, SCAN_TYPED, run_forage, 0 },
};

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 10000000);
    if (rc != 0)
        return rc;
    if (scan_setup((size_t)o.param) != 0)
        return 1;
    bench_workload w = { "scan", "seq", scan_run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), scan_warmup_param };
    rc = bench_drive(&o, &w);
    bench_pools_destroy();
    free(scan_in);
    free(scan_out);
    return rc;
}
