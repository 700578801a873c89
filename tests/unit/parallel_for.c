/* tests/unit/parallel_for.c: fg_parallel_for and fg_parallel_reduce
 * (runtime/parallel_for.c): every index exactly once, chunk geometry per
 * partition mode, argument errors, body errors stopping the loop, reductions
 * in index order, nesting, concurrent callers, a large loop.
 *
 * Criterion asserts only on the test's main thread: bodies record what they
 * saw in C11 atomics and the main thread checks after the loop returned
 * (fg_parallel_for's return orders every chunk's effects before it). */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forage.h"
#include "pools.h"

static int noop(void *arg)
{
    (void)arg;
    return 0;
}

static const char *const mode_name[] = { "AUTO", "SIMPLE", "STATIC" };
static const int pool_sizes[] = { 1, 2, 4 };
enum { NPOOLS = 3, NMODES = 3 };

TestSuite(parallel_for, .timeout = 60);

/* ------------------------------------------------------------- visiting */

typedef struct chunk {
    size_t begin, end;
} chunk;

#define NO_FAIL SIZE_MAX

/* What a fg_parallel_for over [begin, end) with visit_body saw. */
typedef struct visit {
    size_t begin, end;        /* the loop's range */
    int workers;              /* of the pool the loop runs on */
    atomic_uint *hits;        /* hits[i - begin]: chunks that covered index i */
    chunk *chunks;            /* in start order */
    size_t cap;               /* room in chunks: end - begin (chunks are never empty) */
    atomic_size_t nchunks;    /* chunks started */
    atomic_size_t bad_range;  /* chunks empty or outside [begin, end) */
    atomic_size_t bad_thread; /* chunks run off the pool's workers */
    size_t fail_at[2];        /* the chunk holding fail_at[f] returns fail_code[f] */
    int fail_code[2];
    unsigned spin;            /* busy iterations per chunk that does not fail */
} visit;

static visit *visit_new(size_t begin, size_t end, int workers)
{
    visit *v = calloc(1, sizeof *v);
    cr_assert_not_null(v);
    size_t len = end - begin;
    v->begin = begin;
    v->end = end;
    v->workers = workers;
    v->cap = len > 0 ? len : 1;
    v->hits = calloc(v->cap, sizeof *v->hits);
    v->chunks = calloc(v->cap, sizeof *v->chunks);
    cr_assert(v->hits != NULL && v->chunks != NULL);
    for (size_t i = 0; i < v->cap; i++)
        atomic_init(&v->hits[i], 0);
    atomic_init(&v->nchunks, 0);
    atomic_init(&v->bad_range, 0);
    atomic_init(&v->bad_thread, 0);
    v->fail_at[0] = v->fail_at[1] = NO_FAIL;
    return v;
}

static void visit_free(visit *v)
{
    free(v->hits);
    free(v->chunks);
    free(v);
}

static int visit_body(size_t b, size_t e, void *ctx)
{
    visit *v = ctx;
    if (b >= e || b < v->begin || e > v->end) {
        atomic_fetch_add(&v->bad_range, 1);
        return 0;
    }
    int w = fg_worker_index();
    if (w < 0 || w >= v->workers)
        atomic_fetch_add(&v->bad_thread, 1);
    size_t k = atomic_fetch_add(&v->nchunks, 1);
    if (k < v->cap)
        v->chunks[k] = (chunk){ b, e };
    for (size_t i = b; i < e; i++)
        atomic_fetch_add_explicit(&v->hits[i - v->begin], 1, memory_order_relaxed);
    for (int f = 0; f < 2; f++)
        if (v->fail_at[f] >= b && v->fail_at[f] < e)
            return v->fail_code[f];
    for (volatile unsigned i = 0; i < v->spin; i++)
        ;
    return 0;
}

static unsigned hits_at(const visit *v, size_t i)
{
    return atomic_load_explicit(&v->hits[i - v->begin], memory_order_relaxed);
}

/* No stray chunk; each index of [begin, end) seen exactly `want` times. */
static void check_every_index(const visit *v, unsigned want, const char *what)
{
    cr_assert_eq(atomic_load(&v->bad_range), 0, "%s: %zu chunks outside the range", what,
                 atomic_load(&v->bad_range));
    cr_assert_eq(atomic_load(&v->bad_thread), 0, "%s: %zu chunks ran off the pool", what,
                 atomic_load(&v->bad_thread));
    cr_assert(atomic_load(&v->nchunks) <= v->cap, "%s: %zu chunks for %zu indices", what,
              atomic_load(&v->nchunks), v->end - v->begin);
    for (size_t i = v->begin; i < v->end; i++)
        if (hits_at(v, i) != want)
            cr_assert_fail("%s: index %zu visited %u times, want %u", what, i, hits_at(v, i),
                           want);
}

static int chunk_cmp(const void *a, const void *b)
{
    const chunk *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* Sort the chunks and check the documented geometry: they tile [begin, end)
 * with no gap or overlap, each at least grain long unless the range is
 * shorter than grain, in which case it is one chunk.  Returns the count. */
static size_t check_tiling(visit *v, size_t grain, const char *what)
{
    size_t n = atomic_load(&v->nchunks), len = v->end - v->begin;
    cr_assert(n >= 1 && n <= v->cap, "%s: %zu chunks", what, n);
    qsort(v->chunks, n, sizeof *v->chunks, chunk_cmp);
    cr_assert_eq(v->chunks[0].begin, v->begin, "%s: first chunk starts at %zu", what,
                 v->chunks[0].begin);
    for (size_t k = 0; k + 1 < n; k++)
        if (v->chunks[k].end != v->chunks[k + 1].begin)
            cr_assert_fail("%s: chunk [%zu, %zu) then [%zu, %zu): %s", what, v->chunks[k].begin,
                           v->chunks[k].end, v->chunks[k + 1].begin, v->chunks[k + 1].end,
                           v->chunks[k].end < v->chunks[k + 1].begin ? "gap" : "overlap");
    cr_assert_eq(v->chunks[n - 1].end, v->end, "%s: last chunk ends at %zu", what,
                 v->chunks[n - 1].end);
    if (len < grain) {
        cr_assert_eq(n, 1, "%s: range of %zu < grain %zu ran as %zu chunks", what, len, grain, n);
    } else {
        for (size_t k = 0; k < n; k++)
            if (v->chunks[k].end - v->chunks[k].begin < grain)
                cr_assert_fail("%s: chunk [%zu, %zu) shorter than grain %zu", what,
                               v->chunks[k].begin, v->chunks[k].end, grain);
    }
    return n;
}

/* SIMPLE halves at the midpoint while both halves keep >= grain indices. */
static size_t simple_chunks(size_t len, size_t grain)
{
    if (len / 2 < grain)
        return 1;
    return simple_chunks(len / 2, grain) + simple_chunks(len - len / 2, grain);
}

/* The partition-specific rules on top of check_tiling; v's chunks are sorted. */
static void check_mode_geometry(const visit *v, int mode, size_t grain, size_t n,
                                const char *what)
{
    size_t len = v->end - v->begin;
    if (mode == FG_PARTITION_SIMPLE) {
        cr_assert_eq(n, simple_chunks(len, grain), "%s: %zu chunks, want %zu", what, n,
                     simple_chunks(len, grain));
        if (len >= grain)
            for (size_t k = 0; k < n; k++) {
                size_t l = v->chunks[k].end - v->chunks[k].begin;
                if (l < grain || l >= 2 * grain)
                    cr_assert_fail("%s: chunk [%zu, %zu) of %zu not in [grain, 2*grain)", what,
                                   v->chunks[k].begin, v->chunks[k].end, l);
            }
    } else if (mode == FG_PARTITION_STATIC) {
        /* min(workers, len / grain) blocks, at least one.  The code halves
         * the block count recursively (mid = begin + len * (B/2) / B); for
         * B <= 4 (all pools here) that lands exactly on the even division
         * begin + len * k / B, so lengths differ by at most 1. */
        size_t blocks = len / grain;
        size_t want = blocks < (size_t)v->workers ? (blocks > 0 ? blocks : 1) : (size_t)v->workers;
        cr_assert_eq(n, want, "%s: %zu blocks, want %zu", what, n, want);
        size_t lo = SIZE_MAX, hi = 0;
        for (size_t k = 0; k < n; k++) {
            size_t at = v->begin + (size_t)((unsigned __int128)len * k / n);
            cr_assert_eq(v->chunks[k].begin, at, "%s: block %zu starts at %zu, want %zu", what,
                         k, v->chunks[k].begin, at);
            size_t l = v->chunks[k].end - v->chunks[k].begin;
            lo = l < lo ? l : lo;
            hi = l > hi ? l : hi;
        }
        cr_assert(hi - lo <= 1, "%s: block lengths from %zu to %zu", what, lo, hi);
    }
}

static size_t grain_value(int g, size_t len)
{
    switch (g) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 7;
    case 3: return 1000;
    case 4: return len;
    default: return len + 5;
    }
}
enum { NGRAINS = 6 };

