/* fault.c: fault injection.  Each scenario first runs once unarmed to count
 * the resource acquisitions it makes (allocations and thread starts, see
 * runtime/testhooks.h), then once per k = 1..N with the k-th acquisition
 * failing.  Every run must either complete with exact results or return
 * FG_ENOMEM / FG_EAGAIN having run nothing; never crash, lose or repeat a
 * task.  After each run the pool (or a new one) must still work.  (The
 * process backend's tasks run in forked workers, whose counts do not reach
 * this process: there the results say which tasks ran.)  Leaks
 * are the AddressSanitizer row's job (LeakSanitizer at exit); this program
 * checks at exit that no worker thread is left.
 *
 * Scenarios cover pool creation, ctx stack spills under fg_join, group spawns
 * from a worker and from outside, parallel_reduce's allocated partials, and
 * the façade (open with its own pool; every backend, the process backend's
 * shared mapping and forks included), scan and the sorts.  The report gives
 * each scenario's acquisitions and the distinct sites (allocating
 * functions, pthread_create) whose failure was exercised.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forage.h"
#include "testhooks.h"
#include "threads.h"

static int failures;

#define CHECK(cond, ...)                                                          \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "fault: FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                         \
            fprintf(stderr, " (k=%llu)\n", (unsigned long long)armed_k);           \
            failures++;                                                           \
        }                                                                         \
    } while (0)

/* ------------------------------------------------------------- arming */

static uint64_t armed_k;          /* 0 in the counting run */
static uint64_t bracket_count;    /* acquisitions inside the last bracket */
static const char *bracket_site;  /* where the injected failure hit, or NULL */

/* Scenarios bracket the code under test: setup and checks run unarmed, so
 * only the acquisitions in between are counted and failed. */
static void fault_begin(void) { fg__test_fail_nth(armed_k); }

static void fault_end(void)
{
    bracket_count = fg__test_acquisitions();
    bracket_site = fg__test_failed_site();
    fg__test_fail_nth(0);
}

static int is_resource_error(int rc) { return rc == FG_ENOMEM || rc == FG_EAGAIN; }

static int count_task(void *arg)
{
    atomic_fetch_add((atomic_long *)arg, 1);
    return 0;
}

/* After any failure: the pool runs a join of two tasks exactly once each. */
static void check_pool_usable(fg_pool *pool)
{
    atomic_long a = 0, b = 0;
    int rc = fg_join(pool, count_task, &a, count_task, &b);
    CHECK(rc == 0 && a == 1 && b == 1, "pool unusable after the fault: rc=%d a=%ld b=%ld", rc,
          (long)a, (long)b);
}

/* ---------------------------------------------------------- scenarios */

/* Creation: every allocation and thread start of fg_pool_create. */
static void scenario_create(int workers, int victim, int deque)
{
    fg_pool *pool = (fg_pool *)&pool; /* must be reset to NULL on failure */
    fault_begin();
    int rc = fg_pool_create(&pool, FG_CONFIG(.workers = workers, .victim = victim,
                                                 .deque = deque));
    fault_end();
    if (rc != 0) {
        CHECK(is_resource_error(rc), "create(%d) returned %s", workers, fg_error_name(rc));
        CHECK(pool == NULL, "create failed but set *out");
        CHECK(fg_pool_create(&pool, FG_CONFIG(.workers = workers)) == 0, "create again");
    }
    check_pool_usable(pool);
    fg_pool_destroy(pool);
}
static void scenario_create1(void) { scenario_create(1, FG_VICTIM_RANDOM, 0); }
static void scenario_create3(void) { scenario_create(3, FG_VICTIM_RANDOM, 0); }
static void scenario_create3_near(void) { scenario_create(3, FG_VICTIM_NEAR, 0); }
static void scenario_create3_split(void) { scenario_create(3, FG_VICTIM_RANDOM, FG_DEQUE_SPLIT); }

/* A full ctx stack: fg_join carries b in a ctx slot, so a join chain deeper
 * than the 16384 slots spills (ctx.c), allocating spill chunks inside the
 * bracket.  A spill that gets no memory runs both halves inline, so the
 * count must be exact whatever fails. */
typedef struct chain { fg_pool *pool; int depth; atomic_long *leaves; } chain;

