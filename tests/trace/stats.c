/* tests/trace/stats.c: the per-worker counters (runtime/stats.c) and the
 * FORAGE_STATS=1 table that fg_pool_destroy prints.
 *
 * Built twice (tests/trace/meson.build): unit-stats links the instrumented
 * library (FG_STATS=1, EXPECT_STATS=1: counters must be on) and checks exact
 * figures; unit-stats-default links the library as configured (-Dstats,
 * passed in as EXPECT_STATS) and checks that behaviour, so a -Dstats=false
 * build (a CI row) checks the "not compiled in" line.
 *
 * stderr is captured by pointing fd 2 at a temporary file around the pool's
 * life (Criterion runs each test in its own process). */
#include <criterion/criterion.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "forage.h"
#include "fib.h"

#ifndef EXPECT_STATS
#define EXPECT_STATS 0
#endif

TestSuite(stats, .timeout = 60);

/* ------------------------------------------------------------- helpers */

typedef struct capture {
    FILE *tmp;
    int saved_fd;
} capture;

static void capture_begin(capture *c)
{
    fflush(stderr);
    c->tmp = tmpfile();
    cr_assert_not_null(c->tmp);
    c->saved_fd = dup(2);
    cr_assert_geq(c->saved_fd, 0);
    cr_assert_geq(dup2(fileno(c->tmp), 2), 0);
}

/* Restores stderr; returns what was written (caller frees). */
static char *capture_end(capture *c)
{
    fflush(stderr);
    cr_assert_geq(dup2(c->saved_fd, 2), 0);
    close(c->saved_fd);
    long len = ftell(c->tmp);
    cr_assert_geq(len, 0);
    char *text = calloc((size_t)len + 1, 1);
    cr_assert_not_null(text);
    rewind(c->tmp);
    cr_assert_eq(fread(text, 1, (size_t)len, c->tmp), (size_t)len);
    fclose(c->tmp);
    return text;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

enum { MAX_ROWS = 8 };

/* One row of the table: the integer counters in column order, then ms. */
typedef struct row {
    char name[16];
    unsigned long long n[7]; /* tasks_run .. wakeups */
    double busy_ms, idle_ms;
} row;

typedef struct table {
    int workers;
    row rows[MAX_ROWS]; /* workers rows, then the total */
} table;

static const char *const columns =
    "worker  tasks_run steal_attempts     steals steal_aborts injector_takes     sleeps"
    "    wakeups      busy_ms      idle_ms\n";

/* Parse the table out of `text`; fails the test if it is malformed. */
static void parse_table(const char *text, table *t)
{
    const char *s = strstr(text, "forage stats: ");
    cr_assert_not_null(s, "no table in stderr:\n%s", text);
    cr_assert_eq(sscanf(s, "forage stats: %d workers\n", &t->workers), 1);
    cr_assert(t->workers >= 1 && t->workers < MAX_ROWS);
    s = strchr(s, '\n') + 1;
    cr_assert_eq(strncmp(s, columns, strlen(columns)), 0, "header:\n%s", s);
    s += strlen(columns);
    for (int i = 0; i <= t->workers; i++) {
        row *r = &t->rows[i];
        int used = 0;
        int got = sscanf(s, "%15s %llu %llu %llu %llu %llu %llu %llu %lf %lf%n", r->name, &r->n[0],
                         &r->n[1], &r->n[2], &r->n[3], &r->n[4], &r->n[5], &r->n[6], &r->busy_ms,
                         &r->idle_ms, &used);
        cr_assert_eq(got, 10, "row %d: %.120s", i, s);
        char want[16];
        snprintf(want, sizeof want, i < t->workers ? "%d" : "total", i);
        cr_assert_str_eq(r->name, want);
        s += used;
        cr_assert_eq(*s, '\n');
        s++;
    }
}

static void check_total_row(const table *t)
{
    const row *total = &t->rows[t->workers];
    for (int c = 0; c < 7; c++) {
        unsigned long long sum = 0;
        for (int i = 0; i < t->workers; i++)
            sum += t->rows[i].n[c];
        cr_assert_eq(total->n[c], sum, "column %d: total %llu, sum %llu", c, total->n[c], sum);
    }
    double busy = 0, idle = 0;
    for (int i = 0; i < t->workers; i++) {
        busy += t->rows[i].busy_ms;
        idle += t->rows[i].idle_ms;
    }
    /* Each printed value is rounded to 0.001 ms. */
    cr_assert_leq(total->busy_ms - busy, 0.001 * (t->workers + 1));
    cr_assert_geq(total->busy_ms - busy, -0.001 * (t->workers + 1));
    cr_assert_leq(total->idle_ms - idle, 0.001 * (t->workers + 1));
    cr_assert_geq(total->idle_ms - idle, -0.001 * (t->workers + 1));
}

static const char not_compiled[] =
    "forage: FORAGE_STATS=1, but counters are not compiled in (build forage with -Dstats=true)\n";

/* The table printed at destroy, or false when the counters are not compiled
 * in: then the text must be the one-line notice, and it is freed. */
static bool read_table(char *text, table *t)
{
    if (!fg_stats_enabled()) {
        cr_assert_str_eq(text, not_compiled);
        free(text);
        return false;
    }
    parse_table(text, t);
    return true;
}

static fg_pool *pool;

static atomic_int ran;

static int count_task(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ran, 1);
    return 0;
}

