/* lifecycle.c: pool creation and destruction, with and without work in flight.
 *
 * A. cycles    1000 pools created and destroyed, workers cycling 1..N, each
 *              running one fg_join (fib) and one group of spawns (every 8th
 *              pool is destroyed idle, straight after creation); results
 *              and worker counts checked.
 * B. drain     destroy while external threads keep calling.  The contract
 *              (forage.h): destroy waits for calls already running; calls
 *              starting while it waits get FG_ESHUTDOWN; calls after it
 *              returned are use-after-free.  So the test must guarantee
 *              that every submitter's last call starts before destroy
 *              returns.  It does so with a HOLDER thread whose fg_join
 *              (entered before destroy starts) runs a task that blocks until
 *              every submitter has reported that it is done calling: destroy
 *              cannot finish draining before that, and nobody calls after.
 *              Submitters loop over (a) fg_spawn of slow leaf tasks into a
 *              group that is never synced (only the pool's drain waits for
 *              them), (b) fg_join of two fibs, (c) a group whose tasks spawn
 *              children from their workers, synced; each stops after its
 *              first FG_ESHUTDOWN.  Checked: every successful spawn ran
 *              exactly once (ids, test-and-set), refused spawns and joins
 *              ran nothing, joins that succeeded are right, and everything
 *              had run by the time destroy returned.
 * C. sync      destroy while an external thread is inside fg_sync of a group
 *              whose remaining tasks were spawned by a task on a worker (so
 *              no external call holds the pool open for them).  fg_sync is a
 *              fork-join call already running, so destroy must wait for it:
 *              when destroy returns, the sync must have returned and every
 *              child must have run.  If destroy instead returns first, the
 *              stuck thread is left behind (it waits on its own stack
 *              forever; nothing is freed under it) and the test fails.
 */
#include "forage.h"

#include "fib.h"
#include "harness.h"

#if STRESS_TSAN
#  define CYCLES 300
#else
#  define CYCLES 1000
#endif
#define SUBMITTERS 4
#define LEAF_CAP (1u << 15)
#define MAX_PARENTS 4
#define MAX_KIDS 4
#define C_KIDS 8

/* ------------------------------------------------------------ fib, leaves */

/* A fib half that counts whether it ran at all: a refused join runs neither. */
typedef struct counted_fib {
    fib_arg fib;
    atomic_int ran;
} counted_fib;

static int counted_fib_task(void *p)
{
    counted_fib *c = p;
    atomic_fetch_add_explicit(&c->ran, 1, memory_order_relaxed);
    return fib_task(&c->fib);
}

static void check_fib(const char *where, int err, const fib_arg *f)
{
    if (err != 0 || f->result != fib_seq(f->n))
        stress_fail("%s: fib(%d) = %" PRIu64 " err %d, want %" PRIu64, where, f->n,
                    f->result, err, fib_seq(f->n));
}

typedef struct counted {
    atomic_int ran;
    unsigned spin;
} counted;

static int counted_task(void *p)
{
    counted *c = p;
    stress_spin(c->spin);
    atomic_fetch_add_explicit(&c->ran, 1, memory_order_relaxed);
    return 0;
}

/* ------------------------------------------------------------- A. cycles */

static void one_cycle(int workers, uint64_t i, stress_rng *rng)
{
    fg_pool *pool;
    fg_config cfg = stress_pool_config(rng, workers);
    int err = fg_pool_create(&pool, &cfg);
    if (err != 0) {
        stress_fail("cycle %" PRIu64 ": fg_pool_create(%d): %s", i, workers, fg_strerror(err));
        return;
    }
    if (fg_pool_workers(pool) != workers)
        stress_fail("cycle %" PRIu64 ": %d workers, want %d", i, fg_pool_workers(pool), workers);
    if (i % 8 != 7) {
        fib_arg x = { .pool = pool, .n = 10 }, y = { .pool = pool, .n = 9 };
        err = fg_join(pool, fib_task, &x, fib_task, &y);
        check_fib("cycle join a", err, &x);
        check_fib("cycle join b", 0, &y);
        counted c[8];
        fg_group g;
        fg_group_init(&g, pool);
        for (int k = 0; k < 8; k++) {
            c[k] = (counted){ 0, stress_rng_below(rng, 64) };
            if ((err = fg_spawn(&g, counted_task, &c[k])) != 0)
                stress_fail("cycle %" PRIu64 ": fg_spawn: %s", i, fg_strerror(err));
        }
        if ((err = fg_sync(&g)) != 0)
            stress_fail("cycle %" PRIu64 ": fg_sync: %s", i, fg_strerror(err));
        for (int k = 0; k < 8; k++)
            if (atomic_load(&c[k].ran) != 1)
                stress_fail("cycle %" PRIu64 ": spawned task %d ran %d times", i, k,
                            atomic_load(&c[k].ran));
    }
    fg_pool_destroy(pool);
}

