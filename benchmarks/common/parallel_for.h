/* parallel_for.h: --n tiny iterations (default 10^7): out[i] = pf_mix(i),
 * a few integer instructions and one 4-byte store, so the loop measures
 * how cheaply a runtime hands out chunks of a given grain.
 *
 * forage and oneTBB hand a range to pf_body (noinline, the same machine
 * code as the sequential twin, which is one pf_body call over everything).
 * OpenMP's `for` and `taskloop` take the loop itself; their outlined chunk
 * loop inlines pf_mix exactly as pf_body does.  Every runtime sweeps the
 * grains 1, 16, 256, 4096 and 65536.  Checksum: the sum of out[], compared
 * with the twin's. */
#ifndef FG_BENCH_PARALLEL_FOR_H
#define FG_BENCH_PARALLEL_FOR_H

#include "bench.h"
#include "kernel.h"

static inline uint32_t pf_mix(size_t i)
{
    uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(x ^ (x >> 29));
}

/* One chunk [begin, end); ctx is the uint32_t output array.  The signature
 * is forage's fg_range_fn. */
BENCH_NOINLINE static int pf_body(size_t begin, size_t end, void *ctx)
{
    uint32_t *out = (uint32_t *)ctx;
    for (size_t i = begin; i < end; i++)
        out[i] = pf_mix(i);
    return 0;
}

static inline uint64_t pf_checksum(const uint32_t *out, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += out[i];
    return s;
}

/* The output array of every program (calloc'd by its main, --n + 1
 * entries). */
static uint32_t *pf_out __attribute__((unused));

/* The twin timed over pf_out, as bench_seq_fn: one pf_body call over
 * everything. */
static inline double pf_run_seq(long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    memset(pf_out, 0, n * sizeof *pf_out);
    double t0 = bench_now();
    pf_body(0, n, pf_out);
    double t = bench_now() - t0;
    *checksum = pf_checksum(pf_out, n);
    return t;
}

/* The warm-up size of every parallel_for program: n / 8 iterations (the
 * timed runs clear the whole output array before the clock anyway). */
static inline long pf_warmup_param(long n)
{
    return n >= 8 ? n / 8 : n;
}

#endif
