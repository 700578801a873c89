/* tests/unit/join.c: fg_join (runtime/join.c): results, return-value rules,
 * both halves always run, nesting, worker indices, bad arguments. */
#include <criterion/criterion.h>

#include <stdatomic.h>
#include <stdint.h>

#include "forage.h"
#include "pools.h"
#include "fib.h"

TestSuite(join, .timeout = 60);

/* ------------------------------------------------------------------ fib */

static void check_fib_on(int workers)
{
    fg_pool *p = pool_new(workers);
    uint64_t want = 0, next = 1; /* fib(n), fib(n + 1) */
    for (int n = 0; n <= 25; n++) {
        fib_arg f = { .pool = p, .n = n };
        /* fib_task(n >= 2) calls fg_join from this (non-worker) thread. */
        cr_assert_eq(fib_task(&f), 0, "fib(%d) on %d workers", n, workers);
        cr_assert_eq(f.result, want, "fib(%d) on %d workers: got %lld, want %lld", n,
                     workers, (long long)f.result, (long long)want);
        uint64_t t = want + next;
        want = next;
        next = t;
    }
    fg_pool_destroy(p);
}

Test(join, fib_1_worker)  { check_fib_on(1); }
Test(join, fib_2_workers) { check_fib_on(2); }
Test(join, fib_4_workers) { check_fib_on(4); }

/* ------------------------------------------------------ return values */

typedef struct ret_arg {
    atomic_int *ran;
    int ret;
    int worker; /* fg_worker_index() where it ran */
} ret_arg;

static int ret_task(void *arg)
{
    ret_arg *r = arg;
    atomic_fetch_add(r->ran, 1);
    r->worker = fg_worker_index();
    return r->ret;
}

/* Criterion's asserts must run on the test's main thread, so code that may
 * run on a worker records what it saw and the main thread checks it. */
enum { NRULES = 5 };
static const int rule_a[NRULES]    = { 0, 7, 0, 7, -3 };
static const int rule_b[NRULES]    = { 0, 0, 9, 9, 9 };
static const int rule_want[NRULES] = { 0, 7, 9, 7, -3 };

typedef struct rules_seen {
    int result[NRULES];
    int ran[NRULES];  /* tasks run by this join */
    int a_worker[NRULES], b_worker[NRULES];
} rules_seen;

static void run_return_rules(fg_pool *p, rules_seen *seen)
{
    for (int i = 0; i < NRULES; i++) {
        atomic_int ran = 0;
        ret_arg a = { &ran, rule_a[i], -2 }, b = { &ran, rule_b[i], -2 };
        seen->result[i] = fg_join(p, ret_task, &a, ret_task, &b);
        seen->ran[i] = atomic_load(&ran);
        seen->a_worker[i] = a.worker;
        seen->b_worker[i] = b.worker;
    }
}

static void check_return_rules(const rules_seen *seen, int workers)
{
    for (int i = 0; i < NRULES; i++) {
        cr_assert_eq(seen->result[i], rule_want[i], "a returns %d, b returns %d: got %d",
                     rule_a[i], rule_b[i], seen->result[i]);
        cr_assert_eq(seen->ran[i], 2, "a returns %d, b returns %d: %d halves ran",
                     rule_a[i], rule_b[i], seen->ran[i]);
        cr_assert(seen->a_worker[i] >= 0 && seen->a_worker[i] < workers,
                  "a ran on worker %d", seen->a_worker[i]);
        cr_assert(seen->b_worker[i] >= 0 && seen->b_worker[i] < workers,
                  "b ran on worker %d", seen->b_worker[i]);
    }
}

Test(join, return_value_from_main_thread)
{
    fg_pool *p = pool_new(2);
    cr_assert_eq(fg_worker_index(), -1);
    rules_seen seen;
    run_return_rules(p, &seen);
    check_return_rules(&seen, 2);
    fg_pool_destroy(p);
}

typedef struct on_worker_arg {
    fg_pool *pool;
    int index;
    rules_seen seen;
} on_worker_arg;

static int return_rules_on_worker(void *arg)
{
    on_worker_arg *o = arg;
    o->index = fg_worker_index();
    run_return_rules(o->pool, &o->seen);
    return 0;
}

static int noop(void *arg)
{
    (void)arg;
    return 0;
}

Test(join, return_value_from_worker)
{
    for (int workers = 1; workers <= 3; workers++) {
        fg_pool *p = pool_new(workers);
        on_worker_arg o = { .pool = p, .index = -2 };
        cr_assert_eq(fg_join(p, return_rules_on_worker, &o, noop, NULL), 0);
        cr_assert(o.index >= 0 && o.index < workers, "index %d", o.index);
        check_return_rules(&o.seen, workers);
        fg_pool_destroy(p);
    }
}

/* --------------------------------------------------------- nested joins */

