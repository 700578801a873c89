/* tests/unit/scan.c: fg_parallel_scan (facade/scan.c) against a sequential
 * reference: inclusive and exclusive, in and out of place, sizes around the
 * grain, a non-commutative combine (2x2 matrix products, and a polynomial
 * hash of concatenated strings) to prove elements are combined in index
 * order, element sizes from 4 bytes to beyond a cache line, the number
 * of combine calls (exactly n on one worker: one pass), and the same result
 * on 1 to 4 workers, with lanes forced to overlap so that both ways of
 * taking a block run (a gate in the combine).
 * Bad arguments are rows of tests/unit/badinput.c. */
#include <criterion/criterion.h>

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forage.h"
#include "pools.h"

TestSuite(scan, .timeout = 120);

static uint64_t mix(uint64_t i)
{
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
    return x ^ (x >> 31);
}

/* ------------------------------------------------ 64-bit sums, counted */

static atomic_size_t calls, worker_calls;

/* The gate: the first thread to combine is slowed down (1 ms every
 * grain / 64 calls, so about 64 ms a block) until a second thread
 * combines, so two lanes surely overlap and blocks are taken both ways:
 * alone (one final pass) and chained (reduce, then rescan).  Slowed, not
 * held: a lane lets its siblings be stolen only between its blocks.
 * After 10 s of slowing it gives up and says so. */
static atomic_int gate_armed, gate_open, gate_timed_out;
static atomic_uintptr_t gate_first;
static atomic_size_t gate_first_calls, gate_every, gate_naps, gate_calls;
static _Thread_local char gate_me;

static void gate_arm(size_t grain)
{
    atomic_store(&gate_first, 0);
    atomic_store(&gate_open, 0);
    atomic_store(&gate_timed_out, 0);
    atomic_store(&gate_first_calls, 0);
    atomic_store(&gate_naps, 0);
    atomic_store(&gate_calls, 0);
    atomic_store(&gate_every, grain >= 64 ? grain / 64 : 1);
    atomic_store(&gate_armed, 1);
}

static void gate(void)
{
    if (!atomic_load(&gate_armed))
        return;
    atomic_fetch_add(&gate_calls, 1);
    if (atomic_load(&gate_open))
        return;
    uintptr_t me = (uintptr_t)&gate_me, first = 0;
    if (!atomic_compare_exchange_strong(&gate_first, &first, me) && first != me) {
        atomic_store(&gate_open, 1); /* a second thread: the lanes met */
        return;
    }
    if (atomic_fetch_add(&gate_first_calls, 1) % atomic_load(&gate_every) != 0)
        return;
    if (atomic_fetch_add(&gate_naps, 1) >= 10000) { /* 10 s */
        atomic_store(&gate_timed_out, 1);
        atomic_store(&gate_open, 1);
    }
    struct timespec ms = { 0, 1000000 };
    nanosleep(&ms, NULL);
}

static void add_u64(void *l, const void *r, void *ctx)
{
    (void)ctx;
    gate();
    *(uint64_t *)l += *(const uint64_t *)r;
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    if (fg_pool_current() != NULL)
        atomic_fetch_add_explicit(&worker_calls, 1, memory_order_relaxed);
}

static void ref_sum(const uint64_t *in, uint64_t *out, size_t n, int kind, uint64_t id)
{
    uint64_t acc = id;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = in[i];
        if (kind == FG_SCAN_EXCLUSIVE)
            out[i] = acc;
        acc += x;
        if (kind == FG_SCAN_INCLUSIVE)
            out[i] = acc;
    }
}

static size_t blocks_of(size_t n, size_t grain)
{
    grain = grain ? grain : FG_SCAN_GRAIN_DEFAULT;
    return (n + grain - 1) / grain;
}

/* combine calls: n when one lane takes every block alone (one worker, or
 * one block); with company a block may be chained instead, which costs its
 * length again plus one (its prefix), so at most 2n + blocks. */
static void check_calls(size_t got, size_t n, size_t grain, int workers)
{
    size_t blocks = blocks_of(n, grain);
    if (workers == 1 || blocks <= 1)
        cr_assert_eq(got, n, "n %zu grain %zu: %zu combine calls, want n", n, grain, got);
    else
        cr_assert(got >= n && got <= 2 * n + blocks,
                  "n %zu grain %zu: %zu combine calls, want [n, 2n + %zu]", n, grain, got, blocks);
}

