/* scan_tbb.cpp: the scan workload (common/scan.h) with tbb::parallel_scan
 * (its lambda form, auto partitioner, default grain) in the run's
 * task_arena.  The twin is the same sequential loop as forage's.
 *
 * usage: scan-tbb [--threads 1,2] [--reps 5] [--n 10000000] */
#include <functional>

#include <tbb/blocked_range.h>
#include <tbb/parallel_scan.h>

#include "../common/driver.h"
#include "../common/scan.h"
#include "../common/tbb.hpp"

static double run_scan(const bench_variant *v, int threads, long param, uint64_t *checksum)
{
    (void)v;
    size_t n = (size_t)param;
    memset(scan_out, 0, n * sizeof *scan_out);
    auto body = [](const tbb::blocked_range<size_t> &r, uint64_t sum, bool is_final) {
        for (size_t i = r.begin(); i < r.end(); i++) {
            sum += scan_in[i];
            if (is_final)
                scan_out[i] = sum;
        }
        return sum;
    };
    double t = bench_tbb_run(threads, [&] {
        tbb::parallel_scan(tbb::blocked_range<size_t>(0, n), (uint64_t)0, body,
                           std::plus<uint64_t>());
    });
    *checksum = scan_checksum(scan_out, n);
    return t;
}

static const bench_variant variants[] = {
    { "tbb-scan", 0, 0, run_scan, 0 },
};

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 10000000);
    if (rc != 0)
        return rc;
    if (scan_setup((size_t)o.param) != 0)
        return 1;
    bench_workload w = { "scan", "seq-tbb", scan_run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), scan_warmup_param };
    rc = bench_drive(&o, &w);
    free(scan_in);
    free(scan_out);
    return rc;
}
