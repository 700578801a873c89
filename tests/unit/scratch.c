/* tests/unit/scratch.c: fg_parallel_for_init and fg_parallel_map_init
 * (facade/scratch.c): one scratch per worker that ran work, each destroyed
 * once, never shared by two tasks at once (nested waits included), exact
 * results through the scratch, init failures. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "forage.h"
#include "pools.h"

TestSuite(scratch, .timeout = 60);

static fg_pool *pool_of(int workers)
{
    return pool_with(FG_CONFIG(.workers = workers, .seed = 5));
}

/* The scratch: a partial sum, the worker that made it and a use flag. */
typedef struct value {
    uint64_t sum;
    int worker;
    atomic_int in_use;
} value;

typedef struct books {
    atomic_int inits, destroys, shared, wrong_worker;
    atomic_ulong total;          /* destroy adds each value's sum */
    atomic_int seen[FG_MAX_WORKERS]; /* workers that ran a chunk or task */
    int fail_init;               /* nonzero: init returns it */
    fg_pool *pool;               /* nested: tasks wait for a loop on it */
} books;

static int init(void *ctx, void **out)
{
    books *b = ctx;
    if (b->fail_init != 0)
        return b->fail_init;
    value *v = calloc(1, sizeof *v);
    v->worker = fg_worker_index();
    *out = v;
    atomic_fetch_add(&b->inits, 1);
    return 0;
}

static void destroy(void *p, void *ctx)
{
    books *b = ctx;
    value *v = p;
    atomic_fetch_add(&b->total, v->sum);
    atomic_fetch_add(&b->destroys, 1);
    free(v);
}

static int distinct_workers(books *b)
{
    int n = 0;
    for (int w = 0; w < FG_MAX_WORKERS; w++)
        n += atomic_load(&b->seen[w]) != 0;
    return n;
}

/* Use v for [lo, hi): flag it, add, unflag. */
static void use(books *b, value *v, size_t lo, size_t hi)
{
    int w = fg_worker_index();
    if (w < 0 || w >= FG_MAX_WORKERS) {
        atomic_fetch_add(&b->wrong_worker, 1);
        return;
    }
    atomic_store(&b->seen[w], 1);
    if (atomic_exchange(&v->in_use, 1) != 0)
        atomic_fetch_add(&b->shared, 1);
    if (v->worker != w)
        atomic_fetch_add(&b->wrong_worker, 1);
    for (size_t i = lo; i < hi; i++)
        v->sum += i;
    atomic_store(&v->in_use, 0);
}

static int range_body(size_t lo, size_t hi, void *s, void *ctx)
{
    use(ctx, s, lo, hi);
    return 0;
}

ParameterizedTestParameters(scratch, for_init_one_per_worker)
{
    static int partitions[] = { FG_PARTITION_AUTO, FG_PARTITION_SIMPLE, FG_PARTITION_STATIC };
    return cr_make_param_array(int, partitions, 3);
}

ParameterizedTest(int *partition, scratch, for_init_one_per_worker)
{
    fg_pool *pool = pool_of(3);
    books *b = calloc(1, sizeof *b);
    fg_scratch s = { init, destroy, b };
    size_t n = 200000;
    cr_assert_eq(fg_parallel_for_init(pool, 0, n, FG_FOR_OPTS(.grain = 64, .partition = *partition),
                                      s, range_body, b), 0);
    cr_assert_eq(atomic_load(&b->total), (uint64_t)n * (n - 1) / 2);
    cr_assert_eq(atomic_load(&b->inits), distinct_workers(b));
    cr_assert_eq(atomic_load(&b->destroys), atomic_load(&b->inits));
    cr_assert_eq(atomic_load(&b->shared), 0);
    cr_assert_eq(atomic_load(&b->wrong_worker), 0);
    free(b);
    fg_pool_destroy(pool);
}

Test(scratch, for_init_empty_range_makes_nothing)
{
    fg_pool *pool = pool_of(2);
    books *b = calloc(1, sizeof *b);
    cr_assert_eq(fg_parallel_for_init(pool, 9, 9, NULL, (fg_scratch){ init, destroy, b },
                                      range_body, b), 0);
    cr_assert_eq(atomic_load(&b->inits), 0);
    cr_assert_eq(atomic_load(&b->destroys), 0);
    free(b);
    fg_pool_destroy(pool);
}

static int square(size_t i, void *s, void *ctx, void *result)
{
    use(ctx, s, i, i + 1);
    *(uint64_t *)result = (uint64_t)i * i;
    return 0;
}

ParameterizedTestParameters(scratch, map_init_backends)
{
    static int backends[] = { FG_BACKEND_STEAL, FG_BACKEND_SHARED, FG_BACKEND_SEQUENTIAL };
    return cr_make_param_array(int, backends, 3);
}

