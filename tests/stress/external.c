/* external.c: many non-worker threads calling into ONE pool at once.
 *
 * N external pthreads (default 16) share a pool of 2 workers and, released
 * together by a barrier, loop until the time is up over a random mix of:
 *   join     fg_join(fib(a), fib(b)): each half recurses with fg_join on the
 *            worker that runs it; both results checked;
 *   codes    fg_join of two tasks returning chosen codes: the result must
 *            be a's code if nonzero, else b's, and both must have run once;
 *   group    fg_spawn of k tasks (each a recursive fib, some returning a
 *            code), fg_sync: every task ran exactly once with the right
 *            result, and sync returned one of the codes (0 if none);
 *   reuse    the same group spawned and synced twice;
 *   mixed    spawns, then an fg_join from the same thread, then the sync.
 * Every result is checked and every call counted.
 */
#include "forage.h"

#include "fib.h"
#include "harness.h"

#define POOL_WORKERS 2
#define MAX_SPAWN 12

#if STRESS_TSAN
#  define N_LO 4
#  define N_HI 13
#else
#  define N_LO 6
#  define N_HI 18
#endif

static fg_pool *pool;
static pthread_barrier_t go;

/* A fib on the pool whose leaves check they run on one of its workers. */
static fib_arg fib_of(int n)
{
    return (fib_arg){ .pool = pool, .n = n, .workers = POOL_WORKERS };
}

typedef struct spawn_arg {
    fib_arg fib;
    int code;     /* returned after the fib (0 or positive) */
    atomic_int ran;
} spawn_arg;

static int spawn_task(void *p)
{
    spawn_arg *s = p;
    atomic_fetch_add_explicit(&s->ran, 1, memory_order_relaxed);
    int err = fib_task(&s->fib);
    return err != 0 ? err : s->code;
}

typedef struct code_arg {
    int code;
    atomic_int ran;
} code_arg;

static int code_task(void *p)
{
    code_arg *c = p;
    atomic_fetch_add_explicit(&c->ran, 1, memory_order_relaxed);
    return c->code;
}

typedef struct ext {
    pthread_t thread;
    int index;
    stress_rng rng;
    uint64_t joins, code_joins, groups, spawns, syncs, task_errors; /* own counters */
} ext;

static void check_fib(ext *e, const char *what, int err, const fib_arg *f)
{
    if (err != 0)
        stress_fail("thread %d %s fib(%d): error %d (%s)", e->index, what, f->n, err,
                    err == FIB_WRONG_WORKER ? "leaf ran off the pool" : fg_strerror(err));
    if (f->result != fib_seq(f->n))
        stress_fail("thread %d %s fib(%d) = %" PRIu64 ", want %" PRIu64, e->index, what,
                    f->n, f->result, fib_seq(f->n));
}

static void op_join(ext *e)
{
    fib_arg a = fib_of(stress_rng_range(&e->rng, N_LO, N_HI));
    fib_arg b = fib_of(stress_rng_range(&e->rng, N_LO, N_HI));
    int err = fg_join(pool, fib_task, &a, fib_task, &b);
    e->joins++;
    check_fib(e, "join a", err, &a);
    check_fib(e, "join b", 0, &b);
}

static void op_codes(ext *e)
{
    static const int codes[] = { 0, 0, 5, 9 };
    code_arg a = { codes[stress_rng_below(&e->rng, 4)], 0 };
    code_arg b = { codes[stress_rng_below(&e->rng, 4)], 0 };
    int err = fg_join(pool, code_task, &a, code_task, &b);
    e->code_joins++;
    int want = a.code != 0 ? a.code : b.code;
    if (err != want)
        stress_fail("thread %d: fg_join(code %d, code %d) = %d, want %d", e->index, a.code,
                    b.code, err, want);
    if (atomic_load(&a.ran) != 1 || atomic_load(&b.ran) != 1)
        stress_fail("thread %d: fg_join halves ran %d and %d times", e->index,
                    atomic_load(&a.ran), atomic_load(&b.ran));
}

/* Spawn k tasks into g; about one in four returns a code of its own. */
static int spawn_some(ext *e, fg_group *g, spawn_arg *s, int k, int code_base)
{
    for (int i = 0; i < k; i++) {
        s[i].fib = fib_of(stress_rng_range(&e->rng, N_LO, N_HI - 2));
        s[i].code = stress_rng_below(&e->rng, 4) == 0 ? code_base + i : 0;
        atomic_init(&s[i].ran, 0);
        int err = fg_spawn(g, spawn_task, &s[i]);
        e->spawns++;
        if (err != 0) {
            stress_fail("thread %d: fg_spawn: %s", e->index, fg_strerror(err));
            return i;
        }
    }
    return k;
}

