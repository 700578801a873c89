/* tests/unit/badinput.c: every public function with each bad argument.
 *
 * One table row per (function, bad argument): the call, the exact code it
 * must return, and the rule that nothing ran (every task and body of the
 * table increments `ran`).  Each row runs twice, from the main thread and
 * from inside a task on a worker, because the two take different paths
 * (the worker path must check as much as the injector path).
 *
 * After the table: ranges at the top of size_t, grain 0, and destroy while
 * another thread's call is running.
 *
 * The program lists its own table: `unit-badinput --rows` prints every row,
 * `--areas` counts them by API area (the table docs/design/verification.md
 * shows, and tests/unit/check_badinput_doc.py compares); a run checks that
 * Criterion ran as many cases as the list names.
 */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/parameterized.h>

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forage.h"

/* ---------------------------------------------------------- the fixture */

static fg_pool *live; /* a working pool with 2 workers */
static fg_pool *dead; /* created and destroyed: use-after-destroy rows */
static atomic_int ran;

static int task(void *arg) { (void)arg; atomic_fetch_add(&ran, 1); return 0; }
static int body(size_t b, size_t e, void *ctx) { (void)b; (void)e; (void)ctx; atomic_fetch_add(&ran, 1); return 0; }
static int rbody(size_t b, size_t e, void *p, void *ctx) { (void)b; (void)e; (void)p; (void)ctx; atomic_fetch_add(&ran, 1); return 0; }
static void combine(void *l, const void *r, void *ctx) { (void)l; (void)r; (void)ctx; atomic_fetch_add(&ran, 1); }
static int dtask(size_t i, void *ctx, void *res) { (void)i; (void)ctx; (void)res; atomic_fetch_add(&ran, 1); return 0; }
static int ctask(void *arg, void *res) { (void)arg; (void)res; atomic_fetch_add(&ran, 1); return 0; }

static void fixture_up(void)
{
    cr_assert_eq(fg_pool_create(&live, FG_CONFIG(.workers = 2)), 0);
    cr_assert_eq(fg_pool_create(&dead, FG_CONFIG(.workers = 1)), 0);
    fg_pool_destroy(dead);
    atomic_store(&ran, 0);
}

static void fixture_down(void) { fg_pool_destroy(live); }

/* ------------------------------------------------------------ the rows */

#ifdef NDEBUG
/* The use-after-destroy rows (DEBUG_ROW below) are compiled out, and with
 * them the only uses of their callables (`*_dead`, destroy_twice). */
#  pragma GCC diagnostic ignored "-Wunused-function"
#endif

/* Pool creation and configuration. */
static int create_out_null(void) { return fg_pool_create(NULL, NULL); }
/* Helpers return WROTE_OUT when a failed call left *out set.  (Rows run on
 * workers too, where a failing cr_assert cannot unwind: they only return.) */
#define WROTE_OUT (-9999)
static int create_cfg(fg_config c)
{
    fg_pool *p = (fg_pool *)&p;
    int rc = fg_pool_create(&p, &c);
    return p == NULL ? rc : WROTE_OUT;
}
static int create_too_many(void) { return create_cfg((fg_config)FG_CONFIG_INIT(.workers = FG_MAX_WORKERS + 1)); }
static int create_int_max(void) { return create_cfg((fg_config)FG_CONFIG_INIT(.workers = INT_MAX)); }
static int create_victim_neg(void) { return create_cfg((fg_config)FG_CONFIG_INIT(.workers = 1, .victim = -1)); }
static int create_victim_big(void) { return create_cfg((fg_config)FG_CONFIG_INIT(.workers = 1, .victim = FG_VICTIM_POWER_OF_TWO + 1)); }
static int create_steal_bad(void) { return create_cfg((fg_config)FG_CONFIG_INIT(.workers = 1, .steal = 2)); }
static int create_bind_bad(void) { return create_cfg((fg_config)FG_CONFIG_INIT(.workers = 1, .bind = 2)); }
static int create_tiny_stack(void) { return create_cfg((fg_config)FG_CONFIG_INIT(.workers = 1, .stack_size = 1)); }
static int create_env(const char *name, const char *value)
{
    setenv(name, value, 1);
    int rc = create_cfg((fg_config)FG_CONFIG_INIT());
    unsetenv(name);
    return rc;
}
static int create_env_text(void) { return create_env("FORAGE_WORKERS", "four"); }
static int create_env_zero(void) { return create_env("FORAGE_WORKERS", "0"); }
static int create_env_huge(void) { return create_env("FORAGE_WORKERS", "100000"); }
static int create_env_policy(void) { return create_env("FORAGE_POLICY", "fastest"); }
static int create_env_idle(void) { return create_env("FORAGE_IDLE", "spin:-3"); }
static int create_env_idle_ms(void) { return create_env("FORAGE_IDLE", "spin:5ms"); }
static int create_env_steal(void) { return create_env("FORAGE_STEAL", "all"); }
static int create_env_bind(void) { return create_env("FORAGE_BIND", "all"); }
static int create_record_dir(void) { return create_cfg((fg_config)FG_CONFIG_INIT(.workers = 1, .record = "/nonexistent-forage-dir/r.rec")); }
static int create_env_record(void) { return create_env("FORAGE_RECORD", "/nonexistent-forage-dir/r.rec"); }
static int create_env_record_units(void)
{
    setenv("FORAGE_RECORD_UNITS", "many", 1);
    int rc = create_cfg((fg_config)FG_CONFIG_INIT(.workers = 1, .record = "/dev/null"));
    unsetenv("FORAGE_RECORD_UNITS");
    return rc;
}
static int resolve_too_many(void) { return fg_resolve_workers(FG_MAX_WORKERS + 1); }
static int workers_null(void) { return fg_pool_workers(NULL); }
static int workers_dead(void) { return fg_pool_workers(dead); }
static fg_worker_stats st = FG_WORKER_STATS_INIT();
static int stats_null_pool(void) { return fg_pool_stats(NULL, 0, &st); }
static int stats_null_out(void) { return fg_pool_stats(live, 0, NULL); }
static int stats_neg_worker(void) { return fg_pool_stats(live, -1, &st); }
static int stats_past_worker(void) { return fg_pool_stats(live, 2, &st); }
static int stats_dead(void) { return fg_pool_stats(dead, 0, &st); }
static int destroy_twice(void)
{
    fg_pool_destroy(dead); /* debug builds: a message on stderr, no effect */
    return fg_pool_workers(live) == 2 ? 0 : -1;
}

/* fg_join. */
static int join_null_pool(void) { return fg_join(NULL, task, NULL, task, NULL); }
static int join_null_a(void) { return fg_join(live, NULL, NULL, task, NULL); }
static int join_null_b(void) { return fg_join(live, task, NULL, NULL, NULL); }
static int join_all_null(void) { return fg_join(live, NULL, NULL, NULL, NULL); }
static int join_dead(void) { return fg_join(dead, task, NULL, task, NULL); }

/* Groups. */
static int group_init_null(void) { return fg_group_init(NULL, live); }
static int group_init_null_pool(void) { fg_group g; return fg_group_init(&g, NULL); }
static int spawn_null_group(void) { return fg_spawn(NULL, task, NULL); }
static int spawn_null_fn(void)
{
    fg_group g = FG_GROUP_INIT(live);
    int rc = fg_spawn(&g, NULL, NULL);
    return fg_sync(&g) == 0 ? rc : WROTE_OUT; /* a refused spawn queued nothing */
}
static int spawn_no_pool(void) { fg_group g = FG_GROUP_INIT(NULL); return fg_spawn(&g, task, NULL); }
static int spawn_dead(void) { fg_group g = FG_GROUP_INIT(dead); return fg_spawn(&g, task, NULL); }
static int sync_null(void) { return fg_sync(NULL); }
static int sync_no_pool(void) { fg_group g = FG_GROUP_INIT(NULL); return fg_sync(&g); }

