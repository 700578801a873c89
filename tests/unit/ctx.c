/* tests/unit/ctx.c: context tasks (fg_ctx_run / fg_ctx_spawn / fg_ctx_sync,
 * runtime/ctx.c and ctx_stack.c): results on every pool shape, the order
 * syncs run tasks in, a full stack, exactly-once under stealing, and bad
 * arguments (each rejected with FG_EINVAL, leaving the stack as it was). */
#include <criterion/criterion.h>

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "forage.h"
#include "pools.h"
#include "ctx_stack.h" /* FG__CTX_CAPACITY */

TestSuite(ctx, .timeout = 60);

static fg_pool *pool_of(int workers, int deque)
{
    return pool_with(FG_CONFIG(.workers = workers, .deque = deque));
}

/* ------------------------------------------------------------------ fib */

typedef struct fib_t {
    int n;
    int64_t r;
} fib_t;

static void fib(fg_ctx *cx, void *p)
{
    fib_t *t = p;
    if (t->n < 2) {
        t->r = t->n;
        return;
    }
    fib_t x, y = { t->n - 2, -1 };
    cr_assert_eq(FG_CTX_SPAWN(cx, fib, ((fib_t){ t->n - 1, -1 })), 0);
    fib(cx, &y);
    cr_assert_eq(FG_CTX_SYNC(cx, fib, x), 0);
    t->r = x.r + y.r;
}

static void check_fib(int workers, int deque)
{
    fg_pool *p = pool_of(workers, deque);
    int64_t want = 0, next = 1;
    for (int n = 0; n <= 27; n++) {
        fib_t t = { n, -1 };
        cr_assert_eq(fg_ctx_run(p, fib, &t), 0);
        cr_assert_eq(t.r, want, "fib(%d) on %d workers: %lld, want %lld", n, workers,
                     (long long)t.r, (long long)want);
        int64_t s = want + next;
        want = next;
        next = s;
    }
    fg_pool_destroy(p);
}

Test(ctx, fib_1_worker)            { check_fib(1, FG_DEQUE_CHASE_LEV); }
Test(ctx, fib_2_workers)           { check_fib(2, FG_DEQUE_CHASE_LEV); }
Test(ctx, fib_4_workers)           { check_fib(4, FG_DEQUE_CHASE_LEV); }
Test(ctx, fib_4_workers_split)     { check_fib(4, FG_DEQUE_SPLIT); }

/* fg_ctx_run on a worker is a direct call with that worker's context. */
typedef struct inner_arg {
    fg_pool *pool;
    int worker_before, worker_inside;
    fib_t f;
} inner_arg;

static void note_worker(fg_ctx *cx, void *p)
{
    inner_arg *a = p;
    a->worker_inside = fg_worker_index();
    fib(cx, &a->f);
}

static int from_worker(void *p)
{
    inner_arg *a = p;
    a->worker_before = fg_worker_index();
    return fg_ctx_run(a->pool, note_worker, a);
}

static int noop(void *p)
{
    (void)p;
    return 0;
}

Test(ctx, run_from_a_worker_is_a_direct_call)
{
    fg_pool *p = pool_of(2, 0);
    inner_arg a = { p, -2, -3, { 20, -1 } };
    cr_assert_eq(fg_join(p, from_worker, &a, noop, NULL), 0);
    cr_assert_geq(a.worker_before, 0);
    cr_assert_eq(a.worker_inside, a.worker_before);
    cr_assert_eq(a.f.r, 6765);
    fg_pool_destroy(p);
}

/* --------------------------------------------------- order and capacity */

typedef struct item {
    uint32_t index;
    uint32_t doubled;
} item;

#define MANY 100000u /* more spawns in one loop than a stack holds */
_Static_assert(MANY > 6 * FG__CTX_CAPACITY, "MANY must overflow the stack several times");

static uint32_t order[MANY + 1];
static atomic_uint order_next;
static atomic_uint ran[MANY + 1];

static void double_it(fg_ctx *cx, void *p)
{
    (void)cx;
    item *it = p;
    it->doubled = it->index * 2;
    order[atomic_fetch_add(&order_next, 1)] = it->index;
    atomic_fetch_add(&ran[it->index], 1);
}

typedef struct many_arg {
    uint32_t spawns;
    int full_err;      /* what the spawn after the last one returned */
    uint32_t wrong;    /* syncs that returned another block */
} many_arg;

/* Spawn `spawns` items and one more in one loop, then sync them all,
 * newest first.  No spawn may fail, however many there are. */
