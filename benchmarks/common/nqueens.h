/* nqueens.h: count the placements of n queens, one task per legal column
 * at every level.  Every runtime's task does: leaf test, list the children
 * (nq_children), run each as a task, wait, add up.  The sequential twin
 * nq_seq walks the same tree with plain calls.  Checksum: the number of
 * solutions (73,712 for n = 13). */
#ifndef FG_BENCH_NQUEENS_H
#define FG_BENCH_NQUEENS_H

#include "bench.h"
#include "kernel.h"

#define NQ_MAX 16 /* largest n: the diagonal masks need 2n - 1 <= 32 bits */

typedef struct nq_arg {
    int n, row;
    uint32_t cols, diag1, diag2; /* attacked columns and diagonals, as bitmasks */
    uint64_t solutions;
} nq_arg;

static inline void nq_root(nq_arg *a, int n)
{
    a->n = n;
    a->row = 0;
    a->cols = a->diag1 = a->diag2 = 0;
    a->solutions = 0;
}

/* Children of a node: one per column not attacked on this row. */
static inline int nq_children(const nq_arg *a, nq_arg *kids)
{
    int k = 0;
    for (int c = 0; c < a->n; c++) {
        uint32_t bit = 1u << c;
        uint32_t d1 = 1u << (a->row + c), d2 = 1u << (a->row - c + a->n - 1);
        if ((a->cols & bit) || (a->diag1 & d1) || (a->diag2 & d2))
            continue;
        nq_arg *kid = &kids[k++];
        kid->n = a->n;
        kid->row = a->row + 1;
        kid->cols = a->cols | bit;
        kid->diag1 = a->diag1 | d1;
        kid->diag2 = a->diag2 | d2;
        kid->solutions = 0;
    }
    return k;
}

/* All n queens placed: one solution. */
static inline int nq_is_leaf(nq_arg *a)
{
    if (a->row != a->n)
        return 0;
    a->solutions = 1;
    return 1;
}

static inline void nq_add_up(nq_arg *a, const nq_arg *kids, int k)
{
    a->solutions = 0;
    for (int i = 0; i < k; i++)
        a->solutions += kids[i].solutions;
}

BENCH_NOINLINE static int nq_seq(void *p)
{
    nq_arg *a = (nq_arg *)p, kids[NQ_MAX];
    if (nq_is_leaf(a))
        return 0;
    int k = nq_children(a, kids);
    for (int i = 0; i < k; i++)
        nq_seq(&kids[i]);
    nq_add_up(a, kids, k);
    return 0;
}

/* The twin timed on n queens, as bench_seq_fn. */
static inline double nq_run_seq(long n, uint64_t *checksum)
{
    nq_arg a;
    nq_root(&a, (int)n);
    double t0 = bench_now();
    nq_seq(&a);
    double t = bench_now() - t0;
    *checksum = a.solutions;
    return t;
}

/* The warm-up size of every nqueens program: n - 2 queens, about a 25th of
 * the tree at n = 13 and still some 10^5 tasks. */
static inline long nq_warmup_param(long n)
{
    return n > 6 ? n - 2 : n;
}

#endif
