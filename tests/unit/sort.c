/* tests/unit/sort.c: fg_parallel_sort, fg_parallel_stable_sort
 * (facade/sort.c) and the radix sorts of fixed-size keys
 * (facade/radix_sort.c) against sequential references, on sizes around
 * the grains and on random and adversarial inputs (sorted, reversed, all
 * equal, few distinct keys, organ pipe, sawtooth).  Records carry a tag
 * (their input position): the stable sort must equal the reference sorted
 * by (key, tag); the unstable one must be a permutation with ordered keys,
 * identical on 1 to 4 workers.  Doubles: IEEE totalOrder with NaNs, -0.0
 * and infinities.  Bad arguments are rows of tests/unit/badinput.c. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forage.h"

TestSuite(sort, .timeout = 180);

static fg_pool *pools[5]; /* pools[w]: w workers */

static void pools_up(void)
{
    for (int w = 1; w <= 4; w++)
        cr_assert_eq(fg_pool_create(&pools[w], FG_CONFIG(.workers = w)), 0);
}

static void pools_down(void)
{
    for (int w = 1; w <= 4; w++)
        fg_pool_destroy(pools[w]);
}

static uint64_t mix(uint64_t i)
{
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    return x ^ (x >> 31);
}

enum shape { RANDOM, SORTED, REVERSED, EQUAL, FEW, ORGAN, SAW, NSHAPES };
static const char *const shape_name[] = { "random", "sorted", "reversed", "all equal",
                                          "few distinct", "organ pipe", "sawtooth" };

static int64_t key_of(int shape, size_t i, size_t n)
{
    switch (shape) {
    case RANDOM: return (int64_t)(mix(i) >> 1) - (INT64_MAX / 2);
    case SORTED: return (int64_t)i;
    case REVERSED: return (int64_t)(n - i);
    case EQUAL: return 42;
    case FEW: return (int64_t)(mix(i) % 4);
    case ORGAN: return (int64_t)(i < n / 2 ? i : n - i);
    default: return (int64_t)(i % 1000);
    }
}

/* ------------------------------------------------------ tagged records */

typedef struct rec {
    int64_t key;
    uint64_t tag; /* input position */
} rec;

static int rec_cmp(const void *a, const void *b)
{
    int64_t x = ((const rec *)a)->key, y = ((const rec *)b)->key;
    return (x > y) - (x < y);
}

static int rec_cmp_tag(const void *a, const void *b)
{
    int c = rec_cmp(a, b);
    if (c != 0)
        return c;
    uint64_t x = ((const rec *)a)->tag, y = ((const rec *)b)->tag;
    return (x > y) - (x < y);
}

static rec *records(int shape, size_t n)
{
    rec *r = malloc((n + 1) * sizeof *r);
    for (size_t i = 0; i < n; i++)
        r[i] = (rec){ key_of(shape, i, n), i };
    return r;
}

/* Stable: exactly the reference ordered by (key, tag). */
static void check_stable(size_t n, int shape)
{
    rec *want = records(shape, n);
    qsort(want, n, sizeof *want, rec_cmp_tag);
    for (int w = 1; w <= 4; w++) {
        rec *got = records(shape, n);
        int err = fg_parallel_stable_sort(pools[w], got, n, sizeof *got, rec_cmp);
        cr_assert_eq(err, 0, "%s", fg_strerror(err));
        cr_assert_eq(memcmp(got, want, n * sizeof *got), 0, "stable sort, n %zu, %s, %d workers",
                     n, shape_name[shape], w);
        free(got);
    }
    free(want);
}

/* Unstable: keys ordered, the same multiset of records (tags unique, so
 * sorting by tag must give back the input), and the same array on every
 * worker count. */
static void check_unstable(size_t n, int shape)
{
    rec *first = NULL;
    for (int w = 1; w <= 4; w++) {
        rec *got = records(shape, n);
        int err = fg_parallel_sort(pools[w], got, n, sizeof *got, rec_cmp);
        cr_assert_eq(err, 0, "%s", fg_strerror(err));
        for (size_t i = 1; i < n; i++)
            cr_assert_leq(got[i - 1].key, got[i].key, "unsorted at %zu, n %zu, %s, %d workers",
                          i, n, shape_name[shape], w);
        if (first == NULL) {
            first = got;
            continue;
        }
        cr_assert_eq(memcmp(got, first, n * sizeof *got), 0,
                     "n %zu, %s: %d workers ordered equal keys unlike 1 worker", n,
                     shape_name[shape], w);
        free(got);
    }
    rec *back = first, *input = records(shape, n);
    uint8_t *seen = calloc(n + 1, 1);
    for (size_t i = 0; i < n; i++) {
        cr_assert_lt(back[i].tag, n);
        cr_assert_eq(seen[back[i].tag], 0, "tag %llu twice", (unsigned long long)back[i].tag);
        seen[back[i].tag] = 1;
        cr_assert_eq(back[i].key, input[back[i].tag].key, "record %llu changed its key",
                     (unsigned long long)back[i].tag);
    }
    free(seen);
    free(input);
    free(first);
}

