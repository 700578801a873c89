/* group.c: nested fg_spawn/fg_sync trees, compared with a sequential walk.
 *
 * A tree is a pure function of the seed: a node's fan-out (0..max_fan,
 * none at max_depth), its children's keys and its own return code all come
 * from hashing its key.  Each round draws a tree shape and runs it in one of
 * two ways, then compares node count, key sum and error codes with a
 * sequential walk of the same tree:
 *   nested  every node spawns its children into a group of its own and
 *           syncs it (sometimes in two phases, reusing the group; sometimes
 *           running the first child inline before the sync; sometimes with
 *           a ctx task spawned after the children and synced after the
 *           group, which buries the group's tasks on the ctx stack;
 *           sometimes spawning the children from an fg_join's a, above its
 *           b, which the join's sync then finds on top), and checks the
 *           sync's code against its children's.  Roots are run by EXTERNAL
 *           threads (a spawn + sync each) and by the main thread (an fg_join
 *           of two roots), all at once.
 *   flat    one group on the main thread's stack; EXTERNAL threads spawn the
 *           roots into it, every node spawns its children into the same
 *           group from its worker, and the main thread syncs it once the
 *           external spawners are done: spawns from workers and external
 *           threads into one group, a task's spawns counted before it ends.
 *   owned   the flat tree in one group on a WORKER's stack (a task makes
 *           it, spawns the roots and syncs it): the owner counts its own
 *           spawns without atomics while thieves count theirs in `left`,
 *           and the owner's waiting sync still takes in new spawns.
 */
#include "forage.h"

#include "harness.h"

#define MAX_FAN 8
#define EXTERNAL 3          /* external root threads per round */
#define ROOTS (EXTERNAL + 2) /* + the two roots of the main thread's join */

#if STRESS_TSAN
#  define NODE_LIMIT 20000
#else
#  define NODE_LIMIT 200000
#endif

typedef struct tree {
    fg_pool *pool;
    uint64_t salt;
    int max_depth, max_fan;
    uint32_t fail_one_in; /* a node returns a code with probability 1/fail_one_in */
} tree;

static unsigned fanout(const tree *t, uint64_t key, int depth)
{
    if (depth >= t->max_depth)
        return 0;
    return (unsigned)(stress_mix64(key ^ t->salt) % (uint64_t)(t->max_fan + 1));
}

static uint64_t child_key(uint64_t key, unsigned i)
{
    return stress_mix64(key * 31 + i + 1);
}

/* The node's own return code: 0, or a positive code of its own. */
static int node_code(const tree *t, uint64_t key)
{
    uint64_t h = stress_mix64(key + 3 * t->salt);
    return h % t->fail_one_in == 0 ? 1 + (int)((h >> 40) % 1000) : 0;
}

/* How a nested node runs its children: bit 0 two phases, bit 1 child 0
 * inline, bit 2 buried (a ctx task spawned after the children, synced
 * after the group), bit 3 loose (the children spawned from an fg_join's a,
 * above its b). */
static unsigned node_style(const tree *t, uint64_t key)
{
    return (unsigned)(stress_mix64(key ^ (t->salt >> 1)) >> 58) & 15;
}

typedef struct totals {
    uint64_t count, keysum, coded; /* nodes, sum of keys, nodes with a code */
} totals;

static void seq_walk(const tree *t, uint64_t key, int depth, totals *out)
{
    out->count++;
    out->keysum += key;
    out->coded += node_code(t, key) != 0;
    unsigned fan = fanout(t, key, depth);
    for (unsigned i = 0; i < fan; i++)
        seq_walk(t, child_key(key, i), depth + 1, out);
}

/* ---------------------------------------------------------------- nested */

typedef struct node {
    const tree *t;
    uint64_t key;
    int depth;
    uint64_t count, keysum; /* of the subtree, written by the node's task */
} node;

static int node_task(void *p);

static atomic_ullong spawns_worker, spawns_external;