static const chunk ranges[] = {
    { 3, 100003 }, /* odd length 100000 from a non-zero begin */
    { 5, 6 },      /* one index */
    { 7, 20 },     /* 13 */
    { 1000, 1999 },/* 999 */
};
enum { NRANGES = sizeof ranges / sizeof ranges[0] };

/* Every pool size x grain x range for one mode, from the main thread. */
static void run_matrix(int mode, bool geometry)
{
    for (int pi = 0; pi < NPOOLS; pi++) {
        fg_pool *p = pool_new(pool_sizes[pi]);
        for (int ri = 0; ri < NRANGES; ri++) {
            size_t b = ranges[ri].begin, e = ranges[ri].end;
            for (int gi = 0; gi < NGRAINS; gi++) {
                size_t grain = grain_value(gi, e - b);
                char what[128];
                snprintf(what, sizeof what, "%s grain %zu on %d workers over [%zu, %zu)",
                         mode_name[mode], grain, pool_sizes[pi], b, e);
                visit *v = visit_new(b, e, pool_sizes[pi]);
                fg_for_opts o = FG_FOR_OPTS_INIT(.grain = grain, .partition = mode);
                int err = fg_parallel_for(p, b, e, &o, visit_body, v);
                cr_assert_eq(err, 0, "%s: returned %d", what, err);
                check_every_index(v, 1, what);
                if (geometry) {
                    size_t n = check_tiling(v, grain != 0 ? grain : 1, what);
                    check_mode_geometry(v, mode, grain != 0 ? grain : 1, n, what);
                }
                visit_free(v);
            }
        }
        fg_pool_destroy(p);
    }
}

/* FG_PARALLEL_FOR (forage.h): the inline form, SIMPLE's geometry. */
FG_PARALLEL_FOR(visit_inline, visit_body)

Test(parallel_for, inline_form_geometry_simple)
{
    for (int pi = 0; pi < NPOOLS; pi++) {
        fg_pool *p = pool_new(pool_sizes[pi]);
        for (int ri = 0; ri < NRANGES; ri++) {
            size_t b = ranges[ri].begin, e = ranges[ri].end;
            for (int gi = 0; gi < NGRAINS; gi++) {
                size_t grain = grain_value(gi, e - b);
                char what[128];
                snprintf(what, sizeof what, "inline grain %zu on %d workers over [%zu, %zu)",
                         grain, pool_sizes[pi], b, e);
                visit *v = visit_new(b, e, pool_sizes[pi]);
                int err = visit_inline(p, b, e, FG_FOR_OPTS(.grain = grain), v);
                cr_assert_eq(err, 0, "%s: returned %d", what, err);
                check_every_index(v, 1, what);
                size_t n = check_tiling(v, grain != 0 ? grain : 1, what);
                check_mode_geometry(v, FG_PARTITION_SIMPLE, grain != 0 ? grain : 1, n, what);
                visit_free(v);
            }
        }
        fg_pool_destroy(p);
    }
}

/* Below its eager top, FG_PARALLEL_FOR walks a span's halving tree in a
 * loop and spawns a pending half only when a thief asks: 2^18 one-index
 * chunks that spin, on 2 and 4 workers, so thieves ask while owners are in
 * such loops.  Every index once, and exactly SIMPLE's chunks. */
Test(parallel_for, inline_form_lazy_splits_keep_the_geometry)
{
    for (int workers = 2; workers <= 4; workers += 2) {
        fg_pool *p = pool_new(workers);
        size_t n = (size_t)1 << 18;
        visit *v = visit_new(0, n, workers);
        v->spin = 100;
        cr_assert_eq(visit_inline(p, 0, n, FG_FOR_OPTS(.grain = 1), v), 0);
        check_every_index(v, 1, "lazy splits");
        size_t c = check_tiling(v, 1, "lazy splits");
        check_mode_geometry(v, FG_PARTITION_SIMPLE, 1, c, "lazy splits");
        cr_assert_eq(c, n);
        cr_assert_eq(atomic_load(&v->bad_thread), 0);
        visit_free(v);
        fg_pool_destroy(p);
    }
}

/* On one worker the inline form runs chunks in index order, so a failing
 * first index stops every other chunk, in the eager top and in the lazy
 * loops alike: exactly one chunk runs. */
Test(parallel_for, inline_form_first_index_fails_one_chunk_runs)
{
    fg_pool *p = pool_new(1);
    size_t n = (size_t)1 << 20;
    visit *v = visit_new(0, n, 1);
    v->fail_at[0] = 0;
    v->fail_code[0] = 5;
    cr_assert_eq(visit_inline(p, 0, n, FG_FOR_OPTS(.grain = 1), v), 5);
    cr_assert_eq(atomic_load(&v->nchunks), 1);
    cr_assert_eq(hits_at(v, 0), 1);
    cr_assert_eq(hits_at(v, 1), 0);
    visit_free(v);
    fg_pool_destroy(p);
}

