/* stats.h: per-worker counters, compiled in by the `stats` meson option
 * (FG_STATS=1) and to nothing otherwise.  See stats.c. */
#ifndef FG_STATS_H
#define FG_STATS_H

#include <stdint.h>

#include "atomics.h"

/* Each counter is written only by its own worker and read racily by
 * fg_pool_stats() on any thread.  Relaxed atomics, not plain fields: a
 * plain field read by another thread is a data race (undefined behaviour,
 * and a TSan report).  Not fetch_add: with one writer a relaxed load and
 * store is enough, and it compiles to the same mov/add/mov as a plain
 * increment on x86-64 and AArch64, with no locked instruction. */
typedef struct fg__stats {
    FG__ATOMIC(uint64_t) tasks_run, steal_attempts, steals, steal_aborts,
        injector_takes, sleeps, wakeups;
} fg__stats;

#if defined(FG_STATS) && FG_STATS
#  define FG__STAT_INC(w, field)                                            \
    fg__atomic_store(&(w)->stats.field,                                     \
                     fg__atomic_load(&(w)->stats.field, FG__RELAXED) + 1,   \
                     FG__RELAXED)
#else
#  define FG__STAT_INC(w, field) ((void)0)
#endif

#endif