static void counted_spawn(fg_group *g, fg_fn fn, void *arg, const char *mode)
{
    int on_worker = fg_worker_index() >= 0;
    int err = fg_spawn(g, fn, arg);
    if (err != 0)
        stress_fail("%s: fg_spawn from %s: %s", mode, on_worker ? "a worker" : "outside",
                    fg_strerror(err));
    atomic_fetch_add_explicit(on_worker ? &spawns_worker : &spawns_external, 1,
                              memory_order_relaxed);
}

typedef struct phase {
    node *nd;
    fg_group *g;
    node *kids;
    unsigned lo, hi;
    int inline_first, spawned_code, err;
} phase;

static int phase_spawn(void *p)
{
    phase *ph = p;
    for (unsigned i = ph->lo; i < ph->hi; i++) {
        ph->kids[i] = (node){ ph->nd->t, child_key(ph->nd->key, i), ph->nd->depth + 1, 0, 0 };
        if (ph->inline_first && i == ph->lo)
            continue;
        ph->spawned_code |= node_code(ph->nd->t, ph->kids[i].key) != 0;
        counted_spawn(ph->g, node_task, &ph->kids[i], "nested");
    }
    return 0;
}

static atomic_ullong buried_syncs, loose_joins;

/* The loose phase's b: runs after the group tasks a left above it. */
static int loose_b(void *p)
{
    (void)p;
    atomic_fetch_add_explicit(&loose_joins, 1, memory_order_relaxed);
    return 0;
}

typedef struct cover { uint64_t key, ran; } cover;

/* The ctx task that buries the group's tasks. */
static void cover_task(fg_ctx *cx, void *p)
{
    (void)cx;
    cover *c = p;
    c->ran = c->key;
}

static void phase_run(phase *ph)
{
    if (ph->inline_first)
        (void)node_task(&ph->kids[ph->lo]);
    ph->err = fg_sync(ph->g);
}

static void buried_phase(fg_ctx *cx, void *p)
{
    phase *ph = p;
    phase_spawn(ph);
    cover c = { ph->nd->key, 0 };
    if (FG_CTX_SPAWN(cx, cover_task, c) != 0)
        stress_fail("buried: fg_ctx_spawn failed");
    phase_run(ph);
    if (FG_CTX_SYNC(cx, cover_task, c) != 0 || c.ran != ph->nd->key)
        stress_fail("buried: the covering ctx task did not come back (key %#" PRIx64 ")",
                    ph->nd->key);
    atomic_fetch_add_explicit(&buried_syncs, 1, memory_order_relaxed);
}

/* Spawn kids[lo, hi) (with inline_first, kids[lo] runs here instead), sync,
 * and check the sync's code: nonzero exactly when a spawned child returned
 * a code, and then one of theirs (the inline child's code is not the
 * group's: it was a plain call).  style bits 2 and 3: see node_style. */
static void node_phase(node *nd, fg_group *g, node *kids, unsigned lo, unsigned hi,
                       int inline_first, unsigned style)
{
    phase ph = { nd, g, kids, lo, hi, inline_first, 0, 0 };
    if (style & 4) {
        int err = fg_ctx_run(nd->t->pool, buried_phase, &ph);
        if (err != 0)
            stress_fail("buried: fg_ctx_run returned %d", err);
    } else {
        if (style & 8) {
            int err = fg_join(nd->t->pool, phase_spawn, &ph, loose_b, NULL);
            if (err != 0)
                stress_fail("loose: fg_join returned %d", err);
        } else {
            phase_spawn(&ph);
        }
        phase_run(&ph);
    }
    int err = ph.err, matches = 0;
    for (unsigned i = lo; i < hi; i++)
        matches |= !(inline_first && i == lo) && node_code(nd->t, kids[i].key) == err;
    if (ph.spawned_code ? !matches : err != 0)
        stress_fail("nested: sync of %u children returned %d; %s (key %#" PRIx64 ")",
                    hi - lo - (unsigned)inline_first, err,
                    ph.spawned_code ? "not the code of any of them" : "none returned a code",
                    nd->key);
}