static void create(int workers)
{
    /* The default policies: steal-half, for one, counts steals that have
     * no attempt of their own. */
    cr_assert_eq(unsetenv("FORAGE_POLICY"), 0);
    cr_assert_eq(unsetenv("FORAGE_STEAL"), 0);
    cr_assert_eq(unsetenv("FORAGE_IDLE"), 0);
    cr_assert_eq(unsetenv("FORAGE_DEQUE"), 0);
    /* Outside calls handed to a worker, as these tables count them
     * (stats.caller_seat_runs_the_call_here has the seat's). */
    int err = fg_pool_create(&pool, FG_CONFIG(.workers = workers, .caller = FG_CALLER_WAIT));
    cr_assert_eq(err, 0, "fg_pool_create: %s", fg_strerror(err));
}

/* --------------------------------------------------------------- tests */

Test(stats, compiled_in_as_expected)
{
    cr_assert_eq(fg_stats_enabled(), EXPECT_STATS, "the library's counters are %s, the build said %s",
                 fg_stats_enabled() ? "on" : "off", EXPECT_STATS ? "on" : "off");
}

/* One worker: every job arrives through the injector and there is nobody
 * to steal from or wake, so the counters are exact. */
Test(stats, table_exact_one_worker)
{
    enum { SPAWNS = 100 };
    cr_assert_eq(setenv("FORAGE_STATS", "1", 1), 0);
    capture c;
    capture_begin(&c);
    double t0 = now_ms();
    create(1);
    fg_group g = FG_GROUP_INIT(pool);
    for (int i = 0; i < SPAWNS; i++)
        cr_assert_eq(fg_spawn(&g, count_task, NULL), 0);
    cr_assert_eq(fg_sync(&g), 0);
    fib_arg x = { .pool = pool, .n = 15 }, y = { .pool = pool, .n = 14 };
    cr_assert_eq(fg_join(pool, fib_task, &x, fib_task, &y), 0); /* one injected job */
    fg_pool_destroy(pool);
    double wall_ms = now_ms() - t0;
    char *text = capture_end(&c);
    cr_assert_eq(atomic_load(&ran), SPAWNS);
    cr_assert_eq(x.result + y.result, 987);
    table t;
    if (!read_table(text, &t))
        return;
    cr_assert_eq(t.workers, 1);
    const row *w = &t.rows[0];
    cr_assert_eq(w->n[0], SPAWNS + 1, "tasks_run %llu", w->n[0]);
    cr_assert_eq(w->n[1], 0, "steal_attempts %llu", w->n[1]);
    cr_assert_eq(w->n[2], 0, "steals");
    cr_assert_eq(w->n[3], 0, "steal_aborts");
    cr_assert_eq(w->n[4], SPAWNS + 1, "injector_takes %llu", w->n[4]);
    cr_assert_eq(w->n[6], 0, "wakeups: nobody else to wake");
    cr_assert_leq(w->busy_ms + w->idle_ms, wall_ms, "busy %.3f + idle %.3f > wall %.3f",
                  w->busy_ms, w->idle_ms, wall_ms);
    check_total_row(&t);
    free(text);
}

