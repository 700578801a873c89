/* matmul_lace.c: C += A * B by recursive quadrants (common/matmul.h) with
 * Lace: per phase, three quadrant products SPAWNed, the fourth CALLed,
 * then three SYNCs.
 *
 * usage: matmul-lace [--threads 1,2] [--reps 5] [--n N] [--no-header] */
#include "../common/driver.h"
#include "../common/lace_peer.h"
#include "../common/matmul_main.h"


VOID_TASK_1(mm_lace, const mm_arg *, m)
{
    if (mm_is_leaf(m))
        return;
    for (int phase = 0; phase < 2; phase++) {
        mm_arg q[4];
        mm_phase(m, phase, q);
        for (int i = 3; i > 0; i--) /* synced newest first: q1, q2, q3 */
            SPAWN(mm_lace, &q[i]);
        CALL(mm_lace, &q[0]);
        for (int i = 0; i < 3; i++)
            SYNC(mm_lace);
    }
}

static double run_lace(const bench_variant *v, int threads, long n, uint64_t *checksum)
{
    (void)v;
    bench_lace_pool(threads, 0);
    mm_arg m = mm_whole((size_t)n);
    double t0 = bench_now();
    RUN(mm_lace, &m);
    double t = bench_now() - t0;
    *checksum = mm_checksum(mc, (size_t)n);
    return t;
}

static double run_seq(long n, uint64_t *checksum)
{
    bench_lace_stop(); /* no spinning worker beside the twin */
    return mm_run_seq(n, checksum);
}

static const bench_variant variants[] = { { "lace", 0, 0, run_lace, 0 } };

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = mm_setup(argc, argv, &o);
    if (rc != 0)
        return rc;
    bench_workload w = { "matmul", "seq-lace", run_seq, variants, 1, mm_warmup_param };
    rc = bench_drive(&o, &w);
    bench_lace_stop();
    mm_free();
    return rc;
}
