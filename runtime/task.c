/* task.c: fg_ctx_run, the way into typed tasks.  The tasks themselves are
 * spawned and synced through task_stack.c (docs/design/task_stack.md).
 *
 * On a worker of the pool the root task is a direct call with the worker's
 * context.  From any other thread it becomes one job in the injector, run
 * by whichever worker takes it, and the caller blocks on a latch, as an
 * external fg_join does (join.c).
 */
#include "internal.h"

typedef struct fg__task_root {
    fg__job job;
    fg_ctx_fn fn;
    void *arg;
    fg__latch done;
} fg__task_root;

static void fg__task_root_execute(fg__job *job, fg__worker *w)
{
    fg__task_root *r = FG__CONTAINER_OF(job, fg__task_root, job);
    r->fn(&w->tasks.cx, r->arg);
    fg__latch_set(&r->done); /* r may be gone from here on */
}

__attribute__((cold, noinline))
static int fg__task_run_external(fg_pool *pool, fg_ctx_fn fn, void *arg)
{
    if (pool == NULL || fn == NULL || !fg__pool_live(pool))
        return FG_EINVAL;
    if (!fg__pool_enter(pool))
        return FG_ESHUTDOWN;
    fg__task_root r = { .job.execute = fg__task_root_execute, .fn = fn, .arg = arg };
    fg__latch_init(&r.done, NULL);
    fg__pool_inject(pool, &r.job);
    fg__latch_wait_blocking(&r.done);
    fg__pool_leave(pool);
    return 0;
}

int fg_ctx_run(fg_pool *pool, fg_ctx_fn fn, void *arg)
{
    fg__worker *w = fg__worker_of(pool);
    if (w == NULL || fn == NULL)
        return fg__task_run_external(pool, fn, arg);
    fn(&w->tasks.cx, arg);
    return 0;
}