/* After a sync of k tasks: each ran once, right result, err one of the codes. */
static void check_group(ext *e, int err, const spawn_arg *s, int k)
{
    int any_code = 0, err_is_a_code = 0;
    for (int i = 0; i < k; i++) {
        int ran = atomic_load_explicit(&s[i].ran, memory_order_relaxed);
        if (ran != 1)
            stress_fail("thread %d: spawned task %d ran %d times", e->index, i, ran);
        if (s[i].fib.result != fib_seq(s[i].fib.n))
            stress_fail("thread %d: spawned fib(%d) = %" PRIu64 ", want %" PRIu64, e->index,
                        s[i].fib.n, s[i].fib.result, fib_seq(s[i].fib.n));
        any_code |= s[i].code != 0;
        err_is_a_code |= s[i].code != 0 && s[i].code == err;
    }
    e->syncs++;
    if (any_code ? !err_is_a_code : err != 0)
        stress_fail("thread %d: fg_sync returned %d (%s) for %d tasks%s", e->index, err,
                    fg_strerror(err), k, any_code ? " with codes" : " without codes");
    e->task_errors += any_code;
}

static void op_group(ext *e, int phases, int join_between)
{
    spawn_arg s[MAX_SPAWN];
    fg_group g = FG_GROUP_INIT(pool);
    e->groups++;
    for (int phase = 0; phase < phases; phase++) {
        int k = spawn_some(e, &g, s, 1 + (int)stress_rng_below(&e->rng, MAX_SPAWN),
                           1000 + 100 * phase);
        if (join_between)
            op_join(e);
        int err = fg_sync(&g);
        check_group(e, err, s, k);
    }
}

static void *ext_main(void *arg)
{
    ext *e = arg;
    pthread_barrier_wait(&go);
    uint64_t start = stress_now_ns();
    while (stress_seconds_since(start) < stress_cfg.seconds && stress_failure_count() == 0) {
        switch (stress_rng_below(&e->rng, 10)) {
        case 0: case 1: case 2: op_join(e); break;
        case 3: case 4: op_codes(e); break;
        case 5: case 6: op_group(e, 1, 0); break;
        case 7: case 8: op_group(e, 2, 0); break;
        default: op_group(e, 1, 1); break;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 16, 1, 1024, 2.0,
                 "external threads calling into one 2-worker pool (default 16)");
    int n = stress_cfg.threads;
    printf("external: threads=%d pool_workers=%d seconds=%g fib n=%d..%d%s\n", n,
           POOL_WORKERS, stress_cfg.seconds, N_LO, N_HI, STRESS_TSAN ? " tsan" : "");
    stress_watchdog_start(stress_cfg.seconds * 3 + 120);

    stress_rng rng = stress_rng_make(stress_cfg.seed, 0);
    fg_config cfg = stress_pool_config(&rng, POOL_WORKERS);
    stress_print_config("external", &cfg);
    int err = fg_pool_create(&pool, &cfg);
    if (err != 0) {
        stress_fail("fg_pool_create: %s", fg_strerror(err));
        return stress_finish();
    }
    if (fg_join(pool, NULL, NULL, code_task, NULL) != FG_EINVAL)
        stress_fail("fg_join with a NULL task did not return FG_EINVAL");

    ext *exts = calloc((size_t)n, sizeof *exts);
    if (exts == NULL)
        return 2;
    pthread_barrier_init(&go, NULL, (unsigned)n);
    uint64_t start = stress_now_ns();
    for (int i = 0; i < n; i++) {
        exts[i].index = i;
        exts[i].rng = stress_rng_make(stress_cfg.seed, (uint64_t)i + 1);
        if (pthread_create(&exts[i].thread, NULL, ext_main, &exts[i]) != 0) {
            fprintf(stderr, "external: pthread_create failed\n");
            return 2;
        }
    }
    ext sum = { 0 };
    for (int i = 0; i < n; i++) {
        pthread_join(exts[i].thread, NULL);
        sum.joins += exts[i].joins;
        sum.code_joins += exts[i].code_joins;
        sum.groups += exts[i].groups;
        sum.spawns += exts[i].spawns;
        sum.syncs += exts[i].syncs;
        sum.task_errors += exts[i].task_errors;
    }
    double elapsed = stress_seconds_since(start);
    fg_pool_destroy(pool);
    pthread_barrier_destroy(&go);
    free(exts);
    uint64_t calls = sum.joins + sum.code_joins + sum.spawns + sum.syncs;
    printf("external: fib_joins=%" PRIu64 " code_joins=%" PRIu64 " groups=%" PRIu64
           " spawns=%" PRIu64 " syncs=%" PRIu64 " syncs_with_codes=%" PRIu64 "\n",
           sum.joins, sum.code_joins, sum.groups, sum.spawns, sum.syncs, sum.task_errors);
    printf("external: calls=%" PRIu64 " calls/s=%.0f\n", calls, (double)calls / elapsed);
    stress_total("calls", calls);
    return stress_finish();
}
