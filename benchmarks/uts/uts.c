/* uts.c: unbalanced tree search (common/uts.h) on forage, two ways, as
 * nqueens: forage-group spawns every child of a node into an fg_group and
 * syncs; forage-join runs the children by binary splitting with fg_join.
 * Both make one task per child.  Checksum: the tree's node count.
 *
 * usage: uts [--threads 1,2] [--reps 5] [--n B0] [--no-header]; --n is the
 * root's branching factor (tree of about 1000 * B0 nodes). */
#include <forage.h>

#include "../common/driver.h"
#include "../common/uts.h"

static fg_pool *pool;

static int uts_group_task(void *p)
{
    uts_node *nd = p, local[UTS_M];
    int k;
    uts_node *kids = uts_kids(nd, local, &k);
    if (kids == NULL)
        return 1;
    fg_group g = FG_GROUP_INIT(pool);
    for (int i = 0; i < k; i++)
        fg_spawn(&g, uts_group_task, &kids[i]);
    int err = fg_sync(&g);
    uts_add_up(nd, kids, k);
    uts_kids_free(kids, local);
    return err;
}

/* The children [lo, hi) of one node, halved with fg_join down to one. */
typedef struct uts_span {
    uts_node *kids;
    int lo, hi;
} uts_span;

static int uts_join_task(void *p);

static int uts_span_run(void *p)
{
    uts_span *s = p;
    if (s->hi - s->lo == 1)
        return uts_join_task(&s->kids[s->lo]);
    int mid = s->lo + (s->hi - s->lo) / 2;
    uts_span a = { s->kids, s->lo, mid }, b = { s->kids, mid, s->hi };
    return fg_join(pool, uts_span_run, &a, uts_span_run, &b);
}

static int uts_join_task(void *p)
{
    uts_node *nd = p, local[UTS_M];
    int k;
    uts_node *kids = uts_kids(nd, local, &k);
    if (kids == NULL)
        return 1;
    uts_span all = { kids, 0, k };
    int err = k > 0 ? uts_span_run(&all) : 0;
    uts_add_up(nd, kids, k);
    uts_kids_free(kids, local);
    return err;
}

static int noop(void *p)
{
    (void)p;
    return 0;
}

static double run_forage(const bench_variant *v, int threads, long b0, uint64_t *checksum)
{
    if (fg_pool_create(&pool, &(fg_config){ .workers = threads }) < 0)
        return -1;
    uts_node root;
    uts_root(&root, (int)b0);
    double t0 = bench_now();
    int err = fg_join(pool, v->kind ? uts_join_task : uts_group_task, &root, noop, NULL);
    double t = bench_now() - t0;
    fg_pool_destroy(pool);
    *checksum = root.count;
    return err == 0 ? t : -1;
}

static double run_seq(long b0, uint64_t *checksum)
{
    uts_node root;
    uts_root(&root, (int)b0);
    double t0 = bench_now();
    int err = uts_seq(&root);
    double t = bench_now() - t0;
    *checksum = root.count;
    return err == 0 ? t : -1;
}

static const bench_variant variants[] = {
    { "forage-group", 0, 0, run_forage },
    { "forage-join", 0, 1, run_forage },
};

/* The warm-up: a quarter of the root's children. */
static long warmup_param(long b0)
{
    return b0 >= 4 ? b0 / 4 : b0;
}

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
    bench_workload w = { "uts", "seq", run_seq, variants, 2, warmup_param };
    return bench_drive(&o, &w);
}
