/* tests/unit/group.c: fg_spawn / fg_sync (runtime/group.c) and the slab that
 * holds spawn frames (runtime/slab.c).
 *
 * Criterion's asserts run on the test's main thread only: code that runs on
 * a worker records what it saw and the main thread checks it. */
#include <criterion/criterion.h>

#include <pthread.h>
#include <sched.h>
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

/* ------------------------------------------ group tasks on the ctx stack
 * The owner's spawns into a group of its current job go on its ctx stack
 * (docs/design/join.md, "Groups on the ctx stack").  On one worker nothing
 * is stolen, so the order of every run is fixed: `order` logs it. */

enum { ORDER_MAX = 64 };
static int order[ORDER_MAX];
static atomic_int norder;

static void note(int v)
{
    int i = atomic_fetch_add(&norder, 1);
    if (i < ORDER_MAX)
        order[i] = v;
}

static void check_order(const int *want, int n)
{
    cr_assert_eq(atomic_load(&norder), n, "%d runs, want %d", atomic_load(&norder), n);
    for (int i = 0; i < n; i++)
        cr_assert_eq(order[i], want[i], "run %d: %d, want %d", i, order[i], want[i]);
}

static int note_task(void *arg)
{
    note((int)(intptr_t)arg);
    return 0;
}

typedef struct outer_run {
    fg_pool *pool;
    fg_group *g;
    int join, sync, cancelled_in_b;
    int cancel_in_a; /* a cancels the group after its spawns */
    long depth_before, depth_after; /* the ctx stack's top, as slot indices */
    uint32_t markers_after;
} outer_run;

static long ctx_depth(void)
{
    fg__worker *w = fg__tls_worker;
    return (long)(w->ctx_stack.cx.fg__top - w->ctx_stack.cx.fg__slots);
}

/* fg_join's a: two spawns into the outer group, above the join's b. */
static int a_spawns_outer(void *arg)
{
    outer_run *o = arg;
    note(1);
    fg_spawn(o->g, note_task, (void *)10);
    fg_spawn(o->g, note_task, (void *)11);
    if (o->cancel_in_a)
        fg_group_cancel(o->g);
    return 0;
}

static int b_notes(void *arg)
{
    outer_run *o = arg;
    o->cancelled_in_b = fg_cancelled();
    note(2);
    return 0;
}

static int loose_root(void *arg)
{
    outer_run *o = arg;
    fg_group g = FG_GROUP_INIT(o->pool);
    o->g = &g;
    o->depth_before = ctx_depth();
    fg_spawn(&g, note_task, (void *)5); /* below the join's b */
    o->join = fg_join(o->pool, a_spawns_outer, o, b_notes, o);
    note(3);
    o->sync = fg_sync(&g);
    o->depth_after = ctx_depth();
    return 0;
}

/* Order 1: a task deeper on the stack spawns into an outer group above a
 * join's b; the join's sync finds those tasks on top and runs them first. */
Test(group, loose_tasks_above_a_join_run_at_its_sync)
{
    fg_pool *p = pool_new(1);
    atomic_store(&norder, 0);
    outer_run o = { .pool = p, .cancelled_in_b = -1 };
    cr_assert_eq(fg_join(p, loose_root, &o, noop, NULL), 0);
    cr_assert_eq(o.join, 0);
    cr_assert_eq(o.sync, 0);
    cr_assert_eq(o.cancelled_in_b, 0, "b is not in the group's scope");
    cr_assert_eq(o.depth_after, o.depth_before, "the ctx stack is back where it was");
    check_order((const int[]){ 1, 11, 10, 2, 3, 5 }, 6);
    fg_pool_destroy(p);
}

/* The same with the group cancelled by a: the loose tasks are skipped
 * where the join's sync finds them, the rest at the group's sync. */
Test(group, loose_tasks_of_a_cancelled_group_are_skipped)
{
    fg_pool *p = pool_new(1);
    atomic_store(&norder, 0);
    outer_run o = { .pool = p, .cancelled_in_b = -1, .cancel_in_a = 1 };
    cr_assert_eq(fg_join(p, loose_root, &o, noop, NULL), 0);
    cr_assert_eq(o.join, 0);
    cr_assert_eq(o.sync, FG_ECANCELED);
    cr_assert_eq(o.cancelled_in_b, 0, "b is not in the group's scope");
    check_order((const int[]){ 1, 2, 3 }, 3);
    fg_pool_destroy(p);
}

