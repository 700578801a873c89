/* sleep.pml: Spin model of forage's sleep/wake protocol (runtime/sleep.c,
 * latch.c, injector.c, pool.c, worker.c; docs/design/sleep.md).
 * Results and how to run: docs/design/verification.md, "Sleep protocol
 * (Spin)"; meson test --suite model runs it through run_spin.sh.
 *
 * The protocol, not the code.  One Promela statement (or atomic block) is
 * one atomic operation of the C code: a load, store or RMW of a shared word,
 * a CAS, a futex call, or an injector push/pop under its mutex.  Each carries
 * the C function and file:line it stands for (lines as of this model's
 * writing).  Memory is sequentially consistent, which is what the C code
 * relies on for its Dekker pairs (publisher: write, then read the sleeper's
 * state; parker: announce, then re-scan); see "Assumption" at the end.
 *
 * Threads:
 *   NW workers (2 or 3)   fg__worker_main: find work, run it, or park.
 *   1 external thread     injects jobs (fg__pool_inject), waits for them on
 *                         its latch (fg__latch_wait_blocking: futex on the
 *                         latch state), then tears the pool down (terminate,
 *                         fg__sleep_wake_all).  SCEN picks the jobs:
 *                         1 JOIN + PLAIN (default), 2 JOIN, 3 PLAIN + PLAIN.
 * Jobs:
 *   PLAIN                 runs and completes.
 *   JOIN, run by worker w fg__join_here: init latch L (waiter w), push the
 *                         half B on w's deque, take it back; if B was stolen,
 *                         fg__worker_wait_until(w, L): look for work, mark L
 *                         SLEEPY, park with L.  The thief runs B and sets L
 *                         (fg__latch_set: exchange; wake w if it replaced
 *                         SLEEPY).  While waiting, w may run the PLAIN job.
 *
 * Publishers that must never be missed (sleep.c I2), and the only ones the
 * properties ask about: injector pushes, latch sets and shutdown.  Deque
 * pushes by workers are NOT covered (sleep.c I4, sleep.md "Local pushes"):
 * the push of B is a plain store followed by fg__sleep_notify_push, whose
 * relaxed read of sleepers may see 0 (modelled as: wake_one or nothing), and
 * no property asks a parked worker to wake for it.
 *
 * State:
 *   sw[i]       worker i's sleep_word                 fg__worker.sleep_word
 *   sleepers    fg__sleep.sleepers (short here: uint32_t in C, -1 = UINT32_MAX)
 *   count, inj  fg__injector.count and its FIFO (head/tail under the mutex)
 *   lstate      L.state: UNSET / SLEEPY / SET          fg__latch.state
 *   lwaiter     L.waiter (the worker running JOIN)
 *   xstate      the external caller's latch state (its futex word)
 *   terminate   fg_pool.terminate
 *   bpos        which deque holds B, NONE if none (deque top/bottom)
 *   pending     jobs not yet complete: the last one sets xstate (stands for
 *               each external call having its own latch)
 *   ghosts: blocked[i] / xblocked (in the futex queue of sw[i] / xstate),
 *   announcing, undoing (see (3)), inwait (L's waiter is in wait_until),
 *   nended (workers that have exited).
 *
 * futex_wait(word, v): one atomic step "if word == v, enter the queue" (the
 * kernel re-checks under its lock), then a wait until a futex_wake takes the
 * thread off the queue.  futex_wake: that removal.
 *
 * Coarser steps, each argued where it is made: fg__worker_find_work is one
 * step (own deque, else steal B, else injector pop, else nothing; a search
 * that fails while work exists, e.g. an aborted steal or a stale relaxed
 * count, is for the protocol the same as work appearing just after the
 * search, and the model has those interleavings; spin_rounds and back-off
 * only delay); the load before futex_wait is folded into it; the re-scan's
 * reads of L and terminate are one step; the setter's read of L.waiter is
 * folded into its exchange.
 *
 * Properties:
 *   (1) no lost wake-up, LTL under weak fairness (pan -a -f -N name):
 *         inject:   [] (count > 0 -> <> count == 0)
 *         latch:    [] (L's waiter is blocked in wait_until while L is SET
 *                       -> <> it is not)
 *         shutdown: [] (terminate -> <> all NW workers have exited)
 *         worker0:  [] (worker 0 blocked while (count > 0, or L SET and it
 *                       is L's waiter, or terminate) -> <> not blocked)
 *       and by end-state validity: the external thread waits for its jobs
 *       before it terminates the pool, and workers exit only after that, so a
 *       job, latch or shutdown missed by a parked worker ends in a state
 *       where every thread is blocked: an invalid end state.
 *   (2) no deadlock: no invalid end state, and every worker exits with the
 *       injector and the deques empty (assertion at its end).
 *   (3) accounting: after every step that changes them,
 *         sleepers == #(sw[i] == 1) - announcing + undoing
 *       where announcing counts workers between their store sw = 1
 *       (sleep.c:55) and their increment (sleep.c:56), undoing counts CAS
 *       winners between the CAS 1 -> 0 (sleep.c:63/81) and the decrement
 *       (sleep.c:64/83).  So sleepers == #(sw[i] == 1) whenever neither
 *       window is open (asserted).  A waker can win the CAS on a worker
 *       inside its announcing window, so sleepers can be -1 (UINT32_MAX in
 *       C) for a moment: -DSLEEPERS_NONNEG asserts >= 0 and fails.  Harmless:
 *       readers only compare it with 0.
 *
 * Variants (spin -DNAME), each must give a counterexample:
 *   BUG_NO_RESCAN       park skips step 2, the re-scan.
 *   BUG_LATE_ANNOUNCE   park re-scans first, then announces.
 *   WEAK_LATCH_RESCAN   the re-scan reads L as it was before the
 *                       announcement (standing for what C11 permits with
 *                       the code's orders; see "Assumption").
 *
 * Assumption: SC for the operations of the Dekker pairs.  In the C code two
 * of them are weaker than seq_cst: the re-scan's read of L is an acquire load
 * (fg__latch_is_set, latch.h:32) and the wakers' CAS on sleep_word fails with
 * relaxed order (sleep.c:81).  Under the C11 model these let the re-scan
 * read SLEEPY while the setter's failing CAS reads sw == 0 (the lost wake-up
 * WEAK_LATCH_RESCAN shows), and let teardown's failing CAS read sw == 0
 * after the parker read terminate == 0.  Injector pushes are safe: their
 * seq_cst load of sleepers synchronizes with the parker's increment first.
 * See docs/design/verification.md.
 */