/* FG_PARALLEL_SORT on records, comparing keys only: stable, so exactly
 * the reference ordered by (key, tag); and on doubles. */
#define rec_before(a, b) ((a).key < (b).key)
FG_PARALLEL_SORT(typed_rec_sort, rec, rec_before)
#define double_before(a, b) ((a) < (b))
FG_PARALLEL_SORT(typed_double_sort, double, double_before)

static void check_typed(size_t n, int shape)
{
    rec *want = records(shape, n);
    qsort(want, n, sizeof *want, rec_cmp_tag);
    for (int w = 1; w <= 4; w++) {
        rec *got = records(shape, n);
        int err = typed_rec_sort(pools[w], got, n);
        cr_assert_eq(err, 0, "%s", fg_strerror(err));
        cr_assert_eq(memcmp(got, want, n * sizeof *got), 0, "typed sort, n %zu, %s, %d workers",
                     n, shape_name[shape], w);
        free(got);
    }
    free(want);
}

static int double_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const size_t sizes[] = { 0, 1, 2, 3, 16, 17, FG_SORT_GRAIN - 1, FG_SORT_GRAIN,
                                FG_SORT_GRAIN + 1, 2 * FG_SORT_GRAIN + 1, 100003 };

Test(sort, stable_sizes_and_shapes, .init = pools_up, .fini = pools_down)
{
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int shape = 0; shape < NSHAPES; shape++)
            check_stable(sizes[s], shape);
}

Test(sort, typed_sizes_and_shapes, .init = pools_up, .fini = pools_down)
{
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int shape = 0; shape < NSHAPES; shape++)
            check_typed(sizes[s], shape);
}

/* Doubles (no NaN: < is a strict weak order on the rest), against qsort. */
Test(sort, typed_doubles, .init = pools_up, .fini = pools_down)
{
    const size_t n = 300007;
    double *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
    for (size_t i = 0; i < n; i++)
        want[i] = (double)(int64_t)(mix(i) % 2000001) / 7.0 - 1e5;
    memcpy(got, want, n * sizeof *got);
    qsort(want, n, sizeof *want, double_cmp);
    for (int w = 1; w <= 4; w += 3) {
        double *x = malloc(n * sizeof *x);
        memcpy(x, got, n * sizeof *x);
        cr_assert_eq(typed_double_sort(pools[w], x, n), 0);
        cr_assert_eq(memcmp(x, want, n * sizeof *x), 0, "typed doubles on %d workers", w);
        free(x);
    }
    free(want);
    free(got);
}

Test(sort, unstable_sizes_and_shapes, .init = pools_up, .fini = pools_down)
{
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int shape = 0; shape < NSHAPES; shape++)
            check_unstable(sizes[s], shape);
}

Test(sort, large, .init = pools_up, .fini = pools_down)
{
    check_stable(1000003, RANDOM);
    check_stable(1000003, FEW);
    check_unstable(1000003, RANDOM);
    check_unstable(1000003, EQUAL);
}

/* ----------------------------------------------- the killer and wide rows */

/* McIlroy's adversary against median-of-3 quicksorts ("A killer adversary
 * for quicksort", 1999): keys are decided while the sort compares them, so
 * that every pivot is nearly the smallest.  The depth budget must turn the
 * sort into heapsort: the comparisons stay near n log n. */
static int *adv_val, adv_gas, adv_candidate;
static size_t adv_ncmp;
static int *adv_base;

static int adv_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    adv_ncmp++;
    if (adv_val[x] == adv_gas && adv_val[y] == adv_gas) {
        if (x == adv_candidate)
            adv_val[x] = adv_base[0]++;
        else
            adv_val[y] = adv_base[0]++;
    }
    if (adv_val[x] == adv_gas)
        adv_candidate = x;
    else if (adv_val[y] == adv_gas)
        adv_candidate = y;
    return (adv_val[x] > adv_val[y]) - (adv_val[x] < adv_val[y]);
}

