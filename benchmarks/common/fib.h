/* fib.h: fib(n) without a cutoff, the raw cost of a fork-join pair.
 *
 * Every runtime's task does: leaf test, split into n-1 and n-2, run both
 * (one of them as a task), add up.  The sequential twin fib_seq has the
 * same shape: one struct argument, the n < 2 test and two real recursive
 * calls (noinline, so neither gcc nor clang turns one call into a loop).
 * Checked per binary by benchmarks/matrix.py --quick, which counts the
 * calls to fib_seq inside fib_seq in `objdump -d --demangle <program>`
 * (two for fib, fib-gomp, fib-libomp and fib-tbb).  So (T1 - Tseq) / joins
 * is the price of one spawn+join on one worker.  fib(n) makes fib(n+1) - 1
 * joins (63,245,985 for n = 38). */
#ifndef FG_BENCH_FIB_H
#define FG_BENCH_FIB_H

#include "bench.h"
#include "kernel.h"

typedef struct fib_arg {
    int n;
    uint64_t result;
} fib_arg;

/* n < 2: the result is n, no children. */
static inline int fib_is_leaf(fib_arg *a)
{
    if (a->n >= 2)
        return 0;
    a->result = (uint64_t)a->n;
    return 1;
}

static inline void fib_split(const fib_arg *a, fib_arg *x, fib_arg *y)
{
    x->n = a->n - 1;
    x->result = 0;
    y->n = a->n - 2;
    y->result = 0;
}

static inline void fib_add_up(fib_arg *a, const fib_arg *x, const fib_arg *y)
{
    a->result = x->result + y->result;
}

BENCH_NOINLINE static int fib_seq(void *p)
{
    fib_arg *a = (fib_arg *)p;
    if (fib_is_leaf(a))
        return 0;
    fib_arg x, y;
    fib_split(a, &x, &y);
    fib_seq(&x);
    fib_seq(&y);
    fib_add_up(a, &x, &y);
    return 0;
}

/* The twin timed on fib(n), as bench_seq_fn: seconds, *checksum fib(n). */
static inline double fib_run_seq(long n, uint64_t *checksum)
{
    fib_arg a = { (int)n, 0 };
    double t0 = bench_now();
    fib_seq(&a);
    double t = bench_now() - t0;
    *checksum = a.result;
    return t;
}

/* The warm-up size of every fib program: fib(n - 8), a 47th of the work,
 * still over a million tasks: enough to start threads and fill task pools
 * without paying a second fib(38) on a peer that takes 20 s for one. */
static inline long fib_warmup_param(long n)
{
    return n > 16 ? n - 8 : n;
}

/* fib(n + 1) - 1: the joins (internal nodes) of the call tree of fib(n). */
static inline uint64_t fib_joins(int n)
{
    uint64_t a = 0, b = 1;
    for (int i = 0; i < n + 1; i++) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    return a - 1;
}

#endif
