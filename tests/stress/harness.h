/* harness.h: what every stress program shares: strict argument parsing
 * (--threads N --seconds S --seed X --perturb S,Y), a monotonic clock, a seeded RNG
 * (splitmix64 to seed, xorshift64* to draw), random perturbation, failure
 * reporting that repeats the seed, a watchdog that turns a hang into a
 * failure, and pool configurations drawn from the seed.  See
 * docs/style.md, "Tests and benchmarks".
 *
 * Each program includes this header once (its statics are per program).
 * Failures are counted, not fatal: a program keeps checking, then returns
 * stress_finish(), which prints the seed again and yields the exit status.
 */
#ifndef FG_STRESS_HARNESS_H
#define FG_STRESS_HARNESS_H

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "forage.h"
#include "testhooks.h" /* the programs link forage-hooked (FG_TEST_HOOKS=1) */

/* STRESS_TSAN: 1 under ThreadSanitizer, so programs can shrink problem sizes
 * (TSan costs 5-15x) while keeping the same shape. */
#if defined(__SANITIZE_THREAD__)
#  define STRESS_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define STRESS_TSAN 1
#  endif
#endif
#ifndef STRESS_TSAN
#  define STRESS_TSAN 0
#endif

typedef struct stress_opts {
    int threads;     /* --threads: meaning per program; 0 if not given and no default */
    double seconds;  /* --seconds: run time (> 0) */
    uint64_t seed;   /* --seed: decimal or 0x hex; default from the clock */
    long perturb_spin, perturb_yield; /* --perturb S,Y: per mille of the
                        runtime's racy points that spin / yield (testhooks.h) */
} stress_opts;

/* Default --perturb: 1 % of racy-point crossings spin up to 64 pauses and
 * 0.1 % yield, a few ns per crossing on average. */
#define STRESS_PERTURB_SPIN 10
#define STRESS_PERTURB_YIELD 1

static const char *stress_prog = "stress";
static stress_opts stress_cfg;
static atomic_uint stress_failures;
static uint64_t stress_start_ns;        /* set by stress_parse */
static uint64_t stress_total_count;     /* set by stress_total */
static const char *stress_total_unit;

/* ------------------------------------------------------------------ clock */

static inline uint64_t stress_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline double stress_seconds_since(uint64_t start_ns)
{
    return (double)(stress_now_ns() - start_ns) / 1e9;
}

