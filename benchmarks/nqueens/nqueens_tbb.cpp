/* nqueens_tbb.cpp: n queens with oneTBB: every legal column at every level
 * is one task_group::run, then wait(), as forage-group spawns and syncs.
 * Kernel and twin from common/nqueens.h.
 *
 * usage: nqueens-tbb [--threads 1,2] [--reps 5] [--n 13] [--no-header] */
#include <tbb/task_group.h>

#include "../common/driver.h"
#include "../common/nqueens.h"
#include "../common/tbb.hpp"

static void nq_tbb(nq_arg *a)
{
    nq_arg kids[NQ_MAX];
    if (nq_is_leaf(a))
        return;
    int k = nq_children(a, kids);
    tbb::task_group g;
    for (int i = 0; i < k; i++) {
        nq_arg *kid = &kids[i];
        g.run([kid] { nq_tbb(kid); });
    }
    g.wait();
    nq_add_up(a, kids, k);
}

static double run_group(const bench_variant *, int threads, long n, uint64_t *checksum)
{
    nq_arg a;
    nq_root(&a, (int)n);
    double t = bench_tbb_run(threads, [&a] { nq_tbb(&a); });
    *checksum = a.solutions;
    return t;
}

static const bench_variant variants[] = { { "tbb", 0, 0, run_group, 0 } };

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
    bench_workload w = { "nqueens", "seq-tbb", nq_run_seq, variants, 1, nq_warmup_param };
    return bench_drive(&o, &w);
}
