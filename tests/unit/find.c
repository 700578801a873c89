/* tests/unit/find.c: fg_parallel_find_first and fg_parallel_find_any
 * (facade/find.c): exact answers, each index below the answer checked
 * exactly once, the bound on checks above it, not found, empty ranges,
 * ranges at the top of size_t, calls from inside a task. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "forage.h"
#include "pools.h"

TestSuite(find, .timeout = 60);

static fg_pool *pool_of(int workers)
{
    return pool_with(FG_CONFIG(.workers = workers, .seed = 11));
}

/* Hits are given as a sorted list; every check is counted per index. */
typedef struct search {
    size_t base, n;          /* counts cover [base, base + n) */
    const size_t *hits;
    size_t nhits;
    _Atomic uint32_t *checks;
    _Atomic size_t total;
} search;

static int pred(size_t i, void *ctx)
{
    search *s = ctx;
    atomic_fetch_add(&s->checks[i - s->base], 1);
    atomic_fetch_add(&s->total, 1);
    for (size_t k = 0; k < s->nhits; k++)
        if (s->hits[k] == i)
            return 1;
    return 0;
}

static search *search_new(size_t base, size_t n, const size_t *hits, size_t nhits)
{
    search *s = calloc(1, sizeof *s);
    s->base = base;
    s->n = n;
    s->hits = hits;
    s->nhits = nhits;
    s->checks = calloc(n > 0 ? n : 1, sizeof *s->checks);
    return s;
}

static void search_free(search *s)
{
    free(s->checks);
    free(s);
}

/* Below the answer: every index exactly once; above it, at most once.  How
 * many are checked above it depends on timing (a runner preempted before
 * its hit lets the others sweep on): examples/find_demo.c prints it. */
static void check_first(search *s, size_t begin, size_t answer)
{
    for (size_t i = begin; i <= answer && i - s->base < s->n; i++)
        cr_assert_eq(atomic_load(&s->checks[i - s->base]), 1, "index %zu checked %u times", i,
                     atomic_load(&s->checks[i - s->base]));
    for (size_t i = answer + 1; i - s->base < s->n; i++)
        cr_assert_leq(atomic_load(&s->checks[i - s->base]), 1);
}

ParameterizedTestParameters(find, first_lowest_hit)
{
    static int workers[] = { 1, 2, 3, 4 };
    return cr_make_param_array(int, workers, sizeof workers / sizeof workers[0]);
}

ParameterizedTest(int *workers, find, first_lowest_hit)
{
    fg_pool *pool = pool_of(*workers);
    static const size_t hits[] = { 70001, 70002, 150000, 299999 };
    search *s = search_new(0, 300000, hits, 4);
    size_t index = 0;
    cr_assert_eq(fg_parallel_find_first(pool, 0, 300000, pred, s, &index), 0);
    cr_assert_eq(index, 70001);
    check_first(s, 0, 70001);
    if (*workers == 1)
        cr_assert_eq(atomic_load(&s->total), 70002, "one worker checks 0..70001 and stops");
    search_free(s);
    fg_pool_destroy(pool);
}

Test(find, first_at_the_very_start_and_end)
{
    fg_pool *pool = pool_of(2);
    static const size_t first[] = { 1000 }, last[] = { 99999 };
    search *s = search_new(1000, 99000, first, 1);
    size_t index = 0;
    cr_assert_eq(fg_parallel_find_first(pool, 1000, 100000, pred, s, &index), 0);
    cr_assert_eq(index, 1000);
    cr_assert_eq(atomic_load(&s->checks[0]), 1);
    search_free(s);
    s = search_new(1000, 99000, last, 1);
    cr_assert_eq(fg_parallel_find_first(pool, 1000, 100000, pred, s, &index), 0);
    cr_assert_eq(index, 99999);
    check_first(s, 1000, 99999);
    cr_assert_eq(atomic_load(&s->total), 99000, "every index checked once");
    search_free(s);
    fg_pool_destroy(pool);
}

