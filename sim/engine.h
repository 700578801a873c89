/* engine.h: the discrete-event simulator of forage's scheduler
 * (docs/design/sim.md). */
#ifndef SIM_ENGINE_H
#define SIM_ENGINE_H

#include <stdio.h>

#include "forage.h"
#include "graph.h"
#include "machine.h"

typedef struct sim_options {
    fg_victim_fn victim_fn;  /* the policy: fg__policy_builtin(kind) or a user's */
    void *victim_ctx;
    int near;                /* give each worker its near order as `state` */
    const char *policy_name; /* for the report */
    int steal;               /* FG_STEAL_ONE or FG_STEAL_HALF */
    unsigned spin_rounds;    /* FG_SPIN_FOREVER: never park */
    uint64_t spin_ns;        /* and spin at least this long (virtual ns) */
    uint64_t wait_ns;        /* ... and at a sync at least this long */
    unsigned yield_rounds;
    uint64_t seed;
    sim_costs costs;
    int share;               /* SIM_SHARE_ALWAYS (0) or SIM_SHARE_REQUEST */
} sim_options;

/* Where a spawned fg_join half, ctx task, chunk or batch goes.  ALWAYS
 * (the default, greedy): the worker's public deque at once, as group
 * tasks.  REQUEST (the runtime's rule, ctx_stack.c): its ctx stack,
 * private until a thief asks, then the older half is shared at the
 * owner's next spawn or search; not greedy (docs/design/sim.md). */
enum { SIM_SHARE_ALWAYS = 0, SIM_SHARE_REQUEST = 1 };

typedef struct sim_worker_stats {
    uint64_t busy_ns, idle_ns; /* running units' own work / the rest of the makespan */
    uint64_t tasks;            /* units started */
    uint64_t attempts, steals, remote_steals, injector_takes, sleeps, bad_choices;
} sim_worker_stats;

typedef struct sim_result {
    uint64_t makespan;         /* first root's start to the last root's end, ns */
    uint64_t events;           /* simulation events processed */
    uint64_t steals_by_tier[SIM_TIERS];
    uint64_t wakes;
    size_t bytes;              /* the engine's memory at the end, graph excluded */
    int workers;
    sim_worker_stats total;
    sim_worker_stats *worker;  /* per worker */
} sim_result;

/* Run g on m.  0, or SIM_ENOMEM / SIM_EINVAL with a message. */
int sim_run(const sim_graph *g, const sim_machine *m, const sim_options *o, sim_result *r,
            char *err, size_t errlen);
void sim_result_free(sim_result *r);
/* The report of `forage-sim run`; per_worker adds a line per worker.  Only
 * inputs and results are printed, so equal runs print equal bytes. */
void sim_result_print(FILE *f, const sim_graph *g, const sim_machine *m, const sim_options *o,
                      const sim_result *r, uint64_t work, uint64_t span, int per_worker);
/* Its per-worker lines alone. */
void sim_result_print_workers(FILE *f, const sim_result *r);

#endif
