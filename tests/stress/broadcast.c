/* broadcast.c: fg_broadcast (runtime/broadcast.c) under load.
 *
 * Several EXTERNAL threads and tasks on the workers broadcast at once
 * while other tasks run fib joins, so broadcasts meet busy, idle, parked
 * and waiting workers.  Each broadcast carries its own per-worker counters:
 * every worker must run it exactly once, on itself (fg_worker_index), and
 * the call must return the lowest-indexed worker's code.  Broadcasts from
 * a worker make that worker run its own while it waits.  The fib results
 * are checked too (broadcast jobs run in the middle of joins' waits).
 */
#include "forage.h"

#include "fib.h"
#include "harness.h"

#define EXTERNAL 3
#define MAX_WORKERS 64

static fg_pool *pool;
static int workers;
static atomic_ullong broadcasts, calls;

typedef struct bcast {
    atomic_uint count[MAX_WORKERS];
    int fail_worker; /* this worker (and higher) return a code; -1: none */
} bcast;

static int on_worker(int worker, void *ctx)
{
    bcast *b = ctx;
    if (worker < 0 || worker >= workers || fg_worker_index() != worker ||
        fg_pool_current() != pool)
        stress_fail("broadcast call for worker %d ran on %d", worker, fg_worker_index());
    else
        atomic_fetch_add_explicit(&b->count[worker], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    stress_spin((unsigned)(worker * 37) % 200);
    return b->fail_worker >= 0 && worker >= b->fail_worker ? 100 + worker : 0;
}

static void one_broadcast(stress_rng *r, const char *from)
{
    bcast b;
    for (int i = 0; i < workers; i++)
        atomic_init(&b.count[i], 0);
    b.fail_worker = stress_rng_below(r, 4) == 0 ? (int)stress_rng_below(r, (uint32_t)workers) : -1;
    int err = fg_broadcast(pool, on_worker, &b);
    int want = b.fail_worker >= 0 ? 100 + b.fail_worker : 0;
    if (err != want)
        stress_fail("%s: fg_broadcast returned %d, want %d", from, err, want);
    for (int i = 0; i < workers; i++)
        if (atomic_load(&b.count[i]) != 1)
            stress_fail("%s: worker %d ran the broadcast %u times", from, i,
                        atomic_load(&b.count[i]));
    atomic_fetch_add_explicit(&broadcasts, 1, memory_order_relaxed);
}

/* A task: broadcasts from a worker, between fib joins. */
typedef struct worker_arg { uint64_t seed; int rounds; } worker_arg;

static int from_worker(void *p)
{
    worker_arg *a = p;
    stress_rng r = stress_rng_make(a->seed, 7);
    for (int i = 0; i < a->rounds; i++) {
        one_broadcast(&r, "from a worker");
        fib_arg f = { .pool = pool, .n = 12 + (int)stress_rng_below(&r, 6) };
        if (fib_task(&f) != 0 || f.result != fib_seq(f.n))
            stress_fail("fib(%d) = %" PRIu64 " beside broadcasts", f.n, f.result);
    }
    return 0;
}

typedef struct ext { pthread_t t; uint64_t seed; double seconds; } ext;

static void *external_main(void *p)
{
    ext *e = p;
    stress_rng r = stress_rng_make(e->seed, 1);
    uint64_t start = stress_now_ns();
    while (stress_seconds_since(start) < e->seconds && stress_failure_count() == 0) {
        one_broadcast(&r, "from outside");
        if (stress_rng_below(&r, 8) == 0)
            stress_sleep_ns(stress_rng_below(&r, 3000000)); /* let workers park */
    }
    return NULL;
}

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 4, 1, MAX_WORKERS, 2.0, "pool workers (default 4)");
    workers = stress_cfg.threads;
    printf("broadcast: workers=%d seconds=%g external=%d%s\n", workers, stress_cfg.seconds,
           EXTERNAL, STRESS_TSAN ? " tsan" : "");
    stress_watchdog_start(stress_cfg.seconds * 3 + 120);
    stress_rng rng = stress_rng_make(stress_cfg.seed, 0);
    fg_config cfg = stress_pool_config(&rng, workers);
    if (fg_pool_create(&pool, &cfg) != 0) {
        stress_fail("fg_pool_create");
        return stress_finish();
    }
    ext e[EXTERNAL];
    for (int i = 0; i < EXTERNAL; i++) {
        e[i] = (ext){ .seed = stress_rng_next(&rng), .seconds = stress_cfg.seconds };
        pthread_create(&e[i].t, NULL, external_main, &e[i]);
    }
    uint64_t start = stress_now_ns();
    while (stress_seconds_since(start) < stress_cfg.seconds && stress_failure_count() == 0) {
        worker_arg a = { stress_rng_next(&rng), 20 }, b = { stress_rng_next(&rng), 20 };
        if (fg_join(pool, from_worker, &a, from_worker, &b) != 0)
            stress_fail("join of broadcasting tasks failed");
    }
    for (int i = 0; i < EXTERNAL; i++)
        pthread_join(e[i].t, NULL);
    fg_pool_destroy(pool);
    uint64_t n = atomic_load(&broadcasts), c = atomic_load(&calls);
    printf("broadcast: broadcasts=%" PRIu64 " calls=%" PRIu64 "\n", n, c);
    if (c != n * (uint64_t)workers)
        stress_fail("%" PRIu64 " calls for %" PRIu64 " broadcasts on %d workers", c, n, workers);
    stress_total("broadcasts", n);
    return stress_finish();
}
