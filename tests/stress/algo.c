/* algo.c: scans and sorts (issue 15) running at once on one pool, from
 * external threads and from inside tasks, each checked against a
 * sequential reference.
 *
 * Every round of every caller draws a job from the seed: a scan (generic or
 * FG_PARALLEL_SCAN, inclusive or exclusive, in place or not, with a random
 * grain) of 2x2 matrices mod 2^64 (not commutative, so any reordering
 * shows), a stable sort of tagged records (must equal the reference ordered
 * by key then tag; generic or FG_PARALLEL_SORT), an unstable sort (keys
 * ordered, every tag once), or a radix sort of doubles with NaNs and signed
 * zeros (must equal the totalOrder reference bit for bit).  EXTERNAL threads call directly; the main thread
 * calls from inside an fg_join of two jobs, so workers run the algorithms'
 * own joins nested in other work.
 */
#include "forage.h"

#include "harness.h"

#define EXTERNAL 2
#if STRESS_TSAN
#  define N_MAX 6000
#else
#  define N_MAX 60000
#endif

static fg_pool *pool;
static atomic_ulong jobs_done;

typedef struct mat {
    uint64_t a, b, c, d;
} mat;

static inline mat mat_times(mat x, mat y)
{
    return (mat){ x.a * y.a + x.b * y.c, x.a * y.b + x.b * y.d, x.c * y.a + x.d * y.c,
                  x.c * y.b + x.d * y.d };
}

static void mat_combine(void *l, const void *r, void *ctx)
{
    (void)ctx;
    *(mat *)l = mat_times(*(mat *)l, *(const mat *)r);
}

FG_PARALLEL_SCAN(mat_scan, mat, mat_times)

typedef struct rec {
    uint64_t key, tag;
} rec;

static int rec_cmp(const void *a, const void *b)
{
    uint64_t x = ((const rec *)a)->key, y = ((const rec *)b)->key;
    return (x > y) - (x < y);
}

static int rec_cmp_tag(const void *a, const void *b)
{
    int c = rec_cmp(a, b);
    uint64_t x = ((const rec *)a)->tag, y = ((const rec *)b)->tag;
    return c != 0 ? c : (x > y) - (x < y);
}

static int total_cmp(const void *a, const void *b)
{
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    if ((x >> 63) != (y >> 63))
        return x >> 63 ? -1 : 1;
    return x >> 63 ? (x < y) - (x > y) : (x > y) - (x < y);
}

static void job_scan(stress_rng *r, size_t n)
{
    mat *in = malloc((n + 1) * sizeof *in), *out = malloc((n + 1) * sizeof *out);
    mat *want = malloc((n + 1) * sizeof *want);
    for (size_t i = 0; i < n; i++)
        in[i] = (mat){ stress_rng_next(r) | 1, stress_rng_next(r), stress_rng_next(r),
                       stress_rng_next(r) | 1 };
    int kind = (int)stress_rng_below(r, 2), in_place = (int)stress_rng_below(r, 2);
    int typed = (int)stress_rng_below(r, 2);
    size_t grain = 1 + stress_rng_below(r, 2000);
    const mat id = { 1, 0, 0, 1 };
    mat acc = id;
    for (size_t i = 0; i < n; i++) {
        if (kind == FG_SCAN_EXCLUSIVE)
            want[i] = acc;
        acc = mat_times(acc, in[i]);
        if (kind == FG_SCAN_INCLUSIVE)
            want[i] = acc;
    }
    mat *dst = in_place ? in : out;
    fg_scan_opts o = FG_SCAN_OPTS_INIT(.kind = kind, .grain = grain);
    int rc = typed ? mat_scan(pool, in, dst, n, id, &o)
                   : fg_parallel_scan(pool, in, dst, n, sizeof(mat), &id, mat_combine, NULL, &o);
    if (rc != 0 || (n > 0 && memcmp(dst, want, n * sizeof *dst) != 0))
        stress_fail("scan n=%zu grain=%zu kind=%d in_place=%d typed=%d: rc %d or wrong result",
                    n, grain, kind, in_place, typed, rc);
    free(in);
    free(out);
    free(want);
}

#define rec_before(x, y) ((x).key < (y).key)
FG_PARALLEL_SORT(typed_rec_sort, rec, rec_before)