/* Nested runs: worker A runs J = join(a: 10 ms, b) at top level; b is
 * stolen by B and is join(c: 40 ms, d: 40 ms); A, done with a, steals d
 * from B and runs it nested inside J's wait.  A's busy time is J's span
 * (about 50 ms); counting d again would make it about 90 ms, more than the
 * pool lived.  Whatever the schedule, busy + idle <= the pool's life, and
 * the 90 ms of sleeps all happen inside top-level jobs. */
static int sleep_ms(void *arg)
{
    long ms = (long)(intptr_t)arg;
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0)
        ;
    return 0;
}

static int inner(void *arg)
{
    (void)arg;
    return fg_join(pool, sleep_ms, (void *)(intptr_t)40, sleep_ms, (void *)(intptr_t)40);
}

Test(stats, busy_idle_not_double_counted)
{
    cr_assert_eq(setenv("FORAGE_STATS", "1", 1), 0);
    capture c;
    capture_begin(&c);
    double t0 = now_ms();
    create(2);
    cr_assert_eq(fg_join(pool, sleep_ms, (void *)(intptr_t)10, inner, NULL), 0);
    fg_pool_destroy(pool);
    double wall_ms = now_ms() - t0;
    char *text = capture_end(&c);
    table t;
    if (!read_table(text, &t))
        return;
    cr_assert_eq(t.workers, 2);
    double busy = 0;
    for (int i = 0; i < 2; i++) {
        const row *w = &t.rows[i];
        cr_assert_leq(w->busy_ms + w->idle_ms, wall_ms + 0.002,
                      "worker %d: busy %.3f + idle %.3f > the pool's life %.3f ms", i, w->busy_ms,
                      w->idle_ms, wall_ms);
        busy += w->busy_ms;
    }
    cr_assert_geq(busy, 90.0, "three sleeps of 10 + 40 + 40 ms ran inside jobs: busy %.3f", busy);
    cr_assert_eq(t.rows[2].n[4], 1, "one injected job");
    check_total_row(&t);
    free(text);
}

/* Two workers, a group spawned from inside a worker task and a fib: the
 * total row is the sum of the rows, and the table is the counters'
 * final values (at least the snapshot taken before destroy). */
typedef struct group_arg {
    int n;
} group_arg;

static int spawner(void *p)
{
    group_arg *a = p;
    fg_group g = FG_GROUP_INIT(pool);
    for (int i = 0; i < a->n; i++)
        fg_spawn(&g, count_task, NULL);
    int err = fg_sync(&g);
    fib_arg f = { .pool = pool, .n = 18 };
    return err != 0 ? err : fib_task(&f);
}