/* Loops. */
static int for_null_pool(void) { return fg_parallel_for(NULL, 0, 10, NULL, body, NULL); }
static int for_null_body(void) { return fg_parallel_for(live, 0, 10, NULL, NULL, NULL); }
static int for_reversed(void) { return fg_parallel_for(live, 10, 9, NULL, body, NULL); }
static int for_top_reversed(void) { return fg_parallel_for(live, SIZE_MAX, 0, NULL, body, NULL); }
static int for_partition_neg(void)
{
    return fg_parallel_for(live, 0, 10, FG_FOR_OPTS(.partition = -1), body, NULL);
}
static int for_partition_big(void)
{
    return fg_parallel_for(live, 0, 10, FG_FOR_OPTS(.partition = 3), body, NULL);
}
static int for_empty(void) { return fg_parallel_for(live, 50, 50, NULL, body, NULL); }
static int for_dead(void) { return fg_parallel_for(dead, 0, 10, NULL, body, NULL); }
static uint64_t identity, result;
static int reduce(fg_pool *p, size_t b, size_t e, size_t size, const void *id, fg_reduce_fn f,
                  fg_combine_fn c, void *res)
{
    return fg_parallel_reduce(p, b, e, NULL, size, id, f, c, NULL, res);
}
static int reduce_null_pool(void) { return reduce(NULL, 0, 9, 8, &identity, rbody, combine, &result); }
static int reduce_null_body(void) { return reduce(live, 0, 9, 8, &identity, NULL, combine, &result); }
static int reduce_null_combine(void) { return reduce(live, 0, 9, 8, &identity, rbody, NULL, &result); }
static int reduce_null_identity(void) { return reduce(live, 0, 9, 8, NULL, rbody, combine, &result); }
static int reduce_null_result(void) { return reduce(live, 0, 9, 8, &identity, rbody, combine, NULL); }
static int reduce_size_zero(void) { return reduce(live, 0, 9, 0, &identity, rbody, combine, &result); }
static int reduce_reversed(void) { return reduce(live, 9, 0, 8, &identity, rbody, combine, &result); }
static int reduce_empty(void) { return reduce(live, 7, 7, 8, &identity, rbody, combine, &result); }
static int reduce_dead(void) { return reduce(dead, 0, 9, 8, &identity, rbody, combine, &result); }

/* fg_parallel_scan. */
static uint64_t scan_buf[8], scan_id;
static int scan(fg_pool *p, const void *in, void *out, size_t n, size_t size, const void *id,
                fg_combine_fn c, const fg_scan_opts *o)
{
    return fg_parallel_scan(p, in, out, n, size, id, c, NULL, o);
}
static int scan_null_pool(void) { return scan(NULL, scan_buf, scan_buf, 8, 8, &scan_id, combine, NULL); }
static int scan_null_in(void) { return scan(live, NULL, scan_buf, 8, 8, &scan_id, combine, NULL); }
static int scan_null_out(void) { return scan(live, scan_buf, NULL, 8, 8, &scan_id, combine, NULL); }
static int scan_size_zero(void) { return scan(live, scan_buf, scan_buf, 8, 0, &scan_id, combine, NULL); }
static int scan_null_identity(void) { return scan(live, scan_buf, scan_buf, 8, 8, NULL, combine, NULL); }
static int scan_null_combine(void) { return scan(live, scan_buf, scan_buf, 8, 8, &scan_id, NULL, NULL); }
static int scan_overflow(void) { return scan(live, scan_buf, scan_buf, SIZE_MAX / 8 + 1, 8, &scan_id, combine, NULL); }
static int scan_overlap(void) { return scan(live, scan_buf, scan_buf + 1, 4, 8, &scan_id, combine, NULL); }
static int scan_kind_neg(void) { return scan(live, scan_buf, scan_buf, 8, 8, &scan_id, combine, FG_SCAN_OPTS(.kind = -1)); }
static int scan_kind_big(void) { return scan(live, scan_buf, scan_buf, 8, 8, &scan_id, combine, FG_SCAN_OPTS(.kind = FG_SCAN_EXCLUSIVE + 1)); }
static int scan_opts_unsized(void)
{
    fg_scan_opts o = { 0 };
    return scan(live, scan_buf, scan_buf, 8, 8, &scan_id, combine, &o);
}
static int scan_empty(void) { return scan(live, NULL, NULL, 0, 8, &scan_id, combine, NULL); }
static inline uint64_t typed_plus(uint64_t a, uint64_t b) { atomic_fetch_add(&ran, 1); return a + b; }
FG_PARALLEL_SCAN(typed_scan, uint64_t, typed_plus)
static int typed_scan_null_pool(void) { return typed_scan(NULL, scan_buf, scan_buf, 8, 0, NULL); }
static int typed_scan_overlap(void) { return typed_scan(live, scan_buf + 1, scan_buf, 4, 0, NULL); }
static int scan_dead(void) { return scan(dead, scan_buf, scan_buf, 8, 8, &scan_id, combine, NULL); }

/* The sorts: a refused call leaves the (unsorted) array as it was. */
static int cmp_counted(const void *a, const void *b) { (void)a; (void)b; atomic_fetch_add(&ran, 1); return 0; }
typedef int (*sort_fn)(fg_pool *, void *, size_t, size_t, fg_cmp_fn);
static int sort_row(sort_fn f, fg_pool *p, int null_base, size_t n, size_t size, fg_cmp_fn c)
{
    uint64_t a[4] = { 4, 3, 2, 1 };
    int rc = f(p, null_base ? NULL : a, n, size, c);
    return a[0] == 4 && a[3] == 1 ? rc : WROTE_OUT;
}
#define SORT_ROWS(F)                                                                          \
    static int F##_null_pool(void) { return sort_row(F, NULL, 0, 4, 8, cmp_counted); }         \
    static int F##_null_base(void) { return sort_row(F, live, 1, 4, 8, cmp_counted); }         \
    static int F##_size_zero(void) { return sort_row(F, live, 0, 4, 0, cmp_counted); }         \
    static int F##_null_cmp(void) { return sort_row(F, live, 0, 4, 8, NULL); }                 \
    static int F##_overflow(void) { return sort_row(F, live, 0, SIZE_MAX / 4, 8, cmp_counted); } \
    static int F##_empty(void) { return sort_row(F, live, 1, 0, 8, cmp_counted); }             \
    static int F##_one(void) { return sort_row(F, live, 0, 1, 8, cmp_counted); }               \
    static int F##_dead(void) { return sort_row(F, dead, 0, 4, 8, cmp_counted); }
SORT_ROWS(fg_parallel_sort)
SORT_ROWS(fg_parallel_stable_sort)
static inline int typed_before(uint64_t a, uint64_t b) { atomic_fetch_add(&ran, 1); return a < b; }
FG_PARALLEL_SORT(typed_sort, uint64_t, typed_before)
static int typed_sort_row(fg_pool *p, int null_base, size_t n)
{
    uint64_t a[4] = { 4, 3, 2, 1 };
    int rc = typed_sort(p, null_base ? NULL : a, n);
    return a[0] == 4 && a[3] == 1 ? rc : WROTE_OUT;
}
static int typed_sort_null_pool(void) { return typed_sort_row(NULL, 0, 4); }
static int typed_sort_null_base(void) { return typed_sort_row(live, 1, 4); }
static int typed_sort_overflow(void) { return typed_sort_row(live, 0, SIZE_MAX / 4); }
static int typed_sort_empty(void) { return typed_sort_row(live, 1, 0); }
static int typed_sort_one(void) { return typed_sort_row(live, 0, 1); }
static int typed_sort_dead(void) { return typed_sort_row(dead, 0, 4); }
static int key_row(int which, fg_pool *p, int null_base, size_t n)
{
    uint64_t a[4] = { 4, 3, 2, 1 };
    void *base = null_base ? NULL : a;
    int rc = which == 0 ? fg_parallel_sort_u64(p, base, n)
           : which == 1 ? fg_parallel_sort_i64(p, base, n) : fg_parallel_sort_double(p, base, n);
    return a[0] == 4 && a[3] == 1 ? rc : WROTE_OUT;
}
#define KEY_ROWS(NAME, W)                                                                     \
    static int NAME##_null_pool(void) { return key_row(W, NULL, 0, 4); }                      \
    static int NAME##_null_base(void) { return key_row(W, live, 1, 4); }                      \
    static int NAME##_overflow(void) { return key_row(W, live, 0, SIZE_MAX / 8 + 1); }        \
    static int NAME##_empty(void) { return key_row(W, live, 1, 0); }                          \
    static int NAME##_dead(void) { return key_row(W, dead, 0, 4); }
