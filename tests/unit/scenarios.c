/* tests/unit/scenarios.c: the hard scenarios of docs/design/verification.md.
 *
 * - 64 external threads submitting joins and parallel maps at once;
 * - parallel_for inside fg_join inside a parallel map, three deep;
 * - a join chain 10^5 deep on one worker (the stack budget);
 * - one failing task among 10^5 queued: what is cancelled, what still runs;
 * - 10^4 create/destroy cycles: no thread left (leaks: the ASan row).
 * Each prints the figure verification.md quotes (stderr, "scenario: ...").
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "forage.h"
#include "fib.h"
#include "threads.h"

TestSuite(scenarios, .timeout = 300);


/* ---------------------------------------- 64 external threads at once */

enum { EXTERNAL = 64, ROUNDS = 20, MAP_N = 500 };

static int nothing(void *arg) { (void)arg; return 0; }

static int cube(size_t i, void *ctx, void *result)
{
    (void)ctx;
    *(uint64_t *)result = (uint64_t)i * i * i;
    return 0;
}

typedef struct submitter {
    fg_pool *pool;
    int index;
    int bad; /* wrong results seen by this thread */
} submitter;

static void *submit(void *arg)
{
    submitter *s = arg;
    fg_parallel *par;
    if (fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .pool = s->pool,
                                                    .batch_size = 1 + s->index % 7,
                                                    .backend = s->index % 3 == 0
                                                        ? FG_BACKEND_SHARED
                                                        : FG_BACKEND_STEAL)) != 0) {
        s->bad++;
        return NULL;
    }
    static _Thread_local uint64_t out[MAP_N];
    for (int r = 0; r < ROUNDS; r++) {
        fib_arg f = { .pool = s->pool, .n = 10 + (s->index + r) % 8 };
        if (fib_task(&f) != 0 || f.result != fib_seq(f.n))
            s->bad++;
        size_t begin = (size_t)r * 3;
        if (fg_parallel_map(par, (fg_delayed){ cube, NULL, sizeof(uint64_t) }, begin,
                            begin + MAP_N, out, NULL) != 0) {
            s->bad++;
            continue;
        }
        for (size_t k = 0; k < MAP_N; k++)
            s->bad += out[k] != (uint64_t)(begin + k) * (begin + k) * (begin + k);
    }
    fg_parallel_close(par);
    return NULL;
}

Test(scenarios, sixty_four_external_threads)
{
    fg_pool *pool;
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 2)), 0);
    pthread_t t[EXTERNAL];
    submitter s[EXTERNAL];
    for (int i = 0; i < EXTERNAL; i++) {
        s[i] = (submitter){ pool, i, 0 };
        cr_assert_eq(pthread_create(&t[i], NULL, submit, &s[i]), 0);
    }
    int bad = 0;
    for (int i = 0; i < EXTERNAL; i++) {
        pthread_join(t[i], NULL);
        bad += s[i].bad;
    }
    fg_pool_destroy(pool);
    cr_assert_eq(bad, 0, "%d wrong results", bad);
    fprintf(stderr, "scenario: %d external threads x %d rounds of fib + map(%d): all exact\n",
            EXTERNAL, ROUNDS, MAP_N);
}

/* ------------------------- parallel_for in join in parallel_map, 3 deep */

enum { OUTER = 16, INNER = 10000 };

static int sum_body(size_t b, size_t e, void *partial, void *ctx)
{
    (void)ctx;
    for (size_t i = b; i < e; i++)
        *(uint64_t *)partial += i;
    return 0;
}

static void add(void *l, const void *r, void *ctx)
{
    (void)ctx;
    *(uint64_t *)l += *(const uint64_t *)r;
}

typedef struct half { fg_pool *pool; size_t begin, end; uint64_t sum; } half;

static int half_sum(void *arg)
{
    half *h = arg;
    uint64_t zero = 0;
    return fg_parallel_reduce(h->pool, h->begin, h->end, FG_FOR_OPTS(.grain = 64),
                              sizeof zero, &zero, sum_body, add, NULL, &h->sum);
}

static int outer_task(size_t i, void *ctx, void *result)
{
    fg_pool *pool = ctx;
    size_t base = i * INNER;
    half lo = { pool, base, base + INNER / 2, 0 }, hi = { pool, base + INNER / 2, base + INNER, 0 };
    int rc = fg_join(pool, half_sum, &lo, half_sum, &hi);
    *(uint64_t *)result = lo.sum + hi.sum;
    return rc;
}