static void spawn_many(fg_ctx *cx, void *p)
{
    many_arg *a = p;
    for (uint32_t i = 0; i < a->spawns; i++)
        cr_assert_eq(FG_CTX_SPAWN(cx, double_it, ((item){ i, 0 })), 0, "spawn %u", i);
    a->full_err = FG_CTX_SPAWN(cx, double_it, ((item){ a->spawns, 0 }));
    for (uint32_t i = a->spawns + 1; i-- > 0;) {
        item it = { 0, 0 };
        cr_assert_eq(FG_CTX_SYNC(cx, double_it, it), 0, "sync %u", i);
        a->wrong += it.index != i || it.doubled != 2 * i;
    }
}

static void reset_counts(void)
{
    atomic_store(&order_next, 0);
    for (uint32_t i = 0; i <= MANY; i++)
        atomic_store(&ran[i], 0);
}

/* One worker, nobody steals: the spawns past the stack's capacity run at
 * once, in spawn order; the rest run at their syncs, newest first. */
static void check_spill_order(uint32_t spawns)
{
    uint32_t k = 0;
    for (uint32_t i = FG__CTX_CAPACITY; i <= spawns; i++, k++)
        cr_assert_eq(order[k], i, "run %u was item %u, not the spilled %u", k, order[k], i);
    for (uint32_t i = FG__CTX_CAPACITY; i-- > 0; k++)
        cr_assert_eq(order[k], i, "run %u was item %u, not the synced %u", k, order[k], i);
}

Test(ctx, a_full_stack_runs_the_spawn_at_once)
{
    fg_pool *p = pool_of(1, 0);
    reset_counts();
    many_arg a = { FG__CTX_CAPACITY, -1, 0 };
    cr_assert_eq(fg_ctx_run(p, spawn_many, &a), 0);
    cr_assert_eq(a.full_err, 0, "a spawn on a full stack never fails");
    cr_assert_eq(a.wrong, 0);
    cr_assert_eq(atomic_load(&order_next), FG__CTX_CAPACITY + 1);
    for (uint32_t i = 0; i <= FG__CTX_CAPACITY; i++)
        cr_assert_eq(atomic_load(&ran[i]), 1, "item %u ran %u times", i, atomic_load(&ran[i]));
    check_spill_order(FG__CTX_CAPACITY);
    fg_pool_destroy(p);
}

/* Issue 14's case: 10^5 spawns in one loop, then 10^5 syncs. */
Test(ctx, hundred_thousand_spawns_in_one_loop)
{
    for (int workers = 1; workers <= 4; workers *= 2) {
        fg_pool *p = pool_of(workers, workers == 4);
        reset_counts();
        many_arg a = { MANY, -1, 0 };
        cr_assert_eq(fg_ctx_run(p, spawn_many, &a), 0);
        cr_assert_eq(a.full_err, 0);
        cr_assert_eq(a.wrong, 0, "%u syncs got another task's block", a.wrong);
        cr_assert_eq(atomic_load(&order_next), MANY + 1);
        for (uint32_t i = 0; i <= MANY; i++)
            cr_assert_eq(atomic_load(&ran[i]), 1, "item %u ran %u times", i, atomic_load(&ran[i]));
        if (workers == 1)
            check_spill_order(MANY);
        /* The stack is usable again afterwards. */
        reset_counts();
        a = (many_arg){ 100, -1, 0 };
        cr_assert_eq(fg_ctx_run(p, spawn_many, &a), 0);
        cr_assert_eq(atomic_load(&order_next), 101);
        fg_pool_destroy(p);
    }
}

Test(ctx, every_task_runs_once_with_thieves)
{
    for (int deque = 0; deque <= 1; deque++) {
        fg_pool *p = pool_of(4, deque);
        for (int round = 0; round < 20; round++) {
            reset_counts();
            many_arg a = { 1000, 0, 0 };
            cr_assert_eq(fg_ctx_run(p, spawn_many, &a), 0);
            cr_assert_eq(a.full_err, 0);
            cr_assert_eq(a.wrong, 0);
            cr_assert_eq(atomic_load(&order_next), 1001);
            for (uint32_t i = 0; i <= 1000; i++)
                cr_assert_eq(atomic_load(&ran[i]), 1, "item %u ran %u times", i,
                             atomic_load(&ran[i]));
        }
        fg_pool_destroy(p);
    }
}

/* -------------------------------------------------------- bad arguments */

typedef struct bad_arg {
    int spawn_null_cx, spawn_null_fn, spawn_null_arg, spawn_too_big;
    int sync_nothing, sync_wrong_fn, sync_null_arg, sync_too_big, sync_null_cx;
    int sync_right, spawn_ok;
    item back;
} bad_arg;

static void other_fn(fg_ctx *cx, void *p)
{
    (void)cx;
    (void)p;
}

