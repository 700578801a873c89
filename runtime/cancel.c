/* cancel.c: cancellation tokens and the calling thread's cancellation
 * scope (forage.h, "cancellation").
 *
 * A token is one word.  Setting it publishes nothing but itself: work that
 * reads it set skips what it has not started, and what a skipped task
 * would have produced is never read (the waiter learns of the skip through
 * the same fork-join edges that publish results).  So every access is
 * relaxed.
 *
 * The scope is a thread-local pointer to the token fg_cancelled() reads.
 * The worker loop clears it around every job it runs (worker.c), so a job
 * never sees the scope of a task that happens to be waiting below it on the
 * same stack; group tasks (group.c) and the façade's chunks and batches
 * enter their own.
 */
#include "internal.h"

/* initial-exec, as fg__tls_worker (worker.c): read inline by internal.h. */
__attribute__((tls_model("initial-exec"))) _Thread_local const fg_cancel_token *fg__scope;

void fg_cancel(fg_cancel_token *t)
{
    if (t != NULL)
        __atomic_store_n(&t->fg__set, 1u, __ATOMIC_RELAXED);
}

int fg_cancel_requested(const fg_cancel_token *t)
{
    return t != NULL && fg__cancel_is_set(t);
}

void fg_cancel_reset(fg_cancel_token *t)
{
    if (t != NULL)
        __atomic_store_n(&t->fg__set, 0u, __ATOMIC_RELAXED);
}

int fg_cancelled(void)
{
    return fg_cancel_requested(fg__scope);
}

const fg_cancel_token *fg_cancel_scope_enter(const fg_cancel_token *t)
{
    return fg__scope_swap(t);
}

void fg_cancel_scope_leave(const fg_cancel_token *previous)
{
    fg__scope = previous;
}
