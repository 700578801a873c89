/* tests/unit/iter.c: streaming results (facade/iter.c): index and
 * completion order on every backend, the window bound on tasks run ahead
 * of the reader, failures, cancellation, early close (every task ran once
 * or never), readers on a worker of a one-worker pool, two reading
 * threads, and close waking a blocked reader. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "forage.h"
#include "pools.h"
#include "iter.h"

TestSuite(iter, .timeout = 60);

#define N_MAX 20000

/* Every task: counts its runs per index and how far it ran ahead. */
typedef struct book {
    atomic_uint runs[N_MAX];
    atomic_size_t started, read, ahead_max;
    size_t fail_at;                 /* SIZE_MAX: none */
    fg_cancel_token *cancel_at_token;
    size_t cancel_at;
    atomic_int hold;                /* tasks at index 0 wait while set */
    atomic_int entered;             /* the task at index 0 has started */
} book;

static book *book_new(void)
{
    book *b = calloc(1, sizeof *b);
    b->fail_at = SIZE_MAX;
    b->cancel_at = SIZE_MAX;
    return b;
}

static int task(size_t i, void *ctx, void *result)
{
    book *b = ctx;
    if (i == 0)
        atomic_store(&b->entered, 1);
    while (i == 0 && atomic_load(&b->hold))
        sched_yield();
    atomic_fetch_add(&b->runs[i], 1);
    size_t started = atomic_fetch_add(&b->started, 1) + 1;
    size_t read = atomic_load(&b->read); /* may have passed `started` meanwhile: not ahead */
    size_t ahead = started > read ? started - read : 0;
    size_t max = atomic_load(&b->ahead_max);
    while (ahead > max && !atomic_compare_exchange_weak(&b->ahead_max, &max, ahead)) {}
    if (i == b->cancel_at)
        fg_cancel(b->cancel_at_token);
    if (i == b->fail_at)
        return 77;
    *(uint64_t *)result = (uint64_t)i * 3 + 1;
    return 0;
}

static fg_pool *pool_of(int workers)
{
    return pool_with(FG_CONFIG(.workers = workers, .seed = 3));
}

typedef struct config { int backend; long batch; int order; } config;

ParameterizedTestParameters(iter, every_result_once)
{
    static config c[] = {
        { FG_BACKEND_STEAL, 7, FG_ORDER_INDEX },      { FG_BACKEND_STEAL, 7, FG_ORDER_COMPLETION },
        { FG_BACKEND_SHARED, 7, FG_ORDER_INDEX },     { FG_BACKEND_SHARED, 7, FG_ORDER_COMPLETION },
        { FG_BACKEND_SEQUENTIAL, 7, FG_ORDER_INDEX }, { FG_BACKEND_SEQUENTIAL, 7, FG_ORDER_COMPLETION },
        { FG_BACKEND_STEAL, FG_BATCH_AUTO, FG_ORDER_INDEX },
        { FG_BACKEND_STEAL, FG_BATCH_AUTO, FG_ORDER_COMPLETION },
    };
    return cr_make_param_array(config, c, sizeof c / sizeof c[0]);
}

/* Index order: 100..N-1 exactly in order.  Completion order: each index
 * exactly once, and inside a batch (fixed size 7, cut from `begin`)
 * consecutive. */
