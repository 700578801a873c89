/* ctx_sort.c: quicksort with context tasks (fg_ctx_spawn / fg_ctx_sync),
 * against qsort, checked element by element.
 *
 *   forage-ctx-sort [--n N] [--workers P] [--cutoff C]
 *                   [--input random|sorted|reversed|equal]
 *
 * Each task partitions its range, spawns the left part, sorts the right
 * part itself, then syncs the left one: a thief may have sorted it
 * meanwhile.  The block is two words (pointer, length), copied into the
 * worker's ctx stack; below `cutoff` elements a range is sorted in place
 * with insertion sort. */
#include <forage.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct range {
    uint32_t *a;
    size_t n;
} range;

static size_t cutoff = 32;

static void insertion_sort(uint32_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t v = a[i];
        size_t j = i;
        for (; j > 0 && a[j - 1] > v; j--)
            a[j] = a[j - 1];
        a[j] = v;
    }
}

/* Hoare partition around the median of three; returns the left part's
 * length (both parts non-empty). */
static size_t partition(uint32_t *a, size_t n)
{
    uint32_t x = a[0], y = a[n / 2], z = a[n - 1];
    uint32_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    size_t i = 0, j = n - 1;
    for (;;) {
        while (a[i] < pivot)
            i++;
        while (a[j] > pivot)
            j--;
        if (i >= j)
            return j + 1;
        uint32_t t = a[i];
        a[i++] = a[j];
        a[j--] = t;
    }
}

static void sort_task(fg_ctx *cx, void *p)
{
    range *r = p;
    if (r->n <= cutoff) {
        insertion_sort(r->a, r->n);
        return;
    }
    size_t left = partition(r->a, r->n);
    range l = { r->a, left }, rest = { r->a + left, r->n - left };
    if (FG_CTX_SPAWN(cx, sort_task, l) != 0) { /* stack full: sort it here */
        sort_task(cx, &l);
        sort_task(cx, &rest);
        return;
    }
    sort_task(cx, &rest);
    FG_CTX_SYNC(cx, sort_task, l);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    size_t n = 10 * 1000 * 1000;
    int workers = 0;
    const char *input = "random";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--n") == 0)
            n = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--workers") == 0)
            workers = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--cutoff") == 0)
            cutoff = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--input") == 0)
            input = argv[i + 1];
        else {
            fprintf(stderr, "usage: %s [--n N] [--workers P] [--cutoff C] "
                    "[--input random|sorted|reversed|equal]\n", argv[0]);
            return 2;
        }
    }
    int pattern = strcmp(input, "random") == 0     ? 0
                  : strcmp(input, "sorted") == 0   ? 1
                  : strcmp(input, "reversed") == 0 ? 2
                  : strcmp(input, "equal") == 0    ? 3
                                                   : -1;
    if (n == 0 || cutoff < 2 || pattern < 0) {
        fprintf(stderr, "ctx-sort: --n must be >= 1, --cutoff >= 2, --input one of "
                        "random, sorted, reversed, equal\n");
        return 2;
    }
    uint32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    if (a == NULL || b == NULL) {
        fprintf(stderr, "ctx-sort: out of memory for %zu elements\n", n);
        return 1;
    }
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) { /* xorshift64: duplicates included */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t v = pattern == 0 ? (uint32_t)(x >> 40)
                     : pattern == 1 ? (uint32_t)i
                     : pattern == 2 ? (uint32_t)(n - i)
                                    : 7u;
        a[i] = b[i] = v;
    }
    fg_pool *pool;
    int err = fg_pool_create(&pool, FG_CONFIG(.workers = workers));
    if (err < 0) {
        fprintf(stderr, "ctx-sort: fg_pool_create: %s\n", fg_strerror(err));
        return 1;
    }
    double t0 = now();
    range all = { a, n };
    err = fg_ctx_run(pool, sort_task, &all);
    double tp = now() - t0;
    t0 = now();
    qsort(b, n, sizeof *b, cmp_u32);
    double ts = now() - t0;
    int workers_used = fg_pool_workers(pool);
    fg_pool_destroy(pool);
    if (err != 0 || memcmp(a, b, n * sizeof *a) != 0) {
        fprintf(stderr, "ctx-sort: WRONG (err %d): the result differs from qsort's\n", err);
        return 1;
    }
    printf("ctx-sort: %zu %s elements sorted, equal to qsort's; forage %d workers %.3f s, "
           "qsort %.3f s\n", n, input, workers_used, tp, ts);
    free(a);
    free(b);
    return 0;
}