static int node_task(void *p)
{
    node *nd = p;
    const tree *t = nd->t;
    nd->count = 1;
    nd->keysum = nd->key;
    unsigned fan = fanout(t, nd->key, nd->depth);
    if (fan > 0) {
        node kids[MAX_FAN];
        fg_group g = FG_GROUP_INIT(t->pool);
        unsigned style = node_style(t, nd->key);
        unsigned split = (style & 1) && fan > 1 ? fan / 2 : fan;
        node_phase(nd, &g, kids, 0, split, (style & 2) != 0, style);
        if (split < fan)
            node_phase(nd, &g, kids, split, fan, 0, style); /* the group, reused */
        for (unsigned i = 0; i < fan; i++) {
            nd->count += kids[i].count;
            nd->keysum += kids[i].keysum;
        }
    }
    return node_code(t, nd->key);
}

typedef struct root_thread {
    pthread_t thread;
    node root;
    struct flat *flat;   /* flat rounds: the shared state */
    int nroots;          /* flat rounds: spawn the roots of this and the next
                            nroots - 1 entries of the array */
} root_thread;

static void *nested_root_main(void *arg)
{
    root_thread *rt = arg;
    fg_group g = FG_GROUP_INIT(rt->root.t->pool);
    counted_spawn(&g, node_task, &rt->root, "nested root");
    int code = fg_sync(&g);
    if (code != node_code(rt->root.t, rt->root.key))
        stress_fail("nested: root sync returned %d, root's code is %d", code,
                    node_code(rt->root.t, rt->root.key));
    return NULL;
}

/* ------------------------------------------------------------------ flat */

typedef struct flat_node {
    struct flat *f;
    uint64_t key;
    int depth;
} flat_node;

typedef struct flat {
    const tree *t;
    fg_group *g;
    flat_node *nodes;
    size_t cap;
    atomic_size_t next;                   /* allocator over nodes[] */
    atomic_ullong count, keysum, coded;
} flat;

static flat_node *flat_alloc(flat *f)
{
    size_t i = atomic_fetch_add_explicit(&f->next, 1, memory_order_relaxed);
    if (i >= f->cap) {
        stress_fail("flat: more nodes than the sequential walk counted");
        return NULL;
    }
    return &f->nodes[i];
}

static int flat_task(void *p)
{
    flat_node *nd = p;
    flat *f = nd->f;
    atomic_fetch_add_explicit(&f->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&f->keysum, nd->key, memory_order_relaxed);
    int code = node_code(f->t, nd->key);
    if (code != 0)
        atomic_fetch_add_explicit(&f->coded, 1, memory_order_relaxed);
    unsigned fan = fanout(f->t, nd->key, nd->depth);
    for (unsigned i = 0; i < fan; i++) {
        flat_node *kid = flat_alloc(f);
        if (kid == NULL)
            break;
        *kid = (flat_node){ f, child_key(nd->key, i), nd->depth + 1 };
        counted_spawn(f->g, flat_task, kid, "flat");
    }
    return code;
}

static void *flat_root_main(void *arg)
{
    root_thread *rt = arg;
    flat *f = rt->flat;
    for (int r = 0; r < rt->nroots; r++) {
        flat_node *nd = flat_alloc(f);
        if (nd == NULL)
            break;
        *nd = (flat_node){ f, rt[r].root.key, 0 };
        counted_spawn(f->g, flat_task, nd, "flat root");
        stress_spin(stress_mix64(rt[r].root.key) % 2000);
    }
    return NULL;
}

/* ---------------------------------------------------------------- rounds */

typedef struct stats {
    uint64_t rounds, nested, flat, owned, nodes;
} stats;

