/* topology.h: where workers run, for the near-first victim policy.
 *
 * With hwloc, fg__topology_create assigns worker i to the i-th processing
 * unit this process may use (cyclically), and gives each worker its other
 * workers ordered by distance: tiers of equal distance, nearest first, where
 * distance is how high their common ancestor sits in the machine's tree
 * (same core < shared L2 < shared L3 < same package < elsewhere).  Without
 * hwloc (or when it fails) there is no topology and near-first is random.
 */
#ifndef FG_TOPOLOGY_H
#define FG_TOPOLOGY_H

#include <pthread.h>

#define FG__MAX_TIERS 16
/* Largest worker count a near order is built for: forage-sim's limit (the
 * runtime's own pools stop at FG_MAX_WORKERS). */
#define FG__NEAR_MAX_WORKERS 1024

typedef struct fg__near_order {
    int count;                   /* the other workers */
    int ntiers;
    int tier_end[FG__MAX_TIERS]; /* tier t is order[tier_end[t-1] .. tier_end[t]) */
    int order[];                 /* worker indices, nearest tier first */
} fg__near_order;

typedef struct fg__topology fg__topology;

/* Worker `self`'s others sorted by closeness(ctx, self, v), larger nearer,
 * cut into tiers of equal closeness (the last tier absorbs any beyond
 * FG__MAX_TIERS); free with fg__free.  NULL when out of memory or workers
 * exceed FG__NEAR_MAX_WORKERS.  Needs no
 * hwloc: forage-sim builds the near orders of simulated machines with it
 * (docs/design/sim.md). */
fg__near_order *fg__near_order_build(int workers, int self,
                                     int (*closeness)(void *ctx, int a, int b), void *ctx);

/* 0 and a topology, 0 and NULL without hwloc, or FG_ENOMEM. */
int fg__topology_create(fg__topology **out, int workers);
void fg__topology_destroy(fg__topology *t);
/* Worker's near order; valid until destroy. */
fg__near_order *fg__topology_near_order(fg__topology *t, int worker);
/* Bind the calling thread (worker `worker`) to its processing unit. */
void fg__topology_bind_self(fg__topology *t, int worker);

/* A set of CPUs (a cpu_set_t).  fg__cpu_mask_create: a copy of `from`, or
 * the calling thread's affinity mask when `from` is NULL; NULL when it
 * cannot be read or on no memory.  Free with fg__free. */
typedef struct fg__cpu_mask fg__cpu_mask;
fg__cpu_mask *fg__cpu_mask_create(const fg__cpu_mask *from);
/* FG_BIND_CPUS without hwloc's topology: the CPUs of `base` in order, one
 * per worker, or NULL when there are fewer CPUs than workers (then nothing
 * is bound); free with fg__free. */
int *fg__bind_cpus_create(int workers, const fg__cpu_mask *base);
/* Bind the calling thread to one CPU, or to a set; best effort (a
 * container may forbid it).  fg__attr_set_mask: threads created with attr
 * start on the set (0, or an errno). */
void fg__bind_self_cpu(int cpu);
void fg__bind_self_mask(const fg__cpu_mask *m);
int fg__attr_set_mask(pthread_attr_t *attr, const fg__cpu_mask *m);
/* The processing unit (OS index) of worker `worker`, or -1. */
int fg__topology_pu(fg__topology *t, int worker);

#endif