static int chain_step(void *arg)
{
    chain *c = arg;
    if (c->depth == 0)
        return 0;
    chain next = { c->pool, c->depth - 1, c->leaves };
    return fg_join(c->pool, chain_step, &next, count_task, c->leaves);
}

static void scenario_join_spill(int workers)
{
    enum { DEPTH = 17000 }; /* past the ctx stack's 16384 slots: spills */
    fg_pool *pool;
    if (fg_pool_create(&pool, FG_CONFIG(.workers = workers, .seed = 1)) != 0) {
        CHECK(0, "create");
        return;
    }
    atomic_long leaves = 0;
    chain c = { pool, DEPTH, &leaves };
    fault_begin();
    int rc = fg_join(pool, chain_step, &c, count_task, &leaves);
    fault_end();
    CHECK(rc == 0 && leaves == DEPTH + 1, "join chain: rc=%s leaves=%ld (want %d)",
          fg_error_name(rc), (long)leaves, DEPTH + 1);
    check_pool_usable(pool);
    fg_pool_destroy(pool);
}
static void scenario_join_spill1(void) { scenario_join_spill(1); }

/* Group spawns: frames come from slab chunks (per worker and shared).  A
 * spawn that cannot get a frame runs its task inline: each task must run
 * exactly once and every fg_spawn return 0.  A worker's spawns into a group
 * on its own stack take no frame (they go on its ctx stack, which
 * allocates nothing per task), so from a worker the group lives on the
 * heap: every spawn then takes a frame from the worker's slab. */
enum { SPAWNS = 1500 };
typedef struct spawner {
    fg_pool *pool;
    atomic_long *ran;
    int bad_spawns;
    atomic_long in_caller_slot, bad_index; /* fg_worker_index() == workers; outside [0, workers] */
} spawner;

/* A spawned task: counts itself and checks the worker index it sees. */
static int spawned_task(void *arg)
{
    spawner *s = arg;
    int w = fg_worker_index(), workers = fg_pool_workers(s->pool);
    atomic_fetch_add(s->ran, 1);
    if (w == workers)
        atomic_fetch_add(&s->in_caller_slot, 1);
    else if (w < 0 || w > workers)
        atomic_fetch_add(&s->bad_index, 1);
    return 0;
}

static int spawn_many(void *arg)
{
    spawner *s = arg;
    fg_group on_stack = FG_GROUP_INIT(s->pool), *g = &on_stack;
    if (fg_worker_index() >= 0 && (g = malloc(sizeof *g)) == NULL)
        g = &on_stack; /* no heap: the ctx stack path, still exactly once */
    if (g != &on_stack)
        fg_group_init(g, s->pool);
    for (int i = 0; i < SPAWNS; i++)
        if (fg_spawn(g, spawned_task, s) != 0)
            s->bad_spawns++;
    int err = fg_sync(g);
    if (g != &on_stack)
        free(g);
    return err;
}

static void scenario_spawn(int from_worker)
{
    fg_pool *pool;
    if (fg_pool_create(&pool, FG_CONFIG(.workers = 2, .seed = 1)) != 0) {
        CHECK(0, "create");
        return;
    }
    atomic_long ran = 0, other = 0;
    spawner s = { pool, &ran, 0, 0, 0 };
    fault_begin();
    int rc = from_worker ? fg_join(pool, spawn_many, &s, count_task, &other) : spawn_many(&s);
    fault_end();
    CHECK(rc == 0 && s.bad_spawns == 0 && ran == SPAWNS,
          "spawn (%s): rc=%s bad_spawns=%d ran=%ld (want %d)",
          from_worker ? "worker" : "external", fg_error_name(rc), s.bad_spawns, (long)ran,
          SPAWNS);
    /* A spawn from outside that found no frame ran inline in the caller's
     * slot (index 2 here); on a worker it keeps that worker's index. */
    bool frame_failed = !from_worker && bracket_site != NULL &&
                        strcmp(bracket_site, "fg__slab_grow_locked") == 0;
    CHECK(s.bad_index == 0 && s.in_caller_slot == (frame_failed ? 1 : 0),
          "spawn (%s): %ld tasks in the caller's slot (want %d), %ld with a bad index",
          from_worker ? "worker" : "external", (long)s.in_caller_slot, frame_failed ? 1 : 0,
          (long)s.bad_index);
    check_pool_usable(pool);
    fg_pool_destroy(pool);
}
static void scenario_spawn_worker(void) { scenario_spawn(1); }
static void scenario_spawn_external(void) { scenario_spawn(0); }

