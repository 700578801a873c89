/* fib_lace.c: fib(n) with Lace, no cutoff: each call SPAWNs fib(n-1),
 * CALLs fib(n-2) and SYNCs (Lace's own fib).  Arguments and results go by
 * value, as Lace's TASK_1 declares them; the leaf test, split and add-up
 * are common/fib.h's, and so is the twin.
 *
 * usage: fib-lace [--threads 1,2] [--reps 5] [--n 38] [--no-header] */
#include "../common/driver.h"
#include "../common/fib.h"
#include "../common/lace_peer.h"

TASK_1(uint64_t, fib_lace, int, n)
{
    fib_arg a = { n, 0 }, x, y;
    if (fib_is_leaf(&a))
        return a.result;
    fib_split(&a, &x, &y);
    SPAWN(fib_lace, x.n);
    y.result = CALL(fib_lace, y.n);
    x.result = SYNC(fib_lace);
    fib_add_up(&a, &x, &y);
    return a.result;
}

static double run_lace(const bench_variant *v, int threads, long n, uint64_t *checksum)
{
    (void)v;
    bench_lace_pool(threads, 0);
    double t0 = bench_now();
    *checksum = RUN(fib_lace, (int)n);
    return bench_now() - t0;
}

static double run_seq(long param, uint64_t *checksum)
{
    return bench_lace_twin(fib_run_seq, param, checksum);
}

static const bench_variant variants[] = { { "lace", 0, 0, run_lace, 0 } };

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
    bench_workload w = { "fib", "seq-lace", run_seq, variants, 1, fib_warmup_param };
    rc = bench_drive(&o, &w);
    bench_lace_stop();
    return rc;
}
