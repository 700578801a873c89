/* omp.h: what the OpenMP peers share.  Each *_omp.c is built twice: by gcc
 * with -fopenmp against libgomp (runtime names "gomp..."), and by clang
 * with -fopenmp=libomp against LLVM's libomp ("libomp...", the build
 * defines BENCH_LIBOMP=1).  Run-time settings stay at the runtimes'
 * defaults (OMP_WAIT_POLICY, KMP_BLOCKTIME...), as a user would get them. */
#ifndef FG_BENCH_OMP_H
#define FG_BENCH_OMP_H

#include <dlfcn.h>
#include <omp.h>

#include "bench.h"

#if defined(BENCH_LIBOMP) && BENCH_LIBOMP
#  define BENCH_OMP "libomp"
#else
#  define BENCH_OMP "gomp"
#endif

/* The runtime the loader really picked must be the one the CSV names:
 * libomp exports kmp_* entry points, libgomp none (and libomp also answers
 * to GOMP_*, so a clang build linked to "libgomp.so" could silently be
 * libomp).  0 if it matches, else a message and 1. */
static inline int bench_omp_check_runtime(void)
{
    int is_libomp = dlsym(RTLD_DEFAULT, "kmp_get_blocktime") != NULL;
    int want_libomp = BENCH_OMP[0] == 'l';
    if (is_libomp == want_libomp)
        return 0;
    fprintf(stderr, "built as %s but running on %s\n", BENCH_OMP,
            is_libomp ? "libomp" : "another OpenMP runtime");
    return 1;
}

/* Seconds for fn(arg) started by one thread of a team of `threads`, the
 * usual `parallel` + `single` around a task tree.  The clock includes the
 * team's start, as forage's includes handing the root to a worker. */
static inline double bench_omp_tasks(int threads, void (*fn)(void *), void *arg)
{
    omp_set_dynamic(0);
    double t0 = bench_now();
#pragma omp parallel num_threads(threads)
#pragma omp single
    fn(arg);
    return bench_now() - t0;
}

#endif
