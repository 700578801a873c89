/* tests/unit/policy.c: victim policies (runtime/policy.c), worker placement
 * (runtime/topology.c), idle, steal-amount and deque-kind settings and their
 * $FORAGE_POLICY / $FORAGE_IDLE / $FORAGE_STEAL / $FORAGE_DEQUE / $FORAGE_BIND
 * spellings
 * (runtime/config.c), and fork-join under every combination. */
#include <criterion/criterion.h>

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "forage.h"
#include "fib.h"
#include "internal.h"

static void env_clear(void)
{
    unsetenv("FORAGE_POLICY");
    unsetenv("FORAGE_IDLE");
    unsetenv("FORAGE_STEAL");
    unsetenv("FORAGE_WORKERS");
    unsetenv("FORAGE_DEQUE");
    unsetenv("FORAGE_BIND");
}

TestSuite(policy, .init = env_clear, .fini = env_clear, .timeout = 60);

static int resolve(const fg_config *cfg, fg__config *c)
{
    memset(c, 0x5a, sizeof *c);
    return fg__config_resolve(cfg, c);
}

/* ---------------------------------------------------------- by name */

Test(policy, forage_policy_names)
{
    static const struct { const char *name; int kind; } names[] = {
        { "random", FG_VICTIM_RANDOM },   { "round-robin", FG_VICTIM_ROUND_ROBIN },
        { "sticky", FG_VICTIM_STICKY },   { "near", FG_VICTIM_NEAR },
        { "power-of-two", FG_VICTIM_POWER_OF_TWO }, { "", FG_VICTIM_RANDOM },
    };
    fg__config c;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        setenv("FORAGE_POLICY", names[i].name, 1);
        cr_assert_eq(resolve(FG_CONFIG(.workers = 2), &c), 0, "%s", names[i].name);
        cr_assert_eq(c.victim, names[i].kind, "%s", names[i].name);
        cr_assert_eq(c.victim_fn, fg__policy_builtin(names[i].kind), "%s", names[i].name);
    }
    /* An explicit kind or function wins over the environment. */
    setenv("FORAGE_POLICY", "near", 1);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 2, .victim = FG_VICTIM_STICKY), &c), 0);
    cr_assert_eq(c.victim, FG_VICTIM_STICKY);
    static const char *const bad[] = { "Random", "near ", "power-of-3", "1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("FORAGE_POLICY", bad[i], 1);
        cr_assert_eq(resolve(FG_CONFIG(.workers = 2), &c), FG_EENV, "'%s'", bad[i]);
        fg_pool *p = (fg_pool *)&p;
        cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 2)), FG_EENV);
        cr_assert_null(p);
    }
}

