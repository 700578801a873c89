/* sleep.pml: Spin model of forage's sleep/wake protocol (runtime/sleep.c,
 * latch.c, injector.c, pool.c, worker.c, seat.c, broadcast.c's mailbox;
 * docs/design/sleep.md).
 * Results and how to run: docs/design/verification.md, "Sleep protocol
 * (Spin)"; meson test --suite model runs it through run_spin.sh.
 *
 * The protocol, not the code.  One Promela statement (or atomic block) is
 * one atomic operation of the C code: a load, store or RMW of a shared word,
 * a CAS, a futex call, or an injector push/pop under its mutex.  Each carries
 * the C function and file:line it stands for (sleep.c, seat.c and pool.c
 * lines as of the caller's seat; the others as of this model's first
 * writing).  Memory is sequentially consistent, which is what the C code
 * relies on for its Dekker pairs (publisher: write, then read the sleeper's
 * state; parker: announce, then re-scan); see "Assumption" at the end.
 *
 * Threads:
 *   NW workers (2 or 3)   fg__worker_main: find work, run it, or park.
 *   1 external thread     SCEN 1-3: injects jobs (fg__pool_inject), waits
 *                         for them on its latch (fg__latch_wait_blocking:
 *                         futex on the latch state).  SCEN 4-7: makes a
 *                         call (fg__pool_run_blocking): takes the seat of
 *                         a parked worker and runs the job as that worker,
 *                         or, if it finds none, injects it and waits.  Then
 *                         it tears the pool down (terminate,
 *                         fg__sleep_wake_all).  SCEN picks the jobs: see
 *                         the #defines below.
 *   1 poster (SCEN 6, 7)  a second external thread: fg_broadcast's post of
 *                         a mail job to worker 0 (CAS push, then
 *                         fg__sleep_wake_worker(0)), then a wait on its
 *                         latch; the teardown waits for it (the drain).
 * Jobs:
 *   PLAIN                 runs and completes.
 *   MAIL                  runs on worker 0 only (its mailbox), completes.
 *   JOIN, run as worker w fg__join_here: init latch L (waiter w), push the
 *                         half B on w's deque, take it back; if B was stolen,
 *                         fg__worker_wait_until(w, L): look for work, mark L
 *                         SLEEPY, park with L.  The thief runs B and sets L
 *                         (fg__latch_set: exchange; wake w if it replaced
 *                         SLEEPY).  While waiting, w may run PLAIN or MAIL.
 *
 * The caller's seat (sleep.c I5, seat.c).  sw[w] is 0: w's own thread runs;
 * 1: it is parked; 2: the seat is taken, the external caller runs as w and
 * w's own thread stays parked; 3: the caller too is parked, at a sync.  A
 * park stores running|1 (running: 0 for the own thread, 2 for the caller),
 * re-scans, cancels with a CAS running|1 -> running, and if that fails
 * waits until the word is back at running.  The own thread's park stores
 * between_jobs (bj) first: 1 from fg__worker_main, 0 at a sync.  A waker
 * CASes 1 -> 0 (futex wake 1) or 3 -> 2 (wake all: the caller and the own
 * thread both wait on the word; the own thread waits on).  The seat taker
 * CASes 1 -> 2 if bj said so, then reads bj again: at a sync park it gives
 * the worker back (store 0, wake 1) and takes no seat.  The caller runs the
 * job as w (run_join with running 2), then seat_leave: store 1, sleepers++,
 * re-scan, and wake w if there is work.
 *
 * Publishers that must never be missed (sleep.c I2), and the only ones the
 * properties ask about: injector pushes, latch sets, mail posts and
 * shutdown.  Deque pushes by workers are NOT covered (sleep.c I4, sleep.md
 * "Local pushes"): the push of B is a plain store followed by
 * fg__sleep_notify_push, whose relaxed read of sleepers may see 0
 * (modelled as: wake_one or nothing), and no property asks a parked worker
 * to wake for it.
 *
 * State:
 *   sw[i]       worker i's sleep_word                 fg__worker.sleep_word
 *   bj[i]       fg__worker.between_jobs (SEAT scenarios)
 *   sleepers    fg__sleep.sleepers (short here: uint32_t in C, -1 = UINT32_MAX)
 *   count, inj  fg__injector.count and its FIFO (head/tail under the mutex)
 *   lstate      L.state: UNSET / SLEEPY / SET          fg__latch.state
 *   lwaiter     L.waiter (the worker running JOIN)
 *   xstate      the external caller's latch state (its futex word)
 *   mail0       worker 0's mailbox (fg__worker.mail, mail_taken) holds MAIL
 *   ystate      the poster's latch state (its futex word)
 *   terminate   fg_pool.terminate
 *   bpos        which deque holds B, NONE if none (deque top/bottom)
 *   pending     jobs not yet complete: the last one sets xstate (stands for
 *               each external call having its own latch)
 *   xseat       the worker whose seat the external thread holds, or NONE
 *   ghosts: blocked[i] / xblocked / xsblocked / yblocked (in the futex
 *   queue of sw[i] / xstate / sw[xseat] / ystate), announcing, undoing (see
 *   (3)), acting[i] (see (4)), inwait (L's waiter is in wait_until),
 *   lwcaller (L's waiter is the seat's caller), ydone (the poster's call
 *   is over), nended (workers that have exited).
 *
 * futex_wait(word, v): one atomic step "if word == v, enter the queue" (the
 * kernel re-checks under its lock), then a wait until a futex_wake takes the
 * thread off the queue.  futex_wake: that removal, of every waiter or of
 * one chosen by the model.
 *
 * Coarser steps, each argued where it is made: fg__worker_find_work is one
 * step (mailbox, own deque, else steal B, else injector pop, else nothing; a
 * search that fails while work exists, e.g. an aborted steal or a stale
 * relaxed count, is for the protocol the same as work appearing just after
 * the search, and the model has those interleavings; spin_rounds and
 * back-off only delay); the load before futex_wait is folded into it; the
 * re-scan's reads of L and terminate are one step (not with a mailbox in
 * the model: then they are read in the C order); the setter's read of
 * L.waiter is folded into its exchange; the store of between_jobs is
 * folded into the store of the word that publishes it; the CAS loop of
 * fg__sleep_wake_worker is one step; fg__seat_take's relaxed hints (sleepers
 * and between_jobs) may read "none" at any time.
 *
 * Properties:
 *   (1) no lost wake-up, LTL under weak fairness (pan -a -f -N name):
 *         inject:   [] (count > 0 -> <> count == 0)
 *         latch:    [] (L's waiter, the own thread or the seat's caller, is
 *                       blocked in wait_until while L is SET -> <> it is not)
 *         shutdown: [] (terminate -> <> all NW workers have exited)
 *         worker0:  [] (worker 0's own thread blocked while (count > 0, or
 *                       mail for it, or L SET and it is L's waiter, or
 *                       terminate) -> <> not blocked)
 *         mail:     [] (mail0 -> <> !mail0)
 *       and by end-state validity: the external thread waits for its jobs
 *       (and the poster's call) before it terminates the pool, and workers
 *       exit only after that, so a job, latch, mail or shutdown missed by a
 *       parked worker ends in a state where every thread is blocked: an
 *       invalid end state.
 *   (2) no deadlock: no invalid end state, and every worker exits with the
 *       injector, the deques and the mailbox empty (assertion at its end).
 *   (3) accounting: after every step that changes them,
 *         sleepers == #(sw[i] odd) - announcing + undoing
 *       where announcing counts parkers (and seat leavers) between their
 *       store of an odd word (sleep.c:146) and their increment
 *       (sleep.c:147), undoing counts CAS winners (wakers, cancels, seat
 *       takers) between the CAS that clears bit 0 (sleep.c:166/207/247) and
 *       the decrement (sleep.c:167/211/249).  So sleepers == #(sw[i] odd)
 *       whenever neither window is open (asserted).  A waker can win the CAS
 *       on a worker inside its announcing window, so sleepers can be -1
 *       (UINT32_MAX in C) for a moment: -DSLEEPERS_NONNEG asserts >= 0 and
 *       fails.  Harmless: readers only compare it with 0.
 *   (4) one thread per worker: acting[w] (see OWN below) is at most 1; a
 *       thread that looks for work as w holds it, with the word at its
 *       running value; a seat is taken only from a worker whose own thread
 *       is not in wait_until (seat.c S1); and the seat's caller leaves w's
 *       deque empty (S2).
 *
 * Variants (spin -DNAME), each must give a counterexample:
 *   BUG_NO_RESCAN       park skips step 2, the re-scan.
 *   BUG_LATE_ANNOUNCE   park re-scans first, then announces.
 *   WEAK_LATCH_RESCAN   the re-scan reads L as it was before the
 *                       announcement (standing for what C11 permits with
 *                       the code's orders; see "Assumption").
 *   BUG_SEAT_SYNC_PARK  seat_take ignores between_jobs (SCEN 5): (4) S1.
 *   BUG_SEAT_NO_RESCAN  seat_leave does not re-scan (SCEN 6): the mail
 *                       posted while the seat was taken is never run.
 *   BUG_CANCEL_RETURNS  a park whose cancel CAS fails returns, as before
 *                       the seat (SCEN 4): the own thread runs as w while
 *                       the caller does, (4).
 *   BUG_WAKE3_ONE       the waker of 3 -> 2 wakes one waiter, not all
 *                       (SCEN 4): it may wake the own thread, which waits
 *                       on, and the caller sleeps for good.
 *
 * Assumption: SC for the operations of the Dekker pairs.  In the C code two
 * of them were weaker than seq_cst when this model was first written: the
 * re-scan's read of L was an acquire load and the wakers' CAS on sleep_word
 * failed with relaxed order.  Under the C11 model these let the re-scan
 * read SLEEPY while the setter's failing CAS reads sw == 0 (the lost
 * wake-up WEAK_LATCH_RESCAN shows), and let teardown's failing CAS read
 * sw == 0 after the parker read terminate == 0.  Both are seq_cst now
 * (sleep.c:106, sleep.c:207-208).  Injector pushes are safe either way:
 * their seq_cst load of sleepers synchronizes with the parker's increment
 * first.  The seat adds relaxed operations that are hints (the taker's
 * first read of between_jobs, seat.c's read of sleepers) or are published
 * by a seq_cst store of the word that the reader's CAS reads (the taker's
 * second read of between_jobs).  See docs/design/verification.md.
 */

