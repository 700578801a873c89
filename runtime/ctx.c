/* ctx.c: context tasks' ties to the runtime: fg_ctx_run, the job that runs
 * a stolen task, and the two hooks of ctx_stack.c (waiting for a thief,
 * waking a sleeper).  The protocol itself is ctx_stack.c's
 * (docs/design/ctx_stack.md).
 *
 * On a worker of the pool the root task is a direct call with the worker's
 * context.  From any other thread it becomes one job in the injector, run
 * by whichever worker takes it, and the caller blocks on a latch, as an
 * external fg_join does (join.c).
 */
#include "internal.h"

/* The job of every slot: run the task in its slot with the thief's context
 * (the slot was claimed by the thief's CAS, [ctx-claim]). */
static void fg__ctx_execute_stolen(fg__job *job, fg__worker *w)
{
    fg__ctx_meta *m = FG__CONTAINER_OF(job, fg__ctx_meta, job);
    fg__atomic_store(&m->done.thief, w->index, FG__RELAXED);
    fg_ctx_slot *s = m->slot;
    s->fg__fn(&w->ctx_stack.cx, s->fg__arg);
    fg__latch_set(&m->done); /* [ctx-done]: the owner may reuse the slot */
}

const fg__job_fn fg__ctx_stolen_fn = fg__ctx_execute_stolen;

void fg__ctx_hook_wait(fg__ctx_stack *st, fg__latch *done)
{
    fg__worker_wait_until(st->owner, done);
}

void fg__ctx_hook_shared(fg__ctx_stack *st)
{
    fg_pool *p = st->owner->pool;
    fg__sleep_notify_push(&p->sleep, p); /* a local push: see sleep.h */
}

/* Run a root task on worker w.  A task that broke the rules (returned with
 * spawns not synced) leaves slots above the entry point: they are synced
 * here, newest first, so that nothing spawned is lost, and the call says
 * FG_EINVAL.  A stack below its entry point (more syncs than spawns) cannot
 * be repaired: FG_EINVAL too. */
static int fg__ctx_call(fg__worker *w, fg_ctx_fn fn, void *arg)
{
    fg_ctx *cx = &w->ctx_stack.cx;
    fg_ctx_slot *entry = cx->fg__top;
    fn(cx, arg);
    if (FG__LIKELY(cx->fg__top == entry))
        return 0;
    unsigned char scratch[FG_CTX_ARG_MAX];
    while (cx->fg__top > entry)
        fg__ctx_sync_slow(cx, cx->fg__top[-1].fg__fn, scratch, sizeof scratch);
    return FG_EINVAL;
}

typedef struct fg__ctx_root {
    fg__job job;
    fg_ctx_fn fn;
    void *arg;
    int result;
    fg__latch done;
} fg__ctx_root;

static void fg__ctx_root_execute(fg__job *job, fg__worker *w)
{
    fg__ctx_root *r = FG__CONTAINER_OF(job, fg__ctx_root, job);
    r->result = fg__ctx_call(w, r->fn, r->arg);
    fg__latch_set(&r->done); /* r may be gone from here on */
}

__attribute__((cold, noinline))
static int fg__ctx_run_external(fg_pool *pool, fg_ctx_fn fn, void *arg)
{
    if (pool == NULL || fn == NULL || !fg__pool_live(pool))
        return FG_EINVAL;
    fg__ctx_root r = { .job.execute = fg__ctx_root_execute, .fn = fn, .arg = arg };
    int err = fg__pool_run_blocking(pool, &r.job, &r.done);
    return err != 0 ? err : r.result;
}

int fg_ctx_run(fg_pool *pool, fg_ctx_fn fn, void *arg)
{
    fg__worker *w = fg__worker_of(pool);
    if (w == NULL || fn == NULL)
        return fg__ctx_run_external(pool, fn, arg);
    return fg__ctx_call(w, fn, arg);
}