ParameterizedTest(config *c, iter, every_result_once)
{
    fg_pool *pool = pool_of(3);
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 3, .pool = pool,
                                                            .backend = c->backend,
                                                            .batch_size = c->batch)), 0);
    book *b = book_new();
    fg_parallel_iter *it;
    size_t begin = 100, end = 10000;
    cr_assert_eq(fg_parallel_iter_open(par, (fg_delayed){ task, b, sizeof(uint64_t) }, begin,
                                       end, c->order, &it), 0);
    static unsigned char seen[N_MAX];
    memset(seen, 0, sizeof seen);
    size_t count = 0, i, prev = SIZE_MAX;
    uint64_t r;
    int rc;
    while ((rc = fg_parallel_iter_next(it, &i, &r)) == 0) {
        atomic_fetch_add(&b->read, 1);
        cr_assert(i >= begin && i < end, "index %zu", i);
        cr_assert_eq(r, (uint64_t)i * 3 + 1);
        cr_assert_eq(seen[i], 0, "index %zu twice", i);
        seen[i] = 1;
        if (c->order == FG_ORDER_INDEX)
            cr_assert_eq(i, begin + count, "index order: got %zu, want %zu", i, begin + count);
        else if (c->batch > 0 && (i - begin) % 7 != 0)
            cr_assert_eq(i, prev + 1, "a batch's results in order: %zu after %zu", i, prev);
        prev = i;
        count++;
    }
    cr_assert_eq(rc, FG_EDONE, "ended with %s", fg_error_name(rc));
    cr_assert_eq(count, end - begin);
    cr_assert_eq(fg_parallel_iter_next(it, &i, &r), FG_EDONE, "the end repeats");
    for (size_t k = begin; k < end; k++)
        cr_assert_eq(atomic_load(&b->runs[k]), 1);
    fg_error_info info = FG_ERROR_INFO_INIT();
    cr_assert_eq(fg_parallel_iter_close(it, &info), 0);
    cr_assert_eq(info.tasks_run, end - begin);
    cr_assert_eq(info.code, 0);
    free(b);
    fg_parallel_close(par);
    fg_pool_destroy(pool);
}

/* The window: n_jobs 2, batch 10, pre_dispatch 4 (default) gives
 * max(2, ceil(4 / 10)) + 1 = 3 batches, so no task starts more than 30
 * results (+1: the reader counts a result after next returns, and next
 * refills the window before returning) ahead of the reader. */
Test(iter, window_bounds_tasks_ahead_of_the_reader)
{
    fg_pool *pool = pool_of(2);
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .pool = pool,
                                                            .batch_size = 10)), 0);
    book *b = book_new();
    fg_parallel_iter *it;
    cr_assert_eq(fg_parallel_iter_open(par, (fg_delayed){ task, b, sizeof(uint64_t) }, 0,
                                       N_MAX, FG_ORDER_INDEX, &it), 0);
    /* A reader that does not read yet: the window fills, then stops. */
    while (atomic_load(&b->started) < 30)
        sched_yield();
    struct timespec pause = { 0, 30 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    cr_assert_eq(atomic_load(&b->started), 30, "started %zu", atomic_load(&b->started));
    size_t i;
    uint64_t r;
    while (fg_parallel_iter_next(it, &i, &r) == 0)
        atomic_fetch_add(&b->read, 1);
    cr_assert_eq(atomic_load(&b->read), N_MAX);
    cr_assert_leq(atomic_load(&b->ahead_max), 31, "ran %zu ahead",
                  atomic_load(&b->ahead_max));
    cr_assert_eq(fg_parallel_iter_close(it, NULL), 0);
    free(b);
    fg_parallel_close(par);
    fg_pool_destroy(pool);
}

ParameterizedTestParameters(iter, failure_after_the_results_before_it)
{
    static int backends[] = { FG_BACKEND_STEAL, FG_BACKEND_SHARED, FG_BACKEND_SEQUENTIAL };
    return cr_make_param_array(int, backends, 3);
}

