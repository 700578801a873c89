/* seat.c: a call from outside the pool runs in a parked worker's seat
 * (runtime/seat.c, docs/design/sleep.md "The caller's seat").
 *
 * A seat is taken only when a worker is parked between jobs, which a test
 * cannot force; each test sleeps a millisecond before a call (a worker with
 * nothing to do parks within tens of microseconds) and retries until a call
 * ran in a seat, then checks that call exactly.  A seat never taken within
 * the retries fails the test.
 */
#include <criterion/criterion.h>

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forage.h"
#include "pools.h"

#define TRIES 500

static void pause_ms(long ms)
{
    struct timespec ts = { 0, ms * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
}

typedef struct where {
    fg_pool *pool;
    pthread_t caller;
    atomic_int on_caller, off_caller, leaves, bad_pool;
    int index;
} where;

static void note(where *w)
{
    if (pthread_equal(pthread_self(), w->caller))
        atomic_fetch_add(&w->on_caller, 1);
    else
        atomic_fetch_add(&w->off_caller, 1);
    if (fg_pool_current() != w->pool)
        atomic_fetch_add(&w->bad_pool, 1);
}

typedef struct fib_arg {
    where *w;
    int n;
    long result;
} fib_arg;

static int fib(void *p)
{
    fib_arg *a = p;
    if (a->n < 2) {
        note(a->w);
        atomic_fetch_add(&a->w->leaves, 1);
        a->result = a->n;
        return 0;
    }
    fib_arg x = { a->w, a->n - 1, 0 }, y = { a->w, a->n - 2, 0 };
    int err = fg_join(a->w->pool, fib, &x, fib, &y);
    a->result = x.result + y.result;
    return err;
}

/* The root's own half records where the call started. */
static int root_half(void *p)
{
    fib_arg *a = p;
    a->w->index = fg_worker_index();
    return fib(p);
}

static int nothing(void *p)
{
    (void)p;
    return 0;
}

static void where_reset(where *w, fg_pool *p)
{
    w->pool = p;
    w->caller = pthread_self();
    atomic_store(&w->on_caller, 0);
    atomic_store(&w->off_caller, 0);
    atomic_store(&w->leaves, 0);
    atomic_store(&w->bad_pool, 0);
    w->index = -2;
}

/* fib(n) by an outside fg_join, a millisecond after the last call, until a
 * call ran in a seat (see the top); every call's result and leaf count are
 * checked, and w describes the seated one. */
static void join_until_seated(fg_pool *p, where *w, int n, long result, int leaves)
{
    int tries = 0;
    for (; tries < TRIES; tries++) {
        pause_ms(1);
        where_reset(w, p);
        fib_arg a = { w, n, 0 };
        cr_assert_eq(fg_join(p, root_half, &a, nothing, NULL), 0);
        cr_assert_eq(a.result, result);
        cr_assert_eq(atomic_load(&w->leaves), leaves);
        cr_assert_eq(atomic_load(&w->bad_pool), 0, "fg_pool_current() in a task");
        if (atomic_load(&w->on_caller) > 0)
            break;
    }
    cr_assert_lt(tries, TRIES, "no call ran in a seat");
}

/* One worker: a seated call runs every task on the caller, since the
 * worker's own thread stays parked and there is nobody else to steal. */
Test(seat, one_worker_runs_the_whole_call_on_the_caller)
{
    fg_pool *p = pool_with(FG_CONFIG(.workers = 1, .caller = FG_CALLER_SEAT));
    where w;
    join_until_seated(p, &w, 20, 6765, 10946);
    cr_assert_eq(atomic_load(&w.on_caller), 10946, "seated: every leaf on the caller");
    cr_assert_eq(atomic_load(&w.off_caller), 0);
    cr_assert_eq(w.index, 0, "fg_worker_index() in the seat");
    cr_assert_null(fg_pool_current(), "the caller is no worker once the call returns");
    cr_assert_eq(fg_worker_index(), -1);
    fg_pool_destroy(p);
}

/* The calls of pthread_getattr_np made by this thread.  This definition
 * comes before libc's in the process, so the runtime's calls (the seat's
 * stack look-up, seat.c) reach it; it counts and forwards to libc's. */
static _Thread_local int getattr_calls;

int pthread_getattr_np(pthread_t thread, pthread_attr_t *attr)
{
    static _Atomic(void *) next;
    void *sym = atomic_load(&next);
    if (sym == NULL) {
        sym = dlsym(RTLD_NEXT, "pthread_getattr_np");
        atomic_store(&next, sym);
    }
    int (*real)(pthread_t, pthread_attr_t *);
    memcpy(&real, &sym, sizeof real); /* a data pointer to a function pointer */
    getattr_calls++;
    return real(thread, attr);
}

/* fg_pool_create looks up its creator's stack (fg__seat_prepare), so that
 * the creator's first seated call does not: for the main thread glibc
 * reads /proc/self/maps, 0.4-0.5 ms on the project's VM.  FG_CALLER_WAIT
 * never needs it. */
Test(seat, the_creator_stack_is_looked_up_at_create_not_in_a_call)
{
    int before = getattr_calls;
    fg_pool *p = pool_with(FG_CONFIG(.workers = 1, .caller = FG_CALLER_WAIT));
    cr_assert_eq(getattr_calls, before, "FG_CALLER_WAIT: no look-up");
    fg_pool_destroy(p);

    p = pool_with(FG_CONFIG(.workers = 1, .caller = FG_CALLER_SEAT));
    cr_assert_eq(getattr_calls, before + 1, "fg_pool_create looks its creator's stack up once");
    where w;
    join_until_seated(p, &w, 10, 55, 89);
    cr_assert_eq(getattr_calls, before + 1, "a seated call looked the stack up again");
    fg_pool_destroy(p);

    /* A second pool made by the same thread finds it known. */
    p = pool_with(FG_CONFIG(.workers = 1, .caller = FG_CALLER_SEAT));
    cr_assert_eq(getattr_calls, before + 1);
    fg_pool_destroy(p);
}

static void never_on_caller(fg_pool *p)
{
    where w;
    for (int i = 0; i < 20; i++) {
        pause_ms(1);
        where_reset(&w, p);
        fib_arg a = { &w, 12, 0 };
        cr_assert_eq(fg_join(p, root_half, &a, nothing, NULL), 0);
        cr_assert_eq(a.result, 144);
        cr_assert_eq(atomic_load(&w.on_caller), 0, "FG_CALLER_WAIT: a task ran on the caller");
        cr_assert_eq(atomic_load(&w.off_caller), 233);
    }
}

Test(seat, wait_hands_every_call_to_a_worker)
{
    fg_pool *p = pool_with(FG_CONFIG(.workers = 1, .caller = FG_CALLER_WAIT));
    never_on_caller(p);
    fg_pool_destroy(p);
}

Test(seat, env_chooses_and_bad_values_are_refused)
{
    cr_assert_eq(setenv("FORAGE_CALLER", "wait", 1), 0);
    fg_pool *p = pool_with(FG_CONFIG(.workers = 1));
    never_on_caller(p);
    fg_pool_destroy(p);

    cr_assert_eq(setenv("FORAGE_CALLER", "sofa", 1), 0);
    p = NULL;
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 1)), FG_EENV);
    cr_assert_null(p);
    /* The config's own value wins over the variable. */
    p = pool_with(FG_CONFIG(.workers = 1, .caller = FG_CALLER_WAIT));
    fg_pool_destroy(p);
    cr_assert_eq(unsetenv("FORAGE_CALLER"), 0);

    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 1, .caller = 2)), FG_EINVAL);
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 1, .caller = -1)), FG_EINVAL);
    cr_assert_null(p);
}