typedef struct ctx_blk {
    fg_group *g;
    int id;
} ctx_blk;

/* A ctx task that notes itself and spawns into an outer group. */
static void ctx_spawns_outer(fg_ctx *cx, void *p)
{
    (void)cx;
    ctx_blk *b = p;
    note(b->id);
    fg_spawn(b->g, note_task, (void *)(intptr_t)(b->id + 100));
}

static void ctx_parent(fg_ctx *cx, void *p)
{
    fg_group *g = *(fg_group **)p;
    ctx_blk x = { g, 1 }, y = { g, 2 };
    FG_CTX_SPAWN(cx, ctx_spawns_outer, x);
    ctx_spawns_outer(cx, &y);
    FG_CTX_SYNC(cx, ctx_spawns_outer, x);
}

typedef struct ctx_outer_run {
    fg_pool *pool;
    int run, sync;
} ctx_outer_run;

static int ctx_outer_root(void *arg)
{
    ctx_outer_run *r = arg;
    fg_group g = FG_GROUP_INIT(r->pool);
    fg_group *gp = &g;
    r->run = fg_ctx_run(r->pool, ctx_parent, &gp);
    note(3);
    r->sync = fg_sync(&g);
    return 0;
}

/* Order 1 with ctx tasks: the parent's sync runs the loose task above its
 * slot; the root's end runs the one its last task left (not a broken rule:
 * fg_ctx_run returns 0). */
Test(group, loose_tasks_above_ctx_tasks_run_at_their_sync)
{
    fg_pool *p = pool_new(1);
    atomic_store(&norder, 0);
    ctx_outer_run r = { .pool = p, .run = -1, .sync = -1 };
    cr_assert_eq(fg_join(p, ctx_outer_root, &r, noop, NULL), 0);
    cr_assert_eq(r.run, 0);
    cr_assert_eq(r.sync, 0);
    check_order((const int[]){ 2, 102, 1, 101, 3 }, 5);
    fg_pool_destroy(p);
}

static void ctx_note(fg_ctx *cx, void *p)
{
    (void)cx;
    note(((ctx_blk *)p)->id);
}

typedef struct buried_run {
    fg_pool *pool;
    int rounds, tasks;   /* rounds of `tasks` spawns buried by a ctx task */
    int sync_errors;     /* syncs that returned nonzero */
    int first_sync;
    long depth_before, depth_after;
    uint32_t markers_mid, markers_after; /* done markers after fg_sync, at the end */
} buried_run;

static int count_task(void *arg)
{
    (void)arg;
    atomic_fetch_add(&total, 1);
    return 0;
}

/* Order 2: spawn into a group, then a ctx task, then sync the group first:
 * its tasks are buried under the ctx task. */
static void buried_body(fg_ctx *cx, void *p)
{
    buried_run *b = p;
    b->depth_before = ctx_depth();
    for (int r = 0; r < b->rounds; r++) {
        fg_group g = FG_GROUP_INIT(b->pool);
        for (int i = 0; i < b->tasks; i++)
            fg_spawn(&g, b->rounds == 1 ? note_task : count_task, (void *)(intptr_t)(20 + i));
        ctx_blk k = { NULL, 50 };
        FG_CTX_SPAWN(cx, ctx_note, k);
        int err = fg_sync(&g);
        if (r == 0)
            b->first_sync = err;
        b->sync_errors += err != 0;
        if (b->rounds == 1) {
            note(30);
            b->markers_mid = fg__tls_worker->ctx_stack.markers;
        }
        FG_CTX_SYNC(cx, ctx_note, k);
    }
    b->depth_after = ctx_depth();
    b->markers_after = fg__tls_worker->ctx_stack.markers;
}

static int buried_root(void *arg)
{
    buried_run *b = arg;
    return fg_ctx_run(b->pool, buried_body, b);
}