/* Arm the gate when a second lane exists to open it and the first has a
 * few blocks to take. */
static int gate_arm_for(fg_pool *p, size_t n, size_t grain)
{
    if (fg_pool_workers(p) < 2 || blocks_of(n, grain) < 4)
        return 0;
    gate_arm(grain ? grain : FG_SCAN_GRAIN_DEFAULT);
    return 1;
}

/* After a gated scan of n elements: the lanes met, and the combine count
 * shows a chained block. */
static void gate_check(int gated, size_t n)
{
    if (!gated)
        return;
    atomic_store(&gate_armed, 0);
    cr_assert_eq(atomic_load(&gate_timed_out), 0, "n %zu: the second lane never came", n);
    cr_assert(atomic_load(&gate_calls) > n, "n %zu: no block was chained (%zu combine calls)", n,
              atomic_load(&gate_calls));
}

static void check_sum(fg_pool *p, size_t n, size_t grain, int kind, int in_place)
{
    int gated = gate_arm_for(p, n, grain);
    uint64_t *in = malloc((n + 1) * sizeof *in), *out = malloc((n + 1) * sizeof *out);
    uint64_t *want = malloc((n + 1) * sizeof *want);
    for (size_t i = 0; i < n; i++)
        in[i] = mix(i) >> 8;
    ref_sum(in, want, n, kind, 0);
    uint64_t id = 0;
    atomic_store(&calls, 0);
    uint64_t *dst = in_place ? in : out;
    int err = fg_parallel_scan(p, in, dst, n, sizeof *in, &id, add_u64, NULL,
                               FG_SCAN_OPTS(.kind = kind, .grain = grain));
    cr_assert_eq(err, 0, "n %zu grain %zu: %s", n, grain, fg_strerror(err));
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(dst[i], want[i], "n %zu grain %zu kind %d in_place %d: [%zu] = %llu, want %llu",
                     n, grain, kind, in_place, i, (unsigned long long)dst[i],
                     (unsigned long long)want[i]);
    check_calls(atomic_load(&calls), n, grain, fg_pool_workers(p));
    gate_check(gated, n);
    free(in);
    free(out);
    free(want);
}

Test(scan, sizes_around_the_grain)
{
    const size_t grain = 64;
    const size_t sizes[] = { 0, 1, 2, grain - 1, grain, grain + 1, 2 * grain - 1, 2 * grain,
                             2 * grain + 1, 10 * grain + 3, 1000 };
    for (int w = 1; w <= 4; w++) {
        fg_pool *p = pool_new(w);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (int kind = FG_SCAN_INCLUSIVE; kind <= FG_SCAN_EXCLUSIVE; kind++)
                for (int in_place = 0; in_place < 2; in_place++)
                    check_sum(p, sizes[s], grain, kind, in_place);
        fg_pool_destroy(p);
    }
}

Test(scan, grain_one_and_default)
{
    fg_pool *p = pool_new(2);
    for (int kind = FG_SCAN_INCLUSIVE; kind <= FG_SCAN_EXCLUSIVE; kind++) {
        check_sum(p, 257, 1, kind, 0);
        check_sum(p, FG_SCAN_GRAIN_DEFAULT, 0, kind, 1);     /* one block */
        check_sum(p, FG_SCAN_GRAIN_DEFAULT + 1, 0, kind, 0); /* two */
    }
    fg_pool_destroy(p);
}

Test(scan, large)
{
    fg_pool *p = pool_new(2);
    check_sum(p, 3000017, 0, FG_SCAN_INCLUSIVE, 0);
    check_sum(p, 3000017, 0, FG_SCAN_EXCLUSIVE, 1);
    fg_pool_destroy(p);
}

/* The default options are an inclusive scan. */
Test(scan, null_opts_is_inclusive)
{
    fg_pool *p = pool_new(2);
    uint64_t in[5] = { 1, 2, 3, 4, 5 }, out[5], id = 0;
    cr_assert_eq(fg_parallel_scan(p, in, out, 5, 8, &id, add_u64, NULL, NULL), 0);
    const uint64_t want[5] = { 1, 3, 6, 10, 15 };
    cr_assert_arr_eq(out, want, sizeof want);
    fg_pool_destroy(p);
}

