/* scan.c: fg_parallel_scan, the two-pass blocked prefix scan, a client of
 * forage.h (fg_parallel_for).  See docs/design/scan.md.
 *
 * [0, n) is cut into blocks of `grain` elements.  Pass 1 reduces every
 * block but the last into its slot of `sums` (identity, then each element
 * folded in, in index order).  The caller then turns `sums` into exclusive
 * prefixes: slot k = identity + block 0 + ... + block k-1.  Pass 2 rescans
 * every block from its prefix, writing out[].  Both passes are
 * fg_parallel_for loops over block indices, so which worker runs a block
 * never changes what is combined with what: the result is the same for any
 * number of workers, and combine need not commute.
 *
 * The passes hand whole blocks to a block function: fg_parallel_scan's
 * calls the caller's combine per element; FG_PARALLEL_SCAN (forage.h)
 * generates one with the combine inlined.
 *
 * Concurrency: a block's pass-1 body writes only its own sum slot and its
 * pass-2 body only its own out[] range and scratch slots; fg_parallel_for's
 * return orders every body's writes before the caller reads them.  No
 * atomics here.
 */
#include <stdint.h>
#include <string.h>

#include "forage.h"

#include "element.h"
#include "seam.h"

typedef struct fg__scan {
    size_t n, size, grain;
    int kind;
    const void *identity;
    fg_combine_fn combine;
    void *ctx;
    fg__scan_block_fn block; /* one block, reduce or rescan */
    void *job;
    unsigned char *sums; /* per block: sum, then prefix, then accumulator;
                            a scratch slot; then 2 for the prefix scan */
} fg__scan;

/* fg_parallel_scan's blocks: the caller's combine per element. */
typedef struct fg__scan_generic {
    const unsigned char *in;
    unsigned char *out;
    size_t size;
    fg_combine_fn combine;
    void *ctx;
} fg__scan_generic;

static void fg__scan_generic_block(size_t begin, size_t end, void *accp, int mode, void *job)
{
    const fg__scan_generic *g = job;
    const unsigned char *in = g->in;
    unsigned char *out = g->out, *acc = accp, *tmp = acc + g->size;
    size_t z = g->size;
    fg_combine_fn combine = g->combine;
    void *ctx = g->ctx;
    if (mode == FG__SCAN_REDUCE) {
        for (size_t i = begin; i < end; i++)
            combine(acc, in + i * z, ctx);
    } else if (mode == FG_SCAN_INCLUSIVE) { /* in place too: in[i] is read first */
        for (size_t i = begin; i < end; i++) {
            combine(acc, in + i * z, ctx);
            fg__elem_copy(out + i * z, acc, z);
        }
    } else if (out != in) {
        for (size_t i = begin; i < end; i++) {
            fg__elem_copy(out + i * z, acc, z);
            combine(acc, in + i * z, ctx);
        }
    } else { /* exclusive in place: keep in[i] before out[i] overwrites it */
        for (size_t i = begin; i < end; i++) {
            fg__elem_copy(tmp, out + i * z, z);
            fg__elem_copy(out + i * z, acc, z);
            combine(acc, tmp, ctx);
        }
    }
}

static unsigned char *fg__scan_slot(const fg__scan *s, size_t k)
{
    return s->sums + k * s->size;
}

static size_t fg__scan_end(const fg__scan *s, size_t k)
{
    return s->n - k * s->grain > s->grain ? (k + 1) * s->grain : s->n;
}

/* Pass 1: the sum of each block in [b, e) (never the last block). */
static int fg__scan_reduce(size_t b, size_t e, void *arg)
{
    fg__scan *s = arg;
    for (size_t k = b; k < e; k++) {
        unsigned char *acc = fg__scan_slot(s, 2 * k);
        fg__elem_copy(acc, s->identity, s->size);
        s->block(k * s->grain, fg__scan_end(s, k), acc, FG__SCAN_REDUCE, s->job);
    }
    return 0;
}

/* Pass 2: each block in [b, e) from its prefix (slot 2k, consumed as the
 * accumulator; slot 2k + 1 is its scratch). */
