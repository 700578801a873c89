/* latch.h: one-shot completion flag with a sleeping waiter.  See latch.c. */
#ifndef FG_LATCH_H
#define FG_LATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "atomics.h"

typedef struct fg__worker fg__worker;

enum { FG__LATCH_UNSET = 0, FG__LATCH_SLEEPY = 1, FG__LATCH_SET = 2 };

typedef struct fg__latch {
    FG__ATOMIC(uint32_t) state; /* FG__LATCH_*; the futex word of external waiters */
    FG__ATOMIC(int) thief;      /* hint: worker running the job, -1 unknown */
    fg__worker *waiter;         /* worker that waits, NULL: an external thread */
} fg__latch;

/* waiter: the worker that will wait on it, or NULL for a non-worker thread. */
static inline void fg__latch_init(fg__latch *l, fg__worker *waiter)
{
    fg__atomic_init(&l->state, FG__LATCH_UNSET);
    fg__atomic_init(&l->thief, -1);
    l->waiter = waiter;
}

static inline bool fg__latch_is_set(fg__latch *l)
{
    /* [latch-set] Acquire pairs with the exchange in fg__latch_set(): seeing
     * SET makes the job's result and side effects visible to the waiter. */
    return fg__atomic_load(&l->state, FG__ACQUIRE) == FG__LATCH_SET;
}

/* Waiter, before parking: announce the intent to sleep.  false: already set. */
bool fg__latch_make_sleepy(fg__latch *l);
/* Any thread: set once and wake the waiter.  The latch's memory may be freed
 * by the waiter the moment the state turns SET: touch nothing after. */
void fg__latch_set(fg__latch *l);
/* Non-worker thread: block until set (futex). */
void fg__latch_wait_blocking(fg__latch *l);

#endif
