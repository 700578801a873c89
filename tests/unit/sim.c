/* sim.c: forage-sim (sim/): the loader's checks, work and span, and the
 * simulator on hand-made graphs with known answers, determinism, the
 * bounds on every golden recording, and the policies (docs/design/sim.md). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "analyze.h"
#include "calibrate.h"
#include "bound.h"
#include "engine.h"
#include "gen.h"
#include "graph.h"
#include "machine.h"
#include "policy.h"

#define ERRLEN 512

/* Flat, round costs: answers can be worked out by hand. */
static const sim_costs flat = { .steal = { 100, 100, 100, 100 }, .injector = 50, .yield = 1000,
                                .wake = 5000 };

static sim_builder built;

static void graph_from_builder(sim_graph *g)
{
    char err[ERRLEN] = "";
    cr_assert_eq(sim_builder_finish(&built), 0);
    int rc = sim_graph_parse(g, built.buf, built.len, err, sizeof err);
    cr_assert_eq(rc, 0, "%s", err);
    sim_builder_free(&built);
}

#define GRAPH(g, call) do { sim_builder_init(&built, 2, 0); cr_assert_eq((call), 0); \
                            graph_from_builder(g); } while (0)

static sim_options options(const char *policy, uint64_t seed, sim_costs costs)
{
    sim_options o = { .seed = seed, .costs = costs };
    char err[ERRLEN] = "";
    cr_assert_eq(sim_policy_resolve(&o, policy, NULL, NULL, err, sizeof err), 0, "%s", err);
    return o;
}

static void run(const sim_graph *g, const char *topology, int P, const sim_options *o,
                sim_result *r)
{
    char err[ERRLEN] = "";
    sim_machine m;
    cr_assert_eq(sim_machine_create(&m, topology, P, err, sizeof err), 0, "%s", err);
    cr_assert_eq(sim_run(g, &m, o, r, err, sizeof err), 0, "%s", err);
    sim_machine_free(&m);
}

static uint64_t tasks_total(const sim_result *r) { return r->total.tasks; }

/* ------------------------------------------------------------ known answers */

Test(sim, chain_makespan_is_the_total_work_at_any_P)
{
    sim_graph g;
    GRAPH(&g, sim_gen_chain(&built, 50, 1000));
    sim_analysis a;
    cr_assert_eq(sim_analyze(&g, 100, &a), 0);
    cr_assert_eq(a.work, 50000);
    cr_assert_eq(a.span, 50000);
    cr_assert_eq(a.burdened, 50000 + 49 * 100); /* every spawn pays the burden */
    cr_assert_eq(a.depth, 50);
    int Ps[] = { 1, 2, 8, 64 };
    for (int i = 0; i < 4; i++) {
        sim_options o = options("random", 7, flat);
        sim_result r;
        run(&g, "pack:1 l3:1 core:64 pu:1", Ps[i], &o, &r);
        cr_assert_eq(r.makespan, 50000, "P=%d: makespan %llu", Ps[i], (unsigned long long)r.makespan);
        cr_assert_eq(tasks_total(&r), 50);
        cr_assert_eq(r.worker[0].tasks, 50, "the owner runs every link itself");
        cr_assert_eq(r.total.steals, 0);
        sim_result_free(&r);
    }
    sim_graph_free(&g);
}

Test(sim, star_is_ceil_n_over_P_leaves_plus_steal_costs)
{
    sim_graph g;
    const uint64_t L = 100000;
    const uint32_t n = 64;
    GRAPH(&g, sim_gen_star(&built, n, L));
    int Ps[] = { 1, 4, 8, 16 };
    for (int i = 0; i < 4; i++) {
        int P = Ps[i];
        sim_options o = options("round-robin", 3, flat);
        sim_result r;
        run(&g, "pack:1 l3:1 core:16 pu:1", P, &o, &r);
        uint64_t rounds = (n + (uint64_t)P - 1) / (uint64_t)P;
        /* Round-robin finds worker 0 within one round: P - 1 attempts and
         * the injector before each leaf a thief runs. */
        uint64_t per_steal = (uint64_t)(P - 1) * flat.steal[0] + flat.injector;
        cr_assert_geq(r.makespan, rounds * L, "P=%d", P);
        cr_assert_leq(r.makespan, rounds * (L + per_steal), "P=%d: %llu", P,
                      (unsigned long long)r.makespan);
        if (P == 1)
            cr_assert_eq(r.makespan, n * L);
        cr_assert_eq(tasks_total(&r), n + 1);
        cr_assert_eq(r.total.steals, n + 1 - r.worker[0].tasks, "every other leaf was stolen");
        sim_result_free(&r);
    }
    sim_graph_free(&g);
}

