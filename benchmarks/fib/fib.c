/* fib.c: fib(n) without a cutoff, the raw cost of a join.
 *
 * Every call of the forage version is one fg_join of two recursive calls;
 * the kernel and the sequential twin are common/fib.h's (the peers in
 * fib_omp.c and fib_tbb.cpp use the same), so (T1 - Tseq) / joins is the
 * price of a join.
 *
 * FIB_API=ctx in the environment runs the same tree through context tasks
 * instead (fg_ctx_spawn / fg_ctx_sync, one spawn+sync per call): the matrix
 * reports it as forage-ctx.  FIB_API=task runs it through typed ctx tasks
 * (FG_TASK: the argument by value, the result returned, Lace's shape): the
 * matrix reports it as forage-task.
 *
 * usage: fib [--threads 1,2] [--reps 5] [--n 38]; CSV on stdout, a median
 * summary on stderr.  Exits 1 if a checksum differs from the sequential one.
 */
#include <forage.h>

#include "../common/bench.h"
#include "../common/fib.h"

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

FG_TASK(uint64_t, fib_typed, int);
static uint64_t fib_typed(fg_frame f, int n)
{
    if (n < 2)
        return (uint64_t)n;
    fib_typed_spawn(&f, n - 1);
    uint64_t y = fib_typed(f, n - 2);
    uint64_t x = fib_typed_sync(&f);
    return x + y;
}

int main(int argc, char **argv)
{
    const char *api = getenv("FIB_API");
    int ctx = api != NULL && strcmp(api, "ctx") == 0;
    int typed = api != NULL && strcmp(api, "task") == 0;
    if (api != NULL && !ctx && !typed && strcmp(api, "join") != 0) {
        fprintf(stderr, "fib: FIB_API=%s: expected join, ctx or task\n", api);
        return 2;
    }
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 38);
    if (rc != 0)
        return rc;
    int n = (int)o.param;
    bench_header(&o);
    double tseq[BENCH_MAX_REPS], tpar[BENCH_MAX_THREADS][BENCH_MAX_REPS];
    uint64_t expect = 0;
    for (int rep = -1; rep < o.reps; rep++) { /* rep -1: warm-up, not printed */
        int rn = rep < 0 && n > 10 ? n - 4 : n; /* warm up on a seventh, as the peers */
        fib_arg a = { rn, 0 };
        double t0 = bench_now();
        fib_seq(&a);
        double t = bench_now() - t0;
        expect = a.result;
        if (rep >= 0) {
            tseq[rep] = t;
            bench_row("seq", "fib", n, 0, 1, rep, t, a.result);
        }
        for (int i = 0; i < o.nthreads; i++) {
            int err = fg_pool_create(&pool, FG_CONFIG(.workers = o.threads[i]));
            if (err < 0) {
                fprintf(stderr, "fib: fg_pool_create: %s\n", fg_strerror(err));
                return 1;
            }
            fib_arg b = { rn, 0 };
            t0 = bench_now();
            if (ctx)
                fg_ctx_run(pool, fib_ctx_task, &b);
            else if (typed)
                fib_typed_run(pool, rn, &b.result);
            else
                fg_join(pool, fib_task, &b, fib_task, &(fib_arg){ 0, 0 });
            t = bench_now() - t0;
            fg_pool_destroy(pool);
            if (b.result != expect) {
                fprintf(stderr, "fib: checksum %" PRIu64 " != sequential %" PRIu64 "\n",
                        b.result, expect);
                return 1;
            }
            if (rep >= 0) {
                tpar[i][rep] = t;
                bench_row("forage", "fib", n, 0, o.threads[i], rep, t, b.result);
            }
        }
    }
    double ms = bench_median(tseq, o.reps);
    uint64_t joins = fib_joins(n);
    fprintf(stderr, "fib(%d): %" PRIu64 " joins, median of %d reps: Tseq %.4f s\n", n, joins,
            o.reps, ms);
    for (int i = 0; i < o.nthreads; i++) {
        double mp = bench_median(tpar[i], o.reps);
        fprintf(stderr, "  P=%d: T%d %.4f s  T%d/Tseq %.2f  Tseq/T%d %.2f", o.threads[i],
                o.threads[i], mp, o.threads[i], mp / ms, o.threads[i], ms / mp);
        if (o.threads[i] == 1)
            fprintf(stderr, "  ns/join %.2f", (mp - ms) / (double)joins * 1e9);
        for (int j = 0; j < o.nthreads; j++)
            if (o.threads[j] == 1 && o.threads[i] != 1)
                fprintf(stderr, "  T1/T%d %.2f", o.threads[i],
                        bench_median(tpar[j], o.reps) / mp);
        fprintf(stderr, "\n");
    }
    return 0;
}