#ifndef NW
#define NW 2
#endif

#define NONE    255
/* job kinds */
#define JPLAIN  1
#define JJOIN   2
#define JB      3
#define JMAIL   4
/* What the external thread does (SCEN, spin -DSCEN=n); a "call" is
 * fg__pool_run_blocking: the seat (seat.c) if it can take one, else inject
 * and wait:
 *   1 (default) inject JOIN, then PLAIN; wait for both
 *   2           inject JOIN only; wait
 *   3           inject PLAIN, then PLAIN; wait
 *   4           call JOIN
 *   5           inject JOIN; call PLAIN; wait for both
 *   6           call PLAIN, while a second external thread posts a mail
 *               job to worker 0 (fg_broadcast) and waits for it
 *   7           call JOIN, with the same mail job (by hand: 12 M states) */
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
#elif SCEN == 4
#define SEAT
#define NJOBS    1
#elif SCEN == 5
#define SEAT
#define NJOBS    2
#elif SCEN == 6 || SCEN == 7
#define SEAT
#define MAIL
#define NJOBS    1
#else
#error "SCEN must be 1 to 7"
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
byte acting[NW];
/* the caller's seat (SEAT scenarios; constant otherwise) */
bool bj[NW];
byte xseat = NONE;
bool xsblocked;
bool lwcaller;
/* the mail job (SCEN 6, 7; constant otherwise) */
bool mail0;
byte ystate = UNSET;
bool yblocked;
bool ydone;