Test(sim, balanced_tree_is_near_T1_over_P_plus_depth_steals)
{
    sim_graph g;
    const int d = 10;
    const uint64_t node = 200, leaf = 20000;
    GRAPH(&g, sim_gen_tree(&built, d, node, leaf));
    sim_analysis a;
    cr_assert_eq(sim_analyze(&g, 0, &a), 0);
    cr_assert_eq(a.work, ((1u << d) - 1) * node + (1u << d) * leaf);
    cr_assert_eq(a.span, d * node + leaf);
    cr_assert_eq(a.spawns, (1u << d) - 1);
    int Ps[] = { 2, 8, 16 };
    for (int i = 0; i < 3; i++) {
        int P = Ps[i];
        sim_options o = options("random", 11, flat);
        sim_result r;
        run(&g, "pack:1 l3:1 core:16 pu:1", P, &o, &r);
        uint64_t lower = a.work / (uint64_t)P;
        cr_assert_geq(r.makespan, lower);
        cr_assert_geq(r.makespan, a.span);
        /* Greedy plus, per level, a round of failed attempts to find work. */
        uint64_t upper = lower + a.span + (uint64_t)d * (uint64_t)P * flat.steal[0];
        cr_assert_leq(r.makespan, upper, "P=%d: makespan %llu > %llu", P,
                      (unsigned long long)r.makespan, (unsigned long long)upper);
        cr_assert_eq(tasks_total(&r), g.n);
        sim_result_free(&r);
    }
    sim_graph_free(&g);
}

/* Worker 0 (socket 0) holds many small leaves; a remote attempt costs 50
 * times a near one.  Near-first lets socket 0's thieves find them first. */
Test(sim, near_first_wins_on_two_sockets)
{
    sim_graph g;
    GRAPH(&g, sim_gen_star(&built, 2000, 1000));
    sim_costs far = { .steal = { 20, 40, 80, 2000 }, .injector = 50, .yield = 1000, .wake = 5000 };
    for (uint64_t seed = 1; seed <= 3; seed++) {
        sim_result near, rnd;
        sim_options on = options("near", seed, far), orand = options("random", seed, far);
        run(&g, "pack:2 l3:1 core:8 pu:1", 16, &on, &near);
        run(&g, "pack:2 l3:1 core:8 pu:1", 16, &orand, &rnd);
        double fn = (double)near.steals_by_tier[SIM_REMOTE] / (double)near.total.steals;
        double fr = (double)rnd.steals_by_tier[SIM_REMOTE] / (double)rnd.total.steals;
        cr_assert_lt(near.makespan * 20, rnd.makespan * 19, "seed %llu: near %llu, random %llu",
                     (unsigned long long)seed, (unsigned long long)near.makespan,
                     (unsigned long long)rnd.makespan);
        cr_assert_lt(fn, fr, "remote fraction: near %.3f, random %.3f", fn, fr);
        sim_result_free(&near);
        sim_result_free(&rnd);
    }
    sim_graph_free(&g);
}

/* Always the same victim (worker 0; worker 0 itself asks 1). */
static int same_victim(void *ctx, fg_victim_args *a)
{
    (void)ctx;
    return a->thief == 0 ? 1 : 0;
}

Test(sim, same_victim_policy_is_slower_than_random_at_64)
{
    sim_graph g;
    GRAPH(&g, sim_gen_fib(&built, 20, 100, 100));
    sim_options bad = options(NULL, 9, sim_costs_default), rnd = options("random", 9, sim_costs_default);
    bad.victim_fn = same_victim;
    bad.policy_name = "same-victim";
    sim_result rb, rr;
    run(&g, "pack:4 l3:2 core:8 pu:1", 64, &bad, &rb);
    run(&g, "pack:4 l3:2 core:8 pu:1", 64, &rnd, &rr);
    cr_assert_gt(rb.makespan, rr.makespan, "same victim %llu, random %llu",
                 (unsigned long long)rb.makespan, (unsigned long long)rr.makespan);
    sim_result_free(&rb);
    sim_result_free(&rr);
    sim_graph_free(&g);
}

/* The runtime's ctx stack (--share request): b1 is shared at once (a
 * fresh stack shares its first spawn) and stolen; b2 stays private while
 * its owner runs a (no spawn in 100 us), so the thief's requests go
 * unanswered and the owner runs b2 itself at its sync.  With --share
 * always the thief takes b2 too. */
Test(sim, share_request_keeps_b_private_until_the_owner_spawns_again)
{
    sim_graph g;
    sim_builder_init(&built, 2, 0);
    uint32_t root = sim_builder_add(&built, SIM_NONE, 0, 0, 0, 0, 0);
    sim_builder_add(&built, root, 2, 0, 1000, 0, 0);                /* b1 */
    sim_builder_add(&built, root, 2, 0, 1000, 0, 0);                /* b2 */
    sim_builder_add(&built, root, 1, SIM_FLAG_CALL, 100000, 0, 0);  /* a */
    graph_from_builder(&g);
    sim_options o = options("random", 1, flat);
    o.share = SIM_SHARE_REQUEST;
    sim_result r;
    run(&g, "pack:1 l3:1 core:2 pu:1", 2, &o, &r);
    cr_assert_eq(r.makespan, 101000, "makespan %llu", (unsigned long long)r.makespan);
    cr_assert_eq(r.worker[1].tasks, 1);
    cr_assert_eq(r.total.steals, 1);
    cr_assert_eq(r.worker[1].sleeps, 1, "the thief parks: nothing is shared");
    sim_result_free(&r);
    o.share = SIM_SHARE_ALWAYS;
    run(&g, "pack:1 l3:1 core:2 pu:1", 2, &o, &r);
    cr_assert_eq(r.makespan, 100000, "makespan %llu", (unsigned long long)r.makespan);
    cr_assert_eq(r.worker[1].tasks, 2);
    cr_assert_eq(r.total.steals, 2);
    sim_result_free(&r);
    sim_graph_free(&g);
}

/* ------------------------------------------------------------ determinism */

