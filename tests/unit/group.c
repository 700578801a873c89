/* tests/unit/group.c: fg_spawn / fg_sync (runtime/group.c) and the slab that
 * holds spawn frames (runtime/slab.c).
 *
 * Criterion's asserts run on the test's main thread only: code that runs on
 * a worker records what it saw and the main thread checks it. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "forage.h"
#include "pools.h"
#include "internal.h"

enum { MANY = 100000 };

static int noop(void *arg)
{
    (void)arg;
    return 0;
}

TestSuite(group, .timeout = 60);

/* ------------------------------------------------- exactly-once counting */

/* hits[i] counts runs of task i; each must end at exactly 1. */
static atomic_int *hits;
static atomic_int total;

static int hit_task(void *arg)
{
    atomic_fetch_add(&hits[(uintptr_t)arg], 1);
    atomic_fetch_add(&total, 1);
    return 0;
}

static void hits_reset(size_t n)
{
    free(hits);
    hits = calloc(n, sizeof *hits);
    cr_assert_not_null(hits);
    atomic_store(&total, 0);
}

static void check_hits(size_t n)
{
    cr_assert_eq(atomic_load(&total), (int)n, "ran %d tasks, want %zu", atomic_load(&total), n);
    for (size_t i = 0; i < n; i++)
        if (atomic_load(&hits[i]) != 1)
            cr_assert_fail("task %zu ran %d times", i, atomic_load(&hits[i]));
}

typedef struct spawn_result {
    int spawn_errors; /* fg_spawn calls that returned nonzero */
    int sync;         /* fg_sync's result */
    int total_at_sync; /* tasks run when fg_sync returned */
    int index;        /* fg_worker_index() of the spawner */
} spawn_result;

static void spawn_many(fg_pool *p, size_t n, spawn_result *r)
{
    fg_group g = FG_GROUP_INIT(p);
    r->spawn_errors = 0;
    r->index = fg_worker_index();
    for (size_t i = 0; i < n; i++)
        r->spawn_errors += fg_spawn(&g, hit_task, (void *)(uintptr_t)i) != 0;
    r->sync = fg_sync(&g);
    r->total_at_sync = atomic_load(&total);
}

Test(group, many_spawns_from_main_thread)
{
    fg_pool *p = pool_new(2);
    hits_reset(MANY);
    spawn_result r;
    spawn_many(p, MANY, &r);
    cr_assert_eq(r.index, -1);
    cr_assert_eq(r.spawn_errors, 0);
    cr_assert_eq(r.sync, 0);
    cr_assert_eq(r.total_at_sync, MANY, "fg_sync returned after %d of %d tasks",
                 r.total_at_sync, MANY);
    check_hits(MANY);
    fg_pool_destroy(p);
}

typedef struct on_worker {
    fg_pool *pool;
    spawn_result r;
} on_worker;

static int spawn_many_task(void *arg)
{
    on_worker *o = arg;
    spawn_many(o->pool, MANY, &o->r);
    return 0;
}

static void check_many_from_worker(int workers)
{
    fg_pool *p = pool_new(workers);
    hits_reset(MANY);
    on_worker o = { .pool = p };
    cr_assert_eq(fg_join(p, spawn_many_task, &o, noop, NULL), 0);
    cr_assert(o.r.index >= 0 && o.r.index < workers, "spawner index %d", o.r.index);
    cr_assert_eq(o.r.spawn_errors, 0);
    cr_assert_eq(o.r.sync, 0);
    cr_assert_eq(o.r.total_at_sync, MANY, "fg_sync returned after %d of %d tasks",
                 o.r.total_at_sync, MANY);
    check_hits(MANY);
    fg_pool_destroy(p);
}

Test(group, many_spawns_from_worker_1)  { check_many_from_worker(1); }
Test(group, many_spawns_from_worker_3)  { check_many_from_worker(3); }

/* ------------------------------------------------------ recursive spawns */

enum { TREE_DEPTH = 12, TREE_TASKS = (1 << (TREE_DEPTH + 1)) - 1 };