#if NW == 2
#define ODDS ((sw[0] & 1) + (sw[1] & 1))
#elif NW == 3
#define ODDS ((sw[0] & 1) + (sw[1] & 1) + (sw[2] & 1))
#else
#error "NW must be 2 or 3"
#endif

/* (3) the accounting invariant; called inside the atomic step that changed
 * sleepers, sw[], announcing or undoing. */
inline check_acct()
{
    assert(sleepers == ODDS - announcing + undoing);
    assert(announcing != 0 || undoing != 0 || sleepers == ODDS)
#ifdef SLEEPERS_NONNEG
    ; assert(sleepers >= 0)   /* fails: see the header, (3) */
#endif
}

/* (4) the ghost acting[w]: threads that hold worker w.  Its own thread
 * holds it except from its announcement (sleep.c:146) until its cancel wins
 * (sleep.c:166) or it leaves its wait loop (sleep.c:180); the seat's caller
 * holds it from its take (sleep.c:250) to its leave (sleep.c:264) and keeps
 * it while it parks.  running: 0 for the own thread, 2 for the caller. */
#define OWN(running)         (running == 0 -> 1 : 0)
#define RELEASE(me, running) acting[me] = acting[me] - OWN(running)
#define REGAIN(me, running)  acting[me] = acting[me] + OWN(running); assert(acting[me] <= 1)

