/* config.c: resolve an fg_config (0 = default) and $FORAGE_WORKERS once, at
 * pool creation, into the fg__config the runtime uses. */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

#define FG__MIN_STACK (64 * 1024)
#define FG__DEFAULT_STACK (8u * 1024 * 1024)

int fg__cpu_count(void)
{
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)(n < INT_MAX ? n : INT_MAX) : 1;
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

/* $FORAGE_WORKERS: unset or empty means "not given" (0); otherwise a whole
 * nonzero integer, else FG_EENV. */
static int fg__workers_from_env(long *out)
{
    const char *s = getenv("FORAGE_WORKERS");
    *out = 0;
    if (s == NULL || *s == '\0')
        return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v == 0 ||
        v > FG_MAX_WORKERS || v < -(long)FG_MAX_WORKERS * 64)
        return FG_EENV;
    *out = v;
    return 0;
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

int fg__config_resolve(const fg_config *cfg, fg__config *out)
{
    static const fg_config defaults = { 0 };
    if (cfg == NULL)
        cfg = &defaults;
    int n = fg_resolve_workers(cfg->workers);
    if (n < 0)
        return n;
    out->workers = n;
    out->victim_fn = cfg->victim_fn;
    out->victim_ctx = cfg->victim_ctx;
    if (out->victim_fn == NULL) {
        out->victim_fn = fg__policy_builtin(cfg->victim);
        if (out->victim_fn == NULL)
            return FG_EINVAL;
    }
    out->spin_rounds = cfg->spin_rounds != 0 ? cfg->spin_rounds : FG_SPIN_ROUNDS_DEFAULT;
    out->seed = cfg->seed;
    if (cfg->stack_size != 0 && cfg->stack_size < FG__MIN_STACK)
        return FG_EINVAL;
    out->stack_size = cfg->stack_size != 0 ? cfg->stack_size : FG__DEFAULT_STACK;
    return 0;
}
