/* trivial.h: the trivial task of the façade's overhead figures (task i
 * stores i) and its plain loop, shared by trivial.c (thread backends) and
 * process.c (the process backend) so that both measure the same task. */
#ifndef BENCH_SEED_TRIVIAL_H
#define BENCH_SEED_TRIVIAL_H

#include <stddef.h>
#include <stdint.h>

#include "../common/bench.h"

static inline int trivial_task(size_t i, void *ctx, void *result)
{
    (void)ctx;
    *(uint64_t *)result = i;
    return 0;
}

/* The plain loop over the same tasks: seconds. */
static inline double trivial_seq(uint64_t *r, size_t n)
{
    double t0 = bench_now();
    for (size_t i = 0; i < n; i++)
        trivial_task(i, NULL, &r[i]);
    __asm__ volatile("" ::: "memory");
    return bench_now() - t0;
}

#endif