static char *report(const sim_graph *g, const char *policy, uint64_t seed, int P)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    sim_options o = options(policy, seed, sim_costs_default);
    sim_result r;
    char err[ERRLEN];
    sim_machine m;
    cr_assert_eq(sim_machine_create(&m, "pack:4 l3:2 core:8 pu:1", P, err, sizeof err), 0);
    cr_assert_eq(sim_run(g, &m, &o, &r, err, sizeof err), 0, "%s", err);
    sim_result_print(f, g, &m, &o, &r, 0, 0, 1);
    sim_result_free(&r);
    sim_machine_free(&m);
    fclose(f);
    return text;
}

Test(sim, same_inputs_and_seed_give_the_same_bytes)
{
    sim_graph g;
    GRAPH(&g, sim_gen_fib(&built, 18, 100, 50));
    const char *policies[] = { "random", "round-robin", "sticky", "near", "power-of-two" };
    for (int i = 0; i < 5; i++) {
        char *a = report(&g, policies[i], 42, 64), *b = report(&g, policies[i], 42, 64);
        cr_assert_str_eq(a, b, "%s", policies[i]);
        free(a);
        free(b);
    }
    sim_graph_free(&g);
}

/* ------------------------------------------------------------------ bounds */

/* Every run of every graph below, on every policy, steal amount, P and
 * machine, within max(T1/P, T∞) <= makespan <= T1/P + SIM_BOUND_C x T∞_B
 * (bound.h; docs/design/sim.md, "The bounds").  same-victim is not greedy
 * (all thieves queue on one victim while others hold work) and is held to
 * the lower bound only. */
static const char *const bound_policies[] = { "random", "round-robin", "sticky", "near",
                                              "power-of-two", "busiest-of-3", "same-victim" };
static const int bound_Ps[] = { 1, 2, 4, 8, 64, 256 };
static const char *const bound_topologies[] = {
    "pack:1 l3:1 core:256 pu:1", /* flat: one socket, one shared L3 */
    "pack:4 l3:2 core:8 pu:1",   /* 4 sockets, 2 L3s each: P = 64 reaches all, 256 wraps */
};
enum { BOUND_POLICIES = 7, BOUND_PS = 6, BOUND_TOPOLOGIES = 2 };

static sim_machine bound_machines[BOUND_TOPOLOGIES][BOUND_PS];

static sim_options bound_options_idle(const char *policy, int half, const char *idle)
{
    sim_options o = { .seed = 1, .costs = sim_costs_default };
    char err[ERRLEN] = "";
    if (strcmp(policy, "busiest-of-3") == 0)
        cr_assert_eq(sim_policy_load(&o, FG_SIM_POLICY_LIB ":busiest_of_3", err, sizeof err), 0,
                     "%s", err);
    if (strcmp(policy, "same-victim") == 0) {
        o.victim_fn = same_victim;
        o.policy_name = "same-victim";
    }
    const char *builtin = o.victim_fn == NULL ? policy : NULL;
    cr_assert_eq(sim_policy_resolve(&o, builtin, idle, half ? "half" : "one", err, sizeof err), 0,
                 "%s", err);
    return o;
}

static sim_options bound_options(const char *policy, int half)
{
    return bound_options_idle(policy, half, NULL);
}

/* Every run of g held to both bounds; the largest c a greedy run needed.
 * Each run twice: --share always (greedy) and --share request (the
 * runtime's ctx stack: a private unit waits for its owner's next spawn
 * while thieves idle, so it is not greedy and held to the lower bound). */
static double check_bounds(const sim_graph *g, const char *what)
{
    double worst = 0, worst_request = 0;
    for (int share = 0; share < 2; share++)
    for (int p = 0; p < BOUND_POLICIES; p++)
        for (int half = 0; half < 2; half++)
            for (int t = 0; t < BOUND_TOPOLOGIES; t++)
                for (int i = 0; i < BOUND_PS; i++) {
                    const sim_machine *m = &bound_machines[t][i];
                    sim_options o = bound_options(bound_policies[p], half);
                    o.share = share ? SIM_SHARE_REQUEST : SIM_SHARE_ALWAYS;
                    sim_bounds b;
                    sim_result r;
                    char err[ERRLEN] = "";
                    cr_assert_eq(sim_bounds_of(g, m, &o.costs, &b), 0);
                    cr_assert_eq(sim_run(g, m, &o, &r, err, sizeof err), 0, "%s", err);
                    char run[256];
                    snprintf(run, sizeof run, "%s, %s steal-%s share-%s, %s, P=%d: makespan %llu",
                             what, bound_policies[p], half ? "half" : "one",
                             share ? "request" : "always", bound_topologies[t],
                             bound_Ps[i], (unsigned long long)r.makespan);
                    cr_assert_geq(r.makespan, b.lower, "%s < lower bound %llu", run,
                                  (unsigned long long)b.lower);
                    cr_assert_eq(r.total.tasks, g->n, "%s: every unit runs once", run);
                    cr_assert_eq(r.total.busy_ns, b.work, "%s: all the work, once", run);
                    if (share && strcmp(bound_policies[p], "same-victim") != 0) {
                        double c = sim_bounds_needed_c(&b, r.makespan);
                        worst_request = c > worst_request ? c : worst_request;
                    }
                    if (!share && strcmp(bound_policies[p], "same-victim") != 0) {
                        cr_assert_leq(r.makespan, b.upper,
                                      "%s > upper bound %llu = T1/P + %d x %llu (needs c = %.3f)",
                                      run, (unsigned long long)b.upper, SIM_BOUND_C,
                                      (unsigned long long)b.burdened,
                                      sim_bounds_needed_c(&b, r.makespan));
                        double c = sim_bounds_needed_c(&b, r.makespan);
                        worst = c > worst ? c : worst;
                    }
                    sim_result_free(&r);
                }
    cr_log_info("%s: largest c needed %.4f (bound c %d); with --share request %.4f", what, worst,
                SIM_BOUND_C, worst_request);
    return worst;
}