ParameterizedTest(int *backend, iter, failure_after_the_results_before_it)
{
    fg_pool *pool = pool_of(2);
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .pool = pool,
                                                            .backend = *backend,
                                                            .batch_size = 16)), 0);
    book *b = book_new();
    b->fail_at = 537;
    fg_parallel_iter *it;
    cr_assert_eq(fg_parallel_iter_open(par, (fg_delayed){ task, b, sizeof(uint64_t) }, 0,
                                       5000, FG_ORDER_INDEX, &it), 0);
    size_t i, count = 0;
    uint64_t r;
    int rc;
    while ((rc = fg_parallel_iter_next(it, &i, &r)) == 0) {
        cr_assert_eq(i, count);
        cr_assert_eq(r, (uint64_t)i * 3 + 1);
        count++;
    }
    cr_assert_eq(rc, 77);
    cr_assert_eq(i, 537);
    cr_assert_eq(count, 537);
    i = 0;
    cr_assert_eq(fg_parallel_iter_next(it, &i, &r), 77, "the failure repeats");
    cr_assert_eq(i, 537);
    fg_error_info info = FG_ERROR_INFO_INIT();
    cr_assert_eq(fg_parallel_iter_close(it, &info), 0);
    cr_assert_eq(info.index, 537);
    cr_assert_eq(info.code, 77);
    size_t ran = 0;
    for (size_t k = 0; k < 5000; k++) {
        cr_assert_leq(atomic_load(&b->runs[k]), 1);
        ran += atomic_load(&b->runs[k]);
    }
    cr_assert_eq(info.tasks_run, ran);
    /* Sequential: nothing after the failing batch ever started. */
    if (*backend == FG_BACKEND_SEQUENTIAL)
        cr_assert_eq(ran, 538);
    free(b);
    fg_parallel_close(par);
    fg_pool_destroy(pool);
}

ParameterizedTestParameters(iter, early_close_runs_each_task_once_or_never)
{
    static config c[] = {
        { FG_BACKEND_STEAL, 5, FG_ORDER_INDEX },      { FG_BACKEND_STEAL, 5, FG_ORDER_COMPLETION },
        { FG_BACKEND_SHARED, 5, FG_ORDER_INDEX },     { FG_BACKEND_SEQUENTIAL, 5, FG_ORDER_INDEX },
    };
    return cr_make_param_array(config, c, sizeof c / sizeof c[0]);
}

ParameterizedTest(config *c, iter, early_close_runs_each_task_once_or_never)
{
    fg_pool *pool = pool_of(2);
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .pool = pool,
                                                            .backend = c->backend,
                                                            .batch_size = c->batch)), 0);
    book *b = book_new();
    fg_parallel_iter *it;
    cr_assert_eq(fg_parallel_iter_open(par, (fg_delayed){ task, b, sizeof(uint64_t) }, 0,
                                       N_MAX, c->order, &it), 0);
    size_t i;
    uint64_t r;
    static unsigned char seen[N_MAX];
    memset(seen, 0, sizeof seen);
    for (int k = 0; k < 100; k++) {
        cr_assert_eq(fg_parallel_iter_next(it, &i, &r), 0);
        seen[i] = 1;
    }
    fg_error_info info = FG_ERROR_INFO_INIT();
    cr_assert_eq(fg_parallel_iter_close(it, &info), 0);
    size_t ran = 0;
    for (size_t k = 0; k < N_MAX; k++) {
        unsigned n = atomic_load(&b->runs[k]);
        cr_assert_leq(n, 1, "index %zu ran %u times", k, n);
        cr_assert(seen[k] == 0 || n == 1, "index %zu read but not run", k);
        ran += n;
    }
    cr_assert_eq(info.tasks_run, ran);
    /* The window is max(2, 1) + 1 = 3 batches of 5 (sequential: 1). */
    cr_assert_leq(ran, 100 + 3 * 5, "%zu tasks ran for 100 read", ran);
    free(b);
    fg_parallel_close(par);
    fg_pool_destroy(pool);
}

/* One iterator cancelled by task 300's token: results in index order, then
 * FG_ECANCELED, every task run at most once and counted.  Returns how many
 * results were read. */
