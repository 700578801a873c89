/* latch.c: one-shot completion latch.  See docs/design/join.md.
 *
 * States: UNSET --(waiter about to sleep)--> SLEEPY --(setter)--> SET
 *         UNSET ----------------(setter)-----------------------> SET
 * I1  SET is final; exactly one fg__latch_set() per latch.
 * I2  a setter that replaces SLEEPY wakes the waiter; a setter that replaces
 *     UNSET need not, because a waiter checks the state again after its
 *     seq_cst announcement (fg__sleep_park re-scan, or the futex word).
 *
 * field   written by        read by   order / pairs with
 * state   waiter, setter    both      seq_cst RMWs [latch-sleepy]; acquire
 *                                     load in fg__latch_is_set [latch-set]
 * thief   the thief         waiter    relaxed hint for leapfrogging
 * waiter  initialiser       setter    plain; published with the job itself
 *
 * Lifetime: the latch lives in the waiter's frame.  The setter reads
 * `waiter` before its exchange and afterwards touches only the worker (owned
 * by the pool) or calls futex wake on the address, which never dereferences
 * it (futex.h).
 */
#include "latch.h"

#include <limits.h>

#include "futex.h"
#include "internal.h"
#include "sleep.h"
#include "testhooks.h"

bool fg__latch_make_sleepy(fg__latch *l)
{
    uint32_t expected = FG__LATCH_UNSET;
    /* [latch-sleepy] seq_cst: the SLEEPY mark must precede, in the total
     * order, the waiter's re-scan; a setter whose exchange comes later sees
     * SLEEPY and wakes us, one that came earlier is seen by the re-scan. */
    if (fg__atomic_cas(&l->state, &expected, FG__LATCH_SLEEPY, FG__SEQ_CST, FG__ACQUIRE))
        return true;
    return expected != FG__LATCH_SET;
}

void fg__latch_set(fg__latch *l)
{
    fg__worker *waiter = l->waiter; /* read before the frame can vanish */
    FG__PERTURB(); /* the waiter may be announcing its sleep now */
    /* [latch-set] Release publishes the job's result to the waiter's
     * acquire in fg__latch_is_set(); seq_cst also orders it against the
     * waiter's announcement [latch-sleepy], so a SLEEPY we do not see cannot
     * be followed by a sleep that misses SET. */
    uint32_t old = fg__atomic_exchange(&l->state, FG__LATCH_SET, FG__SEQ_CST);
    if (old != FG__LATCH_SLEEPY)
        return;
    if (waiter != NULL)
        fg__sleep_wake_worker(waiter);
    else
        fg__futex_wake(&l->state, INT_MAX);
}

void fg__latch_wait_blocking(fg__latch *l)
{
    for (;;) {
        if (fg__latch_is_set(l))
            return;
        if (!fg__latch_make_sleepy(l))
            return;
        FG__PERTURB(); /* SLEEPY, not yet blocked */
        /* The kernel re-checks state == SLEEPY: a set in between returns. */
        fg__futex_wait(&l->state, FG__LATCH_SLEEPY);
    }
}
