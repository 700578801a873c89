/* pools.h: pool constructors for the Criterion suites.  Header-only.
 *
 * Each asserts that the pool was created, and with exactly the workers
 * asked for when the config names a count, so a suite never runs its
 * checks on a pool it did not mean to have. */
#ifndef FG_TEST_POOLS_H
#define FG_TEST_POOLS_H

#include <criterion/criterion.h>

#include <sched.h>

#include "forage.h"

static inline fg_pool *pool_with(const fg_config *cfg)
{
    fg_pool *p = NULL;
    int err = fg_pool_create(&p, cfg);
    cr_assert_eq(err, 0, "fg_pool_create(workers=%d): %s", cfg->workers, fg_strerror(err));
    cr_assert_not_null(p);
    if (cfg->workers > 0)
        cr_assert_eq(fg_pool_workers(p), cfg->workers);
    return p;
}

static inline fg_pool *pool_new(int workers)
{
    return pool_with(FG_CONFIG(.workers = workers));
}

/* The CPUs this process may run on: what a default pool starts from. */
static inline int affinity_cpus(void)
{
    cpu_set_t set;
    cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
    int n = CPU_COUNT(&set);
    cr_assert_gt(n, 0);
    return n;
}

#endif
