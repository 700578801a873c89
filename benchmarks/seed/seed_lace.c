/* seed_lace.c: the seed workload (common/seed.h) with Lace, which has no
 * loop construct: the task range is halved recursively while it holds at
 * least 2B tasks (SPAWN the upper half, CALL the lower, SYNC), so each
 * chunk runs B to 2B - 1 tasks, as forage's batches of B do; batch sizes
 * 1, 10, 100, 1000 and 10000 (no adaptive size: Lace has none).
 *
 * usage: seed-lace [--threads 2] [--reps 5] [--n 40000] */
#include "../common/driver.h"
#include "../common/lace_peer.h"
#include "../common/seed.h"

static size_t batch; /* the running variant's B */

VOID_TASK_2(seed_lace, size_t, lo, size_t, hi)
{
    if (hi - lo < 2 * batch) {
        for (size_t i = lo; i < hi; i++)
            seed_results[i] = my_task(i);
        return;
    }
    size_t mid = lo + (hi - lo) / 2;
    SPAWN(seed_lace, mid, hi);
    CALL(seed_lace, lo, mid);
    SYNC(seed_lace);
}

static double run_lace(const bench_variant *v, int threads, long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    bench_lace_pool(threads, 0);
    memset(seed_results, 0, n * sizeof *seed_results);
    batch = (size_t)v->grain;
    double t0 = bench_now();
    RUN(seed_lace, 0, n);
    double t = bench_now() - t0;
    *checksum = seed_checksum(seed_results, n);
    return t;
}

static double run_seq(long param, uint64_t *checksum)
{
    return bench_lace_twin(seed_run_seq, param, checksum);
}

static const bench_variant variants[] = {
    { "lace", 1, 0, run_lace, 0 },    { "lace", 10, 0, run_lace, 0 },
    { "lace", 100, 0, run_lace, 0 },  { "lace", 1000, 0, run_lace, 0 },
    { "lace", 10000, 0, run_lace, 0 },
};

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 40000);
    if (rc != 0)
        return rc;
    seed_results = calloc((size_t)o.param + 1, sizeof *seed_results);
    if (seed_results == NULL)
        return 1;
    bench_workload w = { "seed", "seq-lace", run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), seed_warmup_param };
    rc = bench_drive(&o, &w);
    bench_lace_stop();
    free(seed_results);
    return rc;
}
