/* main.c: forage-sim, the policy lab's command line (docs/design/sim.md).
 *
 *   forage-sim analyze FILE [--burden NS]
 *   forage-sim run FILE [--workers P] [--topology T] [--policy NAME |
 *       --policy-lib LIB.so:SYMBOL] [--steal one|half] [--idle spin:N,yield:M]
 *       [--seed S] [--costs SPEC] [--share always|request] [--per-worker] [--csv]
 *   forage-sim gen chain|star|tree|fib N [--node NS] [--leaf NS] -o FILE
 *   forage-sim bench [--n N] [--workers P]
 *   forage-sim calibrate
 *
 * --policy, --idle and --steal go through the runtime's own parser of
 * FORAGE_POLICY, FORAGE_IDLE and FORAGE_STEAL, so they take exactly the
 * values a pool takes.  Exit status: 0, 1 for a run-time error, 2 for bad
 * usage or input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze.h"
#include "bound.h"
#include "calibrate.h"
#include "engine.h"
#include "gen.h"
#include "policy.h"

#define ERRLEN 512

static int usage(void)
{
    fprintf(stderr,
            "usage: forage-sim analyze FILE [--burden NS]\n"
            "       forage-sim run FILE [--workers P] [--topology T] [--policy NAME | --policy-lib "
            "LIB.so:SYMBOL]\n"
            "                  [--steal one|half] [--idle spin:N,yield:M] [--seed S] "
            "[--costs SPEC] [--share always|request] [--per-worker] [--csv]\n"
            "       forage-sim gen chain|star|tree|fib N [--node NS] [--leaf NS] -o FILE\n"
            "       forage-sim bench [--n N] [--workers P]\n"
            "       forage-sim calibrate\n");
    return 2;
}

static int fail(int rc, const char *what, const char *err)
{
    fprintf(stderr, "forage-sim: %s: %s\n", what, err);
    return rc == SIM_EFORMAT || rc == SIM_EINVAL ? 2 : 1;
}

/* A whole number in [min, max] from s, or -1 with a message. */
static int number(const char *opt, const char *s, unsigned long long min, unsigned long long max,
                  unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max) {
        fprintf(stderr, "forage-sim: %s \"%s\": want a whole number from %llu to %llu\n", opt, s,
                min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int cmd_analyze(int argc, char **argv)
{
    unsigned long long burden = sim_costs_default.steal[SIM_PACKAGE];
    if (argc < 1)
        return usage();
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc || strcmp(argv[i], "--burden") != 0)
            return usage();
        if (number("--burden", argv[i + 1], 0, SIM_WORK_MAX, &burden) < 0)
            return 2;
    }
    char err[ERRLEN];
    sim_graph g;
    int rc = sim_graph_load(&g, argv[0], err, sizeof err);
    if (rc < 0)
        return fail(rc, argv[0], err);
    sim_analysis a;
    if ((rc = sim_analyze(&g, burden, &a)) == 0)
        sim_analysis_print(stdout, &g, &a);
    sim_graph_free(&g);
    return rc == 0 ? 0 : fail(rc, argv[0], "out of memory");
}

typedef struct run_args {
    unsigned long long workers, seed;
    const char *topology, *policy, *policy_lib, *steal, *idle;
    int share;
    int per_worker, csv;
    sim_costs costs;
} run_args;

static int parse_run(run_args *a, int argc, char **argv)
{
    char err[ERRLEN];
    *a = (run_args){ .workers = 4, .seed = 1, .topology = "this", .costs = sim_costs_default };
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(opt, "--per-worker") == 0) {
            a->per_worker = 1;
            continue;
        }
        if (strcmp(opt, "--csv") == 0) {
            a->csv = 1;
            continue;
        }
        if (val == NULL)
            return usage();
        i++;
        if (strcmp(opt, "--workers") == 0) {
            if (number(opt, val, 1, SIM_MAX_WORKERS, &a->workers) < 0)
                return 2;
        } else if (strcmp(opt, "--seed") == 0) {
            if (number(opt, val, 0, UINT64_MAX, &a->seed) < 0)
                return 2;
        } else if (strcmp(opt, "--topology") == 0) {
            a->topology = val;
        } else if (strcmp(opt, "--policy") == 0) {
            a->policy = val;
        } else if (strcmp(opt, "--policy-lib") == 0) {
            a->policy_lib = val;
        } else if (strcmp(opt, "--steal") == 0) {
            a->steal = val;
        } else if (strcmp(opt, "--idle") == 0) {
            a->idle = val;
        } else if (strcmp(opt, "--share") == 0) {
            if (strcmp(val, "request") != 0 && strcmp(val, "always") != 0) {
                fprintf(stderr, "forage-sim: --share \"%s\": want always (every spawn public at "
                        "once, the default) or request (the runtime's ctx stack)\n", val);
                return 2;
            }
            a->share = strcmp(val, "always") == 0 ? SIM_SHARE_ALWAYS : SIM_SHARE_REQUEST;
        } else if (strcmp(opt, "--costs") == 0) {
            if (sim_costs_parse(&a->costs, val, err, sizeof err) < 0)
                return fail(SIM_EINVAL, "bad option", err);
        } else {
            return usage();
        }
    }
    if (a->policy != NULL && a->policy_lib != NULL) {
        fprintf(stderr, "forage-sim: give --policy or --policy-lib, not both\n");
        return 2;
    }
    return 0;
}