static size_t cancelled_iteration(void)
{
    fg_pool *pool = pool_of(2);
    fg_cancel_token stop = FG_CANCEL_TOKEN_INIT;
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .pool = pool,
                                                            .batch_size = 8, .cancel = &stop)), 0);
    book *b = book_new();
    b->cancel_at = 300;
    b->cancel_at_token = &stop;
    fg_parallel_iter *it;
    cr_assert_eq(fg_parallel_iter_open(par, (fg_delayed){ task, b, sizeof(uint64_t) }, 0,
                                       N_MAX, FG_ORDER_INDEX, &it), 0);
    size_t i, count = 0;
    uint64_t r;
    int rc;
    while ((rc = fg_parallel_iter_next(it, &i, &r)) == 0) {
        cr_assert_eq(i, count);
        cr_assert_eq(r, (uint64_t)i * 3 + 1);
        count++;
    }
    cr_assert_eq(rc, FG_ECANCELED);
    cr_assert_lt(count, N_MAX);
    cr_assert_eq(fg_parallel_iter_next(it, &i, &r), FG_ECANCELED);
    fg_error_info info = FG_ERROR_INFO_INIT();
    cr_assert_eq(fg_parallel_iter_close(it, &info), 0);
    size_t ran = 0;
    for (size_t k = 0; k < N_MAX; k++)
        ran += atomic_load(&b->runs[k]);
    cr_assert_eq(info.tasks_run, ran);
    free(b);
    fg_parallel_close(par);
    fg_pool_destroy(pool);
    return count;
}

/* Batches below the cancelling one were started first, but one may still
 * be running when the token is set (its worker descheduled) and stop after
 * its current task, cutting the ordered results short; so reading every
 * result up to the cancelling task's batch is asked of one of five
 * attempts (it failed once in CI's -Dfutex=disabled row). */
Test(iter, cancel_token_ends_with_ecanceled)
{
    size_t count = 0;
    for (int attempt = 1; attempt <= 5 && count < 301; attempt++)
        count = cancelled_iteration();
    cr_assert_geq(count, 301, "results up to the cancelling task's batch are read");
}

Test(iter, empty_range_and_no_results)
{
    fg_pool *pool = pool_of(2);
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .pool = pool)), 0);
    book *b = book_new();
    fg_parallel_iter *it;
    cr_assert_eq(fg_parallel_iter_open(par, (fg_delayed){ task, b, sizeof(uint64_t) }, 5, 5,
                                       FG_ORDER_INDEX, &it), 0);
    size_t i;
    cr_assert_eq(fg_parallel_iter_next(it, &i, NULL), FG_EDONE);
    cr_assert_eq(fg_parallel_iter_close(it, NULL), 0);
    cr_assert_eq(atomic_load(&b->started), 0);
    free(b);
    fg_parallel_close(par);
    fg_pool_destroy(pool);
}

/* Reading on the only worker of the pool: next must run the batches it
 * waits for instead of blocking that worker. */
typedef struct inner { fg_parallel *par; book *b; size_t count; int rc; } inner;

static int read_all(void *p)
{
    inner *in = p;
    fg_parallel_iter *it;
    in->rc = fg_parallel_iter_open(in->par, (fg_delayed){ task, in->b, sizeof(uint64_t) }, 0,
                                   3000, FG_ORDER_COMPLETION, &it);
    if (in->rc != 0)
        return 0;
    size_t i;
    uint64_t r;
    while ((in->rc = fg_parallel_iter_next(it, &i, &r)) == 0)
        in->count += r == (uint64_t)i * 3 + 1;
    fg_parallel_iter_close(it, NULL);
    return 0;
}

static int nothing(void *p)
{
    (void)p;
    return 0;
}

ParameterizedTestParameters(iter, reader_on_a_worker)
{
    static int workers[] = { 1, 2 };
    return cr_make_param_array(int, workers, 2);
}

ParameterizedTest(int *workers, iter, reader_on_a_worker)
{
    fg_pool *pool = pool_of(*workers);
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .pool = pool,
                                                            .batch_size = 3)), 0);
    inner in = { par, book_new(), 0, -1 };
    cr_assert_eq(fg_join(pool, read_all, &in, nothing, NULL), 0);
    cr_assert_eq(in.rc, FG_EDONE);
    cr_assert_eq(in.count, 3000);
    free(in.b);
    fg_parallel_close(par);
    fg_pool_destroy(pool);
}

/* Two threads read one iterator: each result goes to exactly one, and
 * each thread sees increasing indices. */
typedef struct reader { fg_parallel_iter *it; unsigned char *seen; size_t count; int ok, rc; } reader;