Test(find, not_found_gives_end_and_checks_everything_once)
{
    fg_pool *pool = pool_of(3);
    search *s = search_new(5, 50000, NULL, 0);
    size_t index = 0;
    cr_assert_eq(fg_parallel_find_first(pool, 5, 50005, pred, s, &index), 0);
    cr_assert_eq(index, 50005);
    for (size_t i = 0; i < 50000; i++)
        cr_assert_eq(atomic_load(&s->checks[i]), 1);
    atomic_store(&s->total, 0);
    for (size_t i = 0; i < 50000; i++)
        atomic_store(&s->checks[i], 0);
    cr_assert_eq(fg_parallel_find_any(pool, 5, 50005, pred, s, &index), 0);
    cr_assert_eq(index, 50005);
    cr_assert_eq(atomic_load(&s->total), 50000);
    search_free(s);
    fg_pool_destroy(pool);
}

Test(find, empty_range_checks_nothing)
{
    fg_pool *pool = pool_of(2);
    search *s = search_new(0, 1, NULL, 0);
    size_t index = 1;
    cr_assert_eq(fg_parallel_find_first(pool, 7, 7, pred, s, &index), 0);
    cr_assert_eq(index, 7);
    index = 1;
    cr_assert_eq(fg_parallel_find_any(pool, SIZE_MAX, SIZE_MAX, pred, s, &index), 0);
    cr_assert_eq(index, SIZE_MAX);
    cr_assert_eq(atomic_load(&s->total), 0);
    search_free(s);
    fg_pool_destroy(pool);
}

Test(find, any_returns_a_hit_and_stops)
{
    fg_pool *pool = pool_of(4);
    static const size_t hits[] = { 12345, 200000 };
    search *s = search_new(0, 400000, hits, 2);
    size_t index = 0;
    cr_assert_eq(fg_parallel_find_any(pool, 0, 400000, pred, s, &index), 0);
    cr_assert(index == 12345 || index == 200000, "index %zu", index);
    for (size_t i = 0; i < 400000; i++)
        cr_assert_leq(atomic_load(&s->checks[i]), 1);
    search_free(s);
    fg_pool_destroy(pool);
}

Test(find, any_on_one_worker_is_the_first)
{
    fg_pool *pool = pool_of(1);
    static const size_t hits[] = { 9000, 9001 };
    search *s = search_new(0, 20000, hits, 2);
    size_t index = 0;
    cr_assert_eq(fg_parallel_find_any(pool, 0, 20000, pred, s, &index), 0);
    cr_assert_eq(index, 9000);
    cr_assert_eq(atomic_load(&s->total), 9001);
    search_free(s);
    fg_pool_destroy(pool);
}

/* Short ranges (chunks shorter than FG_FIND_CHUNK): every length from 0
 * to 200 on 3 workers, against a plain loop, for first and any. */
static int multiple_of_7_above_40(size_t i, void *ctx)
{
    atomic_fetch_add((_Atomic size_t *)ctx, 1);
    return i > 40 && i % 7 == 0;
}

Test(find, short_ranges_every_length)
{
    fg_pool *pool = pool_of(3);
    for (size_t len = 0; len <= 200; len++) {
        size_t want = 10 + len;
        for (size_t i = 10; i < 10 + len; i++)
            if (i > 40 && i % 7 == 0) {
                want = i;
                break;
            }
        _Atomic size_t calls = 0;
        size_t got = 0;
        cr_assert_eq(fg_parallel_find_first(pool, 10, 10 + len, multiple_of_7_above_40,
                                            (void *)&calls, &got), 0);
        cr_assert_eq(got, want, "length %zu: %zu, want %zu", len, got, want);
        cr_assert_geq(atomic_load(&calls), want - 10 + (want < 10 + len), "length %zu", len);
        cr_assert_leq(atomic_load(&calls), len);
        cr_assert_eq(fg_parallel_find_any(pool, 10, 10 + len, multiple_of_7_above_40,
                                          (void *)&calls, &got), 0);
        cr_assert(got == 10 + len ? want == 10 + len : (got > 40 && got % 7 == 0 &&
                                                       got < 10 + len),
                  "any, length %zu: %zu", len, got);
    }
    fg_pool_destroy(pool);
}

