/* fib.c: fib(n) through fg_join with no cutoff, on pools of 1..N workers.
 *
 * Every internal node of the call tree is one fg_join, so a run of fib(n)
 * makes fib(n + 1) - 1 joins; the leaves check that they run on a worker of
 * the right pool.  For each worker count a pool is created, a few runs with
 * n drawn from the seed are checked against the sequential fib, and the
 * pool is destroyed; the sweep repeats until the time is up.  Each pool
 * draws its victim policy and spin_rounds from the seed.  Prints joins/s
 * per worker count (throughput under oversubscription included: N may
 * exceed the CPUs).
 */
#include "forage.h"

#include "fib.h"
#include "harness.h"

#define MAX_WORKERS 64

#if STRESS_TSAN
#  define N_LO 14
#  define N_HI 19
#else
#  define N_LO 22
#  define N_HI 27
#endif

typedef struct per_count {
    uint64_t runs, joins;
    double seconds;
} per_count;

/* One pool of `workers`: `runs` fibs, each checked against the table. */
static void run_pool(int workers, stress_rng *rng, int runs, per_count *pc)
{
    fg_pool *pool;
    fg_config cfg = stress_pool_config(rng, workers);
    int err = fg_pool_create(&pool, &cfg);
    if (err != 0) {
        stress_fail("fg_pool_create(workers=%d): %s", workers, fg_strerror(err));
        return;
    }
    if (fg_pool_workers(pool) != workers)
        stress_fail("fg_pool_workers = %d, want %d", fg_pool_workers(pool), workers);
    for (int r = 0; r < runs; r++) {
        int n = stress_rng_range(rng, N_LO, N_HI);
        fib_arg x = { .pool = pool, .n = n - 1, .workers = workers };
        fib_arg y = { .pool = pool, .n = n - 2, .workers = workers };
        uint64_t t0 = stress_now_ns();
        err = fg_join(pool, fib_task, &x, fib_task, &y);
        pc->seconds += stress_seconds_since(t0);
        uint64_t got = x.result + y.result;
        if (err != 0)
            stress_fail("workers=%d victim=%s spin_rounds=%u fib(%d): fg_join returned %d (%s)",
                        workers, stress_victim_name(cfg.victim), cfg.spin_rounds, n, err,
                        err == FIB_WRONG_WORKER ? "a leaf ran outside the pool's workers"
                                                : fg_strerror(err));
        if (got != fib_seq(n))
            stress_fail("workers=%d victim=%s spin_rounds=%u fib(%d) = %" PRIu64
                        ", want %" PRIu64, workers, stress_victim_name(cfg.victim),
                        cfg.spin_rounds, n, got, fib_seq(n));
        pc->runs++;
        pc->joins += fib_seq(n + 1) - 1;
    }
    fg_pool_destroy(pool);
}

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 8, 1, MAX_WORKERS, 2.0,
                 "largest pool; pools of 1..N workers are swept (default 8)");
    int max_workers = stress_cfg.threads;
    printf("fib: workers=1..%d seconds=%g n=%d..%d%s\n", max_workers, stress_cfg.seconds,
           N_LO, N_HI, STRESS_TSAN ? " tsan" : "");
    stress_watchdog_start(stress_cfg.seconds * 3 + 180);

    per_count pc[MAX_WORKERS + 1] = { { 0, 0, 0 } };
    stress_rng rng = stress_rng_make(stress_cfg.seed, 0);
    uint64_t start = stress_now_ns();
    uint64_t sweeps = 0;
    do {
        for (int w = 1; w <= max_workers && stress_failure_count() == 0; w++)
            run_pool(w, &rng, 2, &pc[w]);
        sweeps++;
    } while (stress_seconds_since(start) < stress_cfg.seconds && stress_failure_count() == 0);

    uint64_t joins = 0;
    double busy = 0;
    for (int w = 1; w <= max_workers; w++) {
        if (pc[w].runs == 0)
            continue;
        printf("fib: workers=%d runs=%" PRIu64 " joins=%" PRIu64 " joins/s=%.0f\n", w,
               pc[w].runs, pc[w].joins, (double)pc[w].joins / pc[w].seconds);
        joins += pc[w].joins;
        busy += pc[w].seconds;
    }
    printf("fib: sweeps=%" PRIu64 " joins=%" PRIu64 " joins/s=%.0f (time inside fg_join)\n",
           sweeps, joins, (double)joins / busy);
    stress_total("joins", joins);
    return stress_finish();
}