Test(parallel_for, inline_form_errors_cancel_and_bad_input)
{
    fg_pool *p = pool_new(2);
    visit *v = visit_new(0, 100000, 2);
    v->fail_at[0] = 77777;
    v->fail_code[0] = 9;
    cr_assert_eq(visit_inline(p, 0, 100000, FG_FOR_OPTS(.grain = 10), v), 9);
    cr_assert_eq(hits_at(v, 77777), 1);
    visit_free(v);
    fg_cancel_token t = FG_CANCEL_TOKEN_INIT;
    fg_cancel(&t);
    v = visit_new(0, 1000, 2);
    cr_assert_eq(visit_inline(p, 0, 1000, FG_FOR_OPTS(.grain = 10, .cancel = &t), v),
                 FG_ECANCELED);
    cr_assert_eq(atomic_load(&v->nchunks), 0, "cancelled before the start: nothing ran");
    cr_assert_eq(visit_inline(NULL, 0, 10, NULL, v), FG_EINVAL);
    cr_assert_eq(visit_inline(p, 10, 0, NULL, v), FG_EINVAL);
    cr_assert_eq(visit_inline(p, 0, 10, &(fg_for_opts){ 0 }, v), FG_ESIZE);
    cr_assert_eq(visit_inline(p, 5, 5, NULL, v), 0);
    cr_assert_eq(atomic_load(&v->nchunks), 0);
    visit_free(v);
    fg_pool_destroy(p);
}

Test(parallel_for, every_index_once_auto)   { run_matrix(FG_PARTITION_AUTO, false); }
Test(parallel_for, every_index_once_simple) { run_matrix(FG_PARTITION_SIMPLE, false); }
Test(parallel_for, every_index_once_static) { run_matrix(FG_PARTITION_STATIC, false); }

/* ------------------------------------------------------ chunk geometry */

Test(parallel_for, geometry_auto)   { run_matrix(FG_PARTITION_AUTO, true); }
Test(parallel_for, geometry_simple) { run_matrix(FG_PARTITION_SIMPLE, true); }
Test(parallel_for, geometry_static) { run_matrix(FG_PARTITION_STATIC, true); }

/* STATIC block counts 1..4 on pools of 1..4 workers (3 blocks need a grain
 * with len / grain == 3 or a 3-worker pool: the matrix has neither). */
Test(parallel_for, static_block_counts)
{
    const size_t b = 5, e = 100006, len = e - b;
    const size_t grains[] = { 1, len / 4, len / 3, len / 3 + 1, len / 2, len / 2 + 1, len };
    for (int workers = 1; workers <= 4; workers++) {
        fg_pool *p = pool_new(workers);
        for (size_t gi = 0; gi < sizeof grains / sizeof grains[0]; gi++) {
            char what[96];
            snprintf(what, sizeof what, "STATIC grain %zu on %d workers", grains[gi], workers);
            visit *v = visit_new(b, e, workers);
            fg_for_opts o = FG_FOR_OPTS_INIT(.grain = grains[gi], .partition = FG_PARTITION_STATIC);
            cr_assert_eq(fg_parallel_for(p, b, e, &o, visit_body, v), 0, "%s", what);
            check_every_index(v, 1, what);
            size_t n = check_tiling(v, grains[gi], what);
            check_mode_geometry(v, FG_PARTITION_STATIC, grains[gi], n, what);
            visit_free(v);
        }
        fg_pool_destroy(p);
    }
}

Test(parallel_for, range_at_top_of_size_t)
{
    fg_pool *p = pool_new(2);
    size_t b = SIZE_MAX - 10007, e = SIZE_MAX;
    for (int mode = 0; mode < NMODES; mode++) {
        visit *v = visit_new(b, e, 2);
        fg_for_opts o = FG_FOR_OPTS_INIT(.grain = 3, .partition = mode);
        cr_assert_eq(fg_parallel_for(p, b, e, &o, visit_body, v), 0, "%s", mode_name[mode]);
        check_every_index(v, 1, mode_name[mode]);
        size_t n = check_tiling(v, 3, mode_name[mode]);
        check_mode_geometry(v, mode, 3, n, mode_name[mode]);
        visit_free(v);
    }
    fg_pool_destroy(p);
}

/* AUTO on one worker.  docs/design/parallel_for.md: "On one worker called
 * from a non-worker thread the root counts as stolen (credit 1), splits once
 * and its halves run whole: two chunks, a plain loop's cost plus one join."
 * So for len >= 2*grain: exactly [b, b + len/2) and [b + len/2, e); for a
 * shorter range: one chunk.
 *
 * Derivation from runtime/parallel_for.c: the root span gets splits =
 * workers = 1 and worker = -1 (fg__worker_of is NULL on this thread); a
 * worker runs it, fg__span_auto_split sees me (0) != -1 and takes the
 * "stolen" branch: splits = max(1/2, 1) = 1, return true -- the credit is
 * reset but not spent.  fg__span_fork copies splits = 1 into both halves;
 * each runs on worker 0 (its creator), so it takes the normal branch:
 * splits 1 -> 0, split again when its len/2 >= grain.  The quarters have
 * credit 0 and run whole.  The code therefore yields 4 chunks whenever
 * both halves are >= 2*grain long, where the design promises 2. */
Test(parallel_for, auto_one_worker_from_main_thread_two_chunks)
{
    fg_pool *p = pool_new(1);
    static const chunk r[] = { { 3, 100003 }, { 0, 40 }, { 0, 31 }, { 10, 39 }, { 0, 19 } };
    for (size_t ri = 0; ri < sizeof r / sizeof r[0]; ri++) {
        size_t b = r[ri].begin, e = r[ri].end, len = e - b, grain = 10;
        visit *v = visit_new(b, e, 1);
        fg_for_opts o = FG_FOR_OPTS_INIT(.grain = grain, .partition = FG_PARTITION_AUTO);
        cr_assert_eq(fg_parallel_for(p, b, e, &o, visit_body, v), 0);
        check_every_index(v, 1, "AUTO, 1 worker");
        size_t n = check_tiling(v, grain, "AUTO, 1 worker");
        size_t want = len >= 2 * grain ? 2 : 1;
        cr_assert_eq(n, want, "AUTO grain %zu on 1 worker from the main thread over [%zu, %zu): "
                     "%zu chunks, want %zu", grain, b, e, n, want);
        if (want == 2)
            cr_assert_eq(v->chunks[1].begin, b + len / 2);
        visit_free(v);
    }
    fg_pool_destroy(p);
}

typedef struct in_task {
    fg_pool *pool;
    visit *v;
    fg_for_opts opts;
    int index; /* fg_worker_index() of the task */
    int result;
} in_task;

static int parallel_for_in_task(void *arg)
{
    in_task *t = arg;
    t->index = fg_worker_index();
    t->result = fg_parallel_for(t->pool, t->v->begin, t->v->end, &t->opts, visit_body, t->v);
    return 0;
}

/* From worker 0 itself the root is not stolen: credit 1 -> 0, one split,
 * halves run whole: exactly two chunks when len >= 2*grain. */
