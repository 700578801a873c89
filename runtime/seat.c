/* seat.c: a caller from outside the pool runs its call as one of the pool's
 * parked workers, instead of handing the call to a worker and sleeping.
 * See docs/design/sleep.md, "The caller's seat".
 *
 * Why: an outside fg_join, fg_ctx_run or façade loop used to go through the
 * injector: the caller woke a parked worker and slept until the call's latch
 * woke it back, two wake-ups on the call's critical path (tens of
 * microseconds each when the vCPU they land on has halted), and a pool of
 * one worker ran the call on that worker's CPU, not the caller's.  OpenMP
 * and oneTBB run such a call on the caller's own thread, as this does when
 * a worker is parked between jobs.  When none is (the pool is busy, or
 * every seat is taken), the call goes through the injector as before.
 *
 * The protocol is sleep.c's (I5): a CAS on the worker's sleep word takes
 * the seat and keeps the worker's own thread parked, and giving the seat
 * back parks the worker again on its behalf.  This file swaps the identity
 * the calling thread runs with: the thread-locals, and the worker's fields
 * that describe the thread running it.
 *
 * S1  a seat is taken only from a worker parked between jobs: its deque and
 *     ctx stack are empty and its own stack holds nothing of the pool's, so
 *     the caller can use them as its own (sleep.c I5).
 * S2  the caller runs one job, its call's root, as the worker and on its own
 *     stack.  The job returns when every task it spawned into groups it
 *     made has synced; what it spawned into a group made outside the call
 *     may still be in the deque, and on a split deque out of every thief's
 *     sight, so the caller runs those too before it gives the seat back
 *     (the worker would have taken them next).  So the seat is given back
 *     as it was taken: deque and ctx stack empty.
 * S3  while the caller sits, the worker's stack bounds (group.c decides
 *     whether a group is the worker's own by them) span only the caller's
 *     frames below this call: a group the caller made before the call is
 *     not the seat's, and its sync, outside the call, takes the outside path.
 *
 * S4  a call is seated only if the caller's stack has as much room left as
 *     a worker's whole stack (fg_config.stack_size) less FG__SEAT_SLACK: a
 *     pool made with a large stack for deep recursion keeps running its
 *     calls on its workers (found by unit-scenarios' 10^5-deep join chain
 *     on a 256 MiB worker stack, which overflowed the caller's 8 MiB).
 *
 * field               written by                  read by
 * stack_lo, stack_hi,  the thread the seat is      that thread only; the
 * cx.fg__stack_lo,     running on (the worker's,   sleep word's CASes order
 * cx.fg__scope         or the caller's)            the hand-overs (sleep.c I5)
 *
 * Lifetime: the seat is the pool's worker; the caller holds it inside
 * fg__pool_enter/leave, so destroy waits for the seat to be given back.
 */
#include <sched.h>

#include "internal.h"

/* The lowest address of the calling thread's stack, looked up once per
 * thread; NULL when it cannot be had: then no group counts as the seat's
 * own, which is always correct, only slower (group.c).  For the main thread
 * glibc reads /proc/self/maps: 0.4-0.5 ms the first time on the project's
 * VM (fopen, the first malloc, page faults), which a thread's first seated
 * call would pay; fg_pool_create looks it up for its creator instead
 * (fg__seat_prepare), so a program's first call does not. */
static _Thread_local const char *fg__seat_stack_lo;
static _Thread_local bool fg__seat_stack_known;

static const char *fg__seat_stack_bottom(void)
{
    const char *hi;
    if (!fg__seat_stack_known && !fg__thread_stack(&fg__seat_stack_lo, &hi))
        fg__seat_stack_lo = NULL;
    fg__seat_stack_known = true;
    return fg__seat_stack_lo;
}

void fg__seat_prepare(const fg_pool *p)
{
    if (p->seat)
        (void)fg__seat_stack_bottom();
}

/* The seat to try first: the worker bound to the CPU the caller is on, so
 * that the worker the call's first spawn wakes is bound elsewhere and does
 * not queue behind the caller (sleep.md, "Binding"). */
static int fg__seat_first(const fg_pool *p)
{
    if (p->bind_cpu == NULL)
        return 0;
    int cpu = sched_getcpu();
    for (int i = 0; i < p->nworkers; i++)
        if (p->bind_cpu[i] == cpu)
            return i;
    return 0;
}

/* What a worker's own thread has used of its stack before it runs a job. */
#define FG__SEAT_SLACK ((size_t)64 << 10)

/* S4: does the calling thread have a worker's stack left? */
static bool fg__seat_stack_fits(const fg_pool *p)
{
    const char *bottom = fg__seat_stack_bottom();
    const char *here = (const char *)__builtin_frame_address(0);
    return bottom != NULL && here > bottom &&
           (size_t)(here - bottom) + FG__SEAT_SLACK >= p->stack_size;
}

fg__worker *fg__seat_take(fg_pool *p)
{
    /* A hint: a worker that parks a moment later is missed, and the call
     * goes through the injector, which wakes it. */
    if (!p->seat || fg__atomic_load(&p->sleep.sleepers, FG__RELAXED) == 0 ||
        !fg__seat_stack_fits(p))
        return NULL;
    int first = fg__seat_first(p);
    for (int i = 0; i < p->nworkers; i++) {
        fg__worker *w = &p->workers[(first + i) % p->nworkers];
        if (fg__sleep_seat_take(w))
            return w;
    }
    return NULL;
}

void fg__seat_run(fg__worker *w, fg__job *job)
{
    fg_ctx *cx = &w->ctx_stack.cx;
    fg__worker *outer_worker = fg__tls_worker; /* a worker of another pool, or NULL */
    fg_ctx *outer_cx = fg__tls_cx;
    const char *stack_lo = w->stack_lo, *stack_hi = w->stack_hi;
    const fg_cancel_token **scope = cx->fg__scope;

    const char *bottom = fg__seat_stack_bottom(); /* S3 */
    w->stack_lo = bottom;
    w->stack_hi = bottom != NULL ? (const char *)__builtin_frame_address(0) : NULL;
    cx->fg__stack_lo = w->stack_lo;
    cx->fg__scope = &fg__scope; /* this thread's */
    fg__tls_worker = w;
    fg__tls_cx = cx;

    FG__STAT_CHARGE(w, idle_ns); /* the worker's parked time, to now */
    fg__worker_run(w, job);
    /* S2: what the job left in the deque (tasks of groups made outside the
     * call) may be private (a split deque's newest jobs): no thief or
     * re-scan sees those, so run them here, as the worker would next. */
    for (fg__job *left; (left = fg__own_take(w)) != NULL;)
        fg__worker_run(w, left);
    FG__STAT_CHARGE(w, busy_ns);

    fg__tls_worker = outer_worker;
    fg__tls_cx = outer_cx;
    w->stack_lo = stack_lo;
    w->stack_hi = stack_hi;
    cx->fg__stack_lo = stack_lo;
    cx->fg__scope = scope;
    fg__sleep_seat_leave(w);
}