Test(scenarios, loop_in_join_in_map)
{
    fg_pool *pool;
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 2)), 0);
    for (int backend = FG_BACKEND_STEAL; backend <= FG_BACKEND_SEQUENTIAL; backend++) {
        fg_parallel *par;
        cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .pool = pool,
                                                                .batch_size = 1,
                                                                .backend = backend)), 0);
        uint64_t out[OUTER];
        cr_assert_eq(fg_parallel_map(par, (fg_delayed){ outer_task, pool, sizeof(uint64_t) }, 0,
                                     OUTER, out, NULL), 0);
        for (size_t i = 0; i < OUTER; i++) {
            uint64_t lo = i * INNER, hi = lo + INNER; /* sum of [lo, hi) */
            cr_assert_eq(out[i], (hi * (hi - 1) - lo * (lo - 1)) / 2, "backend %d, task %zu",
                         backend, i);
        }
        fg_parallel_close(par);
    }
    fg_pool_destroy(pool);
}

/* --------------------------------------- 10^5-deep recursion, one worker */

enum { DEEP = 100000 };

typedef struct chain {
    fg_pool *pool;
    int depth;
    atomic_long *leaves;
    uintptr_t *deepest; /* lowest stack address reached */
} chain;

static int leaf(void *arg)
{
    atomic_fetch_add((atomic_long *)arg, 1);
    return 0;
}

static int chain_step(void *arg)
{
    chain *c = arg;
    uintptr_t here = (uintptr_t)&here;
    if (here < *c->deepest)
        *c->deepest = here;
    if (c->depth == 0)
        return 0;
    chain next = { c->pool, c->depth - 1, c->leaves, c->deepest };
    return fg_join(c->pool, chain_step, &next, leaf, c->leaves);
}

typedef struct chain_root { chain c; uintptr_t top; } chain_root;

static int chain_start(void *arg)
{
    chain_root *r = arg;
    uintptr_t here = (uintptr_t)&here;
    r->top = here;
    *r->c.deepest = here;
    return chain_step(&r->c);
}

/* Each level costs one fg_join frame (the join frame of b lives in it) and
 * the caller's own frame: the test measures the bytes per level and needs
 * a worker stack of DEEP times that (64 MiB here; ASan frames are larger). */
Test(scenarios, recursion_1e5_deep_on_one_worker)
{
    fg_pool *pool;
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 1,
                                                     .stack_size = (size_t)256 << 20)), 0);
    atomic_long leaves = 0;
    uintptr_t deepest = UINTPTR_MAX;
    chain_root r = { { pool, DEEP, &leaves, &deepest }, 0 };
    cr_assert_eq(fg_join(pool, chain_start, &r, nothing, NULL), 0);
    cr_assert_eq(atomic_load(&leaves), DEEP);
    double per_level = (double)(r.top - deepest) / DEEP;
    fprintf(stderr, "scenario: join chain %d deep on one worker: %.0f bytes of stack per "
            "level, %.1f MiB in all\n", DEEP, per_level, (double)(r.top - deepest) / (1 << 20));
    fg_pool_destroy(pool);
}

/* How deep does waiting nest?  A worker waiting for a stolen half runs
 * whatever it finds (the thief's deque first), so stolen subtrees can stack
 * up on it.  fib(n) on 2 and on 4 workers: the most stack any worker used,
 * against the n levels of the tree. */
enum { FIB_N = 27, MAX_W = 4 };
static uintptr_t stack_top[MAX_W], stack_low[MAX_W];

static int fib_probe(void *arg)
{
    fib_arg *f = arg;
    int w = fg_worker_index();
    uintptr_t here = (uintptr_t)&here;
    if (here < stack_low[w])
        stack_low[w] = here;
    if (f->n < 2) {
        f->result = (uint64_t)f->n;
        return 0;
    }
    fib_arg a = { .pool = f->pool, .n = f->n - 1 }, b = { .pool = f->pool, .n = f->n - 2 };
    int rc = fg_join(f->pool, fib_probe, &a, fib_probe, &b);
    f->result = a.result + b.result;
    return rc;
}

static int mark_top(void *arg)
{
    (void)arg;
    uintptr_t here = (uintptr_t)&here;
    stack_top[fg_worker_index()] = here;
    return 0;
}

static void probe_depth(int workers)
{
    fg_pool *pool;
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = workers)), 0);
    /* The top of each worker's stack, as seen from a task it runs at once. */
    for (int w = 0; w < workers; w++)
        stack_top[w] = 0, stack_low[w] = UINTPTR_MAX;
    for (int tries = 0; tries < 10000; tries++) {
        int missing = 0;
        for (int w = 0; w < workers; w++)
            missing += stack_top[w] == 0;
        if (missing == 0)
            break;
        cr_assert_eq(fg_join(pool, mark_top, NULL, mark_top, NULL), 0);
    }
    double worst = 0;
    for (int rep = 0; rep < 20; rep++) {
        fib_arg f = { .pool = pool, .n = FIB_N };
        cr_assert_eq(fg_join(pool, fib_probe, &f, nothing, NULL), 0);
        cr_assert_eq(f.result, 196418);
    }
    for (int w = 0; w < workers; w++)
        if (stack_top[w] != 0 && stack_low[w] < stack_top[w] &&
            (double)(stack_top[w] - stack_low[w]) > worst)
            worst = (double)(stack_top[w] - stack_low[w]);
    fprintf(stderr, "scenario: fib(%d) x 20 on %d workers: deepest worker stack %.1f KiB = "
            "%.1f tree depths (%d levels)\n", FIB_N, workers, worst / 1024,
            worst / (FIB_N * 224.0), FIB_N);
    fg_pool_destroy(pool);
}

