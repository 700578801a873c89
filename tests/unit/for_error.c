/* tests/unit/for_error.c: fg_for_opts.error, the failing chunk's index
 * range from fg_parallel_for and fg_parallel_reduce (facade/parallel_for.c),
 * and fg_error_info.end from a map. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "forage.h"
#include "pools.h"

TestSuite(for_error, .timeout = 60);

static fg_pool *pool_of(int workers)
{
    return pool_with(FG_CONFIG(.workers = workers, .seed = 9));
}

/* Fails in the chunk holding index 7777. */
static int failing_body(size_t b, size_t e, void *ctx)
{
    (void)ctx;
    return b <= 7777 && 7777 < e ? 13 : 0;
}

static int failing_reduce(size_t b, size_t e, void *partial, void *ctx)
{
    *(uint64_t *)partial += e - b;
    return failing_body(b, e, ctx);
}

static void add(void *l, const void *r, void *ctx)
{
    (void)ctx;
    *(uint64_t *)l += *(const uint64_t *)r;
}

ParameterizedTestParameters(for_error, the_failing_chunk)
{
    static int partitions[] = { FG_PARTITION_AUTO, FG_PARTITION_SIMPLE, FG_PARTITION_STATIC };
    return cr_make_param_array(int, partitions, 3);
}

/* SIMPLE with grain 100 over [0, 12800) cuts chunks of exactly 100 (the
 * range halves evenly down to 100), so the chunk is [7700, 7800). */
ParameterizedTest(int *partition, for_error, the_failing_chunk)
{
    fg_pool *pool = pool_of(3);
    fg_error_info info = FG_ERROR_INFO_INIT(.index = 1, .end = 1, .code = 1);
    cr_assert_eq(fg_parallel_for(pool, 0, 12800, FG_FOR_OPTS(.grain = 100,
                                 .partition = *partition, .error = &info), failing_body, NULL), 13);
    cr_assert_eq(info.code, 13);
    cr_assert(info.index <= 7777 && 7777 < info.end, "chunk [%zu, %zu)", info.index, info.end);
    if (*partition == FG_PARTITION_SIMPLE) {
        cr_assert_eq(info.index, 7700);
        cr_assert_eq(info.end, 7800);
    }
    uint64_t zero = 0, out = 0;
    info = (fg_error_info)FG_ERROR_INFO_INIT();
    cr_assert_eq(fg_parallel_reduce(pool, 0, 12800, FG_FOR_OPTS(.grain = 100,
                                    .partition = *partition, .error = &info),
                                    sizeof zero, &zero, failing_reduce, add, NULL, &out), 13);
    cr_assert_eq(info.code, 13);
    cr_assert(info.index <= 7777 && 7777 < info.end, "chunk [%zu, %zu)", info.index, info.end);
    fg_pool_destroy(pool);
}

static int fine(size_t b, size_t e, void *ctx)
{
    (void)b;
    (void)e;
    (void)ctx;
    return 0;
}

Test(for_error, success_and_empty_clear_it)
{
    fg_pool *pool = pool_of(2);
    fg_error_info info = FG_ERROR_INFO_INIT(.index = 5, .end = 6, .code = 7);
    cr_assert_eq(fg_parallel_for(pool, 0, 1000, FG_FOR_OPTS(.error = &info), fine, NULL), 0);
    cr_assert_eq(info.code, 0);
    cr_assert_eq(info.index, 0);
    cr_assert_eq(info.end, 0);
    info.code = 7;
    cr_assert_eq(fg_parallel_for(pool, 3, 3, FG_FOR_OPTS(.error = &info), fine, NULL), 0);
    cr_assert_eq(info.code, 0);
    fg_pool_destroy(pool);
}

Test(for_error, unsized_info_is_esize_and_runs_nothing)
{
    fg_pool *pool = pool_of(2);
    fg_error_info info = { 0 };
    cr_assert_eq(fg_parallel_for(pool, 0, 1000, FG_FOR_OPTS(.error = &info), failing_body, NULL),
                 FG_ESIZE);
    fg_pool_destroy(pool);
}

static int fail_at_42(size_t i, void *ctx, void *result)
{
    (void)ctx;
    *(uint64_t *)result = i;
    return i == 42 ? 5 : 0;
}

Test(for_error, map_reports_the_task_as_a_range_of_one)
{
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .batch_size = 4)), 0);
    uint64_t out[100];
    fg_error_info info = FG_ERROR_INFO_INIT();
    cr_assert_eq(fg_parallel_map(par, (fg_delayed){ fail_at_42, NULL, sizeof out[0] }, 0, 100,
                                 out, &info), 5);
    cr_assert_eq(info.index, 42);
    cr_assert_eq(info.end, 43);
    /* results[] after a failure: every task before it ran and wrote. */
    for (size_t k = 0; k < 42; k++)
        cr_assert_eq(out[k], k);
    fg_parallel_close(par);
}

/* The ABI rules for the appended fields: an fg_for_opts cut before `error`
 * has garbage there, never read; an fg_error_info cut before `end` keeps
 * its bytes past the cut. */
Test(for_error, older_structs)
{
    fg_pool *pool = pool_of(2);
    fg_for_opts o;
    memset(&o, 0xFF, sizeof o);
    o.size = offsetof(fg_for_opts, cancel) + sizeof o.cancel;
    o.grain = 100;
    o.partition = FG_PARTITION_SIMPLE;
    o.cancel = NULL; /* `error` past the cut: 0xFF..., a crash if written */
    cr_assert_eq(fg_parallel_for(pool, 0, 12800, &o, failing_body, NULL), 13);
    fg_error_info info;
    memset(&info, 0xEE, sizeof info);
    info.size = offsetof(fg_error_info, tasks_run) + sizeof info.tasks_run;
    size_t sentinel = info.end;
    cr_assert_eq(fg_parallel_for(pool, 0, 12800, FG_FOR_OPTS(.grain = 100,
                                 .partition = FG_PARTITION_SIMPLE, .error = &info),
                                 failing_body, NULL), 13);
    cr_assert_eq(info.index, 7700);
    cr_assert_eq(info.code, 13);
    cr_assert_eq(info.end, sentinel, "wrote past the caller's size");
    fg_pool_destroy(pool);
}