KEY_ROWS(sort_u64, 0)
KEY_ROWS(sort_i64, 1)
KEY_ROWS(sort_double, 2)

/* The façade. */
static int open_opts(fg_parallel_opts o)
{
    fg_parallel *par = (fg_parallel *)&par;
    int rc = fg_parallel_open(&par, &o);
    if (rc == 0)
        fg_parallel_close(par);
    return par == NULL ? rc : WROTE_OUT;
}
static int open_out_null(void) { return fg_parallel_open(NULL, NULL); }
static int open_backend_neg(void) { return open_opts((fg_parallel_opts)FG_PARALLEL_OPTS_INIT(.backend = -1)); }
static int open_backend_big(void) { return open_opts((fg_parallel_opts)FG_PARALLEL_OPTS_INIT(.backend = FG_BACKEND_PROCESS + 1)); }
static int open_prefer_big(void) { return open_opts((fg_parallel_opts)FG_PARALLEL_OPTS_INIT(.prefer = FG_PREFER_PROCESSES + 1)); }
static int open_timeout_neg(void) { return open_opts((fg_parallel_opts)FG_PARALLEL_OPTS_INIT(.timeout = -1)); }
static int open_timeout_nan(void) { return open_opts((fg_parallel_opts)FG_PARALLEL_OPTS_INIT(.timeout = NAN)); }
static int open_process_n_jobs_big(void) { return open_opts((fg_parallel_opts)FG_PARALLEL_OPTS_INIT(.n_jobs = FG_MAX_WORKERS + 1, .backend = FG_BACKEND_PROCESS)); }
static int open_batch_neg(void) { return open_opts((fg_parallel_opts)FG_PARALLEL_OPTS_INIT(.batch_size = -2)); }
static int open_verbose_neg(void) { return open_opts((fg_parallel_opts)FG_PARALLEL_OPTS_INIT(.verbose = -1)); }
static int open_predispatch_neg(void) { return open_opts((fg_parallel_opts)FG_PARALLEL_OPTS_INIT(.pre_dispatch = -2)); }
static int open_n_jobs_big(void) { return open_opts((fg_parallel_opts)FG_PARALLEL_OPTS_INIT(.n_jobs = FG_MAX_WORKERS + 1)); }
static int open_dead_pool(void) { return open_opts((fg_parallel_opts)FG_PARALLEL_OPTS_INIT(.pool = dead)); }

/* map and calls need an open façade on the live pool. */
static int with_par(int (*f)(fg_parallel *))
{
    fg_parallel *par;
    int rc = fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .pool = live));
    if (rc != 0)
        return rc;
    rc = f(par);
    fg_parallel_close(par);
    return rc;
}
static uint64_t results[8];
static fg_delayed delayed = { dtask, NULL, sizeof(uint64_t) };
static int map_null_par(void) { return fg_parallel_map(NULL, delayed, 0, 8, results, NULL); }
static int map_null_fn_(fg_parallel *par)
{
    return fg_parallel_map(par, (fg_delayed){ NULL, NULL, 8 }, 0, 8, results, NULL);
}
static int map_null_fn(void) { return with_par(map_null_fn_); }
static int map_reversed_(fg_parallel *par) { return fg_parallel_map(par, delayed, 8, 0, results, NULL); }
static int map_reversed(void) { return with_par(map_reversed_); }
static int map_null_results_(fg_parallel *par) { return fg_parallel_map(par, delayed, 0, 8, NULL, NULL); }
static int map_null_results(void) { return with_par(map_null_results_); }
/* The process backend: results the shared area cannot hold are refused
 * before anything is forked. */
static int with_proc(int (*f)(fg_parallel *))
{
    fg_parallel *par;
    int rc = fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .backend = FG_BACKEND_PROCESS));
    if (rc != 0)
        return rc;
    rc = f(par);
    fg_parallel_close(par);
    return rc;
}
static int proc_result_overflow_(fg_parallel *par)
{
    return fg_parallel_map(par, (fg_delayed){ dtask, NULL, SIZE_MAX / 4 }, 0, 8, results, NULL);
}
static int proc_result_overflow(void) { return with_proc(proc_result_overflow_); }
static int proc_result_huge_(fg_parallel *par) /* 2^49 bytes: beyond the address space */
{
    return fg_parallel_map(par, (fg_delayed){ dtask, NULL, (size_t)1 << 46 }, 0, 8, results, NULL);
}
static int proc_result_huge(void) { return with_proc(proc_result_huge_); }
static int proc_calls_result_(fg_parallel *par)
{
    fg_call calls[2] = { { ctask, NULL, NULL }, { ctask, NULL, results } };
    return fg_parallel_calls(par, calls, 2, NULL);
}
static int proc_calls_result(void) { return with_proc(proc_calls_result_); }
static int calls_null_par(void) { return fg_parallel_calls(NULL, NULL, 0, NULL); }
static int calls_null_array_(fg_parallel *par) { return fg_parallel_calls(par, NULL, 3, NULL); }
static int calls_null_array(void) { return with_par(calls_null_array_); }
static int calls_null_fn_(fg_parallel *par)
{
    fg_call calls[3] = { { ctask, NULL, NULL }, { NULL, NULL, NULL }, { ctask, NULL, NULL } };
    return fg_parallel_calls(par, calls, 3, NULL);
}
static int calls_null_fn(void) { return with_par(calls_null_fn_); }

/* Searches. */
static int fpred(size_t i, void *ctx) { (void)i; (void)ctx; atomic_fetch_add(&ran, 1); return 1; }
static size_t found_at = 12345;
static int find_untouched(int rc) { return found_at == 12345 ? rc : WROTE_OUT; }
static int find_first_null_pool(void) { return find_untouched(fg_parallel_find_first(NULL, 0, 9, fpred, NULL, &found_at)); }
static int find_first_null_pred(void) { return find_untouched(fg_parallel_find_first(live, 0, 9, NULL, NULL, &found_at)); }
static int find_first_null_index(void) { return fg_parallel_find_first(live, 0, 9, fpred, NULL, NULL); }
static int find_first_reversed(void) { return find_untouched(fg_parallel_find_first(live, 9, 0, fpred, NULL, &found_at)); }
static int find_first_dead(void) { return find_untouched(fg_parallel_find_first(dead, 0, 9, fpred, NULL, &found_at)); }
static int find_first_empty(void)
{
    size_t at = 0;
    int rc = fg_parallel_find_first(live, 4, 4, fpred, NULL, &at);
    return at == 4 ? rc : WROTE_OUT;
}
static int find_any_null_pool(void) { return find_untouched(fg_parallel_find_any(NULL, 0, 9, fpred, NULL, &found_at)); }
static int find_any_null_pred(void) { return find_untouched(fg_parallel_find_any(live, 0, 9, NULL, NULL, &found_at)); }
static int find_any_null_index(void) { return fg_parallel_find_any(live, 0, 9, fpred, NULL, NULL); }
static int find_any_reversed(void) { return find_untouched(fg_parallel_find_any(live, SIZE_MAX, 0, fpred, NULL, &found_at)); }

