/* fib.c: fib(n) without a cutoff, the raw cost of a join.
 *
 * Three forage variants run the same tree: `forage` makes every call one
 * fg_join of two recursive calls; `forage-ctx` makes it one context-task
 * spawn + sync (fg_ctx_spawn / fg_ctx_sync); `forage-task` one typed ctx
 * task spawn + sync (FG_TASK: the argument by value, the result returned,
 * Lace's shape; the task is tests/common/fib_typed.h's, which the record
 * tests run too).  The kernel and the sequential twin are common/fib.h's
 * (the peers in fib_omp.c, fib_tbb.cpp, fib_lace.c and benchmarks/rayon
 * use the same), so (T1 - Tseq) / joins is the price of a join.  Each run gets a fresh pool, made outside the clock.
 *
 * usage: fib [--threads 1,2] [--reps 5] [--n 38] [--no-header] (and
 * driver.h's --variant/--grain/--expect/--list); CSV on stdout, a median
 * summary on stderr.  Exits 1 if a checksum differs from the sequential one.
 */
#include <forage.h>

#include "../common/driver.h"
#include "../common/fib.h"
#include "../../tests/common/fib_typed.h"

static fg_pool *pool;

static int fib_task(void *p)
{
    fib_arg *a = p;
    if (fib_is_leaf(a))
        return 0;
    fib_arg x, y;
    fib_split(a, &x, &y);
    fg_join(pool, fib_task, &x, fib_task, &y);
    fib_add_up(a, &x, &y);
    return 0;
}

/* The child n - 1 is spawned from a compound literal, so its fields are
 * stored straight into the slot; the sync brings it back into x. */
static void fib_ctx_task(fg_ctx *cx, void *p)
{
    fib_arg *a = p;
    if (fib_is_leaf(a))
        return;
    fib_arg x, y = { a->n - 2, 0 };
    FG_CTX_SPAWN(cx, fib_ctx_task, ((fib_arg){ a->n - 1, 0 }));
    fib_ctx_task(cx, &y);
    FG_CTX_SYNC(cx, fib_ctx_task, x);
    fib_add_up(a, &x, &y);
}

enum { FIB_JOIN, FIB_CTX, FIB_TYPED };

static double run_forage(const bench_variant *v, int threads, long n, uint64_t *checksum)
{
    int err = fg_pool_create(&pool, FG_CONFIG(.workers = threads));
    if (err < 0) {
        fprintf(stderr, "fib: fg_pool_create: %s\n", fg_strerror(err));
        return -1;
    }
    fib_arg b = { (int)n, 0 };
    double t0 = bench_now();
    if (v->kind == FIB_CTX)
        err = fg_ctx_run(pool, fib_ctx_task, &b);
    else if (v->kind == FIB_TYPED)
        err = fib_typed_run(pool, (int)n, &b.result);
    else
        err = fg_join(pool, fib_task, &b, fib_task, &(fib_arg){ 0, 0 });
    double t = bench_now() - t0;
    fg_pool_destroy(pool);
    *checksum = b.result;
    return err == 0 ? t : -1;
}

static const bench_variant variants[] = {
    { "forage", 0, FIB_JOIN, run_forage, 0 },
    { "forage-ctx", 0, FIB_CTX, run_forage, 0 },
    { "forage-task", 0, FIB_TYPED, run_forage, 0 },
};

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 38);
    if (rc != 0)
        return rc;
    if (o.param > 92) {
        fprintf(stderr, "fib: --n must be at most 92 (64-bit result)\n");
        return 2;
    }
    bench_workload w = { "fib", "seq", fib_run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), fib_warmup_param };
    rc = bench_drive(&o, &w);
    if (rc == 0 && !o.list)
        fprintf(stderr, "fib(%ld): %" PRIu64 " joins: ns/join = (T1 - Tseq) / joins\n", o.param,
                fib_joins((int)o.param));
    return rc;
}
