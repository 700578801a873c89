/* scan.h: the scan workload, an inclusive prefix sum of --n 64-bit
 * integers (default 10^7), out of place: out[i] = in[0] + ... + in[i] mod
 * 2^64 (integers, so that every association gives the same bits).
 * Checksum: sum over i of (2i + 1) * out[i] mod 2^64. */
#ifndef FG_BENCH_SCAN_H
#define FG_BENCH_SCAN_H

#include "bench.h"

static uint64_t *scan_in __attribute__((unused));
static uint64_t *scan_out __attribute__((unused));

static inline int scan_setup(size_t n)
{
    scan_in = (uint64_t *)malloc((n + 1) * sizeof *scan_in);
    scan_out = (uint64_t *)calloc(n + 1, sizeof *scan_out);
    if (scan_in == NULL || scan_out == NULL)
        return 1;
    for (size_t i = 0; i < n; i++)
        scan_in[i] = ((uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull) >> 20;
    return 0;
}

static inline uint64_t scan_checksum(const uint64_t *out, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += (2 * (uint64_t)i + 1) * out[i];
    return s;
}

/* The twin: one sequential loop. */
static inline double scan_run_seq(long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    memset(scan_out, 0, n * sizeof *scan_out);
    double t0 = bench_now();
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        acc += scan_in[i];
        scan_out[i] = acc;
    }
    double t = bench_now() - t0;
    *checksum = scan_checksum(scan_out, n);
    return t;
}

/* The warm-up size of every scan program, forage's and its peer's: n / 8
 * elements (enough to start the threads and touch the code). */
static inline long scan_warmup_param(long n)
{
    return n >= 8 ? n / 8 : n;
}

#endif
