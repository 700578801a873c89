/* tests/unit/task.c: typed ctx tasks (forage.h FG_TASK / FG_TASK_VOID),
 * their slow paths in runtime/ctx.c, and a full stack with typed tasks. */
#include <criterion/criterion.h>

#include <stdatomic.h>
#include <stdint.h>

#include "forage.h"
#include "pools.h"

TestSuite(task, .timeout = 120);

static fg_pool *pool_of(int workers, int deque)
{
    return pool_with(FG_CONFIG(.workers = workers, .deque = deque, .seed = 9));
}

static long fib_seq(int n)
{
    return n < 2 ? n : fib_seq(n - 1) + fib_seq(n - 2);
}

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

Test(task, fib_exact_on_every_pool)
{
    for (int workers = 1; workers <= 4; workers *= 2)
        for (int deque = 0; deque <= 1; deque++) {
            fg_pool *p = pool_of(workers, deque);
            for (int n = 0; n <= 24; n += 3) {
                long r = -1;
                cr_assert_eq(fib_run(p, n, &r), 0);
                cr_assert_eq(r, fib_seq(n), "fib(%d) on %d workers", n, workers);
            }
            fg_pool_destroy(p);
        }
}

/* A struct argument, several spawns before the syncs, a void task. */
typedef struct range { uint32_t lo, hi; } range;
static atomic_uint visits[1 << 16];

FG_TASK_VOID(visit, range);
static void visit(fg_ctx *cx, range r)
{
    if (r.hi - r.lo <= 4) {
        for (uint32_t i = r.lo; i < r.hi; i++)
            atomic_fetch_add(&visits[i], 1);
        return;
    }
    uint32_t q = (r.hi - r.lo) / 4;
    visit_spawn(cx, (range){ r.lo, r.lo + q });
    visit_spawn(cx, (range){ r.lo + q, r.lo + 2 * q });
    visit_spawn(cx, (range){ r.lo + 2 * q, r.lo + 3 * q });
    visit(cx, (range){ r.lo + 3 * q, r.hi });
    visit_sync(cx);
    visit_sync(cx);
    visit_sync(cx);
}

Test(task, struct_args_void_tasks_each_index_once)
{
    fg_pool *p = pool_of(4, 0);
    for (int round = 0; round < 20; round++) {
        for (uint32_t i = 0; i < (1u << 16); i++)
            atomic_store(&visits[i], 0);
        cr_assert_eq(visit_run(p, (range){ 0, 1u << 16 }), 0);
        for (uint32_t i = 0; i < (1u << 16); i++)
            cr_assert_eq(atomic_load(&visits[i]), 1, "index %u visited %u times", i,
                         atomic_load(&visits[i]));
    }
    fg_pool_destroy(p);
}

/* 10^5 typed spawns in one loop: past the stack's capacity the spawns run
 * at once and their syncs return their results. */
FG_TASK(uint64_t, square, uint32_t);
static uint64_t square(fg_ctx *cx, uint32_t x)
{
    (void)cx;
    return (uint64_t)x * x;
}

typedef struct loop_arg { uint32_t n; uint64_t sum; uint32_t wrong; } loop_arg;

FG_TASK_VOID(spawn_loop, loop_arg *);
static void spawn_loop(fg_ctx *cx, loop_arg *a)
{
    for (uint32_t i = 0; i < a->n; i++)
        square_spawn(cx, i);
    for (uint32_t i = a->n; i-- > 0;) {
        uint64_t r = square_sync(cx);
        a->wrong += r != (uint64_t)i * i;
        a->sum += r;
    }
}

Test(task, hundred_thousand_typed_spawns)
{
    for (int workers = 1; workers <= 2; workers++) {
        fg_pool *p = pool_of(workers, 0);
        loop_arg a = { 100000, 0, 0 };
        cr_assert_eq(spawn_loop_run(p, &a), 0);
        uint64_t want = 0;
        for (uint64_t i = 0; i < 100000; i++)
            want += i * i;
        cr_assert_eq(a.wrong, 0);
        cr_assert_eq(a.sum, want);
        fg_pool_destroy(p);
    }
}

/* Misuse that compiles: a sync in the wrong order finds another task. */
FG_TASK(int, one, int);
static int one(fg_ctx *cx, int x)
{
    (void)cx;
    return x + 1;
}
FG_TASK(int, two, int);
static int two(fg_ctx *cx, int x)
{
    (void)cx;
    return x + 2;
}

FG_TASK(int, wrong_order, int);
static int wrong_order(fg_ctx *cx, int x)
{
    one_spawn(cx, x);
    two_spawn(cx, x);
    int a = one_sync(cx); /* the newest is two's: refused, 0 */
    int b = two_sync(cx);
    int c = one_sync(cx);
    return a * 100 + b * 10 + c;
}

Test(task, wrong_order_sync_is_einval)
{
    fg_pool *p = pool_of(1, 0);
    int r = -1;
    cr_assert_eq(wrong_order_run(p, 5, &r), FG_EINVAL);
    cr_assert_eq(r, 0 * 100 + 7 * 10 + 6, "the refused sync did nothing, the rest went on");
    /* The worker's stack is sound afterwards. */
    long f = 0;
    cr_assert_eq(fib_run(p, 20, &f), 0);
    cr_assert_eq(f, 6765);
    fg_pool_destroy(p);
}

#ifndef NDEBUG
static atomic_int forgotten_ran;

FG_TASK(int, forgotten, int);
static int forgotten(fg_ctx *cx, int x)
{
    (void)cx;
    atomic_fetch_add(&forgotten_ran, 1);
    return x;
}

FG_TASK(int, forgets, int);
static int forgets(fg_ctx *cx, int x)
{
    forgotten_spawn(cx, x); /* never synced */
    return x;
}

Test(task, forgotten_spawn_found_in_debug_builds)
{
    fg_pool *p = pool_of(1, 0);
    int r = -1;
    cr_assert_eq(forgets_run(p, 3, &r), FG_EINVAL);
    cr_assert_eq(r, 3);
    cr_assert_eq(atomic_load(&forgotten_ran), 1, "the forgotten task still ran, once");
    long f = 0;
    cr_assert_eq(fib_run(p, 20, &f), 0);
    cr_assert_eq(f, 6765);
    fg_pool_destroy(p);
}
#endif

/* From a worker, a typed run is a direct call; mixed with untyped tasks. */
typedef struct untyped { int n; long r; } untyped;
static void untyped_fib(fg_ctx *cx, void *p)
{
    untyped *u = p;
    fib_spawn(cx, u->n - 1);
    long y = fib(cx, u->n - 2);
    u->r = fib_sync(cx) + y;
}

Test(task, typed_inside_untyped)
{
    fg_pool *p = pool_of(2, 0);
    untyped u = { 22, 0 };
    cr_assert_eq(fg_ctx_run(p, untyped_fib, &u), 0);
    cr_assert_eq(u.r, fib_seq(22));
    fg_pool_destroy(p);
}
