/* matmul.c: C += A * B by recursive quadrants (common/matmul.h) on forage:
 * per phase, three quadrant products are fg_spawn'ed into a group, the
 * fourth runs inline, then fg_sync.  Checksum: common/matmul.h's weighted
 * sum of C.
 *
 * usage: matmul [--threads 1,2] [--reps 5] [--n N] [--no-header]; N a power
 * of two (N x N doubles, three matrices). */
#include <forage.h>

#include "../common/driver.h"
#include "../common/matmul_main.h"

static fg_pool *pool;

static int mm_task(void *p)
{
    const mm_arg *m = p;
    if (mm_is_leaf(m))
        return 0;
    int err = 0;
    for (int phase = 0; phase < 2; phase++) {
        mm_arg q[4];
        mm_phase(m, phase, q);
        fg_group g = FG_GROUP_INIT(pool);
        for (int i = 0; i < 3; i++)
            fg_spawn(&g, mm_task, &q[i]);
        int e3 = mm_task(&q[3]);
        int es = fg_sync(&g);
        if (err == 0)
            err = e3 ? e3 : es;
    }
    return err;
}

static int noop(void *p)
{
    (void)p;
    return 0;
}

static double run_forage(const bench_variant *v, int threads, long n, uint64_t *checksum)
{
    (void)v;
    if (fg_pool_create(&pool, FG_CONFIG(.workers = threads)) < 0)
        return -1;
    mm_arg m = mm_whole((size_t)n);
    double t0 = bench_now();
    int err = fg_join(pool, mm_task, &m, noop, NULL);
    double t = bench_now() - t0;
    fg_pool_destroy(pool);
    *checksum = mm_checksum(mc, (size_t)n);
    return err == 0 ? t : -1;
}

static const bench_variant variants[] = { { "forage", 0, 0, run_forage, 0 } };

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = mm_setup(argc, argv, &o);
    if (rc != 0)
        return rc;
    bench_workload w = { "matmul", "seq", mm_run_seq, variants, 1, mm_warmup_param };
    rc = bench_drive(&o, &w);
    mm_free();
    return rc;
}
