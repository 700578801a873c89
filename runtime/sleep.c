/* sleep.c: the idle ladder, and parking idle workers without lost wake-ups.
 * See docs/design/sleep.md.
 *
 * Ladder: a worker whose steal round failed pauses (spin_rounds failed
 * rounds, default 32), and goes on, yielding the CPU after each round, for
 * as long as spin_ns (spin:Tus) and, waiting at a sync, wait_ns (default
 * 1 ms: longer than a futex wake-up, so that a waiter whose stolen child
 * is short does not put a wake-up on the critical path) ask; then it
 * yields the CPU (yield_rounds rounds), then parks here
 * (fg__sleep_idle_round answers each failed round; worker.c asks).
 * I1  a worker blocks only after announcing itself (sleep_word = 1, then
 *     sleepers += 1, both seq_cst) and then re-scanning every deque, the
 *     injector, the shutdown flag and the latch it waits on (if any).
 * I2  whoever publishes something a parked worker must react to (an injected
 *     job, a latch it waits on, shutdown) does so with a seq_cst operation
 *     and then reads the worker's state with a seq_cst operation; by the
 *     total order of seq_cst operations either the re-scan of I1 sees the
 *     publication or the publisher sees the announcement and wakes.
 * I3  only a waker that wins the CAS sleep_word 1 -> 0 decrements sleepers
 *     and calls futex wake, so each park is undone exactly once; a worker
 *     that cancels its own park does it through the same CAS.  (sleepers may
 *     read as -1 for a moment, between a parker's store of the word and its
 *     increment, if a waker wins the CAS there; readers only compare it
 *     with 0, and the Spin model checks the exact accounting.)
 * I4  deque pushes are NOT covered by I2 (no fence on the push fast path):
 *     a parked worker may miss a push.  That job is still run: its owner
 *     takes it back or waits for it, and any later push, injection or latch
 *     set wakes the sleeper.  So a miss delays parallelism, never loses work.
 *
 * field       written by          read by           order / pairs with
 * sleep_word  parker, waker CAS   waker, parker     seq_cst [sleep-announce]
 * sleepers    parker, waker       pushers, wakers   seq_cst RMW / load [sleep-announce]
 * next_wake   wakers              wakers            relaxed: fairness only
 *
 * Lifetime: embedded in fg_pool and fg__worker; freed after all workers
 * have been joined.
 */
#include "sleep.h"

#include <limits.h>
#include <sched.h>

#include "futex.h"
#include "internal.h"
#include "testhooks.h"

void fg__sleep_init(fg__sleep *s)
{
    fg__atomic_init(&s->sleepers, 0);
    fg__atomic_init(&s->next_wake, 0);
}

/* Longest pause between two failed steal rounds, in cpu_relax() calls: at
 * about 10-70 cycles each it keeps a whole idle search in the microseconds. */
#define FG__BACKOFF_MAX 8

/* Has the spin step ended by failed round n (1, 2, ...)?  When it has
 * lasted spin_rounds rounds and idle->spin_ns from the end of the first: a
 * clock read per round once the rounds are done (a vDSO call, small next to
 * a round of steal attempts). */
static bool fg__sleep_spun(const fg_pool *p, fg__idle *idle, unsigned n)
{
    if (idle->spun_at != 0)
        return true;
    if (idle->spin_ns != 0 && n == 1)
        idle->start = fg__clock_ns();
    if (n < p->spin_rounds)
        return false;
    if (idle->spin_ns != 0 && fg__clock_ns() - idle->start < idle->spin_ns)
        return false;
    idle->spun_at = n;
    return true;
}

bool fg__sleep_idle_round(fg__worker *w, fg__idle *idle)
{
    fg_pool *p = w->pool;
    unsigned n = ++idle->round;
    if (p->spin_rounds == FG_SPIN_FOREVER) {
        if (fg__atomic_load(&p->terminate, FG__RELAXED))
            return false; /* the worker loop reads it again and exits */
        idle->round = 0;  /* never leave the spinning step */
    } else if (fg__sleep_spun(p, idle, n)) {
        if (n >= idle->spun_at + p->yield_rounds)
            return false;
        if (n > idle->spun_at) {
            sched_yield();
            return true;
        }
    } else if (n >= p->spin_rounds) {
        sched_yield(); /* the timed part of the spin: let a preempted worker run */
        return true;
    }
    for (unsigned i = 0; i < idle->backoff; i++)
        fg__cpu_relax();
    if (idle->backoff < FG__BACKOFF_MAX)
        idle->backoff *= 2;
    return true;
}