/* -------------------------------------------------------------- B. drain */

typedef struct drain drain;

typedef struct leaf {
    drain *d;
    uint32_t id;
    unsigned spin;
} leaf;

typedef struct parent {
    fg_group *g;
    int nkids;
    atomic_int ran;
    counted kids[MAX_KIDS];
} parent;

typedef struct submitter {
    pthread_t thread;
    drain *d;
    int index;
    stress_rng rng;
    fg_group leaves;  /* never synced: only the pool's drain waits for these */
    uint64_t joins_ok, joins_refused, spawns_ok, spawns_refused, groups;
    uint64_t leaves_ok, leaves_refused; /* part of spawns_ok / spawns_refused */
} submitter;

struct drain {
    fg_pool *pool;
    atomic_int holding;      /* the holder's task runs: the pool is held open */
    atomic_int subs_done;    /* submitters that made their last call */
    atomic_int destroying;   /* main is about to call fg_pool_destroy */
    leaf leaves[LEAF_CAP];
    atomic_uchar leaf_state[LEAF_CAP]; /* 0 unused, 1 spawned, 2 refused, 3 ran */
    atomic_uint leaf_next;
    atomic_ullong leaf_ran;
    submitter subs[SUBMITTERS];
};

static int leaf_task(void *p)
{
    leaf *l = p;
    stress_spin(l->spin);
    unsigned char old = atomic_exchange(&l->d->leaf_state[l->id], 3);
    if (old != 1)
        stress_fail("drain: leaf %u ran in state %u (1 = spawned, 2 = refused, 3 = ran)",
                    l->id, old);
    atomic_fetch_add_explicit(&l->d->leaf_ran, 1, memory_order_relaxed);
    return 0;
}

static int parent_task(void *p)
{
    parent *pt = p;
    atomic_fetch_add_explicit(&pt->ran, 1, memory_order_relaxed);
    for (int k = 0; k < pt->nkids; k++) {
        int err = fg_spawn(pt->g, counted_task, &pt->kids[k]);
        if (err != 0)
            stress_fail("drain: fg_spawn from a worker: %s", fg_strerror(err));
    }
    return 0;
}

static int hold_task(void *p)
{
    drain *d = p;
    atomic_store(&d->holding, 1);
    while (atomic_load(&d->subs_done) < SUBMITTERS)
        stress_sleep_ns(20000);
    return 0;
}

static int nop_task(void *p)
{
    (void)p;
    return 0;
}

static void *holder_main(void *p)
{
    drain *d = p;
    int err = fg_join(d->pool, hold_task, d, nop_task, NULL);
    if (err != 0)
        stress_fail("drain: holder's fg_join: %s", fg_strerror(err));
    return NULL;
}

/* 1 if the call was refused (FG_ESHUTDOWN, or an error, reported): it ran
 * nothing, and the submitter stops. */
static int refused(submitter *s, int err, const char *what)
{
    if (err == FG_ESHUTDOWN && !atomic_load(&s->d->destroying))
        stress_fail("drain: %s got FG_ESHUTDOWN before destroy started", what);
    else if (err != 0 && err != FG_ESHUTDOWN)
        stress_fail("drain: %s: %s", what, fg_strerror(err));
    return err != 0;
}

static int submit_leaf(submitter *s)
{
    drain *d = s->d;
    unsigned id = atomic_fetch_add(&d->leaf_next, 1);
    if (id >= LEAF_CAP)
        return 0;
    d->leaves[id] = (leaf){ d, id, stress_rng_below(&s->rng, 4000) };
    atomic_store(&d->leaf_state[id], 1);
    int err = fg_spawn(&s->leaves, leaf_task, &d->leaves[id]);
    if (refused(s, err, "fg_spawn of a leaf")) {
        unsigned char old = atomic_exchange(&d->leaf_state[id], 2);
        if (old != 1)
            stress_fail("drain: refused leaf %u ran anyway", id);
        s->spawns_refused++;
        s->leaves_refused++;
        return 1;
    }
    s->spawns_ok++;
    s->leaves_ok++;
    return 0;
}

