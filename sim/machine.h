/* machine.h: the simulated machine: where each worker sits (hwloc) and what
 * a steal attempt costs at each distance (docs/design/sim.md). */
#ifndef SIM_MACHINE_H
#define SIM_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#include "topology.h"

#define SIM_MAX_WORKERS 1024

/* Distance between a thief and its victim, nearest first. */
enum sim_tier { SIM_CORE = 0, SIM_CACHE, SIM_PACKAGE, SIM_REMOTE, SIM_TIERS };

typedef struct sim_costs {
    uint64_t steal[SIM_TIERS]; /* ns per steal attempt on a victim at that distance */
    uint64_t injector;         /* ns per look at the injector */
    uint64_t yield;            /* ns a yield round adds */
    uint64_t wake;             /* ns from a wake-up to the sleeper running */
} sim_costs;

/* Calibrated on this project's machine (`forage-sim calibrate`). */
extern const sim_costs sim_costs_default;

typedef struct sim_machine {
    int workers;
    int pus;               /* processing units of the topology; worker i sits on
                              PU i mod pus */
    uint8_t *tier;         /* workers x workers: enum sim_tier */
    fg__near_order **near; /* per worker: the near policy's order */
    char name[96];         /* e.g. `synthetic "pack:2 core:8 pu:1"` */
} sim_machine;

/* topology: "this" (this machine), a path ending in ".xml" (hwloc's XML
 * export), else a synthetic description in hwloc's syntax.  0, or
 * SIM_EINVAL / SIM_ENOMEM with a message. */
int sim_machine_create(sim_machine *m, const char *topology, int workers, char *err, size_t errlen);
void sim_machine_free(sim_machine *m);

static inline int sim_machine_tier(const sim_machine *m, int a, int b)
{
    return m->tier[(size_t)a * (size_t)m->workers + (size_t)b];
}

/* "core:N,cache:N,package:N,remote:N,injector:N,yield:N,wake:N" (any
 * subset, each name once, whole ns up to 2^44, injector at least 1) over
 * *c, which is left alone on an error.  0 or SIM_EINVAL with a message
 * naming the bad item. */
int sim_costs_parse(sim_costs *c, const char *spec, char *err, size_t errlen);

#endif
