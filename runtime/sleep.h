/* sleep.h: what an idle worker does, from its first failed steal round to
 * blocking in the kernel without lost wake-ups: the idle ladder (spin,
 * yield, park).  See sleep.c and docs/design/sleep.md. */
#ifndef FG_SLEEP_H
#define FG_SLEEP_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include "atomics.h"
#include "base.h"
#include "job.h"

typedef struct fg_pool fg_pool;
typedef struct fg__worker fg__worker;
typedef struct fg__latch fg__latch;

/* A worker's sleep_word.  Bit 0: a thread is parked on the word and a
 * waker's CAS clears it (exactly once per park, sleep.c I3).  Bit 1: the
 * seat is taken (seat.c): a caller from outside the pool runs as this
 * worker while the worker's own thread stays parked.  So 0: the worker
 * runs; 1: it is parked; 2: its parked seat is taken and the caller runs;
 * 3: the caller too is parked, at a sync. */
enum { FG__WORD_PARKED = 1, FG__WORD_SEATED = 2 };

typedef struct fg__sleep {
    /* Workers announced as sleeping and not yet woken. */
    alignas(FG__CACHE_LINE) FG__ATOMIC(uint32_t) sleepers;
    FG__ATOMIC(uint32_t) next_wake; /* rotating start for fg__sleep_wake_one */
} fg__sleep;

void fg__sleep_init(fg__sleep *s);

/* One search for work climbs the idle ladder: after each failed steal round
 * the worker asks fg__sleep_idle_round, which pauses (for spin_rounds
 * rounds and spin_ns of failed rounds, with a growing pause), then yields (yield_rounds rounds, sched_yield()),
 * then answers false: park.  FG_SPIN_FOREVER never answers false unless
 * the pool is terminating.  Owner-only state, on the searching stack. */
typedef struct fg__idle {
    unsigned round;   /* failed rounds so far */
    unsigned backoff; /* pause of the next spin round, in cpu_relax() calls */
    unsigned spun_at; /* the round the spin step ended at, 0 while spinning */
    uint64_t spin_ns; /* the spin's least time: spin_ns, or wait_ns at a sync */
    uint64_t start;   /* the clock at the first failed round (timed spin) */
} fg__idle;

/* A search's ladder: waiting at a sync or not. */
static inline fg__idle fg__idle_start(uint64_t spin_ns, uint64_t wait_ns, bool waiting)
{
    return (fg__idle){ 0, 1, 0, waiting && wait_ns > spin_ns ? wait_ns : spin_ns, 0 };
}

/* After a failed round: true to search again (having paused or yielded),
 * false to park. */
bool fg__sleep_idle_round(fg__worker *w, fg__idle *idle);

/* Worker w: announce, re-scan, and block until woken.  latch (may be NULL)
 * is one the worker waits on and that was made SLEEPY: its setter wakes w. */
void fg__sleep_park(fg__worker *w, fg__latch *latch);

/* Any thread: wake w if it is parked (whoever runs as w: its own thread,
 * or its seat's caller).  true if this call woke it. */
bool fg__sleep_wake_worker(fg__worker *w);
/* Any thread, after publishing work with a seq_cst operation: wake one
 * parked worker if any is announced. */
void fg__sleep_wake_one(fg_pool *p);
/* Any thread: wake every parked worker (shutdown). */
void fg__sleep_wake_all(fg_pool *p);

/* A caller from outside the pool: take w's seat if w is parked between
 * jobs (not at a sync), leaving its thread parked.  true: the caller may
 * run as w until fg__sleep_seat_leave.  Undoes w's park as a waker does
 * (I3), so a park at a sync that it meets is woken instead. */
bool fg__sleep_seat_take(fg__worker *w);
/* The seat's caller, done: park w's thread again on its behalf (I1),
 * announcing and re-scanning as fg__sleep_park does, and wake it if there
 * is work (its own deque may hold jobs of groups the call did not sync). */
void fg__sleep_seat_leave(fg__worker *w);

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