/* Per-worker scratch: init counts as running. */
static int sinit(void *ctx, void **out) { (void)ctx; *out = NULL; atomic_fetch_add(&ran, 1); return 0; }
static int sbody(size_t b, size_t e, void *s, void *ctx) { (void)b; (void)e; (void)s; (void)ctx; atomic_fetch_add(&ran, 1); return 0; }
static int stask(size_t i, void *s, void *ctx, void *res) { (void)i; (void)s; (void)ctx; (void)res; atomic_fetch_add(&ran, 1); return 0; }
static const fg_scratch scratch = { sinit, NULL, NULL };
static const fg_scratch no_init = { NULL, NULL, NULL };
static int for_init_null_pool(void) { return fg_parallel_for_init(NULL, 0, 9, NULL, scratch, sbody, NULL); }
static int for_init_null_init(void) { return fg_parallel_for_init(live, 0, 9, NULL, no_init, sbody, NULL); }
static int for_init_null_body(void) { return fg_parallel_for_init(live, 0, 9, NULL, scratch, NULL, NULL); }
static int for_init_reversed(void) { return fg_parallel_for_init(live, 9, 0, NULL, scratch, sbody, NULL); }
static int for_init_partition_big(void) { return fg_parallel_for_init(live, 0, 9, FG_FOR_OPTS(.partition = 3), scratch, sbody, NULL); }
static int for_init_dead(void) { return fg_parallel_for_init(dead, 0, 9, NULL, scratch, sbody, NULL); }
static const fg_delayed_scratch sdelayed = { stask, NULL, sizeof(uint64_t) };
static int map_init_null_par(void) { return fg_parallel_map_init(NULL, scratch, sdelayed, 0, 8, results, NULL); }
static int map_init_null_init_(fg_parallel *par) { return fg_parallel_map_init(par, no_init, sdelayed, 0, 8, results, NULL); }
static int map_init_null_init(void) { return with_par(map_init_null_init_); }
static int map_init_null_fn_(fg_parallel *par)
{
    return fg_parallel_map_init(par, scratch, (fg_delayed_scratch){ NULL, NULL, 8 }, 0, 8, results, NULL);
}
static int map_init_null_fn(void) { return with_par(map_init_null_fn_); }
static int map_init_reversed_(fg_parallel *par) { return fg_parallel_map_init(par, scratch, sdelayed, 8, 0, results, NULL); }
static int map_init_reversed(void) { return with_par(map_init_reversed_); }
static int map_init_null_results_(fg_parallel *par) { return fg_parallel_map_init(par, scratch, sdelayed, 0, 8, NULL, NULL); }
static int map_init_null_results(void) { return with_par(map_init_null_results_); }
static int map_init_bad_info_(fg_parallel *par)
{
    fg_error_info info = { 0 };
    return fg_parallel_map_init(par, scratch, sdelayed, 0, 8, results, &info);
}
static int map_init_bad_info(void) { return with_par(map_init_bad_info_); }

/* Streaming results. */
static fg_parallel_iter *iter_out = (fg_parallel_iter *)&iter_out;
static int iter_untouched(int rc) { return iter_out == NULL ? rc : WROTE_OUT; }
static int iter_null_par(void) { return iter_untouched(fg_parallel_iter_open(NULL, delayed, 0, 8, FG_ORDER_INDEX, &iter_out)); }
static int iter_null_out_(fg_parallel *par) { return fg_parallel_iter_open(par, delayed, 0, 8, FG_ORDER_INDEX, NULL); }
static int iter_null_out(void) { return with_par(iter_null_out_); }
static int iter_null_fn_(fg_parallel *par)
{
    return iter_untouched(fg_parallel_iter_open(par, (fg_delayed){ NULL, NULL, 8 }, 0, 8, FG_ORDER_INDEX, &iter_out));
}
static int iter_null_fn(void) { return with_par(iter_null_fn_); }
static int iter_reversed_(fg_parallel *par) { return iter_untouched(fg_parallel_iter_open(par, delayed, 8, 0, FG_ORDER_INDEX, &iter_out)); }
static int iter_reversed(void) { return with_par(iter_reversed_); }
static int iter_order_neg_(fg_parallel *par) { return iter_untouched(fg_parallel_iter_open(par, delayed, 0, 8, -1, &iter_out)); }
static int iter_order_neg(void) { return with_par(iter_order_neg_); }
static int iter_order_big_(fg_parallel *par) { return iter_untouched(fg_parallel_iter_open(par, delayed, 0, 8, FG_ORDER_COMPLETION + 1, &iter_out)); }
static int iter_order_big(void) { return with_par(iter_order_big_); }
static int iter_next_null_it(void) { size_t i; return fg_parallel_iter_next(NULL, &i, results); }
static int iter_next_null_index_(fg_parallel *par)
{
    fg_parallel_iter *it;
    int rc = fg_parallel_iter_open(par, delayed, 3, 3, FG_ORDER_INDEX, &it); /* empty: runs nothing */
    if (rc != 0)
        return WROTE_OUT;
    rc = fg_parallel_iter_next(it, NULL, results);
    size_t i;
    int end = fg_parallel_iter_next(it, &i, results);
    fg_parallel_iter_close(it, NULL);
    return end == FG_EDONE ? rc : WROTE_OUT; /* and the iterator still works */
}
static int iter_next_null_index(void) { return with_par(iter_next_null_index_); }
static int iter_close_null(void) { return fg_parallel_iter_close(NULL, NULL); }
static int iter_close_bad_info_(fg_parallel *par)
{
    fg_parallel_iter *it;
    if (fg_parallel_iter_open(par, delayed, 3, 3, FG_ORDER_INDEX, &it) != 0)
        return WROTE_OUT;
    fg_error_info info = { 0 };
    return fg_parallel_iter_close(it, &info); /* closed all the same */
}
static int iter_close_bad_info(void) { return with_par(iter_close_bad_info_); }
/* The process backend's window (n 8, auto: 5 slots of one result) that
 * cannot be laid out or mapped: refused before anything is forked. */
static int iter_proc_overflow_(fg_parallel *par)
{
    return iter_untouched(fg_parallel_iter_open(par, (fg_delayed){ dtask, NULL, SIZE_MAX / 4 }, 0,
                                                8, FG_ORDER_INDEX, &iter_out));
}
static int iter_proc_overflow(void) { return with_proc(iter_proc_overflow_); }
static int iter_proc_huge_(fg_parallel *par) /* 5 x 2^46 bytes: beyond the address space */
{
    return iter_untouched(fg_parallel_iter_open(par, (fg_delayed){ dtask, NULL, (size_t)1 << 46 },
                                                0, 8, FG_ORDER_COMPLETION, &iter_out));
}
static int iter_proc_huge(void) { return with_proc(iter_proc_huge_); }

enum { ANY = 0, MAIN_ONLY = 1, DEBUG_ONLY = 2 };
typedef struct row {
    const char *call;   /* what is called, with which bad argument */
    int (*run)(void);
    int expect;         /* the exact return code */
    int flags;          /* MAIN_ONLY: not run from a worker (environment);
                         * DEBUG_ONLY: compiled in debug builds only */
} row;

#ifdef NDEBUG
#  define DEBUG_ROW(call, run, expect) /* use after destroy: debug builds only */
#else
#  define DEBUG_ROW(call, run, expect) { call, run, expect, DEBUG_ONLY },
#endif

