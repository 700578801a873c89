/* tests/unit/pool.c: pool life cycle, statistics and the drain in
 * fg_pool_destroy (runtime/pool.c).
 *
 * Criterion's asserts run on the test's main thread only: code on workers or
 * helper threads records what it saw and the main thread checks it. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "forage.h"
#include "pools.h"
#include "internal.h"

TestSuite(pool, .timeout = 60);

/* ------------------------------------------------------------ life cycle */

typedef struct sum_arg {
    fg_pool *pool;
    int lo, hi;          /* sum of [lo, hi) by binary splitting */
    int64_t sum;
    atomic_uint *seen;   /* bit i: worker i ran a leaf */
    atomic_int *bad_index;
} sum_arg;

static int sum_task(void *arg)
{
    sum_arg *s = arg;
    if (s->hi - s->lo <= 16) {
        int i = fg_worker_index();
        if (i < 0 || i >= fg_pool_workers(s->pool))
            atomic_fetch_add(s->bad_index, 1);
        else
            atomic_fetch_or(s->seen, 1u << i);
        s->sum = 0;
        for (int k = s->lo; k < s->hi; k++)
            s->sum += k;
        return 0;
    }
    int mid = s->lo + (s->hi - s->lo) / 2;
    sum_arg a = *s, b = *s;
    a.hi = mid;
    b.lo = mid;
    int err = fg_join(s->pool, sum_task, &a, sum_task, &b);
    s->sum = a.sum + b.sum;
    return err;
}

Test(pool, create_destroy_1_to_8_workers)
{
    for (int workers = 1; workers <= 8; workers++) {
        fg_pool *p = pool_new(workers);
        cr_assert_eq(fg_pool_workers(p), workers);
        atomic_uint seen = 0;
        atomic_int bad = 0;
        sum_arg s = { p, 0, 100000, -1, &seen, &bad };
        cr_assert_eq(sum_task(&s), 0);
        cr_assert_eq(s.sum, (int64_t)100000 * 99999 / 2, "%d workers", workers);
        cr_assert_eq(atomic_load(&bad), 0);
        cr_assert_eq(atomic_load(&seen) & ~((1u << workers) - 1), 0u);
        cr_assert_neq(atomic_load(&seen), 0u);
        fg_pool_destroy(p);
        cr_assert_eq(fg_worker_index(), -1);
    }
}

Test(pool, create_destroy_without_work)
{
    for (int round = 0; round < 20; round++) {
        fg_pool *p = pool_new(1 + round % 8);
        cr_assert_eq(fg_pool_workers(p), 1 + round % 8);
        fg_pool_destroy(p);
    }
}

Test(pool, workers_of_null)
{
    cr_assert_eq(fg_pool_workers(NULL), FG_EINVAL);
}

Test(pool, destroy_null_is_noop)
{
    fg_pool_destroy(NULL);
    fg_pool_destroy(NULL);
    /* Nothing was torn down: a pool still works normally afterwards. */
    fg_pool *p = pool_new(2);
    atomic_uint seen = 0;
    atomic_int bad = 0;
    sum_arg s = { p, 0, 1000, -1, &seen, &bad };
    cr_assert_eq(sum_task(&s), 0);
    cr_assert_eq(s.sum, 1000 * 999 / 2);
    fg_pool_destroy(p);
}

/* ------------------------------------------------------------ statistics */

Test(pool, stats_bad_args)
{
    fg_pool *p = pool_new(3);
    fg_worker_stats st, junk;
    memset(&junk, 0xAB, sizeof junk);
    st = junk;
    cr_assert_eq(fg_pool_stats(NULL, 0, &st), FG_EINVAL);
    cr_assert_eq(fg_pool_stats(p, 0, NULL), FG_EINVAL);
    cr_assert_eq(fg_pool_stats(p, -1, &st), FG_EINVAL);
    cr_assert_eq(fg_pool_stats(p, 3, &st), FG_EINVAL);
    cr_assert_eq(fg_pool_stats(p, 1000, &st), FG_EINVAL);
    cr_assert_eq(fg_pool_stats(p, 0, &st), FG_ESIZE); /* size not set */
    cr_assert_eq(memcmp(&st, &junk, sizeof st), 0, "a failed call wrote *out");
    st = (fg_worker_stats)FG_WORKER_STATS_INIT();
    for (int w = 0; w < 3; w++)
        cr_assert_eq(fg_pool_stats(p, w, &st), 0, "worker %d", w);
    fg_pool_destroy(p);
}

static atomic_int counter;

static int count_task(void *arg)
{
    (void)arg;
    atomic_fetch_add(&counter, 1);
    return 0;
}

Test(pool, stats_after_work)
{
    enum { SPAWNS = 10000 };
    int enabled = fg_stats_enabled();
    cr_assert(enabled == 0 || enabled == 1, "fg_stats_enabled() = %d", enabled);
    /* The outside join handed to a worker, to be counted as injected. */
    fg_pool *p = pool_with(FG_CONFIG(.workers = 2, .caller = FG_CALLER_WAIT));
    fg_group g = FG_GROUP_INIT(p);
    for (int i = 0; i < SPAWNS; i++)
        cr_assert_eq(fg_spawn(&g, count_task, NULL), 0);
    cr_assert_eq(fg_sync(&g), 0);
    atomic_uint seen = 0;
    atomic_int bad = 0;
    sum_arg s = { p, 0, 100000, -1, &seen, &bad };
    cr_assert_eq(sum_task(&s), 0); /* one injected join, then worker joins */
    cr_assert_eq(atomic_load(&counter), SPAWNS);

    fg_worker_stats total = FG_WORKER_STATS_INIT();
    for (int w = 0; w < 2; w++) {
        fg_worker_stats st;
        memset(&st, 0xAB, sizeof st);
        st.size = sizeof st;
        cr_assert_eq(fg_pool_stats(p, w, &st), 0);
        if (!enabled) {
            fg_worker_stats zero = FG_WORKER_STATS_INIT();
            cr_assert_eq(memcmp(&st, &zero, sizeof st), 0,
                         "stats are off but worker %d has counters", w);
        }
        total.tasks_run += st.tasks_run;
        total.steal_attempts += st.steal_attempts;
        total.steals += st.steals;
        total.steal_aborts += st.steal_aborts;
        total.injector_takes += st.injector_takes;
    }
    if (enabled) {
        /* Every injected job (the spawns and the one external join) is
         * taken from the injector exactly once and run. */
        cr_assert_eq(total.injector_takes, (uint64_t)SPAWNS + 1);
        cr_assert_geq(total.tasks_run, total.injector_takes);
        cr_assert_leq(total.steals + total.steal_aborts, total.steal_attempts);
    }
    fg_pool_destroy(p);
}