static fg_group *tree_group;
static atomic_int tree_spawn_errors;

/* arg: depth.  Spawns two children into the same group. */
static int tree_task(void *arg)
{
    uintptr_t depth = (uintptr_t)arg;
    atomic_fetch_add(&total, 1);
    if (depth < TREE_DEPTH) {
        if (fg_spawn(tree_group, tree_task, (void *)(depth + 1)) != 0)
            atomic_fetch_add(&tree_spawn_errors, 1);
        if (fg_spawn(tree_group, tree_task, (void *)(depth + 1)) != 0)
            atomic_fetch_add(&tree_spawn_errors, 1);
    }
    return 0;
}

typedef struct tree_run {
    fg_pool *pool;
    int spawn;
    int sync;
    int total_at_sync;
} tree_run;

static int tree_root(void *arg)
{
    tree_run *t = arg;
    fg_group g = FG_GROUP_INIT(t->pool);
    tree_group = &g;
    t->spawn = fg_spawn(&g, tree_task, (void *)(uintptr_t)0);
    t->sync = fg_sync(&g);
    t->total_at_sync = atomic_load(&total);
    tree_group = NULL;
    return 0;
}

static void check_tree(const tree_run *t)
{
    cr_assert_eq(t->spawn, 0);
    cr_assert_eq(atomic_load(&tree_spawn_errors), 0);
    cr_assert_eq(t->sync, 0);
    cr_assert_eq(t->total_at_sync, TREE_TASKS, "fg_sync returned after %d of %d tasks",
                 t->total_at_sync, TREE_TASKS);
    cr_assert_eq(atomic_load(&total), TREE_TASKS);
}

Test(group, recursive_spawn_synced_from_main)
{
    fg_pool *p = pool_new(2);
    atomic_store(&total, 0);
    tree_run t = { .pool = p };
    tree_root(&t);
    check_tree(&t);
    fg_pool_destroy(p);
}

Test(group, recursive_spawn_synced_on_worker)
{
    for (int workers = 1; workers <= 4; workers *= 2) {
        fg_pool *p = pool_new(workers);
        atomic_store(&total, 0);
        tree_run t = { .pool = p };
        cr_assert_eq(fg_join(p, tree_root, &t, noop, NULL), 0);
        check_tree(&t);
        fg_pool_destroy(p);
    }
}

/* ---------------------------------------------------------------- errors */

static atomic_int ran;

/* arg: the value to return. */
static int ret_task(void *arg)
{
    atomic_fetch_add(&ran, 1);
    return (int)(intptr_t)arg;
}

Test(group, one_failure_is_reported)
{
    fg_pool *p = pool_new(2);
    atomic_store(&ran, 0);
    fg_group g = FG_GROUP_INIT(p);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(fg_spawn(&g, ret_task, (void *)(intptr_t)(i == 617 ? 5 : 0)), 0);
    cr_assert_eq(fg_sync(&g), 5);
    cr_assert_eq(atomic_load(&ran), 1000, "every task runs even after a failure");
    fg_pool_destroy(p);
}

/* One worker takes injected tasks in FIFO order, so "first to finish" is the
 * first failing task spawned. */
Test(group, first_error_wins)
{
    fg_pool *p = pool_new(1);
    atomic_store(&ran, 0);
    fg_group g = FG_GROUP_INIT(p);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(fg_spawn(&g, ret_task, (void *)(intptr_t)(i % 100 == 99 ? 1000 + i : 0)),
                     0);
    cr_assert_eq(fg_sync(&g), 1099);
    cr_assert_eq(atomic_load(&ran), 1000);
    fg_pool_destroy(p);
}

Test(group, every_task_fails_one_code_wins)
{
    fg_pool *p = pool_new(4);
    atomic_store(&ran, 0);
    fg_group g = FG_GROUP_INIT(p);
    for (int i = 1; i <= 1000; i++)
        cr_assert_eq(fg_spawn(&g, ret_task, (void *)(intptr_t)i), 0);
    int err = fg_sync(&g);
    cr_assert(err >= 1 && err <= 1000, "sync returned %d, not one of the task codes", err);
    cr_assert_eq(atomic_load(&ran), 1000);
    fg_pool_destroy(p);
}

