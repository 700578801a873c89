/* config.c: resolve an fg_config (0 = default) and $FORAGE_WORKERS once, at
 * pool creation, into the fg__config the runtime uses. */
#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "env.h"
#include "internal.h"

#define FG__MIN_STACK (64 * 1024)
#define FG__DEFAULT_STACK (8u * 1024 * 1024)

/* Read up to two whole numbers (or "max") from a small file; the count read. */
static int fg__read_numbers(const char *path, long long v[2])
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    char buf[64] = "";
    int n = 0;
    if (fgets(buf, sizeof buf, f) != NULL) {
        char *p = buf, *end;
        for (; n < 2; n++, p = end) {
            while (*p == ' ')
                p++;
            if (strncmp(p, "max", 3) == 0) {
                v[n] = -1;
                end = p + 3;
                continue;
            }
            v[n] = strtoll(p, &end, 10);
            if (end == p)
                break;
        }
    }
    fclose(f);
    return n;
}

/* ceil(quota / period), or 0 for no quota. */
static int fg__quota_cpus(long long quota, long long period)
{
    if (quota <= 0 || period <= 0)
        return 0;
    long long n = (quota + period - 1) / period;
    return n < INT_MAX ? (int)n : INT_MAX;
}

int fg__cgroup_cpu_limit(const char *root)
{
    char path[512];
    long long v[2];
    snprintf(path, sizeof path, "%s/cpu.max", root); /* v2: "quota period" */
    if (fg__read_numbers(path, v) == 2)
        return fg__quota_cpus(v[0], v[1]);
    snprintf(path, sizeof path, "%s/cpu/cpu.cfs_quota_us", root); /* v1 */
    long long quota[2], period[2];
    if (fg__read_numbers(path, quota) < 1)
        return 0;
    snprintf(path, sizeof path, "%s/cpu/cpu.cfs_period_us", root);
    if (fg__read_numbers(path, period) < 1)
        return 0;
    return fg__quota_cpus(quota[0], period[0]);
}

/* The CPUs this process may use: its affinity mask, capped by a cgroup CPU
 * quota as loky's cpu_count does (a container given 2.5 CPUs of a 64-core
 * host gets 3 workers, not 64). */
int fg__cpu_count(void)
{
    long n = 0;
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
#endif
    if (n <= 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0)
        n = 1;
    int quota = fg__cgroup_cpu_limit("/sys/fs/cgroup");
    if (quota > 0 && quota < n)
        n = quota;
    return n < INT_MAX ? (int)n : INT_MAX;
}

/* joblib's rule for negative counts: -1 all CPUs, -2 all but one, ... */
static int fg__workers_from_count(long w)
{
    if (w > 0)
        return w > FG_MAX_WORKERS ? FG_ERANGE : (int)w;
    long n = (long)fg__cpu_count() + 1 + w;
    if (n < 1)
        n = 1;
    return n > FG_MAX_WORKERS ? FG_MAX_WORKERS : (int)n;
}

/* $FORAGE_WORKERS: a whole nonzero count, joblib's rule when negative. */
static int fg__workers_from_env(long *out)
{
    int err = fg__env_long("FORAGE_WORKERS", -(long)FG_MAX_WORKERS * 64, FG_MAX_WORKERS, 1, out);
    return err < 0 ? err : 0;
}

int fg_resolve_workers(int workers)
{
    if (workers != 0)
        return fg__workers_from_count(workers);
    long env;
    int err = fg__workers_from_env(&env);
    if (err < 0)
        return err;
    return fg__workers_from_count(env != 0 ? env : -1); /* -1: all CPUs */
}