ParameterizedTest(int *backend, scratch, map_init_backends)
{
    fg_pool *pool = pool_of(2);
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .pool = pool,
                                                            .backend = *backend,
                                                            .batch_size = 50)), 0);
    books *b = calloc(1, sizeof *b);
    size_t n = 10000;
    uint64_t *out = calloc(n, sizeof *out);
    fg_error_info info = FG_ERROR_INFO_INIT();
    cr_assert_eq(fg_parallel_map_init(par, (fg_scratch){ init, destroy, b },
                                      (fg_delayed_scratch){ square, b, sizeof *out }, 100,
                                      100 + n, out, &info), 0);
    for (size_t k = 0; k < n; k++)
        cr_assert_eq(out[k], (uint64_t)(100 + k) * (100 + k));
    cr_assert_eq(info.tasks_run, n);
    cr_assert_eq(atomic_load(&b->total), (uint64_t)n * (n - 1) / 2 + 100 * (uint64_t)n);
    cr_assert_eq(atomic_load(&b->inits), distinct_workers(b));
    if (*backend == FG_BACKEND_SEQUENTIAL)
        cr_assert_eq(atomic_load(&b->inits), 1, "the caller's one value");
    cr_assert_eq(atomic_load(&b->destroys), atomic_load(&b->inits));
    cr_assert_eq(atomic_load(&b->shared), 0);
    cr_assert_eq(atomic_load(&b->wrong_worker), 0, "a value used off its worker, or index -1");
    free(out);
    free(b);
    fg_parallel_close(par);
    fg_pool_destroy(pool);
}

/* init fails: the first task fails with its code, nothing is destroyed. */
Test(scratch, map_init_failing_init)
{
    fg_pool *pool = pool_of(2);
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .pool = pool,
                                                            .batch_size = 10)), 0);
    books *b = calloc(1, sizeof *b);
    b->fail_init = 42;
    uint64_t out[100];
    fg_error_info info = FG_ERROR_INFO_INIT();
    cr_assert_eq(fg_parallel_map_init(par, (fg_scratch){ init, destroy, b },
                                      (fg_delayed_scratch){ square, b, sizeof out[0] }, 7, 107,
                                      out, &info), 42);
    cr_assert_eq(info.index, 7);
    cr_assert_eq(info.code, 42);
    cr_assert_eq(atomic_load(&b->inits), 0);
    cr_assert_eq(atomic_load(&b->destroys), 0);
    cr_assert_eq(distinct_workers(b), 0, "no task body ran");
    free(b);
    fg_parallel_close(par);
    fg_pool_destroy(pool);
}

Test(scratch, for_init_failing_init)
{
    fg_pool *pool = pool_of(2);
    books *b = calloc(1, sizeof *b);
    b->fail_init = 9;
    cr_assert_eq(fg_parallel_for_init(pool, 0, 1000, FG_FOR_OPTS(.grain = 10),
                                      (fg_scratch){ init, NULL, b }, range_body, b), 9);
    cr_assert_eq(distinct_workers(b), 0);
    free(b);
    fg_pool_destroy(pool);
}

/* Tasks that wait for a nested loop on the same pool: while one waits, its
 * worker may run another task of the same map, which must get its own
 * value.  No value is ever used by two tasks at once, and every value made
 * is destroyed once. */
static int spin_body(size_t lo, size_t hi, void *ctx)
{
    uint64_t x = 0;
    for (size_t i = lo; i < hi; i++)
        x += i;
    __atomic_fetch_add((uint64_t *)ctx, x, __ATOMIC_RELAXED);
    return 0;
}

static int nested_task(size_t i, void *s, void *ctx, void *result)
{
    books *b = ctx;
    value *v = s;
    if (atomic_exchange(&v->in_use, 1) != 0)
        atomic_fetch_add(&b->shared, 1);
    uint64_t sum = 0;
    int err = fg_parallel_for(b->pool, 0, 4096, FG_FOR_OPTS(.grain = 16,
                              .partition = FG_PARTITION_SIMPLE), spin_body, &sum);
    if (sum != 4096 * 4095 / 2)
        err = 99;
    v->sum += i;
    atomic_store(&v->in_use, 0);
    *(uint64_t *)result = i;
    return err;
}

Test(scratch, nested_waits_get_their_own_value)
{
    fg_pool *pool = pool_of(3);
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.pool = pool, .n_jobs = 3,
                                                            .batch_size = 1)), 0);
    books *b = calloc(1, sizeof *b);
    b->pool = pool;
    uint64_t out[300];
    cr_assert_eq(fg_parallel_map_init(par, (fg_scratch){ init, destroy, b },
                                      (fg_delayed_scratch){ nested_task, b, sizeof out[0] }, 0,
                                      300, out, NULL), 0);
    for (size_t k = 0; k < 300; k++)
        cr_assert_eq(out[k], k);
    cr_assert_eq(atomic_load(&b->shared), 0);
    cr_assert_eq(atomic_load(&b->destroys), atomic_load(&b->inits));
    cr_assert_eq(atomic_load(&b->total), 300 * 299 / 2);
    free(b);
    fg_parallel_close(par);
    fg_pool_destroy(pool);
}