static void print_csv(const sim_options *o, const sim_machine *m, const sim_result *r,
                      const sim_bounds *b)
{
    const sim_worker_stats *t = &r->total;
    printf("policy,workers,steal,makespan_ns,work_ns,span_ns,speedup,attempts,steals,success,"
           "remote_fraction,idle_fraction,sleeps,events,lower_ns,upper_ns,bound_c,needed_c,"
           "within\n");
    printf("%s,%d,%s,%llu,%llu,%llu,%.4f,%llu,%llu,%.4f,%.4f,%.4f,%llu,%llu,%llu,%llu,%d,%.4f,%s\n",
           o->policy_name, m->workers, o->steal == FG_STEAL_HALF ? "half" : "one",
           (unsigned long long)r->makespan, (unsigned long long)b->work,
           (unsigned long long)b->span,
           (double)b->work / (double)(r->makespan ? r->makespan : 1), (unsigned long long)t->attempts,
           (unsigned long long)t->steals,
           t->attempts ? (double)t->steals / (double)t->attempts : 0.0,
           t->steals ? (double)t->remote_steals / (double)t->steals : 0.0,
           r->makespan ? (double)t->idle_ns / ((double)r->makespan * m->workers) : 0.0,
           (unsigned long long)t->sleeps, (unsigned long long)r->events,
           (unsigned long long)b->lower, (unsigned long long)b->upper, SIM_BOUND_C,
           sim_bounds_needed_c(b, r->makespan),
           strcmp(sim_bounds_verdict(b, r->makespan), "within both") == 0 ? "yes" : "no");
}

static int cmd_run(int argc, char **argv)
{
    if (argc < 1)
        return usage();
    run_args a;
    int rc = parse_run(&a, argc, argv);
    if (rc != 0)
        return rc;
    char err[ERRLEN];
    sim_options o = { .seed = a.seed, .costs = a.costs, .share = a.share };
    if (a.policy_lib != NULL && (rc = sim_policy_load(&o, a.policy_lib, err, sizeof err)) < 0)
        return fail(rc, "bad option", err);
    if ((rc = sim_policy_resolve(&o, a.policy, a.idle, a.steal, err, sizeof err)) < 0)
        return fail(rc, "bad option", err);
    sim_machine m;
    if ((rc = sim_machine_create(&m, a.topology, (int)a.workers, err, sizeof err)) < 0)
        return fail(rc, "bad option", err);
    sim_graph g;
    if ((rc = sim_graph_load(&g, argv[0], err, sizeof err)) < 0) {
        sim_machine_free(&m);
        return fail(rc, argv[0], err);
    }
    sim_bounds b;
    sim_result r;
    if ((rc = sim_bounds_of(&g, &m, &o.costs, &b)) == 0 &&
        (rc = sim_run(&g, &m, &o, &r, err, sizeof err)) == 0) {
        if (a.csv) {
            print_csv(&o, &m, &r, &b);
        } else {
            sim_result_print(stdout, &g, &m, &o, &r, b.work, b.span, 0);
            sim_bounds_print(stdout, &b, r.makespan);
            if (a.per_worker)
                sim_result_print_workers(stdout, &r);
        }
        sim_result_free(&r);
    } else if (rc == SIM_ENOMEM) {
        snprintf(err, sizeof err, "out of memory");
    }
    sim_graph_free(&g);
    sim_machine_free(&m);
    return rc == 0 ? 0 : fail(rc, argv[0], err);
}

