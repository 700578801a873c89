/* uts.h: unbalanced tree search, a binomial tree in the manner of Olivier
 * et al.'s UTS (LCPC 2006), but NOT their SHA-1 tree: a node's descriptor
 * is a 64-bit hash, and child i's descriptor is UTS_ROUNDS rounds of
 * splitmix64's finaliser over (parent, i).  The rounds stand in for the
 * SHA-1 call that makes a UTS node cost a few hundred ns; with one round a
 * node would be a handful of instructions and the benchmark would measure
 * only spawn cost, which fib already does.
 *
 * Shape (binomial, as UTS's T1XXL/T3 family): the root has b0 = --n
 * children; every other node has UTS_M children with probability UTS_Q and
 * none otherwise, decided by its own descriptor.  q * m = 0.999, so each
 * root child heads a subtree of 1000 nodes on average with a huge variance:
 * the load is unpredictable, which is what UTS tests.  The seed is fixed,
 * so the tree (and its node count, the checksum) is the same in every run
 * and every runtime.
 *
 * Every runtime's task does: uts_kids (how many, with their descriptors),
 * run each child as a task, wait, uts_add_up.  The twin uts_seq walks the
 * same tree with plain calls. */
#ifndef FG_BENCH_UTS_H
#define FG_BENCH_UTS_H

#include <stdlib.h>

#include "bench.h"
#include "kernel.h"

#define UTS_M 8
#define UTS_Q 0.124875 /* UTS's T3 value: q * m = 0.999 */
#define UTS_ROUNDS 24
#define UTS_SEED 19

typedef struct uts_node {
    uint64_t hash;
    int height;     /* 0: the root */
    int root_kids;  /* the root's b0; copied down so no global is needed */
    uint64_t count; /* nodes in this subtree, once done */
} uts_node;

static inline void uts_root(uts_node *root, int b0)
{
    root->hash = bench_mix64(UTS_SEED);
    root->height = 0;
    root->root_kids = b0;
    root->count = 0;
}

/* How many children the node has: b0 for the root, else UTS_M or 0. */
static inline int uts_num_kids(const uts_node *nd)
{
    if (nd->height == 0)
        return nd->root_kids;
    const uint64_t threshold = (uint64_t)(UTS_Q * 9007199254740992.0); /* q * 2^53 */
    return (nd->hash >> 11) < threshold ? UTS_M : 0;
}

static inline uint64_t uts_child_hash(uint64_t parent, int i)
{
    uint64_t h = parent ^ ((uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull);
    for (int r = 0; r < UTS_ROUNDS; r++)
        h = bench_mix64(h + 0x9E3779B97F4A7C15ull);
    return h;
}

/* The node's children, written to `local` (room for UTS_M) or, for the
 * root, to a malloc'd array; NULL only when that allocation fails.  Free
 * with uts_kids_free. */
static inline uts_node *uts_kids(const uts_node *nd, uts_node local[UTS_M], int *k)
{
    *k = uts_num_kids(nd);
    uts_node *kids = *k <= UTS_M ? local : (uts_node *)malloc((size_t)*k * sizeof *kids);
    if (kids == NULL)
        return NULL;
    for (int i = 0; i < *k; i++) {
        kids[i].hash = uts_child_hash(nd->hash, i);
        kids[i].height = nd->height + 1;
        kids[i].root_kids = nd->root_kids;
        kids[i].count = 0;
    }
    return kids;
}

static inline void uts_kids_free(uts_node *kids, const uts_node local[UTS_M])
{
    if (kids != local)
        free(kids);
}

static inline void uts_add_up(uts_node *nd, const uts_node *kids, int k)
{
    nd->count = 1;
    for (int i = 0; i < k; i++)
        nd->count += kids[i].count;
}

/* The twin: 0, or 1 if the root's array could not be allocated. */
BENCH_NOINLINE static int uts_seq(void *p)
{
    uts_node *nd = (uts_node *)p, local[UTS_M];
    int k;
    uts_node *kids = uts_kids(nd, local, &k);
    if (kids == NULL)
        return 1;
    for (int i = 0; i < k; i++)
        uts_seq(&kids[i]);
    uts_add_up(nd, kids, k);
    uts_kids_free(kids, local);
    return 0;
}

/* The twin timed on a tree of b0 root children, as bench_seq_fn. */
static inline double uts_run_seq(long b0, uint64_t *checksum)
{
    uts_node root;
    uts_root(&root, (int)b0);
    double t0 = bench_now();
    int err = uts_seq(&root);
    double t = bench_now() - t0;
    *checksum = root.count;
    return err == 0 ? t : -1;
}

/* The warm-up size of every uts program: an eighth of the root's children
 * (some 2.5 * 10^5 nodes at b0 = 2000). */
static inline long uts_warmup_param(long b0)
{
    return b0 >= 8 ? b0 / 8 : b0;
}

#endif