Test(group, buried_tasks_run_in_place_at_the_groups_sync)
{
    fg_pool *p = pool_new(1);
    atomic_store(&norder, 0);
    buried_run b = { .pool = p, .rounds = 1, .tasks = 3, .first_sync = -1 };
    cr_assert_eq(fg_join(p, buried_root, &b, noop, NULL), 0, "fg_ctx_run: the stack balances");
    cr_assert_eq(b.first_sync, 0);
    cr_assert_eq(b.depth_after, b.depth_before);
    cr_assert_eq(b.markers_mid, 3u, "the group's tasks ran in place, under the ctx task");
    cr_assert_eq(b.markers_after, 0u, "the done markers went with the ctx task's sync");
    check_order((const int[]){ 22, 21, 20, 30, 50 }, 5);
    fg_pool_destroy(p);
}

/* 10^5 rounds leave no done marker behind (the stack would fill), and on
 * four workers, with thieves taking buried tasks, every task runs once. */
static void check_buried_rounds(int workers)
{
    fg_pool *p = pool_new(workers);
    atomic_store(&norder, 0);
    atomic_store(&total, 0);
    buried_run b = { .pool = p, .rounds = workers == 1 ? 100000 : 20000, .tasks = 4,
                     .first_sync = -1 };
    cr_assert_eq(fg_join(p, buried_root, &b, noop, NULL), 0);
    cr_assert_eq(b.sync_errors, 0);
    cr_assert_eq(atomic_load(&total), b.rounds * b.tasks);
    cr_assert_eq(atomic_load(&norder), b.rounds, "every ctx task ran once");
    cr_assert_eq(b.depth_after, b.depth_before);
    cr_assert_eq(b.markers_after, 0u);
    fg_pool_destroy(p);
}

Test(group, buried_rounds_leave_nothing_1_worker) { check_buried_rounds(1); }
Test(group, buried_rounds_leave_nothing_4_workers) { check_buried_rounds(4); }

/* Errors and cancellation on the ctx stack: one worker pops newest first. */
typedef struct popped_run {
    fg_pool *pool;
    fg_group *g;
    int sync, resync, cancelled_seen;
} popped_run;

static popped_run *popped;

static int coded_task(void *arg)
{
    int i = (int)(intptr_t)arg;
    note(i);
    return i == 3 ? 7 : i == 6 ? 9 : 0;
}

static int cancelling_task(void *arg)
{
    int i = (int)(intptr_t)arg;
    note(i);
    if (i == 5) {
        fg_group_cancel(popped->g);
        popped->cancelled_seen = fg_cancelled();
    }
    return 0;
}

static int popped_root(void *arg)
{
    popped_run *r = arg;
    fg_group g = FG_GROUP_INIT(r->pool);
    r->g = &g;
    popped = r;
    for (int i = 0; i < 10; i++)
        fg_spawn(&g, r->cancelled_seen < 0 ? cancelling_task : coded_task, (void *)(intptr_t)i);
    r->sync = fg_sync(&g);
    fg_spawn(&g, note_task, (void *)42); /* reusable, not cancelled */
    r->resync = fg_sync(&g);
    return 0;
}

Test(group, first_error_of_popped_tasks)
{
    fg_pool *p = pool_new(1);
    atomic_store(&norder, 0);
    popped_run r = { .pool = p, .sync = -1, .resync = -1 };
    cr_assert_eq(fg_join(p, popped_root, &r, noop, NULL), 0);
    cr_assert_eq(r.sync, 9, "task 6 finished first of the failing ones");
    cr_assert_eq(r.resync, 0);
    check_order((const int[]){ 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 42 }, 11);
    fg_pool_destroy(p);
}

Test(group, cancel_mid_group_skips_the_rest)
{
    fg_pool *p = pool_new(1);
    atomic_store(&norder, 0);
    popped_run r = { .pool = p, .sync = -1, .resync = -1, .cancelled_seen = -1 };
    cr_assert_eq(fg_join(p, popped_root, &r, noop, NULL), 0);
    cr_assert_eq(r.sync, FG_ECANCELED);
    cr_assert_eq(r.cancelled_seen, 1, "the cancelling task sees its group cancelled");
    cr_assert_eq(r.resync, 0, "the group is reusable and no longer cancelled");
    check_order((const int[]){ 9, 8, 7, 6, 5, 42 }, 6);
    fg_pool_destroy(p);
}

