/* nqueens_lace.c: n queens with Lace: every legal column at every level is
 * one task; a node SPAWNs children 1..k-1, CALLs child 0 and SYNCs the
 * others (newest first, Lace's order), as forage-ctx does.  Kernel and twin
 * from common/nqueens.h.
 *
 * usage: nqueens-lace [--threads 1,2] [--reps 5] [--n 13] [--no-header] */
#include "../common/driver.h"
#include "../common/lace_peer.h"
#include "../common/nqueens.h"

VOID_TASK_1(nq_lace, nq_arg *, a)
{
    nq_arg kids[NQ_MAX];
    if (nq_is_leaf(a))
        return;
    int k = nq_children(a, kids);
    for (int i = 1; i < k; i++)
        SPAWN(nq_lace, &kids[i]);
    if (k > 0)
        CALL(nq_lace, &kids[0]);
    for (int i = 1; i < k; i++)
        SYNC(nq_lace);
    nq_add_up(a, kids, k);
}

static double run_lace(const bench_variant *v, int threads, long n, uint64_t *checksum)
{
    (void)v;
    bench_lace_pool(threads, 0);
    nq_arg a;
    nq_root(&a, (int)n);
    double t0 = bench_now();
    RUN(nq_lace, &a);
    double t = bench_now() - t0;
    *checksum = a.solutions;
    return t;
}

static double run_seq(long param, uint64_t *checksum)
{
    return bench_lace_twin(nq_run_seq, param, checksum);
}

static const bench_variant variants[] = { { "lace", 0, 0, run_lace, 0 } };

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
    bench_workload w = { "nqueens", "seq-lace", run_seq, variants, 1, nq_warmup_param };
    rc = bench_drive(&o, &w);
    bench_lace_stop();
    return rc;
}