/* parallel_reduce with a 512-byte partial: allocated per split.  Either the
 * exact result, or FG_ENOMEM; each index is reduced at most once. */
enum { REDUCE_N = 4096 };
typedef struct big_partial { uint64_t sum; char pad[504]; } big_partial;
static atomic_int reduce_seen[REDUCE_N];

static int reduce_body(size_t begin, size_t end, void *partial, void *ctx)
{
    (void)ctx;
    big_partial *p = partial;
    for (size_t i = begin; i < end; i++) {
        atomic_fetch_add(&reduce_seen[i], 1);
        p->sum += i;
    }
    return 0;
}

static void reduce_combine(void *left, const void *right, void *ctx)
{
    (void)ctx;
    ((big_partial *)left)->sum += ((const big_partial *)right)->sum;
}

static void scenario_reduce(void)
{
    fg_pool *pool;
    if (fg_pool_create(&pool, FG_CONFIG(.workers = 2, .seed = 1)) != 0) {
        CHECK(0, "create");
        return;
    }
    for (int i = 0; i < REDUCE_N; i++)
        atomic_store(&reduce_seen[i], 0);
    big_partial identity = { 0 }, result = { 0 };
    fg_for_opts opts = FG_FOR_OPTS_INIT(.grain = 64, .partition = FG_PARTITION_SIMPLE);
    fault_begin();
    int rc = fg_parallel_reduce(pool, 0, REDUCE_N, &opts, sizeof(big_partial), &identity,
                                reduce_body, reduce_combine, NULL, &result);
    fault_end();
    int twice = 0, missing = 0;
    for (int i = 0; i < REDUCE_N; i++) {
        int n = atomic_load(&reduce_seen[i]);
        twice += n > 1;
        missing += n == 0;
    }
    CHECK(twice == 0, "reduce: %d indices reduced twice", twice);
    if (rc == 0)
        CHECK(missing == 0 && result.sum == (uint64_t)REDUCE_N * (REDUCE_N - 1) / 2,
              "reduce: missing=%d sum=%llu", missing, (unsigned long long)result.sum);
    else
        CHECK(rc == FG_ENOMEM, "reduce returned %s", fg_error_name(rc));
    check_pool_usable(pool);
    fg_pool_destroy(pool);
}

/* The façade: open (its own pool), map, close, for every backend.  A map
 * either fills every result or returns FG_ENOMEM with nothing run. */
enum { MAP_N = 3000 };
static atomic_long map_ran;

static int square(size_t i, void *ctx, void *result)
{
    (void)ctx;
    atomic_fetch_add(&map_ran, 1);
    *(uint64_t *)result = (uint64_t)i * i;
    return 0;
}

static void scenario_facade(int backend, long batch_size)
{
    static uint64_t results[MAP_N];
    memset(results, 0xff, sizeof results);
    atomic_store(&map_ran, 0);
    fg_parallel *par = NULL;
    fault_begin();
    int rc = fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .backend = backend,
                                                         .batch_size = batch_size));
    if (rc == 0)
        rc = fg_parallel_map(par, (fg_delayed){ square, NULL, sizeof(uint64_t) }, 0, MAP_N,
                             results, NULL);
    fault_end();
    if (rc == 0) {
        int wrong = 0;
        for (size_t i = 0; i < MAP_N; i++)
            wrong += results[i] != (uint64_t)i * i;
        CHECK(wrong == 0 && map_ran == MAP_N, "map (backend %d): %d wrong results, ran %ld",
              backend, wrong, (long)map_ran);
    } else {
        CHECK(is_resource_error(rc), "open/map (backend %d) returned %s", backend,
              fg_error_name(rc));
        CHECK(map_ran == 0, "map (backend %d) failed after running %ld tasks", backend,
              (long)map_ran);
    }
    if (par != NULL) {
        atomic_store(&map_ran, 0);
        rc = fg_parallel_map(par, (fg_delayed){ square, NULL, sizeof(uint64_t) }, 0, MAP_N,
                             results, NULL);
        CHECK(rc == 0 && map_ran == MAP_N, "façade unusable after the fault: rc=%s ran=%ld",
              fg_error_name(rc), (long)map_ran);
    }
    fg_parallel_close(par);
}

