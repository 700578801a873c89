/* sort.c: fg_parallel_sort (a quicksort whose partitions are joined) and
 * fg_parallel_stable_sort (a merge sort whose halves and merges are
 * joined), both for qsort's (base, n, size, cmp).  A client of forage.h
 * (fg_join).  See docs/design/sort.md.
 *
 * Unstable: a part longer than FG_SORT_GRAIN is partitioned around a
 * median-of-3 (ninther from 128 elements) pivot, Sedgewick's two-pointer
 * scheme, and the two sides are joined; shorter parts go to qsort.  Each
 * part carries a depth budget of 2 log2 n; a part that exhausts it is
 * heapsorted, so adversarial inputs cost O(n log n).
 * Stable: msort sorts [0, n) into either the array or the buffer; its
 * halves are sorted into the other one and merged back.  Parts of
 * FG_SORT_GRAIN elements or fewer are sorted sequentially (insertion sort
 * of runs of 16, then merges); merges longer than FG_SORT_GRAIN are split
 * at the median of the longer run and the matching bound in the shorter.
 *
 * Concurrency: every task works on its own disjoint range of the array and
 * buffer; fg_join orders the halves' writes before the parent's merge.  No
 * atomics.  Which worker runs a part never changes the comparisons made,
 * so equal elements end in the same order on any number of workers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forage.h"

#include "element.h"
#include "root.h"
#include "seam.h"

#define FG__SORT_RUN 16 /* insertion-sorted runs of the stable leaf */

typedef struct fg__sort {
    fg_pool *pool;
    size_t size;
    fg_cmp_fn cmp;
} fg__sort;

static unsigned char *fg__at(const fg__sort *s, const unsigned char *base, size_t i)
{
    return (unsigned char *)base + i * s->size;
}

/* Stands in for the comparator in checks of a sort that has none. */
static int fg__sort_nothing_cmp(const void *a, const void *b)
{
    (void)a;
    (void)b;
    return 0;
}

static int fg__sort_check(fg_pool *pool, const void *base, size_t n, size_t size,
                          fg_cmp_fn cmp)
{
    if (fg_pool_workers(pool) < 0 || cmp == NULL || size == 0 || (n > 0 && base == NULL) ||
        n > SIZE_MAX / size)
        return FG_EINVAL;
    return 0;
}

/* ------------------------------------------------------------ unstable */

typedef struct fg__qpart {
    const fg__sort *s;
    unsigned char *base;
    size_t n;
    int depth; /* partitions left before heapsort */
} fg__qpart;

static unsigned char *fg__med3(const fg__sort *s, unsigned char *a, unsigned char *b,
                               unsigned char *c)
{
    if (s->cmp(a, b) < 0)
        return s->cmp(b, c) < 0 ? b : s->cmp(a, c) < 0 ? c : a;
    return s->cmp(b, c) > 0 ? b : s->cmp(a, c) > 0 ? c : a;
}

static unsigned char *fg__pivot(const fg__sort *s, unsigned char *base, size_t n)
{
    if (n < 128)
        return fg__med3(s, base, fg__at(s, base, n / 2), fg__at(s, base, n - 1));
    size_t e = n / 8;
    unsigned char *m[3];
    for (size_t k = 0; k < 3; k++) { /* Tukey's ninther: median of 3 medians */
        size_t c = k * (n - 1) / 2;
        size_t lo = c >= e ? c - e : c, hi = c + e < n ? c + e : c;
        m[k] = fg__med3(s, fg__at(s, base, lo), fg__at(s, base, c), fg__at(s, base, hi));
    }
    return fg__med3(s, m[0], m[1], m[2]);
}

/* Partition around the pivot: returns j with [0, j) <= pivot = base[j] <=
 * (j, n).  Both pointers stop on equal keys, so all-equal input splits in
 * the middle. */
static size_t fg__partition(const fg__sort *s, unsigned char *base, size_t n)
{
    fg__elem_swap(base, fg__pivot(s, base, n), s->size);
    size_t i = 0, j = n;
    for (;;) {
        do
            i++;
        while (i < n && s->cmp(fg__at(s, base, i), base) < 0);
        do
            j--;
        while (s->cmp(fg__at(s, base, j), base) > 0); /* stops at 0 at the latest */
        if (i >= j)
            break;
        fg__elem_swap(fg__at(s, base, i), fg__at(s, base, j), s->size);
    }
    fg__elem_swap(base, fg__at(s, base, j), s->size);
    return j;
}