Test(group, reusable_after_sync)
{
    fg_pool *p = pool_new(2);
    atomic_store(&ran, 0);
    fg_group g;
    cr_assert_eq(fg_group_init(&g, p), 0);
    cr_assert_eq(g.pool, p);
    for (int i = 0; i < 100; i++)
        cr_assert_eq(fg_spawn(&g, ret_task, (void *)(intptr_t)(i == 50 ? 5 : 0)), 0);
    cr_assert_eq(fg_sync(&g), 5);
    cr_assert_eq(atomic_load(&ran), 100);
    /* The error is reset: a clean round returns 0. */
    for (int i = 0; i < 200; i++)
        cr_assert_eq(fg_spawn(&g, ret_task, (void *)(intptr_t)0), 0);
    cr_assert_eq(fg_sync(&g), 0);
    cr_assert_eq(atomic_load(&ran), 300);
    /* An empty round, then another failing one with a different code. */
    cr_assert_eq(fg_sync(&g), 0);
    cr_assert_eq(fg_spawn(&g, ret_task, (void *)(intptr_t)8), 0);
    cr_assert_eq(fg_sync(&g), 8);
    cr_assert_eq(atomic_load(&ran), 301);
    cr_assert_eq(fg_sync(&g), 0);
    fg_pool_destroy(p);
}

/* --------------------------------------------------------- bad arguments */

Test(group, init_bad_args)
{
    fg_pool *p = pool_new(1);
    fg_group g = FG_GROUP_INIT(NULL);
    cr_assert_eq(fg_group_init(NULL, p), FG_EINVAL);
    cr_assert_eq(fg_group_init(&g, NULL), FG_EINVAL);
    cr_assert_null(g.pool);
    cr_assert_eq(fg_group_init(&g, p), 0);
    cr_assert_eq(g.pool, p);
    fg_pool_destroy(p);
}

Test(group, spawn_bad_args_run_nothing)
{
    fg_pool *p = pool_new(2);
    atomic_store(&ran, 0);
    fg_group g = FG_GROUP_INIT(p);
    fg_group nopool = FG_GROUP_INIT(NULL);
    cr_assert_eq(fg_spawn(&g, NULL, NULL), FG_EINVAL);
    cr_assert_eq(fg_spawn(NULL, ret_task, NULL), FG_EINVAL);
    cr_assert_eq(fg_spawn(&nopool, ret_task, NULL), FG_EINVAL);
    cr_assert_eq(fg_sync(&g), 0, "the failed spawns queued nothing");
    cr_assert_eq(atomic_load(&ran), 0);
    fg_pool_destroy(p);
}

Test(group, sync_bad_args)
{
    fg_group nopool = FG_GROUP_INIT(NULL);
    cr_assert_eq(fg_sync(NULL), FG_EINVAL);
    cr_assert_eq(fg_sync(&nopool), FG_EINVAL);
}

/* ------------------------------------------------------------ empty sync */

static atomic_int release_worker;
static atomic_int worker_blocked;

static int block_task(void *arg)
{
    (void)arg;
    atomic_store(&worker_blocked, 1);
    while (!atomic_load(&release_worker))
        fg__cpu_relax();
    return 0;
}

/* The only worker is busy, so an empty sync must return without any help. */
Test(group, empty_sync_returns_at_once)
{
    fg_pool *p = pool_new(1);
    fg_group busy = FG_GROUP_INIT(p), empty = FG_GROUP_INIT(p);
    cr_assert_eq(fg_spawn(&busy, block_task, NULL), 0);
    while (!atomic_load(&worker_blocked))
        fg__cpu_relax();
    cr_assert_eq(fg_sync(&empty), 0);
    cr_assert_eq(fg_sync(&empty), 0);
    atomic_store(&release_worker, 1);
    cr_assert_eq(fg_sync(&busy), 0);
    fg_pool_destroy(p);
}

