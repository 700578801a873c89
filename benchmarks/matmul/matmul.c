/* matmul.c: C += A * B by recursive quadrants (common/matmul.h) on forage:
 * per phase, three quadrant products are fg_spawn'ed into a group, the
 * fourth runs inline, then fg_sync.  Checksum: common/matmul.h's weighted
 * sum of C.
 *
 * usage: matmul [--threads 1,2] [--reps 5] [--n N] [--no-header]; N a power
 * of two (N x N doubles, three matrices). */
#include <forage.h>

#include "../common/driver.h"
#include "../common/matmul.h"

static fg_pool *pool;
static double *ma, *mb, *mc;

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

static mm_arg mm_whole(size_t n)
{
    memset(mc, 0, n * n * sizeof *mc);
    mm_arg m = { mc, ma, mb, n, n };
    return m;
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

static double run_seq(long n, uint64_t *checksum)
{
    mm_arg m = mm_whole((size_t)n);
    double t0 = bench_now();
    mm_seq(&m);
    double t = bench_now() - t0;
    *checksum = mm_checksum(mc, (size_t)n);
    return t;
}

static const bench_variant variants[] = { { "forage", 0, 0, run_forage, 0 } };

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 1024);
    if (rc != 0)
        return rc;
    size_t n = (size_t)o.param;
    if (n < 1 || n > 16384 || (n & (n - 1)) != 0) {
        fprintf(stderr, "matmul: --n must be a power of two up to 16384\n");
        return 2;
    }
    ma = malloc(n * n * sizeof *ma);
    mb = malloc(n * n * sizeof *mb);
    mc = malloc(n * n * sizeof *mc);
    if (ma == NULL || mb == NULL || mc == NULL)
        return 1;
    mm_init(ma, mb, mc, n);
    bench_workload w = { "matmul", "seq", run_seq, variants, 1, mm_warmup_param };
    rc = bench_drive(&o, &w);
    free(ma);
    free(mb);
    free(mc);
    return rc;
}