Test(policy, forage_idle_spellings)
{
    enum { D = FG_SPIN_ROUNDS_DEFAULT, W = FG_WAIT_US_DEFAULT * 1000 };
    static const struct {
        const char *text;
        unsigned spin;
        uint64_t spin_ns;
        unsigned yield;
        uint64_t wait_ns;
    } good[] = {
        { "spin:64,yield:16", 64, 0, 16, W },
        { "yield:5", D, 0, 5, W },
        { "spin:0", 0, 0, 0, W },
        { "spin:forever", FG_SPIN_FOREVER, 0, 0, 0 },
        { "yield:3,spin:7", 7, 0, 3, W },
        { "", D, 0, 0, W },
        { "spin:250us", 0, 250000, 0, W },
        { "spin:0us", 0, 0, 0, W },
        { "spin:32,spin:60us", 32, 60000, 0, W },
        { "spin:60us,yield:2,spin:8", 8, 60000, 2, W },
        { "spin:forever,spin:60us", FG_SPIN_FOREVER, 0, 0, 0 },
        { "wait:0us", D, 0, 0, 0 },
        { "wait:200us,spin:16", 16, 0, 0, 200000 },
    };
    fg__config c;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        const char *t = good[i].text;
        setenv("FORAGE_IDLE", t, 1);
        cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), 0, "'%s'", t);
        cr_assert_eq(c.spin_rounds, good[i].spin, "'%s': spin %u", t, c.spin_rounds);
        cr_assert_eq(c.spin_ns, good[i].spin_ns, "'%s': spin_ns %llu", t,
                     (unsigned long long)c.spin_ns);
        cr_assert_eq(c.yield_rounds, good[i].yield, "'%s': yield %u", t, c.yield_rounds);
        cr_assert_eq(c.wait_ns, good[i].wait_ns, "'%s': wait_ns %llu", t,
                     (unsigned long long)c.wait_ns);
    }
    static const char *const bad[] = { "spin", "spin:", "spin:-1", "spin:x", "nap:3",
                                       "spin:1,,yield:2", "yield:forever", "spin:1,",
                                       "spin:99999999999", "spin:5ms", "spin:us", "spin:-1us",
                                       "yield:5us", "spin:5 us", "spin:5usx", "wait:100",
                                       "wait:forever", "wait:1ms" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("FORAGE_IDLE", bad[i], 1);
        cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), FG_EENV, "'%s'", bad[i]);
    }
    setenv("FORAGE_IDLE", "spin:5ms", 1);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), FG_EENV);
    cr_assert_str_eq(fg_last_error_detail(),
                     "FORAGE_IDLE=\"spin:5ms\": spin takes a count of rounds or whole microseconds "
                     "(spin:32, spin:100us, both: spin:32,spin:100us), from 0 to 2^31 - 1");
    setenv("FORAGE_IDLE", "wait:100", 1);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), FG_EENV);
    cr_assert_str_eq(fg_last_error_detail(), "FORAGE_IDLE=\"wait:100\": wait takes whole "
                                             "microseconds (wait:1000us), from 0 to 2^31 - 1");
    /* Fields set in the config win; a spin in time alone has no least
     * count of rounds. */
    setenv("FORAGE_IDLE", "spin:1,yield:1,wait:5us", 1);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1, .yield_rounds = 9), &c), 0);
    cr_assert_eq(c.spin_rounds, FG_SPIN_ROUNDS_DEFAULT);
    cr_assert_eq(c.spin_ns, 0);
    cr_assert_eq(c.yield_rounds, 9);
    cr_assert_eq(c.wait_ns, W);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1, .spin_us = 20), &c), 0);
    cr_assert_eq(c.spin_rounds, 0);
    cr_assert_eq(c.spin_ns, 20000);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1, .spin_rounds = 4, .spin_us = 20, .wait_us = 7), &c), 0);
    cr_assert_eq(c.spin_rounds, 4);
    cr_assert_eq(c.spin_ns, 20000);
    cr_assert_eq(c.wait_ns, 7000);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1, .wait_us = 7), &c), 0, "wait_us alone: no env");
    cr_assert_eq(c.spin_rounds, FG_SPIN_ROUNDS_DEFAULT);
    cr_assert_eq(c.yield_rounds, 0);
    cr_assert_eq(c.wait_ns, 7000);
}

/* ------------------------------------------------------- the idle ladder */

/* Failed rounds a worker of a pool with this ladder goes through before
 * parking; *yields gets how many of them yielded, *spun_at the round the
 * spin ended at, *ns the time from the first failed round to parking. */
static unsigned ladder(unsigned spin, uint64_t spin_ns, unsigned yield, unsigned *yields,
                       unsigned *spun_at, uint64_t *ns)
{
    static fg_pool p;
    static fg__worker w;
    p.spin_rounds = spin;
    p.spin_ns = spin_ns;
    p.yield_rounds = yield;
    w.pool = &p;
    fg__idle idle = fg__idle_start(spin_ns, 0, false);
    unsigned rounds = 0;
    uint64_t t0 = 0;
    *yields = 0;
    for (;;) {
        if (rounds == 0)
            t0 = fg__clock_ns();
        rounds++;
        unsigned backoff = idle.backoff;
        bool again = fg__sleep_idle_round(&w, &idle);
        if (!again)
            break;
        *yields += idle.spun_at != 0 && rounds > idle.spun_at && backoff == idle.backoff;
    }
    *ns = fg__clock_ns() - t0;
    *spun_at = idle.spun_at;
    return rounds;
}

Test(policy, idle_ladder_in_rounds_parks_after_spin_then_yield_rounds)
{
    unsigned yields, at;
    uint64_t ns;
    cr_assert_eq(ladder(32, 0, 0, &yields, &at, &ns), 32);
    cr_assert_eq(at, 32);
    cr_assert_eq(yields, 0);
    cr_assert_eq(ladder(5, 0, 3, &yields, &at, &ns), 8);
    cr_assert_eq(at, 5);
    cr_assert_eq(yields, 2, "the spin's last round pauses, the next yield_rounds - 1 yield");
    cr_assert_eq(ladder(0, 0, 0, &yields, &at, &ns), 1, "spin:0 parks after one round");
}