/* A group made before the call is not the seat's own (seat.c S3), and what
 * the call spawned into it and left unsynced runs exactly once (S2: on a
 * split deque those tasks are private, so the caller runs them before it
 * gives the seat back).  The caller syncs the group after the call. */
#define OUTER_TASKS 1000

typedef struct outer {
    fg_group *group;
    where *w;
    atomic_int runs[OUTER_TASKS];
    int seated;
    atomic_int first_started, spawned; /* hold_first rounds */
    bool hold_first;
} outer;

typedef struct outer_task {
    outer *o;
    int i;
} outer_task;

static int outer_run(void *p)
{
    outer_task *t = p;
    atomic_fetch_add(&t->o->runs[t->i], 1);
    if (t->i == 0 && t->o->hold_first) { /* keep its thief busy until all are spawned */
        atomic_store(&t->o->first_started, 1);
        while (!atomic_load(&t->o->spawned))
            sched_yield();
    }
    return 0;
}

static void outer_root(fg_ctx *cx, void *p)
{
    (void)cx;
    outer *o = p;
    o->seated = pthread_equal(pthread_self(), o->w->caller);
    static outer_task tasks[OUTER_TASKS];
    for (int i = 0; i < OUTER_TASKS; i++) {
        tasks[i] = (outer_task){ o, i };
        cr_assert_eq(fg_spawn(o->group, outer_run, &tasks[i]), 0);
        /* hold_first: task 0 was shared at once and wakes the other worker;
         * wait until it has it, so that no thief asks for the rest, which
         * then stay private to the seat. */
        for (int spins = 0; i == 0 && o->hold_first && o->seated && spins < 100000 &&
                            !atomic_load(&o->first_started);
             spins++)
            sched_yield();
    }
    atomic_store(&o->spawned, 1);
}

