/* deque.c: Chase-Lev work-stealing deque.  See docs/design/deque.md.
 *
 * The algorithm and every memory order are those of Lê, Pop, Cohen and Zappa
 * Nardelli, "Correct and Efficient Work-Stealing for Weak Memory Models"
 * (PPoPP 2013), figure 1, with signed 64-bit indices (they never wrap).
 *
 * Invariants
 *   I1  top only grows; only a successful CAS moves it, by one.
 *   I2  bottom is written only by the owner; top <= bottom + 1 always, and
 *       the deque holds the jobs at indices [top, bottom).
 *   I3  a slot index i is written (push) only while i >= bottom, i.e. while
 *       no thief can be committed to it; a thief that read a stale slot
 *       fails its CAS on top (I1), so it never returns a stale job.
 *   I4  the last job (top == bottom - 1) goes to whoever wins the CAS on
 *       top: the owner's take and a thief's steal race there and exactly one
 *       wins, so every pushed job is returned exactly once.
 *
 * field   written by            read by          order / pairs with
 * top     thieves, owner (CAS)  owner, thieves   seq_cst CAS  [deque-last]
 * bottom  owner                 thieves          release fence in push ->
 *                                                acquire load in steal [deque-publish];
 *                                                seq_cst fences in take and
 *                                                steal order it against top [deque-take]
 * array   owner (grow)          thieves          release store -> acquire load [deque-grow]
 * slots   owner                 thieves          relaxed; published by [deque-publish]
 *
 * Lifetime: an array replaced by growth may still be read by a thief that
 * loaded the old pointer, so it is kept on `retired` until fg__deque_destroy,
 * which runs when no thread can touch the deque.  Total retired memory is
 * less than the live array (capacities double).
 */
#include "deque.h"

#include <assert.h>
#include <string.h>

#include "alloc.h"
#include "forage.h"

static fg__deque_array *fg__deque_array_new(int64_t capacity)
{
    size_t bytes = sizeof(fg__deque_array) +
                   (size_t)capacity * sizeof(FG__ATOMIC(struct fg__job *));
    fg__deque_array *a = (fg__deque_array *)fg__alloc(bytes);
    if (a == NULL)
        return NULL;
    a->mask = capacity - 1;
    a->retired_next = NULL;
    for (int64_t i = 0; i < capacity; i++)
        fg__atomic_init(&a->slots[i], NULL);
    return a;
}

int fg__deque_init(fg__deque *dq, unsigned log2_capacity)
{
    if (log2_capacity > 40)
        return FG_EINVAL;
    fg__deque_array *a = fg__deque_array_new((int64_t)1 << log2_capacity);
    if (a == NULL)
        return FG_ENOMEM;
    fg__atomic_init(&dq->top, 0);
    fg__atomic_init(&dq->bottom, 0);
    fg__atomic_init(&dq->array, a);
    dq->retired = NULL;
    return 0;
}

void fg__deque_destroy(fg__deque *dq)
{
    fg__free(fg__atomic_load(&dq->array, FG__RELAXED));
    for (fg__deque_array *r = dq->retired, *next; r != NULL; r = next) {
        next = r->retired_next;
        fg__free(r);
    }
    fg__atomic_store(&dq->array, NULL, FG__RELAXED);
    dq->retired = NULL;
}

/* Owner, cold: copy [t, b) into an array twice as large. */
fg__deque_array *fg__deque_grow(fg__deque *dq, fg__deque_array *old,
                                       int64_t t, int64_t b)
{
    fg__deque_array *a = fg__deque_array_new(2 * (old->mask + 1));
    if (a == NULL)
        return NULL;
    for (int64_t i = t; i < b; i++)
        fg__atomic_store(&a->slots[i & a->mask],
                         fg__atomic_load(&old->slots[i & old->mask], FG__RELAXED),
                         FG__RELAXED);
    old->retired_next = dq->retired;
    dq->retired = old;
    /* [deque-grow] Publish the copied slots with the pointer: a thief that
     * loads the new array (acquire, fg__deque_steal) sees its contents.
     * Relaxed would let a thief read an uninitialised slot. */
    fg__atomic_store(&dq->array, a, FG__RELEASE);
    return a;
}

fg__steal_result fg__deque_steal(fg__deque *dq, struct fg__job **out)
{
    /* Acquire pairs with the CAS of the previous thief (and the owner's
     * last-element CAS), so our view of the slots is at least as new as
     * theirs. */
    int64_t t = fg__atomic_load(&dq->top, FG__TSAN_ORDER(FG__ACQUIRE, FG__SEQ_CST));
    FG__PERTURB(); /* top read, bottom not yet */
    /* [deque-take] StoreLoad partner of the fence in fg__deque_take(): we
     * read bottom only after our read of top is ordered against the owner's
     * lowering of bottom. */
    fg__fence_unless_tsan(FG__SEQ_CST);
    /* [deque-publish] Acquire pairs with the release fence in push: seeing
     * bottom = b + 1 means slot b and the job behind it are visible. */
    int64_t b = fg__atomic_load(&dq->bottom, FG__TSAN_ORDER(FG__ACQUIRE, FG__SEQ_CST));
    if (t >= b)
        return FG__STEAL_EMPTY;
    /* [deque-grow] Acquire pairs with the release store in grow: the array
     * we index was fully copied.  (The paper uses consume, which compilers
     * implement as acquire.) */
    fg__deque_array *a = fg__atomic_load(&dq->array, FG__ACQUIRE);
    struct fg__job *job = fg__atomic_load(&a->slots[t & a->mask], FG__RELAXED);
    FG__PERTURB(); /* job read, index t not yet claimed */
    /* [deque-last] seq_cst CAS: claim index t (I1, I4).  On failure someone
     * else took it; the job we read may be stale and is dropped (I3). */
    if (!fg__atomic_cas(&dq->top, &t, t + 1, FG__SEQ_CST, FG__RELAXED))
        return FG__STEAL_ABORT;
    *out = job;
    return FG__STEAL_SUCCESS;
}

int64_t fg__deque_size(fg__deque *dq)
{
    int64_t b = fg__atomic_load(&dq->bottom, FG__RELAXED);
    int64_t t = fg__atomic_load(&dq->top, FG__RELAXED);
    return b > t ? b - t : 0;
}

bool fg__deque_looks_nonempty(fg__deque *dq)
{
    /* [sleep-announce] seq_cst loads: a would-be sleeper re-scans after its
     * seq_cst announcement; see sleep.c for why a miss here is only ever a
     * delay, never a lost job. */
    int64_t t = fg__atomic_load(&dq->top, FG__SEQ_CST);
    int64_t b = fg__atomic_load(&dq->bottom, FG__SEQ_CST);
    return b > t;
}

int64_t fg__deque_capacity(fg__deque *dq)
{
    return fg__atomic_load(&dq->array, FG__RELAXED)->mask + 1;
}
