/* matmul_omp.c: C += A * B by recursive quadrants (common/matmul.h) with
 * OpenMP tasks: per phase, three quadrant products as `task`s, the fourth
 * inline, then `taskwait`.  Built as matmul-gomp and matmul-libomp.
 *
 * usage: matmul-gomp [--threads 1,2] [--reps 5] [--n N] [--no-header] */
#include "../common/driver.h"
#include "../common/matmul_main.h"
#include "../common/omp.h"


static void mm_omp(const mm_arg *m)
{
    if (mm_is_leaf(m))
        return;
    for (int phase = 0; phase < 2; phase++) {
        mm_arg q[4];
        mm_phase(m, phase, q);
        for (int i = 0; i < 3; i++) {
#pragma omp task shared(q)
            mm_omp(&q[i]);
        }
        mm_omp(&q[3]);
#pragma omp taskwait
    }
}

static void mm_root(void *p)
{
    mm_omp(p);
}

static double run_tasks(const bench_variant *v, int threads, long n, uint64_t *checksum)
{
    (void)v;
    mm_arg m = mm_whole((size_t)n);
    double t = bench_omp_tasks(threads, mm_root, &m);
    *checksum = mm_checksum(mc, (size_t)n);
    return t;
}

static const bench_variant variants[] = { { BENCH_OMP, 0, 0, run_tasks, 0 } };

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = mm_setup(argc, argv, &o);
    if (rc != 0)
        return rc;
    if (bench_omp_check_runtime() != 0) {
        mm_free();
        return 1;
    }
    bench_workload w = { "matmul", "seq-" BENCH_OMP, mm_run_seq, variants, 1, mm_warmup_param };
    rc = bench_drive(&o, &w);
    mm_free();
    return rc;
}