Test(policy, idle_ladder_in_time_spins_at_least_spin_ns_and_spin_rounds)
{
    unsigned yields, at;
    uint64_t ns;
    /* 3 ms of rounds: far more than 4 rounds, and at least the time. */
    unsigned rounds = ladder(4, 3000000, 0, &yields, &at, &ns);
    cr_assert_geq(ns, 3000000, "parked after %llu ns", (unsigned long long)ns);
    cr_assert_gt(rounds, 4);
    cr_assert_eq(at, rounds);
    cr_assert_eq(yields, 0);
    /* Rounds still count when they outlast the time. */
    cr_assert_eq(ladder(2000, 1, 0, &yields, &at, &ns), 2000);
    cr_assert_eq(at, 2000);
    /* Yield rounds come after the timed spin. */
    rounds = ladder(0, 1000000, 4, &yields, &at, &ns);
    cr_assert_geq(ns, 1000000);
    cr_assert_eq(rounds, at + 4);
    cr_assert_eq(yields, 3);
}

Test(policy, forage_deque_spellings)
{
    fg__config c;
    setenv("FORAGE_DEQUE", "split", 1);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), 0);
    cr_assert_eq(c.deque, FG_DEQUE_SPLIT);
    setenv("FORAGE_DEQUE", "chase-lev", 1);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), 0);
    cr_assert_eq(c.deque, FG_DEQUE_CHASE_LEV);
    setenv("FORAGE_DEQUE", "lace", 1);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), FG_EENV);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1, .deque = FG_DEQUE_SPLIT), &c), 0);
    cr_assert_eq(c.deque, FG_DEQUE_SPLIT);
    unsetenv("FORAGE_DEQUE");
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1, .deque = 2), &c), FG_EINVAL);
}

Test(policy, forage_steal_spellings)
{
    fg__config c;
    setenv("FORAGE_STEAL", "half", 1);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), 0);
    cr_assert_eq(c.steal, FG_STEAL_HALF);
    setenv("FORAGE_STEAL", "one", 1);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), 0);
    cr_assert_eq(c.steal, FG_STEAL_ONE);
    setenv("FORAGE_STEAL", "all", 1);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), FG_EENV);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1, .steal = FG_STEAL_HALF), &c), 0);
    cr_assert_eq(c.steal, FG_STEAL_HALF);
    unsetenv("FORAGE_STEAL");
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1, .steal = 2), &c), FG_EINVAL);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1, .steal = -1), &c), FG_EINVAL);
}

Test(policy, forage_bind_spellings)
{
    fg__config c;
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), 0);
    cr_assert_eq(c.bind, FG_BIND_CPUS);
    setenv("FORAGE_BIND", "none", 1);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), 0);
    cr_assert_eq(c.bind, FG_BIND_NONE);
    setenv("FORAGE_BIND", "cpus", 1);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), 0);
    cr_assert_eq(c.bind, FG_BIND_CPUS);
    setenv("FORAGE_BIND", "all", 1);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), FG_EENV);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1, .bind = FG_BIND_NONE), &c), 0);
    cr_assert_eq(c.bind, FG_BIND_NONE);
    unsetenv("FORAGE_BIND");
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1, .bind = 2), &c), FG_EINVAL);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1, .bind = -1), &c), FG_EINVAL);
}

/* ------------------------------------------------------------ binding */

/* The calling worker's affinity mask, as seen from a task. */
typedef struct mask_probe {
    int count, first, worker;
} mask_probe;

static int probe_mask(void *arg)
{
    mask_probe *m = arg;
    cpu_set_t set;
    cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
    m->count = CPU_COUNT(&set);
    m->first = -1;
    for (int c = 0; c < CPU_SETSIZE && m->first < 0; c++)
        if (CPU_ISSET(c, &set))
            m->first = c;
    m->worker = fg_worker_index();
    return 0;
}

static void process_mask(int *count, int *cpu, int max)
{
    cpu_set_t set;
    cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
    *count = CPU_COUNT(&set);
    for (int c = 0, n = 0; c < CPU_SETSIZE && n < max; c++)
        if (CPU_ISSET(c, &set))
            cpu[n++] = c;
}