static const char *const fg__victim_names[] = {
    [FG_VICTIM_RANDOM] = "random",           [FG_VICTIM_ROUND_ROBIN] = "round-robin",
    [FG_VICTIM_STICKY] = "sticky",           [FG_VICTIM_NEAR] = "near",
    [FG_VICTIM_POWER_OF_TWO] = "power-of-two",
};
static const char *const fg__steal_names[] = {
    [FG_STEAL_ONE] = "one", [FG_STEAL_HALF] = "half",
};
static const char *const fg__bind_names[] = {
    [FG_BIND_CPUS] = "cpus", [FG_BIND_NONE] = "none",
};
static const char *const fg__caller_names[] = {
    [FG_CALLER_SEAT] = "seat", [FG_CALLER_WAIT] = "wait",
};
static const char *const fg__deque_names[] = {
    [FG_DEQUE_CHASE_LEV] = "chase-lev", [FG_DEQUE_SPLIT] = "split",
};

/* The idle ladder's steps 1 and 2 as $FORAGE_IDLE and the config give
 * them, and which of the spin's two measures were given. */
typedef struct fg__idle_spec {
    unsigned spin, spin_us, yield, wait_us;
    bool rounds_given, us_given;
} fg__idle_spec;

/* One "key:N" of $FORAGE_IDLE: spin:N (rounds), spin:Nus (microseconds),
 * spin:forever, yield:N, wait:Nus; N below 2^31.  NULL, or why the item is
 * bad. */
static const char *fg__idle_item(const char *item, size_t len, fg__idle_spec *idle)
{
    char buf[32];
    char *colon = len < sizeof buf ? memchr(item, ':', len) : NULL;
    if (colon == NULL)
        return "expected spin:N,yield:M,wait:Wus (spin:Tus: a spin in microseconds)";
    memcpy(buf, item, len);
    buf[len] = '\0';
    buf[colon - item] = '\0';
    const char *value = buf + (colon - item) + 1;
    bool spin = strcmp(buf, "spin") == 0, wait = strcmp(buf, "wait") == 0;
    if (!spin && !wait && strcmp(buf, "yield") != 0)
        return "the keys are spin, yield and wait";
    if (spin && strcmp(value, "forever") == 0) {
        idle->spin = FG_SPIN_FOREVER;
        idle->rounds_given = true;
        return NULL;
    }
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    bool us = (spin || wait) && strcmp(end, "us") == 0;
    if (errno != 0 || end == value || (*end != '\0' && !us) || (wait && !us) || v < 0 ||
        v > INT_MAX)
        return spin ? "spin takes a count of rounds or whole microseconds (spin:32, spin:100us, "
                      "both: spin:32,spin:100us), from 0 to 2^31 - 1"
             : wait ? "wait takes whole microseconds (wait:1000us), from 0 to 2^31 - 1"
                    : "a count must be a whole number from 0 to 2^31 - 1";
    if (wait)
        idle->wait_us = (unsigned)v;
    else if (!spin)
        idle->yield = (unsigned)v;
    else if (us)
        idle->spin_us = (unsigned)v, idle->us_given = true;
    else
        idle->spin = (unsigned)v, idle->rounds_given = true;
    return NULL;
}

/* $FORAGE_IDLE=spin:N,spin:Tus,yield:M,wait:Tus (any part may be left
 * out).  spin:0 means sleep at once and wait:0us no wait spin, unlike the
 * config fields, whose 0 means the default. */
static int fg__idle_from_env(fg__idle_spec *idle)
{
    const char *s = fg__env_string("FORAGE_IDLE"), *all = s;
    for (; s != NULL;) {
        const char *comma = strchr(s, ',');
        size_t len = comma != NULL ? (size_t)(comma - s) : strlen(s);
        const char *why = fg__idle_item(s, len, idle);
        if (why != NULL)
            return fg__env_fail("FORAGE_IDLE", all, why);
        s = comma != NULL ? comma + 1 : NULL;
    }
    return 0;
}

/* The config's idle fields, else $FORAGE_IDLE.  The spin step lasts
 * spin_rounds failed rounds and spin_us microseconds, whichever ends later
 * (given neither, FG_SPIN_ROUNDS_DEFAULT rounds; given only a time, no least
 * count), and for a worker waiting at a sync at least wait_us too. */
