/* parallel_for_lace.c: the parallel_for workload with Lace, which has no
 * loop construct: a range is halved recursively while it holds at least
 * 2G iterations (SPAWN the upper half, CALL the lower, SYNC), so chunks
 * hold G to 2G - 1 iterations, as forage's SIMPLE; each chunk is one
 * pf_body call, as in forage and oneTBB.
 *
 * usage: parallel_for-lace [--threads 1,2] [--reps 5] [--n 10000000] */
#include "../common/driver.h"
#include "../common/lace_peer.h"
#include "../common/parallel_for.h"

static size_t grain; /* the running variant's G */

VOID_TASK_2(pf_lace, size_t, lo, size_t, hi)
{
    if (hi - lo < 2 * grain) {
        pf_body(lo, hi, pf_out);
        return;
    }
    size_t mid = lo + (hi - lo) / 2;
    SPAWN(pf_lace, mid, hi);
    CALL(pf_lace, lo, mid);
    SYNC(pf_lace);
}

static double run_lace(const bench_variant *v, int threads, long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    bench_lace_pool(threads, 0);
    memset(pf_out, 0, n * sizeof *pf_out);
    grain = (size_t)v->grain;
    double t0 = bench_now();
    RUN(pf_lace, 0, n);
    double t = bench_now() - t0;
    *checksum = pf_checksum(pf_out, n);
    return t;
}

static double run_seq(long param, uint64_t *checksum)
{
    return bench_lace_twin(pf_run_seq, param, checksum);
}

static const bench_variant variants[] = {
    { "lace", 1, 0, run_lace, 0 },    { "lace", 16, 0, run_lace, 0 },
    { "lace", 256, 0, run_lace, 0 },  { "lace", 4096, 0, run_lace, 0 },
    { "lace", 65536, 0, run_lace, 0 },
};

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 10000000);
    if (rc != 0)
        return rc;
    pf_out = calloc((size_t)o.param + 1, sizeof *pf_out);
    if (pf_out == NULL)
        return 1;
    bench_workload w = { "parallel_for", "seq-lace", run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), pf_warmup_param };
    rc = bench_drive(&o, &w);
    bench_lace_stop();
    free(pf_out);
    return rc;
}
