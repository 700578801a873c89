/* fib_tbb.cpp: fib(n) with oneTBB, no cutoff: each call runs fib(n-1) in
 * a tbb::task_group, fib(n-2) itself, then wait() (oneTBB's documented
 * fork-join idiom).  Kernel and twin from common/fib.h.
 *
 * usage: fib-tbb [--threads 1,2] [--reps 5] [--n 38] [--no-header] */
#include <tbb/task_group.h>

#include "../common/driver.h"
#include "../common/fib.h"
#include "../common/tbb.hpp"

static void fib_tbb(fib_arg *a)
{
    if (fib_is_leaf(a))
        return;
    fib_arg x, y;
    fib_split(a, &x, &y);
    tbb::task_group g;
    g.run([&x] { fib_tbb(&x); });
    fib_tbb(&y);
    g.wait();
    fib_add_up(a, &x, &y);
}

static double run_group(const bench_variant *, int threads, long n, uint64_t *checksum)
{
    fib_arg a = { (int)n, 0 };
    double t = bench_tbb_run(threads, [&a] { fib_tbb(&a); });
    *checksum = a.result;
    return t;
}

static const bench_variant variants[] = { { "tbb", 0, 0, run_group, 0 } };

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 38);
    if (rc != 0)
        return rc;
    if (o.param > 92) {
        fprintf(stderr, "fib: --n must be at most 92 (64-bit result)\n");
        return 2;
    }
    bench_workload w = { "fib", "seq-tbb", fib_run_seq, variants, 1, fib_warmup_param };
    return bench_drive(&o, &w);
}
