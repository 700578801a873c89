/* tests/unit/cancel.c: cancellation tokens, scopes and fg_group_cancel
 * (runtime/cancel.c, runtime/group.c), and tokens in fg_parallel_for and
 * fg_parallel_map (facade/). */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "forage.h"
#include "pools.h"

TestSuite(cancel, .timeout = 60);

static fg_pool *pool_of(int workers)
{
    return pool_with(FG_CONFIG(.workers = workers, .seed = 7));
}

Test(cancel, token_and_scope)
{
    fg_cancel_token t = FG_CANCEL_TOKEN_INIT, u = FG_CANCEL_TOKEN_INIT;
    cr_assert_eq(fg_cancel_requested(&t), 0);
    cr_assert_eq(fg_cancel_requested(NULL), 0);
    cr_assert_eq(fg_cancelled(), 0, "no scope: not cancelled");
    const fg_cancel_token *outer = fg_cancel_scope_enter(&t);
    cr_assert_null(outer);
    cr_assert_eq(fg_cancelled(), 0);
    fg_cancel(&t);
    cr_assert_eq(fg_cancelled(), 1);
    const fg_cancel_token *mid = fg_cancel_scope_enter(&u);
    cr_assert_eq(mid, &t);
    cr_assert_eq(fg_cancelled(), 0, "the innermost scope counts");
    fg_cancel_scope_leave(mid);
    cr_assert_eq(fg_cancelled(), 1);
    fg_cancel_scope_leave(outer);
    cr_assert_eq(fg_cancelled(), 0);
    fg_cancel_reset(&t);
    cr_assert_eq(fg_cancel_requested(&t), 0);
    fg_cancel(NULL);
    fg_cancel_reset(NULL);
}

typedef struct grp {
    fg_group *g;
    atomic_int ran, saw_cancel;
    int cancel_at, fail_at;
} grp;

typedef struct item { grp *s; int i; } item;

static int grp_task(void *p)
{
    item *it = p;
    grp *s = it->s;
    atomic_fetch_add(&s->ran, 1);
    if (it->i == s->fail_at)
        return 7;
    if (it->i == s->cancel_at) {
        cr_assert_eq(fg_cancelled(), 0);
        fg_group_cancel(s->g);
        if (fg_cancelled())
            atomic_fetch_add(&s->saw_cancel, 1);
    }
    return 0;
}

typedef struct spawner { fg_pool *pool; grp *s; item *items; int n; int result; } spawner;

static int spawn_all(void *p)
{
    spawner *sp = p;
    fg_group g = FG_GROUP_INIT(sp->pool);
    sp->s->g = &g;
    for (int i = 0; i < sp->n; i++)
        fg_spawn(&g, grp_task, &sp->items[i]);
    sp->result = fg_sync(&g);
    /* Reusable and no longer cancelled: all of a second round runs. */
    atomic_store(&sp->s->ran, 0);
    sp->s->cancel_at = sp->s->fail_at = -1;
    for (int i = 0; i < 10; i++)
        fg_spawn(&g, grp_task, &sp->items[i]);
    cr_assert_eq(fg_sync(&g), 0);
    cr_assert_eq(atomic_load(&sp->s->ran), 10);
    return 0;
}

static int noop(void *p)
{
    (void)p;
    return 0;
}

Test(cancel, group_cancel_skips_unstarted)
{
    enum { N = 2000 };
    static item items[N];
    for (int workers = 1; workers <= 2; workers++) {
        fg_pool *p = pool_of(workers);
        grp s = { .cancel_at = 0, .fail_at = -1 };
        for (int i = 0; i < N; i++)
            items[i] = (item){ &s, i };
        spawner sp = { p, &s, items, N, -1 };
        cr_assert_eq(fg_join(p, spawn_all, &sp, noop, NULL), 0);
        cr_assert_eq(sp.result, FG_ECANCELED, "%d workers: %d", workers, sp.result);
        cr_assert_eq(atomic_load(&s.saw_cancel), 1, "the cancelling task sees fg_cancelled()");
        fg_pool_destroy(p);
    }
}

