/* benchmarks/common/pools.h: one forage pool per thread count, made on
 * first use (the warm-up) and kept for the timed reps, as a program would
 * keep its pool between loops.  Used by the programs that time forage
 * through calls taking a pool (parallel_for, scan, sort). */
#ifndef BENCH_POOLS_H
#define BENCH_POOLS_H

#include <stdio.h>

#include <forage.h>

#include "bench.h"

static struct {
    int threads;
    fg_pool *pool;
} bench_pools[BENCH_MAX_THREADS];
static int bench_npools;

/* The pool of `threads` workers; NULL (said on stderr, naming `program`)
 * when it cannot be made. */
static inline fg_pool *bench_pool_for(const char *program, int threads)
{
    for (int i = 0; i < bench_npools; i++)
        if (bench_pools[i].threads == threads)
            return bench_pools[i].pool;
    if (bench_npools == BENCH_MAX_THREADS)
        return NULL;
    int err = fg_pool_create(&bench_pools[bench_npools].pool, FG_CONFIG(.workers = threads));
    if (err < 0) {
        fprintf(stderr, "%s: fg_pool_create: %s\n", program, fg_strerror(err));
        return NULL;
    }
    bench_pools[bench_npools].threads = threads;
    return bench_pools[bench_npools++].pool;
}

static inline void bench_pools_destroy(void)
{
    for (int i = 0; i < bench_npools; i++)
        fg_pool_destroy(bench_pools[i].pool);
    bench_npools = 0;
}

#endif
