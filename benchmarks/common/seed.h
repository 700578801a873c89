/* seed.h: the seed notebook's workload: --n tasks (default 40000), task i
 * = my_task(i) = the sum of the integers below i, so task i costs about i
 * additions (a triangular load: the last half of the indices holds 3/4 of
 * the work).  Checksum: the sum of all results, C(n, 3).
 *
 * The task itself is examples/seed_task.h's, shared with the demo.  Its
 * loop must stay a loop: without the empty asm, clang 14 -O3 turns it into
 * the closed form n(n-1)/2 (no backward branch left), and a runtime would
 * then be timed on nothing.  How it was verified, for every binary that
 * runs it (seed, seed-gomp, seed-tbb by gcc/g++ 12 and seed-libomp by
 * clang 14, all -O3):
 *     objdump -d --no-show-raw-insn --demangle build-bench/benchmarks/seed-libomp \
 *         | awk '/<my_task[^>]*>:$/,/ret/'
 * shows the loop `add %rcx,%rax; add $0x1,%rcx; cmp %rcx,%rdi; jne` (one
 * scalar add per m, no multiply, no xmm/ymm register), the same four
 * instructions in all four binaries.  benchmarks/matrix.py --quick (so
 * `./run.sh bench --quick` and CI) repeats the check on every build: it
 * fails if my_task has no backward branch or uses a vector register.
 */
#ifndef FG_BENCH_SEED_H
#define FG_BENCH_SEED_H

#include "bench.h"
#include "kernel.h"

#include "../../examples/seed_task.h"

/* The sequential twin: the plain loop [my_task(i) for i in range(n)]. */
BENCH_NOINLINE static void seed_seq(uint64_t *results, size_t n)
{
    for (size_t i = 0; i < n; i++)
        results[i] = my_task(i);
}

/* The results array of every program (calloc'd by its main, --n + 1
 * entries). */
static uint64_t *seed_results __attribute__((unused));

/* The twin timed into seed_results, as bench_seq_fn. */
static inline double seed_run_seq(long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    memset(seed_results, 0, n * sizeof *seed_results);
    double t0 = bench_now();
    seed_seq(seed_results, n);
    double t = bench_now() - t0;
    *checksum = seed_checksum(seed_results, n);
    return t;
}

/* The warm-up size of every seed program: n / 4 tasks, a 16th of the
 * (triangular) work. */
static inline long seed_warmup_param(long n)
{
    return n >= 4 ? n / 4 : n;
}

#endif
