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
 * I5  a caller from outside the pool may take the seat of a worker parked
 *     between jobs (seat.c): its CAS 1 -> 2 undoes the park as a waker's
 *     would (I3), and the worker's own thread stays blocked while bit 1 is
 *     set; the caller runs as the worker, parks at its syncs with the word
 *     at 3 (wakers CAS 3 -> 2 and wake both waiters), and when done parks
 *     the worker again on its behalf: store 1, sleepers += 1, re-scan, and
 *     wake it if anything is there (I1 for the worker).  A thread parks
 *     and waits for its own running value: 0 for the worker's thread, 2 for
 *     the caller, so neither runs while the other owns the worker.
 * I4  deque pushes are NOT covered by I2 (no fence on the push fast path):
 *     a parked worker may miss a push.  That job is still run: its owner
 *     takes it back or waits for it, and any later push, injection or latch
 *     set wakes the sleeper.  So a miss delays parallelism, never loses work.
 *
 * field       written by          read by           order / pairs with
 * sleep_word  parker, waker CAS,  waker, parker,    seq_cst [sleep-announce]
 *             seat take/leave     seat taker
 * between_jobs the worker's thread seat taker       relaxed, published by the
 *                                                   announce store
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

/* Step 1 of a park: be counted before the re-scan (I1).  `parked` is the
 * word's value with bit 0 set: 1 for the worker's own thread, 3 for its
 * seat's caller. */
static void fg__sleep_announce(fg__worker *w, uint32_t parked)
{
    fg__sleep_ask_for_work(w);
    /* [sleep-announce] seq_cst: set our word before we are counted, so a
     * waker that sees the count also finds the word (I3); both precede
     * the re-scan in the total order (I2). */
    fg__atomic_store(&w->sleep_word, parked, FG__SEQ_CST);
    fg__atomic_fetch_add(&w->pool->sleep.sleepers, 1, FG__SEQ_CST);
}

void fg__sleep_park(fg__worker *w, fg__latch *latch)
{
    /* Who parks: the worker's own thread (word 0, its running value) or the
     * caller in its seat (word 2).  Only a waker's CAS changes the word
     * from a running value, and it waits for bit 0, so this read is exact. */
    uint32_t running = fg__atomic_load(&w->sleep_word, FG__RELAXED);
    if (running == 0)
        fg__atomic_store(&w->between_jobs, latch == NULL, FG__RELAXED); /* published by the announce */
    fg__sleep_announce(w, running | FG__WORD_PARKED);
    FG__PERTURB(); /* announced, not yet re-scanned */

    /* 2. Re-scan (I1). */
    if (fg__sleep_should_stay_awake(w, latch)) {
        uint32_t parked = running | FG__WORD_PARKED;
        /* Cancel through the wakers' CAS (I3); if it fails a waker already
         * undid our announcement, or a caller took our seat (I5). */
        if (fg__atomic_cas(&w->sleep_word, &parked, running, FG__SEQ_CST, FG__RELAXED)) {
            fg__atomic_fetch_sub(&w->pool->sleep.sleepers, 1, FG__RELAXED);
            return;
        }
    }

    /* 3. Block until the word is back at our running value: a waker
     *    cleared bit 0 and, for the worker's own thread, no caller holds
     *    its seat (I5).  Acquire pairs with the waker's CAS (or the seat's
     *    release, through the CAS that follows it) so what it published
     *    before waking us is visible. */
    uint64_t parked_at = fg__trace_clock(w->trace);
    FG__PERTURB(); /* re-scan found nothing, not yet blocked */
    uint32_t now;
    while ((now = fg__atomic_load(&w->sleep_word, FG__ACQUIRE)) != running)
        fg__futex_wait(&w->sleep_word, now);
    /* Counted once awake: while our seat was taken its caller owned w. */
    FG__STAT_INC(w, sleeps);
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
    uint32_t word = FG__WORD_PARKED; /* the usual case; 3 is retried below */
    /* [sleep-announce] seq_cst CAS: the publisher's half of I2, and the
     * single undo of I3.  Release also hands our publication to the
     * sleeper's acquire in fg__sleep_park step 3. */
    /* A failed CAS is only a read: it must be seq_cst too, or a latch setter
     * or shutdown could read the word as 0 while the parker's re-scan misses
     * their publication (found by the Spin model, tests/model/sleep.pml). */
    while (!fg__atomic_cas(&w->sleep_word, &word, word & ~(uint32_t)FG__WORD_PARKED,
                           FG__SEQ_CST, FG__SEQ_CST))
        if ((word & FG__WORD_PARKED) == 0)
            return false; /* running: nothing to undo */
    fg__atomic_fetch_sub(&w->pool->sleep.sleepers, 1, FG__RELAXED);
    /* At 3 two threads wait on the word: the seat's caller, whom this
     * wakes, and the worker's own thread, which waits on (I5). */
    fg__futex_wake(&w->sleep_word, word == FG__WORD_PARKED ? 1 : INT_MAX);
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

bool fg__sleep_seat_take(fg__worker *w)
{
    if (!fg__atomic_load(&w->between_jobs, FG__RELAXED))
        return false; /* a hint, read again below */
    uint32_t parked = FG__WORD_PARKED;
    /* [sleep-announce] seq_cst, as a waker's CAS: it undoes w's park (I3),
     * and acquires what w wrote before its announcement: between_jobs, and
     * every owner-only field the caller is about to use. */
    if (!fg__atomic_cas(&w->sleep_word, &parked, FG__WORD_SEATED, FG__SEQ_CST, FG__RELAXED))
        return false;
    fg__atomic_fetch_sub(&w->pool->sleep.sleepers, 1, FG__RELAXED);
    if (fg__atomic_load(&w->between_jobs, FG__RELAXED))
        return true;
    /* Parked at a sync: its stack and ctx stack are in use.  We undid its
     * park, so finish the wake-up a waker would have done (a latch setter
     * that saw the word at 2 left it to us).  Release: as the waker's CAS. */
    fg__atomic_store(&w->sleep_word, 0, FG__SEQ_CST);
    fg__futex_wake(&w->sleep_word, 1);
    return false;
}

void fg__sleep_seat_leave(fg__worker *w)
{
    /* The caller's writes to w's owner-only fields are released by this
     * store and reach w's thread through the CAS that wakes it (I5). */
    fg__sleep_announce(w, FG__WORD_PARKED);
    FG__PERTURB(); /* re-announced, not yet re-scanned */
    if (fg__sleep_should_stay_awake(w, NULL))
        fg__sleep_wake_worker(w); /* as a cancelled park; a waker may have won */
}