static const row rows[] = {
    { "fg_pool_create(out NULL)", create_out_null, FG_EINVAL, ANY },
    { "fg_pool_create(workers FG_MAX_WORKERS + 1)", create_too_many, FG_ERANGE, ANY },
    { "fg_pool_create(workers INT_MAX)", create_int_max, FG_ERANGE, ANY },
    { "fg_pool_create(victim -1)", create_victim_neg, FG_EINVAL, ANY },
    { "fg_pool_create(victim past the last kind)", create_victim_big, FG_EINVAL, ANY },
    { "fg_pool_create(steal past FG_STEAL_HALF)", create_steal_bad, FG_EINVAL, ANY },
    { "fg_pool_create(bind past FG_BIND_NONE)", create_bind_bad, FG_EINVAL, ANY },
    { "fg_pool_create(stack_size 1)", create_tiny_stack, FG_EINVAL, ANY },
    { "fg_pool_create($FORAGE_WORKERS=four)", create_env_text, FG_EENV, MAIN_ONLY },
    { "fg_pool_create($FORAGE_WORKERS=0)", create_env_zero, FG_EENV, MAIN_ONLY },
    { "fg_pool_create($FORAGE_WORKERS=100000)", create_env_huge, FG_EENV, MAIN_ONLY },
    { "fg_pool_create($FORAGE_POLICY=fastest)", create_env_policy, FG_EENV, MAIN_ONLY },
    { "fg_pool_create($FORAGE_IDLE=spin:-3)", create_env_idle, FG_EENV, MAIN_ONLY },
    { "fg_pool_create($FORAGE_IDLE=spin:5ms)", create_env_idle_ms, FG_EENV, MAIN_ONLY },
    { "fg_pool_create($FORAGE_STEAL=all)", create_env_steal, FG_EENV, MAIN_ONLY },
    { "fg_pool_create($FORAGE_BIND=all)", create_env_bind, FG_EENV, MAIN_ONLY },
    { "fg_pool_create(record in a missing directory)", create_record_dir, FG_EINVAL, ANY },
    { "fg_pool_create($FORAGE_RECORD in a missing directory)", create_env_record, FG_EENV, MAIN_ONLY },
    { "fg_pool_create($FORAGE_RECORD_UNITS=many)", create_env_record_units, FG_EENV, MAIN_ONLY },
    { "fg_resolve_workers(FG_MAX_WORKERS + 1)", resolve_too_many, FG_ERANGE, ANY },
    { "fg_pool_workers(NULL)", workers_null, FG_EINVAL, ANY },
    { "fg_pool_stats(pool NULL)", stats_null_pool, FG_EINVAL, ANY },
    { "fg_pool_stats(out NULL)", stats_null_out, FG_EINVAL, ANY },
    { "fg_pool_stats(worker -1)", stats_neg_worker, FG_EINVAL, ANY },
    { "fg_pool_stats(worker == workers)", stats_past_worker, FG_EINVAL, ANY },
    { "fg_join(pool NULL)", join_null_pool, FG_EINVAL, ANY },
    { "fg_join(a NULL)", join_null_a, FG_EINVAL, ANY },
    { "fg_join(b NULL)", join_null_b, FG_EINVAL, ANY },
    { "fg_join(a and b NULL)", join_all_null, FG_EINVAL, ANY },
    { "fg_group_init(g NULL)", group_init_null, FG_EINVAL, ANY },
    { "fg_group_init(pool NULL)", group_init_null_pool, FG_EINVAL, ANY },
    { "fg_spawn(g NULL)", spawn_null_group, FG_EINVAL, ANY },
    { "fg_spawn(fn NULL)", spawn_null_fn, FG_EINVAL, ANY },
    { "fg_spawn(group with pool NULL)", spawn_no_pool, FG_EINVAL, ANY },
    { "fg_sync(g NULL)", sync_null, FG_EINVAL, ANY },
    { "fg_sync(group with pool NULL)", sync_no_pool, FG_EINVAL, ANY },
    { "fg_parallel_for(pool NULL)", for_null_pool, FG_EINVAL, ANY },
    { "fg_parallel_for(body NULL)", for_null_body, FG_EINVAL, ANY },
    { "fg_parallel_for(begin 10 > end 9)", for_reversed, FG_EINVAL, ANY },
    { "fg_parallel_for(begin SIZE_MAX > end 0)", for_top_reversed, FG_EINVAL, ANY },
    { "fg_parallel_for(partition -1)", for_partition_neg, FG_EINVAL, ANY },
    { "fg_parallel_for(partition past STATIC)", for_partition_big, FG_EINVAL, ANY },
    { "fg_parallel_for(begin == end: empty, not an error)", for_empty, 0, ANY },
    { "fg_parallel_reduce(pool NULL)", reduce_null_pool, FG_EINVAL, ANY },
    { "fg_parallel_reduce(body NULL)", reduce_null_body, FG_EINVAL, ANY },
    { "fg_parallel_reduce(combine NULL)", reduce_null_combine, FG_EINVAL, ANY },
    { "fg_parallel_reduce(identity NULL)", reduce_null_identity, FG_EINVAL, ANY },
    { "fg_parallel_reduce(result NULL)", reduce_null_result, FG_EINVAL, ANY },
    { "fg_parallel_reduce(partial_size 0)", reduce_size_zero, FG_EINVAL, ANY },
    { "fg_parallel_reduce(begin > end)", reduce_reversed, FG_EINVAL, ANY },
    { "fg_parallel_reduce(begin == end: result = identity)", reduce_empty, 0, ANY },
    { "fg_parallel_scan(pool NULL)", scan_null_pool, FG_EINVAL, ANY },
    { "fg_parallel_scan(in NULL, n 8)", scan_null_in, FG_EINVAL, ANY },
    { "fg_parallel_scan(out NULL, n 8)", scan_null_out, FG_EINVAL, ANY },
    { "fg_parallel_scan(size 0)", scan_size_zero, FG_EINVAL, ANY },
    { "fg_parallel_scan(identity NULL)", scan_null_identity, FG_EINVAL, ANY },
    { "fg_parallel_scan(combine NULL)", scan_null_combine, FG_EINVAL, ANY },
    { "fg_parallel_scan(n * size beyond SIZE_MAX)", scan_overflow, FG_EINVAL, ANY },
    { "fg_parallel_scan(out overlaps in, not equal)", scan_overlap, FG_EINVAL, ANY },
    { "fg_parallel_scan(kind -1)", scan_kind_neg, FG_EINVAL, ANY },
    { "fg_parallel_scan(kind past EXCLUSIVE)", scan_kind_big, FG_EINVAL, ANY },
    { "fg_parallel_scan(opts.size 0)", scan_opts_unsized, FG_ESIZE, ANY },
    { "fg_parallel_scan(n 0, in and out NULL: nothing to do)", scan_empty, 0, ANY },
    { "FG_PARALLEL_SCAN's function(pool NULL)", typed_scan_null_pool, FG_EINVAL, ANY },
    { "FG_PARALLEL_SCAN's function(out overlaps in)", typed_scan_overlap, FG_EINVAL, ANY },
    { "fg_parallel_sort(pool NULL)", fg_parallel_sort_null_pool, FG_EINVAL, ANY },
    { "fg_parallel_sort(base NULL, n 4)", fg_parallel_sort_null_base, FG_EINVAL, ANY },
    { "fg_parallel_sort(size 0)", fg_parallel_sort_size_zero, FG_EINVAL, ANY },
    { "fg_parallel_sort(cmp NULL)", fg_parallel_sort_null_cmp, FG_EINVAL, ANY },
    { "fg_parallel_sort(n * size beyond SIZE_MAX)", fg_parallel_sort_overflow, FG_EINVAL, ANY },
    { "fg_parallel_sort(n 0, base NULL: nothing to do)", fg_parallel_sort_empty, 0, ANY },
    { "fg_parallel_sort(n 1: nothing to compare)", fg_parallel_sort_one, 0, ANY },
    { "fg_parallel_stable_sort(pool NULL)", fg_parallel_stable_sort_null_pool, FG_EINVAL, ANY },
    { "fg_parallel_stable_sort(base NULL, n 4)", fg_parallel_stable_sort_null_base, FG_EINVAL, ANY },
    { "fg_parallel_stable_sort(size 0)", fg_parallel_stable_sort_size_zero, FG_EINVAL, ANY },
    { "fg_parallel_stable_sort(cmp NULL)", fg_parallel_stable_sort_null_cmp, FG_EINVAL, ANY },
    { "fg_parallel_stable_sort(n * size beyond SIZE_MAX)", fg_parallel_stable_sort_overflow, FG_EINVAL, ANY },
    { "fg_parallel_stable_sort(n 0, base NULL: nothing to do)", fg_parallel_stable_sort_empty, 0, ANY },
    { "fg_parallel_stable_sort(n 1: nothing to compare)", fg_parallel_stable_sort_one, 0, ANY },
    { "FG_PARALLEL_SORT's function(pool NULL)", typed_sort_null_pool, FG_EINVAL, ANY },
    { "FG_PARALLEL_SORT's function(base NULL, n 4)", typed_sort_null_base, FG_EINVAL, ANY },
    { "FG_PARALLEL_SORT's function(n * size beyond SIZE_MAX)", typed_sort_overflow, FG_EINVAL, ANY },
    { "FG_PARALLEL_SORT's function(n 0, base NULL: nothing to do)", typed_sort_empty, 0, ANY },
    { "FG_PARALLEL_SORT's function(n 1: nothing to compare)", typed_sort_one, 0, ANY },
    { "fg_parallel_sort_u64(pool NULL)", sort_u64_null_pool, FG_EINVAL, ANY },
    { "fg_parallel_sort_u64(base NULL, n 4)", sort_u64_null_base, FG_EINVAL, ANY },
    { "fg_parallel_sort_u64(n * 8 beyond SIZE_MAX)", sort_u64_overflow, FG_EINVAL, ANY },
    { "fg_parallel_sort_u64(n 0, base NULL: nothing to do)", sort_u64_empty, 0, ANY },
    { "fg_parallel_sort_i64(pool NULL)", sort_i64_null_pool, FG_EINVAL, ANY },
    { "fg_parallel_sort_i64(base NULL, n 4)", sort_i64_null_base, FG_EINVAL, ANY },
    { "fg_parallel_sort_i64(n * 8 beyond SIZE_MAX)", sort_i64_overflow, FG_EINVAL, ANY },
    { "fg_parallel_sort_i64(n 0, base NULL: nothing to do)", sort_i64_empty, 0, ANY },
    { "fg_parallel_sort_double(pool NULL)", sort_double_null_pool, FG_EINVAL, ANY },
    { "fg_parallel_sort_double(base NULL, n 4)", sort_double_null_base, FG_EINVAL, ANY },
    { "fg_parallel_sort_double(n * 8 beyond SIZE_MAX)", sort_double_overflow, FG_EINVAL, ANY },
    { "fg_parallel_sort_double(n 0, base NULL: nothing to do)", sort_double_empty, 0, ANY },
    { "fg_parallel_open(out NULL)", open_out_null, FG_EINVAL, ANY },
    { "fg_parallel_open(backend -1)", open_backend_neg, FG_EINVAL, ANY },
    { "fg_parallel_open(backend past PROCESS)", open_backend_big, FG_EINVAL, ANY },
    { "fg_parallel_open(prefer past PROCESSES)", open_prefer_big, FG_EINVAL, ANY },
    { "fg_parallel_open(timeout -1)", open_timeout_neg, FG_EINVAL, ANY },
    { "fg_parallel_open(timeout NaN)", open_timeout_nan, FG_EINVAL, ANY },
    { "fg_parallel_open(process, n_jobs FG_MAX_WORKERS + 1)", open_process_n_jobs_big, FG_ERANGE, ANY },
    { "fg_parallel_open(batch_size -2)", open_batch_neg, FG_EINVAL, ANY },
    { "fg_parallel_open(verbose -1)", open_verbose_neg, FG_EINVAL, ANY },
    { "fg_parallel_open(pre_dispatch -2)", open_predispatch_neg, FG_EINVAL, ANY },
    { "fg_parallel_open(n_jobs FG_MAX_WORKERS + 1)", open_n_jobs_big, FG_ERANGE, ANY },
    { "fg_parallel_map(par NULL)", map_null_par, FG_EINVAL, ANY },
    { "fg_parallel_map(fn NULL)", map_null_fn, FG_EINVAL, ANY },
    { "fg_parallel_map(begin > end)", map_reversed, FG_EINVAL, ANY },
    { "fg_parallel_map(results NULL, result_size 8)", map_null_results, FG_EINVAL, ANY },
    { "fg_parallel_map(process, result_size SIZE_MAX / 4: overflows)", proc_result_overflow, FG_ENOMEM, ANY },
    { "fg_parallel_map(process, result_size 2^46 x 8: cannot be mapped)", proc_result_huge, FG_ENOMEM, ANY },
    { "fg_parallel_calls(process, a result pointer)", proc_calls_result, FG_EINVAL, ANY },
    { "fg_parallel_calls(par NULL)", calls_null_par, FG_EINVAL, ANY },
    { "fg_parallel_calls(calls NULL, n 3)", calls_null_array, FG_EINVAL, ANY },
    { "fg_parallel_calls(calls[1].fn NULL)", calls_null_fn, FG_EINVAL, ANY },
    { "fg_parallel_find_first(pool NULL)", find_first_null_pool, FG_EINVAL, ANY },
    { "fg_parallel_find_first(pred NULL)", find_first_null_pred, FG_EINVAL, ANY },
    { "fg_parallel_find_first(index NULL)", find_first_null_index, FG_EINVAL, ANY },
    { "fg_parallel_find_first(begin > end)", find_first_reversed, FG_EINVAL, ANY },
    { "fg_parallel_find_first(begin == end: *index = end)", find_first_empty, 0, ANY },
    { "fg_parallel_find_any(pool NULL)", find_any_null_pool, FG_EINVAL, ANY },
    { "fg_parallel_find_any(pred NULL)", find_any_null_pred, FG_EINVAL, ANY },
    { "fg_parallel_find_any(index NULL)", find_any_null_index, FG_EINVAL, ANY },
    { "fg_parallel_find_any(begin SIZE_MAX > end 0)", find_any_reversed, FG_EINVAL, ANY },
    { "fg_parallel_for_init(pool NULL)", for_init_null_pool, FG_EINVAL, ANY },
    { "fg_parallel_for_init(scratch.init NULL)", for_init_null_init, FG_EINVAL, ANY },
    { "fg_parallel_for_init(body NULL)", for_init_null_body, FG_EINVAL, ANY },
    { "fg_parallel_for_init(begin > end)", for_init_reversed, FG_EINVAL, ANY },
    { "fg_parallel_for_init(partition past STATIC)", for_init_partition_big, FG_EINVAL, ANY },
    { "fg_parallel_map_init(par NULL)", map_init_null_par, FG_EINVAL, ANY },
    { "fg_parallel_map_init(scratch.init NULL)", map_init_null_init, FG_EINVAL, ANY },
    { "fg_parallel_map_init(fn NULL)", map_init_null_fn, FG_EINVAL, ANY },
    { "fg_parallel_map_init(begin > end)", map_init_reversed, FG_EINVAL, ANY },
    { "fg_parallel_map_init(results NULL, result_size 8)", map_init_null_results, FG_EINVAL, ANY },
    { "fg_parallel_map_init(err not made by FG_ERROR_INFO_INIT)", map_init_bad_info, FG_ESIZE, ANY },
    { "fg_parallel_iter_open(par NULL)", iter_null_par, FG_EINVAL, ANY },
    { "fg_parallel_iter_open(out NULL)", iter_null_out, FG_EINVAL, ANY },
    { "fg_parallel_iter_open(fn NULL)", iter_null_fn, FG_EINVAL, ANY },
    { "fg_parallel_iter_open(begin > end)", iter_reversed, FG_EINVAL, ANY },
    { "fg_parallel_iter_open(order -1)", iter_order_neg, FG_EINVAL, ANY },
    { "fg_parallel_iter_open(order past COMPLETION)", iter_order_big, FG_EINVAL, ANY },
    { "fg_parallel_iter_next(it NULL)", iter_next_null_it, FG_EINVAL, ANY },
    { "fg_parallel_iter_next(index NULL)", iter_next_null_index, FG_EINVAL, ANY },
    { "fg_parallel_iter_close(NULL: no-op)", iter_close_null, 0, ANY },
    { "fg_parallel_iter_close(info not made by FG_ERROR_INFO_INIT)", iter_close_bad_info, FG_ESIZE, ANY },
    { "fg_parallel_iter_open(process, result_size SIZE_MAX / 4: overflows)", iter_proc_overflow, FG_ENOMEM, ANY },
    { "fg_parallel_iter_open(process, result_size 2^46: cannot be mapped)", iter_proc_huge, FG_ENOMEM, ANY },
    DEBUG_ROW("fg_pool_workers(destroyed pool)", workers_dead, FG_EINVAL)
    DEBUG_ROW("fg_pool_stats(destroyed pool)", stats_dead, FG_EINVAL)
    DEBUG_ROW("fg_pool_destroy(destroyed pool)", destroy_twice, 0)
    DEBUG_ROW("fg_join(destroyed pool)", join_dead, FG_EINVAL)
    DEBUG_ROW("fg_spawn(group of a destroyed pool)", spawn_dead, FG_EINVAL)
    DEBUG_ROW("fg_parallel_for(destroyed pool)", for_dead, FG_EINVAL)
    DEBUG_ROW("fg_parallel_reduce(destroyed pool)", reduce_dead, FG_EINVAL)
    DEBUG_ROW("fg_parallel_open(pool destroyed)", open_dead_pool, FG_EINVAL)
    DEBUG_ROW("fg_parallel_scan(destroyed pool)", scan_dead, FG_EINVAL)
    DEBUG_ROW("fg_parallel_sort(destroyed pool)", fg_parallel_sort_dead, FG_EINVAL)
    DEBUG_ROW("fg_parallel_stable_sort(destroyed pool)", fg_parallel_stable_sort_dead, FG_EINVAL)
    DEBUG_ROW("FG_PARALLEL_SORT's function(destroyed pool)", typed_sort_dead, FG_EINVAL)
    DEBUG_ROW("fg_parallel_sort_u64(destroyed pool)", sort_u64_dead, FG_EINVAL)
    DEBUG_ROW("fg_parallel_sort_i64(destroyed pool)", sort_i64_dead, FG_EINVAL)
    DEBUG_ROW("fg_parallel_sort_double(destroyed pool)", sort_double_dead, FG_EINVAL)
    DEBUG_ROW("fg_parallel_find_first(destroyed pool)", find_first_dead, FG_EINVAL)
    DEBUG_ROW("fg_parallel_for_init(destroyed pool)", for_init_dead, FG_EINVAL)
};
#define NROWS (sizeof rows / sizeof rows[0])