Test(parallel_for, auto_one_worker_from_worker_two_chunks)
{
    fg_pool *p = pool_new(1);
    static const chunk r[] = { { 3, 100003 }, { 0, 40 }, { 0, 31 }, { 10, 39 }, { 0, 19 } };
    for (size_t ri = 0; ri < sizeof r / sizeof r[0]; ri++) {
        size_t b = r[ri].begin, e = r[ri].end, len = e - b, grain = 10;
        in_task t = { p, visit_new(b, e, 1), FG_FOR_OPTS_INIT(.grain = grain), -2, -1 };
        cr_assert_eq(fg_join(p, parallel_for_in_task, &t, noop, NULL), 0);
        cr_assert_eq(t.index, 0);
        cr_assert_eq(t.result, 0);
        check_every_index(t.v, 1, "AUTO in a task, 1 worker");
        size_t n = check_tiling(t.v, grain, "AUTO in a task, 1 worker");
        size_t want = len >= 2 * grain ? 2 : 1;
        cr_assert_eq(n, want, "AUTO grain %zu on 1 worker from a worker over [%zu, %zu): "
                     "%zu chunks, want %zu", grain, b, e, n, want);
        if (want == 2)
            cr_assert_eq(t.v->chunks[1].begin, b + len / 2);
        visit_free(t.v);
    }
    fg_pool_destroy(p);
}

/* One worker runs depth-first, left half first: chunks start in index order. */
Test(parallel_for, one_worker_runs_chunks_in_index_order)
{
    fg_pool *p = pool_new(1);
    for (int mode = 0; mode < NMODES; mode++) {
        visit *v = visit_new(3, 10003, 1);
        fg_for_opts o = FG_FOR_OPTS_INIT(.grain = 5, .partition = mode);
        cr_assert_eq(fg_parallel_for(p, 3, 10003, &o, visit_body, v), 0);
        check_every_index(v, 1, mode_name[mode]);
        size_t n = atomic_load(&v->nchunks);
        cr_assert_eq(v->chunks[0].begin, 3);
        for (size_t k = 0; k + 1 < n; k++)
            cr_assert_eq(v->chunks[k].end, v->chunks[k + 1].begin,
                         "%s: chunk %zu [%zu, %zu) then [%zu, %zu)", mode_name[mode], k,
                         v->chunks[k].begin, v->chunks[k].end, v->chunks[k + 1].begin,
                         v->chunks[k + 1].end);
        cr_assert_eq(v->chunks[n - 1].end, 10003);
        visit_free(v);
    }
    fg_pool_destroy(p);
}

/* -------------------------------------------------- arguments, defaults */

/* NULL opts: AUTO with grain 1. */
Test(parallel_for, null_opts_means_defaults)
{
    fg_pool *p = pool_new(2);
    visit *v = visit_new(11, 54321, 2);
    cr_assert_eq(fg_parallel_for(p, 11, 54321, NULL, visit_body, v), 0);
    check_every_index(v, 1, "NULL opts");
    check_tiling(v, 1, "NULL opts");
    visit_free(v);
    fg_pool_destroy(p);

    /* One worker, from the main thread: must match explicit AUTO grain 1. */
    p = pool_new(1);
    visit *a = visit_new(11, 54321, 1), *b = visit_new(11, 54321, 1);
    cr_assert_eq(fg_parallel_for(p, 11, 54321, NULL, visit_body, a), 0);
    cr_assert_eq(fg_parallel_for(p, 11, 54321, FG_FOR_OPTS(.grain = 1), visit_body, b), 0);
    size_t na = check_tiling(a, 1, "NULL opts"), nb = check_tiling(b, 1, "AUTO grain 1");
    cr_assert_eq(na, nb);
    for (size_t k = 0; k < na; k++) {
        cr_assert_eq(a->chunks[k].begin, b->chunks[k].begin);
        cr_assert_eq(a->chunks[k].end, b->chunks[k].end);
    }
    visit_free(a);
    visit_free(b);
    fg_pool_destroy(p);
}

/* -------------------------------------------------------------- errors */

/* The chunk holding k returns 42: the loop returns 42, that chunk ran, no
 * index ran twice.  On one worker chunks start in index order and nothing
 * starts after the failure, so exactly the prefix up to the end of k's
 * chunk was visited. */
Test(parallel_for, error_at_first_middle_last_index)
{
    size_t b = 3, e = 100003;
    size_t ks[] = { b, b + (e - b) / 2, e - 1 };
    size_t grains[] = { 1, 7 };
    for (int pi = 0; pi < NPOOLS; pi++) {
        int workers = pool_sizes[pi];
        fg_pool *p = pool_new(workers);
        for (int mode = 0; mode < NMODES; mode++)
            for (int gi = 0; gi < 2; gi++)
                for (int ki = 0; ki < 3; ki++) {
                    char what[128];
                    snprintf(what, sizeof what, "%s grain %zu on %d workers, index %zu fails",
                             mode_name[mode], grains[gi], workers, ks[ki]);
                    visit *v = visit_new(b, e, workers);
                    v->fail_at[0] = ks[ki];
                    v->fail_code[0] = 42;
                    fg_for_opts o = FG_FOR_OPTS_INIT(.grain = grains[gi], .partition = mode);
                    int err = fg_parallel_for(p, b, e, &o, visit_body, v);
                    cr_assert_eq(err, 42, "%s: returned %d", what, err);
                    cr_assert_eq(hits_at(v, ks[ki]), 1, "%s: its chunk ran %u times", what,
                                 hits_at(v, ks[ki]));
                    cr_assert_eq(atomic_load(&v->bad_range), 0, "%s", what);
                    for (size_t i = b; i < e; i++)
                        if (hits_at(v, i) > 1)
                            cr_assert_fail("%s: index %zu ran %u times", what, i, hits_at(v, i));
                    if (workers == 1) {
                        size_t n = atomic_load(&v->nchunks);
                        size_t last_end = v->chunks[n - 1].end;
                        cr_assert(v->chunks[n - 1].begin <= ks[ki] && ks[ki] < last_end,
                                  "%s: last chunk started [%zu, %zu)", what,
                                  v->chunks[n - 1].begin, last_end);
                        for (size_t i = b; i < e; i++)
                            if (hits_at(v, i) != (i < last_end ? 1u : 0u))
                                cr_assert_fail("%s: index %zu ran %u times, failing chunk ends "
                                               "at %zu", what, i, hits_at(v, i), last_end);
                    }
                    visit_free(v);
                }
        fg_pool_destroy(p);
    }
}

/* SIMPLE grain 1 on one worker: the root's left-most descent pushes every
 * right half and reaches chunk [0, 1) first; it fails, and every right half
 * popped afterwards sees loop.error in fg__span_run and skips.  Exactly one
 * chunk starts out of 100000. */
Test(parallel_for, first_index_fails_one_worker_starts_one_chunk)
{
    fg_pool *p = pool_new(1);
    visit *v = visit_new(0, 100000, 1);
    v->fail_at[0] = 0;
    v->fail_code[0] = 42;
    fg_for_opts o = FG_FOR_OPTS_INIT(.grain = 1, .partition = FG_PARTITION_SIMPLE);
    cr_assert_eq(fg_parallel_for(p, 0, 100000, &o, visit_body, v), 42);
    cr_assert_eq(atomic_load(&v->nchunks), 1, "%zu chunks started", atomic_load(&v->nchunks));
    cr_assert_eq(v->chunks[0].begin, 0);
    cr_assert_eq(v->chunks[0].end, 1);
    for (size_t i = 1; i < 100000; i++)
        if (hits_at(v, i) != 0)
            cr_assert_fail("index %zu ran after the failure", i);
    visit_free(v);
    fg_pool_destroy(p);
}

