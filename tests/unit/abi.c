/* tests/unit/abi.c: structs that carry their size (forage.h, "Conventions").
 *
 * A program built against an older header passes a smaller struct: the
 * library must read only `size` bytes (the fields it lacks are defaults)
 * and write only `size` bytes.  A newer program passes a larger one: the
 * library accepts it only when every byte it does not know is 0.  Each
 * "older struct" below is a real struct whose size is cut after one field,
 * with garbage in the fields past the cut: reading any of them would fail
 * the call or show in the result. */
#include <criterion/criterion.h>

#include <stddef.h>
#include <string.h>

#include "forage.h"

TestSuite(abi, .timeout = 30);

static int one(size_t i, void *ctx, void *result)
{
    (void)ctx;
    *(size_t *)result = i;
    return i == 7 ? 42 : 0;
}

Test(abi, older_config_reads_only_its_fields)
{
    fg_config cfg;
    memset(&cfg, 0xFF, sizeof cfg); /* garbage past the cut: victim -1, ... */
    cfg.size = offsetof(fg_config, workers) + sizeof cfg.workers;
    cfg.workers = 3;
    fg_pool *pool = NULL;
    cr_assert_eq(fg_pool_create(&pool, &cfg), 0);
    cr_assert_eq(fg_pool_workers(pool), 3);
    fg_pool_destroy(pool);
}

Test(abi, newer_config_with_unknown_fields)
{
    struct { fg_config known; uint64_t later[4]; } newer;
    memset(&newer, 0, sizeof newer);
    newer.known.size = sizeof newer;
    newer.known.workers = 2;
    fg_pool *pool = NULL;
    cr_assert_eq(fg_pool_create(&pool, &newer.known), 0, "unknown fields all 0: accepted");
    cr_assert_eq(fg_pool_workers(pool), 2);
    fg_pool_destroy(pool);
    newer.later[2] = 1; /* a field this library does not have, set */
    pool = (fg_pool *)&newer;
    cr_assert_eq(fg_pool_create(&pool, &newer.known), FG_ESIZE);
    cr_assert_null(pool);
}

Test(abi, unset_sizes)
{
    fg_pool *pool = NULL;
    fg_config cfg = { 0 };
    cfg.workers = 2;
    cr_assert_eq(fg_pool_create(&pool, &cfg), FG_ESIZE, "size 0");
    cfg.size = sizeof(size_t) - 1;
    cr_assert_eq(fg_pool_create(&pool, &cfg), FG_ESIZE, "size too small to hold itself");
    cfg.size = 1u << 20;
    cr_assert_eq(fg_pool_create(&pool, &cfg), FG_ESIZE, "garbage size");
    cr_assert_null(pool);
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 2)), 0);
    fg_parallel *par = NULL;
    fg_parallel_opts po = { 0 };
    cr_assert_eq(fg_parallel_open(&par, &po), FG_ESIZE);
    cr_assert_eq(fg_parallel_for(pool, 0, 1, &(fg_for_opts){ 0 }, NULL, NULL), FG_ESIZE);
    fg_pool_destroy(pool);
}

static int count_chunks(size_t b, size_t e, void *ctx)
{
    (void)b;
    (void)e;
    __atomic_fetch_add((int *)ctx, 1, __ATOMIC_RELAXED);
    return 0;
}

Test(abi, older_for_opts)
{
    fg_pool *pool = NULL;
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 2)), 0);
    fg_for_opts o;
    memset(&o, 0xFF, sizeof o);
    o.size = offsetof(fg_for_opts, grain) + sizeof o.grain;
    o.grain = 100; /* partition past the cut is -1: FG_EINVAL if read */
    int chunks = 0;
    cr_assert_eq(fg_parallel_for(pool, 0, 1000, &o, count_chunks, &chunks), 0);
    cr_assert_geq(chunks, 1);
    cr_assert_leq(chunks, 10, "grain 100 over 1000 indices: at most 10 chunks, got %d", chunks);
    fg_pool_destroy(pool);
}

Test(abi, older_parallel_opts_and_error_info)
{
    fg_parallel_opts po;
    memset(&po, 0xFF, sizeof po); /* backend -1, verbose -1 ... past the cut */
    po.size = offsetof(fg_parallel_opts, n_jobs) + sizeof po.n_jobs;
    po.n_jobs = 2;
    fg_parallel *par = NULL;
    cr_assert_eq(fg_parallel_open(&par, &po), 0);
    size_t results[16];
    fg_error_info info;
    memset(&info, 0xEE, sizeof info);
    info.size = offsetof(fg_error_info, code) + sizeof info.code; /* no tasks_run */
    size_t sentinel = info.tasks_run;
    cr_assert_eq(fg_parallel_map(par, (fg_delayed){ one, NULL, sizeof(size_t) }, 0, 16,
                                 results, &info), 42);
    cr_assert_eq(info.index, 7);
    cr_assert_eq(info.code, 42);
    cr_assert_eq(info.tasks_run, sentinel, "wrote past the caller's size");
    for (size_t i = 0; i < 7; i++)
        cr_assert_eq(results[i], i);
    info.size = 0;
    cr_assert_eq(fg_parallel_map(par, (fg_delayed){ one, NULL, sizeof(size_t) }, 0, 4,
                                 results, &info), FG_ESIZE);
    fg_parallel_close(par);
}

Test(abi, older_worker_stats)
{
    fg_pool *pool = NULL;
    cr_assert_eq(fg_pool_create(&pool, FG_CONFIG(.workers = 1)), 0);
    fg_worker_stats st;
    memset(&st, 0xCD, sizeof st);
    st.size = offsetof(fg_worker_stats, steals); /* tasks_run, steal_attempts */
    cr_assert_eq(fg_pool_stats(pool, 0, &st), 0);
    unsigned char cd[sizeof st];
    memset(cd, 0xCD, sizeof cd);
    size_t rest = sizeof st - offsetof(fg_worker_stats, steals);
    cr_assert_eq(memcmp((char *)&st + offsetof(fg_worker_stats, steals), cd, rest), 0,
                 "wrote past the caller's size");
    cr_assert_eq(st.size, offsetof(fg_worker_stats, steals), "size kept");
    fg_pool_destroy(pool);
}