Test(stats, table_totals_two_workers)
{
    cr_assert_eq(setenv("FORAGE_STATS", "1", 1), 0);
    capture c;
    capture_begin(&c);
    create(2);
    group_arg ga = { 1000 };
    fib_arg f = { .pool = pool, .n = 20 };
    cr_assert_eq(fg_join(pool, spawner, &ga, fib_task, &f), 0);
    cr_assert_eq(f.result, 6765);
    cr_assert_eq(atomic_load(&ran), 1000);
    fg_worker_stats before[2] = { FG_WORKER_STATS_INIT(), FG_WORKER_STATS_INIT() };
    for (int i = 0; i < 2; i++)
        cr_assert_eq(fg_pool_stats(pool, i, &before[i]), 0);
    fg_pool_destroy(pool);
    char *text = capture_end(&c);
    if (!fg_stats_enabled()) {
        cr_assert_str_eq(text, not_compiled);
        fg_worker_stats zero = FG_WORKER_STATS_INIT();
        for (int i = 0; i < 2; i++)
            cr_assert_eq(memcmp(&before[i], &zero, sizeof zero), 0);
        free(text);
        return;
    }
    table t;
    parse_table(text, &t);
    cr_assert_eq(t.workers, 2);
    check_total_row(&t);
    for (int i = 0; i < 2; i++) {
        const row *w = &t.rows[i];
        const uint64_t snap[7] = { before[i].tasks_run, before[i].steal_attempts,
                                   before[i].steals, before[i].steal_aborts,
                                   before[i].injector_takes, before[i].sleeps,
                                   before[i].wakeups };
        for (int col = 0; col < 7; col++)
            cr_assert_geq(w->n[col], snap[col], "worker %d column %d went back", i, col);
        cr_assert_leq(w->n[2] + w->n[3], w->n[1], "steals + aborts <= attempts");
    }
    cr_assert_eq(t.rows[2].n[4], 1, "one injected job (the external join)");
    /* The group's 1000 tasks are each run once through the scheduler, or
     * the ones stolen are: at least the injected job plus what was stolen. */
    cr_assert_geq(t.rows[2].n[0], 1 + t.rows[2].n[2]);
    free(text);
}

Test(stats, env_values)
{
    cr_assert_eq(setenv("FORAGE_STATS", "yes", 1), 0);
    fg_pool *p = NULL;
    cr_assert_eq(fg_pool_create(&p, NULL), FG_EENV);
    cr_assert_null(p);
    cr_assert_eq(setenv("FORAGE_STATS", "2", 1), 0);
    cr_assert_eq(fg_pool_create(&p, NULL), FG_EENV);
    const char *quiet[] = { "0", "" };
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(setenv("FORAGE_STATS", quiet[i], 1), 0);
        capture c;
        capture_begin(&c);
        create(2);
        fib_arg f = { .pool = pool, .n = 10 };
        cr_assert_eq(fib_task(&f), 0);
        fg_pool_destroy(pool);
        char *text = capture_end(&c);
        cr_assert_str_eq(text, "", "FORAGE_STATS='%s' printed:\n%s", quiet[i], text);
        free(text);
    }
}

/* fg_pool_stats while the pool runs: busy_ns grows by the time a job took
 * (charged once the job returns to the worker loop, so poll). */
Test(stats, pool_stats_busy_ns)
{
    cr_assert_eq(unsetenv("FORAGE_STATS"), 0);
    create(1);
    fg_group g = FG_GROUP_INIT(pool);
    cr_assert_eq(fg_spawn(&g, sleep_ms, (void *)(intptr_t)20), 0);
    cr_assert_eq(fg_sync(&g), 0);
    fg_worker_stats s = FG_WORKER_STATS_INIT();
    double t0 = now_ms();
    do {
        cr_assert_eq(fg_pool_stats(pool, 0, &s), 0);
    } while (fg_stats_enabled() && s.busy_ns < 20000000u && now_ms() - t0 < 5000);
    if (fg_stats_enabled()) {
        cr_assert_geq(s.busy_ns, 20000000u, "busy_ns %llu", (unsigned long long)s.busy_ns);
        cr_assert_eq(s.tasks_run, 1);
        cr_assert_eq(s.injector_takes, 1);
    } else {
        cr_assert_eq(s.busy_ns, 0);
        cr_assert_eq(s.idle_ns, 0);
    }
    fg_pool_destroy(pool);
}