static int submit_join(submitter *s)
{
    counted_fib x = { .fib = { .pool = s->d->pool, .n = stress_rng_range(&s->rng, 5, 14) } };
    counted_fib y = { .fib = { .pool = s->d->pool, .n = stress_rng_range(&s->rng, 5, 14) } };
    int err = fg_join(s->d->pool, counted_fib_task, &x, counted_fib_task, &y);
    if (refused(s, err, "fg_join")) {
        if (atomic_load(&x.ran) != 0 || atomic_load(&y.ran) != 0)
            stress_fail("drain: a refused fg_join ran its tasks");
        s->joins_refused++;
        return 1;
    }
    check_fib("drain join a", err, &x.fib);
    check_fib("drain join b", 0, &y.fib);
    s->joins_ok++;
    return 0;
}

static int submit_group(submitter *s)
{
    parent ps[MAX_PARENTS];
    fg_group g = FG_GROUP_INIT(s->d->pool);
    int np = 1 + (int)stress_rng_below(&s->rng, MAX_PARENTS), spawned = 0, stop = 0;
    for (int i = 0; i < np; i++) {
        ps[i].g = &g;
        ps[i].nkids = 1 + (int)stress_rng_below(&s->rng, MAX_KIDS);
        atomic_init(&ps[i].ran, 0);
        for (int k = 0; k < ps[i].nkids; k++)
            ps[i].kids[k] = (counted){ 0, stress_rng_below(&s->rng, 2000) };
    }
    for (; spawned < np; spawned++) {
        if (refused(s, fg_spawn(&g, parent_task, &ps[spawned]), "fg_spawn of a parent")) {
            s->spawns_refused++;
            stop = 1;
            break;
        }
        s->spawns_ok++;
    }
    int err = fg_sync(&g);
    if (err != 0)
        stress_fail("drain: fg_sync: %s", fg_strerror(err));
    for (int i = 0; i < np; i++) {
        int want = i < spawned ? 1 : 0;
        if (atomic_load(&ps[i].ran) != want)
            stress_fail("drain: parent %d ran %d times, want %d", i, atomic_load(&ps[i].ran),
                        want);
        for (int k = 0; want && k < ps[i].nkids; k++)
            if (atomic_load(&ps[i].kids[k].ran) != 1)
                stress_fail("drain: child %d of parent %d ran %d times", k, i,
                            atomic_load(&ps[i].kids[k].ran));
    }
    s->groups++;
    return stop;
}

static void *submitter_main(void *p)
{
    submitter *s = p;
    for (int stop = 0; !stop;) {
        switch (stress_rng_below(&s->rng, 4)) {
        case 0: case 1: stop = submit_leaf(s); break;
        case 2: stop = submit_join(s); break;
        default: stop = submit_group(s); break;
        }
    }
    atomic_fetch_add(&s->d->subs_done, 1); /* no call into the pool after this */
    return NULL;
}

typedef struct drain_totals {
    uint64_t rounds, joins_ok, joins_refused, spawns_ok, spawns_refused, groups, leaves;
} drain_totals;