static void try_bad(fg_ctx *cx, void *p)
{
    bad_arg *b = p;
    item it = { 7, 0 };
    unsigned char big[FG_CTX_ARG_MAX + 1] = { 0 };
    b->sync_nothing = FG_CTX_SYNC(cx, double_it, it);
    b->spawn_null_cx = FG_CTX_SPAWN(NULL, double_it, it);
    b->spawn_null_fn = fg_ctx_spawn(cx, NULL, &it, sizeof it);
    b->spawn_null_arg = fg_ctx_spawn(cx, double_it, NULL, sizeof it);
    b->spawn_too_big = FG_CTX_SPAWN(cx, double_it, big);
    /* None of those spawned: still nothing to sync. */
    if (FG_CTX_SYNC(cx, double_it, it) != FG_EINVAL)
        b->sync_nothing = 1;
    b->spawn_ok = FG_CTX_SPAWN(cx, double_it, it);
    b->sync_wrong_fn = FG_CTX_SYNC(cx, other_fn, it);
    b->sync_null_arg = fg_ctx_sync(cx, double_it, NULL, sizeof it);
    b->sync_too_big = fg_ctx_sync(cx, double_it, big, sizeof big);
    b->sync_null_cx = FG_CTX_SYNC(NULL, double_it, it);
    /* The task is still there, untouched by the refused syncs. */
    b->sync_right = FG_CTX_SYNC(cx, double_it, b->back);
}

Test(ctx, bad_arguments_are_refused_and_change_nothing)
{
    fg_pool *p = pool_of(2, 0);
    reset_counts();
    bad_arg b;
    memset(&b, 0x55, sizeof b);
    cr_assert_eq(fg_ctx_run(p, try_bad, &b), 0);
    cr_assert_eq(b.sync_nothing, FG_EINVAL);
    cr_assert_eq(b.spawn_null_cx, FG_EINVAL);
    cr_assert_eq(b.spawn_null_fn, FG_EINVAL);
    cr_assert_eq(b.spawn_null_arg, FG_EINVAL);
    cr_assert_eq(b.spawn_too_big, FG_EINVAL);
    cr_assert_eq(b.spawn_ok, 0);
    cr_assert_eq(b.sync_wrong_fn, FG_EINVAL);
    cr_assert_eq(b.sync_null_arg, FG_EINVAL);
    cr_assert_eq(b.sync_too_big, FG_EINVAL);
    cr_assert_eq(b.sync_null_cx, FG_EINVAL);
    cr_assert_eq(b.sync_right, 0);
    cr_assert_eq(b.back.index, 7);
    cr_assert_eq(b.back.doubled, 14);
    cr_assert_eq(atomic_load(&order_next), 1, "only the one good spawn ran");
    cr_assert_eq(fg_ctx_run(NULL, double_it, &b.back), FG_EINVAL);
    cr_assert_eq(fg_ctx_run(p, NULL, &b.back), FG_EINVAL);
    fg_pool_destroy(p);
}

/* ------------------------------------------------ broken sync discipline */

static void leaves_two_behind(fg_ctx *cx, void *p)
{
    (void)p;
    FG_CTX_SPAWN(cx, double_it, ((item){ 3, 0 }));
    FG_CTX_SPAWN(cx, double_it, ((item){ 4, 0 }));
}

typedef struct nested_arg {
    fg_pool *pool;
    int inner;
} nested_arg;

static void runs_a_breaker_inside(fg_ctx *cx, void *p)
{
    nested_arg *a = p;
    item keep = { 5, 0 }, back = { 0, 0 };
    FG_CTX_SPAWN(cx, double_it, keep);
    a->inner = fg_ctx_run(a->pool, leaves_two_behind, NULL); /* a direct call */
    FG_CTX_SYNC(cx, double_it, back);
    cr_assert_eq(back.index, 5, "the outer task's own spawn is still on top");
    cr_assert_eq(back.doubled, 10);
}

Test(ctx, unsynced_spawns_still_run_and_the_run_says_einval)
{
    for (int workers = 1; workers <= 2; workers++) {
        fg_pool *p = pool_of(workers, 0);
        reset_counts();
        cr_assert_eq(fg_ctx_run(p, leaves_two_behind, NULL), FG_EINVAL);
        cr_assert_eq(atomic_load(&ran[3]), 1);
        cr_assert_eq(atomic_load(&ran[4]), 1);
        reset_counts();
        nested_arg a = { p, 0 };
        cr_assert_eq(fg_ctx_run(p, runs_a_breaker_inside, &a), 0);
        cr_assert_eq(a.inner, FG_EINVAL);
        cr_assert_eq(atomic_load(&order_next), 3);
        cr_assert_eq(atomic_load(&ran[3]) + atomic_load(&ran[4]) + atomic_load(&ran[5]), 3);
        fg_pool_destroy(p);
    }
}