static void bound_machines_create(void)
{
    char err[ERRLEN] = "";
    for (int t = 0; t < BOUND_TOPOLOGIES; t++)
        for (int i = 0; i < BOUND_PS; i++)
            cr_assert_eq(sim_machine_create(&bound_machines[t][i], bound_topologies[t], bound_Ps[i],
                                            err, sizeof err), 0, "%s", err);
}

static void bound_machines_free(void)
{
    for (int t = 0; t < BOUND_TOPOLOGIES; t++)
        for (int i = 0; i < BOUND_PS; i++)
            sim_machine_free(&bound_machines[t][i]);
}

/* Three roots (through the injector one after another), each a star of 30
 * leaves synced at its end. */
static int gen_roots(sim_builder *b)
{
    for (int r = 0; r < 3; r++) {
        uint32_t root = sim_builder_add(b, SIM_NONE, 0, 0, 1000, 0, 0);
        for (int i = 0; i < 30; i++)
            sim_builder_add(b, root, 3, 0, 5000 + 100 * (uint64_t)i, 10 * (uint64_t)i, 1000);
    }
    return b->failed ? SIM_ENOMEM : sim_builder_finish(b);
}

Test(sim, every_run_is_within_both_bounds_on_hand_made_graphs, .init = bound_machines_create,
     .fini = bound_machines_free, .timeout = 240)
{
    sim_graph g;
    GRAPH(&g, sim_gen_chain(&built, 50, 1000));
    check_bounds(&g, "chain(50)");
    sim_graph_free(&g);
    GRAPH(&g, sim_gen_star(&built, 300, 700));
    check_bounds(&g, "star(300)");
    sim_graph_free(&g);
    GRAPH(&g, sim_gen_tree(&built, 8, 200, 20000));
    check_bounds(&g, "tree(8)");
    sim_graph_free(&g);
    GRAPH(&g, sim_gen_fib(&built, 16, 80, 40));
    check_bounds(&g, "fib(16)");
    sim_graph_free(&g);
    GRAPH(&g, gen_roots(&built));
    check_bounds(&g, "3 roots");
    sim_graph_free(&g);
}

/* The recordings committed in tests/record/ (real runs: fib, nqueens and
 * UTS by the record-* programs, the seed workload by record-seed-one). */
Test(sim, every_run_is_within_both_bounds_on_every_recording, .init = bound_machines_create,
     .fini = bound_machines_free, .timeout = 240)
{
    DIR *dir = opendir(FG_SIM_RECORD_DIR);
    cr_assert(dir != NULL, "%s", FG_SIM_RECORD_DIR);
    int seen = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".rec") != 0)
            continue;
        char path[1024], err[ERRLEN] = "";
        snprintf(path, sizeof path, "%s/%s", FG_SIM_RECORD_DIR, e->d_name);
        sim_graph g;
        cr_assert_eq(sim_graph_load(&g, path, err, sizeof err), 0, "%s: %s", path, err);
        check_bounds(&g, e->d_name);
        sim_graph_free(&g);
        seen++;
    }
    closedir(dir);
    cr_assert_eq(seen, 5, "fib-16, nqueens-8, nqueens-10, seed-one and uts-group-28: found %d",
                 seen);
}

/* Runs of g at P = 4 and 8 on the flat machine, every greedy policy, seeds
 * 1-5, under this idle ladder (NULL: the default): how many end above the
 * upper bound. */
static int outside_at_4_and_8(const sim_graph *g, const char *idle)
{
    static const int Ps[] = { 4, 8 };
    int outside = 0;
    for (int i = 0; i < 2; i++) {
        sim_machine m;
        char err[ERRLEN] = "";
        cr_assert_eq(sim_machine_create(&m, bound_topologies[0], Ps[i], err, sizeof err), 0, "%s",
                     err);
        for (int p = 0; p < BOUND_POLICIES - 1; p++) /* not same-victim */
            for (uint64_t seed = 1; seed <= 5; seed++) {
                sim_options o = bound_options_idle(bound_policies[p], 0, idle);
                o.seed = seed;
                sim_bounds b;
                sim_result r;
                cr_assert_eq(sim_bounds_of(g, &m, &o.costs, &b), 0);
                cr_assert_eq(sim_run(g, &m, &o, &r, err, sizeof err), 0, "%s", err);
                cr_assert_geq(r.makespan, b.lower);
                if (r.makespan > b.upper)
                    cr_log_info("%s, %s, P=%d, seed %llu: needs c = %.3f", idle ? idle : "default",
                                bound_policies[p], Ps[i], (unsigned long long)seed,
                                sim_bounds_needed_c(&b, r.makespan));
                outside += r.makespan > b.upper;
                sim_result_free(&r);
            }
        sim_machine_free(&m);
    }
    return outside;
}