/* Probe the two halves of one join: whichever workers run them.  The join
 * is handed to a worker (FG_CALLER_WAIT): in a parked worker's seat the
 * test's own thread, with its own mask, would run it. */
static void probe_pool(const fg_config *cfg, mask_probe *a, mask_probe *b)
{
    fg_pool *p;
    fg_config c = *cfg;
    c.caller = FG_CALLER_WAIT;
    cr_assert_eq(fg_pool_create(&p, &c), 0);
    cr_assert_eq(fg_join(p, probe_mask, a, probe_mask, b), 0);
    fg_pool_destroy(p);
}

Test(policy, bind_cpus_puts_worker_i_on_the_ith_cpu_of_the_mask)
{
    int count, cpu[CPU_SETSIZE];
    process_mask(&count, cpu, CPU_SETSIZE);
    mask_probe a, b;
    probe_pool(FG_CONFIG(.workers = 1), &a, &b);
    cr_assert_eq(a.worker, 0);
    cr_assert_eq(a.count, 1);
    cr_assert_eq(a.first, cpu[0]);
    cr_assert_eq(b.count, 1);
    cr_assert_eq(b.first, cpu[0]);
    if (count >= 2) { /* each half on its worker's own CPU */
        probe_pool(FG_CONFIG(.workers = 2), &a, &b);
        cr_assert_eq(a.count, 1);
        cr_assert_eq(b.count, 1);
        cr_assert_eq(a.first, cpu[a.worker]);
        cr_assert_eq(b.first, cpu[b.worker]);
    }
}

Test(policy, bind_none_and_too_many_workers_leave_the_mask_alone)
{
    int count, cpu[CPU_SETSIZE];
    process_mask(&count, cpu, CPU_SETSIZE);
    mask_probe a, b;
    probe_pool(FG_CONFIG(.workers = 1, .bind = FG_BIND_NONE), &a, &b);
    cr_assert_eq(a.count, count);
    cr_assert_eq(b.count, count);
    setenv("FORAGE_BIND", "none", 1);
    probe_pool(FG_CONFIG(.workers = 1), &a, &b);
    cr_assert_eq(a.count, count);
    unsetenv("FORAGE_BIND");
    probe_pool(FG_CONFIG(.workers = count + 1), &a, &b); /* more workers than CPUs */
    cr_assert_eq(a.count, count);
    cr_assert_eq(b.count, count);
}

/* A pool made in a bound worker's task, and a process forked there, get the
 * CPUs of the worker's pool, not the worker's one CPU. */
typedef struct nested_probe {
    int expect;     /* the process's CPU count */
    int pool_count; /* a nested unbound pool's worker mask */
    int child_ok;   /* the forked child's mask has `expect` CPUs */
} nested_probe;

static int probe_nested(void *arg)
{
    nested_probe *n = arg;
    mask_probe a, b;
    probe_pool(FG_CONFIG(.workers = 1, .bind = FG_BIND_NONE), &a, &b);
    n->pool_count = a.count;
    pid_t pid = fork();
    if (pid == 0) {
        cpu_set_t set;
        _exit(sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) == n->expect ? 0 : 1);
    }
    int status = -1;
    n->child_ok = pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                  WEXITSTATUS(status) == 0;
    return 0;
}

static int probe_noop(void *arg)
{
    (void)arg;
    return 0;
}

Test(policy, a_bound_worker_does_not_pass_its_cpu_to_pools_and_processes_it_makes)
{
    int count, cpu[CPU_SETSIZE];
    process_mask(&count, cpu, CPU_SETSIZE);
    fg_pool *p; /* the joins run on the bound worker, not in its seat */
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 1, .caller = FG_CALLER_WAIT)), 0);
    nested_probe n = { .expect = count, .pool_count = -1, .child_ok = 0 };
    mask_probe self;
    cr_assert_eq(fg_join(p, probe_mask, &self, probe_noop, NULL), 0);
    cr_assert_eq(self.count, 1); /* the worker itself is bound */
    cr_assert_eq(fg_join(p, probe_nested, &n, probe_noop, NULL), 0);
    fg_pool_destroy(p);
    cr_assert_eq(n.pool_count, count);
    cr_assert(n.child_ok);
}

/* ------------------------------------------------ the policies alone */

