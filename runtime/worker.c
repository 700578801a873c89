/* worker.c: where a worker finds its next job.  See docs/design/join.md
 * and docs/policies.md.
 *
 * Find-work order: own deque (LIFO, newest first) -> rounds of steals from
 * victims chosen by the pool's policy, each round ending with a look at the
 * injector, for as long as the idle ladder says (sleep.c: spin, yield) ->
 * park (sleep.c).  With steal-half a
 * successful steal also moves up to half of what the victim had left onto
 * the thief's own deque, one proven steal at a time (deque.c).  A worker waiting
 * on a latch (a stolen join half, a group) runs the same loop, first trying
 * the deque of the worker that took its job (leapfrogging: that deque holds
 * the stolen job's own subtasks), and stops as soon as the latch is set.
 *
 * This file holds no shared state of its own; the deque, injector, latch
 * and sleep files carry the protocols and their proofs.
 */
#include "internal.h"

/* initial-exec: a plain %fs-relative load instead of a __tls_get_addr call
 * on every fg_join; libforage is linked at start-up, not dlopen()ed late. */
__attribute__((tls_model("initial-exec"))) _Thread_local fg__worker *fg__tls_worker;
/* The same worker's ctx, for forage.h's inline group paths: NULL on every
 * other thread. */
__attribute__((tls_model("initial-exec"))) _Thread_local fg_ctx *fg__tls_cx;

void fg__worker_run(fg__worker *w, fg__job *job)
{
    FG__STAT_INC(w, tasks_run);
    /* Groups below this frame belong to this job: their tasks may go on
     * the ctx stack, since the job syncs them before it returns (group.c). */
    fg_ctx *cx = &w->ctx_stack.cx;
    const char *outer_sp = cx->fg__job_sp;
    cx->fg__job_sp = w->record == NULL && w->trace == NULL ? (const char *)__builtin_frame_address(0)
                                                            : NULL;
    /* A job starts outside any cancellation scope (cancel.c). */
    const fg_cancel_token *outer = fg__scope_swap(NULL);
    if (__builtin_expect(w->record != NULL, 0))
        fg__record_run(w, job); /* as one unit of the recording */
    else
        fg__trace_execute(w->trace, job, w);
    fg__scope = outer;
    cx->fg__job_sp = outer_sp;
}

/* Steal-half: after one job, take up to half of what is left (the victim's
 * size is read racily; every extra job is its own linearizable steal) and
 * queue the extras on our deque, where other thieves may take them. */
static void fg__worker_steal_more(fg__worker *w, fg__worker *victim)
{
    bool split = w->pool->split, visible = false;
    int64_t more = fg__victim_size(split, victim) / 2;
    uint32_t index = (uint32_t)(victim - w->pool->workers);
    for (; more > 0; more--) {
        fg__job *job;
        FG__STAT_INC(w, steal_attempts); /* each call, so steals <= attempts */
        fg__steal_result r = fg__victim_steal(split, victim, &job);
        if (r != FG__STEAL_SUCCESS) {
            if (r == FG__STEAL_ABORT)
                FG__STAT_INC(w, steal_aborts);
            break;
        }
        FG__STAT_INC(w, steals);
        fg__trace_note(w->trace, FG__TRACE_STEAL, index);
        int pushed = fg__own_push(w, job);
        if (pushed < 0)
            fg__worker_run(w, job); /* no room: run it now rather than lose it */
        visible |= pushed > 0;
    }
    if (visible)
        fg__sleep_notify_push(&w->pool->sleep, w->pool);
}

static fg__job *fg__worker_steal_from(fg__worker *w, int victim)
{
    fg__job *job;
    FG__STAT_INC(w, steal_attempts);
    fg__worker *v = &w->pool->workers[victim];
    switch (fg__victim_steal(w->pool->split, v, &job)) {
    case FG__STEAL_SUCCESS:
        FG__STAT_INC(w, steals);
        fg__trace_note(w->trace, FG__TRACE_STEAL, (uint32_t)victim);
        w->victim.last_victim = victim;
        if (w->pool->steal == FG_STEAL_HALF)
            fg__worker_steal_more(w, v);
        return job;
    case FG__STEAL_ABORT:
        FG__STAT_INC(w, steal_aborts);
        return NULL;
    case FG__STEAL_EMPTY:
    default:
        if (victim == w->victim.last_victim)
            w->victim.last_victim = -1;
        return NULL;
    }
}

