/* analyze.h: work, span and speedup bounds of a recording (Cilkscale's
 * role), docs/design/sim.md. */
#ifndef SIM_ANALYZE_H
#define SIM_ANALYZE_H

#include <stdio.h>

#include "graph.h"

typedef struct sim_analysis {
    uint64_t work;     /* T1: the sum of every unit's own work */
    uint64_t span;     /* T∞: the longest path, roots one after another */
    uint64_t burdened; /* the span with `burden` ns added before every spawned
                          (not called) child and every root after the first
                          starts: the cost of getting it to a worker */
    uint64_t burden;
    uint64_t spawns;   /* children that could be stolen (not CALL) */
    uint32_t depth;    /* most units nested on one path */
} sim_analysis;

/* 0 or SIM_ENOMEM. */
int sim_analyze(const sim_graph *g, uint64_t burden, sim_analysis *out);
/* The span with `burden` ns before every spawned child and later root
 * starts and `spawn` ns of the parent's timeline per spawn (bound.h).  0 or
 * SIM_ENOMEM. */
int sim_burdened_span(const sim_graph *g, uint64_t burden, uint64_t spawn, uint64_t *out);
/* The report of `forage-sim analyze`: the figures, then the bounds for
 * P = 1, 2, 4, ..., 1024. */
void sim_analysis_print(FILE *f, const sim_graph *g, const sim_analysis *a);

#endif
