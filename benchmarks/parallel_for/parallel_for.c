/* parallel_for.c: fg_parallel_for over --n tiny iterations (default 10^7):
 * out[i] = pf_mix(i), a few integer instructions and one 4-byte store.
 *
 * The sequential twin is one call of the same (noinline) body over the
 * whole range, so both run the same machine code; body and twin are
 * common/parallel_for.h's, shared with the peers.  forage runs
 * AUTO at the default grain, SIMPLE at grains 1, 16, 256, 4096, 65536 and
 * STATIC.  With SIMPLE at grain 1 every index is its own chunk, so
 * (T1 - Tseq) / n is the cost of one chunk (a join plus a body call).
 * forage-inline is FG_PARALLEL_FOR (forage.h) at the same grains: halving
 * on typed ctx tasks, with the body (pf_body_inline, the same loop) inlined.
 * Checksum: the sum of out[], which must equal the sequential loop's.
 *
 * usage: parallel_for [--threads 1,2] [--reps 5] [--n 10000000]
 */
#include <forage.h>

#include "../common/bench.h"
#include "../common/parallel_for.h"

static uint32_t *out;

/* pf_body's loop, visible to the compiler: FG_PARALLEL_FOR inlines it. */
static inline int pf_body_inline(size_t begin, size_t end, void *ctx)
{
    uint32_t *o = (uint32_t *)ctx;
    for (size_t i = begin; i < end; i++)
        o[i] = pf_mix(i);
    return 0;
}

FG_PARALLEL_FOR(pf_inline, pf_body_inline)

static const struct config {
    const char *name;
    int partition;
    size_t grain;
} configs[] = {
    { "forage-auto", FG_PARTITION_AUTO, 0 },
    { "forage-simple", FG_PARTITION_SIMPLE, 1 },
    { "forage-simple", FG_PARTITION_SIMPLE, 16 },
    { "forage-simple", FG_PARTITION_SIMPLE, 256 },
    { "forage-simple", FG_PARTITION_SIMPLE, 4096 },
    { "forage-simple", FG_PARTITION_SIMPLE, 65536 },
    { "forage-static", FG_PARTITION_STATIC, 0 },
    { "forage-inline", -1, 1 },
    { "forage-inline", -1, 16 },
    { "forage-inline", -1, 256 },
    { "forage-inline", -1, 4096 },
    { "forage-inline", -1, 65536 },
};
#define NCONFIGS (int)(sizeof configs / sizeof configs[0])

int main(int argc, char **argv)
{
    bench_opts o;
    int rc = bench_parse(argc, argv, &o, 10000000);
    if (rc != 0)
        return rc;
    size_t n = (size_t)o.param;
    out = calloc(n + 1, sizeof *out);
    if (out == NULL)
        return 1;
    bench_header(&o);
    static double tseq[BENCH_MAX_REPS], t[NCONFIGS][BENCH_MAX_THREADS][BENCH_MAX_REPS];
    for (int i = 0; i < o.nthreads; i++) {
        fg_pool *pool;
        int err = fg_pool_create(&pool, FG_CONFIG(.workers = o.threads[i]));
        if (err < 0) {
            fprintf(stderr, "parallel_for: %s\n", fg_strerror(err));
            return 1;
        }
        for (int rep = -1; rep < o.reps; rep++) { /* rep -1: warm-up */
            memset(out, 0, n * sizeof *out);
            double t0 = bench_now();
            pf_body(0, n, out);
            double ts = bench_now() - t0;
            uint64_t expect = pf_checksum(out, n);
            if (rep >= 0 && i == 0) {
                tseq[rep] = ts;
                bench_row("seq", "parallel_for", (long)n, 0, 1, rep, ts, expect);
            }
            for (int c = 0; c < NCONFIGS; c++) {
                memset(out, 0, n * sizeof *out);
                int inline_form = configs[c].partition < 0;
                fg_for_opts fo = FG_FOR_OPTS_INIT(.grain = configs[c].grain,
                                                  .partition = inline_form ? 0 : configs[c].partition);
                t0 = bench_now();
                err = inline_form ? pf_inline(pool, 0, n, &fo, out)
                                  : fg_parallel_for(pool, 0, n, &fo, pf_body, out);
                double tp = bench_now() - t0;
                uint64_t sum = pf_checksum(out, n);
                if (err != 0 || sum != expect) {
                    fprintf(stderr, "parallel_for: %s grain %zu: checksum %" PRIu64
                            " != %" PRIu64 " (err %d)\n", configs[c].name, configs[c].grain,
                            sum, expect, err);
                    return 1;
                }
                if (rep >= 0) {
                    t[c][i][rep] = tp;
                    bench_row(configs[c].name, "parallel_for", (long)n, (long)configs[c].grain,
                              o.threads[i], rep, tp, sum);
                }
            }
        }
        fg_pool_destroy(pool);
    }
    double ms = bench_median(tseq, o.reps);
    fprintf(stderr, "parallel_for(n=%zu): median of %d reps: Tseq %.4f s\n", n, o.reps, ms);
    for (int c = 0; c < NCONFIGS; c++)
        for (int i = 0; i < o.nthreads; i++) {
            double mp = bench_median(t[c][i], o.reps);
            fprintf(stderr, "  %-14s grain %6zu P=%d: %.4f s  T/Tseq %.2f", configs[c].name,
                    configs[c].grain, o.threads[i], mp, mp / ms);
            if (configs[c].partition != FG_PARTITION_AUTO && configs[c].grain == 1)
                fprintf(stderr, "  ns/chunk %.2f", (mp - ms) / (double)n * 1e9);
            fprintf(stderr, "\n");
        }
    free(out);
    return 0;
}
