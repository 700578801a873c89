/* nqueens_omp.c: n queens with OpenMP tasks: every legal column at every
 * level is one `task` (the child array is shared: each task writes only its
 * own element), then `taskwait`, as forage-group spawns and syncs.  Built
 * as nqueens-gomp and nqueens-libomp; kernel and twin from
 * common/nqueens.h.
 *
 * usage: nqueens-gomp [--threads 1,2] [--reps 5] [--n 13] [--no-header] */
#include "../common/driver.h"
#include "../common/nqueens.h"
#include "../common/omp.h"

static void nq_omp(nq_arg *a)
{
    nq_arg kids[NQ_MAX];
    if (nq_is_leaf(a))
        return;
    int k = nq_children(a, kids);
    for (int i = 0; i < k; i++) {
#pragma omp task shared(kids)
        nq_omp(&kids[i]);
    }
#pragma omp taskwait
    nq_add_up(a, kids, k);
}

static void nq_root_task(void *p)
{
    nq_omp(p);
}

static double run_tasks(const bench_variant *v, int threads, long n, uint64_t *checksum)
{
    (void)v;
    nq_arg a;
    nq_root(&a, (int)n);
    double t = bench_omp_tasks(threads, nq_root_task, &a);
    *checksum = a.solutions;
    return t;
}

static const bench_variant variants[] = { { BENCH_OMP, 0, 0, run_tasks, 0 } };

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 13);
    if (rc != 0)
        return rc;
    if (o.param < 1 || o.param > NQ_MAX) {
        fprintf(stderr, "nqueens: --n must be in 1..%d\n", NQ_MAX);
        return 2;
    }
    if (bench_omp_check_runtime() != 0)
        return 1;
    bench_workload w = { "nqueens", "seq-" BENCH_OMP, nq_run_seq, variants, 1, nq_warmup_param };
    return bench_drive(&o, &w);
}
