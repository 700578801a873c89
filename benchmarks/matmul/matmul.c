/* matmul.c: C += A * B by recursive quadrants (common/matmul.h) on forage.
 * Per phase, `forage` fg_spawn's three quadrant products into a group, runs
 * the fourth inline, then fg_sync's; `forage-task` does the same with typed
 * tasks (FG_TASK_VOID: three spawns, a call, three syncs, as matmul-lace);
 * `forage-join` splits the four in halves with fg_join, as matmul-rayon's
 * join(join(q0, q1), join(q2, q3)).  Checksum: common/matmul.h's weighted
 * sum of C.
 *
 * usage: matmul [--threads 1,2] [--reps 5] [--n N] [--no-header]; N a power
 * of two (N x N doubles, three matrices). */
#include <forage.h>

#include "../common/driver.h"
#include "../common/matmul_main.h"

static fg_pool *pool;

static int mm_task(void *p)
{
    const mm_arg *m = p;
    if (mm_is_leaf(m))
        return 0;
    int err = 0;
    for (int phase = 0; phase < 2; phase++) {
        mm_arg q[4];
        mm_phase(m, phase, q);
        fg_group g = FG_GROUP_INIT(pool);
        for (int i = 3; i > 0; i--) /* newest first: q1, q2, q3 after q0 */
            fg_spawn(&g, mm_task, &q[i]);
        int e0 = mm_task(&q[0]);
        int es = fg_sync(&g);
        if (err == 0)
            err = e0 ? e0 : es;
    }
    return err;
}

/* Lace's shape, typed: the quadrants stay in this frame until the syncs. */
FG_TASK_VOID(mm_typed, const mm_arg *);
static void mm_typed(fg_ctx *cx, const mm_arg *m)
{
    if (mm_is_leaf(m))
        return;
    for (int phase = 0; phase < 2; phase++) {
        mm_arg q[4];
        mm_phase(m, phase, q);
        for (int i = 3; i > 0; i--)
            mm_typed_spawn(cx, &q[i]);
        mm_typed(cx, &q[0]);
        for (int i = 0; i < 3; i++)
            mm_typed_sync(cx);
    }
}

/* Rayon's shape: each phase is a join of two joins of two products. */
static int mm_join(void *p);

static int mm_join_pair(void *p)
{
    mm_arg *q = p;
    return fg_join(pool, mm_join, &q[0], mm_join, &q[1]);
}

static int mm_join(void *p)
{
    const mm_arg *m = p;
    if (mm_is_leaf(m))
        return 0;
    int err = 0;
    for (int phase = 0; phase < 2 && err == 0; phase++) {
        mm_arg q[4];
        mm_phase(m, phase, q);
        err = fg_join(pool, mm_join_pair, &q[0], mm_join_pair, &q[2]);
    }
    return err;
}

enum { MM_GROUP, MM_TYPED, MM_JOIN };

static int noop(void *p)
{
    (void)p;
    return 0;
}

static double run_forage(const bench_variant *v, int threads, long n, uint64_t *checksum)
{
    if (fg_pool_create(&pool, FG_CONFIG(.workers = threads)) < 0)
        return -1;
    mm_arg m = mm_whole((size_t)n);
    double t0 = bench_now();
    int err = v->kind == MM_TYPED ? mm_typed_run(pool, &m)
            : fg_join(pool, v->kind == MM_JOIN ? mm_join : mm_task, &m, noop, NULL);
    double t = bench_now() - t0;
    fg_pool_destroy(pool);
    *checksum = mm_checksum(mc, (size_t)n);
    return err == 0 ? t : -1;
}

static const bench_variant variants[] = {
    { "forage", 0, MM_GROUP, run_forage, 0 },
    { "forage-task", 0, MM_TYPED, run_forage, 0 },
    { "forage-join", 0, MM_JOIN, run_forage, 0 },
};

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = mm_setup(argc, argv, &o);
    if (rc != 0)
        return rc;
    bench_workload w = { "matmul", "seq", mm_run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), mm_warmup_param };
    rc = bench_drive(&o, &w);
    mm_free();
    return rc;
}
