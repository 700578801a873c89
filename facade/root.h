/* root.h: run a façade call's root task on its pool.
 *
 * fg_parallel_for/reduce, the sorts and the work-stealing map each start
 * one root task and block until its whole tree is done.  They used to do it
 * as fg_join(root, nothing): from a thread outside the pool, the empty
 * second half was the first task the root's worker shared, so an idle
 * worker woke up to steal nothing, and the root's own first spawn then
 * stayed private (a worker shares new spawns at once only while nothing of
 * its is shared, docs/design/ctx_stack.md).  A loop of two long chunks then
 * ran both on one worker: the other had parked before the owner, inside
 * its first chunk, could answer a request for work.
 * fg_ctx_run starts the root alone: its first spawn is shared at once and
 * wakes a sleeper.  On a worker of the pool it is a direct call, as
 * fg_join's was.
 */
#ifndef FG_FACADE_ROOT_H
#define FG_FACADE_ROOT_H

#include "forage.h"

typedef struct fg__root {
    fg_fn fn;
    void *arg;
    int result;
} fg__root;

static void fg__root_call(fg_ctx *cx, void *p)
{
    (void)cx;
    fg__root *r = (fg__root *)p;
    r->result = r->fn(r->arg);
}

static int fg__root_nothing(void *arg)
{
    (void)arg;
    return 0;
}

/* fn(arg) on a worker of pool, whole tree done: its result, or the
 * runtime's error (FG_ESHUTDOWN, FG_EINVAL) with nothing run.  fg_ctx_run
 * refuses a pool inherited across fork() (FG_ESHUTDOWN, nothing run), where
 * fg_join runs both halves inline on the caller (runtime/fork.c, I1): the
 * join then does it, and on a pool that is really shutting down it gives
 * the same FG_ESHUTDOWN. */
static inline int fg__root_run(fg_pool *pool, fg_fn fn, void *arg)
{
    fg__root r = { fn, arg, 0 };
    int err = fg_ctx_run(pool, fg__root_call, &r);
    if (err == FG_ESHUTDOWN)
        return fg_join(pool, fn, arg, fg__root_nothing, NULL);
    return err != 0 ? err : r.result;
}

#endif
