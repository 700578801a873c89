/* broadcast.c: fg_broadcast, one call of a function on every worker of a
 * pool, through per-worker mailboxes.
 *
 * Work stealing cannot aim a job at one worker, so each worker has a
 * mailbox: a lock-free stack of jobs for it alone.
 * I1  any thread pushes with a CAS on `mail`; only the owner takes, and it
 *     takes the whole stack at once (exchange with NULL), so there is no
 *     ABA: a pusher's CAS fails only when the head changed.
 * I2  a worker looks at its mailbox before its own deque on every search
 *     for work (worker.c), and a parker's re-scan reads it (sleep.c); the
 *     pusher's seq_cst CAS and then its seq_cst wake of that worker form
 *     the Dekker pair of sleep.c I2 [sleep-announce], so a posted job never
 *     waits for a sleeper that missed it.
 * I3  the caller waits until every job has run (a count and a latch)
 *     before it reads their results and frees them.
 *
 * field       written by          read by        order / pairs with
 * mail        pushers (CAS),      owner, parker  seq_cst CAS / acquire
 *             owner (exchange)                   exchange [mail-post]
 * mail_taken  owner (or the caller  owner, parker  relaxed: a parker's re-scan
 *             in its seat)                       may meet the caller that
 *                                                took its seat (seat.c)
 * left        each job (RMW)      the last job   acq_rel: publishes results
 *                                                to the latch (latch.c)
 *
 * Lifetime: the jobs are freed by the caller after the latch is set.
 */
#include "alloc.h"
#include "internal.h"
#include "testhooks.h"

typedef struct fg__broadcast {
    fg_broadcast_fn fn;
    void *ctx;
    FG__ATOMIC(int) left;
    fg__latch done;
} fg__broadcast;

typedef struct fg__broadcast_job {
    fg__job job;
    fg__broadcast *b;
    int result; /* read by the caller after the latch (I3) */
} fg__broadcast_job;

fg__job *fg__mail_take(fg__worker *w)
{
    fg__job *job = fg__atomic_load(&w->mail_taken, FG__RELAXED);
    if (job == NULL && fg__atomic_load(&w->mail, FG__RELAXED) != NULL) {
        FG__PERTURB(); /* mail seen, not yet taken */
        /* [mail-post] acquire: pairs with the pusher's CAS, so the job's
         * fields are visible. */
        job = fg__atomic_exchange(&w->mail, NULL, FG__ACQUIRE);
    }
    if (job != NULL)
        fg__atomic_store(&w->mail_taken, job->next, FG__RELAXED);
    return job;
}

bool fg__mail_waiting(fg__worker *w)
{
    /* seq_cst: the parker's re-scan, the half of [sleep-announce]. */
    return fg__atomic_load(&w->mail_taken, FG__RELAXED) != NULL ||
           fg__atomic_load(&w->mail, FG__SEQ_CST) != NULL;
}

static void fg__mail_post(fg__worker *w, fg__job *job)
{
    fg__job *head = fg__atomic_load(&w->mail, FG__RELAXED);
    do {
        job->next = head;
        FG__PERTURB(); /* head read, not yet pushed */
    }
    /* [mail-post] seq_cst: release publishes the job to the owner's
     * exchange; seq_cst orders the push before the wake's read of the
     * worker's sleep word (sleep.c I2). */
    while (!fg__atomic_cas(&w->mail, &head, job, FG__SEQ_CST, FG__RELAXED));
    fg__sleep_wake_worker(w);
}

static void fg__broadcast_execute(fg__job *job, fg__worker *w)
{
    fg__broadcast_job *j = FG__CONTAINER_OF(job, fg__broadcast_job, job);
    fg__broadcast *b = j->b;
    j->result = b->fn(w->index, b->ctx);
    /* acq_rel: release publishes fn's effects and the error to the last
     * job, whose latch set publishes them to the caller (latch.c). */
    if (fg__atomic_fetch_sub(&b->left, 1, FG__ACQ_REL) == 1)
        fg__latch_set(&b->done); /* b may be gone from here on */
}

int fg_broadcast(fg_pool *pool, fg_broadcast_fn fn, void *ctx)
{
    fg__worker *me = fg__worker_of(pool);
    if (pool == NULL || fn == NULL || (me == NULL && !fg__pool_live(pool)))
        return FG_EINVAL;
    int n = pool->nworkers;
    fg__broadcast_job *jobs = fg__alloc(sizeof *jobs * (size_t)n);
    if (jobs == NULL)
        return FG_ENOMEM;
    if (me == NULL && !fg__pool_enter(pool)) {
        fg__free(jobs);
        return FG_ESHUTDOWN;
    }
    fg__broadcast b = { .fn = fn, .ctx = ctx };
    fg__atomic_init(&b.left, n);
    fg__latch_init(&b.done, me);
    for (int i = 0; i < n; i++) {
        jobs[i] = (fg__broadcast_job){ { fg__broadcast_execute, NULL }, &b, 0 };
        fg__mail_post(&pool->workers[i], &jobs[i].job);
    }
    if (me != NULL) {
        fg__worker_wait_until(me, &b.done); /* runs our own job too */
    } else {
        fg__latch_wait_blocking(&b.done);
        fg__pool_leave(pool);
    }
    int err = 0; /* the lowest worker's nonzero result */
    for (int i = 0; i < n && err == 0; i++)
        err = jobs[i].result;
    fg__free(jobs);
    return err;
}
