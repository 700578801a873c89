/* sleep.h: idle workers block in the kernel without lost wake-ups.
 * See sleep.c and docs/design/sleep.md. */
#ifndef FG_SLEEP_H
#define FG_SLEEP_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include "atomics.h"
#include "deque.h"

typedef struct fg_pool fg_pool;
typedef struct fg__worker fg__worker;
typedef struct fg__latch fg__latch;

typedef struct fg__sleep {
    /* Workers announced as sleeping and not yet woken. */
    alignas(FG__CACHE_LINE) FG__ATOMIC(uint32_t) sleepers;
    FG__ATOMIC(uint32_t) next_wake; /* rotating start for fg__sleep_wake_one */
} fg__sleep;

void fg__sleep_init(fg__sleep *s);

/* Worker w: announce, re-scan, and block until woken.  latch (may be NULL)
 * is one the worker waits on and that was made SLEEPY: its setter wakes w. */
void fg__sleep_park(fg__worker *w, fg__latch *latch);

/* Any thread: wake w if it is parked.  true if this call woke it. */
bool fg__sleep_wake_worker(fg__worker *w);
/* Any thread, after publishing work with a seq_cst operation: wake one
 * parked worker if any is announced. */
void fg__sleep_wake_one(fg_pool *p);
/* Any thread: wake every parked worker (shutdown). */
void fg__sleep_wake_all(fg_pool *p);

/* Worker, after a deque push: a cheap hint.  A relaxed read may miss a
 * worker that is just announcing itself; that costs parallelism for a
 * moment, never a job: the pusher runs or waits for its own job
 * (docs/design/sleep.md, "local pushes"). */
static inline void fg__sleep_notify_push(fg__sleep *s, fg_pool *p)
{
    if (fg__atomic_load(&s->sleepers, FG__RELAXED) != 0)
        fg__sleep_wake_one(p);
}

#endif