/* Deep nesting: a chain of groups, each task syncing a group of its own
 * child, and a binary tree with a group per node. */
typedef struct nest_arg {
    fg_pool *pool;
    int depth, max;
} nest_arg;

static int chain_task(void *arg)
{
    nest_arg *a = arg;
    atomic_fetch_add(&total, 1);
    if (a->depth == a->max)
        return 0;
    nest_arg child = { a->pool, a->depth + 1, a->max };
    fg_group g = FG_GROUP_INIT(a->pool);
    fg_spawn(&g, chain_task, &child);
    return fg_sync(&g);
}

static int tree_node(void *arg)
{
    nest_arg *a = arg;
    atomic_fetch_add(&total, 1);
    if (a->depth == a->max)
        return 0;
    nest_arg kids[2] = { { a->pool, a->depth + 1, a->max }, { a->pool, a->depth + 1, a->max } };
    fg_group g = FG_GROUP_INIT(a->pool);
    fg_spawn(&g, tree_node, &kids[0]);
    fg_spawn(&g, tree_node, &kids[1]);
    return fg_sync(&g);
}

Test(group, deep_nesting_exact_counts)
{
    for (int workers = 1; workers <= 4; workers *= 2) {
        fg_pool *p = pool_new(workers);
        atomic_store(&total, 0);
        nest_arg chain = { p, 0, 2000 };
        cr_assert_eq(fg_join(p, chain_task, &chain, noop, NULL), 0);
        cr_assert_eq(atomic_load(&total), 2001, "%d workers: chain", workers);
        atomic_store(&total, 0);
        nest_arg tree = { p, 0, 14 };
        cr_assert_eq(fg_join(p, tree_node, &tree, noop, NULL), 0);
        cr_assert_eq(atomic_load(&total), (1 << 15) - 1, "%d workers: tree", workers);
        fg_pool_destroy(p);
    }
}

/* FG_EBUSY: a second sync while the owner's sync waits for the thief of
 * one of its tasks (during its pops, before it announces itself). */
typedef struct busy_run {
    fg_pool *pool;
    fg_group *_Atomic g;
    atomic_int started, release;
    int owner_sync;
} busy_run;

static busy_run *busy;

static int busy_task(void *arg)
{
    (void)arg;
    atomic_store(&busy->started, 1);
    while (!atomic_load(&busy->release))
        sched_yield();
    return 0;
}

static int busy_owner(void *arg)
{
    busy_run *b = arg;
    fg_group g = FG_GROUP_INIT(b->pool);
    fg_spawn(&g, busy_task, NULL);
    /* A join's spawn answers the other worker's request for work, which
     * shares the group's task: wait until the thief has started it. */
    while (!atomic_load(&b->started))
        fg_join(b->pool, noop, NULL, noop, NULL);
    atomic_store(&b->g, &g);
    b->owner_sync = fg_sync(&g);
    atomic_store(&b->g, NULL);
    return 0;
}

static void *busy_joiner(void *arg)
{
    busy_run *b = arg;
    int err = fg_join(b->pool, busy_owner, b, noop, NULL);
    return (void *)(intptr_t)err;
}

Test(group, second_sync_while_the_owner_waits_for_a_thief_is_busy)
{
    fg_pool *p = pool_new(2);
    busy_run b = { .pool = p, .owner_sync = -1 };
    busy = &b;
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, busy_joiner, &b), 0);
    fg_group *g;
    while ((g = atomic_load(&b.g)) == NULL)
        sched_yield();
    /* The group's first private word is its atomic count (group.c): wait
     * until the owner's sync waits for the thief. */
    while (__atomic_load_n(&g->fg__private[0], __ATOMIC_RELAXED) < ((uint64_t)1 << 59))
        sched_yield();
    int second = fg_sync(g);
    atomic_store(&b.release, 1);
    void *joined;
    cr_assert_eq(pthread_join(t, &joined), 0);
    cr_assert_eq(second, FG_EBUSY);
    cr_assert_eq((int)(intptr_t)joined, 0);
    cr_assert_eq(b.owner_sync, 0);
    fg_pool_destroy(p);
}