/* stable: 0 fg_parallel_sort, 1 fg_parallel_stable_sort, 2 FG_PARALLEL_SORT */
static void job_sort(stress_rng *r, size_t n, int stable)
{
    rec *a = malloc((n + 1) * sizeof *a), *want = malloc((n + 1) * sizeof *want);
    uint64_t range = 1 + stress_rng_below(r, 3) * 1000; /* many duplicates, or few */
    for (size_t i = 0; i < n; i++)
        a[i] = (rec){ stress_rng_next(r) % (range == 1 ? UINT64_MAX : range), i };
    memcpy(want, a, n * sizeof *a);
    qsort(want, n, sizeof *want, rec_cmp_tag);
    int rc = stable == 2 ? typed_rec_sort(pool, a, n)
             : stable ? fg_parallel_stable_sort(pool, a, n, sizeof *a, rec_cmp)
                      : fg_parallel_sort(pool, a, n, sizeof *a, rec_cmp);
    int bad = rc != 0;
    if (stable) {
        bad |= n > 0 && memcmp(a, want, n * sizeof *a) != 0;
    } else { /* keys as the reference's, tags a permutation */
        unsigned char *seen = calloc(n + 1, 1);
        for (size_t i = 0; i < n && !bad; i++) {
            bad |= a[i].key != want[i].key || a[i].tag >= n || seen[a[i].tag];
            if (!bad)
                seen[a[i].tag] = 1;
        }
        free(seen);
    }
    if (bad)
        stress_fail("%s sort n=%zu: rc %d or wrong order",
                    stable == 2 ? "typed" : stable ? "stable" : "unstable", n, rc);
    free(a);
    free(want);
}

static void job_radix(stress_rng *r, size_t n)
{
    double *a = malloc((n + 1) * 8), *want = malloc((n + 1) * 8);
    for (size_t i = 0; i < n; i++) {
        uint64_t bits = stress_rng_next(r);
        switch (stress_rng_below(r, 8)) {
        case 0: bits = 0x8000000000000000ull; break; /* -0.0 */
        case 1: bits = 0; break;
        case 2: bits |= 0x7ff0000000000001ull; break; /* a NaN of either sign */
        default: break;
        }
        memcpy(&a[i], &bits, 8);
    }
    memcpy(want, a, n * 8);
    qsort(want, n, 8, total_cmp);
    int rc = fg_parallel_sort_double(pool, a, n);
    if (rc != 0 || (n > 0 && memcmp(a, want, n * 8) != 0))
        stress_fail("radix sort of doubles n=%zu: rc %d or wrong order", n, rc);
    free(a);
    free(want);
}

static void job(uint64_t seed)
{
    stress_rng r = stress_rng_make(seed, 1);
    size_t n = stress_rng_below(&r, N_MAX + 1);
    switch (stress_rng_below(&r, 5)) {
    case 0: job_scan(&r, n); break;
    case 1: job_sort(&r, n, 1); break;
    case 2: job_sort(&r, n, 0); break;
    case 3: job_sort(&r, n, 2); break;
    default: job_radix(&r, n); break;
    }
    atomic_fetch_add(&jobs_done, 1);
}

static int job_task(void *arg)
{
    job(*(uint64_t *)arg);
    return 0;
}

typedef struct ext {
    pthread_t t;
    uint64_t seed;
} ext;

static void *external_main(void *arg)
{
    ext *e = arg;
    stress_rng r = stress_rng_make(e->seed, 2);
    uint64_t start = stress_now_ns();
    while (stress_seconds_since(start) < stress_cfg.seconds && stress_failure_count() == 0)
        job(stress_rng_next(&r));
    return NULL;
}

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 4, 1, 64, 2.0, "pool workers (default 4)");
    printf("algo: workers=%d seconds=%g external=%d n_max=%d%s\n", stress_cfg.threads,
           stress_cfg.seconds, EXTERNAL, N_MAX, STRESS_TSAN ? " tsan" : "");
    stress_watchdog_start(stress_cfg.seconds * 3 + 120);
    stress_rng rng = stress_rng_make(stress_cfg.seed, 0);
    fg_config cfg = stress_pool_config(&rng, stress_cfg.threads);
    if (fg_pool_create(&pool, &cfg) != 0) {
        stress_fail("fg_pool_create");
        return stress_finish();
    }
    ext e[EXTERNAL];
    for (int i = 0; i < EXTERNAL; i++) {
        e[i].seed = stress_rng_next(&rng);
        pthread_create(&e[i].t, NULL, external_main, &e[i]);
    }
    uint64_t start = stress_now_ns();
    while (stress_seconds_since(start) < stress_cfg.seconds && stress_failure_count() == 0) {
        uint64_t a = stress_rng_next(&rng), b = stress_rng_next(&rng);
        if (fg_join(pool, job_task, &a, job_task, &b) != 0)
            stress_fail("join of two jobs failed");
    }
    for (int i = 0; i < EXTERNAL; i++)
        pthread_join(e[i].t, NULL);
    fg_pool_destroy(pool);
    printf("algo: jobs=%lu\n", atomic_load(&jobs_done));
    stress_total("jobs", atomic_load(&jobs_done));
    return stress_finish();
}