static int fg__idle_resolve(const fg_config *cfg, fg__config *out)
{
    fg__idle_spec idle = { cfg->spin_rounds, cfg->spin_us, cfg->yield_rounds,
                           cfg->wait_us != 0 ? cfg->wait_us : FG_WAIT_US_DEFAULT,
                           cfg->spin_rounds != 0, cfg->spin_us != 0 };
    int err;
    if (!idle.rounds_given && !idle.us_given && idle.yield == 0 && cfg->wait_us == 0 &&
        (err = fg__idle_from_env(&idle)) < 0)
        return err;
    if (!idle.rounds_given && !idle.us_given)
        idle.spin = FG_SPIN_ROUNDS_DEFAULT;
    out->spin_rounds = idle.spin;
    out->spin_ns = idle.spin == FG_SPIN_FOREVER ? 0 : (uint64_t)idle.spin_us * 1000u;
    out->yield_rounds = idle.yield;
    out->wait_ns = idle.spin == FG_SPIN_FOREVER ? 0 : (uint64_t)idle.wait_us * 1000u;
    return 0;
}

/* An enum field whose names cover every valid value: the config's value,
 * else $var's when it is 0; FG_EINVAL for a value outside the names. */
static int fg__enum_resolve(int given, const char *var, const char *const *names, int count,
                            int *out)
{
    *out = given;
    int err;
    if (given == 0 && (err = fg__env_enum(var, names, count, out)) < 0)
        return err;
    return *out >= 0 && *out < count ? 0 : FG_EINVAL;
}
#define FG__CONFIG_ENUM(given, var, names, out) \
    fg__enum_resolve((given), (var), (names), (int)(sizeof(names) / sizeof((names)[0])), (out))

int fg__config_resolve(const fg_config *user, fg__config *out)
{
    fg_config copy, *cfg = &copy;
    if (fg__struct_read(&copy, sizeof copy, user) < 0)
        return FG_ESIZE;
    int n = fg_resolve_workers(cfg->workers);
    if (n < 0)
        return n;
    out->workers = n;
    out->victim_fn = cfg->victim_fn;
    out->victim_ctx = cfg->victim_ctx;
    out->victim = cfg->victim;
    int err;
    if (out->victim_fn == NULL && out->victim == 0 &&
        (err = FG__ENV_ENUM("FORAGE_POLICY", fg__victim_names, &out->victim)) < 0)
        return err;
    if (out->victim_fn == NULL) {
        out->victim_fn = fg__policy_builtin(out->victim);
        if (out->victim_fn == NULL)
            return FG_EINVAL;
    }
    if ((err = fg__idle_resolve(cfg, out)) < 0)
        return err;
    if ((err = FG__CONFIG_ENUM(cfg->steal, "FORAGE_STEAL", fg__steal_names, &out->steal)) < 0 ||
        (err = FG__CONFIG_ENUM(cfg->deque, "FORAGE_DEQUE", fg__deque_names, &out->deque)) < 0 ||
        (err = FG__CONFIG_ENUM(cfg->bind, "FORAGE_BIND", fg__bind_names, &out->bind)) < 0 ||
        (err = FG__CONFIG_ENUM(cfg->caller, "FORAGE_CALLER", fg__caller_names, &out->caller)) < 0)
        return err;
    out->seed = cfg->seed;
    if (cfg->stack_size != 0 && cfg->stack_size < FG__MIN_STACK)
        return FG_EINVAL;
    out->stack_size = cfg->stack_size != 0 ? cfg->stack_size : FG__DEFAULT_STACK;
    if ((err = fg__stats_config(&out->stats_report)) < 0)
        return err;
    if ((err = fg__trace_config(cfg, out)) < 0)
        return err;
    return fg__record_config(cfg, out);
}