static void fg__sift(const fg__sort *s, unsigned char *base, size_t root, size_t n)
{
    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && s->cmp(fg__at(s, base, child), fg__at(s, base, child + 1)) < 0)
            child++;
        if (s->cmp(fg__at(s, base, root), fg__at(s, base, child)) >= 0)
            return;
        fg__elem_swap(fg__at(s, base, root), fg__at(s, base, child), s->size);
    }
}

static void fg__heapsort(const fg__sort *s, unsigned char *base, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        fg__sift(s, base, i, n);
    for (size_t end = n; end-- > 1;) {
        fg__elem_swap(base, fg__at(s, base, end), s->size);
        fg__sift(s, base, 0, end);
    }
}

static int fg__qsort_task(void *arg)
{
    fg__qpart *q = arg;
    const fg__sort *s = q->s;
    if (q->n <= FG_SORT_GRAIN) {
        qsort(q->base, q->n, s->size, s->cmp);
    } else if (q->depth == 0) {
        fg__heapsort(s, q->base, q->n);
    } else {
        size_t j = fg__partition(s, q->base, q->n);
        fg__qpart lo = { s, q->base, j, q->depth - 1 };
        fg__qpart hi = { s, fg__at(s, q->base, j + 1), q->n - j - 1, q->depth - 1 };
        fg_join(s->pool, fg__qsort_task, &lo, fg__qsort_task, &hi);
    }
    return 0;
}

int fg_parallel_sort(fg_pool *pool, void *base, size_t n, size_t size, fg_cmp_fn cmp)
{
    int err = fg__sort_check(pool, base, n, size, cmp);
    if (err != 0 || n < 2)
        return err;
    fg__sort s = { pool, size, cmp };
    int depth = 0;
    for (size_t m = n; m > 1; m >>= 1)
        depth += 2;
    fg__qpart root = { &s, base, n, depth };
    if (n <= FG_SORT_GRAIN) /* one part: no pool round trip */
        return fg__qsort_task(&root);
    return fg__root_run(pool, fg__qsort_task, &root);
}

/* -------------------------------------------------------------- stable */

/* fg_parallel_stable_sort's kernels: the comparator through its pointer.
 * job is the fg__sort. */

/* Merge a[0, na) and b[0, nb) into out, a's elements first among equals. */
static void fg__merge_seq(const void *ap, size_t na, const void *bp, size_t nb, void *outp,
                          const void *job)
{
    const fg__sort *s = job;
    size_t z = s->size;
    const unsigned char *a = ap, *b = bp, *ae = a + na * z, *be = b + nb * z;
    unsigned char *out = outp;
    while (a < ae && b < be) {
        if (s->cmp(b, a) < 0) {
            fg__elem_copy(out, b, z);
            b += z;
        } else {
            fg__elem_copy(out, a, z);
            a += z;
        }
        out += z;
    }
    memcpy(out, a, (size_t)(ae - a));
    memcpy(out + (ae - a), b, (size_t)(be - b));
}

/* Insertion sort of base[0, n), stable; tmp holds one element. */
static void fg__insertion(const fg__sort *s, unsigned char *base, size_t n, unsigned char *tmp)
{
    size_t z = s->size;
    for (size_t i = 1; i < n; i++) {
        if (s->cmp(fg__at(s, base, i - 1), fg__at(s, base, i)) <= 0)
            continue;
        fg__elem_copy(tmp, fg__at(s, base, i), z);
        size_t j = i;
        for (; j > 0 && s->cmp(fg__at(s, base, j - 1), tmp) > 0; j--)
            fg__elem_copy(fg__at(s, base, j), fg__at(s, base, j - 1), z);
        fg__elem_copy(fg__at(s, base, j), tmp, z);
    }
}

/* Sequential stable sort of a[0, n) with buf[0, n) as scratch, the result
 * left in buf (to_buf) or a: insertion-sorted runs, then bottom-up merges
 * alternating between the two. */
static void fg__leaf_seq(void *ap, void *bufp, size_t n, int to_buf, const void *job)
{
    const fg__sort *s = job;
    unsigned char *a = ap, *buf = bufp;
    for (size_t i = 0; i < n; i += FG__SORT_RUN)
        fg__insertion(s, fg__at(s, a, i), n - i < FG__SORT_RUN ? n - i : FG__SORT_RUN, buf);
    unsigned char *from = a, *to = buf;
    for (size_t w = FG__SORT_RUN; w < n; w *= 2) {
        for (size_t i = 0; i < n; i += 2 * w) {
            size_t na = n - i < w ? n - i : w;
            size_t nb = n - i - na < w ? n - i - na : w;
            fg__merge_seq(fg__at(s, from, i), na, fg__at(s, from, i + na), nb,
                          fg__at(s, to, i), s);
        }
        unsigned char *t = from;
        from = to;
        to = t;
    }
    unsigned char *want = to_buf ? buf : a;
    if (from != want)
        memcpy(want, from, n * s->size);
}

