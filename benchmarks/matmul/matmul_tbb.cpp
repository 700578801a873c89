/* matmul_tbb.cpp: C += A * B by recursive quadrants (common/matmul.h) with
 * oneTBB: per phase, three quadrant products through task_group::run, the
 * fourth inline, then wait().
 *
 * usage: matmul-tbb [--threads 1,2] [--reps 5] [--n N] [--no-header] */
#include <tbb/task_group.h>

#include "../common/driver.h"
#include "../common/matmul.h"
#include "../common/tbb.hpp"

static double *ma, *mb, *mc;

static void mm_tbb(const mm_arg *m)
{
    if (mm_is_leaf(m))
        return;
    for (int phase = 0; phase < 2; phase++) {
        mm_arg q[4];
        mm_phase(m, phase, q);
        tbb::task_group g;
        for (int i = 0; i < 3; i++) {
            const mm_arg *sub = &q[i];
            g.run([sub] { mm_tbb(sub); });
        }
        mm_tbb(&q[3]);
        g.wait();
    }
}

static mm_arg mm_whole(size_t n)
{
    memset(mc, 0, n * n * sizeof *mc);
    mm_arg m = { mc, ma, mb, n, n };
    return m;
}

static double run_group(const bench_variant *, int threads, long n, uint64_t *checksum)
{
    mm_arg m = mm_whole((size_t)n);
    double t = bench_tbb_run(threads, [&m] { mm_tbb(&m); });
    *checksum = mm_checksum(mc, (size_t)n);
    return t;
}

static double run_seq(long n, uint64_t *checksum)
{
    mm_arg m = mm_whole((size_t)n);
    double t0 = bench_now();
    mm_seq(&m);
    double t = bench_now() - t0;
    *checksum = mm_checksum(mc, (size_t)n);
    return t;
}

static const bench_variant variants[] = { { "tbb", 0, 0, run_group, 0 } };

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 1024);
    if (rc != 0)
        return rc;
    size_t n = (size_t)o.param;
    if (n < 1 || n > 16384 || (n & (n - 1)) != 0) {
        fprintf(stderr, "matmul: --n must be a power of two up to 16384\n");
        return 2;
    }
    ma = (double *)malloc(n * n * sizeof *ma);
    mb = (double *)malloc(n * n * sizeof *mb);
    mc = (double *)malloc(n * n * sizeof *mc);
    if (ma == NULL || mb == NULL || mc == NULL)
        return 1;
    mm_init(ma, mb, mc, n);
    bench_workload w = { "matmul", "seq-tbb", run_seq, variants, 1, mm_warmup_param };
    rc = bench_drive(&o, &w);
    free(ma);
    free(mb);
    free(mc);
    return rc;
}