#ifndef NW
#define NW 2
#endif

#define NONE    255
/* job kinds */
#define JPLAIN  1
#define JJOIN   2
#define JB      3
/* What the external thread injects, in order (SCEN, spin -DSCEN=n):
 *   1 (default) JOIN, then PLAIN
 *   2           JOIN only
 *   3           PLAIN, then PLAIN  */
#ifndef SCEN
#define SCEN 1
#endif
#if SCEN == 1
#define FIRSTJOB JJOIN
#define NEXTJOB  JPLAIN
#define NJOBS    2
#elif SCEN == 2
#define FIRSTJOB JJOIN
#define NEXTJOB  NONE
#define NJOBS    1
#elif SCEN == 3
#define FIRSTJOB JPLAIN
#define NEXTJOB  JPLAIN
#define NJOBS    2
#else
#error "SCEN must be 1, 2 or 3"
#endif
/* fg__latch states, latch.h:12 */
#define UNSET   0
#define SLEEPY  1
#define SET     2

byte sw[NW];
short sleepers;
byte count;
chan inj = [NJOBS] of { byte };
bool terminate;
byte lstate = UNSET;
byte lwaiter = NONE;
byte xstate = UNSET;
byte pending = NJOBS;
byte bpos = NONE;
bool blocked[NW];
bool xblocked;
byte announcing;
byte undoing;
bool inwait;
byte nended;

