/* tests/unit/config.c: worker-count resolution, $FORAGE_WORKERS and the
 * validation of fg_config in fg_pool_create (runtime/config.c). */
#include <criterion/criterion.h>

#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/stat.h>

#include "forage.h"
#include "internal.h"
#include "pools.h"

/* The CPUs this process may run on, computed independently of the runtime. */
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

/* A fake cgroup tree in a temporary folder: files with the given text. */
static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

Test(config, cgroup_quota)
{
    char v2[] = "/tmp/fg-cgroup-v2-XXXXXX", v1[] = "/tmp/fg-cgroup-v1-XXXXXX";
    cr_assert_not_null(mkdtemp(v2));
    cr_assert_not_null(mkdtemp(v1));
    cr_assert_eq(fg__cgroup_cpu_limit(v2), 0, "no files: no quota");
    write_file(v2, "cpu.max", "max 100000\n");
    cr_assert_eq(fg__cgroup_cpu_limit(v2), 0, "max: no quota");
    write_file(v2, "cpu.max", "250000 100000\n");
    cr_assert_eq(fg__cgroup_cpu_limit(v2), 3, "2.5 CPUs round up to 3");
    write_file(v2, "cpu.max", "100000 100000\n");
    cr_assert_eq(fg__cgroup_cpu_limit(v2), 1);
    char sub[600];
    snprintf(sub, sizeof sub, "%s/cpu", v1);
    cr_assert_eq(mkdir(sub, 0700), 0);
    write_file(v1, "cpu/cpu.cfs_quota_us", "-1\n");
    write_file(v1, "cpu/cpu.cfs_period_us", "100000\n");
    cr_assert_eq(fg__cgroup_cpu_limit(v1), 0, "v1 -1: no quota");
    write_file(v1, "cpu/cpu.cfs_quota_us", "400000\n");
    cr_assert_eq(fg__cgroup_cpu_limit(v1), 4);
    write_file(v1, "cpu/cpu.cfs_quota_us", "garbage\n");
    cr_assert_eq(fg__cgroup_cpu_limit(v1), 0, "unreadable: no quota");
}

Test(config, env_error_detail)
{
    env_set("abc");
    fg_pool *p = NULL;
    cr_assert_eq(fg_pool_create(&p, NULL), FG_EENV);
    cr_assert_str_eq(fg_last_error_detail(), "FORAGE_WORKERS=\"abc\": not a whole number");
    env_set("0");
    cr_assert_eq(fg_pool_create(&p, NULL), FG_EENV);
    cr_assert_str_eq(fg_last_error_detail(),
                     "FORAGE_WORKERS=\"0\": out of range: expected -32768..512, not 0");
    env_clear();
    cr_assert_eq(setenv("FORAGE_POLICY", "nearest", 1), 0);
    cr_assert_eq(fg_pool_create(&p, NULL), FG_EENV);
    cr_assert_str_eq(fg_last_error_detail(),
                     "FORAGE_POLICY=\"nearest\": expected one of random, round-robin, sticky, "
                     "near, power-of-two");
    cr_assert_eq(setenv("FORAGE_POLICY", "near", 1), 0);
    cr_assert_eq(setenv("FORAGE_IDLE", "spin:1,nap:2", 1), 0);
    cr_assert_eq(fg_pool_create(&p, NULL), FG_EENV);
    cr_assert_str_eq(fg_last_error_detail(), "FORAGE_IDLE=\"spin:1,nap:2\": the keys are spin, yield and wait");
    unsetenv("FORAGE_POLICY");
    unsetenv("FORAGE_IDLE");
    cr_assert_null(p);
}
