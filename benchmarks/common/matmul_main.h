/* matmul_main.h: what the matmul programs (matmul.c, matmul_lace.c,
 * matmul_omp.c, matmul_tbb.cpp) share around their task code: the three
 * matrices, the whole product as one task argument, the sequential twin
 * and main's setup.  Header-only: a program includes it once (the twin
 * and mm_whole are plain static, as they were in each program, so that
 * the compilers inline them as they did). */
#ifndef FG_BENCH_MATMUL_MAIN_H
#define FG_BENCH_MATMUL_MAIN_H

#include "driver.h"
#include "matmul.h"

static double *ma, *mb, *mc; /* A, B and C, n x n each */

/* C cleared; the whole product C += A * B as one task argument. */
static mm_arg mm_whole(size_t n)
{
    memset(mc, 0, n * n * sizeof *mc);
    mm_arg m = { mc, ma, mb, n, n };
    return m;
}

/* The sequential twin: the same product by mm_seq. */
static double mm_run_seq(long n, uint64_t *checksum)
{
    mm_arg m = mm_whole((size_t)n);
    double t0 = bench_now();
    mm_seq(&m);
    double t = bench_now() - t0;
    *checksum = mm_checksum(mc, (size_t)n);
    return t;
}

/* Parse the arguments (--n 1024 by default), check n and make the
 * matrices: 0, or main's exit code. */
static inline int mm_setup(int argc, char **argv, bench_opts *o)
{
    int rc = bench_parse(argc, argv, o, 1024);
    if (rc != 0)
        return rc;
    size_t n = (size_t)o->param;
    if (n < 1 || n > 16384 || (n & (n - 1)) != 0) {
        fprintf(stderr, "matmul: --n must be a power of two up to 16384\n");
        return 2;
    }
    ma = (double *)malloc(n * n * sizeof *ma);
    mb = (double *)malloc(n * n * sizeof *mb);
    mc = (double *)malloc(n * n * sizeof *mc);
    if (ma == NULL || mb == NULL || mc == NULL)
        return 1;
    mm_init(ma, mb, mc, n);
    return 0;
}

static inline void mm_free(void)
{
    free(ma);
    free(mb);
    free(mc);
}

#endif