static uint64_t draw(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

/* Every built-in returns another worker; random covers all of them. */
Test(policy, builtins_return_other_workers)
{
    for (int kind = FG_VICTIM_RANDOM; kind <= FG_VICTIM_POWER_OF_TWO; kind++) {
        fg_pool *p;
        cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 5, .victim = kind)), 0);
        fg_victim_fn fn = fg__policy_builtin(kind);
        fg_victim_args a = { .thief = 2, .workers = 5, .last_victim = -1, .pool = p,
                             .state = fg__topology_near_order(p->topology, 2) };
        int seen[5] = { 0 };
        uint64_t rng = 88172645463325252ull;
        for (int i = 0; i < 4000; i++) {
            a.random = draw(&rng);
            a.attempt = i % 4;
            int v = fn(NULL, &a);
            cr_assert(v >= 0 && v < 5 && v != 2, "kind %d returned %d", kind, v);
            seen[v]++;
        }
        for (int v = 0; v < 5; v++)
            cr_assert(v == 2 || seen[v] > 0, "kind %d never chose %d", kind, v);
        fg_pool_destroy(p);
    }
}

Test(policy, round_robin_and_sticky_sequences)
{
    fg_victim_args a = { .thief = 1, .workers = 4, .last_victim = -1 };
    fg_victim_fn rr = fg__policy_builtin(FG_VICTIM_ROUND_ROBIN);
    static const int want[] = { 2, 3, 0, 2, 3, 0, 2 };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_assert_eq(rr(NULL, &a), want[i], "call %zu", i);
    fg_victim_fn sticky = fg__policy_builtin(FG_VICTIM_STICKY);
    a = (fg_victim_args){ .thief = 1, .workers = 4, .last_victim = 3, .random = 12345 };
    for (int i = 0; i < 5; i++)
        cr_assert_eq(sticky(NULL, &a), 3);
}

/* Near-first on a hand-made order: attempt k draws from the tier holding
 * position k. */
Test(policy, near_walks_tiers_nearest_first)
{
    fg__near_order *o = malloc(sizeof *o + 4 * sizeof(int));
    cr_assert_not_null(o);
    *o = (fg__near_order){ .count = 4, .ntiers = 3, .tier_end = { 1, 3, 4 } };
    memcpy(o->order, (int[]){ 1, 0, 3, 4 }, 4 * sizeof(int));
    fg_victim_fn near = fg__policy_builtin(FG_VICTIM_NEAR);
    fg_victim_args a = { .thief = 2, .workers = 5, .last_victim = -1, .state = o };
    uint64_t rng = 1;
    int mid[5] = { 0 };
    for (int i = 0; i < 400; i++) {
        a.random = draw(&rng);
        a.attempt = i;
        int v = near(NULL, &a);
        switch (i % 4) {
        case 0: cr_assert_eq(v, 1, "attempt %d", i); break;
        case 3: cr_assert_eq(v, 4, "attempt %d", i); break;
        default: cr_assert(v == 0 || v == 3, "attempt %d: %d", i, v); mid[v]++;
        }
    }
    cr_assert(mid[0] > 50 && mid[3] > 50, "tier {0, 3} not drawn at random: %d %d", mid[0],
              mid[3]);
    free(o);
}

/* The placement: each order is a permutation of the other workers, and
 * workers on the same processing unit come first. */
Test(policy, topology_orders_are_permutations)
{
    for (int workers = 1; workers <= 9; workers++) {
        fg__topology *t;
        cr_assert_eq(fg__topology_create(&t, workers), 0);
        if (t == NULL) {
            cr_assert_eq(fg__topology_near_order(NULL, 0), NULL);
            continue; /* built without hwloc: near-first is random */
        }
        for (int w = 0; w < workers; w++) {
            fg__near_order *o = fg__topology_near_order(t, w);
            cr_assert_eq(o->count, workers - 1);
            cr_assert_eq(o->ntiers > 0 ? o->tier_end[o->ntiers - 1] : 0, o->count);
            int seen[16] = { 0 };
            bool other_pu_seen = false;
            for (int i = 0; i < o->count; i++) {
                int v = o->order[i];
                cr_assert(v >= 0 && v < workers && v != w && seen[v]++ == 0);
                bool same = fg__topology_pu(t, v) == fg__topology_pu(t, w);
                cr_assert(!(same && other_pu_seen), "worker %d: a same-PU worker after another", w);
                other_pu_seen |= !same;
            }
        }
        fg__topology_destroy(t);
    }
}

/* ---------------------------------- power of two and queue lengths */