/* One round: nworkers - 1 victim choices, then the injector. */
static fg__job *fg__worker_steal_round(fg__worker *w)
{
    fg_pool *p = w->pool;
    for (int i = 1; i < p->nworkers; i++) {
        int victim = fg__policy_next_victim(w, i - 1);
        if (victim < 0)
            continue;
        fg__job *job = fg__worker_steal_from(w, victim);
        if (job != NULL)
            return job;
    }
    fg__job *job = fg__injector_pop(&p->injector);
    if (job != NULL) {
        FG__STAT_INC(w, injector_takes);
        fg__trace_note(w->trace, FG__TRACE_INJECT, 0);
    }
    return job;
}

static void fg__worker_wait_loop(fg__worker *w, fg__latch *latch);

/* Own deque, then bounded steal rounds; NULL when nothing turned up or the
 * latch (may be NULL) was set meanwhile. */
static fg__job *fg__worker_find_work(fg__worker *w, fg__latch *latch)
{
    fg__ctx_share_if_asked(&w->ctx_stack); /* thieves may be waiting on it */
    fg__job *job = fg__mail_take(w);       /* a broadcast waits for us alone */
    if (job != NULL)
        return job;
    job = fg__own_take(w);
    if (job != NULL)
        return job;
    fg__idle idle = fg__idle_start(w->pool->spin_ns, w->pool->wait_ns, latch != NULL);
    do {
        if (latch != NULL) {
            int thief = fg__atomic_load(&latch->thief, FG__RELAXED);
            if (thief >= 0 && thief != w->index &&
                (job = fg__worker_steal_from(w, thief)) != NULL)
                return job;
        }
        if ((job = fg__worker_steal_round(w)) != NULL)
            return job;
        if (latch != NULL && fg__latch_is_set(latch))
            return NULL;
    } while (fg__sleep_idle_round(w, &idle));
    return NULL;
}

void fg__worker_wait_until(fg__worker *w, fg__latch *latch)
{
    if (__builtin_expect(w->record != NULL, 0)) {
        /* The waiting unit's clock stops: waits are not work. */
        bool was_running = fg__record_pause(w->record);
        fg__worker_wait_loop(w, latch);
        fg__record_resume(w->record, was_running);
        return;
    }
    fg__worker_wait_loop(w, latch);
}

static void fg__worker_wait_loop(fg__worker *w, fg__latch *latch)
{
    while (!fg__latch_is_set(latch)) {
        fg__job *job = fg__worker_find_work(w, latch);
        if (job != NULL) {
            fg__worker_run(w, job);
            continue;
        }
        if (fg__latch_make_sleepy(latch))
            fg__sleep_park(w, latch);
    }
}

bool fg__thread_stack(const char **lo, const char **hi)
{
    pthread_attr_t attr;
    void *base;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return false;
    bool ok = pthread_attr_getstack(&attr, &base, &size) == 0;
    if (ok) {
        *lo = base;
        *hi = (const char *)base + size;
    }
    pthread_attr_destroy(&attr);
    return ok;
}

/* Where this thread's stack lies: groups on it are this worker's own.
 * Without bounds every spawn counts in `left` (still correct). */
static void fg__worker_find_stack(fg__worker *w)
{
    if (!fg__thread_stack(&w->stack_lo, &w->stack_hi))
        w->stack_lo = w->stack_hi = NULL;
    w->ctx_stack.cx.fg__stack_lo = w->stack_lo; /* the inline group paths' */
}

void *fg__worker_main(void *arg)
{
    fg__worker *w = arg;
    fg_pool *p = w->pool;
    fg__worker_find_stack(w);
    w->ctx_stack.cx.fg__pool = p;
    w->ctx_stack.cx.fg__scope = &fg__scope; /* the inline group sync's scope */
    fg__tls_worker = w;
    fg__tls_cx = &w->ctx_stack.cx;
    fg__topology_bind_self(p->topology, w->index);
    if (p->bind_cpu != NULL)
        fg__bind_self_cpu(p->bind_cpu[w->index]);
    else if (p->base_reset)
        fg__bind_self_mask(p->base_mask);
    FG__STAT_CLOCK_START(w);
    while (!fg__atomic_load(&p->terminate, FG__RELAXED)) {
        fg__job *job = fg__worker_find_work(w, NULL);
        if (job != NULL) {
            FG__STAT_CHARGE(w, idle_ns);
            fg__worker_run(w, job);
            FG__STAT_CHARGE(w, busy_ns);
        } else {
            fg__sleep_park(w, NULL);
        }
    }
    FG__STAT_CHARGE(w, idle_ns);
    fg__slab_cache_flush(&w->frames, &p->frames);
    fg__tls_worker = NULL;
    fg__tls_cx = NULL;
    return NULL;
}