/* Would a parked worker have something to do right now? */
static bool fg__sleep_should_stay_awake(fg__worker *w, fg__latch *latch)
{
    /* [sleep-announce] seq_cst, not just acquire: the half of the Dekker
     * pair with the setter's seq_cst exchange and CAS (latch.c). */
    if (latch != NULL && fg__atomic_load(&latch->state, FG__SEQ_CST) == FG__LATCH_SET)
        return true;
    return fg__mail_waiting(w) || fg__pool_has_work(w->pool);
}

/* Before parking, ask every other worker to share its ctx stack: their
 * next spawn (fg_join's b, a ctx task) then goes public at once and wakes
 * a sleeper, as a deque push would (ctx_stack.c keeps new tasks private
 * until asked).  A hint: relaxed, written only on a change. */
static void fg__sleep_ask_for_work(fg__worker *w)
{
    fg_pool *p = w->pool;
    for (int i = 0; i < p->nworkers; i++) {
        fg__ctx_stack *st = &p->workers[i].ctx_stack;
        if (i != w->index && fg__atomic_load(&st->splitreq, FG__RELAXED) == 0)
            fg__atomic_store(&st->splitreq, 1, FG__RELAXED);
    }
}

void fg__sleep_park(fg__worker *w, fg__latch *latch)
{
    fg__sleep *s = &w->pool->sleep;
    fg__sleep_ask_for_work(w);
    /* 1. [sleep-announce] seq_cst: set our word before we are counted, so a
     *    waker that sees the count also finds the word (I3); both precede
     *    the re-scan in the total order (I2). */
    fg__atomic_store(&w->sleep_word, 1, FG__SEQ_CST);
    fg__atomic_fetch_add(&s->sleepers, 1, FG__SEQ_CST);
    FG__PERTURB(); /* announced, not yet re-scanned */

    /* 2. Re-scan (I1). */
    if (fg__sleep_should_stay_awake(w, latch)) {
        uint32_t one = 1;
        /* Cancel through the wakers' CAS (I3); if it fails a waker already
         * undid our announcement. */
        if (fg__atomic_cas(&w->sleep_word, &one, 0, FG__SEQ_CST, FG__RELAXED))
            fg__atomic_fetch_sub(&s->sleepers, 1, FG__RELAXED);
        return;
    }

    /* 3. Block until a waker clears the word.  Acquire pairs with the
     *    waker's CAS so what it published before waking us is visible. */
    FG__STAT_INC(w, sleeps);
    uint64_t parked_at = fg__trace_clock(w->trace);
    FG__PERTURB(); /* re-scan found nothing, not yet blocked */
    while (fg__atomic_load(&w->sleep_word, FG__ACQUIRE) == 1)
        fg__futex_wait(&w->sleep_word, 1);
    fg__trace_sleep(w->trace, parked_at);
}

/* A wake-up is counted on the waker's worker (one writer per counter); a
 * non-worker waker (injection, shutdown) has no counters. */
static void fg__sleep_note_wake(fg__worker *target)
{
    fg__worker *me = fg__worker_of(target->pool);
    if (me == NULL)
        return;
    FG__STAT_INC(me, wakeups);
    fg__trace_note(me->trace, FG__TRACE_WAKE, (uint32_t)target->index);
}

bool fg__sleep_wake_worker(fg__worker *w)
{
    uint32_t one = 1;
    /* [sleep-announce] seq_cst CAS: the publisher's half of I2, and the
     * single undo of I3.  Release also hands our publication to the
     * sleeper's acquire in fg__sleep_park step 3. */
    /* A failed CAS is only a read: it must be seq_cst too, or a latch setter
     * or shutdown could read the word as 0 while the parker's re-scan misses
     * their publication (found by the Spin model, tests/model/sleep.pml). */
    if (!fg__atomic_cas(&w->sleep_word, &one, 0, FG__SEQ_CST, FG__SEQ_CST))
        return false;
    fg__atomic_fetch_sub(&w->pool->sleep.sleepers, 1, FG__RELAXED);
    fg__futex_wake(&w->sleep_word, 1);
    fg__sleep_note_wake(w);
    return true;
}

void fg__sleep_wake_one(fg_pool *p)
{
    fg__sleep *s = &p->sleep;
    /* [sleep-inject] seq_cst: read after the publisher's seq_cst RMW. */
    if (fg__atomic_load(&s->sleepers, FG__SEQ_CST) == 0)
        return;
    uint32_t start = fg__atomic_fetch_add(&s->next_wake, 1, FG__RELAXED);
    for (int i = 0; i < p->nworkers; i++) {
        fg__worker *w = &p->workers[(start + (uint32_t)i) % (uint32_t)p->nworkers];
        if (fg__sleep_wake_worker(w))
            return;
    }
}

void fg__sleep_wake_all(fg_pool *p)
{
    for (int i = 0; i < p->nworkers; i++)
        fg__sleep_wake_worker(&p->workers[i]);
}
