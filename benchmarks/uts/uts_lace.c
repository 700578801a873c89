/* uts_lace.c: unbalanced tree search (common/uts.h) with Lace: a node
 * SPAWNs children 1..k-1, CALLs child 0 and SYNCs the others (newest
 * first).  The root spawns all its b0 children at once, so each worker's
 * deque gets room for b0 more tasks.
 *
 * usage: uts-lace [--threads 1,2] [--reps 5] [--n B0] [--no-header] */
#include <stdatomic.h>

#include "../common/driver.h"
#include "../common/lace_peer.h"
#include "../common/uts.h"

static atomic_int failed; /* set if the root's malloc failed */

VOID_TASK_1(uts_lace, uts_node *, nd)
{
    uts_node local[UTS_M];
    int k;
    uts_node *kids = uts_kids(nd, local, &k);
    if (kids == NULL) {
        atomic_store_explicit(&failed, 1, memory_order_relaxed);
        return;
    }
    for (int i = 1; i < k; i++)
        SPAWN(uts_lace, &kids[i]);
    if (k > 0)
        CALL(uts_lace, &kids[0]);
    for (int i = 1; i < k; i++)
        SYNC(uts_lace);
    uts_add_up(nd, kids, k);
    uts_kids_free(kids, local);
}

static long root_kids; /* --n: the deque room the root needs */

static double run_lace(const bench_variant *v, int threads, long b0, uint64_t *checksum)
{
    (void)v;
    bench_lace_pool(threads, (size_t)root_kids);
    uts_node root;
    uts_root(&root, (int)b0);
    atomic_store(&failed, 0);
    double t0 = bench_now();
    RUN(uts_lace, &root);
    double t = bench_now() - t0;
    *checksum = root.count;
    return atomic_load(&failed) ? -1 : t;
}

static double run_seq(long param, uint64_t *checksum)
{
    return bench_lace_twin(uts_run_seq, param, checksum);
}

static const bench_variant variants[] = { { "lace", 0, 0, run_lace, 0 } };

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
    root_kids = o.param;
    bench_workload w = { "uts", "seq-lace", run_seq, variants, 1, uts_warmup_param };
    rc = bench_drive(&o, &w);
    bench_lace_stop();
    return rc;
}