/* Two workers, SIMPLE grain 1 over 100000 indices (100000 chunks), chunk 0
 * fails.  The worker that takes the loop reaches chunk 0 after 17 splits;
 * the other one must wake, steal and descend, and every chunk that does not
 * fail spins ~1000 iterations.  For all 100000 chunks to start, the first
 * worker would have to stall for the time the second needs to run the other
 * 99999 (tenths of a second) inside the microseconds between its first
 * push and chunk 0; short of that, some span sees loop.error and skips. */
Test(parallel_for, first_index_fails_two_workers_stops_the_rest)
{
    fg_pool *p = pool_new(2);
    visit *v = visit_new(0, 100000, 2);
    v->fail_at[0] = 0;
    v->fail_code[0] = 42;
    v->spin = 1000;
    fg_for_opts o = FG_FOR_OPTS_INIT(.grain = 1, .partition = FG_PARTITION_SIMPLE);
    cr_assert_eq(fg_parallel_for(p, 0, 100000, &o, visit_body, v), 42);
    size_t started = atomic_load(&v->nchunks);
    cr_assert_eq(hits_at(v, 0), 1);
    cr_assert(started >= 1 && started < 100000, "%zu of 100000 chunks started", started);
    for (size_t i = 0; i < 100000; i++)
        if (hits_at(v, i) > 1)
            cr_assert_fail("index %zu ran %u times", i, hits_at(v, i));
    visit_free(v);
    fg_pool_destroy(p);
}

/* Two failing chunks on one worker: index 10 (-> 5) runs before index 90000
 * (-> 6) and stops the loop, so 5 is returned, exactly chunks [0,1) ..
 * [10,11) started, in that order, and 90000 never ran. */
Test(parallel_for, two_errors_one_worker_first_in_index_order)
{
    fg_pool *p = pool_new(1);
    visit *v = visit_new(0, 100000, 1);
    v->fail_at[0] = 10;
    v->fail_code[0] = 5;
    v->fail_at[1] = 90000;
    v->fail_code[1] = 6;
    fg_for_opts o = FG_FOR_OPTS_INIT(.grain = 1, .partition = FG_PARTITION_SIMPLE);
    cr_assert_eq(fg_parallel_for(p, 0, 100000, &o, visit_body, v), 5);
    cr_assert_eq(atomic_load(&v->nchunks), 11, "%zu chunks started", atomic_load(&v->nchunks));
    for (size_t k = 0; k < 11; k++) {
        cr_assert_eq(v->chunks[k].begin, k, "chunk %zu started at %zu", k, v->chunks[k].begin);
        cr_assert_eq(v->chunks[k].end, k + 1);
    }
    cr_assert_eq(hits_at(v, 90000), 0);
    visit_free(v);
    fg_pool_destroy(p);
}

/* ------------------------------------------------------------- reduce */

typedef struct rstats {
    atomic_size_t chunks;   /* bodies run */
    atomic_size_t combines; /* combine calls */
    atomic_size_t dirty;    /* bodies whose partial was not the identity on entry */
    atomic_size_t bad;      /* combine or body saw something impossible */
    size_t fail_at;         /* the chunk holding it returns fail_code */
    int fail_code;
} rstats;

static void rstats_init(rstats *s)
{
    atomic_init(&s->chunks, 0);
    atomic_init(&s->combines, 0);
    atomic_init(&s->dirty, 0);
    atomic_init(&s->bad, 0);
    s->fail_at = NO_FAIL;
    s->fail_code = 0;
}

static int sum_body(size_t b, size_t e, void *partial, void *ctx)
{
    rstats *s = ctx;
    atomic_fetch_add(&s->chunks, 1);
    uint64_t *acc = partial;
    if (*acc != 0)
        atomic_fetch_add(&s->dirty, 1);
    uint64_t sum = 0;
    for (size_t i = b; i < e; i++)
        sum += i;
    *acc += sum;
    return s->fail_at >= b && s->fail_at < e ? s->fail_code : 0;
}

static void sum_combine(void *left, const void *right, void *ctx)
{
    rstats *s = ctx;
    atomic_fetch_add(&s->combines, 1);
    *(uint64_t *)left += *(const uint64_t *)right;
}

Test(parallel_for, reduce_sum_all_modes_grains_pools)
{
    const size_t n = 100003;
    const uint64_t want = (uint64_t)n * (n - 1) / 2;
    const uint64_t zero = 0;
    for (int pi = 0; pi < NPOOLS; pi++) {
        fg_pool *p = pool_new(pool_sizes[pi]);
        for (int mode = 0; mode < NMODES; mode++)
            for (int gi = 0; gi < NGRAINS; gi++) {
                size_t grain = grain_value(gi, n);
                rstats s;
                rstats_init(&s);
                uint64_t result = 12345;
                fg_for_opts o = FG_FOR_OPTS_INIT(.grain = grain, .partition = mode);
                int err = fg_parallel_reduce(p, 0, n, &o, sizeof result, &zero, sum_body,
                                             sum_combine, &s, &result);
                cr_assert_eq(err, 0, "%s grain %zu on %d workers: %d", mode_name[mode], grain,
                             pool_sizes[pi], err);
                cr_assert_eq(result, want, "%s grain %zu on %d workers: sum %llu, want %llu",
                             mode_name[mode], grain, pool_sizes[pi],
                             (unsigned long long)result, (unsigned long long)want);
                cr_assert_eq(atomic_load(&s.dirty), 0);
                cr_assert_eq(atomic_load(&s.combines) + 1, atomic_load(&s.chunks),
                             "%zu combines for %zu chunks", atomic_load(&s.combines),
                             atomic_load(&s.chunks));
            }
        fg_pool_destroy(p);
    }
}

/* A non-commutative, associative fold: the covered index interval.  count 0
 * is the empty interval (the identity); merging checks adjacency. */
typedef struct interval {
    uint64_t first, last, count, ok;
} interval;

static const interval interval_identity = { 0xdeadbeefu, 0xfeedfaceu, 0, 1 };

static void interval_merge(interval *l, const interval *r)
{
    if (r->count == 0)
        return;
    if (l->count == 0) {
        *l = *r;
        return;
    }
    l->ok = l->ok && r->ok && l->last + 1 == r->first;
    l->last = r->last;
    l->count += r->count;
}

static int interval_body(size_t b, size_t e, void *partial, void *ctx)
{
    rstats *s = ctx;
    atomic_fetch_add(&s->chunks, 1);
    if (memcmp(partial, &interval_identity, sizeof interval_identity) != 0)
        atomic_fetch_add(&s->dirty, 1);
    interval c = { b, e - 1, e - b, 1 };
    interval_merge(partial, &c);
    return s->fail_at >= b && s->fail_at < e ? s->fail_code : 0;
}

