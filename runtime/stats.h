/* stats.h: per-worker counters, compiled in by the `stats` meson option
 * (FG_STATS=1) and to nothing otherwise.  See stats.c. */
#ifndef FG_STATS_H
#define FG_STATS_H

#include <stdint.h>
#include <stdio.h>

#include "atomics.h"
#include "base.h"

/* Each counter is written only by its own worker and read racily by
 * fg_pool_stats() on any thread.  Relaxed atomics, not plain fields: a
 * plain field read by another thread is a data race (undefined behaviour,
 * and a TSan report).  Not fetch_add: with one writer a relaxed load and
 * store is enough, and it compiles to the same mov/add/mov as a plain
 * increment on x86-64 and AArch64, with no locked instruction. */
typedef struct fg__stats {
    FG__ATOMIC(uint64_t) tasks_run, steal_attempts, steals, steal_aborts,
        injector_takes, sleeps, wakeups;
    /* Worker-loop time, split at each top-level job's start and end (see
     * fg_worker_stats): busy inside it, idle outside. */
    FG__ATOMIC(uint64_t) busy_ns, idle_ns;
    uint64_t mark_ns; /* owner-only: last split of busy/idle time */
} fg__stats;

/* Owner: add the time since the last split to *field, split again now. */
static inline void fg__stats_charge(fg__stats *s, FG__ATOMIC(uint64_t) *field)
{
    uint64_t now = fg__clock_ns();
    fg__atomic_store(field, fg__atomic_load(field, FG__RELAXED) + (now - s->mark_ns),
                     FG__RELAXED);
    s->mark_ns = now;
}

#if defined(FG_STATS) && FG_STATS
#  define FG__STAT_INC(w, field)                                            \
    fg__atomic_store(&(w)->stats.field,                                     \
                     fg__atomic_load(&(w)->stats.field, FG__RELAXED) + 1,   \
                     FG__RELAXED)
/* Worker loop only: start the busy/idle clock; charge the time since the
 * last split to busy_ns or idle_ns.  Nested runs (a job run while waiting
 * inside another) are never split, so no time is counted twice. */
#  define FG__STAT_CLOCK_START(w) ((void)((w)->stats.mark_ns = fg__clock_ns()))
#  define FG__STAT_CHARGE(w, field) fg__stats_charge(&(w)->stats, &(w)->stats.field)
#else
#  define FG__STAT_INC(w, field) ((void)0)
#  define FG__STAT_CLOCK_START(w) ((void)0)
#  define FG__STAT_CHARGE(w, field) ((void)0)
#endif

/* $FORAGE_STATS: unset, empty or "0": *report = 0; "1": 1; else FG_EENV. */
int fg__stats_config(int *report);
/* After the workers were joined: the per-worker table (or, when counters
 * are not compiled in, one line saying so) on f. */
void fg__stats_print(const fg_pool *p, FILE *f);

#endif