/* The lab's failing case (docs/policies.md, "The bounds"): nqueens by
 * fg_join at P = 4 and 8.  With the rounds-only ladder of before 0.6.0
 * (spin:32: at P = 8 about 25 us) a worker waiting at a sync parks while
 * its stolen child runs and is woken a wake-up (60 us) after the child
 * ends, nested waits one after another on the critical path: 7 of these
 * 60 runs end above T1/P + T∞_B.  The default ladder also spins 100 us,
 * longer than a wake-up, and every run is within the bound. */
Test(sim, nqueens_at_4_and_8_is_within_the_bound_with_the_default_idle_ladder)
{
    sim_graph g;
    char err[ERRLEN] = "";
    cr_assert_eq(sim_graph_load(&g, FG_SIM_RECORD_DIR "/nqueens-10.rec", err, sizeof err), 0,
                 "%s", err);
    cr_assert_eq(outside_at_4_and_8(&g, "spin:32,wait:0us"), 7);
    cr_assert_eq(outside_at_4_and_8(&g, NULL), 0);
    sim_graph_free(&g);
}

/* -------------------------------------------------------- the user policy */

static uint64_t lengths_seen;

static int longest_queue(void *ctx, fg_victim_args *a)
{
    (void)ctx;
    int best = a->thief == 0 ? 1 : 0, len = -1;
    for (int v = 0; v < a->workers; v++)
        if (v != a->thief && fg_pool_queue_length(a->pool, v) > len) {
            best = v;
            len = fg_pool_queue_length(a->pool, v);
        }
    lengths_seen += (uint64_t)len;
    return best;
}

Test(sim, queue_length_answers_from_the_simulated_deques)
{
    sim_graph g;
    GRAPH(&g, sim_gen_fib(&built, 16, 100, 100));
    sim_options o = options(NULL, 1, flat);
    o.victim_fn = longest_queue;
    o.policy_name = "longest-queue";
    sim_result r;
    lengths_seen = 0;
    run(&g, "pack:1 l3:1 core:8 pu:1", 8, &o, &r);
    cr_assert_gt(lengths_seen, 0);
    cr_assert_gt(r.total.steals, 0);
    /* With the longest queue always chosen, a steal fails only when every
     * deque was empty at the choice or emptied during the attempt. */
    cr_assert_eq(r.total.bad_choices, 0);
    sim_result_free(&r);
    sim_graph_free(&g);
}

Test(sim, loadable_policy_runs_unchanged)
{
    sim_graph g;
    GRAPH(&g, sim_gen_fib(&built, 16, 100, 100));
    sim_options o = { .seed = 1, .costs = flat };
    char err[ERRLEN] = "";
    cr_assert_eq(sim_policy_load(&o, FG_SIM_POLICY_LIB ":busiest_of_3", err, sizeof err), 0, "%s", err);
    cr_assert_eq(sim_policy_resolve(&o, NULL, NULL, NULL, err, sizeof err), 0, "%s", err);
    sim_result r;
    run(&g, "pack:1 l3:1 core:8 pu:1", 8, &o, &r);
    cr_assert_eq(r.total.tasks, g.n);
    cr_assert_gt(r.total.steals, 0);
    cr_assert_eq(r.total.bad_choices, 0);
    sim_result_free(&r);
    sim_graph_free(&g);
    o.victim_fn = NULL;
    cr_assert_eq(sim_policy_load(&o, FG_SIM_POLICY_LIB ":no_such_symbol", err, sizeof err), SIM_EINVAL);
    cr_assert(strstr(err, "no_such_symbol") != NULL, "%s", err);
    cr_assert_eq(sim_policy_load(&o, "nowhere.so", err, sizeof err), SIM_EINVAL);
    cr_assert(strstr(err, "LIB.so:SYMBOL") != NULL, "%s", err);
}

/* -------------------------------------------------------------- bad input */

static uint8_t *sample(size_t *len)
{
    sim_builder_init(&built, 2, 12345);
    cr_assert_eq(sim_gen_fib(&built, 5, 100, 50), 0);
    *len = built.len;
    uint8_t *copy = malloc(built.len);
    memcpy(copy, built.buf, built.len);
    sim_builder_free(&built);
    return copy;
}

static void expect_format_error(const uint8_t *buf, size_t len, const char *needle, const char *what)
{
    sim_graph g;
    char err[ERRLEN] = "";
    int rc = sim_graph_parse(&g, buf, len, err, sizeof err);
    cr_assert_eq(rc, SIM_EFORMAT, "%s: rc %d", what, rc);
    cr_assert(strncmp(err, "byte offset ", 12) == 0, "%s: %s", what, err);
    if (needle != NULL)
        cr_assert(strstr(err, needle) != NULL, "%s: \"%s\" lacks \"%s\"", what, err, needle);
}

Test(sim, every_truncation_is_refused_with_its_offset)
{
    size_t len;
    uint8_t *buf = sample(&len);
    sim_graph g;
    char err[ERRLEN];
    cr_assert_eq(sim_graph_parse(&g, buf, len, err, sizeof err), 0, "%s", err);
    cr_assert_eq(g.n, 15);
    cr_assert_eq(g.wall_ns, 12345);
    sim_graph_free(&g);
    for (size_t cut = 0; cut < len; cut++) {
        char what[64], want[64];
        snprintf(what, sizeof what, "cut at %zu", cut);
        snprintf(want, sizeof want, "byte offset %zu: truncated", cut);
        uint8_t *copy = malloc(cut + 1); /* exactly cut bytes for ASan, +1 for malloc(0) */
        memcpy(copy, buf, cut);
        expect_format_error(copy, cut, want, what);
        free(copy);
    }
    free(buf);
}

