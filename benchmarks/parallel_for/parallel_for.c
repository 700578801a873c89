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
 * usage: parallel_for [--threads 1,2] [--reps 5] [--n 10000000] [--no-header]
 * (and driver.h's --variant/--grain/--expect/--list)
 */
#include <forage.h>

#include "../common/driver.h"
#include "../common/pools.h"
#include "../common/parallel_for.h"

/* pf_body's loop, visible to the compiler: FG_PARALLEL_FOR inlines it. */
static inline int pf_body_inline(size_t begin, size_t end, void *ctx)
{
    uint32_t *o = (uint32_t *)ctx;
    for (size_t i = begin; i < end; i++)
        o[i] = pf_mix(i);
    return 0;
}

FG_PARALLEL_FOR(pf_inline, pf_body_inline)

#define PF_INLINE (-1) /* kind: FG_PARALLEL_FOR rather than fg_parallel_for */

static double run_forage(const bench_variant *v, int threads, long param, uint64_t *checksum)
{
    size_t n = (size_t)param;
    fg_pool *pool = bench_pool_for("parallel_for", threads);
    if (pool == NULL)
        return -1;
    memset(pf_out, 0, n * sizeof *pf_out);
    int inline_form = v->kind == PF_INLINE;
    fg_for_opts fo = FG_FOR_OPTS_INIT(.grain = (size_t)v->grain,
                                      .partition = inline_form ? 0 : v->kind);
    double t0 = bench_now();
    int err = inline_form ? pf_inline(pool, 0, n, &fo, pf_out)
                          : fg_parallel_for(pool, 0, n, &fo, pf_body, pf_out);
    double t = bench_now() - t0;
    *checksum = pf_checksum(pf_out, n);
    return err == 0 ? t : -1;
}

static const bench_variant variants[] = {
    { "forage-auto", 0, FG_PARTITION_AUTO, run_forage, 0 },
    { "forage-simple", 1, FG_PARTITION_SIMPLE, run_forage, 0 },
    { "forage-simple", 16, FG_PARTITION_SIMPLE, run_forage, 0 },
    { "forage-simple", 256, FG_PARTITION_SIMPLE, run_forage, 0 },
    { "forage-simple", 4096, FG_PARTITION_SIMPLE, run_forage, 0 },
    { "forage-simple", 65536, FG_PARTITION_SIMPLE, run_forage, 0 },
    { "forage-static", 0, FG_PARTITION_STATIC, run_forage, 0 },
    { "forage-inline", 1, PF_INLINE, run_forage, 0 },
    { "forage-inline", 16, PF_INLINE, run_forage, 0 },
    { "forage-inline", 256, PF_INLINE, run_forage, 0 },
    { "forage-inline", 4096, PF_INLINE, run_forage, 0 },
    { "forage-inline", 65536, PF_INLINE, run_forage, 0 },
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
    bench_workload w = { "parallel_for", "seq", pf_run_seq, variants,
                         (int)(sizeof variants / sizeof variants[0]), pf_warmup_param };
    rc = bench_drive(&o, &w);
    if (rc == 0 && !o.list)
        fprintf(stderr, "parallel_for: forage-simple and -inline at grain 1: "
                        "ns/chunk = (T1 - Tseq) / n\n");
    bench_pools_destroy();
    free(pf_out);
    return rc;
}
