/* gen.c: hand-made recordings (gen.h). */
#include "gen.h"

#include <string.h>

enum { KIND_ROOT = 0, KIND_JOIN_A = 1, KIND_JOIN_B = 2, KIND_GROUP = 3 };

static int sim_gen_done(sim_builder *b)
{
    return b->failed ? SIM_ENOMEM : sim_builder_finish(b);
}

int sim_gen_chain(sim_builder *b, uint32_t n, uint64_t work)
{
    uint32_t u = sim_builder_add(b, SIM_NONE, KIND_ROOT, 0, work, 0, 0);
    for (uint32_t i = 1; i < n && !b->failed; i++)
        u = sim_builder_add(b, u, KIND_GROUP, 0, work, work, work);
    return sim_gen_done(b);
}

int sim_gen_star(sim_builder *b, uint32_t n, uint64_t leaf)
{
    uint32_t root = sim_builder_add(b, SIM_NONE, KIND_ROOT, 0, 0, 0, 0);
    for (uint32_t i = 0; i < n && !b->failed; i++)
        sim_builder_add(b, root, KIND_GROUP, 0, leaf, 0, 0);
    return sim_gen_done(b);
}

/* A join node's two children (second spawned, first called, both at half
 * of the node's work); returns the first's index, the second's is +1. */
static uint32_t sim_gen_join(sim_builder *b, uint32_t node, uint64_t node_ns, uint64_t wa,
                             uint64_t wb)
{
    uint32_t second = sim_builder_add(b, node, KIND_JOIN_B, 0, wb, node_ns / 2, node_ns / 2);
    sim_builder_add(b, node, KIND_JOIN_A, SIM_FLAG_CALL, wa, node_ns / 2, node_ns / 2);
    return second;
}

static void sim_gen_tree_below(sim_builder *b, uint32_t node, int depth, uint64_t n_ns,
                               uint64_t l_ns)
{
    if (depth == 0 || b->failed)
        return;
    uint64_t w = depth == 1 ? l_ns : n_ns;
    uint32_t second = sim_gen_join(b, node, n_ns, w, w);
    sim_gen_tree_below(b, second, depth - 1, n_ns, l_ns);
    sim_gen_tree_below(b, second + 1, depth - 1, n_ns, l_ns);
}

int sim_gen_tree(sim_builder *b, int depth, uint64_t node, uint64_t leaf)
{
    uint32_t root = sim_builder_add(b, SIM_NONE, KIND_ROOT, 0, depth > 0 ? node : leaf, 0, 0);
    sim_gen_tree_below(b, root, depth, node, leaf);
    return sim_gen_done(b);
}

static void sim_gen_fib_below(sim_builder *b, uint32_t node, int n, uint64_t n_ns, uint64_t l_ns)
{
    if (n < 2 || b->failed)
        return;
    uint32_t second = sim_gen_join(b, node, n_ns, n - 1 < 2 ? l_ns : n_ns, n - 2 < 2 ? l_ns : n_ns);
    sim_gen_fib_below(b, second, n - 2, n_ns, l_ns);
    sim_gen_fib_below(b, second + 1, n - 1, n_ns, l_ns);
}

int sim_gen_fib(sim_builder *b, int n, uint64_t node, uint64_t leaf)
{
    uint32_t root = sim_builder_add(b, SIM_NONE, KIND_ROOT, 0, n < 2 ? leaf : node, 0, 0);
    sim_gen_fib_below(b, root, n, node, leaf);
    return sim_gen_done(b);
}

int sim_gen(sim_builder *b, const char *shape, uint32_t a, uint64_t node, uint64_t leaf)
{
    if (strcmp(shape, "chain") == 0 && a >= 1 && a <= 100000000)
        return sim_gen_chain(b, a, leaf);
    if (strcmp(shape, "star") == 0 && a <= 100000000)
        return sim_gen_star(b, a, leaf);
    if (strcmp(shape, "tree") == 0 && a <= 26)
        return sim_gen_tree(b, (int)a, node, leaf);
    if (strcmp(shape, "fib") == 0 && a <= 32)
        return sim_gen_fib(b, (int)a, node, leaf);
    return SIM_EINVAL;
}
