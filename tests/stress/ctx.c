/* ctx.c: context tasks (fg_ctx_spawn / fg_ctx_sync, runtime/ctx_stack.c)
 * on random trees, on pools of 1..N workers.
 *
 * A node's children are drawn from a hash of its id: up to 5 children
 * down to a depth drawn per run, some nodes spawning all children before
 * syncing any (several shared slots at once), some syncing each at once.
 * Every node adds 1 to its count and its id's hash to its checksum, and its
 * parent adds the children's blocks as they come back from sync: the root's
 * count and checksum must equal a sequential walk of the same tree, and a
 * global counter of node runs must equal the count (nothing lost, nothing
 * run twice).  One node in 64 reaches its children through an fg_join of
 * two fg_ctx_run calls instead, so both deque kinds' jobs interleave with
 * ctx stacks.  Leaves check they run on a worker of the pool.  Pools draw
 * policy, steal amount, deque kind and idle setting from the seed.  Every
 * pool walks two trees: one with untyped ctx tasks, one with typed ones
 * (FG_TASK: the node's id by value, its totals returned), whose fg_join
 * nodes reach their children through untyped runs of typed tasks.
 */
#include "forage.h"

#include "harness.h"

#define MAX_WORKERS 64
#define MAX_CHILDREN 5

#if STRESS_TSAN
#  define DEPTH_LO 4
#  define DEPTH_HI 7
#else
#  define DEPTH_LO 7
#  define DEPTH_HI 10
#endif

typedef struct node {
    uint64_t id;
    uint32_t depth, max_depth;
    uint64_t count;  /* nodes in the subtree, filled in by the task */
    uint64_t sum;    /* sum of their hashes */
    uint64_t bad;    /* leaves that ran outside the pool's workers */
} node;
_Static_assert(sizeof(node) <= FG_CTX_ARG_MAX, "a node fits a slot");

static fg_pool *pool;
static int pool_workers;
static atomic_uint_fast64_t runs;

static unsigned children_of(const node *n)
{
    if (n->depth >= n->max_depth)
        return 0;
    return (unsigned)(stress_mix64(n->id) % (MAX_CHILDREN + 1));
}

/* What a node adds to its checksum: both walks use this one. */
static uint64_t node_hash(const node *n)
{
    return stress_mix64(n->id ^ 0x5bd1e995);
}

static node child(const node *n, unsigned i)
{
    return (node){ .id = n->id * (MAX_CHILDREN + 1) + i + 1, .depth = n->depth + 1,
                   .max_depth = n->max_depth };
}

static void add(node *to, const node *from)
{
    to->count += from->count;
    to->sum += from->sum;
    to->bad += from->bad;
}

static void visit(fg_ctx *cx, void *p);

typedef struct pair_arg {
    node *n;
    unsigned first, last; /* children [first, last) */
} pair_arg;

static void visit_range(fg_ctx *cx, void *p)
{
    pair_arg *a = p;
    for (unsigned i = a->first; i < a->last; i++) {
        node c = child(a->n, i);
        visit(cx, &c);
        add(a->n, &c); /* a->n is only this half's accumulator */
    }
}

static int run_range(void *p)
{
    return fg_ctx_run(pool, visit_range, p);
}

static void visit(fg_ctx *cx, void *p)
{
    node *n = p;
    atomic_fetch_add_explicit(&runs, 1, memory_order_relaxed);
    n->count = 1;
    n->sum = node_hash(n);
    n->bad = 0;
    unsigned k = children_of(n);
    if (k == 0) {
        int w = fg_worker_index();
        n->bad = (w < 0 || w >= pool_workers);
        return;
    }
    uint64_t h = stress_mix64(n->id + 7);
    if (h % 64 == 0) { /* through fg_join: two halves of the children */
        node left = *n, right = *n;
        left.count = left.sum = left.bad = right.count = right.sum = right.bad = 0;
        pair_arg a = { &left, 0, k / 2 }, b = { &right, k / 2, k };
        int err = fg_join(pool, run_range, &a, run_range, &b);
        n->bad += (err != 0);
        add(n, &left);
        add(n, &right);
        return;
    }
    if (h % 2 == 0) { /* spawn all, then sync newest first */
        for (unsigned i = 0; i < k; i++) {
            node c = child(n, i);
            if (FG_CTX_SPAWN(cx, visit, c) != 0)
                stress_fail("fg_ctx_spawn failed at depth %u", n->depth);
        }
        for (unsigned i = k; i-- > 0;) {
            node c;
            if (FG_CTX_SYNC(cx, visit, c) != 0)
                stress_fail("fg_ctx_sync failed at depth %u", n->depth);
            add(n, &c);
        }
        return;
    }
    for (unsigned i = 0; i < k; i++) { /* spawn one, run the next, sync */
        node c = child(n, i), d;
        if (i + 1 < k) {
            d = child(n, ++i);
            FG_CTX_SPAWN(cx, visit, c);
            visit(cx, &d);
            if (FG_CTX_SYNC(cx, visit, c) != 0)
                stress_fail("fg_ctx_sync failed at depth %u", n->depth);
            add(n, &d);
        } else {
            visit(cx, &c);
        }
        add(n, &c);
    }
}

/* ------------------------------------------------------- typed tasks */

typedef struct tnode { uint64_t id; uint32_t depth, max_depth; } tnode;
typedef struct totals { uint64_t count, sum, bad; } totals;

static node node_of(tnode t)
{
    return (node){ .id = t.id, .depth = t.depth, .max_depth = t.max_depth };
}