/* A long predicate asks fg_cancelled(): index 0 is the hit, and returns
 * only once index 2 (the other runner's chunk: 64 indices on 2 workers
 * give chunks of 2) has started; that predicate must then be told. */
typedef struct told { atomic_int started, told, gave_up; } told;

static int wait_for_cancel(size_t i, void *ctx)
{
    told *t = ctx;
    struct timespec pause = { 0, 1000 * 1000 };
    if (i == 0) {
        for (int k = 0; k < 5000 && !atomic_load(&t->started); k++)
            nanosleep(&pause, NULL);
        return 1;
    }
    if (i == 2) {
        atomic_store(&t->started, 1);
        for (int k = 0; k < 5000; k++) {
            if (fg_cancelled()) {
                atomic_store(&t->told, 1);
                return 0;
            }
            nanosleep(&pause, NULL);
        }
        atomic_store(&t->gave_up, 1);
    }
    return 0;
}

Test(find, predicates_past_the_hit_are_told)
{
    fg_pool *pool = pool_of(2);
    for (int any = 0; any < 2; any++) {
        told t = { 0, 0, 0 };
        size_t at = 99;
        int rc = any ? fg_parallel_find_any(pool, 0, 64, wait_for_cancel, &t, &at)
                     : fg_parallel_find_first(pool, 0, 64, wait_for_cancel, &t, &at);
        cr_assert_eq(rc, 0);
        cr_assert_eq(at, 0);
        cr_assert_eq(atomic_load(&t.started), 1, "%s: index 2 never started", any ? "any" : "first");
        cr_assert_eq(atomic_load(&t.told), 1, "%s: index 2 was not told", any ? "any" : "first");
        cr_assert_eq(atomic_load(&t.gave_up), 0);
        cr_assert_eq(fg_cancelled(), 0, "no scope left behind on the caller");
    }
    fg_pool_destroy(pool);
}

/* A short chunk at the top of size_t: no overflow in the chunk bounds. */
Test(find, range_at_the_top_of_size_t)
{
    fg_pool *pool = pool_of(2);
    static const size_t hits[] = { SIZE_MAX - 3 };
    size_t base = SIZE_MAX - FG_FIND_CHUNK - 10;
    search *s = search_new(base, FG_FIND_CHUNK + 10, hits, 1);
    size_t index = 0;
    cr_assert_eq(fg_parallel_find_first(pool, base, SIZE_MAX, pred, s, &index), 0);
    cr_assert_eq(index, SIZE_MAX - 3);
    check_first(s, base, SIZE_MAX - 3);
    search_free(s);
    fg_pool_destroy(pool);
}

/* From inside a task, on the task's own pool: same answer, no deadlock. */
typedef struct nested { fg_pool *pool; search *s; size_t index; int rc; } nested;

static int nested_task(void *p)
{
    nested *n = p;
    n->rc = fg_parallel_find_first(n->pool, 0, 100000, pred, n->s, &n->index);
    return 0;
}

static int nothing(void *p)
{
    (void)p;
    return 0;
}

Test(find, from_a_worker)
{
    fg_pool *pool = pool_of(2);
    static const size_t hits[] = { 54321 };
    nested n = { pool, search_new(0, 100000, hits, 1), 0, -1 };
    cr_assert_eq(fg_join(pool, nested_task, &n, nothing, NULL), 0);
    cr_assert_eq(n.rc, 0);
    cr_assert_eq(n.index, 54321);
    check_first(n.s, 0, 54321);
    search_free(n.s);
    fg_pool_destroy(pool);
}