static void interval_combine(void *left, const void *right, void *ctx)
{
    rstats *s = ctx;
    atomic_fetch_add(&s->combines, 1);
    const interval *l = left, *r = right;
    if (l->count == 0 || r->count == 0 || l->last + 1 != r->first)
        atomic_fetch_add(&s->bad, 1); /* empty or out-of-order operand */
    interval_merge(left, right);
}

Test(parallel_for, reduce_combines_in_index_order)
{
    size_t b = 17, e = 70017;
    for (int pi = 0; pi < NPOOLS; pi++) {
        fg_pool *p = pool_new(pool_sizes[pi]);
        for (int mode = 0; mode < NMODES; mode++)
            for (int gi = 0; gi < NGRAINS; gi++) {
                size_t grain = grain_value(gi, e - b);
                rstats s;
                rstats_init(&s);
                interval result = { 1, 2, 3, 4 };
                fg_for_opts o = FG_FOR_OPTS_INIT(.grain = grain, .partition = mode);
                int err = fg_parallel_reduce(p, b, e, &o, sizeof result, &interval_identity,
                                             interval_body, interval_combine, &s, &result);
                cr_assert_eq(err, 0);
                cr_assert(result.ok == 1 && result.first == b && result.last == e - 1 &&
                              result.count == e - b,
                          "%s grain %zu on %d workers: [%llu, %llu] count %llu ok %llu",
                          mode_name[mode], grain, pool_sizes[pi],
                          (unsigned long long)result.first, (unsigned long long)result.last,
                          (unsigned long long)result.count, (unsigned long long)result.ok);
                cr_assert_eq(atomic_load(&s.dirty), 0, "bodies started from a non-identity");
                cr_assert_eq(atomic_load(&s.bad), 0, "combines out of order or empty");
                cr_assert_eq(atomic_load(&s.combines) + 1, atomic_load(&s.chunks));
            }
        fg_pool_destroy(p);
    }
}

/* 300-byte partials: above the 256-byte stack buffer, so every split
 * allocates.  Bytes 0-7 hold the sum, 8-15 the count, 16-299 a pattern
 * from the identity that must survive every copy. */
enum { BIG = 300 };

static uint64_t big_get(const unsigned char *p, int at)
{
    uint64_t x;
    memcpy(&x, p + at, sizeof x);
    return x;
}

static void big_put(unsigned char *p, int at, uint64_t x)
{
    memcpy(p + at, &x, sizeof x);
}

static bool big_pattern_ok(const unsigned char *p)
{
    for (int i = 16; i < BIG; i++)
        if (p[i] != (unsigned char)(i * 7 + 1))
            return false;
    return true;
}

static int big_body(size_t b, size_t e, void *partial, void *ctx)
{
    rstats *s = ctx;
    unsigned char *p = partial;
    atomic_fetch_add(&s->chunks, 1);
    if (big_get(p, 0) != 0 || big_get(p, 8) != 0)
        atomic_fetch_add(&s->dirty, 1);
    if (!big_pattern_ok(p))
        atomic_fetch_add(&s->bad, 1);
    uint64_t sum = 0;
    for (size_t i = b; i < e; i++)
        sum += i;
    big_put(p, 0, big_get(p, 0) + sum);
    big_put(p, 8, big_get(p, 8) + (e - b));
    return s->fail_at >= b && s->fail_at < e ? s->fail_code : 0;
}

static void big_combine(void *left, const void *right, void *ctx)
{
    rstats *s = ctx;
    unsigned char *l = left;
    const unsigned char *r = right;
    atomic_fetch_add(&s->combines, 1);
    if (!big_pattern_ok(l) || !big_pattern_ok(r))
        atomic_fetch_add(&s->bad, 1);
    big_put(l, 0, big_get(l, 0) + big_get(r, 0));
    big_put(l, 8, big_get(l, 8) + big_get(r, 8));
}

Test(parallel_for, reduce_partial_of_300_bytes)
{
    unsigned char identity[BIG];
    memset(identity, 0, sizeof identity);
    for (int i = 16; i < BIG; i++)
        identity[i] = (unsigned char)(i * 7 + 1);
    const size_t b = 9, e = 50009;
    uint64_t want = 0;
    for (size_t i = b; i < e; i++)
        want += i;
    for (int pi = 0; pi < NPOOLS; pi++) {
        fg_pool *p = pool_new(pool_sizes[pi]);
        for (int mode = 0; mode < NMODES; mode++) {
            rstats s;
            rstats_init(&s);
            unsigned char result[BIG];
            memset(result, 0xa5, sizeof result);
            fg_for_opts o = FG_FOR_OPTS_INIT(.grain = 1, .partition = mode);
            int err = fg_parallel_reduce(p, b, e, &o, BIG, identity, big_body, big_combine, &s,
                                         result);
            cr_assert_eq(err, 0, "%s on %d workers: %d", mode_name[mode], pool_sizes[pi], err);
            cr_assert_eq(big_get(result, 0), want);
            cr_assert_eq(big_get(result, 8), e - b);
            cr_assert(big_pattern_ok(result), "pattern lost in the result");
            cr_assert_eq(atomic_load(&s.dirty), 0);
            cr_assert_eq(atomic_load(&s.bad), 0, "pattern lost in a partial");
            cr_assert_eq(atomic_load(&s.combines) + 1, atomic_load(&s.chunks));
            if (mode == FG_PARTITION_SIMPLE)
                cr_assert_eq(atomic_load(&s.chunks), e - b);
        }
        fg_pool_destroy(p);
    }
}

Test(parallel_for, reduce_bad_args)
{
    fg_pool *p = pool_new(2);
    rstats s;
    rstats_init(&s);
    uint64_t zero = 0, result = 0;
    fg_for_opts ok = FG_FOR_OPTS_INIT(.grain = 1), o7 = FG_FOR_OPTS_INIT(.partition = 7), oneg = FG_FOR_OPTS_INIT(.partition = -1);
    int r[9];
    r[0] = fg_parallel_reduce(NULL, 0, 100, &ok, 8, &zero, sum_body, sum_combine, &s, &result);
    r[1] = fg_parallel_reduce(p, 5, 4, &ok, 8, &zero, sum_body, sum_combine, &s, &result);
    r[2] = fg_parallel_reduce(p, 0, 100, &o7, 8, &zero, sum_body, sum_combine, &s, &result);
    r[3] = fg_parallel_reduce(p, 0, 100, &oneg, 8, &zero, sum_body, sum_combine, &s, &result);
    r[4] = fg_parallel_reduce(p, 0, 100, &ok, 8, NULL, sum_body, sum_combine, &s, &result);
    r[5] = fg_parallel_reduce(p, 0, 100, &ok, 8, &zero, sum_body, sum_combine, &s, NULL);
    r[6] = fg_parallel_reduce(p, 0, 100, &ok, 8, &zero, sum_body, NULL, &s, &result);
    r[7] = fg_parallel_reduce(p, 0, 100, &ok, 8, &zero, NULL, sum_combine, &s, &result);
    r[8] = fg_parallel_reduce(p, 0, 100, &ok, 0, &zero, sum_body, sum_combine, &s, &result);
    for (int i = 0; i < 9; i++)
        cr_assert_eq(r[i], FG_EINVAL, "case %d: got %d", i, r[i]);
    cr_assert_eq(atomic_load(&s.chunks), 0, "a failed reduce ran %zu bodies",
                 atomic_load(&s.chunks));
    cr_assert_eq(atomic_load(&s.combines), 0);
    fg_pool_destroy(p);
}