static void drain_round(int workers, stress_rng *rng, drain_totals *tot)
{
    drain *d = calloc(1, sizeof *d);
    if (d == NULL)
        exit(2);
    fg_config cfg = stress_pool_config(rng, workers);
    int err = fg_pool_create(&d->pool, &cfg);
    if (err != 0) {
        stress_fail("drain: fg_pool_create: %s", fg_strerror(err));
        free(d);
        return;
    }
    pthread_t holder;
    if (pthread_create(&holder, NULL, holder_main, d) != 0)
        exit(2);
    while (!atomic_load(&d->holding))
        stress_sleep_ns(20000);
    for (int i = 0; i < SUBMITTERS; i++) {
        submitter *s = &d->subs[i];
        *s = (submitter){ .d = d, .index = i,
                          .rng = stress_rng_make(stress_rng_next(rng), (uint64_t)i) };
        fg_group_init(&s->leaves, d->pool);
        if (pthread_create(&s->thread, NULL, submitter_main, s) != 0)
            exit(2);
    }
    stress_sleep_ns(100000 + stress_rng_below(rng, 3000000));
    atomic_store(&d->destroying, 1);
    fg_pool_destroy(d->pool);
    /* Everything spawned must have run by now: the workers were joined. */
    unsigned n = atomic_load(&d->leaf_next);
    n = n < LEAF_CAP ? n : LEAF_CAP;
    uint64_t ran = 0, refused_leaves = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned char st = atomic_load(&d->leaf_state[i]);
        ran += st == 3;
        refused_leaves += st == 2;
        if (st == 1)
            stress_fail("drain: leaf %u spawned but not run when destroy returned", i);
    }
    if (atomic_load(&d->subs_done) != SUBMITTERS)
        stress_fail("drain: destroy returned while %d submitters were still calling",
                    SUBMITTERS - atomic_load(&d->subs_done));
    if (atomic_load(&d->leaf_ran) != ran)
        stress_fail("drain: leaf counter %llu, leaf states say %" PRIu64,
                    atomic_load(&d->leaf_ran), ran);
    pthread_join(holder, NULL);
    uint64_t leaves_ok = 0, leaves_refused = 0;
    for (int i = 0; i < SUBMITTERS; i++) {
        submitter *s = &d->subs[i];
        pthread_join(s->thread, NULL);
        leaves_ok += s->leaves_ok;
        leaves_refused += s->leaves_refused;
        tot->joins_ok += s->joins_ok;
        tot->joins_refused += s->joins_refused;
        tot->spawns_ok += s->spawns_ok;
        tot->spawns_refused += s->spawns_refused;
        tot->groups += s->groups;
    }
    if (ran != leaves_ok || refused_leaves != leaves_refused)
        stress_fail("drain: %" PRIu64 " leaves ran, %" PRIu64 " spawns succeeded; %" PRIu64
                    " refused, %" PRIu64 " FG_ESHUTDOWN", ran, leaves_ok, refused_leaves,
                    leaves_refused);
    tot->leaves += ran;
    tot->rounds++;
    free(d);
}

/* --------------------------------------------------------------- C. sync */

typedef struct sync_case {
    fg_pool *pool;
    fg_group *g;
    counted kids[C_KIDS];
    atomic_int parent_done, in_sync, sync_returned, release, destroy_returned;
    int sync_err;
    int kids_ran_at_destroy;
} sync_case;

/* Static: it must outlive a submitter left stuck in fg_sync. */
static sync_case sync_state;

static int sync_kid(void *p)
{
    counted *c = p;
    while (!atomic_load(&sync_state.release))
        stress_sleep_ns(50000);
    atomic_fetch_add(&c->ran, 1);
    return 0;
}

static int sync_parent(void *p)
{
    sync_case *sc = p;
    for (int k = 0; k < C_KIDS; k++) {
        int err = fg_spawn(sc->g, sync_kid, &sc->kids[k]);
        if (err != 0)
            stress_fail("sync: fg_spawn from a worker: %s", fg_strerror(err));
    }
    atomic_store(&sc->parent_done, 1);
    return 0;
}

static void *sync_submitter_main(void *p)
{
    sync_case *sc = p;
    fg_group g = FG_GROUP_INIT(sc->pool);
    sc->g = &g;
    int err = fg_spawn(&g, sync_parent, sc);
    if (err != 0)
        stress_fail("sync: external fg_spawn: %s", fg_strerror(err));
    while (!atomic_load(&sc->parent_done))
        stress_sleep_ns(20000);
    atomic_store(&sc->in_sync, 1);
    sc->sync_err = fg_sync(&g);
    atomic_store(&sc->sync_returned, 1);
    return NULL;
}

static void *sync_destroyer_main(void *p)
{
    sync_case *sc = p;
    fg_pool_destroy(sc->pool);
    int ran = 0;
    for (int k = 0; k < C_KIDS; k++)
        ran += atomic_load(&sc->kids[k].ran);
    sc->kids_ran_at_destroy = ran;
    atomic_store(&sc->destroy_returned, 1);
    return NULL;
}