/* futex_wake(&sw[w], all ? INT_MAX : 1).  Two threads may wait on the
 * word: w's own thread (blocked[w]) and the seat's caller (xsblocked, when
 * xseat == w); a wake of 1 takes either (the kernel does not promise which). */
inline futex_wake_sw(w, all)
{
    atomic {
        if
        :: all -> blocked[w] = false; xsblocked = (xsblocked && xseat != w)
        :: !all && blocked[w] -> blocked[w] = false
        :: !all && xsblocked && xseat == w -> xsblocked = false
        :: else -> skip
        fi
    }
}

/* fg__sleep_wake_worker(w), sleep.c:198-217.  res: this call woke it.
 * The CAS loop (expected 1, then the odd value it read) is one step: a
 * failed CAS only reads, so the loop ends either with a CAS that clears
 * bit 0 of the word as it then is, or with a read of an even word. */
inline wake_worker(w, res, all)
{
    atomic {                                    /* sleep.c:207 CAS, seq_cst both ways */
        if
        :: sw[w] == 1 -> sw[w] = 0; all = false; undoing++; res = true; check_acct()
        :: sw[w] == 3 -> sw[w] = 2; undoing++; res = true; check_acct();
#ifdef BUG_WAKE3_ONE
            all = false                         /* mutation: wake one waiter at 3 */
#else
            all = true
#endif
        :: else -> res = false                  /* sleep.c:209-210 even: running */
        fi
    };
    if
    :: res ->
        atomic { sleepers--; undoing--; check_acct() };  /* sleep.c:211 fetch_sub, relaxed */
        futex_wake_sw(w, all)                   /* sleep.c:214 */
    :: else -> skip
    fi
}

/* fg__sleep_wake_one, sleep.c:219-231.  next_wake (relaxed, fairness only)
 * is modelled as any starting worker.  Locals are reset at the end (here
 * and below) so that dead values do not multiply the states. */