static int cmd_gen(int argc, char **argv)
{
    unsigned long long n, node = 100, leaf = 1000;
    const char *out = NULL;
    if (argc < 2 || number("N", argv[1], 0, 100000000, &n) < 0)
        return usage();
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--node") == 0 && number("--node", argv[i + 1], 0, SIM_WORK_MAX, &node) == 0)
            continue;
        if (strcmp(argv[i], "--leaf") == 0 && number("--leaf", argv[i + 1], 0, SIM_WORK_MAX, &leaf) == 0)
            continue;
        if (strcmp(argv[i], "-o") == 0) {
            out = argv[i + 1];
            continue;
        }
        return usage();
    }
    if (out == NULL || argc % 2 != 0)
        return usage();
    sim_builder b;
    sim_builder_init(&b, 1, 0);
    int rc = sim_gen(&b, argv[0], (uint32_t)n, node, leaf);
    if (rc < 0) {
        sim_builder_free(&b);
        return fail(rc, "gen", rc == SIM_EINVAL ? "unknown shape or size out of range (chain and "
                    "star up to 10^8 units, tree depth up to 26, fib n up to 32)" : "out of memory");
    }
    FILE *f = fopen(out, "wb");
    int ok = f != NULL && fwrite(b.buf, 1, b.len, f) == b.len;
    ok = (f != NULL && fclose(f) == 0) && ok;
    sim_builder_free(&b);
    return ok ? 0 : fail(SIM_EIO, out, "cannot write");
}

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Events per second and bytes per unit on a fib graph (not a test: a
 * figure).  Per CPU second as well as per wall second: on a shared machine
 * the wall clock measures the other processes too. */
static int cmd_bench(int argc, char **argv)
{
    unsigned long long n = 27, workers = 256;
    for (int i = 0; i < argc; i += 2) {
        if (i + 1 < argc && strcmp(argv[i], "--n") == 0 && number("--n", argv[i + 1], 2, 32, &n) == 0)
            continue;
        if (i + 1 < argc && strcmp(argv[i], "--workers") == 0 &&
            number("--workers", argv[i + 1], 1, SIM_MAX_WORKERS, &workers) == 0)
            continue;
        return usage();
    }
    char err[ERRLEN];
    sim_builder b;
    sim_builder_init(&b, 1, 0);
    sim_graph g;
    int rc = sim_gen_fib(&b, (int)n, 8, 4); /* about forage's own ns per fib call */
    if (rc == 0)
        rc = sim_graph_parse(&g, b.buf, b.len, err, sizeof err);
    sim_builder_free(&b);
    if (rc < 0)
        return fail(rc, "bench", "cannot build the fib graph");
    sim_machine m;
    if ((rc = sim_machine_create(&m, "pack:4 l3:4 core:8 pu:2", (int)workers, err, sizeof err)) < 0) {
        sim_graph_free(&g);
        return fail(rc, "bench", err);
    }
    printf("fib(%llu) graph: %u units, %zu bytes loaded (%.1f per unit)\n", n, g.n,
           sim_graph_bytes(&g), (double)sim_graph_bytes(&g) / g.n);
    printf("%-14s %8s %12s %9s %9s %14s %12s %10s\n", "policy", "workers", "events", "wall_s",
           "cpu_s", "events/cpu_s", "units/cpu_s", "bytes/unit");
    const char *policies[] = { "random", "near", "power-of-two" };
    for (int i = 0; rc == 0 && i < 3; i++) {
        sim_options o = { .seed = 1, .costs = sim_costs_default };
        sim_result r;
        if ((rc = sim_policy_resolve(&o, policies[i], NULL, NULL, err, sizeof err)) < 0)
            break;
        double w0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
        if ((rc = sim_run(&g, &m, &o, &r, err, sizeof err)) < 0)
            break;
        double w = seconds(CLOCK_MONOTONIC) - w0, c = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
        printf("%-14s %8d %12llu %9.3f %9.3f %14.0f %12.0f %10.1f\n", policies[i], m.workers,
               (unsigned long long)r.events, w, c, (double)r.events / c, g.n / c,
               (double)(sim_graph_bytes(&g) + r.bytes) / g.n);
        sim_result_free(&r);
    }
    sim_graph_free(&g);
    sim_machine_free(&m);
    return rc == 0 ? 0 : fail(rc, "bench", err);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    argc -= 2;
    argv += 2;
    if (strcmp(cmd, "analyze") == 0)
        return cmd_analyze(argc, argv);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc, argv);
    if (strcmp(cmd, "gen") == 0)
        return cmd_gen(argc, argv);
    if (strcmp(cmd, "bench") == 0)
        return cmd_bench(argc, argv);
    if (strcmp(cmd, "calibrate") == 0)
        return argc == 0 ? sim_calibrate(stdout) : usage();
    return usage();
}