Test(parallel_for, reduce_empty_range_gives_identity)
{
    fg_pool *p = pool_new(2);
    for (int mode = 0; mode < NMODES; mode++) {
        rstats s;
        rstats_init(&s);
        interval result = { 1, 2, 3, 4 };
        fg_for_opts o = FG_FOR_OPTS_INIT(.partition = mode);
        cr_assert_eq(fg_parallel_reduce(p, 77, 77, &o, sizeof result, &interval_identity,
                                        interval_body, interval_combine, &s, &result),
                     0);
        cr_assert_eq(memcmp(&result, &interval_identity, sizeof result), 0,
                     "%s: result is not the identity", mode_name[mode]);
        cr_assert_eq(atomic_load(&s.chunks), 0);
        cr_assert_eq(atomic_load(&s.combines), 0);
    }
    /* And with NULL opts. */
    rstats s;
    rstats_init(&s);
    uint64_t seven = 7, result = 0;
    cr_assert_eq(fg_parallel_reduce(p, 0, 0, NULL, sizeof result, &seven, sum_body, sum_combine,
                                    &s, &result),
                 0);
    cr_assert_eq(result, 7);
    cr_assert_eq(atomic_load(&s.chunks), 0);
    fg_pool_destroy(p);
}

Test(parallel_for, reduce_null_opts_means_defaults)
{
    fg_pool *p = pool_new(2);
    rstats s;
    rstats_init(&s);
    interval result;
    cr_assert_eq(fg_parallel_reduce(p, 5, 12345, NULL, sizeof result, &interval_identity,
                                    interval_body, interval_combine, &s, &result),
                 0);
    cr_assert(result.ok == 1 && result.first == 5 && result.last == 12344 &&
              result.count == 12340);
    cr_assert_eq(atomic_load(&s.bad), 0);
    fg_pool_destroy(p);
}

Test(parallel_for, reduce_body_error_is_returned)
{
    const size_t b = 0, e = 50000;
    size_t ks[] = { 0, 25000, 49999 };
    for (int pi = 0; pi < NPOOLS; pi++) {
        fg_pool *p = pool_new(pool_sizes[pi]);
        for (int mode = 0; mode < NMODES; mode++)
            for (int ki = 0; ki < 3; ki++) {
                rstats s;
                rstats_init(&s);
                s.fail_at = ks[ki];
                s.fail_code = 9;
                uint64_t zero = 0, result = 0;
                fg_for_opts o = FG_FOR_OPTS_INIT(.grain = 3, .partition = mode);
                int err = fg_parallel_reduce(p, b, e, &o, sizeof result, &zero, sum_body,
                                             sum_combine, &s, &result);
                cr_assert_eq(err, 9, "%s on %d workers, index %zu fails: %d", mode_name[mode],
                             pool_sizes[pi], ks[ki], err);
                cr_assert(atomic_load(&s.chunks) >= 1);
                /* Heap partials too. */
                rstats_init(&s);
                s.fail_at = ks[ki];
                s.fail_code = 11;
                unsigned char identity[BIG], big[BIG];
                memset(identity, 0, sizeof identity);
                for (int i = 16; i < BIG; i++)
                    identity[i] = (unsigned char)(i * 7 + 1);
                err = fg_parallel_reduce(p, b, e, &o, BIG, identity, big_body, big_combine, &s,
                                         big);
                cr_assert_eq(err, 11, "%s on %d workers, index %zu fails (300-byte partial): %d",
                             mode_name[mode], pool_sizes[pi], ks[ki], err);
            }
        fg_pool_destroy(p);
    }
}

/* ------------------------------------------------------------- nesting */

/* Level 1: fg_parallel_for over [0, outer); each index forks two tasks with
 * fg_join (level 2); each task runs its own fg_parallel_for over [0, inner)
 * (level 3, AUTO on the left, STATIC grain 16 on the right). */
typedef struct nest {
    fg_pool *pool;
    size_t outer, inner;
    atomic_uint *hits;      /* hits[(i * 2 + side) * inner + j] */
    atomic_int errors;      /* nonzero results seen inside */
    atomic_int off_worker;  /* bodies run off the pool */
} nest;

typedef struct nest_half {
    nest *n;
    size_t i;
    int side;
} nest_half;

static int nest_leaf(size_t b, size_t e, void *ctx)
{
    nest_half *h = ctx;
    if (fg_worker_index() < 0)
        atomic_fetch_add(&h->n->off_worker, 1);
    for (size_t j = b; j < e; j++)
        atomic_fetch_add_explicit(&h->n->hits[(h->i * 2 + (size_t)h->side) * h->n->inner + j], 1,
                                  memory_order_relaxed);
    return 0;
}

static int nest_half_task(void *arg)
{
    nest_half *h = arg;
    fg_for_opts o = FG_FOR_OPTS_INIT(.grain = h->side ? 16 : 1,
                      .partition = h->side ? FG_PARTITION_STATIC : FG_PARTITION_AUTO);
    int err = fg_parallel_for(h->n->pool, 0, h->n->inner, &o, nest_leaf, h);
    if (err != 0)
        atomic_fetch_add(&h->n->errors, 1);
    return err;
}

static int nest_outer(size_t b, size_t e, void *ctx)
{
    nest *n = ctx;
    if (fg_worker_index() < 0)
        atomic_fetch_add(&n->off_worker, 1);
    for (size_t i = b; i < e; i++) {
        nest_half l = { n, i, 0 }, r = { n, i, 1 };
        int err = fg_join(n->pool, nest_half_task, &l, nest_half_task, &r);
        if (err != 0) {
            atomic_fetch_add(&n->errors, 1);
            return err;
        }
    }
    return 0;
}

Test(parallel_for, nested_for_in_join_in_for)
{
    fg_pool *p = pool_new(2);
    nest n = { .pool = p, .outer = 40, .inner = 3001 };
    size_t total = n.outer * 2 * n.inner;
    n.hits = calloc(total, sizeof *n.hits);
    cr_assert_not_null(n.hits);
    for (size_t i = 0; i < total; i++)
        atomic_init(&n.hits[i], 0);
    atomic_init(&n.errors, 0);
    atomic_init(&n.off_worker, 0);
    fg_for_opts o = FG_FOR_OPTS_INIT(.grain = 1, .partition = FG_PARTITION_SIMPLE);
    cr_assert_eq(fg_parallel_for(p, 0, n.outer, &o, nest_outer, &n), 0);
    cr_assert_eq(atomic_load(&n.errors), 0);
    cr_assert_eq(atomic_load(&n.off_worker), 0);
    for (size_t x = 0; x < total; x++) {
        unsigned h = atomic_load_explicit(&n.hits[x], memory_order_relaxed);
        if (h != 1)
            cr_assert_fail("outer %zu side %zu inner %zu: visited %u times",
                           x / (2 * n.inner), x / n.inner % 2, x % n.inner, h);
    }
    free(n.hits);
    fg_pool_destroy(p);
}

