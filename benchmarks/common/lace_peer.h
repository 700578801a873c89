/* lace_peer.h: what the Lace peers (<w>_lace.c, built as <w>-lace) share.
 *
 * Lace (van Dijk and van de Pol, Euro-Par 2014 workshops) is one process-
 * wide pool: lace_start(P, deque size) starts P workers, RUN(task, ...) from
 * the main thread (not a worker) hands the root to them and waits.  A run
 * keeps the pool of its thread count between reps (started in the warm-up,
 * outside the clock) and restarts it only when the count changes.
 *
 * lace_start leaves the workers awake and spinning; lace_suspend right
 * after makes them sleep between runs, as forage's and the OpenMP peers'
 * idle workers do, so that they do not take a core from the sequential
 * twin.  Each RUN then wakes them (lace_resume) and lets them sleep again
 * when it returns: that wake-up is inside the clock, as forage's is. */
#ifndef FG_BENCH_LACE_PEER_H
#define FG_BENCH_LACE_PEER_H

#include <lace.h>

#include "bench.h"

/* Tasks each worker's deque holds: Lace aborts when a worker's spawns
 * outgrow it (the UTS root spawns all its children at once). */
#define BENCH_LACE_DEQUE 100000

static int bench_lace_workers; /* the running pool's thread count; 0: none */

static inline void bench_lace_stop(void)
{
    if (bench_lace_workers != 0)
        lace_stop();
    bench_lace_workers = 0;
}

/* A pool of `threads` workers, each with room for `extra` more tasks than
 * BENCH_LACE_DEQUE, asleep until the next RUN. */
static inline void bench_lace_pool(int threads, size_t extra)
{
    if (bench_lace_workers == threads)
        return;
    bench_lace_stop();
    lace_start((unsigned)threads, BENCH_LACE_DEQUE + extra);
    lace_suspend();
    bench_lace_workers = threads;
}

#endif