static void outer_group_tasks_run_once(int deque, bool hold_first)
{
    fg_pool *p = pool_with(FG_CONFIG(.workers = 2, .deque = deque, .caller = FG_CALLER_SEAT));
    int seated = 0;
    for (int round = 0; round < 40; round++) {
        pause_ms(1);
        where w;
        where_reset(&w, p);
        fg_group g = FG_GROUP_INIT(p); /* on the caller's stack, above the call */
        static outer o;
        o.group = &g;
        o.w = &w;
        for (int i = 0; i < OUTER_TASKS; i++)
            atomic_store(&o.runs[i], 0);
        o.hold_first = hold_first;
        atomic_store(&o.first_started, 0);
        atomic_store(&o.spawned, 0);
        cr_assert_eq(fg_ctx_run(p, outer_root, &o), 0);
        cr_assert_eq(fg_sync(&g), 0);
        for (int i = 0; i < OUTER_TASKS; i++)
            cr_assert_eq(atomic_load(&o.runs[i]), 1, "round %d: task %d ran %d times", round, i,
                         atomic_load(&o.runs[i]));
        seated += o.seated;
    }
    cr_assert_gt(seated, 0, "no round ran in a seat");
    fg_pool_destroy(p);
}

Test(seat, outer_group_tasks_run_once_chase_lev)
{
    outer_group_tasks_run_once(FG_DEQUE_CHASE_LEV, false);
    outer_group_tasks_run_once(FG_DEQUE_CHASE_LEV, true);
}

/* With hold_first the seat's last 999 tasks are private when the call ends
 * and the other worker has shared nothing left to steal: given back like
 * that, the seat's re-scan would see no work, and the sync would hang. */
Test(seat, outer_group_tasks_run_once_split, .timeout = 60)
{
    outer_group_tasks_run_once(FG_DEQUE_SPLIT, false);
    outer_group_tasks_run_once(FG_DEQUE_SPLIT, true);
}

/* A worker of pool A calls pool B: in B's seat it is B's worker, and back
 * from the call it is A's again. */
typedef struct nested {
    fg_pool *a, *b;
    where w;
    int seated, bad_after, a_index, a_index_after;
} nested;

static int nested_outer(void *p)
{
    nested *n = p;
    n->a_index = fg_worker_index();
    for (int tries = 0; tries < TRIES && !n->seated; tries++) {
        pause_ms(1);
        where_reset(&n->w, n->b);
        fib_arg x = { &n->w, 10, 0 };
        if (fg_join(n->b, root_half, &x, nothing, NULL) != 0 || x.result != 55 ||
            atomic_load(&n->w.bad_pool) != 0)
            n->bad_after++;
        n->seated = atomic_load(&n->w.on_caller) > 0;
        if (fg_pool_current() != n->a)
            n->bad_after++;
    }
    n->a_index_after = fg_worker_index();
    return 0;
}

Test(seat, a_worker_of_another_pool_sits_and_comes_back)
{
    nested n = { 0 };
    n.a = pool_with(FG_CONFIG(.workers = 1));
    n.b = pool_with(FG_CONFIG(.workers = 1, .caller = FG_CALLER_SEAT));
    cr_assert_eq(fg_join(n.a, nested_outer, &n, nothing, NULL), 0);
    cr_assert_eq(n.seated, 1, "no call to B ran in a seat");
    cr_assert_eq(n.bad_after, 0);
    cr_assert_eq(n.w.index, 0, "B's worker index inside B");
    cr_assert_eq(n.a_index_after, n.a_index, "A's worker index after the call to B");
    fg_pool_destroy(n.b);
    fg_pool_destroy(n.a);
}

/* The seat's counters: a seated call is the seat's work, not an injection. */
Test(seat, counters_charge_the_seat)
{
    if (fg_stats_enabled() != 1)
        return; /* counters compiled out: tests/trace/stats.c says so */
    fg_pool *p = pool_with(FG_CONFIG(.workers = 1, .caller = FG_CALLER_SEAT));
    where w;
    int tries = 0;
    fg_worker_stats before = FG_WORKER_STATS_INIT(), after = FG_WORKER_STATS_INIT();
    for (; tries < TRIES; tries++) {
        pause_ms(1);
        cr_assert_eq(fg_pool_stats(p, 0, &before), 0);
        where_reset(&w, p);
        fib_arg a = { &w, 10, 0 };
        cr_assert_eq(fg_join(p, root_half, &a, nothing, NULL), 0);
        cr_assert_eq(fg_pool_stats(p, 0, &after), 0);
        if (atomic_load(&w.on_caller) > 0)
            break;
    }
    cr_assert_lt(tries, TRIES, "no call ran in a seat");
    cr_assert_eq(after.injector_takes, before.injector_takes);
    /* One worker and nobody to steal: every join's second half is taken
     * back inline, and the root is the one job the seat ran. */
    cr_assert_eq(after.tasks_run - before.tasks_run, 1, "only the root is a job: %llu",
                 (unsigned long long)(after.tasks_run - before.tasks_run));
    fg_pool_destroy(p);
}