Test(parallel_for, for_from_a_worker_task)
{
    for (int pi = 0; pi < NPOOLS; pi++) {
        int workers = pool_sizes[pi];
        fg_pool *p = pool_new(workers);
        for (int mode = 0; mode < NMODES; mode++) {
            in_task t = { p, visit_new(3, 100003, workers),
                          FG_FOR_OPTS_INIT(.grain = 7, .partition = mode),
                          -2, -1 };
            cr_assert_eq(fg_join(p, parallel_for_in_task, &t, noop, NULL), 0);
            cr_assert(t.index >= 0 && t.index < workers, "task ran on %d", t.index);
            cr_assert_eq(t.result, 0, "%s on %d workers: %d", mode_name[mode], workers,
                         t.result);
            check_every_index(t.v, 1, mode_name[mode]);
            size_t n = check_tiling(t.v, 7, mode_name[mode]);
            check_mode_geometry(t.v, mode, 7, n, mode_name[mode]);
            visit_free(t.v);
        }
        fg_pool_destroy(p);
    }
}

/* Four non-worker threads run loops on one pool at once. */
enum { NTHREADS = 4, THREAD_ROUNDS = 5 };

typedef struct ext_thread {
    fg_pool *pool;
    atomic_int *go;
    int t;
    visit *v[THREAD_ROUNDS];
    int for_result[THREAD_ROUNDS];
    int reduce_result[THREAD_ROUNDS];
    uint64_t sum[THREAD_ROUNDS];
    uint64_t want[THREAD_ROUNDS];
} ext_thread;

static void *ext_thread_main(void *arg)
{
    ext_thread *x = arg;
    while (!atomic_load(x->go))
        ;
    for (int r = 0; r < THREAD_ROUNDS; r++) {
        visit *v = x->v[r];
        fg_for_opts o = FG_FOR_OPTS_INIT(.grain = (size_t)(1 + 3 * x->t + r), .partition = (x->t + r) % NMODES);
        x->for_result[r] = fg_parallel_for(x->pool, v->begin, v->end, &o, visit_body, v);
        rstats s;
        rstats_init(&s);
        uint64_t zero = 0;
        x->sum[r] = 0;
        x->reduce_result[r] = fg_parallel_reduce(x->pool, v->begin, v->end, &o, sizeof(uint64_t),
                                                 &zero, sum_body, sum_combine, &s, &x->sum[r]);
    }
    return NULL;
}

Test(parallel_for, four_external_threads_on_one_pool)
{
    fg_pool *p = pool_new(2);
    atomic_int go;
    atomic_init(&go, 0);
    ext_thread x[NTHREADS];
    pthread_t th[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        x[t] = (ext_thread){ .pool = p, .go = &go, .t = t };
        for (int r = 0; r < THREAD_ROUNDS; r++) {
            size_t b = (size_t)(1000 * t + 13 * r + 1), e = b + 40001 + (size_t)(7 * r);
            x[t].v[r] = visit_new(b, e, 2);
            x[t].want[r] = 0;
            for (size_t i = b; i < e; i++)
                x[t].want[r] += i;
            x[t].for_result[r] = x[t].reduce_result[r] = -12345;
        }
        cr_assert_eq(pthread_create(&th[t], NULL, ext_thread_main, &x[t]), 0);
    }
    atomic_store(&go, 1);
    for (int t = 0; t < NTHREADS; t++)
        cr_assert_eq(pthread_join(th[t], NULL), 0);
    for (int t = 0; t < NTHREADS; t++)
        for (int r = 0; r < THREAD_ROUNDS; r++) {
            char what[64];
            snprintf(what, sizeof what, "thread %d round %d", t, r);
            cr_assert_eq(x[t].for_result[r], 0, "%s: fg_parallel_for %d", what,
                         x[t].for_result[r]);
            cr_assert_eq(x[t].reduce_result[r], 0, "%s: fg_parallel_reduce %d", what,
                         x[t].reduce_result[r]);
            check_every_index(x[t].v[r], 1, what);
            check_tiling(x[t].v[r], (size_t)(1 + 3 * t + r), what);
            cr_assert_eq(x[t].sum[r], x[t].want[r], "%s: sum %llu, want %llu", what,
                         (unsigned long long)x[t].sum[r], (unsigned long long)x[t].want[r]);
            visit_free(x[t].v[r]);
        }
    fg_pool_destroy(p);
}

/* --------------------------------------------------------------- large */

Test(parallel_for, reduce_ten_million_auto_grain_1)
{
    fg_pool *p = pool_new(4);
    const size_t n = 10000000;
    rstats s;
    rstats_init(&s);
    uint64_t zero = 0, result = 0;
    fg_for_opts o = FG_FOR_OPTS_INIT(.grain = 1, .partition = FG_PARTITION_AUTO);
    cr_assert_eq(fg_parallel_reduce(p, 0, n, &o, sizeof result, &zero, sum_body, sum_combine, &s,
                                    &result),
                 0);
    cr_assert_eq(result, (uint64_t)n * (n - 1) / 2, "sum %llu", (unsigned long long)result);
    cr_assert_eq(atomic_load(&s.dirty), 0);
    cr_assert_eq(atomic_load(&s.combines) + 1, atomic_load(&s.chunks));
    fg_pool_destroy(p);
}

/* ------------------------------------------- long chunks run side by side */

/* Each of the two chunks waits (up to 20 s) until both have started, so the
 * loop ends at once only if a second worker took the second chunk while the
 * first ran.  Once the root's first spawn stayed private behind an empty
 * join half, and an idle worker that parked meanwhile was never asked: both
 * chunks ran one after the other on one worker (root.h). */
typedef struct rendezvous {
    atomic_int started;
    atomic_int met; /* chunks that saw the other one started */
} rendezvous;

static void rendezvous_wait(rendezvous *r)
{
    atomic_fetch_add(&r->started, 1);
    for (int i = 0; i < 20000 && atomic_load(&r->started) < 2; i++) {
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
    if (atomic_load(&r->started) >= 2)
        atomic_fetch_add(&r->met, 1);
}

static int rendezvous_body(size_t begin, size_t end, void *ctx)
{
    (void)begin;
    (void)end;
    rendezvous_wait(ctx);
    return 0;
}

Test(parallel_for, two_long_chunks_run_on_two_workers)
{
    fg_pool *p = pool_new(2);
    for (int mode = 0; mode < NMODES; mode++) {
        for (int round = 0; round < 3; round++) { /* a fresh pool, then parked workers */
            rendezvous r = { 0, 0 };
            fg_for_opts o = FG_FOR_OPTS_INIT(.grain = 1, .partition = (enum fg_partition)mode);
            cr_assert_eq(fg_parallel_for(p, 0, 2, &o, rendezvous_body, &r), 0);
            cr_assert_eq(atomic_load(&r.met), 2, "%s round %d: the chunks ran one after the other",
                         mode_name[mode], round);
            struct timespec idle = { 0, 20000000 }; /* let the workers park */
            nanosleep(&idle, NULL);
        }
    }
    fg_pool_destroy(p);
}
