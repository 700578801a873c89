/* nqueens.c: count the placements of n queens, one task per legal column at
 * every level (fg_spawn into a group per node, then fg_sync).  The
 * sequential twin walks the same tree with plain calls.  Checksum: the
 * number of solutions (73,712 for n = 13).
 *
 * Four forage variants run the same tree: forage-group spawns all but the
 * first child into a per-node fg_group, runs the first, and syncs (so it
 * makes k-1 runtime tasks per node of k children, as every other variant
 * and Lace do: docs/benchmarks.md); forage-join splits the children of a
 * node in halves with fg_join (rayon's shape); forage-ctx spawns all but the
 * first child as context tasks (fg_ctx_spawn), runs the first, and syncs
 * the rest newest first; forage-task does the same with typed tasks
 * (FG_TASK_VOID), as Lace does.  All make one task per legal column.
 *
 * usage: nqueens [--threads 1,2] [--reps 5] [--n 13] [--no-header] (and
 * driver.h's --variant/--grain/--expect/--list); CSV on stdout, a median
 * summary on stderr.  Exits 1 if a checksum differs from the sequential one.
 * The kernel and the twin are common/nqueens.h's, shared with the peers
 * (nqueens_omp.c, nqueens_tbb.cpp).
 */
#include <forage.h>

#include "../common/driver.h"
#include "../common/nqueens.h"

static fg_pool *pool;

/* The kids [lo, hi) of one node, run by binary splitting with fg_join:
 * still one task per legal column, spawned as a balanced tree. */
typedef struct nq_span {
    nq_arg *kids;
    int lo, hi;
} nq_span;

static int nq_join_task(void *p);

static int nq_span_run(void *p)
{
    nq_span *s = p;
    if (s->hi - s->lo == 1)
        return nq_join_task(&s->kids[s->lo]);
    int mid = s->lo + (s->hi - s->lo) / 2;
    nq_span a = { s->kids, s->lo, mid }, b = { s->kids, mid, s->hi };
    return fg_join(pool, nq_span_run, &a, nq_span_run, &b);
}

static int nq_join_task(void *p)
{
    nq_arg *a = p, kids[NQ_MAX];
    if (nq_is_leaf(a))
        return 0;
    int k = nq_children(a, kids);
    nq_span all = { kids, 0, k };
    int err = k > 0 ? nq_span_run(&all) : 0;
    nq_add_up(a, kids, k);
    return err;
}

/* Groups: spawn kids 1..k-1, run kid 0 here, sync. */
static int nq_task(void *p)
{
    nq_arg *a = p, kids[NQ_MAX];
    if (nq_is_leaf(a))
        return 0;
    int k = nq_children(a, kids);
    fg_group g = FG_GROUP_INIT(pool);
    for (int i = 1; i < k; i++)
        fg_spawn(&g, nq_task, &kids[i]);
    int err = k > 0 ? nq_task(&kids[0]) : 0;
    int sync_err = fg_sync(&g);
    nq_add_up(a, kids, k);
    err = err != 0 ? err : sync_err;
    return err;
}

/* Context tasks: spawn kids 1..k-1 (a full stack runs the rest here), run
 * kid 0, sync the spawned ones newest first. */
static void nq_ctx_task(fg_ctx *cx, void *p)
{
    nq_arg *a = p, kids[NQ_MAX];
    if (nq_is_leaf(a))
        return;
    int k = nq_children(a, kids), spawned = 1;
    while (spawned < k && fg_ctx_spawn(cx, nq_ctx_task, &kids[spawned], sizeof *kids) == 0)
        spawned++;
    for (int i = spawned; i < k; i++)
        nq_ctx_task(cx, &kids[i]);
    if (k > 0)
        nq_ctx_task(cx, &kids[0]);
    for (int i = spawned - 1; i >= 1; i--)
        fg_ctx_sync(cx, nq_ctx_task, &kids[i], sizeof *kids);
    nq_add_up(a, kids, k);
}

static int nq_ctx_root(void *p)
{
    return fg_ctx_run(pool, nq_ctx_task, p);
}

/* Typed tasks (FG_TASK_VOID), Lace's shape: the argument is a pointer to
 * the kid; spawn kids 1..k-1, call kid 0, sync the rest newest first. */
FG_TASK_VOID(nq_typed, nq_arg *);
static void nq_typed(fg_ctx *cx, nq_arg *a)
{
    nq_arg kids[NQ_MAX];
    if (nq_is_leaf(a))
        return;
    int k = nq_children(a, kids);
    for (int i = 1; i < k; i++)
        nq_typed_spawn(cx, &kids[i]);
    if (k > 0)
        nq_typed(cx, &kids[0]);
    for (int i = 1; i < k; i++)
        nq_typed_sync(cx);
    nq_add_up(a, kids, k);
}

static int nq_noop(void *p)
{
    (void)p;
    return 0;
}

enum { NQ_GROUP, NQ_JOIN, NQ_CTX, NQ_TYPED };

static double run_forage(const bench_variant *v, int threads, long n, uint64_t *checksum)
{
    static const fg_fn roots[] = { nq_task, nq_join_task, nq_ctx_root };
    int err = fg_pool_create(&pool, FG_CONFIG(.workers = threads));
    if (err < 0) {
        fprintf(stderr, "nqueens: fg_pool_create: %s\n", fg_strerror(err));
        return -1;
    }
    nq_arg b;
    nq_root(&b, (int)n);
    double t0 = bench_now();
    if (v->kind == NQ_TYPED)
        err = nq_typed_run(pool, &b); /* from here, as fib's typed root */
    else
        err = fg_join(pool, roots[v->kind], &b, nq_noop, NULL);
    double t = bench_now() - t0;
    fg_pool_destroy(pool);
    *checksum = b.solutions;
    return err == 0 ? t : -1;
}

/* The ways forage can run the tree: a group per node, fg_join, context
 * tasks, typed tasks. */
static const bench_variant variants[] = {
    { "forage-group", 0, NQ_GROUP, run_forage, 0 },
    { "forage-join", 0, NQ_JOIN, run_forage, 0 },
    { "forage-ctx", 0, NQ_CTX, run_forage, 0 },
    { "forage-task", 0, NQ_TYPED, run_forage, 0 },
};

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
    bench_workload w = { "nqueens", "seq", nq_run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), nq_warmup_param };
    return bench_drive(&o, &w);
}