Test(scenarios, waiting_nests_stolen_work) { probe_depth(2); probe_depth(4); }

/* ------------------------------- one failure among 10^5 queued tasks */

enum { QUEUED = 100000, FAIL_AT = 30000, BATCH = 100 };
static atomic_int failed_flag;
static atomic_long later_started_after_failure;
static atomic_uchar ran_index[QUEUED];

static int maybe_fail(size_t i, void *ctx, void *result)
{
    (void)ctx;
    (void)result;
    if (i > FAIL_AT && atomic_load(&failed_flag))
        atomic_fetch_add(&later_started_after_failure, 1);
    atomic_fetch_add(&ran_index[i], 1);
    if (i == FAIL_AT) {
        atomic_store(&failed_flag, 1);
        return 42;
    }
    return 0;
}

/* The façade reports the first failure in input order (facade.md): batches
 * before the failing index still run (one of them might fail earlier), and
 * once the failure is recorded no batch after it starts.  So: every task
 * before FAIL_AT ran exactly once, and of the tasks after it only those of
 * batches already running on the other workers can start after the failure:
 * at most one batch per other worker, or two if one started in the moment
 * between the task's return and the recording of its index. */
static void cancel_one(int backend)
{
    enum { WORKERS = 2 };
    fg_pool *pool;
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = WORKERS)), 0);
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = WORKERS, .pool = pool,
                                                            .batch_size = BATCH,
                                                            .backend = backend)), 0);
    atomic_store(&failed_flag, 0);
    atomic_store(&later_started_after_failure, 0);
    for (size_t i = 0; i < QUEUED; i++)
        atomic_store(&ran_index[i], 0);
    fg_error_info err = FG_ERROR_INFO_INIT();
    int rc = fg_parallel_map(par, (fg_delayed){ maybe_fail, NULL, 0 }, 0, QUEUED, NULL, &err);
    fg_parallel_close(par);
    fg_pool_destroy(pool);
    cr_assert_eq(rc, 42);
    cr_assert_eq(err.index, FAIL_AT);
    cr_assert_eq(err.code, 42);
    long total = 0, before = 0, twice = 0;
    for (size_t i = 0; i < QUEUED; i++) {
        int n = atomic_load(&ran_index[i]);
        total += n;
        twice += n > 1;
        before += i <= FAIL_AT && n == 1;
    }
    long after = atomic_load(&later_started_after_failure);
    const long bound = 2L * (WORKERS - 1) * BATCH;
    cr_assert_eq(twice, 0, "%ld tasks ran twice", twice);
    cr_assert_eq(before, FAIL_AT + 1, "only %ld of the tasks up to the failure ran", before);
    cr_assert_eq((long)err.tasks_run, total, "tasks_run %zu, counted %ld", err.tasks_run, total);
    cr_assert_leq(after, bound, "%ld later tasks started after the failure", after);
    cr_assert_lt(total, QUEUED, "nothing was cancelled");
    fprintf(stderr, "scenario: %s, task %d of %d fails (batch %d, %d workers): %ld tasks ran "
            "(all %d up to the failure), %ld later ones started after it (bound %ld), "
            "%ld cancelled\n", backend == FG_BACKEND_STEAL ? "steal" : "shared", FAIL_AT,
            QUEUED, BATCH, WORKERS, total, FAIL_AT + 1, after, bound, QUEUED - total);
}

Test(scenarios, failure_among_1e5_queued_steal) { cancel_one(FG_BACKEND_STEAL); }
Test(scenarios, failure_among_1e5_queued_shared) { cancel_one(FG_BACKEND_SHARED); }

/* -------------------------------------------- 10^4 create/destroy cycles */

enum { CYCLES = 10000 };

Test(scenarios, create_destroy_1e4_times)
{
    int before = thread_count();
    for (int i = 0; i < CYCLES; i++) {
        fg_pool *pool;
        cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 1 + i % 3)), 0, "cycle %d", i);
        if (i % 100 == 0) { /* sometimes use it, sometimes not */
            atomic_long n = 0;
            cr_assert_eq(fg_join(pool, leaf, &n, leaf, &n), 0);
            cr_assert_eq(atomic_load(&n), 2);
        }
        fg_pool_destroy(pool);
    }
    int after = thread_count_settled(before);
    cr_assert_eq(after, before, "threads left behind");
    fprintf(stderr, "scenario: %d create/destroy cycles, threads before %d after %d\n", CYCLES,
            before, thread_count());
}