#if NW == 2
#define ONES (sw[0] + sw[1])
#elif NW == 3
#define ONES (sw[0] + sw[1] + sw[2])
#else
#error "NW must be 2 or 3"
#endif

/* (3) the accounting invariant; called inside the atomic step that changed
 * sleepers, sw[], announcing or undoing. */
inline check_acct()
{
    assert(sleepers == ONES - announcing + undoing);
    assert(announcing != 0 || undoing != 0 || sleepers == ONES)
#ifdef SLEEPERS_NONNEG
    ; assert(sleepers >= 0)   /* fails: see the header, (3) */
#endif
}

/* fg__sleep_wake_worker(w), sleep.c:75-86.  res: this call woke it. */
inline wake_worker(w, res)
{
    atomic {                                    /* sleep.c:81 CAS sw 1 -> 0, seq_cst */
        if
        :: sw[w] == 1 -> sw[w] = 0; undoing++; res = true; check_acct()
        :: else -> res = false
        fi
    };
    if
    :: res ->
        atomic { sleepers--; undoing--; check_acct() };  /* sleep.c:83 fetch_sub, relaxed */
        blocked[w] = false                      /* sleep.c:84 futex_wake(sw, 1) */
    :: else -> skip
    fi
}

/* fg__sleep_wake_one, sleep.c:88-104.  next_wake (relaxed, fairness only)
 * is modelled as any starting worker.  Locals are reset at the end (here
 * and below) so that dead values do not multiply the states. */
inline wake_one(start, k, res)
{
    atomic {
        if
        :: sleepers == 0 -> start = NONE        /* sleep.c:92 seq_cst load */
        :: else ->                              /* sleep.c:94 next_wake */
            if
            :: start = 0
            :: start = 1
#if NW == 3
            :: start = 2
#endif
            fi
        fi
    };
    if
    :: start != NONE ->
        k = 0;
        do
        :: k < NW ->
            wake_worker((start + k) % NW, res); /* sleep.c:95-97 */
            if
            :: res -> break
            :: else -> k++
            fi
        :: else -> break
        od
    :: else -> skip
    fi;
    atomic { start = 0; k = 0; res = false }
}

/* fg__sleep_wake_all, sleep.c:106-110 */
inline wake_all(k, res)
{
    k = 0;
    do
    :: k < NW -> wake_worker(k, res); k++
    :: else -> break
    od;
    atomic { k = 0; res = false }
}

/* fg__latch_set(&L), latch.c:40-54.  The read of L.waiter (latch.c:42)
 * is folded into the exchange: it was written before B was published and
 * does not change while B exists. */
inline latch_set_L(w, old, res)
{
    atomic { w = lwaiter; old = lstate; lstate = SET };  /* latch.c:42, latch.c:47 exchange */
    if
    :: old == SLEEPY -> wake_worker(w, res)     /* latch.c:48-51 */
    :: else -> skip
    fi;
    atomic { w = 0; old = 0; res = false }
}

/* A job finished.  The external caller's latch is set by the last one
 * (standing for each external call's own latch: fg__latch_set, latch.c:40-54,
 * with waiter NULL: futex wake on the state word; join.c:84). */
inline complete(old)
{
    atomic {                                    /* latch.c:47 exchange, by the last job */
        pending--;
        if
        :: pending == 0 -> old = xstate; xstate = SET
        :: else -> old = UNSET
        fi
    };
    if
    :: old == SLEEPY -> xblocked = false        /* latch.c:53 futex_wake(state, INT_MAX) */
    :: else -> skip
    fi;
    old = 0
}

