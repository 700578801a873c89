/* deque.h: Chase-Lev work-stealing deque of job pointers.  See deque.c and
 * docs/design/deque.md.
 *
 * Who may call: fg__deque_push / fg__deque_take only the owner thread;
 * fg__deque_steal any thread; init/destroy with no concurrent access.
 */
#ifndef FG_DEQUE_H
#define FG_DEQUE_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "atomics.h"
#include "base.h"
#include "job.h"
#include "testhooks.h"

struct fg__job;

typedef struct fg__deque_array {
    int64_t mask;                         /* capacity - 1, capacity a power of 2 */
    struct fg__deque_array *retired_next; /* owner-only: list of replaced arrays */
    FG__ATOMIC(struct fg__job *) slots[]; /* relaxed atomics: a thief may read a
                                             slot the owner is overwriting */
} fg__deque_array;

typedef struct fg__deque {
    /* Written by thieves (CAS) and by the owner on the last element. */
    alignas(FG__CACHE_LINE) FG__ATOMIC(int64_t) top;
    /* Written only by the owner, read by thieves: a line of its own so that
     * thieves hammering `top` do not slow the owner's push/take. */
    alignas(FG__CACHE_LINE) FG__ATOMIC(int64_t) bottom;
    FG__ATOMIC(fg__deque_array *) array;
    fg__deque_array *retired; /* owner-only; freed by fg__deque_destroy */
} fg__deque;

/* Capacity is 2^log2_capacity (log2_capacity <= 40).  Returns 0, FG_EINVAL
 * for a larger log2_capacity, or FG_ENOMEM. */
int  fg__deque_init(fg__deque *dq, unsigned log2_capacity);
void fg__deque_destroy(fg__deque *dq);

/* Owner, cold: replace the full array by one twice as large; NULL when out
 * of memory (the deque is then unchanged). */
fg__deque_array *fg__deque_grow(fg__deque *dq, fg__deque_array *old, int64_t t, int64_t b)
    __attribute__((cold, noinline));
/* Any thread: take the top (FIFO) into *out. */
fg__steal_result fg__deque_steal(fg__deque *dq, struct fg__job **out);

/* Any thread: a racy size estimate (>= 0), exact when no one else runs. */
int64_t fg__deque_size(fg__deque *dq);
/* Any thread: does the deque look non-empty?  seq_cst loads: used by the
 * sleep protocol's re-scan (sleep.c, [sleep-announce]). */
bool fg__deque_looks_nonempty(fg__deque *dq);
/* Owner: current capacity (tests). */
int64_t fg__deque_capacity(fg__deque *dq);

/* The owner's fast paths are inline: they are the whole cost of a join that
 * is not stolen.  Their memory orders are argued in deque.c's header. */

/* Owner: push at the bottom; 0, or -1 when growth failed (the job was not
 * pushed and the deque is unchanged). */
static inline int fg__deque_push(fg__deque *dq, struct fg__job *job)
{
    int64_t b = fg__atomic_load(&dq->bottom, FG__RELAXED);
    /* Acquire pairs with the thieves' CAS on top: once we see their
     * increment, their reads of the slot are done and we may reuse it (I3). */
    int64_t t = fg__atomic_load(&dq->top, FG__ACQUIRE);
    fg__deque_array *a = fg__atomic_load(&dq->array, FG__RELAXED);
    if (b - t > a->mask) {
        a = fg__deque_grow(dq, a, t, b);
        if (a == NULL)
            return -1;
    }
    fg__atomic_store(&a->slots[b & a->mask], job, FG__RELAXED);
    FG__PERTURB(); /* slot written, bottom not yet moved */
    /* [deque-publish] Publish the job (and the frame it points to) before
     * the new bottom.  Pairs with the acquire load of bottom in
     * fg__deque_steal(): a thief that reads b + 1 also sees the slot and the
     * job's fields.  Without it a thief could run a half-written job. */
    fg__fence_unless_tsan(FG__RELEASE);
    fg__atomic_store(&dq->bottom, b + 1, FG__TSAN_ORDER(FG__RELAXED, FG__RELEASE));
    return 0;
}

/* Owner: pop the bottom (LIFO), NULL if empty. */
static inline struct fg__job *fg__deque_take(fg__deque *dq)
{
    int64_t b = fg__atomic_load(&dq->bottom, FG__RELAXED) - 1;
    fg__deque_array *a = fg__atomic_load(&dq->array, FG__RELAXED);
    fg__atomic_store(&dq->bottom, b, FG__TSAN_ORDER(FG__RELAXED, FG__SEQ_CST));
    FG__PERTURB(); /* bottom lowered, top not yet read */
    /* [deque-take] StoreLoad: the lowered bottom must be visible before we
     * read top, and pairs with the seq_cst fence in fg__deque_steal().  In
     * the total order of the two fences, either the thief sees our bottom
     * (and leaves slot b alone) or we see its incremented top (and fall
     * into the CAS of I4).  Without it both could take job b. */
    fg__fence_unless_tsan(FG__SEQ_CST);
    int64_t t = fg__atomic_load(&dq->top, FG__TSAN_ORDER(FG__RELAXED, FG__SEQ_CST));
    if (t > b) { /* empty: restore */
        fg__atomic_store(&dq->bottom, b + 1, FG__RELAXED);
        return NULL;
    }
    struct fg__job *job = fg__atomic_load(&a->slots[b & a->mask], FG__RELAXED);
    if (t == b) {
        FG__PERTURB(); /* racing the thieves for the last job */
        /* [deque-last] The last job: race the thieves on top (I4).  seq_cst
         * so the CAS sits in the same total order as the fences above;
         * failure (relaxed) means a thief got it and we publish nothing. */
        if (!fg__atomic_cas(&dq->top, &t, t + 1, FG__SEQ_CST, FG__RELAXED))
            job = NULL;
        fg__atomic_store(&dq->bottom, b + 1, FG__RELAXED);
    }
    return job;
}

#endif
