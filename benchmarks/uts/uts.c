/* uts.c: unbalanced tree search (common/uts.h) on forage, three ways, as
 * nqueens: forage-group spawns all but the first child of a node into an
 * fg_group, runs the first and syncs; forage-join runs the children by binary splitting with fg_join;
 * forage-ctx spawns them as context tasks (fg_ctx_spawn) and syncs them;
 * forage-task does the same with typed tasks (FG_TASK_VOID), as Lace does.
 * All make one task per child.  Checksum: the tree's node count.
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
    for (int i = 1; i < k; i++)
        fg_spawn(&g, uts_group_task, &kids[i]);
    int err = k > 0 ? uts_group_task(&kids[0]) : 0;
    int sync_err = fg_sync(&g);
    err = err != 0 ? err : sync_err;
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

/* Context tasks: spawn kids 1..k-1 (a full stack runs the rest here), run
 * kid 0, sync the spawned ones newest first.  A failed allocation of a
 * big node's kids is counted in uts_ctx_failures (tasks return nothing). */
static int uts_ctx_failures;

static void uts_ctx_task(fg_ctx *cx, void *p)
{
    uts_node *nd = p, local[UTS_M];
    int k;
    uts_node *kids = uts_kids(nd, local, &k);
    if (kids == NULL) {
        __atomic_add_fetch(&uts_ctx_failures, 1, __ATOMIC_RELAXED);
        return;
    }
    int spawned = 1;
    while (spawned < k && fg_ctx_spawn(cx, uts_ctx_task, &kids[spawned], sizeof *kids) == 0)
        spawned++;
    for (int i = spawned; i < k; i++)
        uts_ctx_task(cx, &kids[i]);
    if (k > 0)
        uts_ctx_task(cx, &kids[0]);
    for (int i = spawned - 1; i >= 1; i--)
        fg_ctx_sync(cx, uts_ctx_task, &kids[i], sizeof *kids);
    uts_add_up(nd, kids, k);
    uts_kids_free(kids, local);
}

static int uts_ctx_root(void *p)
{
    uts_ctx_failures = 0;
    int err = fg_ctx_run(pool, uts_ctx_task, p);
    return err != 0 ? err : __atomic_load_n(&uts_ctx_failures, __ATOMIC_RELAXED) != 0;
}

/* Typed tasks (FG_TASK_VOID), Lace's shape: the argument is a pointer to
 * the kid; spawn kids 1..k-1, call kid 0, sync the rest newest first. */
FG_TASK_VOID(uts_typed, uts_node *);
static void uts_typed(fg_ctx *cx, uts_node *nd)
{
    uts_node local[UTS_M];
    int k;
    uts_node *kids = uts_kids(nd, local, &k);
    if (kids == NULL) {
        __atomic_add_fetch(&uts_ctx_failures, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int i = 1; i < k; i++)
        uts_typed_spawn(cx, &kids[i]);
    if (k > 0)
        uts_typed(cx, &kids[0]);
    for (int i = 1; i < k; i++)
        uts_typed_sync(cx);
    uts_add_up(nd, kids, k);
    uts_kids_free(kids, local);
}

static int noop(void *p)
{
    (void)p;
    return 0;
}

static double run_forage(const bench_variant *v, int threads, long b0, uint64_t *checksum)
{
    if (fg_pool_create(&pool, FG_CONFIG(.workers = threads)) < 0)
        return -1;
    uts_node root;
    uts_root(&root, (int)b0);
    double t0 = bench_now();
    static const fg_fn roots[] = { uts_group_task, uts_join_task, uts_ctx_root };
    int err;
    if (v->kind == 3) { /* typed: from here, as fib's typed root */
        uts_ctx_failures = 0;
        err = uts_typed_run(pool, &root);
        if (err == 0 && __atomic_load_n(&uts_ctx_failures, __ATOMIC_RELAXED) != 0)
            err = 1;
    } else {
        err = fg_join(pool, roots[v->kind], &root, noop, NULL);
    }
    double t = bench_now() - t0;
    fg_pool_destroy(pool);
    *checksum = root.count;
    return err == 0 ? t : -1;
}

static const bench_variant variants[] = {
    { "forage-group", 0, 0, run_forage, 0 },
    { "forage-join", 0, 1, run_forage, 0 },
    { "forage-ctx", 0, 2, run_forage, 0 },
    { "forage-task", 0, 3, run_forage, 0 },
};

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
    bench_workload w = { "uts", "seq", uts_run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), uts_warmup_param };
    return bench_drive(&o, &w);
}