/* fg__worker_find_work, worker.c:69-92, as one step (see header). */
inline find_work(me, job)
{
    atomic {
        if
        :: bpos == me -> bpos = NONE; job = JB                  /* worker.c:71 own deque */
        :: bpos != NONE && bpos != me -> bpos = NONE; job = JB  /* worker.c:79/57 -> 33 steal */
        :: bpos == NONE && count > 0 -> inj?job; count--        /* worker.c:61, injector.c:47-61 pop */
        :: bpos == NONE && count == 0 -> job = NONE
        fi
    }
}

/* fg__sleep_park(me, haslatch ? &L : NULL), sleep.c:49-73. */
inline park(me, haslatch, stay, won)
{
#ifndef BUG_LATE_ANNOUNCE
    atomic { sw[me] = 1; announcing++; check_acct() };      /* sleep.c:55 store, seq_cst */
    atomic { sleepers++; announcing--; check_acct() };      /* sleep.c:56 fetch_add, seq_cst */
#endif
#ifdef BUG_NO_RESCAN
    stay = false;
#else
    /* sleep.c:59 fg__sleep_should_stay_awake, sleep.c:42-47 */
#ifdef WEAK_LATCH_RESCAN
    stay = (haslatch && old_L == SET) || terminate;  /* L as it was before step 1 */
#else
    /* sleep.c:44 fg__latch_is_set (latch.h:32), then pool.c:77 terminate
     * (seq_cst): one step, since terminate is constant while L is waited on
     * (it is set after the drain) and no latch is read on the other path. */
    stay = (haslatch && lstate == SET) || terminate;
#endif
    stay = (stay || count > 0);                 /* pool.c:79, injector.c:66 seq_cst */
    stay = (stay || bpos != NONE);              /* pool.c:81-83, deque.c:139-140 seq_cst */
#endif
#ifdef BUG_LATE_ANNOUNCE
    atomic { sw[me] = 1; announcing++; check_acct() };
    atomic { sleepers++; announcing--; check_acct() };
#endif
    if
    :: stay ->
        atomic {                                /* sleep.c:63 cancel: CAS 1 -> 0 */
            if
            :: sw[me] == 1 -> sw[me] = 0; undoing++; won = true; check_acct()
            :: else -> won = false
            fi
        };
        if
        :: won -> atomic { sleepers--; undoing--; check_acct() }  /* sleep.c:64 */
        :: else -> skip
        fi
    :: else ->
        /* sleep.c:71-72: while (load(sw) == 1) futex_wait(sw, 1).  The load
         * is folded into the futex call, which re-checks the word anyway. */
        do
        :: atomic { sw[me] == 1 -> blocked[me] = true; check_acct() };
            !blocked[me]                        /* until a futex_wake */
        :: else -> break
        od
    fi;
    atomic { stay = false; won = false }
}