inline wake_one(start, k, res, all)
{
    atomic {
        if
        :: sleepers == 0 -> start = NONE        /* sleep.c:223 seq_cst load */
        :: else ->                              /* sleep.c:225 next_wake */
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
            wake_worker((start + k) % NW, res, all); /* sleep.c:226-229 */
            if
            :: res -> break
            :: else -> k++
            fi
        :: else -> break
        od
    :: else -> skip
    fi;
    atomic { start = 0; k = 0; res = false; all = false }
}

/* fg__sleep_wake_all, sleep.c:233-237 */
inline wake_all(k, res, all)
{
    k = 0;
    do
    :: k < NW -> wake_worker(k, res, all); k++
    :: else -> break
    od;
    atomic { k = 0; res = false; all = false }
}

/* fg__latch_set(&L), latch.c:40-54.  The read of L.waiter (latch.c:42)
 * is folded into the exchange: it was written before B was published and
 * does not change while B exists. */
inline latch_set_L(w, old, res, all)
{
    atomic { w = lwaiter; old = lstate; lstate = SET };  /* latch.c:42, latch.c:47 exchange */
    if
    :: old == SLEEPY -> wake_worker(w, res, all) /* latch.c:48-51 */
    :: else -> skip
    fi;
    atomic { w = 0; old = 0; res = false; all = false }
}

/* A job finished.  The external caller's latch is set by the last one
 * (standing for each external call having its own latch: fg__latch_set,
 * latch.c:40-54, with waiter NULL: futex wake on the state word; join.c:84). */
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

/* The mail job ran (broadcast.c:77-86): the broadcast's latch, waiter NULL. */
inline complete_mail(old)
{
    atomic { old = ystate; ystate = SET };      /* latch.c:47 exchange */
    if
    :: old == SLEEPY -> yblocked = false        /* latch.c:53 futex_wake */
    :: else -> skip
    fi;
    old = 0
}

/* fg__latch_wait_blocking, latch.c:56-66, on latch state st (futex
 * queue blk) */
inline latch_wait(st, blk, ok)
{
    do
    :: st == SET -> break                       /* latch.c:59 */
    :: else ->
        atomic {                                /* latch.c:61, latch.c:35 CAS UNSET -> SLEEPY */
            if
            :: st == UNSET -> st = SLEEPY; ok = true
            :: else -> ok = (st != SET)
            fi
        };
        if
        :: !ok -> break
        :: else ->
            atomic {                            /* latch.c:64 futex_wait(state, SLEEPY) */
                if
                :: st == SLEEPY -> blk = true
                :: else -> skip
                fi
            };
            !blk
        fi
    od;
    ok = false
}

/* fg__worker_find_work, worker.c:121-143, as one step (see header): mail
 * (worker 0 only, SCEN 6, 7), own deque, else steal B, else injector pop, else
 * nothing.  Whoever looks for work as me holds me, with its word at its
 * running value (4). */
inline find_work(me, running, job)
{
    atomic {
        assert(acting[me] == 1 && sw[me] == running);
        if
        :: me == 0 && mail0 -> mail0 = false; job = JMAIL             /* worker.c:124 */
        :: !(me == 0 && mail0) && bpos == me -> bpos = NONE; job = JB /* worker.c:127 own deque */
        :: !(me == 0 && mail0) && bpos != NONE && bpos != me ->
            bpos = NONE; job = JB                                      /* worker.c:138 steal */
        :: !(me == 0 && mail0) && bpos == NONE && count > 0 ->
            inj?job; count--                                           /* injector.c:47-61 pop */
        :: !(me == 0 && mail0) && bpos == NONE && count == 0 -> job = NONE
        fi
    }
}

/* sleep.c:162 fg__sleep_should_stay_awake (sleep.c:102-109) */
inline rescan(me, haslatch, stay)
{
#ifdef BUG_NO_RESCAN
    stay = false;
#else
#ifdef WEAK_LATCH_RESCAN
    stay = (haslatch && old_L == SET) || terminate;  /* L as it was before step 1 */
#elif defined(MAIL)
    /* in the C order: L (sleep.c:106), mail (broadcast.c:60), terminate
     * (pool.c:144), each seq_cst */
    stay = (haslatch && lstate == SET);
    stay = (stay || (me == 0 && mail0));
    stay = (stay || terminate);
#else
    /* sleep.c:106 L (seq_cst), then pool.c:144 terminate (seq_cst): one
     * step, since terminate is constant while L is waited on (it is set
     * after the drain) and no latch is read on the other path. */
    stay = (haslatch && lstate == SET) || terminate;
#endif
    stay = (stay || count > 0);                 /* pool.c:146, injector seq_cst */
    stay = (stay || bpos != NONE);              /* pool.c:148-150, deque seq_cst */
#endif
}

/* Step 1 of a park, fg__sleep_announce (sleep.c:140-148), with the own
 * thread's store of between_jobs (sleep.c:157, relaxed, published by the
 * store of the word: folded into it, since a seat taker reads it only to
 * decide on its CAS of the word, which comes after). */
inline announce(me, running, haslatch)
{
    atomic {                                    /* sleep.c:146 store, seq_cst */
#ifdef SEAT
        if
        :: running == 0 -> bj[me] = !haslatch   /* sleep.c:156-157 */
        :: else -> skip
        fi;
#endif
        RELEASE(me, running);
        sw[me] = running + 1; announcing++; check_acct()
    };
    atomic { sleepers++; announcing--; check_acct() }   /* sleep.c:147 fetch_add, seq_cst */
}

/* fg__sleep_park(me, haslatch ? &L : NULL), sleep.c:150-185, by the own
 * thread of me (running 0, futex queue blocked[me]) or the seat's caller
 * (running 2, xsblocked).  The load of running (sleep.c:155) is exact
 * (nothing else changes a running value) and is the parameter. */
inline park(me, running, haslatch, stay, won, blk)
{
#ifndef BUG_LATE_ANNOUNCE
    announce(me, running, haslatch);
#endif
    rescan(me, haslatch, stay);
#ifdef BUG_LATE_ANNOUNCE
    announce(me, running, haslatch);
#endif
    if
    :: stay ->
        atomic {                                /* sleep.c:166 cancel: CAS running|1 -> running */
            if
            :: sw[me] == running + 1 -> sw[me] = running; undoing++; won = true; check_acct()
            :: else -> won = false              /* a waker won, or a seat taker */
            fi
        };
        if
        :: won -> atomic { sleepers--; undoing--; check_acct(); REGAIN(me, running) }  /* sleep.c:167 */
#ifdef BUG_CANCEL_RETURNS
        :: else -> won = true; REGAIN(me, running)  /* mutation: return, as before the seat */
#else
        :: else -> skip                         /* into the wait */
#endif
        fi
    :: else -> skip
    fi;
    if
    :: won -> skip
    :: else ->
        /* sleep.c:180-181: while ((now = load(sw)) != running)
         * futex_wait(sw, now).  The load is folded into the futex call,
         * which re-checks the word (a change in between only makes it
         * return); no wake-up is lost, since once the word is back at
         * running only this thread moves it away again. */
        do
        :: atomic { sw[me] != running -> blk = true };
            !blk                                /* until a futex_wake */
        :: atomic { sw[me] == running -> REGAIN(me, running) }; break
        od
    fi;
    atomic { stay = false; won = false }
}

/* A JOIN run by whoever holds me (running 0: its own thread; 2: the seat's
 * caller, futex queue blk), join.c:80-84 -> fg__join_here.  Uses the
 * calling proctype's locals job, w, old, start, k, res, stay, won, ok,
 * inl, all. */
inline run_join(me, running, blk)
{
    atomic {                                    /* latch init, deque push */
        lstate = UNSET; lwaiter = me;           /* (plain stores: published with B) */
        lwcaller = (running == 2);
        bpos = me
    };
    if                                          /* fg__sleep_notify_push: */
    :: wake_one(start, k, res, all)             /* relaxed read of sleepers saw != 0 */
    :: skip                                     /* ... or 0, maybe stale (not covered) */
    fi;
    atomic {                                    /* deque take */
        if
        :: bpos == me -> bpos = NONE; inl = true
        :: else -> inl = false; inwait = true   /* ghost */
        fi
    };
    if
    :: inl -> inl = false                       /* b runs inline */
    :: else ->
        /* fg__worker_wait_until(me, L), worker.c:158-169 (wait_loop) */
        do
        :: atomic { lstate == SET -> inwait = false }; break  /* worker.c:160 acquire load */
        :: else ->
            find_work(me, running, job);        /* worker.c:161 */
            if
            :: job == JPLAIN -> job = NONE; complete(old)       /* worker.c:163 */
            :: job == JMAIL -> job = NONE; complete_mail(old)
            :: job == NONE ->
                atomic {                        /* worker.c:166, latch.c:35 CAS UNSET -> SLEEPY */
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
                :: ok -> ok = false; park(me, running, true, stay, won, blk)  /* worker.c:167 */
                :: else -> skip
                fi
            :: else -> assert(false)            /* B was stolen; JOIN is this one */
            fi
        od
    fi;
    complete(old)                               /* join.c:84: the external join is done */
}

proctype worker(byte me)
{
    byte job, w, old, start, k;
    bool res, stay, won, ok, inl, all;
#ifdef WEAK_LATCH_RESCAN
    byte old_L;
#endif
    do
    :: terminate -> break                       /* worker.c:211 relaxed load */
    :: else ->
        find_work(me, 0, job);                  /* worker.c:212 */
        if
        :: job == NONE -> park(me, 0, false, stay, won, blocked[me])  /* worker.c:218 */
        :: job == JPLAIN -> complete(old)       /* worker.c:215 */
        :: job == JMAIL -> complete_mail(old)
        :: job == JB -> latch_set_L(w, old, res, all)  /* the thief runs B */
        :: job == JJOIN -> run_join(me, 0, blocked[me])
        fi;
        job = NONE
    od;
    /* worker.c:211: exits only after terminate, which follows the drain */
    assert(count == 0 && bpos == NONE && pending == 0 && !mail0);
    nended++
}

#ifdef SEAT
/* fg__sleep_seat_take(w), sleep.c:239-258, by the external thread.
 * res: the seat is taken (xseat = w). */
inline seat_take(w, res, all)
{
    if
#ifdef BUG_SEAT_SYNC_PARK
    :: true ->                                  /* mutation: no between_jobs check */
#else
    :: bj[w] ->                                 /* sleep.c:241 hint, relaxed */
#endif
        atomic {                                /* sleep.c:247 CAS 1 -> 2, seq_cst */
            if
            :: sw[w] == 1 -> sw[w] = 2; undoing++; res = true; check_acct()
            :: else -> res = false
            fi
        };
        if
        :: res ->
            atomic { sleepers--; undoing--; check_acct() };  /* sleep.c:249 */
            if
#ifdef BUG_SEAT_SYNC_PARK
            :: true ->
#else
            :: bj[w] ->                         /* sleep.c:250 */
#endif
                atomic {
                    /* S1 (seat.c): w's own thread parked between jobs,
                     * not in wait_until */
                    assert(!(inwait && lwaiter == w && !lwcaller));
                    xseat = w; REGAIN(w, 0)
                }
            :: else ->                          /* a park at a sync: finish the wake-up */
                atomic { sw[w] = 0; check_acct() };  /* sleep.c:255 seq_cst */
                futex_wake_sw(w, false);        /* sleep.c:256 */
                res = false
            fi
        :: else -> skip
        fi
    :: true -> res = false                      /* the hint read 0 (or sleepers 0: seat.c:81) */
    fi
}

/* fg__sleep_seat_leave(w), sleep.c:260-268, after seat.c:113's drain */
inline seat_leave(w, stay, res, all)
{
    /* S2: the model's jobs sync B before they return, so w's deque is
     * empty and the drain (seat.c:113-114) finds nothing. */
    assert(bpos != w);
    atomic {                                    /* sleep.c:264 -> 146 store 1, seq_cst */
        acting[w]--; xseat = NONE;
        sw[w] = 1; announcing++; check_acct()
    };
    atomic { sleepers++; announcing--; check_acct() };  /* sleep.c:147 */
#ifdef BUG_SEAT_NO_RESCAN
    stay = false;                               /* mutation: no re-scan */
#else
    rescan(w, false, stay);                     /* sleep.c:266 */
#endif
    if
    :: stay -> wake_worker(w, res, all)         /* sleep.c:267 */
    :: else -> skip
    fi;
    atomic { stay = false; res = false; all = false }
}

/* fg__pool_run_blocking(job), pool.c:126-140: fg__seat_take (seat.c:77-90:
 * from a first worker, the bound one, modelled as any), then the job in
 * the seat and fg__seat_run's leave (seat.c:92-124), or inject and wait. */
inline call(j)
{
    atomic {
        if
        :: s = 0
        :: s = 1
#if NW == 3
        :: s = 2
#endif
        fi;
        k = 0
    };
    do
    :: k < NW && !took -> seat_take((s + k) % NW, took, all); k++
    :: else -> break
    od;
    atomic { k = 0; s = xseat; all = false };
    if
    :: took ->
        if
        :: j == JJOIN -> run_join(s, 2, xsblocked)
        :: j == JPLAIN -> complete(old)
        fi;
        seat_leave(s, stay, res, all)
    :: else ->
        atomic { inj!j; count++ };              /* pool.c:135 -> 122, injector push */
        wake_one(start, k, res, all);           /* pool.c:123 */
        latch_wait(xstate, xblocked, ok)        /* pool.c:136 */
    fi;
    atomic { took = false; s = 0 }
}
#endif

proctype external()
{
    byte start, k, j, s, job, w, old;
    bool res, ok, first = true, took, stay, won, inl, all;
#ifdef WEAK_LATCH_RESCAN
    byte old_L;
#endif
#ifndef SEAT
    /* fg__pool_inject, pool.c:120-124, for each job */
    j = FIRSTJOB;
    do
    :: j != NONE ->
        atomic { inj!j; count++ };              /* injector.c:33-44 push, seq_cst count++ at 43 */
        wake_one(start, k, res, all);           /* pool.c:123 */
        if
        :: first -> first = false; j = NEXTJOB
        :: else -> j = NONE
        fi
    :: else -> break
    od;
    /* fg__latch_wait_blocking */
    latch_wait(xstate, xblocked, ok);
#elif SCEN == 5
    atomic { inj!JJOIN; count++ };              /* another call's job, injected */
    wake_one(start, k, res, all);               /* pool.c:123 */
    call(JPLAIN);
    latch_wait(xstate, xblocked, ok);           /* ... and waited for */
#elif SCEN == 6
    call(JPLAIN);
#else
    call(JJOIN);
#endif
#ifdef MAIL
    ydone;                                      /* destroy waits for the broadcast's call */
#endif
    /* fg_pool_destroy: the drain of closing/inflight is this thread having
     * waited for its calls; then fg__pool_teardown */
    atomic { ok = false; first = false; terminate = true };  /* seq_cst store */
    wake_all(k, res, all)
}

#ifdef MAIL
/* fg_broadcast from a second external thread (broadcast.c:88-119), its
 * post to worker 0 only (the posts to the others are the same protocol). */
proctype poster()
{
    bool res, all, ok;
    atomic { mail0 = true };                    /* broadcast.c:73 CAS push, seq_cst */
    wake_worker(0, res, all);                   /* broadcast.c:74 */
    atomic { res = false; all = false };
    latch_wait(ystate, yblocked, ok);           /* broadcast.c:111 */
    ydone = true                                /* fg__pool_leave */
}
#endif

init
{
    byte i;
    atomic {
        i = 0;
        do
        :: i < NW -> acting[i] = 1; run worker(i); i++
        :: else -> break
        od;
        run external();
#ifdef MAIL
        run poster();
#endif
    }
}

/* (1), see the header.  LW_STUCK: L's waiter is parked in wait_until (not
 * in some later, unrelated park) although L is SET. */
#define LW_BLOCKED ((lwcaller && xsblocked) || (!lwcaller && blocked[lwaiter]))
#define LW_STUCK (inwait && LW_BLOCKED && lstate == SET)
#define W0_OWED  (blocked[0] && (count > 0 || terminate || mail0 || (lwaiter == 0 && !lwcaller && inwait && lstate == SET)))

ltl inject   { [] ((count > 0) -> <> (count == 0)) }
ltl latch    { [] (LW_STUCK -> <> !LW_STUCK) }
ltl shutdown { [] (terminate -> <> (nended == NW)) }
ltl worker0  { [] (W0_OWED -> <> !blocked[0]) }
ltl mail     { [] (mail0 -> <> !mail0) }
