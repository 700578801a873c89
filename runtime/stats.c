/* stats.c: reading the per-worker counters (stats.h).
 *
 * Single writer per counter (its worker), relaxed loads here: a snapshot
 * taken while the pool runs may mix older and newer values of different
 * counters; after fg_pool_destroy has joined the workers it is exact.
 */
#include "internal.h"

int fg_stats_enabled(void)
{
#if defined(FG_STATS) && FG_STATS
    return 1;
#else
    return 0;
#endif
}

int fg_pool_stats(const fg_pool *p, int worker, fg_worker_stats *out)
{
    if (p == NULL || out == NULL || !fg__pool_live(p) || worker < 0 || worker >= p->nworkers)
        return FG_EINVAL;
    fg__stats *s = &p->workers[worker].stats;
    *out = (fg_worker_stats){
        .tasks_run      = fg__atomic_load(&s->tasks_run, FG__RELAXED),
        .steal_attempts = fg__atomic_load(&s->steal_attempts, FG__RELAXED),
        .steals         = fg__atomic_load(&s->steals, FG__RELAXED),
        .steal_aborts   = fg__atomic_load(&s->steal_aborts, FG__RELAXED),
        .injector_takes = fg__atomic_load(&s->injector_takes, FG__RELAXED),
        .sleeps         = fg__atomic_load(&s->sleeps, FG__RELAXED),
        .wakeups        = fg__atomic_load(&s->wakeups, FG__RELAXED),
        .busy_ns        = fg__atomic_load(&s->busy_ns, FG__RELAXED),
        .idle_ns        = fg__atomic_load(&s->idle_ns, FG__RELAXED),
    };
    return 0;
}