/* ------------------------------------------------ inline paths (forage.h)
 * fg_spawn and fg_sync are macros for inline fast paths that push the
 * owner's tasks straight onto its ctx stack (fg__tls_cx) and pop them back;
 * everything else must reach the functions.  The ctx stack's top tells
 * which way a spawn went: a slot, or a frame (the deque, the injector). */

typedef struct inline_run {
    fg_pool *pool, *other;  /* other: a second pool, for a foreign group */
    fg_group *_Atomic shared;
    atomic_int spawned_outside;
    long pushed[2];         /* slots the owner's spawns took, per round */
    int sync[2];
    fg_pool *ran_on;        /* fg_pool_current() of the foreign group's task */
} inline_run;

static inline_run *inl;

/* Two rounds of five spawns on one group: each spawn takes a slot, the
 * sync pops them newest first, the group is reusable. */
static int inline_rounds_root(void *arg)
{
    inline_run *r = arg;
    fg_group g = FG_GROUP_INIT(r->pool);
    for (int round = 0; round < 2; round++) {
        long before = ctx_depth();
        for (int i = 0; i < 5; i++)
            fg_spawn(&g, note_task, (void *)(intptr_t)(10 * round + i));
        r->pushed[round] = ctx_depth() - before;
        r->sync[round] = fg_sync(&g);
        if (ctx_depth() != before)
            r->sync[round] = -1000; /* a slot left behind */
    }
    return 0;
}

Test(group, inline_spawn_takes_slots_and_sync_pops_them_newest_first)
{
    fg_pool *p = pool_new(1);
    atomic_store(&norder, 0);
    inline_run r = { .pool = p, .sync = { -1, -1 } };
    cr_assert_eq(fg_join(p, inline_rounds_root, &r, noop, NULL), 0);
    for (int round = 0; round < 2; round++) {
        cr_assert_eq(r.pushed[round], 5, "round %d: %ld slots", round, r.pushed[round]);
        cr_assert_eq(r.sync[round], 0, "round %d", round);
    }
    check_order((const int[]){ 4, 3, 2, 1, 0, 14, 13, 12, 11, 10 }, 10);
    fg_pool_destroy(p);
}

/* A thread that is no worker spawns into a group its owner holds open: its
 * spawns take no slot of the owner's and all run exactly once. */
static void *outside_spawner(void *arg)
{
    inline_run *r = arg;
    fg_group *g;
    while ((g = atomic_load(&r->shared)) == NULL)
        sched_yield();
    for (int i = 0; i < 1000; i++)
        if (fg_spawn(g, hit_task, (void *)(uintptr_t)(5 + i)) == 0)
            atomic_fetch_add(&r->spawned_outside, 1);
    atomic_store(&r->shared, NULL);
    return NULL;
}

static int outside_root(void *arg)
{
    inline_run *r = arg;
    fg_group g = FG_GROUP_INIT(r->pool);
    long before = ctx_depth();
    for (int i = 0; i < 5; i++)
        fg_spawn(&g, hit_task, (void *)(uintptr_t)i);
    r->pushed[0] = ctx_depth() - before;
    atomic_store(&r->shared, &g);
    while (atomic_load(&r->shared) != NULL) /* the other thread spawns */
        sched_yield();
    r->pushed[1] = ctx_depth() - before; /* still only the owner's five */
    r->sync[0] = fg_sync(&g);
    return 0;
}

Test(group, inline_spawn_from_another_thread_goes_to_the_function)
{
    fg_pool *p = pool_new(1);
    hits_reset(1005);
    inline_run r = { .pool = p, .sync = { -1, -1 } };
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, outside_spawner, &r), 0);
    cr_assert_eq(fg_join(p, outside_root, &r, noop, NULL), 0);
    cr_assert_eq(pthread_join(t, NULL), 0);
    cr_assert_eq(atomic_load(&r.spawned_outside), 1000);
    cr_assert_eq(r.pushed[0], 5);
    cr_assert_eq(r.pushed[1], 5, "the outside spawns took %ld slots", r.pushed[1] - 5);
    cr_assert_eq(r.sync[0], 0);
    check_hits(1005);
    fg_pool_destroy(p);
}

