/* fib_omp.c: fib(n) with OpenMP tasks, no cutoff: each call makes
 * `task shared(x)` of fib(n-1), runs fib(n-2) itself, then `taskwait` (the
 * textbook shape, and forage's fg_join).  Built as fib-gomp (gcc, libgomp)
 * and fib-libomp (clang, libomp); kernel and twin from common/fib.h.
 *
 * usage: fib-gomp [--threads 1,2] [--reps 5] [--n 38] [--no-header] */
#include "../common/driver.h"
#include "../common/fib.h"
#include "../common/omp.h"

static void fib_omp(fib_arg *a)
{
    if (fib_is_leaf(a))
        return;
    fib_arg x, y;
    fib_split(a, &x, &y);
#pragma omp task shared(x)
    fib_omp(&x);
    fib_omp(&y);
#pragma omp taskwait
    fib_add_up(a, &x, &y);
}

static void fib_root(void *p)
{
    fib_omp(p);
}

static double run_tasks(const bench_variant *v, int threads, long n, uint64_t *checksum)
{
    (void)v;
    fib_arg a = { (int)n, 0 };
    double t = bench_omp_tasks(threads, fib_root, &a);
    *checksum = a.result;
    return t;
}

static const bench_variant variants[] = { { BENCH_OMP, 0, 0, run_tasks, 0 } };

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
    if (bench_omp_check_runtime() != 0)
        return 1;
    bench_workload w = { "fib", "seq-" BENCH_OMP, fib_run_seq, variants, 1, fib_warmup_param };
    return bench_drive(&o, &w);
}