proctype worker(byte me)
{
    byte job, w, old, start, k;
    bool res, stay, won, ok, inl;
#ifdef WEAK_LATCH_RESCAN
    byte old_L;
#endif
    do
    :: terminate -> break                       /* worker.c:112 relaxed load */
    :: else ->
        find_work(me, job);                     /* worker.c:113 */
        if
        :: job == NONE -> park(me, false, stay, won)    /* worker.c:117 */
        :: job == JPLAIN -> complete(old)               /* worker.c:115 */
        :: job == JB -> latch_set_L(w, old, res)        /* join.c:26-32: the thief runs B */
        :: job == JJOIN ->
            /* join.c:80-84 -> fg__join_here, join.c:36-64 */
            atomic {                            /* join.c:42 latch init, join.c:43 deque push */
                lstate = UNSET; lwaiter = me;   /* (plain stores: published with B) */
                bpos = me
            };
            if                                  /* join.c:48 fg__sleep_notify_push: */
            :: wake_one(start, k, res)          /* relaxed read of sleepers saw != 0 */
            :: skip                             /* ... or 0, maybe stale (not covered) */
            fi;
            atomic {                            /* join.c:53 deque take */
                if
                :: bpos == me -> bpos = NONE; inl = true
                :: else -> inl = false; inwait = true   /* ghost */
                fi
            };
            if
            :: inl -> inl = false               /* join.c:54-56 b runs inline */
            :: else ->
                /* join.c:62 fg__worker_wait_until(w, L), worker.c:94-105 */
                do
                :: atomic { lstate == SET -> inwait = false }; break  /* worker.c:96 acquire load */
                :: else ->
                    find_work(me, job);         /* worker.c:97 */
                    if
                    :: job != NONE ->
                        assert(job == JPLAIN);  /* B was stolen; JOIN is this one */
                        job = NONE;
                        complete(old)           /* worker.c:99 */
                    :: else ->
                        atomic {                /* worker.c:102, latch.c:35 CAS UNSET -> SLEEPY */
                            if
                            :: lstate == UNSET -> lstate = SLEEPY; ok = true
                            :: else -> ok = (lstate != SET)
                            fi;
#ifdef WEAK_LATCH_RESCAN
                            old_L = lstate
#else
                            skip
#endif
                        };
                        if
                        :: ok -> ok = false; park(me, true, stay, won)  /* worker.c:103 */
                        :: else -> skip
                        fi
                    fi
                od
            fi;
            complete(old)                       /* join.c:84: the external join is done */
        fi;
        job = NONE
    od;
    /* worker.c:119: exits only after terminate, which follows the drain */
    assert(count == 0 && bpos == NONE && pending == 0);
    nended++
}

proctype external()
{
    byte start, k, j;
    bool res, ok, first = true;
    /* fg__pool_inject, pool.c:69-73, for each job */
    j = FIRSTJOB;
    do
    :: j != NONE ->
        atomic { inj!j; count++ };              /* injector.c:33-44 push, seq_cst count++ at 43 */
        wake_one(start, k, res);                /* pool.c:72 */
        if
        :: first -> first = false; j = NEXTJOB
        :: else -> j = NONE
        fi
    :: else -> break
    od;
    /* join.c:99 fg__latch_wait_blocking, latch.c:56-66 */
    do
    :: xstate == SET -> break                   /* latch.c:59 */
    :: else ->
        atomic {                                /* latch.c:61, latch.c:35 CAS UNSET -> SLEEPY */
            if
            :: xstate == UNSET -> xstate = SLEEPY; ok = true
            :: else -> ok = (xstate != SET)
            fi
        };
        if
        :: !ok -> break
        :: else ->
            atomic {                            /* latch.c:64 futex_wait(state, SLEEPY) */
                if
                :: xstate == SLEEPY -> xblocked = true
                :: else -> skip
                fi
            };
            !xblocked
        fi
    od;
    /* fg_pool_destroy, pool.c:203-217: the drain of closing/inflight is
     * this thread having waited for its calls; then fg__pool_teardown */
    atomic { ok = false; terminate = true };    /* pool.c:117 seq_cst store */
    wake_all(k, res)                            /* pool.c:118 */
}

init
{
    byte i;
    atomic {
        i = 0;
        do
        :: i < NW -> run worker(i); i++
        :: else -> break
        od;
        run external()
    }
}

/* (1), see the header.  LW_STUCK: L's waiter is parked in wait_until (not
 * in some later, unrelated park) although L is SET. */
#define LW_STUCK (inwait && blocked[lwaiter] && lstate == SET)
#define W0_OWED  (blocked[0] && (count > 0 || terminate || (lwaiter == 0 && inwait && lstate == SET)))

ltl inject   { [] ((count > 0) -> <> (count == 0)) }
ltl latch    { [] (LW_STUCK -> <> !LW_STUCK) }
ltl shutdown { [] (terminate -> <> (nended == NW)) }
ltl worker0  { [] (W0_OWED -> <> !blocked[0]) }