/* A task that a sync pops spawns into the same group (the owner, in the
 * same job: a slot above the sync's floor, popped by the same sync), and
 * into a group of another pool (never a slot: it runs on that pool). */
static int foreign_task(void *arg)
{
    (void)arg;
    inl->ran_on = fg_pool_current();
    return 0;
}

static int grow_task(void *arg)
{
    fg_group *g = arg;
    int n = atomic_fetch_add(&total, 1);
    if (n < 99)
        fg_spawn(g, grow_task, g);
    return 0;
}

static int grow_root(void *arg)
{
    inline_run *r = arg;
    fg_group g = FG_GROUP_INIT(r->pool);
    fg_spawn(&g, grow_task, &g);
    r->sync[0] = fg_sync(&g);
    fg_group foreign = FG_GROUP_INIT(r->other);
    long before = ctx_depth();
    fg_spawn(&foreign, foreign_task, NULL);
    r->pushed[0] = ctx_depth() - before;
    r->sync[1] = fg_sync(&foreign);
    return 0;
}

Test(group, inline_paths_popped_task_respawns_and_foreign_pool)
{
    fg_pool *p = pool_new(1), *q = pool_new(1);
    atomic_store(&total, 0);
    inline_run r = { .pool = p, .other = q, .sync = { -1, -1 } };
    inl = &r;
    cr_assert_eq(fg_join(p, grow_root, &r, noop, NULL), 0);
    cr_assert_eq(r.sync[0], 0);
    cr_assert_eq(atomic_load(&total), 100, "ran %d of the chain's 100", atomic_load(&total));
    cr_assert_eq(r.pushed[0], 0, "a foreign pool's task took a slot");
    cr_assert_eq(r.sync[1], 0);
    cr_assert_eq(r.ran_on, q, "the foreign group's task ran on its own pool");
    fg_pool_destroy(p);
    fg_pool_destroy(q);
}

/* The owner's sync waits for a task a thief took; that task then spawns
 * into the group from the thief (the owner may run those while it waits,
 * in jobs of their own): every one runs exactly once, and the sync returns
 * after all of them. */
static atomic_int stolen_started;

static int late_leaf(void *arg)
{
    atomic_fetch_add(&hits[(uintptr_t)arg], 1);
    atomic_fetch_add(&total, 1);
    return 0;
}

static int late_spawner(void *arg)
{
    fg_group *g = arg;
    atomic_store(&stolen_started, 1);
    /* Wait until the owner's sync waits: for this task during its pops
     * (POP_BIT), or announced (SYNC_BIT). */
    while (__atomic_load_n(&g->fg__private[0], __ATOMIC_RELAXED) < ((uint64_t)1 << 59))
        sched_yield();
    for (uintptr_t i = 0; i < 200; i++)
        fg_spawn(g, late_leaf, (void *)i);
    return 0;
}

static int late_root(void *arg)
{
    inline_run *r = arg;
    fg_group g = FG_GROUP_INIT(r->pool);
    fg_spawn(&g, late_spawner, &g);
    while (!atomic_load(&stolen_started)) /* a join's spawn shares it */
        fg_join(r->pool, noop, NULL, noop, NULL);
    r->sync[0] = fg_sync(&g);
    r->sync[1] = atomic_load(&total);
    return 0;
}

Test(group, spawns_after_the_owners_sync_announced_run_once)
{
    fg_pool *p = pool_new(2);
    hits_reset(200);
    atomic_store(&stolen_started, 0);
    inline_run r = { .pool = p, .sync = { -1, -1 } };
    cr_assert_eq(fg_join(p, late_root, &r, noop, NULL), 0);
    cr_assert_eq(r.sync[0], 0);
    cr_assert_eq(r.sync[1], 200, "sync returned after %d of 200", r.sync[1]);
    check_hits(200);
    fg_pool_destroy(p);
}