static int fg__scan_rescan(size_t b, size_t e, void *arg)
{
    fg__scan *s = arg;
    for (size_t k = b; k < e; k++)
        s->block(k * s->grain, fg__scan_end(s, k), fg__scan_slot(s, 2 * k), s->kind, s->job);
    return 0;
}

/* Between the passes, on the caller: slot 2k = identity + sums of blocks
 * 0..k-1, in order (the two spare slots at the end hold the running sum
 * and the sum being replaced). */
static void fg__scan_prefixes(fg__scan *s, size_t blocks)
{
    unsigned char *acc = fg__scan_slot(s, 2 * blocks), *tmp = fg__scan_slot(s, 2 * blocks + 1);
    fg__elem_copy(acc, s->identity, s->size);
    for (size_t k = 0; k < blocks; k++) {
        unsigned char *slot = fg__scan_slot(s, 2 * k);
        if (k + 1 < blocks)
            fg__elem_copy(tmp, slot, s->size); /* the last block has no sum */
        fg__elem_copy(slot, acc, s->size);
        if (k + 1 < blocks)
            s->combine(acc, tmp, s->ctx);
    }
}

static int fg__scan_check(fg_pool *pool, const void *in, const void *out, size_t n,
                          size_t size, const void *identity, fg_combine_fn combine,
                          const fg_scan_opts *opts)
{
    if (fg_pool_workers(pool) < 0 || identity == NULL || combine == NULL || size == 0 ||
        (n > 0 && (in == NULL || out == NULL)) || n > SIZE_MAX / size ||
        opts->kind < FG_SCAN_INCLUSIVE || opts->kind > FG_SCAN_EXCLUSIVE)
        return FG_EINVAL;
    uintptr_t a = (uintptr_t)in, b = (uintptr_t)out, bytes = n * size;
    if (a != b && n > 0 && a < b + bytes && b < a + bytes)
        return FG_EINVAL; /* overlapping, not the same array */
    return 0;
}

int fg__scan_run(fg_pool *pool, const void *in, void *out, size_t n, size_t size,
                 const void *identity, fg_combine_fn combine, void *ctx,
                 const fg_scan_opts *user, fg__scan_block_fn block, void *job)
{
    fg_scan_opts opts;
    if (fg__struct_read(&opts, sizeof opts, user) < 0)
        return FG_ESIZE;
    int err = fg__scan_check(pool, in, out, n, size, identity, combine, &opts);
    if (err != 0 || n == 0)
        return err;
    fg__scan s = { .n = n, .size = size, .kind = opts.kind,
                   .grain = opts.grain != 0 ? opts.grain : FG_SCAN_GRAIN_DEFAULT,
                   .identity = identity, .combine = combine, .ctx = ctx,
                   .block = block, .job = job };
    size_t blocks = n / s.grain + (n % s.grain != 0);
    if (2 * blocks + 2 > SIZE_MAX / size)
        return FG_ENOMEM;
    s.sums = fg__alloc((2 * blocks + 2) * size);
    if (s.sums == NULL)
        return FG_ENOMEM;
    if (blocks == 1) { /* one block: a sequential scan here, no pool round trip */
        fg__elem_copy(s.sums, identity, size);
        err = fg__scan_rescan(0, 1, &s);
    } else {
        err = fg_parallel_for(pool, 0, blocks - 1, NULL, fg__scan_reduce, &s);
        if (err == 0) {
            fg__scan_prefixes(&s, blocks);
            err = fg_parallel_for(pool, 0, blocks, NULL, fg__scan_rescan, &s);
        }
    }
    fg__free(s.sums);
    return err;
}

int fg_parallel_scan(fg_pool *pool, const void *in, void *out, size_t n, size_t size,
                     const void *identity, fg_combine_fn combine, void *ctx,
                     const fg_scan_opts *opts)
{
    fg__scan_generic g = { in, out, size, combine, ctx };
    return fg__scan_run(pool, in, out, n, size, identity, combine, ctx, opts,
                        fg__scan_generic_block, &g);
}