/* ------------------------------------------- non-commutative combines */

typedef struct mat {
    uint64_t a, b, c, d; /* [[a b] [c d]], arithmetic mod 2^64 */
} mat;

static void mat_mul(void *l, const void *r, void *ctx)
{
    (void)ctx;
    gate();
    mat *x = l;
    const mat *y = r;
    *x = (mat){ x->a * y->a + x->b * y->c, x->a * y->b + x->b * y->d,
                x->c * y->a + x->d * y->c, x->c * y->b + x->d * y->d };
}

static void check_mat(fg_pool *p, size_t n, size_t grain, int kind, int in_place)
{
    mat *in = malloc((n + 1) * sizeof *in), *out = malloc((n + 1) * sizeof *out);
    mat *want = malloc((n + 1) * sizeof *want);
    for (size_t i = 0; i < n; i++)
        in[i] = (mat){ mix(4 * i) | 1, mix(4 * i + 1), mix(4 * i + 2), mix(4 * i + 3) | 1 };
    const mat id = { 1, 0, 0, 1 };
    mat acc = id;
    for (size_t i = 0; i < n; i++) {
        if (kind == FG_SCAN_EXCLUSIVE)
            want[i] = acc;
        mat_mul(&acc, &in[i], NULL);
        if (kind == FG_SCAN_INCLUSIVE)
            want[i] = acc;
    }
    mat *dst = in_place ? in : out;
    int gated = gate_arm_for(p, n, grain);
    cr_assert_eq(fg_parallel_scan(p, in, dst, n, sizeof(mat), &id, mat_mul, NULL,
                                  FG_SCAN_OPTS(.kind = kind, .grain = grain)), 0);
    gate_check(gated, n);
    cr_assert_eq(memcmp(dst, want, n * sizeof(mat)), 0, "matrix scan n %zu grain %zu kind %d",
                 n, grain, kind);
    free(in);
    free(out);
    free(want);
}

Test(scan, matrix_products_keep_index_order)
{
    for (int w = 1; w <= 4; w++) {
        fg_pool *p = pool_new(w);
        for (int kind = FG_SCAN_INCLUSIVE; kind <= FG_SCAN_EXCLUSIVE; kind++)
            for (int in_place = 0; in_place < 2; in_place++) {
                check_mat(p, 5000, 16, kind, in_place);
                check_mat(p, 33, 32, kind, in_place);
                check_mat(p, 100000, 0, kind, in_place);
            }
        fg_pool_destroy(p);
    }
}

/* A string as (polynomial hash, length, first and last letter): the
 * concatenation's hash is h(l) * B^len(r) + h(r), which fails as soon as
 * two pieces are combined out of order. */
typedef struct text {
    uint64_t hash, pow; /* pow = B^length */
    uint64_t length;
    char first, last;
} text;

static void concat(void *l, const void *r, void *ctx)
{
    (void)ctx;
    text *x = l;
    const text *y = r;
    gate();
    if (y->length == 0)
        return;
    if (x->length == 0) {
        *x = *y;
        return;
    }
    x->hash = x->hash * y->pow + y->hash;
    x->pow *= y->pow;
    x->length += y->length;
    x->last = y->last;
}

Test(scan, string_concatenation)
{
    const uint64_t B = 131;
    const size_t n = 20011;
    char *letters = malloc(n);
    text *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
    for (size_t i = 0; i < n; i++) {
        letters[i] = (char)('a' + mix(i) % 26);
        in[i] = (text){ (uint64_t)letters[i], B, 1, letters[i], letters[i] };
    }
    const text empty = { 0, 1, 0, 0, 0 };
    for (int w = 1; w <= 3; w++) {
        fg_pool *p = pool_new(w);
        int gated = gate_arm_for(p, n, 97);
        cr_assert_eq(fg_parallel_scan(p, in, out, n, sizeof(text), &empty, concat, NULL,
                                      FG_SCAN_OPTS(.grain = 97)), 0);
        gate_check(gated, n);
        uint64_t h = 0;
        for (size_t i = 0; i < n; i++) {
            h = h * B + (uint64_t)letters[i];
            cr_assert_eq(out[i].hash, h, "prefix %zu on %d workers", i, w);
            cr_assert_eq(out[i].length, i + 1);
            cr_assert_eq(out[i].first, letters[0]);
            cr_assert_eq(out[i].last, letters[i]);
        }
        fg_pool_destroy(p);
    }
    free(letters);
    free(in);
    free(out);
}