/* Sleep ns nanoseconds (restarted after signals). */
static inline void stress_sleep_ns(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* -------------------------------------------------------------------- RNG */

/* splitmix64 (Steele, Lea, Flood 2014): seeds and mixes. */
static inline uint64_t stress_mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct stress_rng { uint64_t s; } stress_rng; /* xorshift64*, s != 0 */

/* Independent streams from one seed: stream 0, 1, ... per thread or round. */
static inline stress_rng stress_rng_make(uint64_t seed, uint64_t stream)
{
    uint64_t s = stress_mix64(seed ^ stress_mix64(stream + 0x51ull));
    return (stress_rng){ s != 0 ? s : 0x9E3779B97F4A7C15ull };
}

static inline uint64_t stress_rng_next(stress_rng *r)
{
    uint64_t x = r->s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    r->s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, n), n >= 1 and < 2^32 (Lemire's multiply-shift). */
static inline uint32_t stress_rng_below(stress_rng *r, uint32_t n)
{
    return (uint32_t)(((stress_rng_next(r) >> 32) * n) >> 32);
}

/* Uniform in [lo, hi]. */
static inline int stress_rng_range(stress_rng *r, int lo, int hi)
{
    return lo + (int)stress_rng_below(r, (uint32_t)(hi - lo + 1));
}

/* ----------------------------------------------------------- perturbation */

static inline void stress_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield" ::: "memory");
#endif
}

static inline void stress_spin(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        stress_cpu_relax();
}

/* At a racy point: usually nothing, sometimes a short spin, rarely a
 * yield, so interleavings differ from run to run but follow the seed. */
static inline void stress_perturb(stress_rng *r)
{
    uint64_t x = stress_rng_next(r);
    if ((x & 255) == 0)
        sched_yield();
    else if ((x & 15) == 1)
        stress_spin((unsigned)(x >> 58)); /* 0..63 pauses */
}

/* ------------------------------------------------------------ pool config */

/* A pool configuration drawn from the seed: every built-in victim policy,
 * steal-one and steal-half, both deque kinds, and idle settings from "park almost at once"
 * (spin 1 or 4, with or without yield rounds) to the default, so the
 * sleep/wake paths get exercised, and outside calls run in a parked
 * worker's seat or handed to a worker (fg_config.caller). */
static inline fg_config stress_pool_config(stress_rng *r, int workers)
{
    static const unsigned spins[] = { 0, 0, 1, 4 };
    static const unsigned yields[] = { 0, 0, 0, 2 };
    return (fg_config)FG_CONFIG_INIT(.workers = workers,
                        .victim = (int)stress_rng_below(r, FG_VICTIM_POWER_OF_TWO + 1),
                        .steal = (int)stress_rng_below(r, 2),
                        .deque = (int)stress_rng_below(r, 2),
                        .spin_rounds = spins[stress_rng_below(r, 4)],
                        .yield_rounds = yields[stress_rng_below(r, 4)],
                        .seed = stress_rng_next(r) | 1,
                        .caller = (int)stress_rng_below(r, 2));
}

static inline const char *stress_victim_name(int victim)
{
    switch (victim) {
    case FG_VICTIM_RANDOM: return "random";
    case FG_VICTIM_ROUND_ROBIN: return "round-robin";
    case FG_VICTIM_STICKY: return "sticky";
    case FG_VICTIM_NEAR: return "near";
    case FG_VICTIM_POWER_OF_TWO: return "power-of-two";
    default: return "?";
    }
}

/* One line naming the configuration a run drew, after the program's name. */
static inline void stress_print_config(const char *prog, const fg_config *cfg)
{
    printf("%s: victim=%s steal=%s deque=%s spin_rounds=%u yield_rounds=%u caller=%s\n", prog,
           stress_victim_name(cfg->victim), cfg->steal == FG_STEAL_HALF ? "half" : "one",
           cfg->deque == FG_DEQUE_SPLIT ? "split" : "chase-lev", cfg->spin_rounds,
           cfg->yield_rounds, cfg->caller == FG_CALLER_WAIT ? "wait" : "seat");
}

/* --------------------------------------------------------------- failures */

/* Count a violation and print it with the seed (the first 20 only). */
__attribute__((format(printf, 1, 2)))
static inline void stress_fail(const char *fmt, ...)
{
    unsigned n = atomic_fetch_add(&stress_failures, 1);
    if (n >= 20)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: FAIL: %s (seed=%" PRIu64 ")\n", stress_prog, msg,
            stress_cfg.seed);
    fflush(stderr);
}

static inline unsigned stress_failure_count(void)
{
    return atomic_load(&stress_failures);
}

/* The program's unit of work and how many it checked, for the final line
 * (./run.sh soak adds these up across rounds). */
static inline void stress_total(const char *unit, uint64_t count)
{
    stress_total_unit = unit;
    stress_total_count = count;
}

/* The exit status; on failure repeat the seed and how to rerun.  On success
 * the last line is "<prog>: OK seed=S total=N <unit> seconds=T". */
static inline int stress_finish(void)
{
    unsigned n = stress_failure_count();
    fflush(stdout);
    if (n == 0) {
        printf("%s: OK seed=%" PRIu64 " total=%" PRIu64 " %s seconds=%.1f\n", stress_prog,
               stress_cfg.seed, stress_total_count,
               stress_total_unit != NULL ? stress_total_unit : "checks",
               stress_seconds_since(stress_start_ns));
        return 0;
    }
    char threads[32] = "";
    if (stress_cfg.threads > 0)
        snprintf(threads, sizeof threads, " --threads %d", stress_cfg.threads);
    fprintf(stderr, "%s: FAILED with %u violation(s) seed=%" PRIu64
            "; rerun: %s%s --seconds %g --seed %" PRIu64 "\n",
            stress_prog, n, stress_cfg.seed, stress_prog, threads, stress_cfg.seconds,
            stress_cfg.seed);
    return 1;
}

/* --------------------------------------------------------------- watchdog */

static inline void *stress_watchdog_main(void *arg)
{
    double limit = *(double *)arg;
    stress_sleep_ns((uint64_t)(limit * 1e9));
    fprintf(stderr, "%s: FAIL: watchdog: still running after %.0f s (hang or "
            "lost wake-up?) seed=%" PRIu64 "\n", stress_prog, limit, stress_cfg.seed);
    fflush(stderr);
    _exit(3);
}

/* A detached thread ends the process with status 3 after limit_s seconds. */
static inline void stress_watchdog_start(double limit_s)
{
    static double limit;
    limit = limit_s;
    pthread_t t;
    if (pthread_create(&t, NULL, stress_watchdog_main, &limit) == 0)
        pthread_detach(t);
}

/* ---------------------------------------------------------------- options */

