/* tbb.hpp: what the oneTBB peers share.  A run gets a task_arena of
 * `threads` slots (the calling thread plus threads - 1 workers), built and
 * initialised outside the clock; only arena.execute() is timed, as forage's
 * programs time only the call on an existing pool. */
#ifndef FG_BENCH_TBB_HPP
#define FG_BENCH_TBB_HPP

#include <tbb/task_arena.h>

#include "bench.h"

template <class F>
static double bench_tbb_run(int threads, F &&body)
{
    tbb::task_arena arena(threads);
    arena.initialize();
    double t0 = bench_now();
    arena.execute(body);
    return bench_now() - t0;
}

#endif