typedef struct tree_arg {
    fg_pool *pool;
    int depth;        /* leaves at depth 3: 8 leaves */
    int index;        /* leaf number in program order, 0..7 at depth 3 */
    unsigned failing; /* bit i: leaf i returns 100 + i */
    atomic_int *leaves_ran;
} tree_arg;

static int tree_task(void *arg)
{
    tree_arg *t = arg;
    if (t->depth == 3) {
        atomic_fetch_add(t->leaves_ran, 1);
        return (t->failing >> t->index) & 1 ? 100 + t->index : 0;
    }
    tree_arg l = *t, r = *t;
    l.depth = r.depth = t->depth + 1;
    l.index = 2 * t->index;
    r.index = 2 * t->index + 1;
    return fg_join(t->pool, tree_task, &l, tree_task, &r);
}

static void check_tree_errors(int workers)
{
    fg_pool *p = pool_new(workers);
    for (unsigned failing = 0; failing < 256; failing++) {
        atomic_int ran = 0;
        tree_arg root = { p, 0, 0, failing, &ran };
        int want = failing == 0 ? 0 : 100 + __builtin_ctz(failing); /* leftmost */
        int got = tree_task(&root);
        cr_assert_eq(got, want, "failing leaves 0x%02x on %d workers: got %d, want %d",
                     failing, workers, got, want);
        cr_assert_eq(atomic_load(&ran), 8, "failing 0x%02x: %d leaves ran", failing,
                     atomic_load(&ran));
    }
    fg_pool_destroy(p);
}

Test(join, nested_error_propagates_1_worker)  { check_tree_errors(1); }
Test(join, nested_error_propagates_4_workers) { check_tree_errors(4); }

/* --------------------------------------------------------- worker index */

typedef struct index_arg {
    fg_pool *pool;
    int depth;
    atomic_int *bad;    /* tasks that saw an index outside [0, workers) */
    atomic_int *count;
    atomic_uint *seen;  /* bit i: worker i ran a task */
} index_arg;

static int index_task(void *arg)
{
    index_arg *x = arg;
    int i = fg_worker_index();
    atomic_fetch_add(x->count, 1);
    if (i < 0 || i >= fg_pool_workers(x->pool))
        atomic_fetch_add(x->bad, 1);
    else
        atomic_fetch_or(x->seen, 1u << i);
    if (x->depth == 0)
        return 0;
    index_arg a = *x, b = *x;
    a.depth = b.depth = x->depth - 1;
    return fg_join(x->pool, index_task, &a, index_task, &b);
}

static void check_indices(int workers)
{
    fg_pool *p = pool_new(workers);
    atomic_int bad = 0, count = 0;
    atomic_uint seen = 0;
    index_arg root = { p, 12, &bad, &count, &seen };
    cr_assert_eq(fg_worker_index(), -1, "main thread is not a worker");
    cr_assert_eq(fg_join(p, index_task, &root, noop, NULL), 0);
    cr_assert_eq(fg_worker_index(), -1);
    cr_assert_eq(atomic_load(&count), (1 << 13) - 1);
    cr_assert_eq(atomic_load(&bad), 0);
    unsigned s = atomic_load(&seen);
    cr_assert_neq(s, 0u);
    cr_assert_eq(s & ~((1u << workers) - 1), 0u, "indices beyond %d: 0x%x", workers, s);
    fg_pool_destroy(p);
}

Test(join, worker_index_1_worker)  { check_indices(1); }
Test(join, worker_index_4_workers) { check_indices(4); }

Test(join, single_worker_is_the_only_index)
{
    fg_pool *p = pool_new(1);
    atomic_int ran = 0;
    ret_arg a = { &ran, 0, -2 }, b = { &ran, 0, -2 };
    cr_assert_eq(fg_join(p, ret_task, &a, ret_task, &b), 0);
    cr_assert_eq(a.worker, 0);
    cr_assert_eq(b.worker, 0);
    cr_assert_eq(atomic_load(&ran), 2);
    fg_pool_destroy(p);
}

/* ------------------------------------------------------- other pools */

typedef struct cross_arg {
    fg_pool *other;
    int64_t result;
    int outer_index;
} cross_arg;

static int cross_task(void *arg)
{
    cross_arg *c = arg;
    c->outer_index = fg_worker_index();
    fib_arg f = { .pool = c->other, .n = 15 };
    int err = fib_task(&f); /* a worker of another pool: the external path */
    c->result = f.result;
    return err;
}

Test(join, join_on_another_pool_from_a_worker)
{
    fg_pool *outer = pool_new(1), *inner = pool_new(2);
    cross_arg c = { inner, -1, -2 };
    cr_assert_eq(fg_join(outer, cross_task, &c, noop, NULL), 0);
    cr_assert_eq(c.outer_index, 0);
    cr_assert_eq(c.result, 610);
    fg_pool_destroy(inner);
    fg_pool_destroy(outer);
}

