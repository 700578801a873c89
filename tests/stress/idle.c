/* idle.c: a quiet pool must not burn CPU (docs/style.md: no busy-wait idling).
 *
 * Create a pool (default: one worker per CPU), run a burst of joins and
 * spawns, then sleep WINDOW_MS and measure the CPU time the whole process
 * used meanwhile (getrusage(RUSAGE_SELF), user + sys).  Then cycle: wake
 * the pool with a small join (its latency is printed), go quiet, measure
 * again; at least 3 cycles, more when --seconds allows.  Fails only above a
 * generous bound: LIMIT_MS of CPU per window (10% of one core).
 */
#include <sys/resource.h>

#include "forage.h"

#include "fib.h"
#include "harness.h"

#define WINDOW_MS 500
#define LIMIT_MS 50

static void run_fib(fg_pool *pool, int n)
{
    fib_arg x = { .pool = pool, .n = n - 1 }, y = { .pool = pool, .n = n - 2 };
    int err = fg_join(pool, fib_task, &x, fib_task, &y);
    if (err != 0 || x.result + y.result != fib_seq(n))
        stress_fail("fib(%d) = %" PRIu64 " err %d", n, x.result + y.result, err);
}

/* A burst: a big join and a group of spawned joins from this thread. */
static void burst(fg_pool *pool)
{
    run_fib(pool, STRESS_TSAN ? 18 : 25);
    fib_arg f[32];
    fg_group g = FG_GROUP_INIT(pool);
    for (int i = 0; i < 32; i++) {
        f[i] = (fib_arg){ .pool = pool, .n = STRESS_TSAN ? 10 : 16 };
        if (fg_spawn(&g, fib_task, &f[i]) != 0)
            stress_fail("fg_spawn failed");
    }
    if (fg_sync(&g) != 0)
        stress_fail("fg_sync failed");
    for (int i = 0; i < 32; i++)
        if (f[i].result != fib_seq(f[i].n))
            stress_fail("spawned fib(%d) = %" PRIu64, f[i].n, f[i].result);
}

static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Sleep one window; the process's CPU time meanwhile, in ms. */
static double quiet_window(int cycle, const char *what)
{
    double before = cpu_ms();
    uint64_t t0 = stress_now_ns();
    stress_sleep_ns((uint64_t)WINDOW_MS * 1000000u);
    double used = cpu_ms() - before;
    double wall_ms = (double)(stress_now_ns() - t0) / 1e6;
    printf("idle: window %d (%s): cpu=%.1f ms over %.0f ms = %.1f%% of one core\n", cycle,
           what, used, wall_ms, 100.0 * used / wall_ms);
    if (used > LIMIT_MS)
        stress_fail("window %d (%s): %.1f ms of CPU in %.0f ms of sleep (limit %d ms): "
                    "idle workers are spinning", cycle, what, used, wall_ms, LIMIT_MS);
    return used;
}

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 0, 1, FG_MAX_WORKERS, 1.0,
                 "pool workers (default: one per CPU)");
    int workers = stress_cfg.threads > 0 ? stress_cfg.threads : fg_resolve_workers(-1);
    int cycles = (int)(stress_cfg.seconds * 1000 / WINDOW_MS) - 1;
    if (cycles < 3)
        cycles = 3;
    printf("idle: workers=%d window=%d ms limit=%d ms cycles=%d%s\n", workers, WINDOW_MS,
           LIMIT_MS, cycles, STRESS_TSAN ? " tsan" : "");
    stress_watchdog_start((cycles + 1) * WINDOW_MS / 1000.0 * 3 + 120);
    fg_pool *pool;
    fg_config cfg = FG_CONFIG_INIT(.workers = workers, .seed = stress_cfg.seed | 1);
    int err = fg_pool_create(&pool, &cfg);
    if (err != 0) {
        stress_fail("fg_pool_create(%d): %s", workers, fg_strerror(err));
        return stress_finish();
    }
    burst(pool);
    double total = quiet_window(0, "after burst"), worst_wake_us = 0;
    for (int c = 1; c <= cycles; c++) {
        uint64_t t0 = stress_now_ns();
        run_fib(pool, 10);
        double wake_us = (double)(stress_now_ns() - t0) / 1e3;
        worst_wake_us = wake_us > worst_wake_us ? wake_us : worst_wake_us;
        printf("idle: wake %d: fg_join(fib 10) from quiet took %.0f us\n", c, wake_us);
        total += quiet_window(c, "after a small join");
    }
    fg_pool_destroy(pool);
    printf("idle: mean cpu per window=%.1f ms, worst wake-up join=%.0f us\n",
           total / (cycles + 1), worst_wake_us);
    stress_total("windows", (uint64_t)cycles + 1);
    return stress_finish();
}