static inline void stress_usage(FILE *out, const char *threads_help)
{
    fprintf(out, "usage: %s [--threads N] [--seconds S] [--seed X] [--perturb S,Y]\n"
                 "  --threads N    %s\n"
                 "  --seconds S    run time in seconds (default %g)\n"
                 "  --seed X       64-bit seed, decimal or 0x-hex (default: from the clock)\n"
                 "  --perturb S,Y  per mille of the runtime's racy points that spin (S)\n"
                 "                 or yield (Y); default %d,%d, 0,0 turns it off\n",
            stress_prog, threads_help, stress_cfg.seconds, STRESS_PERTURB_SPIN,
            STRESS_PERTURB_YIELD);
}

static inline _Noreturn void stress_bad_usage(const char *threads_help, const char *what,
                                              const char *arg)
{
    fprintf(stderr, "%s: %s%s%s\n", stress_prog, what, arg ? ": " : "", arg ? arg : "");
    stress_usage(stderr, threads_help);
    exit(2);
}

static inline int stress_parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static inline int stress_parse_seed(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '+' || *s == '\0')
        return -1;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static inline int stress_parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v <= 0 || v > 1e6)
        return -1;
    *out = v;
    return 0;
}

/* "S,Y": two per-mille rates summing to at most 1000. */
static inline int stress_parse_perturb(const char *s, long *spin, long *yield)
{
    char buf[32];
    const char *comma = strchr(s, ',');
    if (comma == NULL || (size_t)(comma - s) >= sizeof buf)
        return -1;
    memcpy(buf, s, (size_t)(comma - s));
    buf[comma - s] = '\0';
    if (stress_parse_int(buf, 0, 1000, spin) < 0 || stress_parse_int(comma + 1, 0, 1000, yield) < 0)
        return -1;
    return *spin + *yield <= 1000 ? 0 : -1;
}

/* Parse argv strictly into stress_cfg; exit 2 with usage on anything else.
 * threads_default 0 means "the program decides"; --threads takes
 * threads_min..threads_max.  Prints "seed=..." as the first output line. */
static inline void stress_parse(int argc, char **argv, int threads_default,
                                int threads_min, int threads_max,
                                double seconds_default, const char *threads_help)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep stdout and stderr lines in order */
    stress_prog = argc > 0 && argv[0] != NULL ? argv[0] : "stress";
    const char *slash = strrchr(stress_prog, '/');
    if (slash != NULL)
        stress_prog = slash + 1;
    stress_start_ns = stress_now_ns();
    stress_cfg = (stress_opts){ threads_default, seconds_default, 0, STRESS_PERTURB_SPIN,
                                STRESS_PERTURB_YIELD };
    int have_seed = 0;
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i];
        if (strcmp(flag, "--help") == 0 || strcmp(flag, "-h") == 0) {
            stress_usage(stdout, threads_help);
            exit(0);
        }
        if (strcmp(flag, "--threads") != 0 && strcmp(flag, "--seconds") != 0 &&
            strcmp(flag, "--seed") != 0 && strcmp(flag, "--perturb") != 0)
            stress_bad_usage(threads_help, "unknown argument", flag);
        if (i + 1 >= argc)
            stress_bad_usage(threads_help, "missing value for", flag);
        const char *val = argv[++i];
        long n;
        if (strcmp(flag, "--threads") == 0) {
            if (stress_parse_int(val, threads_min, threads_max, &n) < 0)
                stress_bad_usage(threads_help, "bad --threads value", val);
            stress_cfg.threads = (int)n;
        } else if (strcmp(flag, "--seconds") == 0) {
            if (stress_parse_seconds(val, &stress_cfg.seconds) < 0)
                stress_bad_usage(threads_help, "bad --seconds value", val);
        } else if (strcmp(flag, "--perturb") == 0) {
            if (stress_parse_perturb(val, &stress_cfg.perturb_spin, &stress_cfg.perturb_yield) < 0)
                stress_bad_usage(threads_help, "bad --perturb value (S,Y per mille, S+Y <= 1000)", val);
        } else {
            if (stress_parse_seed(val, &stress_cfg.seed) < 0)
                stress_bad_usage(threads_help, "bad --seed value", val);
            have_seed = 1;
        }
    }
    if (!have_seed)
        stress_cfg.seed = stress_mix64(stress_now_ns() ^ ((uint64_t)getpid() << 32));
    fg__test_perturb((unsigned)stress_cfg.perturb_spin, (unsigned)stress_cfg.perturb_yield);
    printf("seed=%" PRIu64 " perturb=%ld,%ld\n", stress_cfg.seed, stress_cfg.perturb_spin,
           stress_cfg.perturb_yield);
    fflush(stdout);
}

#endif /* FG_STRESS_HARNESS_H */
