/* simulated.c: the policy-facing pool of forage-sim (simulated.h).  Only
 * nworkers and the queue-length hook are set; everything else stays zero. */
#include "simulated.h"

#include "alloc.h"
#include "internal.h"

fg_pool *fg__pool_simulated(int workers, fg__queue_length_fn length, void *ctx)
{
    if (workers < 1 || workers > FG__NEAR_MAX_WORKERS || length == NULL)
        return NULL;
    fg_pool *p = fg__alloc_zeroed(sizeof *p);
    if (p == NULL)
        return NULL;
    p->nworkers = workers;
    p->simulated = length;
    p->simulated_ctx = ctx;
    return p;
}

void fg__pool_simulated_free(fg_pool *pool)
{
    fg__free(pool);
}