/* ------------------------------------------------------- running a row */

static int row_on_worker(void *arg)
{
    const row *r = arg;
    return r->run();
}

static int nothing(void *arg) { (void)arg; return 0; }

/* Run row `r` from the main thread (on_worker 0) or inside a task. */
static void check_row(const row *r, int on_worker)
{
    int rc = on_worker ? fg_join(live, row_on_worker, (void *)r, nothing, NULL) : r->run();
    cr_expect_eq(rc, r->expect, "%s from %s: returned %s (%d), want %s", r->call,
                 on_worker ? "a worker" : "the main thread", fg_error_name(rc), rc,
                 fg_error_name(r->expect));
    cr_expect_eq(atomic_load(&ran), 0, "%s from %s: %d task(s) or bodies ran", r->call,
                 on_worker ? "a worker" : "the main thread", atomic_load(&ran));
    /* And the pool still works. */
    atomic_store(&ran, 0);
    cr_assert_eq(fg_join(live, task, NULL, task, NULL), 0);
    cr_assert_eq(atomic_load(&ran), 2, "%s: the pool stopped working", r->call);
}

ParameterizedTestParameters(badinput, table)
{
    static size_t cases[2 * NROWS]; /* row * 2 + on_worker */
    size_t n = 0;
    for (size_t i = 0; i < NROWS; i++) {
        cases[n++] = 2 * i;
        if (!(rows[i].flags & MAIN_ONLY))
            cases[n++] = 2 * i + 1;
    }
    return cr_make_param_array(size_t, cases, n);
}