/* ------------------------------------------------- wide elements, nesting */

typedef struct wide {
    uint32_t v[80]; /* 320 bytes: beyond any stack or special-cased size */
} wide;

static void wide_add(void *l, const void *r, void *ctx)
{
    (void)ctx;
    gate();
    for (int j = 0; j < 80; j++)
        ((wide *)l)->v[j] += ((const wide *)r)->v[j];
}

Test(scan, wide_elements)
{
    fg_pool *p = pool_new(2);
    const size_t n = 1500;
    wide *in = calloc(n, sizeof *in), *want = calloc(n, sizeof *want), id = { { 0 } };
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j < 80; j++)
            in[i].v[j] = (uint32_t)mix(i * 80 + (size_t)j);
    wide acc = id;
    for (size_t i = 0; i < n; i++) {
        want[i] = acc;
        wide_add(&acc, &in[i], NULL);
    }
    int gated = gate_arm_for(p, n, 100);
    cr_assert_eq(fg_parallel_scan(p, in, in, n, sizeof(wide), &id, wide_add, NULL,
                                  FG_SCAN_OPTS(.kind = FG_SCAN_EXCLUSIVE, .grain = 100)), 0);
    gate_check(gated, n);
    cr_assert_eq(memcmp(in, want, n * sizeof(wide)), 0);
    free(in);
    free(want);
    fg_pool_destroy(p);
}

typedef struct nested {
    fg_pool *pool;
    uint64_t *data;
    size_t n;
    int err;
} nested;

static int scan_in_task(void *arg)
{
    nested *t = arg;
    uint64_t id = 0;
    t->err = fg_parallel_scan(t->pool, t->data, t->data, t->n, 8, &id, add_u64, NULL,
                              FG_SCAN_OPTS(.grain = 100));
    return 0;
}

/* Two scans at once, each started from inside a task on a worker. */
Test(scan, from_workers)
{
    fg_pool *p = pool_new(2);
    const size_t n = 10007;
    uint64_t *a = malloc(n * 8), *b = malloc(n * 8);
    for (size_t i = 0; i < n; i++)
        a[i] = b[i] = i;
    nested x = { p, a, n, -1 }, y = { p, b, n, -1 };
    cr_assert_eq(fg_join(p, scan_in_task, &x, scan_in_task, &y), 0);
    cr_assert_eq(x.err, 0);
    cr_assert_eq(y.err, 0);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(a[i], i * (i + 1) / 2);
        cr_assert_eq(b[i], i * (i + 1) / 2);
    }
    free(a);
    free(b);
    fg_pool_destroy(p);
}

/* ------------------------------------------------- options as structs */

/* An older caller's struct ends after `kind`; its garbage grain (SIZE_MAX,
 * one block, scanned on the calling thread) must not be read: the default
 * grain's three blocks run on the pool's workers, every combine call. */