/* Tasks that ran in the process backend's workers: their results. */
static long process_ran(const uint64_t *results)
{
    long ran = 0;
    for (size_t i = 0; i < MAP_N; i++)
        ran += results[i] == (uint64_t)i * i;
    return ran;
}

static void scenario_facade_process(void)
{
    static uint64_t results[MAP_N];
    memset(results, 0xff, sizeof results);
    fg_parallel *par = NULL;
    fault_begin();
    int rc = fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 2, .batch_size = 100,
                                                         .backend = FG_BACKEND_PROCESS));
    if (rc == 0)
        rc = fg_parallel_map(par, (fg_delayed){ square, NULL, sizeof(uint64_t) }, 0, MAP_N,
                             results, NULL);
    fault_end();
    long ran = process_ran(results);
    if (rc == 0) {
        CHECK(ran == MAP_N, "map (process): %ld of %d results right", ran, MAP_N);
    } else {
        CHECK(is_resource_error(rc), "open/map (process) returned %s", fg_error_name(rc));
        CHECK(ran == 0, "map (process) failed after running %ld tasks", ran);
    }
    if (par != NULL) {
        memset(results, 0xff, sizeof results);
        rc = fg_parallel_map(par, (fg_delayed){ square, NULL, sizeof(uint64_t) }, 0, MAP_N,
                             results, NULL);
        CHECK(rc == 0 && process_ran(results) == MAP_N,
              "façade unusable after the fault: rc=%s ran=%ld", fg_error_name(rc),
              process_ran(results));
    }
    fg_parallel_close(par);
}
static void scenario_facade_steal(void) { scenario_facade(FG_BACKEND_STEAL, 100); }
static void scenario_facade_steal_auto(void) { scenario_facade(FG_BACKEND_STEAL, FG_BATCH_AUTO); }
static void scenario_facade_shared(void) { scenario_facade(FG_BACKEND_SHARED, 100); }
static void scenario_facade_sequential(void) { scenario_facade(FG_BACKEND_SEQUENTIAL, 100); }

/* ------------------------------------------------------------- driver */

/* Scan and the sorts (issue 15): each allocates its scratch before it
 * starts, so a failed allocation returns FG_ENOMEM with the combine or
 * comparator never called and the array as it was; otherwise the result is
 * exact. */
enum { ALGO_N = 300000 };
static atomic_long algo_calls;

static void algo_add(void *l, const void *r, void *ctx)
{
    (void)ctx;
    atomic_fetch_add_explicit(&algo_calls, 1, memory_order_relaxed);
    *(uint64_t *)l += *(const uint64_t *)r;
}