ParameterizedTest(size_t *c, badinput, table, .init = fixture_up, .fini = fixture_down,
                  .timeout = 30)
{
    check_row(&rows[*c / 2], (int)(*c % 2));
}

/* The table is not empty and each row is reachable (guards the macro). */
Test(badinput, table_size)
{
#ifdef NDEBUG
    cr_assert_eq(NROWS, 149);
#else
    cr_assert_eq(NROWS, 166);
#endif
}

/* ------------------------------------------------ ranges at the top */

typedef struct chunk_log {
    pthread_mutex_t lock;
    size_t begin[64], end[64];
    int n;
} chunk_log;

static int log_chunk(size_t b, size_t e, void *ctx)
{
    chunk_log *l = ctx;
    pthread_mutex_lock(&l->lock);
    if (l->n < 64) {
        l->begin[l->n] = b;
        l->end[l->n] = e;
    }
    l->n++;
    pthread_mutex_unlock(&l->lock);
    return 0;
}

/* The chunks must tile [begin, end) exactly: no overflow when splitting
 * near SIZE_MAX. */
static void check_tiling(chunk_log *l, size_t begin, size_t end, size_t grain)
{
    cr_assert(l->n > 0 && l->n <= 64, "%d chunks", l->n);
    for (size_t want = begin; want != end;) {
        int found = -1;
        for (int i = 0; i < l->n; i++)
            if (l->begin[i] == want)
                found = i;
        cr_assert(found >= 0, "no chunk starts at %zu", want);
        cr_assert(l->end[found] > want && l->end[found] <= end, "bad chunk [%zu, %zu)", want,
                  l->end[found]);
        cr_assert(l->end[found] - want >= grain || l->end[found] == end, "chunk below grain");
        want = l->end[found];
    }
}

static void tile_top(int partition)
{
    chunk_log l = { .lock = PTHREAD_MUTEX_INITIALIZER };
    size_t grain = SIZE_MAX / 8;
    cr_assert_eq(fg_parallel_for(live, 0, SIZE_MAX,
                                 FG_FOR_OPTS(.grain = grain, .partition = partition),
                                 log_chunk, &l), 0);
    check_tiling(&l, 0, SIZE_MAX, grain);
    l.n = 0;
    cr_assert_eq(fg_parallel_for(live, SIZE_MAX - 10, SIZE_MAX,
                                 FG_FOR_OPTS(.grain = 1, .partition = partition),
                                 log_chunk, &l), 0);
    check_tiling(&l, SIZE_MAX - 10, SIZE_MAX, 1);
}

Test(badinput, size_max_range_simple, .init = fixture_up, .fini = fixture_down) { tile_top(FG_PARTITION_SIMPLE); }
Test(badinput, size_max_range_auto, .init = fixture_up, .fini = fixture_down) { tile_top(FG_PARTITION_AUTO); }
Test(badinput, size_max_range_static, .init = fixture_up, .fini = fixture_down) { tile_top(FG_PARTITION_STATIC); }

Test(badinput, empty_range_at_the_top_runs_nothing, .init = fixture_up, .fini = fixture_down)
{
    cr_assert_eq(fg_parallel_for(live, SIZE_MAX, SIZE_MAX, NULL, body, NULL), 0);
    cr_assert_eq(fg_parallel_map(NULL, delayed, 0, 0, results, NULL), FG_EINVAL);
    cr_assert_eq(atomic_load(&ran), 0);
}

static int index_task(size_t i, void *ctx, void *res)
{
    (void)ctx;
    *(size_t *)res = i;
    return 0;
}

Test(badinput, map_at_the_top_of_size_t, .init = fixture_up, .fini = fixture_down)
{
    fg_parallel *par;
    cr_assert_eq(fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .pool = live,
                                                            .batch_size = 2)), 0);
    size_t out[5];
    cr_assert_eq(fg_parallel_map(par, (fg_delayed){ index_task, NULL, sizeof(size_t) },
                                 SIZE_MAX - 5, SIZE_MAX, out, NULL), 0);
    for (size_t k = 0; k < 5; k++)
        cr_assert_eq(out[k], SIZE_MAX - 5 + k);
    fg_parallel_close(par);
}

/* grain 0 is documented as 1: SIMPLE then cuts chunks in [1, 2), i.e. 1. */
Test(badinput, grain_zero_means_one, .init = fixture_up, .fini = fixture_down)
{
    chunk_log l = { .lock = PTHREAD_MUTEX_INITIALIZER };
    cr_assert_eq(fg_parallel_for(live, 0, 50, FG_FOR_OPTS(.grain = 0,
                                 .partition = FG_PARTITION_SIMPLE), log_chunk, &l), 0);
    cr_assert_eq(l.n, 50);
    check_tiling(&l, 0, 50, 1);
}

/* ------------------------------------- destroy during another's call */

static atomic_int release, started, loop_done;

/* The first chunk holds its worker until released; the other worker stays
 * free to run the main thread's joins. */
static int blocking_body(size_t b, size_t e, void *ctx)
{
    (void)ctx;
    if (b == 0) {
        atomic_store(&started, 1);
        while (!atomic_load(&release))
            sched_yield();
    }
    atomic_fetch_add(&loop_done, (int)(e - b));
    return 0;
}

static void *long_call(void *arg)
{
    int *rc = arg;
    *rc = fg_parallel_for(live, 0, 100, FG_FOR_OPTS(.grain = 10,
                          .partition = FG_PARTITION_SIMPLE), blocking_body, NULL);
    return NULL;
}

