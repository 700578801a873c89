/* matmul_tbb.cpp: C += A * B by recursive quadrants (common/matmul.h) with
 * oneTBB: per phase, three quadrant products through task_group::run, the
 * fourth inline, then wait().
 *
 * usage: matmul-tbb [--threads 1,2] [--reps 5] [--n N] [--no-header] */
#include <tbb/task_group.h>

#include "../common/driver.h"
#include "../common/matmul_main.h"
#include "../common/tbb.hpp"


static void mm_tbb(const mm_arg *m)
{
    if (mm_is_leaf(m))
        return;
    for (int phase = 0; phase < 2; phase++) {
        mm_arg q[4];
        mm_phase(m, phase, q);
        tbb::task_group g;
        for (int i = 3; i > 0; i--) { /* wait() runs them newest first */
            const mm_arg *sub = &q[i];
            g.run([sub] { mm_tbb(sub); });
        }
        mm_tbb(&q[0]);
        g.wait();
    }
}

static double run_group(const bench_variant *, int threads, long n, uint64_t *checksum)
{
    mm_arg m = mm_whole((size_t)n);
    double t = bench_tbb_run(threads, [&m] { mm_tbb(&m); });
    *checksum = mm_checksum(mc, (size_t)n);
    return t;
}

static const bench_variant variants[] = { { "tbb", 0, 0, run_group, 0 } };

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = mm_setup(argc, argv, &o);
    if (rc != 0)
        return rc;
    bench_workload w = { "matmul", "seq-tbb", mm_run_seq, variants, 1, mm_warmup_param };
    rc = bench_drive(&o, &w);
    mm_free();
    return rc;
}