static int never_steal(void *ctx, fg_victim_args *a) { (void)ctx; (void)a; return -1; }

static void noop_execute(fg__job *job, fg__worker *w) { (void)job; (void)w; }

typedef struct holder {
    atomic_int index, release;
    fg__job jobs[5];
} holder;

/* On a worker, as fg_join's first half: queue 5 jobs on our own deque
 * (above the join's second half), wait, take them back. */
static int hold_jobs(void *arg)
{
    holder *h = arg;
    fg__worker *w = fg__tls_worker;
    for (int i = 0; i < 5; i++) {
        h->jobs[i].execute = noop_execute;
        fg__deque_push(&w->deque, &h->jobs[i]);
    }
    atomic_store(&h->index, w->index);
    while (!atomic_load(&h->release))
        sched_yield();
    for (int i = 0; i < 5; i++) /* ours only: fg_join's own half is below */
        fg__deque_take(&w->deque);
    return 0;
}

static int nothing(void *arg) { (void)arg; return 0; }

typedef struct bg_join { fg_pool *pool; holder *h; } bg_join;

static void *run_holder(void *arg)
{
    bg_join *b = arg;
    fg_join(b->pool, hold_jobs, b->h, nothing, NULL);
    return NULL;
}

Test(policy, power_of_two_prefers_the_longer_deque)
{
    fg_pool *p;
    /* No worker steals, so the held jobs stay where they are. */
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 3, .victim_fn = never_steal,
                                                  .deque = FG_DEQUE_CHASE_LEV)), 0);
    holder h = { .index = -1 };
    bg_join b = { p, &h };
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, run_holder, &b), 0);
    while (atomic_load(&h.index) < 0)
        sched_yield();
    int full = atomic_load(&h.index), thief = (full + 1) % 3;
    for (int w = 0; w < 3; w++)
        cr_assert_eq(fg_pool_queue_length(p, w), w == full ? 6 : 0, "worker %d", w); /* + b */
    cr_assert_eq(fg_pool_queue_length(p, 3), FG_EINVAL);
    cr_assert_eq(fg_pool_queue_length(p, -1), FG_EINVAL);
    cr_assert_eq(fg_pool_queue_length(NULL, 0), FG_EINVAL);
    /* Two uniform draws over {full, other}: the full one wins unless both
     * miss it, so 3/4 of the time (random alone: 1/2). */
    fg_victim_fn p2 = fg__policy_builtin(FG_VICTIM_POWER_OF_TWO);
    fg_victim_args a = { .thief = thief, .workers = 3, .last_victim = -1, .pool = p };
    uint64_t rng = 7;
    int chose_full = 0;
    for (int i = 0; i < 4000; i++) {
        a.random = draw(&rng);
        chose_full += p2(NULL, &a) == full;
    }
    cr_assert(chose_full > 2800 && chose_full < 3200, "chose the full deque %d of 4000", chose_full);
    atomic_store(&h.release, 1);
    pthread_join(t, NULL);
    fg_pool_destroy(p);
}

/* ------------------------------------- fork-join under every setting */

Test(policy, fib_under_every_policy_steal_idle_and_deque_setting)
{
    static const struct { unsigned spin, yield; } idle[] = {
        { 0, 0 }, { 1, 2 }, { 1, 0 }, { FG_SPIN_FOREVER, 0 },
    };
    for (int kind = FG_VICTIM_RANDOM; kind <= FG_VICTIM_POWER_OF_TWO; kind++)
        for (int steal = FG_STEAL_ONE; steal <= FG_STEAL_HALF; steal++)
            for (int deque = FG_DEQUE_CHASE_LEV; deque <= FG_DEQUE_SPLIT; deque++)
                for (size_t i = 0; i < sizeof idle / sizeof idle[0]; i++) {
                    fg_pool *p;
                    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 3, .victim = kind,
                                                .steal = steal, .deque = deque,
                                                .spin_rounds = idle[i].spin,
                                                .yield_rounds = idle[i].yield)), 0);
                    for (int rep = 0; rep < 3; rep++) {
                        fib_arg f = { .pool = p, .n = 21 };
                        cr_assert_eq(fib_task(&f), 0);
                        cr_assert_eq(f.result, fib_seq(21), "kind %d steal %d deque %d idle %zu",
                                     kind, steal, deque, i);
                    }
                    fg_pool_destroy(p);
                }
}
