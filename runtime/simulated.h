/* simulated.h: a pool that exists only as the `pool` a victim policy sees,
 * for forage-sim (docs/design/sim.md).
 *
 * The simulator runs the runtime's own policy functions (fg__policy_builtin,
 * or a user's fg_victim_fn) against simulated deques.  A policy may call
 * fg_pool_queue_length(args->pool, v); on a simulated pool that call asks
 * the simulator through `length`.  Such a pool has no threads, deques or
 * injector: any other fg_pool_* call on it is a bug.
 */
#ifndef FG_SIMULATED_H
#define FG_SIMULATED_H

#include "forage.h"

/* Jobs a thief could take from simulated worker `worker` right now. */
typedef int (*fg__queue_length_fn)(void *ctx, int worker);

/* NULL when out of memory; workers in [1, FG__NEAR_MAX_WORKERS]. */
fg_pool *fg__pool_simulated(int workers, fg__queue_length_fn length, void *ctx);
void fg__pool_simulated_free(fg_pool *pool);

#endif
