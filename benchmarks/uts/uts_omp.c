/* uts_omp.c: unbalanced tree search (common/uts.h) with OpenMP tasks: one
 * `task` per child (the child array is shared, each task writes its own
 * element), then `taskwait`.  Built as uts-gomp and uts-libomp.
 *
 * usage: uts-gomp [--threads 1,2] [--reps 5] [--n B0] [--no-header] */
#include "../common/driver.h"
#include "../common/omp.h"
#include "../common/uts.h"

static int failed; /* set (once, racily but only ever to 1) if malloc failed */

static void uts_omp(uts_node *nd)
{
    uts_node local[UTS_M];
    int k;
    uts_node *kids = uts_kids(nd, local, &k);
    if (kids == NULL) {
#pragma omp atomic write
        failed = 1;
        return;
    }
    for (int i = 0; i < k; i++) {
#pragma omp task shared(kids)
        uts_omp(&kids[i]);
    }
#pragma omp taskwait
    uts_add_up(nd, kids, k);
    uts_kids_free(kids, local);
}

static void uts_root_task(void *p)
{
    uts_omp(p);
}

static double run_tasks(const bench_variant *v, int threads, long b0, uint64_t *checksum)
{
    (void)v;
    uts_node root;
    uts_root(&root, (int)b0);
    failed = 0;
    double t = bench_omp_tasks(threads, uts_root_task, &root);
    *checksum = root.count;
    return failed ? -1 : t;
}

static const bench_variant variants[] = { { BENCH_OMP, 0, 0, run_tasks, 0 } };

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 2000);
    if (rc != 0)
        return rc;
    if (o.param < 1 || o.param > 1000000) {
        fprintf(stderr, "uts: --n (the root's children) must be in 1..1000000\n");
        return 2;
    }
    if (bench_omp_check_runtime() != 0)
        return 1;
    bench_workload w = { "uts", "seq-" BENCH_OMP, uts_run_seq, variants, 1, uts_warmup_param };
    return bench_drive(&o, &w);
}
