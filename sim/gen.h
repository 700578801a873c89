/* gen.h: hand-made recordings with known answers (format version 1), for
 * the tests, `forage-sim gen` and `forage-sim bench`.  Times in ns. */
#ifndef SIM_GEN_H
#define SIM_GEN_H

#include "graph.h"

/* n units in a line: each spawns the next at the end of its own work and
 * syncs it at once, so nothing can run in parallel. */
int sim_gen_chain(sim_builder *b, uint32_t n, uint64_t work);
/* A root of no work spawning n leaves of `leaf` ns at 0, syncing all at 0. */
int sim_gen_star(sim_builder *b, uint32_t n, uint64_t leaf);
/* fg_join shapes: a node of `node` ns spawns its second child and calls its
 * first half-way, then syncs the second.  Tree: `depth` levels below the
 * root, 2^depth leaves of `leaf` ns; fib: fib(n)'s call tree. */
int sim_gen_tree(sim_builder *b, int depth, uint64_t node, uint64_t leaf);
int sim_gen_fib(sim_builder *b, int n, uint64_t node, uint64_t leaf);
/* `shape` is chain, star, tree or fib; a, node and leaf as above (a: n or
 * depth).  0, SIM_ENOMEM or SIM_EINVAL for an unknown shape or size. */
int sim_gen(sim_builder *b, const char *shape, uint32_t a, uint64_t node, uint64_t leaf);

#endif
