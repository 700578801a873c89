/* sort.h: the sort workload, --n doubles (default 10^7) drawn uniformly
 * from [-5e5, 5e5) by a fixed generator, sorted ascending.  Every run
 * sorts a fresh copy of the same input (copied outside the clock).
 * Checksum: sum over i of (i + 1) * bits(a[i]) mod 2^64, which only the
 * sorted order gives.  The twin of forage's program is glibc's qsort. */
#ifndef FG_BENCH_SORT_H
#define FG_BENCH_SORT_H

#include "bench.h"

static double *sort_in __attribute__((unused));   /* the input, made once */
static double *sort_work __attribute__((unused)); /* what a run sorts */

static inline uint64_t sort_mix(uint64_t i)
{
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Allocate and fill the arrays for n elements: 0, or 1 out of memory. */
static inline int sort_setup(size_t n)
{
    sort_in = (double *)malloc((n + 1) * sizeof *sort_in);
    sort_work = (double *)malloc((n + 1) * sizeof *sort_work);
    if (sort_in == NULL || sort_work == NULL)
        return 1;
    for (size_t i = 0; i < n; i++)
        sort_in[i] = ((double)(sort_mix(i) >> 11) * 0x1p-53 - 0.5) * 1e6;
    return 0;
}

static inline void sort_reset(size_t n)
{
    memcpy(sort_work, sort_in, n * sizeof *sort_work);
}

static inline uint64_t sort_checksum(const double *a, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t bits;
        memcpy(&bits, &a[i], sizeof bits);
        s += (uint64_t)(i + 1) * bits;
    }
    return s;
}

/* qsort's comparator for doubles (the input has no NaN). */
static inline int sort_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The warm-up size of every sort program, forage's and its peer's: n / 8
 * keys (enough to start the threads and touch the code). */
static inline long sort_warmup_param(long n)
{
    return n >= 8 ? n / 8 : n;
}

#endif