Test(cancel, group_failure_wins_over_cancel)
{
    enum { N = 16 };
    static item items[N];
    fg_pool *p = pool_of(1);
    grp s = { .cancel_at = 10, .fail_at = 2 };
    for (int i = 0; i < N; i++)
        items[i] = (item){ &s, i };
    spawner sp = { p, &s, items, N, -1 };
    cr_assert_eq(fg_join(p, spawn_all, &sp, noop, NULL), 0);
    /* One worker runs its own deque newest first: 15 ... 10 (cancels),
     * then 9..0 are skipped, so the failing task 2 never runs. */
    cr_assert_eq(sp.result, FG_ECANCELED);
    cr_assert_eq(atomic_load(&s.ran), 10, "second round: all 10");
    s = (grp){ .cancel_at = 2, .fail_at = 10 };
    sp.s = &s;
    for (int i = 0; i < N; i++)
        items[i] = (item){ &s, i };
    cr_assert_eq(fg_join(p, spawn_all, &sp, noop, NULL), 0);
    cr_assert_eq(sp.result, 7, "task 10 failed before task 2 cancelled");
    fg_pool_destroy(p);
}

Test(cancel, group_cancel_from_outside)
{
    fg_pool *p = pool_of(2);
    fg_group g = FG_GROUP_INIT(p);
    cr_assert_eq(fg_group_cancel(&g), 0);
    grp s = { .cancel_at = -1, .fail_at = -1 };
    s.g = &g;
    static item items[100];
    for (int i = 0; i < 100; i++) {
        items[i] = (item){ &s, i };
        cr_assert_eq(fg_spawn(&g, grp_task, &items[i]), 0);
    }
    cr_assert_eq(fg_sync(&g), FG_ECANCELED);
    cr_assert_eq(atomic_load(&s.ran), 0, "cancelled before any spawn: none ran");
    cr_assert_eq(fg_group_cancel(NULL), FG_EINVAL);
    fg_pool_destroy(p);
}

typedef struct loop_state {
    fg_cancel_token token;
    atomic_int visits[100000];
    atomic_int cancelled_seen;
    size_t cancel_at;
} loop_state;

static int loop_body(size_t b, size_t e, void *ctx)
{
    loop_state *s = ctx;
    for (size_t i = b; i < e; i++) {
        atomic_fetch_add(&s->visits[i], 1);
        if (i == s->cancel_at)
            fg_cancel(&s->token);
    }
    if (fg_cancelled())
        atomic_fetch_add(&s->cancelled_seen, 1);
    return 0;
}

/* One cancelled loop over 100000 indices, cancelled at index 500: every
 * index at most once, index 500 once, FG_ECANCELED.  Returns how many
 * indices ran. */
static int cancelled_loop(int workers, int part)
{
    static loop_state s;
    fg_pool *p = pool_of(workers);
    memset(&s, 0, sizeof s);
    s.cancel_at = 500;
    int err = fg_parallel_for(p, 0, 100000,
                              FG_FOR_OPTS(.grain = 100, .partition = part, .cancel = &s.token),
                              loop_body, &s);
    int visited = 0;
    for (size_t i = 0; i < 100000; i++) {
        cr_assert_leq(atomic_load(&s.visits[i]), 1, "index %zu twice", i);
        visited += atomic_load(&s.visits[i]);
    }
    cr_assert_eq(atomic_load(&s.visits[500]), 1);
    cr_assert_eq(err, FG_ECANCELED, "workers %d partition %d: %d", workers, part, err);
    cr_assert_geq(atomic_load(&s.cancelled_seen), 1, "the chunk that cancelled sees it");
    fg_pool_destroy(p);
    return visited;
}

/* A chunk already started runs to its end; chunks not started are skipped.
 * With two workers the other worker may have started all the rest before
 * index 500 is reached (the canceller descheduled on a loaded machine), so
 * skipping is required of one of five attempts, not of each. */
Test(cancel, parallel_for_token)
{
    for (int workers = 1; workers <= 2; workers++) {
        for (int part = FG_PARTITION_AUTO; part <= FG_PARTITION_STATIC; part++) {
            if (part == FG_PARTITION_STATIC && workers == 1) {
                cr_assert_eq(cancelled_loop(workers, part), 100000,
                             "one static block: nothing left to skip");
                continue;
            }
            int attempt, visited = 100000;
            for (attempt = 1; attempt <= 5 && visited == 100000; attempt++) {
                visited = cancelled_loop(workers, part);
                if (part == FG_PARTITION_STATIC) /* two whole blocks: one or both ran */
                    cr_assert(visited == 50000 || visited == 100000, "static blocks: %d", visited);
            }
            cr_assert_lt(visited, 100000, "workers %d partition %d: nothing skipped in 5 attempts",
                         workers, part);
        }
    }
}