/* Draw a tree no larger than NODE_LIMIT over ROOTS roots; fill `want`. */
static void draw_tree(tree *t, stress_rng *rng, uint64_t *keys, totals *want)
{
    t->salt = stress_rng_next(rng);
    t->max_fan = stress_rng_range(rng, 2, MAX_FAN);
    t->max_depth = stress_rng_range(rng, 3, 10);
    t->fail_one_in = 2 + stress_rng_below(rng, 200);
    for (int i = 0; i < ROOTS; i++)
        keys[i] = stress_rng_next(rng);
    for (;;) {
        *want = (totals){ 0, 0, 0 };
        for (int i = 0; i < ROOTS; i++)
            seq_walk(t, keys[i], 0, want);
        if (want->count <= NODE_LIMIT || t->max_depth == 1)
            return;
        t->max_depth--;
    }
}

static void check_totals(const char *mode, const tree *t, totals got, totals want)
{
    if (got.count != want.count || got.keysum != want.keysum || got.coded != want.coded)
        stress_fail("%s (fan<=%d depth<=%d): nodes %" PRIu64 " keysum %#" PRIx64
                    " coded %" PRIu64 "; sequential: %" PRIu64 " %#" PRIx64 " %" PRIu64,
                    mode, t->max_fan, t->max_depth, got.count, got.keysum, got.coded,
                    want.count, want.keysum, want.coded);
}

static void nested_round(tree *t, const uint64_t *keys, totals want, stats *st)
{
    root_thread rts[EXTERNAL];
    for (int i = 0; i < EXTERNAL; i++) {
        rts[i] = (root_thread){ .root = { t, keys[i], 0, 0, 0 } };
        if (pthread_create(&rts[i].thread, NULL, nested_root_main, &rts[i]) != 0) {
            fprintf(stderr, "group: pthread_create failed\n");
            exit(2);
        }
    }
    node a = { t, keys[EXTERNAL], 0, 0, 0 }, b = { t, keys[EXTERNAL + 1], 0, 0, 0 };
    int err = fg_join(t->pool, node_task, &a, node_task, &b);
    int ca = node_code(t, a.key), cb = node_code(t, b.key);
    if (err != (ca != 0 ? ca : cb))
        stress_fail("nested: fg_join of two roots returned %d, want %d", err,
                    ca != 0 ? ca : cb);
    totals got = { a.count + b.count, a.keysum + b.keysum, 0 };
    for (int i = 0; i < EXTERNAL; i++) {
        pthread_join(rts[i].thread, NULL);
        got.count += rts[i].root.count;
        got.keysum += rts[i].root.keysum;
    }
    got.coded = want.coded; /* nested mode checks codes per sync instead */
    check_totals("nested", t, got, want);
    st->nested++;
}

static void flat_round(tree *t, const uint64_t *keys, totals want, stats *st)
{
    fg_group g = FG_GROUP_INIT(t->pool);
    flat f = { .t = t, .g = &g, .cap = want.count };
    f.nodes = calloc(want.count, sizeof *f.nodes);
    if (f.nodes == NULL)
        exit(2);
    root_thread rts[ROOTS];
    for (int i = 0; i < ROOTS; i++)
        rts[i] = (root_thread){ .root = { t, keys[i], 0, 0, 0 }, .flat = &f };
    /* Thread 0 spawns roots 0..1, thread 1 roots 2..3, thread 2 root 4. */
    int spawners = 0;
    for (int first = 0; first < ROOTS; first += 2, spawners++) {
        rts[first].nroots = first + 2 <= ROOTS ? 2 : ROOTS - first;
        if (pthread_create(&rts[first].thread, NULL, flat_root_main, &rts[first]) != 0)
            exit(2);
    }
    for (int i = 0; i < spawners; i++)
        pthread_join(rts[2 * i].thread, NULL);
    int err = fg_sync(&g);
    totals got = { atomic_load(&f.count), atomic_load(&f.keysum), atomic_load(&f.coded) };
    check_totals("flat", t, got, want);
    if ((err != 0) != (want.coded != 0) || err < 0 || err > 1000)
        stress_fail("flat: sync returned %d with %" PRIu64 " coded nodes", err, want.coded);
    st->flat++;
    free(f.nodes);
}