Test(sim, every_bit_flip_is_refused)
{
    size_t len;
    uint8_t *buf = sample(&len);
    for (size_t bit = 0; bit < 8 * len; bit++) {
        char what[64];
        snprintf(what, sizeof what, "bit %zu (byte %zu) flipped", bit, bit / 8);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        expect_format_error(buf, len, NULL, what);
        buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    free(buf);
}

/* Rewrite both CRCs after an edit, so the field checks are what refuses. */
static void recrc(uint8_t *buf, size_t len)
{
    sim_builder b = { .buf = buf, .len = len, .n = (uint32_t)((len - 64) / 32) };
    cr_assert_eq(sim_builder_finish(&b), 0);
}

Test(sim, wrong_fields_are_named_with_their_offsets)
{
    size_t len;
    uint8_t *buf = sample(&len), *copy = malloc(len + 32);
    struct { size_t at; uint8_t value; const char *want; } rows[] = {
        { 0, 'X', "byte offset 0: not a forage recording" },
        { 8, 2, "byte offset 8: format version 2" },
        { 12, 65, "byte offset 12: header size 65" },
        { 16, 31, "byte offset 16: record size 31" },
        { 52, 1, "byte offset 52: reserved" },
        { 32, 1, "byte offset 32: partial recording: 1 units were lost" },
        { 48, 1, "byte offset 48: partial recording" },
        { 64 + 32 + 0, 7, "byte offset 96: record 1: parent 7 is not an earlier record" },
        { 64 + 32 + 4, 9, "byte offset 100: record 1: unknown kind 9" },
        { 64 + 32 + 5, 4, "byte offset 101: record 1: unknown flags 0x4" },
        { 64 + 32 + 6, 1, "byte offset 102: record 1: reserved bytes" },
        { 64 + 32 + 15, 1, "byte offset 104: record 1: work" },
        { 64 + 32 + 16, 200, "byte offset 112: record 1: spawn_at 200 is after sync_at 50" },
        { 64 + 32 + 24, 201, "byte offset 120: record 1: sync_at 201 is past its parent's work 100" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        memcpy(copy, buf, len);
        copy[rows[i].at] = rows[i].value;
        if (rows[i].at >= 8) /* keep the magic's row about the magic */
            recrc(copy, len);
        expect_format_error(copy, len, rows[i].want, rows[i].want);
    }
    memcpy(copy, buf, len);
    copy[20] ^= 4; /* the recorded run's workers: only the header CRC sees it */
    expect_format_error(copy, len, "byte offset 60: header CRC-32", "workers bit");
    memcpy(copy, buf, len);
    copy[64 + 8] ^= 1; /* a root's work: plausible, only the CRC sees it */
    expect_format_error(copy, len, "byte offset 56: records CRC-32", "work bit");
    memcpy(copy, buf, len + 0);
    memset(copy + len, 0, 32);
    expect_format_error(copy, len + 32, "bytes after the last", "trailing record");
    free(copy);
    free(buf);
}

Test(sim, bad_options_are_refused_clearly)
{
    char err[ERRLEN] = "";
    sim_machine m;
    cr_assert_eq(sim_machine_create(&m, "pack:1 core:4 pu:1", 0, err, sizeof err), SIM_EINVAL);
    cr_assert_str_eq(err, "--workers 0: want 1 to 1024");
    cr_assert_eq(sim_machine_create(&m, "pack:1 core:4 pu:1", 1025, err, sizeof err), SIM_EINVAL);
    cr_assert_str_eq(err, "--workers 1025: want 1 to 1024");
    cr_assert_eq(sim_machine_create(&m, "pack:banana", 4, err, sizeof err), SIM_EINVAL);
    cr_assert(strncmp(err, "bad topology \"pack:banana\"", 26) == 0, "%s", err);
    cr_assert_eq(sim_machine_create(&m, "/nonexistent/machine.xml", 4, err, sizeof err), SIM_EINVAL);
    cr_assert(strstr(err, "machine.xml") != NULL, "%s", err);
    sim_options o = { 0 };
    cr_assert_eq(sim_policy_resolve(&o, "fastest", NULL, NULL, err, sizeof err), SIM_EINVAL);
    cr_assert(strncmp(err, "--policy: ", 10) == 0 && strstr(err, "fastest") != NULL, "%s", err);
    cr_assert_eq(sim_policy_resolve(&o, "random", "spin:x", NULL, err, sizeof err), SIM_EINVAL);
    cr_assert(strncmp(err, "--idle: ", 8) == 0, "%s", err);
    cr_assert_eq(sim_policy_resolve(&o, "random", NULL, "all", err, sizeof err), SIM_EINVAL);
    cr_assert(strncmp(err, "--steal: ", 9) == 0, "%s", err);
    sim_graph g;
    GRAPH(&g, sim_gen_star(&built, 4, 10));
    cr_assert_eq(sim_machine_create(&m, "pack:1 core:4 pu:1", 4, err, sizeof err), 0, "%s", err);
    sim_options zero = options("random", 1, flat);
    zero.costs.injector = 0;
    sim_result r;
    cr_assert_eq(sim_run(&g, &m, &zero, &r, err, sizeof err), SIM_EINVAL);
    cr_assert_str_eq(err, "--costs injector:0: a steal round must take time; give 1 ns or more");
    sim_machine_free(&m);
    sim_graph_free(&g);
}

/* ------------------------------------------------------------ --costs */

Test(sim, costs_take_any_subset_of_names)
{
    char err[ERRLEN] = "";
    sim_costs c = sim_costs_default;
    cr_assert_eq(sim_costs_parse(&c, "core:10,remote:999", err, sizeof err), 0, "%s", err);
    cr_assert_eq(c.steal[SIM_CORE], 10);
    cr_assert_eq(c.steal[SIM_CACHE], sim_costs_default.steal[SIM_CACHE]);
    cr_assert_eq(c.steal[SIM_REMOTE], 999);
    cr_assert_eq(c.wake, sim_costs_default.wake);
    cr_assert_eq(sim_costs_parse(&c, "wake:0,yield:0,injector:1,package:17592186044416", err,
                                 sizeof err), 0, "%s", err);
    cr_assert_eq(c.wake, 0);
    cr_assert_eq(c.yield, 0);
    cr_assert_eq(c.injector, 1);
    cr_assert_eq(c.steal[SIM_PACKAGE], SIM_WORK_MAX);
}

/* Each bad --costs: refused, the costs untouched, and the message names
 * the option, the whole string, what is wrong and the bad item. */
Test(sim, bad_costs_are_refused_with_the_item_and_the_reason)
{
    static const struct { const char *spec, *why, *item; } rows[] = {
        { "", "nothing given", "\"\"" },
        { "far:3", "an unknown cost name", "\"far:3\"" },
        { "core:10,far:3", "an unknown cost name", "\"far:3\"" },
        { "CORE:10", "an unknown cost name", "\"CORE:10\"" },
        { " core:10", "an unknown cost name", "\" core:10\"" },
        { "core", "no \":ns\" after the name", "\"core\"" },
        { "core=10", "an unknown cost name", "\"core=10\"" },
        { "core,cache:1", "no \":ns\" after the name", "\"core\"" },
        { "core:", "not a whole number", "\"core:\"" },
        { "core:-1", "not a whole number", "\"core:-1\"" },
        { "core:+1", "not a whole number", "\"core:+1\"" },
        { "core:1x", "not a whole number", "\"core:1x\"" },
        { "core:1.5", "not a whole number", "\"core:1.5\"" },
        { "core:1 ", "not a whole number", "\"core:1 \"" },
        { "core:0x10", "not a whole number", "\"core:0x10\"" },
        { "core:17592186044417", "above 2^44 ns", "\"core:17592186044417\"" },
        { "wake:99999999999999999999999", "above 2^44 ns", "\"wake:99999999999999999999999\"" },
        { "core:1,,cache:2", "an empty item", "\"\"" },
        { "core:1,", "an empty item", "\"\"" },
        { ",core:1", "an empty item", "\"\"" },
        { "core:1,core:2", "given twice", "\"core:2\"" },
        { "injector:0", "injector:0 (a steal round must take time", "\"injector:0\"" },
        { "core:1:2", "not a whole number", "\"core:1:2\"" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char err[ERRLEN] = "", head[128], at[128];
        sim_costs c = sim_costs_default;
        cr_assert_eq(sim_costs_parse(&c, rows[i].spec, err, sizeof err), SIM_EINVAL, "\"%s\"",
                     rows[i].spec);
        cr_assert_eq(memcmp(&c, &sim_costs_default, sizeof c), 0, "\"%s\" changed the costs",
                     rows[i].spec);
        snprintf(head, sizeof head, "--costs \"%s\": ", rows[i].spec);
        snprintf(at, sizeof at, " at %s; want name:ns items", rows[i].item);
        cr_assert(strncmp(err, head, strlen(head)) == 0, "%s", err);
        cr_assert(strstr(err, rows[i].why) != NULL, "\"%s\": %s", rows[i].spec, err);
        cr_assert(strstr(err, at) != NULL, "\"%s\": %s lacks %s", rows[i].spec, err, at);
        cr_assert(strstr(err, "core, cache, package, remote, injector, yield, wake") != NULL,
                  "%s", err);
    }
}

/* ---------------------------------------------------------- calibrate */

/* The output of `forage-sim calibrate` (sim_calibrate), once per process. */
static char *calibration(int *rc)
{
    static char *text;
    static int code;
    if (text == NULL) {
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        code = sim_calibrate(f);
        fclose(f);
    }
    *rc = code;
    return text;
}

/* Its --costs line's value, or NULL. */
static char *calibrated_costs(void)
{
    int rc;
    const char *text = calibration(&rc), *line = strstr(text, "\n--costs ");
    if (line == NULL)
        return NULL;
    line += strlen("\n--costs ");
    return strndup(line, strcspn(line, "\n"));
}

static int pus_here(void)
{
    sim_machine m;
    char err[ERRLEN];
    cr_assert_eq(sim_machine_create(&m, "this", 1, err, sizeof err), 0, "%s", err);
    int pus = m.pus;
    sim_machine_free(&m);
    return pus;
}

Test(sim, calibrate_prints_every_cost_as_costs_takes_it, .timeout = 120)
{
    int rc;
    const char *text = calibration(&rc);
    if (pus_here() < 2) { /* the one answer a 1-PU machine gets */
        cr_assert_eq(rc, 1);
        cr_assert(strstr(text, "two are needed") != NULL, "%s", text);
        return;
    }
    cr_assert_eq(rc, 0, "%s", text);
    char *spec = calibrated_costs();
    cr_assert(spec != NULL, "no --costs line in:\n%s", text);
    /* Every cost, each once, in the parser's order, each a whole number. */
    static const char *const names[] = { "core", "cache", "package", "remote", "injector",
                                         "yield", "wake" };
    const char *p = spec;
    for (int i = 0; i < 7; i++) {
        size_t n = strlen(names[i]);
        cr_assert(strncmp(p, names[i], n) == 0 && p[n] == ':', "item %d of \"%s\"", i, spec);
        p += n + 1;
        size_t digits = strspn(p, "0123456789");
        cr_assert_gt(digits, 0, "\"%s\"", spec);
        p += digits;
        cr_assert_eq(*p, i < 6 ? ',' : '\0', "\"%s\"", spec);
        p += i < 6;
    }
    char err[ERRLEN] = "";
    sim_costs c = sim_costs_default;
    cr_assert_eq(sim_costs_parse(&c, spec, err, sizeof err), 0, "%s", err);
    /* The tiers keep calibrate's ratios 0.5 : 1 : 2 : 5 (rounded). */
    double cache = (double)c.steal[SIM_CACHE];
    cr_assert_leq(llabs((long long)c.steal[SIM_CORE] * 2 - (long long)cache), 1, "%s", spec);
    cr_assert_leq(llabs((long long)c.steal[SIM_PACKAGE] - 2 * (long long)cache), 1, "%s", spec);
    cr_assert_leq(llabs((long long)c.steal[SIM_REMOTE] - 5 * (long long)cache), 3, "%s", spec);
    cr_assert_gt(c.wake, 0, "%s", spec);
    free(spec);
}

/* Its line fed back: `forage-sim run FILE --costs <line>` runs with
 * exactly those costs (the report's `costs` line). */
Test(sim, calibrate_output_round_trips_through_run_costs, .timeout = 120)
{
    if (pus_here() < 2) {
        int rc;
        cr_assert_eq(calibration(&rc) != NULL && rc == 1, 1);
        return;
    }
    char *spec = calibrated_costs();
    cr_assert(spec != NULL);
    char cmd[2048], out[4096] = "";
    snprintf(cmd, sizeof cmd, "'%s' run '%s/fib-16.rec' --workers 2 --policy random --costs '%s'",
             FG_SIM_PROGRAM, FG_SIM_RECORD_DIR, spec);
    FILE *f = popen(cmd, "r");
    cr_assert(f != NULL);
    size_t got = fread(out, 1, sizeof out - 1, f);
    out[got] = '\0';
    cr_assert_eq(pclose(f), 0, "%s\n%s", cmd, out);
    char want[512];
    snprintf(want, sizeof want, "\ncosts     %s ns\n", spec);
    cr_assert(strstr(out, want) != NULL, "%s lacks\n%s", out, want);
    cr_assert(strstr(out, "within both") != NULL, "%s", out);
    free(spec);
}

/* The command line refuses bad --costs and a stray calibrate argument
 * with exit status 2 and the message on stderr. */
Test(sim, command_line_refuses_bad_costs)
{
    static const struct { const char *args, *want; } rows[] = {
        { "run '" FG_SIM_RECORD_DIR "/fib-16.rec' --costs far:3",
          "forage-sim: bad option: --costs \"far:3\": an unknown cost name at \"far:3\"" },
        { "run '" FG_SIM_RECORD_DIR "/fib-16.rec' --costs core:1,",
          "forage-sim: bad option: --costs \"core:1,\": an empty item at \"\"" },
        { "run '" FG_SIM_RECORD_DIR "/fib-16.rec' --costs injector:0",
          "forage-sim: bad option: --costs \"injector:0\": injector:0 (a steal round" },
        { "calibrate now", "usage: forage-sim analyze" },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char cmd[2048], out[4096] = "";
        snprintf(cmd, sizeof cmd, "'%s' %s 2>&1 >/dev/null", FG_SIM_PROGRAM, rows[i].args);
        FILE *f = popen(cmd, "r");
        cr_assert(f != NULL);
        size_t got = fread(out, 1, sizeof out - 1, f);
        out[got] = '\0';
        int status = pclose(f);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2, "%s: status %d", cmd, status);
        cr_assert(strncmp(out, rows[i].want, strlen(rows[i].want)) == 0, "%s:\n%s", cmd, out);
    }
}

Test(sim, memory_stays_within_64_bytes_per_unit)
{
    sim_graph g;
    GRAPH(&g, sim_gen_fib(&built, 20, 100, 50));
    sim_options o = options("random", 1, sim_costs_default);
    sim_result r;
    run(&g, "pack:4 l3:2 core:8 pu:1", 64, &o, &r);
    double per_unit = (double)(sim_graph_bytes(&g) + r.bytes) / g.n;
    cr_assert_leq(per_unit, 64.0, "%.1f bytes per unit", per_unit);
    sim_result_free(&r);
    sim_graph_free(&g);
}
