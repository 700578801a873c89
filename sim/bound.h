/* bound.h: the bounds every simulated makespan is held to
 * (docs/design/sim.md, "The bounds").
 *
 *   lower: max(T1/P, T∞)                   every policy;
 *   upper: T1/P + SIM_BOUND_C x T∞_B        greedy policies,
 * where T∞_B is the span with two charges of the model's costs, s being
 * the largest steal attempt between two workers of the machine:
 *   - every spawn takes s of its parent's timeline (a thief takes one unit
 *     per attempt, so n units spawned at once leave a deque no faster than
 *     n attempts: the one-step-per-spawn of work-stealing theory);
 *   - every spawned child and every root after the first starts
 *     B = wake + (P - 1) s + injector + yield after it was made ready: a
 *     parked worker wakes and does one full round of attempts. */
#ifndef SIM_BOUND_H
#define SIM_BOUND_H

#include <stdint.h>
#include <stdio.h>

#include "graph.h"
#include "machine.h"

/* Graham's argument with these charges gives 1 (docs/design/sim.md). */
#define SIM_BOUND_C 1

typedef struct sim_bounds {
    uint64_t work, span;    /* T1, T∞ */
    uint64_t steal;         /* s */
    uint64_t burden;        /* B */
    uint64_t burdened;      /* T∞_B */
    uint64_t lower, upper;  /* ns */
    int workers;
} sim_bounds;

/* The bounds of g on m with costs c.  0 or SIM_ENOMEM. */
int sim_bounds_of(const sim_graph *g, const sim_machine *m, const sim_costs *c, sim_bounds *out);
/* "within both", "above the upper bound" or "below the lower bound (a bug)". */
const char *sim_bounds_verdict(const sim_bounds *b, uint64_t makespan);
/* The c this makespan needs: (makespan - T1/P) / T∞_B, 0 when below T1/P. */
double sim_bounds_needed_c(const sim_bounds *b, uint64_t makespan);
/* The `bounds` line of `forage-sim run`. */
void sim_bounds_print(FILE *f, const sim_bounds *b, uint64_t makespan);

#endif