/* Returns 0 if the stuck submitter thread could not be joined (failure). */
static int sync_round(stress_rng *rng)
{
    sync_case *sc = &sync_state;
    memset(sc, 0, sizeof *sc);
    fg_config cfg = FG_CONFIG_INIT(.workers = 2, .seed = stress_rng_next(rng) | 1);
    int err = fg_pool_create(&sc->pool, &cfg);
    if (err != 0) {
        stress_fail("sync: fg_pool_create: %s", fg_strerror(err));
        return 1;
    }
    pthread_t sub, des;
    if (pthread_create(&sub, NULL, sync_submitter_main, sc) != 0)
        exit(2);
    while (!atomic_load(&sc->in_sync))
        stress_sleep_ns(20000);
    stress_sleep_ns(50000000); /* let the submitter block inside fg_sync */
    if (pthread_create(&des, NULL, sync_destroyer_main, sc) != 0)
        exit(2);
    stress_sleep_ns(20000000); /* destroy has started (and, if correct, waits) */
    atomic_store(&sc->release, 1);
    pthread_join(des, NULL);
    /* Destroy must have waited for the sync, hence for every child.  The
     * submitter's own return from fg_sync may lag destroy by a moment (its
     * last pool access is the leave that lets destroy go on), so only the
     * children are checked at destroy time and the sync's return below. */
    if (sc->kids_ran_at_destroy != C_KIDS) {
        stress_fail("sync: fg_pool_destroy returned while an external fg_sync was still "
                    "waiting (children run: %d of %d; the rest were spawned by a task on "
                    "a worker and never ran)", sc->kids_ran_at_destroy, C_KIDS);
        stress_sleep_ns(200000000);
        if (!atomic_load(&sc->sync_returned)) {
            fprintf(stderr, "%s: the fg_sync never returned; leaving its thread behind\n",
                    stress_prog);
            return 0;
        }
    }
    pthread_join(sub, NULL);
    if (sc->sync_err != 0)
        stress_fail("sync: fg_sync returned %d", sc->sync_err);
    return 1;
}

/* ------------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 4, 2, 64, 1.0,
                 "largest pool in the create/destroy cycles (1..N; default 4)");
    int max_workers = stress_cfg.threads;
    printf("lifecycle: cycles=%d workers=1..%d seconds=%g%s\n", CYCLES, max_workers,
           stress_cfg.seconds, STRESS_TSAN ? " tsan" : "");
    stress_watchdog_start(stress_cfg.seconds * 3 + 240);
    stress_rng rng = stress_rng_make(stress_cfg.seed, 0);

    uint64_t t0 = stress_now_ns();
    for (uint64_t i = 0; i < CYCLES && stress_failure_count() == 0; i++)
        one_cycle(1 + (int)(i % (uint64_t)max_workers), i, &rng);
    double cycles_s = stress_seconds_since(t0);
    printf("lifecycle: A cycles=%d in %.2f s (%.0f create+join+group+destroy/s)\n", CYCLES,
           cycles_s, CYCLES / cycles_s);

    drain_totals dt = { 0 };
    t0 = stress_now_ns();
    do
        drain_round(2 + (int)(dt.rounds % (uint64_t)(max_workers - 1)), &rng, &dt);
    while (stress_failure_count() == 0 && stress_seconds_since(t0) < stress_cfg.seconds);
    int sync_rounds = 0, joinable = 1;
    while (joinable && sync_rounds < 3 && stress_failure_count() == 0) {
        joinable = sync_round(&rng);
        sync_rounds++;
    }
    printf("lifecycle: B drain rounds=%" PRIu64 " joins ok=%" PRIu64 " refused=%" PRIu64
           " spawns ok=%" PRIu64 " refused=%" PRIu64 " groups=%" PRIu64
           " leaves run=%" PRIu64 "\n",
           dt.rounds, dt.joins_ok, dt.joins_refused, dt.spawns_ok, dt.spawns_refused,
           dt.groups, dt.leaves);
    printf("lifecycle: C sync rounds=%d\n", sync_rounds);
    stress_total("pools", CYCLES + dt.rounds + (uint64_t)sync_rounds);
    int status = stress_finish();
    if (!joinable) {
        fflush(NULL);
        _exit(status); /* a thread is stuck in fg_sync: do not wait for it */
    }
    return status;
}