Test(sort, adversary_stays_n_log_n, .init = pools_up, .fini = pools_down)
{
    const size_t n = 200000;
    int *ptr = malloc(n * sizeof *ptr), next = 0;
    adv_val = malloc(n * sizeof *adv_val);
    adv_gas = (int)n;
    adv_base = &next;
    for (size_t i = 0; i < n; i++) {
        ptr[i] = (int)i;
        adv_val[i] = adv_gas;
    }
    adv_ncmp = 0;
    /* One worker: the adversary's state is not shared across threads. */
    cr_assert_eq(fg_parallel_sort(pools[1], ptr, n, sizeof *ptr, adv_cmp), 0);
    for (size_t i = 1; i < n; i++)
        cr_assert_leq(adv_val[ptr[i - 1]], adv_val[ptr[i]]);
    /* n log2 n is 3.5 million; a quadratic sort would need about 2 * 10^10. */
    cr_assert_lt(adv_ncmp, (size_t)35000000, "%zu comparisons", adv_ncmp);
    free(ptr);
    free(adv_val);
}

typedef struct wide {
    uint32_t key;
    unsigned char pad[97]; /* 101 bytes: not a multiple of anything */
} wide;

static int wide_cmp(const void *a, const void *b)
{
    uint32_t x = ((const wide *)a)->key, y = ((const wide *)b)->key;
    return (x > y) - (x < y);
}

static uint64_t wide_index(const wide *w)
{
    uint64_t i;
    memcpy(&i, w->pad, 8);
    return i;
}

/* Rows move whole: each keeps its input index (pad[0..8)), the key made
 * from it, and its filler bytes; the stable sort also keeps indices
 * ascending among equal keys. */
Test(sort, wide_elements, .init = pools_up, .fini = pools_down)
{
    const size_t n = 30011;
    wide *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    for (size_t i = 0; i < n; i++) {
        a[i].key = (uint32_t)(mix(i) % 5000);
        uint64_t idx = i;
        memcpy(a[i].pad, &idx, 8);
        for (size_t j = 8; j < sizeof a[i].pad; j++)
            a[i].pad[j] = (unsigned char)(i + j);
    }
    memcpy(b, a, n * sizeof *a);
    cr_assert_eq(fg_parallel_sort(pools[2], a, n, sizeof *a, wide_cmp), 0);
    cr_assert_eq(fg_parallel_stable_sort(pools[2], b, n, sizeof *b, wide_cmp), 0);
    for (size_t i = 0; i < n; i++) {
        const wide *rows[2] = { &a[i], &b[i] };
        for (int k = 0; k < 2; k++) {
            uint64_t idx = wide_index(rows[k]);
            cr_assert_lt(idx, n);
            cr_assert_eq(rows[k]->key, (uint32_t)(mix(idx) % 5000), "row %zu torn", i);
            for (size_t j = 8; j < sizeof rows[k]->pad; j++)
                cr_assert_eq(rows[k]->pad[j], (unsigned char)(idx + j), "row %zu torn", i);
        }
        if (i > 0) {
            cr_assert_leq(a[i - 1].key, a[i].key);
            cr_assert(b[i - 1].key < b[i].key ||
                      (b[i - 1].key == b[i].key && wide_index(&b[i - 1]) < wide_index(&b[i])),
                      "stable sort: row %zu out of order", i);
        }
    }
    free(a);
    free(b);
}

/* ------------------------------------------------------- radix sorts */

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* totalOrder, stated on the bits: the sign first; positives by magnitude
 * ascending, negatives descending. */
static int total_cmp(const void *a, const void *b)
{
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    int sx = (int)(x >> 63), sy = (int)(y >> 63);
    if (sx != sy)
        return sx ? -1 : 1;
    return sx ? (x < y) - (x > y) : (x > y) - (x < y);
}

static const size_t radix_sizes[] = { 0, 1, 2, 31, 65535, 65536, 65537, 200003, 1000003 };

static uint64_t u64_key(int shape, size_t i, size_t n)
{
    switch (shape) {
    case RANDOM: return mix(i);
    case FEW: return mix(i % 3) & 0xff00000000000000ull; /* one digit varies */
    default: return (uint64_t)key_of(shape, i, n);
    }
}

Test(sort, radix_u64, .init = pools_up, .fini = pools_down)
{
    for (size_t s = 0; s < sizeof radix_sizes / sizeof radix_sizes[0]; s++) {
        size_t n = radix_sizes[s];
        uint64_t *want = malloc((n + 1) * 8), *got = malloc((n + 1) * 8);
        for (int shape = 0; shape < NSHAPES; shape++) {
            for (size_t i = 0; i < n; i++)
                want[i] = u64_key(shape, i, n);
            qsort(want, n, 8, u64_cmp);
            for (int w = 1; w <= 4; w += 3) {
                for (size_t i = 0; i < n; i++)
                    got[i] = u64_key(shape, i, n);
                cr_assert_eq(fg_parallel_sort_u64(pools[w], got, n), 0);
                cr_assert_eq(memcmp(got, want, n * 8), 0, "u64 n %zu %s %d workers", n,
                             shape_name[shape], w);
            }
        }
        free(want);
        free(got);
    }
}