static void *destroyer(void *arg)
{
    fg_pool_destroy(arg);
    return NULL;
}

/* Thread A's loop is running when thread B calls destroy: B waits for A,
 * new calls fail with FG_ESHUTDOWN and run nothing, A's loop completes. */
Test(badinput, destroy_waits_for_a_running_call, .timeout = 30)
{
    cr_assert_eq(fg_pool_create(&live, FG_CONFIG(.workers = 2)), 0);
    pthread_t a, b;
    int rc_a = -1;
    cr_assert_eq(pthread_create(&a, NULL, long_call, &rc_a), 0);
    while (atomic_load(&started) == 0)
        sched_yield();
    cr_assert_eq(pthread_create(&b, NULL, destroyer, live), 0);
    /* Wait until destroy refuses new calls; joins before that run fully. */
    int before = 0, rc;
    while ((rc = fg_join(live, task, NULL, task, NULL)) == 0)
        before += 2;
    cr_assert_eq(rc, FG_ESHUTDOWN);
    cr_assert_eq(atomic_load(&ran), before, "a refused join ran something");
    atomic_store(&release, 1);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    cr_assert_eq(rc_a, 0);
    cr_assert_eq(atomic_load(&loop_done), 100, "the running loop did not finish");
    cr_assert_eq(atomic_load(&ran), before);
}

/* ------------------------------------------------- listing the table */

/* The API areas of the table, each with the functions its rows call (the
 * call's text before its '('): `--areas` counts rows by these. */
static const struct area {
    const char *name;
    const char *fns[8];
} areas[] = {
    { "pools", { "fg_pool_create", "fg_resolve_workers", "fg_pool_workers", "fg_pool_stats",
                 "fg_pool_destroy" } },
    { "fork-join", { "fg_join", "fg_group_init", "fg_spawn", "fg_sync" } },
    { "loops", { "fg_parallel_for", "fg_parallel_reduce", "fg_parallel_for_init" } },
    { "scans", { "fg_parallel_scan", "FG_PARALLEL_SCAN's function" } },
    { "sorts", { "fg_parallel_sort", "fg_parallel_stable_sort", "FG_PARALLEL_SORT's function",
                 "fg_parallel_sort_u64", "fg_parallel_sort_i64", "fg_parallel_sort_double" } },
    { "searches", { "fg_parallel_find_first", "fg_parallel_find_any" } },
    { "the façade", { "fg_parallel_open", "fg_parallel_map", "fg_parallel_calls",
                      "fg_parallel_map_init" } },
    { "streaming results", { "fg_parallel_iter_open", "fg_parallel_iter_next",
                             "fg_parallel_iter_close" } },
};
#define NAREAS (sizeof areas / sizeof areas[0])

static int area_of(const row *r)
{
    size_t len = strcspn(r->call, "(");
    for (size_t a = 0; a < NAREAS; a++)
        for (const char *const *f = areas[a].fns; f < areas[a].fns + 8 && *f; f++)
            if (strlen(*f) == len && strncmp(r->call, *f, len) == 0)
                return (int)a;
    return -1;
}

static int row_cases(const row *r) { return r->flags & MAIN_ONLY ? 1 : 2; }

static const char *code_name(int rc) { return rc == 0 ? "0" : fg_error_name(rc); }

/* --rows: one line per row, then the totals; returns the number of cases. */
static size_t print_rows(FILE *f)
{
    size_t cases = 0, debug = 0, main_only = 0;
    for (size_t i = 0; i < NROWS; i++) {
        const row *r = &rows[i];
        fprintf(f, "%3zu  %-12s %-21s %s%s\n", i + 1, code_name(r->expect),
                r->flags & MAIN_ONLY ? "main thread" : "main thread, worker", r->call,
                r->flags & DEBUG_ONLY ? "  [debug builds only]" : "");
        cases += (size_t)row_cases(r);
        debug += r->flags & DEBUG_ONLY ? 1 : 0;
        main_only += r->flags & MAIN_ONLY ? 1 : 0;
    }
#ifdef NDEBUG
    fprintf(f, "%zu rows (NDEBUG: the rows for debug builds only are compiled out), "
               "%zu from the main thread only; %zu cases\n", NROWS, main_only, cases);
    (void)debug;
#else
    fprintf(f, "%zu rows (%zu for debug builds only), %zu from the main thread only; "
               "%zu cases\n", NROWS, debug, main_only, cases);
#endif
    return cases;
}

static void print_counts(FILE *f, const size_t n[4])
{
    fprintf(f, " | %zu | %zu | %zu | %zu |\n", n[0], n[1], n[2], n[3]);
}

/* --areas: the counts by area, as a Markdown table. */
static void print_areas(FILE *f)
{
    size_t n[NAREAS + 1][4] = { { 0 } }; /* rows, debug only, main thread only, cases */
    for (size_t i = 0; i < NROWS; i++) {
        int a = area_of(&rows[i]);
        size_t k = a < 0 ? NAREAS : (size_t)a;
        n[k][0]++;
        n[k][1] += rows[i].flags & DEBUG_ONLY ? 1 : 0;
        n[k][2] += rows[i].flags & MAIN_ONLY ? 1 : 0;
        n[k][3] += (size_t)row_cases(&rows[i]);
    }
    fprintf(f, "| area | functions | rows | debug builds only | main thread only | cases |\n"
               "|---|---|--:|--:|--:|--:|\n");
    for (size_t a = 0; a < NAREAS; a++) {
        fprintf(f, "| %s |", areas[a].name);
        for (const char *const *fn = areas[a].fns; fn < areas[a].fns + 8 && *fn; fn++)
            fprintf(f, " `%s`", *fn);
        print_counts(f, n[a]);
    }
    if (n[NAREAS][0] > 0) {
        fprintf(f, "| (no area) |");
        print_counts(f, n[NAREAS]);
    }
    size_t all[4] = { NROWS, 0, 0, 0 };
    for (size_t a = 0; a <= NAREAS; a++)
        for (int k = 1; k < 4; k++)
            all[k] += n[a][k];
    fprintf(f, "| all |");
    print_counts(f, all);
}

/* A new function's rows need an area, or --areas counts them as "(no area)". */
Test(badinput, every_row_has_an_area)
{
    for (size_t i = 0; i < NROWS; i++)
        cr_expect(area_of(&rows[i]) >= 0, "%s: its function is in no area of areas[]",
                  rows[i].call);
}

/* The table's cases Criterion ran, counted when the run ends. */
static size_t table_cases_run;

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
    for (struct criterion_suite_stats *s = stats->suites; s; s = s->next)
        for (struct criterion_test_stats *t = s->tests; t; t = t->next)
            if (strcmp(t->test->category, "badinput") == 0 && strcmp(t->test->name, "table") == 0
                && t->test_status != CR_STATUS_SKIPPED)
                table_cases_run++;
}

/* Criterion's main, with --rows and --areas in front, and the check that
 * a run of the table ran every case the list names (none when filtered
 * out). */
int main(int argc, char *argv[])
{
    if (argc == 2 && strcmp(argv[1], "--rows") == 0)
        return print_rows(stdout) > 0 ? 0 : 1;
    if (argc == 2 && strcmp(argv[1], "--areas") == 0) {
        print_areas(stdout);
        return 0;
    }
    struct criterion_test_set *tests = criterion_initialize();
    int rc = 0;
    if (criterion_handle_args(argc, argv, true))
        rc = !criterion_run_all_tests(tests);
    else
        printf("    --rows: prints the bad-input table, a row a line (no tests run)\n"
               "    --areas: counts the rows by API area, as a Markdown table (no tests run)\n");
    criterion_finalize(tests);
    FILE *null = fopen("/dev/null", "w");
    size_t listed = null ? print_rows(null) : 0;
    if (null)
        fclose(null);
    if (table_cases_run > 0 && table_cases_run != listed) {
        fprintf(stderr, "unit-badinput: --rows lists %zu cases but Criterion ran %zu of "
                        "badinput/table\n", listed, table_cases_run);
        rc = 1;
    }
    return rc;
}
