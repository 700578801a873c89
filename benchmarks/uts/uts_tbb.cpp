/* uts_tbb.cpp: unbalanced tree search (common/uts.h) with oneTBB: one
 * task_group::run per child, then wait().
 *
 * usage: uts-tbb [--threads 1,2] [--reps 5] [--n B0] [--no-header] */
#include <atomic>

#include <tbb/task_group.h>

#include "../common/driver.h"
#include "../common/tbb.hpp"
#include "../common/uts.h"

static std::atomic<int> failed; /* set if the root's malloc failed */

static void uts_tbb(uts_node *nd)
{
    uts_node local[UTS_M];
    int k;
    uts_node *kids = uts_kids(nd, local, &k);
    if (kids == NULL) {
        failed.store(1, std::memory_order_relaxed);
        return;
    }
    tbb::task_group g;
    for (int i = 0; i < k; i++) {
        uts_node *kid = &kids[i];
        g.run([kid] { uts_tbb(kid); });
    }
    g.wait();
    uts_add_up(nd, kids, k);
    uts_kids_free(kids, local);
}

static double run_group(const bench_variant *, int threads, long b0, uint64_t *checksum)
{
    uts_node root;
    uts_root(&root, (int)b0);
    failed.store(0);
    double t = bench_tbb_run(threads, [&root] { uts_tbb(&root); });
    *checksum = root.count;
    return failed.load() ? -1 : t;
}

static const bench_variant variants[] = { { "tbb", 0, 0, run_group, 0 } };

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
    bench_workload w = { "uts", "seq-tbb", uts_run_seq, variants, 1, uts_warmup_param };
    return bench_drive(&o, &w);
}