/* First index of b[0, n) whose element is not below key (upper: above). */
static size_t fg__bound(const void *bp, size_t n, const void *key, int upper, const void *job)
{
    const fg__sort *s = job;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = s->cmp(fg__at(s, bp, mid), key);
        if (c < 0 || (upper && c == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const fg__msort_ops fg__msort_generic = { fg__leaf_seq, fg__merge_seq, fg__bound };

/* The parallel structure, shared with FG_PARALLEL_SORT's kernels. */
typedef struct fg__msort {
    fg_pool *pool;
    size_t size;
    const fg__msort_ops *ops;
    const void *job;
} fg__msort;

static unsigned char *fg__mat(const fg__msort *s, const unsigned char *base, size_t i)
{
    return (unsigned char *)base + i * s->size;
}

typedef struct fg__merge {
    const fg__msort *s;
    const unsigned char *a, *b;
    size_t na, nb;
    unsigned char *out;
} fg__merge;

/* A long merge splits in two independent ones: cut the longer run in the
 * middle and the shorter at the matching bound, so that every element of
 * the left merge sorts before (or, from a, equal to) every one of the
 * right.  Both pieces are non-empty and shorter. */
static int fg__merge_task(void *arg)
{
    fg__merge *m = arg;
    const fg__msort *s = m->s;
    if (m->na + m->nb <= FG_SORT_GRAIN) {
        s->ops->merge(m->a, m->na, m->b, m->nb, m->out, s->job);
        return 0;
    }
    size_t ma, mb;
    if (m->na >= m->nb) {
        ma = m->na / 2;
        mb = s->ops->bound(m->b, m->nb, fg__mat(s, m->a, ma), 0, s->job);
    } else {
        mb = m->nb / 2;
        ma = s->ops->bound(m->a, m->na, fg__mat(s, m->b, mb), 1, s->job);
    }
    fg__merge lo = { s, m->a, m->b, ma, mb, m->out };
    fg__merge hi = { s, fg__mat(s, m->a, ma), fg__mat(s, m->b, mb), m->na - ma, m->nb - mb,
                     fg__mat(s, m->out, ma + mb) };
    fg_join(s->pool, fg__merge_task, &lo, fg__merge_task, &hi);
    return 0;
}

typedef struct fg__mpart {
    const fg__msort *s;
    unsigned char *a, *buf; /* the part's range of the array and buffer */
    size_t n;
    int to_buf; /* leave the sorted part in buf, else in a */
} fg__mpart;

static int fg__msort_task(void *arg)
{
    fg__mpart *p = arg;
    const fg__msort *s = p->s;
    if (p->n <= FG_SORT_GRAIN) {
        s->ops->leaf(p->a, p->buf, p->n, p->to_buf, s->job);
        return 0;
    }
    size_t h = p->n / 2;
    fg__mpart lo = { s, p->a, p->buf, h, !p->to_buf };
    fg__mpart hi = { s, fg__mat(s, p->a, h), fg__mat(s, p->buf, h), p->n - h, !p->to_buf };
    fg_join(s->pool, fg__msort_task, &lo, fg__msort_task, &hi);
    unsigned char *from = p->to_buf ? p->a : p->buf, *to = p->to_buf ? p->buf : p->a;
    fg__merge m = { s, from, fg__mat(s, from, h), h, p->n - h, to };
    return fg__merge_task(&m);
}

int fg__stable_sort_run(fg_pool *pool, void *base, size_t n, size_t size,
                        const fg__msort_ops *ops, const void *job)
{
    int err = fg__sort_check(pool, base, n, size, fg__sort_nothing_cmp);
    if (err != 0 || n < 2)
        return err;
    unsigned char *buf = fg__alloc(n * size);
    if (buf == NULL)
        return FG_ENOMEM;
    fg__msort s = { pool, size, ops, job };
    fg__mpart root = { &s, base, buf, n, 0 };
    if (n <= FG_SORT_GRAIN) /* one part: no pool round trip */
        err = fg__msort_task(&root);
    else
        err = fg__root_run(pool, fg__msort_task, &root);
    fg__free(buf);
    return err;
}

int fg_parallel_stable_sort(fg_pool *pool, void *base, size_t n, size_t size, fg_cmp_fn cmp)
{
    if (cmp == NULL)
        return FG_EINVAL;
    fg__sort s = { pool, size, cmp };
    return fg__stable_sort_run(pool, base, n, size, &fg__msort_generic, &s);
}