typedef struct empty_on_worker {
    fg_pool *pool;
    int sync[2];
} empty_on_worker;

static int empty_sync_task(void *arg)
{
    empty_on_worker *e = arg;
    fg_group g = FG_GROUP_INIT(e->pool);
    e->sync[0] = fg_sync(&g);
    e->sync[1] = fg_sync(&g);
    return 0;
}

Test(group, empty_sync_on_worker)
{
    fg_pool *p = pool_new(2);
    empty_on_worker e = { p, { -1, -1 } };
    cr_assert_eq(fg_join(p, empty_sync_task, &e, noop, NULL), 0);
    cr_assert_eq(e.sync[0], 0);
    cr_assert_eq(e.sync[1], 0);
    fg_pool_destroy(p);
}

/* ------------------------------------------------------ slab steady state */

enum { SLAB_ROUNDS = 10 };

static size_t frame_chunks(fg_pool *p)
{
    pthread_mutex_lock(&p->frames.lock);
    size_t n = p->frames.chunk_count;
    pthread_mutex_unlock(&p->frames.lock);
    return n;
}

typedef struct slab_run {
    fg_pool *pool;
    size_t chunks[SLAB_ROUNDS + 1]; /* after the warm-up, then each round */
    spawn_result r[SLAB_ROUNDS + 1];
} slab_run;

static int slab_task(void *arg)
{
    slab_run *s = arg;
    for (int round = 0; round <= SLAB_ROUNDS; round++) {
        atomic_store(&total, 0);
        spawn_many(s->pool, MANY, &s->r[round]);
        s->chunks[round] = frame_chunks(s->pool);
    }
    return 0;
}

static void check_slab_steady_state(int workers)
{
    fg_pool *p = pool_new(workers);
    hits_reset(MANY);
    slab_run *s = calloc(1, sizeof *s);
    cr_assert_not_null(s);
    s->pool = p;
    cr_assert_eq(frame_chunks(p), 0u, "no frames before the first spawn");
    cr_assert_eq(fg_join(p, slab_task, s, noop, NULL), 0);
    for (int round = 0; round <= SLAB_ROUNDS; round++) {
        cr_assert_eq(s->r[round].spawn_errors, 0, "round %d", round);
        cr_assert_eq(s->r[round].sync, 0, "round %d", round);
        cr_assert_eq(s->r[round].total_at_sync, MANY, "round %d", round);
    }
    for (size_t i = 0; i < MANY; i++)
        cr_assert_eq(atomic_load(&hits[i]), SLAB_ROUNDS + 1, "task %zu", i);
    cr_assert_gt(s->chunks[0], 0u, "the warm-up must have allocated frames");
    /* Frames are reused, so the slab never holds more than the most frames
     * ever live at once (at most MANY: all spawned, none finished) plus
     * what the other workers' caches may keep (FG__SLAB_HIGH each), plus
     * the chunk being carved.  With one worker that peak is reached by the
     * warm-up; with thieves it depends on how fast they drain the spawner,
     * so later rounds may reach a higher peak, but never beyond the bound. */
    size_t bound = (MANY + (size_t)(workers - 1) * FG__SLAB_HIGH) / FG__SLAB_CHUNK_OBJS + 1;
    for (int round = 1; round <= SLAB_ROUNDS; round++) {
        if (workers == 1)
            cr_assert_eq(s->chunks[round], s->chunks[0],
                         "round %d: %zu frame chunks, %zu after the warm-up",
                         round, s->chunks[round], s->chunks[0]);
        cr_assert_leq(s->chunks[round], bound,
                      "%d workers: round %d: %zu frame chunks, bound %zu",
                      workers, round, s->chunks[round], bound);
    }
    free(s);
    fg_pool_destroy(p);
}

Test(group, slab_steady_state_1_worker)  { check_slab_steady_state(1); }
Test(group, slab_steady_state_2_workers) { check_slab_steady_state(2); }
Test(group, slab_steady_state_4_workers) { check_slab_steady_state(4); }