static void *read_thread(void *p)
{
    reader *rd = p;
    size_t i, prev = 0;
    uint64_t r;
    rd->ok = 1;
    while ((rd->rc = fg_parallel_iter_next(rd->it, &i, &r)) == 0) {
        if (r != (uint64_t)i * 3 + 1 || (rd->count > 0 && i <= prev))
            rd->ok = 0;
        rd->seen[i] = 1;
        prev = i;
        rd->count++;
    }
    return NULL;
}

Test(iter, two_reading_threads)
{
    fg_pool *pool = pool_of(2);
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .pool = pool,
                                                            .batch_size = 4)), 0);
    book *b = book_new();
    fg_parallel_iter *it;
    cr_assert_eq(fg_parallel_iter_open(par, (fg_delayed){ task, b, sizeof(uint64_t) }, 0,
                                       N_MAX, FG_ORDER_INDEX, &it), 0);
    static unsigned char seen0[N_MAX], seen1[N_MAX];
    reader r0 = { it, seen0, 0, 0, 0 }, r1 = { it, seen1, 0, 0, 0 };
    pthread_t t0, t1;
    pthread_create(&t0, NULL, read_thread, &r0);
    pthread_create(&t1, NULL, read_thread, &r1);
    pthread_join(t0, NULL);
    pthread_join(t1, NULL);
    cr_assert(r0.ok && r1.ok);
    cr_assert_eq(r0.rc, FG_EDONE);
    cr_assert_eq(r1.rc, FG_EDONE);
    cr_assert_eq(r0.count + r1.count, N_MAX);
    for (size_t k = 0; k < N_MAX; k++)
        cr_assert_eq(seen0[k] + seen1[k], 1, "index %zu read %d times", k, seen0[k] + seen1[k]);
    cr_assert_eq(fg_parallel_iter_close(it, NULL), 0);
    free(b);
    fg_parallel_close(par);
    fg_pool_destroy(pool);
}

/* A reader blocked in next (task 0 holds its batch) is woken by close with
 * FG_ECANCELED; close then waits for the held task, which finishes. */
static void *blocked_reader(void *p)
{
    reader *rd = p;
    size_t i;
    uint64_t r;
    rd->rc = fg_parallel_iter_next(rd->it, &i, &r);
    return NULL;
}

static void *release_later(void *p)
{
    book *b = p;
    struct timespec pause = { 0, 20 * 1000 * 1000 };
    nanosleep(&pause, NULL);
    atomic_store(&b->hold, 0);
    return NULL;
}

Test(iter, close_wakes_a_blocked_reader)
{
    fg_pool *pool = pool_of(2);
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .pool = pool,
                                                            .batch_size = 4)), 0);
    book *b = book_new();
    atomic_store(&b->hold, 1);
    fg_parallel_iter *it;
    cr_assert_eq(fg_parallel_iter_open(par, (fg_delayed){ task, b, sizeof(uint64_t) }, 0,
                                       1000, FG_ORDER_INDEX, &it), 0);
    reader rd = { it, NULL, 0, 0, 0 };
    pthread_t t, rel;
    pthread_create(&t, NULL, blocked_reader, &rd);
    while (fg__iter_inside(it) == 0 || atomic_load(&b->entered) == 0)
        sched_yield();
    pthread_create(&rel, NULL, release_later, b);
    fg_error_info info = FG_ERROR_INFO_INIT();
    cr_assert_eq(fg_parallel_iter_close(it, &info), 0);
    pthread_join(t, NULL);
    pthread_join(rel, NULL);
    cr_assert_eq(rd.rc, FG_ECANCELED);
    size_t ran = 0;
    for (size_t k = 0; k < 1000; k++) {
        cr_assert_leq(atomic_load(&b->runs[k]), 1);
        ran += atomic_load(&b->runs[k]);
    }
    cr_assert_eq(info.tasks_run, ran);
    cr_assert_geq(ran, 1, "the held task ran");
    free(b);
    fg_parallel_close(par);
    fg_pool_destroy(pool);
}