static tnode tnode_of(node n)
{
    return (tnode){ n.id, n.depth, n.max_depth };
}

static void add_totals(totals *to, totals from)
{
    to->count += from.count;
    to->sum += from.sum;
    to->bad += from.bad;
}

FG_TASK(totals, tvisit, tnode);

typedef struct tpair_arg { tnode n; unsigned first, last; totals t; } tpair_arg;

static void tvisit_range(fg_ctx *cx, void *p)
{
    tpair_arg *a = p;
    node n = node_of(a->n);
    for (unsigned i = a->first; i < a->last; i++)
        add_totals(&a->t, tvisit(cx, tnode_of(child(&n, i))));
}

static int trun_range(void *p)
{
    return fg_ctx_run(pool, tvisit_range, p);
}

static totals tvisit(fg_ctx *cx, tnode t)
{
    atomic_fetch_add_explicit(&runs, 1, memory_order_relaxed);
    node n = node_of(t);
    totals r = { 1, node_hash(&n), 0 };
    unsigned k = children_of(&n);
    if (k == 0) {
        int w = fg_worker_index();
        r.bad = (w < 0 || w >= pool_workers);
        return r;
    }
    uint64_t h = stress_mix64(n.id + 7);
    if (h % 64 == 0) { /* through fg_join of two untyped roots */
        tpair_arg a = { t, 0, k / 2, { 0, 0, 0 } }, b = { t, k / 2, k, { 0, 0, 0 } };
        r.bad += fg_join(pool, trun_range, &a, trun_range, &b) != 0;
        add_totals(&r, a.t);
        add_totals(&r, b.t);
        return r;
    }
    if (h % 2 == 0) { /* spawn all, then sync newest first */
        for (unsigned i = 0; i < k; i++)
            tvisit_spawn(cx, tnode_of(child(&n, i)));
        for (unsigned i = k; i-- > 0;)
            add_totals(&r, tvisit_sync(cx));
        return r;
    }
    for (unsigned i = 0; i < k; i++) { /* spawn one, run the next, sync */
        if (i + 1 < k) {
            tvisit_spawn(cx, tnode_of(child(&n, i)));
            add_totals(&r, tvisit(cx, tnode_of(child(&n, i + 1))));
            add_totals(&r, tvisit_sync(cx));
            i++;
        } else {
            add_totals(&r, tvisit(cx, tnode_of(child(&n, i))));
        }
    }
    return r;
}

/* The same tree, walked sequentially. */
static void walk(const node *n, uint64_t *count, uint64_t *sum)
{
    *count += 1;
    *sum += node_hash(n);
    unsigned k = children_of(n);
    for (unsigned i = 0; i < k; i++) {
        node c = child(n, i);
        walk(&c, count, sum);
    }
}

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 8, 1, MAX_WORKERS, 2.0,
                 "largest pool; pools of 1..N workers are swept (default 8)");
    int max_workers = stress_cfg.threads;
    printf("ctx: workers=1..%d seconds=%g depth=%d..%d%s\n", max_workers, stress_cfg.seconds,
           DEPTH_LO, DEPTH_HI, STRESS_TSAN ? " tsan" : "");
    stress_watchdog_start(stress_cfg.seconds * 3 + 180);
    stress_rng rng = stress_rng_make(stress_cfg.seed, 0);
    uint64_t start = stress_now_ns(), nodes = 0, trees = 0;
    do {
        for (int w = 1; w <= max_workers && stress_failure_count() == 0; w++) {
            fg_config cfg = stress_pool_config(&rng, w);
            int err = fg_pool_create(&pool, &cfg);
            if (err != 0) {
                stress_fail("fg_pool_create(workers=%d): %s", w, fg_strerror(err));
                break;
            }
            pool_workers = w;
            for (int r = 0; r < 2; r++) {
                node root = { .id = stress_rng_next(&rng),
                              .max_depth = (uint32_t)stress_rng_range(&rng, DEPTH_LO, DEPTH_HI) };
                uint64_t want_count = 0, want_sum = 0;
                walk(&root, &want_count, &want_sum);
                atomic_store(&runs, 0);
                if (r == 0) {
                    err = fg_ctx_run(pool, visit, &root);
                } else {
                    totals t = { 0, 0, 0 };
                    err = tvisit_run(pool, tnode_of(root), &t);
                    root.count = t.count;
                    root.sum = t.sum;
                    root.bad = t.bad;
                }
                uint64_t ran = atomic_load(&runs);
                if (err != 0 || root.count != want_count || root.sum != want_sum ||
                    ran != want_count || root.bad != 0)
                    stress_fail("%s: workers=%d victim=%s deque=%d steal=%d depth=%u: err=%d "
                                "count=%" PRIu64 " want %" PRIu64 ", runs=%" PRIu64
                                ", sum %s, bad=%" PRIu64, r == 0 ? "untyped" : "typed", w,
                                stress_victim_name(cfg.victim),
                                cfg.deque, cfg.steal, root.max_depth, err, root.count,
                                want_count, ran, root.sum == want_sum ? "ok" : "WRONG",
                                root.bad);
                nodes += want_count;
                trees++;
            }
            fg_pool_destroy(pool);
        }
    } while (stress_seconds_since(start) < stress_cfg.seconds && stress_failure_count() == 0);
    printf("ctx: trees=%" PRIu64 " nodes=%" PRIu64 "\n", trees, nodes);
    stress_total("tasks", nodes);
    return stress_finish();
}
