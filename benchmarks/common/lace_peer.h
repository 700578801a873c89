/* lace_peer.h: what the Lace peers (<w>_lace.c, built as <w>-lace) share.
 *
 * Lace (van Dijk and van de Pol, Euro-Par 2014 workshops) is one process-
 * wide pool: lace_start(P, deque size) starts P workers, RUN(task, ...) from
 * the main thread (not a worker) hands the root to them and waits.  Its
 * workers busy-wait for work between RUNs, as Lace is meant to be used:
 * suspending them (lace_suspend) would make every RUN pay their wake-up and,
 * with the main thread spinning until they are asleep, a scheduler time
 * slice (8 ms per RUN at P = 2 on 2 cores here).  So:
 *   - a variant run starts the pool of its thread count outside the clock,
 *     if it is not running yet, and waits until every worker has run a task
 *     (TOGETHER), so that none is still starting when the clock starts;
 *   - the pool stays up for the next reps of the same thread count;
 *   - the sequential twin stops it first (bench_lace_twin), so that spinning
 *     workers never take a core from the twin. */
#ifndef FG_BENCH_LACE_PEER_H
#define FG_BENCH_LACE_PEER_H

#include <lace.h>

#include "bench.h"

/* Tasks each worker's deque holds: Lace aborts when a worker's spawns
 * outgrow it (the UTS root spawns all its children at once). */
#define BENCH_LACE_DEQUE 100000

static int bench_lace_workers; /* the running pool's thread count; 0: none */

VOID_TASK_0(bench_lace_ready)
{
}

static inline void bench_lace_stop(void)
{
    if (bench_lace_workers != 0)
        lace_stop();
    bench_lace_workers = 0;
}

/* A running pool of `threads` workers, each with room for `extra` more
 * tasks than BENCH_LACE_DEQUE, all of them up. */
static inline void bench_lace_pool(int threads, size_t extra)
{
    if (bench_lace_workers == threads)
        return;
    bench_lace_stop();
    lace_start((unsigned)threads, BENCH_LACE_DEQUE + extra);
    TOGETHER(bench_lace_ready);
    bench_lace_workers = threads;
}

/* The twin `seq` timed with no Lace worker running. */
static inline double bench_lace_twin(double (*seq)(long, uint64_t *), long param,
                                     uint64_t *checksum)
{
    bench_lace_stop();
    return seq(param, checksum);
}

#endif
