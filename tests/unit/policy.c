/* tests/unit/policy.c: victim policies (runtime/policy.c), worker placement
 * (runtime/topology.c), idle, steal-amount and deque-kind settings and their
 * $FORAGE_POLICY / $FORAGE_IDLE / $FORAGE_STEAL / $FORAGE_DEQUE spellings
 * (runtime/config.c), and fork-join under every combination. */
#include <criterion/criterion.h>

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
    static const struct { const char *text; unsigned spin, yield; } good[] = {
        { "spin:64,yield:16", 64, 16 },
        { "yield:5", FG_SPIN_ROUNDS_DEFAULT, 5 },
        { "spin:0", 0, 0 },
        { "spin:forever", FG_SPIN_FOREVER, 0 },
        { "yield:3,spin:7", 7, 3 },
        { "", FG_SPIN_ROUNDS_DEFAULT, 0 },
    };
    fg__config c;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        setenv("FORAGE_IDLE", good[i].text, 1);
        cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), 0, "'%s'", good[i].text);
        cr_assert_eq(c.spin_rounds, good[i].spin, "'%s': spin %u", good[i].text, c.spin_rounds);
        cr_assert_eq(c.yield_rounds, good[i].yield, "'%s': yield %u", good[i].text,
                     c.yield_rounds);
    }
    static const char *const bad[] = { "spin", "spin:", "spin:-1", "spin:x", "nap:3",
                                       "spin:1,,yield:2", "yield:forever", "spin:1,",
                                       "spin:99999999999" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("FORAGE_IDLE", bad[i], 1);
        cr_assert_eq(resolve(FG_CONFIG(.workers = 1), &c), FG_EENV, "'%s'", bad[i]);
    }
    /* Fields set in the config win; spin 0 there means the default. */
    setenv("FORAGE_IDLE", "spin:1,yield:1", 1);
    cr_assert_eq(resolve(FG_CONFIG(.workers = 1, .yield_rounds = 9), &c), 0);
    cr_assert_eq(c.spin_rounds, FG_SPIN_ROUNDS_DEFAULT);
    cr_assert_eq(c.yield_rounds, 9);
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
