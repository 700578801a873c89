/* tests/trace/workload.c: a workload for the trace check (check_trace.py).
 *
 * Runs, --phases times on one pool: an external fib join (injector, steals,
 * nested waits), fib through context tasks, a join whose b must be stolen, external spawns and a sync, a group spawned and synced
 * inside a worker task (nested runs from the sync), a parallel_for, then a
 * 20 ms pause so that the workers park and must be woken.  Every result is
 * checked; exit 0 and "ok" on stdout if all are right, 1 otherwise, and 3
 * with the error's name on stdout if fg_pool_create fails (the check
 * expects FG_EENV / FG_EINVAL for bad trace settings).
 *
 * Links the instrumented library (counters on); the trace goes where
 * fg_config.trace (--trace PATH; --trace "" is the explicit "off") or
 * $FORAGE_TRACE says, the counter table to stderr with FORAGE_STATS=1.
 *
 * usage: trace-workload [--workers 2] [--phases 3] [--fib 22] [--trace PATH]
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forage.h"
#include "fib.h"

static fg_pool *pool;
static atomic_long counted;

static int count_task(void *arg)
{
    atomic_fetch_add(&counted, (long)(intptr_t)arg);
    return 0;
}

/* Inside a worker: a group whose sync runs most of its tasks nested. */
static int spawner(void *arg)
{
    int n = (int)(intptr_t)arg;
    fg_group g = FG_GROUP_INIT(pool);
    for (int i = 0; i < n; i++)
        if (fg_spawn(&g, count_task, (void *)(intptr_t)1) != 0)
            return 1;
    return fg_sync(&g);
}

/* A steal that must happen: a waits (up to 10 s) until b has run, which
 * only another worker can do, by stealing it. */
static int nothing(void *arg)
{
    (void)arg;
    return 0;
}

/* a of a join that waits until its b ran elsewhere.  A join's b becomes
 * stealable at the spawn if thieves were asking, else at the worker's
 * next spawn or sync (forage.h, fg_join): so a keeps joining. */
static int wait_for_b(void *arg)
{
    atomic_int *flag = arg;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        if (atomic_load(flag))
            return 0;
        fg_join(pool, nothing, NULL, nothing, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (t.tv_sec - t0.tv_sec < 10);
    return 1;
}

static int set_flag(void *arg)
{
    atomic_store((atomic_int *)arg, 1);
    return 0;
}

static int sum_body(size_t b, size_t e, void *ctx)
{
    long s = 0;
    for (size_t i = b; i < e; i++)
        s += (long)i;
    atomic_fetch_add((atomic_long *)ctx, s);
    return 0;
}

static int failures;

static void expect(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "trace-workload: FAILED: %s\n", what);
        failures++;
    }
}

/* fib through context tasks: stolen ones are "ctx task" slices. */
static void fib_ctx(fg_ctx *cx, void *p)
{
    fib_arg *a = p;
    if (a->n < 2) {
        a->result = (uint64_t)a->n;
        return;
    }
    fib_arg x, y = { .n = a->n - 2 };
    expect(FG_CTX_SPAWN(cx, fib_ctx, ((fib_arg){ .n = a->n - 1 })) == 0, "ctx spawn");
    fib_ctx(cx, &y);
    expect(FG_CTX_SYNC(cx, fib_ctx, x) == 0, "ctx sync");
    a->result = x.result + y.result;
}

static void phase(int fib_n)
{
    fib_arg x = { .pool = pool, .n = fib_n - 1 }, y = { .pool = pool, .n = fib_n - 2 };
    expect(fg_join(pool, fib_task, &x, fib_task, &y) == 0, "fib join");
    expect(x.result + y.result == fib_seq(fib_n), "fib result");

    fib_arg c = { .n = fib_n };
    expect(fg_ctx_run(pool, fib_ctx, &c) == 0, "context-task fib");
    expect(c.result == fib_seq(fib_n), "context-task fib result");

    atomic_int flag = 0;
    expect(fg_join(pool, wait_for_b, &flag, set_flag, &flag) == 0, "b stolen within 10 s");

    long before = atomic_load(&counted);
    fg_group g = FG_GROUP_INIT(pool);
    for (int i = 0; i < 200; i++)
        expect(fg_spawn(&g, count_task, (void *)(intptr_t)1) == 0, "external spawn");
    expect(fg_sync(&g) == 0, "external sync");
    fib_arg f = { .pool = pool, .n = 16 };
    expect(fg_join(pool, spawner, (void *)(intptr_t)500, fib_task, &f) == 0, "spawner join");
    expect(f.result == fib_seq(16), "fib in spawner join");
    expect(atomic_load(&counted) - before == 700, "spawned tasks ran once each");

    atomic_long sum = 0;
    const size_t n = 100000;
    expect(fg_parallel_for(pool, 0, n, FG_FOR_OPTS(.grain = 1000), sum_body, &sum) == 0,
           "parallel_for");
    expect(atomic_load(&sum) == (long)(n * (n - 1) / 2), "parallel_for sum");

    struct timespec pause = { 0, 20 * 1000 * 1000 };
    nanosleep(&pause, NULL);
}

int main(int argc, char **argv)
{
    int workers = 2, phases = 3, fib_n = 22;
    const char *trace = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--workers") == 0)
            workers = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--phases") == 0)
            phases = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--fib") == 0)
            fib_n = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--trace") == 0)
            trace = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--workers N] [--phases K] [--fib N] [--trace PATH]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!fg_stats_enabled()) {
        fprintf(stderr, "trace-workload: linked without counters\n");
        return 1;
    }
    int err = fg_pool_create(&pool, FG_CONFIG(.workers = workers, .trace = trace));
    if (err < 0) {
        printf("%s\n", fg_error_name(err));
        return 3;
    }
    for (int k = 0; k < phases; k++)
        phase(fib_n);
    fg_pool_destroy(pool);
    if (failures != 0)
        return 1;
    printf("ok\n");
    return 0;
}