typedef struct owned_arg { flat *f; const uint64_t *keys; int err; } owned_arg;

/* A task: the group on this worker's stack, roots spawned from here. */
static int owned_root(void *p)
{
    owned_arg *a = p;
    fg_group g = FG_GROUP_INIT(a->f->t->pool);
    a->f->g = &g;
    for (int r = 0; r < ROOTS; r++) {
        flat_node *nd = flat_alloc(a->f);
        if (nd == NULL)
            break;
        *nd = (flat_node){ a->f, a->keys[r], 0 };
        counted_spawn(&g, flat_task, nd, "owned root");
    }
    a->err = fg_sync(&g);
    a->f->g = NULL;
    return 0;
}

static int nothing(void *p)
{
    (void)p;
    return 0;
}

static void owned_round(tree *t, const uint64_t *keys, totals want, stats *st)
{
    flat f = { .t = t, .cap = want.count };
    f.nodes = calloc(want.count, sizeof *f.nodes);
    if (f.nodes == NULL)
        exit(2);
    owned_arg a = { &f, keys, -1 };
    int err = fg_join(t->pool, owned_root, &a, nothing, NULL);
    totals got = { atomic_load(&f.count), atomic_load(&f.keysum), atomic_load(&f.coded) };
    check_totals("owned", t, got, want);
    if (err != 0 || (a.err != 0) != (want.coded != 0) || a.err < 0 || a.err > 1000)
        stress_fail("owned: join %d, sync returned %d with %" PRIu64 " coded nodes", err, a.err,
                    want.coded);
    st->owned++;
    free(f.nodes);
}

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 4, 1, FG_MAX_WORKERS, 2.0, "pool workers (default 4)");
    printf("group: workers=%d seconds=%g external_threads=%d node_limit=%d%s\n",
           stress_cfg.threads, stress_cfg.seconds, EXTERNAL, NODE_LIMIT,
           STRESS_TSAN ? " tsan" : "");
    stress_watchdog_start(stress_cfg.seconds * 3 + 120);
    fg_pool *pool;
    stress_rng rng = stress_rng_make(stress_cfg.seed, 0);
    fg_config cfg = stress_pool_config(&rng, stress_cfg.threads);
    stress_print_config("group", &cfg);
    int err = fg_pool_create(&pool, &cfg);
    if (err != 0) {
        stress_fail("fg_pool_create: %s", fg_strerror(err));
        return stress_finish();
    }
    stats st = { 0 };
    uint64_t start = stress_now_ns();
    do {
        tree t = { .pool = pool };
        uint64_t keys[ROOTS];
        totals want;
        draw_tree(&t, &rng, keys, &want);
        switch (stress_rng_below(&rng, 3)) {
        case 0: nested_round(&t, keys, want, &st); break;
        case 1: flat_round(&t, keys, want, &st); break;
        default: owned_round(&t, keys, want, &st); break;
        }
        st.rounds++;
        st.nodes += want.count;
    } while (stress_seconds_since(start) < stress_cfg.seconds && stress_failure_count() == 0);
    double elapsed = stress_seconds_since(start);
    fg_pool_destroy(pool);
    printf("group: rounds=%" PRIu64 " (nested %" PRIu64 ", flat %" PRIu64 ", owned %" PRIu64
           ") nodes=%" PRIu64
           " nodes/s=%.0f spawns: external=%" PRIu64 " worker=%" PRIu64
           " buried syncs=%" PRIu64 " loose joins=%" PRIu64 "\n",
           st.rounds, st.nested, st.flat, st.owned, st.nodes, (double)st.nodes / elapsed,
           (uint64_t)atomic_load(&spawns_external), (uint64_t)atomic_load(&spawns_worker),
           (uint64_t)atomic_load(&buried_syncs), (uint64_t)atomic_load(&loose_joins));
    stress_total("nodes", st.nodes);
    return stress_finish();
}
