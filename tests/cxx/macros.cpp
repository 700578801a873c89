// Every public macro of forage.h from C++: a typed fib with FG_TASK, a
// void task, an FG_PARALLEL_FOR loop, a context task, a typed scan and
// sort, groups, cancel tokens and the options macros, each checked against
// exact results.  meson builds it once per C++ standard (c++11 ... c++20)
// with -Wall -Wextra -Werror -pedantic.
#include <forage.h>

#include <cstdio>
#include <cstdlib>

static int failures;

// got and want are evaluated once each (got is often the call under test).
static void check(long got, long want, const char *what)
{
    if (got != want) {
        std::fprintf(stderr, "FAIL %s: got %ld, want %ld\n", what, got, want);
        failures++;
    }
}
#define EXPECT_EQ(got, want) check((long)(got), (long)(want), #got)

FG_TASK(long, fib, int);
static long fib(fg_ctx *cx, int n)
{
    if (n < 2)
        return n;
    fib_spawn(cx, n - 1);
    long y = fib(cx, n - 2);
    long x = fib_sync(cx);
    return x + y;
}

struct tally { long *sum; int n; };
FG_TASK_VOID(count_down, tally);
static void count_down(fg_ctx *cx, tally t)
{
    if (t.n == 0)
        return;
    __atomic_fetch_add(t.sum, t.n, __ATOMIC_RELAXED);
    count_down_spawn(cx, tally{ t.sum, t.n - 1 });
    count_down_sync(cx);
}

struct ctx_fib { int n; long r; };
static void ctx_fib_task(fg_ctx *cx, void *p)
{
    ctx_fib *t = static_cast<ctx_fib *>(p);
    if (t->n < 2) {
        t->r = t->n;
        return;
    }
    ctx_fib x = { t->n - 1, 0 }, y = { t->n - 2, 0 };
    FG_CTX_SPAWN(cx, ctx_fib_task, x);
    ctx_fib_task(cx, &y);
    FG_CTX_SYNC(cx, ctx_fib_task, x);
    t->r = x.r + y.r;
}

static inline int square_range(size_t b, size_t e, void *ctx)
{
    long *out = static_cast<long *>(ctx);
    for (size_t i = b; i < e; i++)
        out[i] = (long)(i * i);
    return 0;
}
FG_PARALLEL_FOR(squares, square_range)

static inline int fail_at_500(size_t b, size_t e, void *ctx)
{
    (void)ctx;
    return b <= 500 && 500 < e ? 7 : 0;
}
FG_PARALLEL_FOR(failing, fail_at_500)

static inline long add(long a, long b) { return a + b; }
FG_PARALLEL_SCAN(prefix_sum, long, add)

#define BEFORE(a, b) ((a) < (b))
FG_PARALLEL_SORT(sort_longs, long, BEFORE)

static int twice(void *p)
{
    long *v = static_cast<long *>(p);
    *v *= 2;
    return 0;
}

int main()
{
    fg_pool *pool = NULL;
    int workers = 2;
    int err = fg_pool_create(&pool, FG_CONFIG(.workers = workers, .seed = 42));
    EXPECT_EQ(err, 0);
    if (err != 0)
        return 1;
    EXPECT_EQ(fg_pool_workers(pool), 2);

    long r = -1;
    EXPECT_EQ(fib_run(pool, 25, &r), 0);
    EXPECT_EQ(r, 75025);

    long sum = 0;
    EXPECT_EQ(count_down_run(pool, tally{ &sum, 100 }), 0);
    EXPECT_EQ(sum, 5050);

    ctx_fib root = { 20, 0 };
    EXPECT_EQ(fg_ctx_run(pool, ctx_fib_task, &root), 0);
    EXPECT_EQ(root.r, 6765);

    const size_t n = 10000;
    long *v = static_cast<long *>(std::calloc(n, sizeof *v));
    EXPECT_EQ(squares(pool, 0, n, FG_FOR_OPTS(.grain = 16), v), 0);
    long bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += v[i] != (long)(i * i);
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(squares(pool, 0, n, NULL, v), 0);
    EXPECT_EQ(failing(pool, 0, n, FG_FOR_OPTS(.grain = 1), NULL), 7);
    fg_cancel_token stop = FG_CANCEL_TOKEN_INIT;
    fg_cancel(&stop);
    EXPECT_EQ(squares(pool, 0, n, FG_FOR_OPTS(.cancel = &stop, .grain = 8), v), FG_ECANCELED);

    for (size_t i = 0; i < n; i++)
        v[i] = 1;
    EXPECT_EQ(prefix_sum(pool, v, v, n, 0, FG_SCAN_OPTS(.kind = FG_SCAN_EXCLUSIVE, .grain = 64)), 0);
    EXPECT_EQ(v[0], 0);
    EXPECT_EQ(v[n - 1], (long)n - 1);

    for (size_t i = 0; i < n; i++)
        v[i] = (long)((i * 7919) % n);
    EXPECT_EQ(sort_longs(pool, v, n), 0);
    bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += v[i] != (long)i;
    EXPECT_EQ(bad, 0);
    std::free(v);

    long g_vals[10];
    fg_group g = FG_GROUP_INIT(pool);
    for (int i = 0; i < 10; i++) {
        g_vals[i] = i;
        EXPECT_EQ(fg_spawn(&g, twice, &g_vals[i]), 0);
    }
    EXPECT_EQ(fg_sync(&g), 0);
    EXPECT_EQ(g_vals[9], 18);

    fg_config cfg = FG_CONFIG_INIT();
    EXPECT_EQ(cfg.size, sizeof(fg_config));
    EXPECT_EQ(cfg.workers, 0);
    fg_config cfg2 = FG_CONFIG_INIT(.seed = 3, .workers = 1);
    EXPECT_EQ(cfg2.workers, 1);
    EXPECT_EQ(cfg2.seed, 3);
    fg_parallel_opts po = FG_PARALLEL_OPTS_INIT(.n_jobs = 2, .batch_size = 4);
    EXPECT_EQ(po.size, sizeof(fg_parallel_opts));
    EXPECT_EQ(po.n_jobs, 2);
    EXPECT_EQ(po.batch_size, 4);
    EXPECT_EQ(FG_PARALLEL_OPTS(.n_jobs = 3)->n_jobs, 3);
    fg_error_info info = FG_ERROR_INFO_INIT();
    EXPECT_EQ(info.size, sizeof(fg_error_info));
    fg_worker_stats st = FG_WORKER_STATS_INIT();
    EXPECT_EQ(fg_pool_stats(pool, 0, &st), 0);
    EXPECT_EQ(st.size, sizeof(fg_worker_stats));
    EXPECT_EQ(FG_VERSION_AT_LEAST(0, 1), 1);

    fg_pool_destroy(pool);
    if (failures == 0)
        std::printf("c++ %ld: all macros ok\n", (long)__cplusplus);
    return failures != 0;
}