Test(sort, radix_i64, .init = pools_up, .fini = pools_down)
{
    const int64_t edge[] = { INT64_MIN, INT64_MAX, -1, 0, 1, INT64_MIN + 1, INT64_MAX - 1 };
    for (size_t s = 0; s < sizeof radix_sizes / sizeof radix_sizes[0]; s++) {
        size_t n = radix_sizes[s];
        int64_t *want = malloc((n + 1) * 8), *got = malloc((n + 1) * 8);
        for (size_t i = 0; i < n; i++)
            want[i] = i % 97 < 7 ? edge[i % 97] : (int64_t)mix(i);
        memcpy(got, want, n * 8);
        qsort(want, n, 8, i64_cmp);
        cr_assert_eq(fg_parallel_sort_i64(pools[2], got, n), 0);
        cr_assert_eq(memcmp(got, want, n * 8), 0, "i64 n %zu", n);
        free(want);
        free(got);
    }
}

static double from_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, 8);
    return d;
}

Test(sort, radix_double_total_order, .init = pools_up, .fini = pools_down)
{
    const double special[] = { NAN, -NAN, 0.0, -0.0, INFINITY, -INFINITY, 1.0, -1.0,
                               5e-324, -5e-324, 1.7976931348623157e308,
                               from_bits(0x7ff0000000000001ull), /* signalling NaN */
                               from_bits(0xfff8000000000123ull) };
    const size_t nspecial = sizeof special / sizeof special[0];
    for (size_t s = 0; s < sizeof radix_sizes / sizeof radix_sizes[0]; s++) {
        size_t n = radix_sizes[s];
        double *want = malloc((n + 1) * 8), *got = malloc((n + 1) * 8);
        for (size_t i = 0; i < n; i++)
            want[i] = i % 50 < nspecial ? special[i % 50]
                                        : ((double)(mix(i) >> 11) / 9007199254740992.0 - 0.3) *
                                              pow(10.0, (double)(mix(i + n) % 40) - 20.0);
        memcpy(got, want, n * 8);
        qsort(want, n, 8, total_cmp);
        for (int w = 1; w <= 2; w++) {
            memcpy(got, want, n * 8);
            for (size_t i = 0; i < n; i++) /* shuffle back to an unsorted order */
                got[i] = want[(i * 7919) % n];
            cr_assert_eq(fg_parallel_sort_double(pools[w], got, n), 0);
            cr_assert_eq(memcmp(got, want, n * 8), 0, "double n %zu %d workers", n, w);
        }
        free(want);
        free(got);
    }
}

/* The documented order of the special values, spelled out. */
Test(sort, double_specials_in_order, .init = pools_up, .fini = pools_down)
{
    double v[] = { NAN, 1.0, -0.0, INFINITY, 0.0, -NAN, -INFINITY, -1.0 };
    cr_assert_eq(fg_parallel_sort_double(pools[2], v, 8), 0);
    cr_assert(isnan(v[0]) && signbit(v[0]));
    cr_assert(isinf(v[1]) && v[1] < 0);
    cr_assert_eq(v[2], -1.0);
    cr_assert(v[3] == 0.0 && signbit(v[3]));
    cr_assert(v[4] == 0.0 && !signbit(v[4]));
    cr_assert_eq(v[5], 1.0);
    cr_assert(isinf(v[6]) && v[6] > 0);
    cr_assert(isnan(v[7]) && !signbit(v[7]));
}

/* A sort started inside a task on a worker, beside another. */
typedef struct nested {
    fg_pool *pool;
    double *d;
    rec *r;
    size_t n;
    int err;
} nested;

static int sort_doubles_task(void *arg)
{
    nested *t = arg;
    t->err = fg_parallel_sort_double(t->pool, t->d, t->n);
    return 0;
}

static int sort_records_task(void *arg)
{
    nested *t = arg;
    t->err = fg_parallel_stable_sort(t->pool, t->r, t->n, sizeof(rec), rec_cmp);
    return 0;
}

Test(sort, from_workers, .init = pools_up, .fini = pools_down)
{
    const size_t n = 300007;
    double *d = malloc(n * 8);
    rec *r = records(FEW, n), *want = records(FEW, n);
    for (size_t i = 0; i < n; i++)
        d[i] = (double)(n - i);
    nested x = { pools[2], d, NULL, n, -1 }, y = { pools[2], NULL, r, n, -1 };
    cr_assert_eq(fg_join(pools[2], sort_doubles_task, &x, sort_records_task, &y), 0);
    cr_assert_eq(x.err, 0);
    cr_assert_eq(y.err, 0);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(d[i], (double)(i + 1));
    qsort(want, n, sizeof *want, rec_cmp_tag);
    cr_assert_eq(memcmp(r, want, n * sizeof *r), 0);
    free(d);
    free(r);
    free(want);
}
