/* matmul.h: C += A * B for n x n doubles (n a power of two, row-major,
 * stride n), by recursive quadrants down to MM_LEAF x MM_LEAF blocks.
 *
 * A node runs its eight quadrant products in two phases of four: within a
 * phase the four write disjoint quadrants of C, so they may run in
 * parallel; the second phase adds onto the first.  Every runtime's task
 * does: leaf test (mm_leaf), then for each phase mm_phase, three products
 * as tasks and one inline, wait (rayon and forage-join: a join of two
 * joins).  The twin mm_seq does the eight products with plain calls, q0 to
 * q3.  The runtimes whose wait runs tasks newest first (forage, Lace,
 * oneTBB) spawn q3, q2, q1 and run q0 inline, so that one worker runs the
 * twin's order: in the reverse order the same leaves took 10-16% longer
 * (docs/benchmarks.md).  OpenMP's ports keep q0-q2 as tasks: the order a
 * lone thread runs them in differs between libgomp and libomp.  The leaf
 * is not in this header: matmul_leaf.c is compiled once and linked into
 * every program, so that every runtime and twin runs the same machine
 * code.
 *
 * Entries are small integers (0..7), so every sum is exact in a double
 * whatever the order (n * 49 < 2^53): the checksum, a position-weighted sum
 * of C, is the same for every runtime and catches a product that ran twice,
 * not at all, or into the wrong quadrant. */
#ifndef FG_BENCH_MATMUL_H
#define FG_BENCH_MATMUL_H

#include <string.h>

#include "kernel.h"

#define MM_LEAF 32

typedef struct mm_arg {
    double *c;
    const double *a, *b;
    size_t n;  /* this block is n x n */
    size_t ld; /* row stride of all three matrices */
} mm_arg;

/* The leaf, i-k-j order: one object for every program (matmul_leaf.c says
 * why); the block is at most MM_LEAF x MM_LEAF. */
#ifdef __cplusplus
extern "C" {
#endif
void mm_leaf(const mm_arg *m);
#ifdef __cplusplus
}
#endif

static inline int mm_is_leaf(const mm_arg *m)
{
    if (m->n > MM_LEAF)
        return 0;
    mm_leaf(m);
    return 1;
}

/* The four independent products of phase 0 (C_ij += A_i0 * B_0j) or
 * phase 1 (C_ij += A_i1 * B_1j). */
static inline void mm_phase(const mm_arg *m, int phase, mm_arg q[4])
{
    size_t h = m->n / 2, ld = m->ld;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            mm_arg *p = &q[2 * i + j];
            p->c = m->c + (size_t)i * h * ld + (size_t)j * h;
            p->a = m->a + (size_t)i * h * ld + (size_t)phase * h;
            p->b = m->b + (size_t)phase * h * ld + (size_t)j * h;
            p->n = h;
            p->ld = ld;
        }
}

BENCH_NOINLINE static int mm_seq(void *p)
{
    const mm_arg *m = (const mm_arg *)p;
    if (mm_is_leaf(m))
        return 0;
    for (int phase = 0; phase < 2; phase++) {
        mm_arg q[4];
        mm_phase(m, phase, q);
        for (int i = 0; i < 4; i++)
            mm_seq(&q[i]);
    }
    return 0;
}

/* A and B get small hashed integers; C is cleared. */
static inline void mm_init(double *a, double *b, double *c, size_t n)
{
    for (size_t i = 0; i < n * n; i++) {
        a[i] = (double)(bench_mix64(2 * i) & 7);
        b[i] = (double)(bench_mix64(2 * i + 1) & 7);
    }
    memset(c, 0, n * n * sizeof *c);
}

static inline uint64_t mm_checksum(const double *c, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n * n; i++)
        s += (uint64_t)c[i] * (i + 1);
    return s;
}

/* The warm-up size of every matmul program: n / 2, an eighth of the work,
 * on the first n * n / 4 entries of the same arrays. */
static inline long mm_warmup_param(long n)
{
    return n >= 64 ? n / 2 : n;
}

#endif