static int algo_cmp(const void *a, const void *b)
{
    atomic_fetch_add_explicit(&algo_calls, 1, memory_order_relaxed);
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

enum { ALGO_SCAN, ALGO_STABLE, ALGO_RADIX };

static void scenario_algo(int which)
{
    fg_pool *pool;
    if (fg_pool_create(&pool, FG_CONFIG(.workers = 2, .seed = 1)) != 0) {
        CHECK(0, "create");
        return;
    }
    static uint64_t a[ALGO_N];
    for (size_t i = 0; i < ALGO_N; i++)
        a[i] = (ALGO_N - i) * 3;
    atomic_store(&algo_calls, 0);
    const uint64_t zero = 0;
    fault_begin();
    int rc = which == ALGO_SCAN
                 ? fg_parallel_scan(pool, a, a, ALGO_N, 8, &zero, algo_add, NULL,
                                    FG_SCAN_OPTS(.grain = 1000))
             : which == ALGO_STABLE ? fg_parallel_stable_sort(pool, a, ALGO_N, 8, algo_cmp)
                                    : fg_parallel_sort_u64(pool, a, ALGO_N);
    fault_end();
    int untouched = 1, right = 1;
    uint64_t acc = 0;
    for (size_t i = 0; i < ALGO_N; i++) {
        acc += (ALGO_N - i) * 3;
        untouched &= a[i] == (ALGO_N - i) * 3;
        right &= a[i] == (which == ALGO_SCAN ? acc : (i + 1) * 3);
    }
    if (rc == 0)
        CHECK(right, "algorithm %d: wrong result", which);
    else
        CHECK(rc == FG_ENOMEM && untouched && atomic_load(&algo_calls) == 0,
              "algorithm %d returned %s, array %s, %ld calls", which, fg_error_name(rc),
              untouched ? "untouched" : "changed", atomic_load(&algo_calls));
    check_pool_usable(pool);
    fg_pool_destroy(pool);
}

static void scenario_scan(void) { scenario_algo(ALGO_SCAN); }
static void scenario_stable_sort(void) { scenario_algo(ALGO_STABLE); }
static void scenario_radix_sort(void) { scenario_algo(ALGO_RADIX); }

typedef struct scenario { const char *name; void (*run)(void); } scenario;

static const scenario scenarios[] = {
    { "create(1 worker)", scenario_create1 },
    { "create(3 workers)", scenario_create3 },
    { "create(3 workers, near-first)", scenario_create3_near },
    { "create(3 workers, split deque)", scenario_create3_split },
    { "join spill (1 worker)", scenario_join_spill1 },
    { "spawn from a worker", scenario_spawn_worker },
    { "spawn from outside", scenario_spawn_external },
    { "parallel_reduce 512 B partials", scenario_reduce },
    { "façade steal, batch 100", scenario_facade_steal },
    { "façade steal, batch auto", scenario_facade_steal_auto },
    { "façade shared, batch 100", scenario_facade_shared },
    { "façade sequential", scenario_facade_sequential },
    { "façade process, batch 100", scenario_facade_process },
    { "parallel_scan", scenario_scan },
    { "parallel_stable_sort", scenario_stable_sort },
    { "parallel_sort_u64", scenario_radix_sort },
};

#define MAX_SITES 64
static const char *sites[MAX_SITES];
static int nsites;

static void note_site(const char *site)
{
    for (int i = 0; i < nsites; i++)
        if (strcmp(sites[i], site) == 0)
            return;
    if (nsites < MAX_SITES)
        sites[nsites++] = site;
}


int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    static const char *const env[] = { "FORAGE_WORKERS", "FORAGE_POLICY", "FORAGE_IDLE",
                                       "FORAGE_STEAL", "FORAGE_DEQUE" };
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
        unsetenv(env[i]); /* the scenarios' acquisitions depend on them */
    /* Count threads after one pool has come and gone: sanitizers start a
     * helper thread of their own at the first pthread_create. */
    fg_pool *warm;
    if (fg_pool_create(&warm, FG_CONFIG(.workers = 1)) == 0)
        fg_pool_destroy(warm);
    int threads_before = thread_count();
    uint64_t runs = 0, injected = 0;
    printf("%-32s %12s %8s %s\n", "scenario", "acquisitions", "failed", "sites");
    for (size_t s = 0; s < sizeof scenarios / sizeof scenarios[0]; s++) {
        /* Steals may change the count from run to run: take the largest of
         * three counting runs, and try two k beyond it. */
        uint64_t n = 0, hit = 0;
        for (int r = 0; r < 3; r++) {
            armed_k = 0;
            scenarios[s].run();
            n = bracket_count > n ? bracket_count : n;
        }
        char names[512] = "";
        for (armed_k = 1; armed_k <= n + 2; armed_k++) {
            scenarios[s].run();
            runs++;
            if (bracket_site == NULL)
                continue;
            hit++;
            note_site(bracket_site);
            if (strstr(names, bracket_site) == NULL && strlen(names) + strlen(bracket_site) + 2 < sizeof names) {
                strcat(names, names[0] ? " " : "");
                strcat(names, bracket_site);
            }
        }
        printf("%-32s %12llu %8llu %s\n", scenarios[s].name, (unsigned long long)n,
               (unsigned long long)hit, names);
        CHECK(hit > 0, "no failure was injected in scenario %s: it tests nothing",
              scenarios[s].name);
        injected += hit;
    }
    int threads_after = thread_count_settled(threads_before);
    printf("fault: %llu runs, %llu injected failures, %d distinct sites:", (unsigned long long)runs,
           (unsigned long long)injected, nsites);
    for (int i = 0; i < nsites; i++)
        printf(" %s", sites[i]);
    printf("\nfault: threads at start %d, at end %d\n", threads_before, threads_after);
    armed_k = 0;
    CHECK(threads_after == threads_before, "worker threads left behind");
    if (failures != 0) {
        fprintf(stderr, "fault: %d check(s) failed\n", failures);
        return 1;
    }
    printf("fault: OK\n");
    return 0;
}