static int map_task(size_t i, void *ctx, void *result)
{
    fg_cancel_token *t = ctx;
    *(size_t *)result = i + 1;
    if (i == 100)
        fg_cancel(t);
    return 0;
}

Test(cancel, parallel_map_token)
{
    enum { N = 100000 };
    static size_t results[N];
    for (int backend = FG_BACKEND_STEAL; backend <= FG_BACKEND_SEQUENTIAL; backend++) {
        fg_cancel_token token = FG_CANCEL_TOKEN_INIT;
        fg_parallel *par = NULL;
        cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .batch_size = 10,
                                                              .backend = backend,
                                                              .cancel = &token)), 0);
        memset(results, 0, sizeof results);
        fg_error_info info = FG_ERROR_INFO_INIT();
        int err = fg_parallel_map(par, (fg_delayed){ map_task, &token, sizeof(size_t) }, 0, N,
                                  results, &info);
        cr_assert_eq(err, FG_ECANCELED, "backend %d: %d", backend, err);
        cr_assert_eq(info.code, 0);
        cr_assert_lt(info.tasks_run, (size_t)N);
        /* Task 100 ran (it set the token); lower ones may not have: on
         * STEAL a thief can reach batch 10 while the owner of batches 0-9
         * is still on an earlier one, and on SHARED a worker can take the
         * batch before it and see the token before starting it.  (This
         * asserted tasks_run >= 101: 2 of 708 clang runs under load
         * failed it, 2026-12-07.) */
        cr_assert_eq(results[100], 101, "backend %d: task 100 did not run", backend);
        if (backend == FG_BACKEND_SEQUENTIAL) /* in order, the token read before each task */
            cr_assert_eq(info.tasks_run, 101);
        size_t ran = 0;
        for (size_t i = 0; i < N; i++)
            if (results[i] != 0) {
                cr_assert_eq(results[i], i + 1);
                ran++;
            }
        cr_assert_eq(ran, info.tasks_run);
        /* Reset: the next call runs everything. */
        fg_cancel_reset(&token);
        cr_assert_eq(fg_parallel_map(par, (fg_delayed){ map_task, &(fg_cancel_token){ 0, 0 },
                                                        sizeof(size_t) }, 0, 50, results, NULL), 0);
        fg_parallel_close(par);
    }
}

typedef struct slow { atomic_long chunks; } slow;

static int slow_body(size_t b, size_t e, void *ctx)
{
    (void)b;
    (void)e;
    struct timespec ts = { 0, 200000 }; /* 0.2 ms per chunk */
    nanosleep(&ts, NULL);
    atomic_fetch_add(&((slow *)ctx)->chunks, 1);
    return 0;
}

static void *canceller(void *arg)
{
    struct timespec ts = { 0, 20000000 }; /* 20 ms */
    nanosleep(&ts, NULL);
    fg_cancel(arg);
    return NULL;
}

Test(cancel, token_set_from_outside_the_pool)
{
    fg_pool *p = pool_of(2);
    fg_cancel_token token = FG_CANCEL_TOKEN_INIT;
    slow s = { 0 };
    pthread_t t;
    pthread_create(&t, NULL, canceller, &token);
    /* 100000 chunks of 0.2 ms: 10 s on two workers if never cancelled. */
    int err = fg_parallel_for(p, 0, 100000,
                              FG_FOR_OPTS(.grain = 1, .partition = FG_PARTITION_SIMPLE,
                                          .cancel = &token),
                              slow_body, &s);
    pthread_join(t, NULL);
    cr_assert_eq(err, FG_ECANCELED);
    cr_assert_lt(atomic_load(&s.chunks), 100000);
    fg_pool_destroy(p);
}

static int half_checks_scope(void *p)
{
    *(int *)p = fg_cancelled();
    return 0;
}

Test(cancel, join_halves_start_outside_scopes)
{
    fg_pool *p = pool_of(2);
    fg_cancel_token t = FG_CANCEL_TOKEN_INIT;
    fg_cancel(&t);
    const fg_cancel_token *outer = fg_cancel_scope_enter(&t);
    int a = -1, b = -1;
    /* From a non-worker the pair runs on a worker: no scope there. */
    cr_assert_eq(fg_join(p, half_checks_scope, &a, half_checks_scope, &b), 0);
    cr_assert_eq(a, 0);
    cr_assert_eq(b, 0);
    fg_cancel_scope_leave(outer);
    fg_pool_destroy(p);
}