/* ------------------------------------------------- destroy drains queues */

enum { QUEUED = 10000 };

/* The first task keeps the only worker busy until destroy has started, so
 * the other tasks are certainly still queued when fg_pool_destroy is
 * called. */
static int wait_for_destroy_task(void *arg)
{
    fg_pool *p = arg;
    while (!atomic_load(&p->closing))
        fg__cpu_relax();
    atomic_fetch_add(&counter, 1);
    return 0;
}

static void spawn_queued(fg_pool *p, fg_group *g)
{
    cr_assert_eq(fg_spawn(g, wait_for_destroy_task, p), 0);
    for (int i = 1; i < QUEUED; i++)
        cr_assert_eq(fg_spawn(g, count_task, NULL), 0);
}

Test(pool, destroy_drains_external_spawns)
{
    fg_pool *p = pool_new(1);
    fg_group g = FG_GROUP_INIT(p);
    spawn_queued(p, &g);
    cr_assert_lt(atomic_load(&counter), QUEUED, "tasks should still be queued");
    fg_pool_destroy(p);
    cr_assert_eq(atomic_load(&counter), QUEUED, "destroy returned with %d of %d run",
                 atomic_load(&counter), QUEUED);
    /* All done: sync returns at once, without touching the freed pool. */
    cr_assert_eq(fg_sync(&g), 0);
    cr_assert_eq(fg_sync(&g), 0);
}

Test(pool, destroy_drains_many_workers)
{
    fg_pool *p = pool_new(4);
    fg_group g = FG_GROUP_INIT(p);
    for (int i = 0; i < QUEUED; i++)
        cr_assert_eq(fg_spawn(&g, count_task, NULL), 0);
    fg_pool_destroy(p);
    cr_assert_eq(atomic_load(&counter), QUEUED);
    cr_assert_eq(fg_sync(&g), 0);
}

static int fail_task(void *arg)
{
    atomic_fetch_add(&counter, 1);
    return (int)(intptr_t)arg;
}

Test(pool, destroy_keeps_group_error)
{
    fg_pool *p = pool_new(1);
    fg_group g = FG_GROUP_INIT(p);
    spawn_queued(p, &g);
    cr_assert_eq(fg_spawn(&g, fail_task, (void *)(intptr_t)42), 0);
    fg_pool_destroy(p);
    cr_assert_eq(atomic_load(&counter), QUEUED + 1);
    cr_assert_eq(fg_sync(&g), 42);
    cr_assert_eq(fg_sync(&g), 0, "the error was reset by the first sync");
}

/* ----------------------------------------- calls while destroy waits */

typedef struct late_caller {
    fg_pool *pool;
    atomic_int release; /* set when the late calls are done */
    int join, spawn, sync;
    int ran;
} late_caller;

static int late_task(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
    return 0;
}

/* A non-worker thread that calls into the pool after destroy started. */
static void *late_thread(void *arg)
{
    late_caller *c = arg;
    while (!atomic_load(&c->pool->closing))
        fg__cpu_relax();
    atomic_int ran = 0;
    c->join = fg_join(c->pool, late_task, &ran, late_task, &ran);
    fg_group g = FG_GROUP_INIT(c->pool);
    c->spawn = fg_spawn(&g, late_task, &ran);
    c->sync = fg_sync(&g);
    c->ran = atomic_load(&ran);
    atomic_store(&c->release, 1);
    return NULL;
}

static int hold_until_released(void *arg)
{
    late_caller *c = arg;
    while (!atomic_load(&c->release))
        fg__cpu_relax();
    atomic_fetch_add(&counter, 1);
    return 0;
}

Test(pool, calls_during_destroy_fail_with_eshutdown)
{
    fg_pool *p = pool_new(1);
    late_caller c = { .pool = p, .join = 1, .spawn = 1, .sync = 1, .ran = -1 };
    fg_group g = FG_GROUP_INIT(p);
    /* The queued task keeps destroy waiting until the late calls are done. */
    cr_assert_eq(fg_spawn(&g, hold_until_released, &c), 0);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, late_thread, &c), 0);
    fg_pool_destroy(p);
    cr_assert_eq(pthread_join(t, NULL), 0);
    cr_assert_eq(c.join, FG_ESHUTDOWN, "fg_join during destroy: %d", c.join);
    cr_assert_eq(c.spawn, FG_ESHUTDOWN, "fg_spawn during destroy: %d", c.spawn);
    cr_assert_eq(c.sync, 0, "nothing was queued in the late group");
    cr_assert_eq(c.ran, 0, "refused calls ran %d tasks", c.ran);
    cr_assert_eq(atomic_load(&counter), 1);
    cr_assert_eq(fg_sync(&g), 0);
}
