/* tests/unit/config.c: worker-count resolution, $FORAGE_WORKERS and the
 * validation of fg_config in fg_pool_create (runtime/config.c). */
#include <criterion/criterion.h>

#include <limits.h>
#include <sched.h>
#include <stdlib.h>

#include "forage.h"
#include "internal.h"

/* The CPUs this process may run on, computed independently of the runtime. */
static int affinity_cpus(void)
{
    cpu_set_t set;
    cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
    int n = CPU_COUNT(&set);
    cr_assert_gt(n, 0);
    return n;
}

static int clamp_workers(int n)
{
    return n > FG_MAX_WORKERS ? FG_MAX_WORKERS : n;
}

static void env_clear(void)
{
    cr_assert_eq(unsetenv("FORAGE_WORKERS"), 0);
}

static void env_set(const char *value)
{
    cr_assert_eq(setenv("FORAGE_WORKERS", value, 1), 0);
}

TestSuite(config, .init = env_clear, .fini = env_clear, .timeout = 60);

Test(config, cpu_count_matches_affinity)
{
    cr_assert_eq(fg__cpu_count(), affinity_cpus());
}

Test(config, positive_count_is_exact)
{
    cr_assert_eq(fg_resolve_workers(1), 1);
    cr_assert_eq(fg_resolve_workers(3), 3);
    cr_assert_eq(fg_resolve_workers(FG_MAX_WORKERS), FG_MAX_WORKERS);
}

Test(config, too_many_is_erange)
{
    cr_assert_eq(fg_resolve_workers(FG_MAX_WORKERS + 1), FG_ERANGE);
    cr_assert_eq(fg_resolve_workers(100000), FG_ERANGE);
    cr_assert_eq(fg_resolve_workers(INT_MAX), FG_ERANGE);
}

Test(config, negative_follows_joblib_rule)
{
    int cpus = affinity_cpus();
    cr_assert_eq(fg_resolve_workers(-1), clamp_workers(cpus));
    cr_assert_eq(fg_resolve_workers(-2), clamp_workers(cpus > 1 ? cpus - 1 : 1));
    cr_assert_eq(fg_resolve_workers(-cpus), 1);
    cr_assert_eq(fg_resolve_workers(-cpus - 1), 1);
    cr_assert_eq(fg_resolve_workers(-100000), 1);
    cr_assert_eq(fg_resolve_workers(INT_MIN), 1);
}

Test(config, zero_without_env_is_cpus)
{
    cr_assert_eq(fg_resolve_workers(0), clamp_workers(affinity_cpus()));
}

Test(config, env_positive)
{
    env_set("3");
    cr_assert_eq(fg_resolve_workers(0), 3);
    env_set("512");
    cr_assert_eq(fg_resolve_workers(0), 512);
}

Test(config, env_negative_and_empty)
{
    int cpus = clamp_workers(affinity_cpus());
    env_set("-1");
    cr_assert_eq(fg_resolve_workers(0), cpus);
    env_set("");
    cr_assert_eq(fg_resolve_workers(0), cpus, "empty means unset");
}

Test(config, env_invalid_is_eenv)
{
    static const char *const bad[] = {
        "abc", "3x", "0", " ", "99999999999999999999", "100000", "513", "x3", "3.0",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        env_set(bad[i]);
        int r = fg_resolve_workers(0);
        cr_assert_eq(r, FG_EENV, "FORAGE_WORKERS=\"%s\": got %d (%s)", bad[i], r,
                     fg_error_name(r));
    }
}

Test(config, env_ignored_for_explicit_count)
{
    env_set("abc");
    cr_assert_eq(fg_resolve_workers(2), 2);
    cr_assert_eq(fg_resolve_workers(-1), clamp_workers(affinity_cpus()));
}

Test(config, pool_create_bad_env_fails)
{
    env_set("abc");
    fg_pool *p = (fg_pool *)(void *)&p; /* junk: must be reset to NULL */
    cr_assert_eq(fg_pool_create(&p, NULL), FG_EENV);
    cr_assert_null(p);
    p = (fg_pool *)(void *)&p;
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.stack_size = 0)), FG_EENV);
    cr_assert_null(p);
}

Test(config, explicit_workers_beat_env)
{
    env_set("5");
    fg_pool *p = NULL;
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 3)), 0);
    cr_assert_not_null(p);
    cr_assert_eq(fg_pool_workers(p), 3);
    fg_pool_destroy(p);
    /* and the env is used when the config leaves it to default */
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 0)), 0);
    cr_assert_eq(fg_pool_workers(p), 5);
    fg_pool_destroy(p);
}

Test(config, bad_fields_are_rejected)
{
    fg_pool *p = (fg_pool *)(void *)&p;
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 1, .victim = 99)), FG_EINVAL);
    cr_assert_null(p);
    p = (fg_pool *)(void *)&p;
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 1, .victim = -1)), FG_EINVAL);
    cr_assert_null(p);
    p = (fg_pool *)(void *)&p;
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 1, .stack_size = 1000)),
                 FG_EINVAL);
    cr_assert_null(p);
    p = (fg_pool *)(void *)&p;
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 513)), FG_ERANGE);
    cr_assert_null(p);
}

Test(config, null_out_is_einval)
{
    cr_assert_eq(fg_pool_create(NULL, NULL), FG_EINVAL);
    cr_assert_eq(fg_pool_create(NULL, FG_CONFIG(.workers = 1)), FG_EINVAL);
}

Test(config, null_config_gives_default_count)
{
    fg_pool *p = NULL;
    cr_assert_eq(fg_pool_create(&p, NULL), 0);
    cr_assert_not_null(p);
    cr_assert_eq(fg_pool_workers(p), clamp_workers(affinity_cpus()));
    fg_pool_destroy(p);
    /* a zeroed config is the same as NULL */
    cr_assert_eq(fg_pool_create(&p, FG_CONFIG()), 0);
    cr_assert_eq(fg_pool_workers(p), clamp_workers(affinity_cpus()));
    fg_pool_destroy(p);
}

Test(config, builtin_victims_and_min_stack_accepted)
{
    static const int kinds[] = { FG_VICTIM_RANDOM, FG_VICTIM_ROUND_ROBIN, FG_VICTIM_STICKY };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        fg_pool *p = NULL;
        cr_assert_eq(fg_pool_create(&p, FG_CONFIG(.workers = 2, .victim = kinds[i],
                                                      .stack_size = 64 * 1024)),
                     0, "victim kind %d", kinds[i]);
        cr_assert_eq(fg_pool_workers(p), 2);
        fg_pool_destroy(p);
    }
}