Test(scan, older_opts_read_only_their_fields)
{
    fg_pool *p = pool_new(2);
    const size_t n = 2 * FG_SCAN_GRAIN_DEFAULT + 5;
    uint64_t *a = malloc(n * 8), id = 0;
    for (size_t i = 0; i < n; i++)
        a[i] = 1;
    fg_scan_opts o;
    memset(&o, 0xFF, sizeof o);
    o.size = offsetof(fg_scan_opts, kind) + sizeof o.kind;
    o.kind = FG_SCAN_EXCLUSIVE;
    atomic_store(&calls, 0);
    atomic_store(&worker_calls, 0);
    cr_assert_eq(fg_parallel_scan(p, a, a, n, 8, &id, add_u64, NULL, &o), 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(a[i], i);
    check_calls(atomic_load(&calls), n, 0, 2);
    cr_assert_eq(atomic_load(&worker_calls), atomic_load(&calls), "a combine ran on the caller");
    free(a);
    fg_pool_destroy(p);
}

Test(scan, newer_opts_with_unknown_fields)
{
    fg_pool *p = pool_new(1);
    struct { fg_scan_opts known; uint64_t later[2]; } newer;
    memset(&newer, 0, sizeof newer);
    newer.known.size = sizeof newer;
    uint64_t a[3] = { 1, 2, 3 }, id = 0;
    cr_assert_eq(fg_parallel_scan(p, a, a, 3, 8, &id, add_u64, NULL, &newer.known), 0);
    cr_assert_eq(a[2], 6);
    newer.later[1] = 1; /* a field this library does not know, set */
    atomic_store(&calls, 0);
    cr_assert_eq(fg_parallel_scan(p, a, a, 3, 8, &id, add_u64, NULL, &newer.known), FG_ESIZE);
    cr_assert_eq(atomic_load(&calls), 0);
    cr_assert_eq(a[2], 6);
    fg_pool_destroy(p);
}

/* ------------------------------------------- FG_PARALLEL_SCAN, typed */

static inline uint64_t plus(uint64_t a, uint64_t b)
{
    gate();
    return a + b;
}
FG_PARALLEL_SCAN(sum_scan, uint64_t, plus)

static inline mat mat_times(mat x, mat y)
{
    mat_mul(&x, &y, NULL);
    return x;
}
FG_PARALLEL_SCAN(mat_scan, mat, mat_times)

Test(scan, typed_sums)
{
    const size_t sizes[] = { 0, 1, 63, 64, 65, 1000, 100003 };
    for (int w = 1; w <= 3; w++) {
        fg_pool *p = pool_new(w);
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            for (int kind = FG_SCAN_INCLUSIVE; kind <= FG_SCAN_EXCLUSIVE; kind++)
                for (int in_place = 0; in_place < 2; in_place++) {
                    size_t n = sizes[s];
                    uint64_t *in = malloc((n + 1) * 8), *out = malloc((n + 1) * 8);
                    uint64_t *want = malloc((n + 1) * 8);
                    for (size_t i = 0; i < n; i++)
                        in[i] = mix(i);
                    ref_sum(in, want, n, kind, 0);
                    uint64_t *dst = in_place ? in : out;
                    size_t grain = n > 1000 ? 0 : 64;
                    int gated = gate_arm_for(p, n, grain);
                    cr_assert_eq(sum_scan(p, in, dst, n, 0,
                                          FG_SCAN_OPTS(.kind = kind, .grain = grain)), 0);
                    gate_check(gated, n);
                    cr_assert_eq(memcmp(dst, want, n * 8), 0, "typed n %zu kind %d in place %d",
                                 n, kind, in_place);
                    free(in);
                    free(out);
                    free(want);
                }
        fg_pool_destroy(p);
    }
}

Test(scan, typed_matrix_products_keep_index_order)
{
    const size_t n = 20000;
    mat *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out), *want = malloc(n * sizeof *want);
    for (size_t i = 0; i < n; i++)
        in[i] = (mat){ mix(4 * i) | 1, mix(4 * i + 1), mix(4 * i + 2), mix(4 * i + 3) | 1 };
    const mat id = { 1, 0, 0, 1 };
    mat acc = id;
    for (size_t i = 0; i < n; i++)
        want[i] = acc = mat_times(acc, in[i]);
    for (int w = 1; w <= 4; w++) {
        fg_pool *p = pool_new(w);
        memset(out, 0, n * sizeof *out);
        int gated = gate_arm_for(p, n, 100);
        cr_assert_eq(mat_scan(p, in, out, n, id, FG_SCAN_OPTS(.grain = 100)), 0);
        gate_check(gated, n);
        cr_assert_eq(memcmp(out, want, n * sizeof *out), 0, "typed matrices on %d workers", w);
        fg_pool_destroy(p);
    }
    free(in);
    free(out);
    free(want);
}

Test(scan, typed_bad_arguments)
{
    fg_pool *p = pool_new(1);
    uint64_t a[4] = { 1, 2, 3, 4 };
    cr_assert_eq(sum_scan(NULL, a, a, 4, 0, NULL), FG_EINVAL);
    cr_assert_eq(sum_scan(p, NULL, a, 4, 0, NULL), FG_EINVAL);
    cr_assert_eq(sum_scan(p, a, a + 1, 3, 0, NULL), FG_EINVAL);
    cr_assert_eq(sum_scan(p, a, a, 4, 0, FG_SCAN_OPTS(.kind = 2)), FG_EINVAL);
    cr_assert_eq(a[3], 4, "a refused scan wrote");
    fg_pool_destroy(p);
}
