/* stats.c: reading the per-worker counters of stats.h, by fg_pool_stats()
 * and as the FORAGE_STATS=1 table.  See docs/design/trace.md ("Counters").
 *
 * I1  each counter has one writer, its worker (FG__STAT_* in stats.h); a
 *     wake-up is counted on the waker's own worker for that reason.
 * I2  readers load relaxed: a snapshot taken while the pool runs may mix
 *     older and newer values of different counters.
 * I3  the table is printed after fg__pool_teardown joined the workers, so
 *     it is exact: pthread_join orders every counter store before it.
 *
 * field            written by   read by                 order
 * stats.<counter>  its worker   fg_pool_stats, table    relaxed (I2, I3)
 * stats.mark_ns    its worker   its worker              plain, owner-only
 *
 * Lifetime: the counters live in fg__worker and go with the pool.
 */
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "internal.h"

int fg_stats_enabled(void)
{
#if defined(FG_STATS) && FG_STATS
    return 1;
#else
    return 0;
#endif
}

/* A relaxed snapshot of one worker's counters. */
static void fg__stats_read(const fg__worker *w, fg_worker_stats *out)
{
    /* The counters are atomics only for the racy reader; reading through a
     * const pointer needs the casts C11 atomic loads lack. */
    fg__stats *s = (fg__stats *)&w->stats;
    *out = (fg_worker_stats)FG_WORKER_STATS_INIT(
        .tasks_run      = fg__atomic_load(&s->tasks_run, FG__RELAXED),
        .steal_attempts = fg__atomic_load(&s->steal_attempts, FG__RELAXED),
        .steals         = fg__atomic_load(&s->steals, FG__RELAXED),
        .steal_aborts   = fg__atomic_load(&s->steal_aborts, FG__RELAXED),
        .injector_takes = fg__atomic_load(&s->injector_takes, FG__RELAXED),
        .sleeps         = fg__atomic_load(&s->sleeps, FG__RELAXED),
        .wakeups        = fg__atomic_load(&s->wakeups, FG__RELAXED),
        .busy_ns        = fg__atomic_load(&s->busy_ns, FG__RELAXED),
        .idle_ns        = fg__atomic_load(&s->idle_ns, FG__RELAXED));
}

int fg_pool_stats(const fg_pool *p, int worker, fg_worker_stats *out)
{
    if (p == NULL || out == NULL || !fg__pool_live(p) || worker < 0 || worker >= p->nworkers)
        return FG_EINVAL;
    if (fg__struct_check_out(out) < 0)
        return FG_ESIZE;
    fg_worker_stats s = FG_WORKER_STATS_INIT();
    fg__stats_read(&p->workers[worker], &s);
    fg__struct_write(out, &s, sizeof s);
    return 0;
}

int fg__stats_config(int *report)
{
    static const char *const values[] = { "0", "1" };
    int err = FG__ENV_ENUM("FORAGE_STATS", values, report);
    return err < 0 ? err : 0;
}

/* One table row; `name` is the worker index or "total". */
static void fg__stats_print_row(FILE *f, const char *name, const fg_worker_stats *s)
{
    fprintf(f, "%6s %10llu %14llu %10llu %12llu %14llu %10llu %10llu %12.3f %12.3f\n", name,
            (unsigned long long)s->tasks_run, (unsigned long long)s->steal_attempts,
            (unsigned long long)s->steals, (unsigned long long)s->steal_aborts,
            (unsigned long long)s->injector_takes, (unsigned long long)s->sleeps,
            (unsigned long long)s->wakeups, (double)s->busy_ns / 1e6, (double)s->idle_ns / 1e6);
}

static void fg__stats_add(fg_worker_stats *t, const fg_worker_stats *s)
{
    t->tasks_run += s->tasks_run;
    t->steal_attempts += s->steal_attempts;
    t->steals += s->steals;
    t->steal_aborts += s->steal_aborts;
    t->injector_takes += s->injector_takes;
    t->sleeps += s->sleeps;
    t->wakeups += s->wakeups;
    t->busy_ns += s->busy_ns;
    t->idle_ns += s->idle_ns;
}

void fg__stats_print(const fg_pool *p, FILE *f)
{
    if (!fg_stats_enabled()) {
        fputs("forage: FORAGE_STATS=1, but counters are not compiled in "
              "(build forage with -Dstats=true)\n", f);
        return;
    }
    flockfile(f); /* one table, not interleaved with other threads' output */
    fprintf(f, "forage stats: %d workers\n", p->nworkers);
    fprintf(f, "%6s %10s %14s %10s %12s %14s %10s %10s %12s %12s\n", "worker", "tasks_run",
            "steal_attempts", "steals", "steal_aborts", "injector_takes", "sleeps", "wakeups",
            "busy_ms", "idle_ms");
    fg_worker_stats total = FG_WORKER_STATS_INIT();
    for (int i = 0; i < p->nworkers; i++) {
        fg_worker_stats s = FG_WORKER_STATS_INIT();
        char name[16];
        fg__stats_read(&p->workers[i], &s); /* p is no longer "live" here */
        snprintf(name, sizeof name, "%d", i);
        fg__stats_print_row(f, name, &s);
        fg__stats_add(&total, &s);
    }
    fg__stats_print_row(f, "total", &total);
    funlockfile(f);
}
