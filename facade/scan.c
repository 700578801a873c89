/* scan.c: fg_parallel_scan, a chained blocked prefix scan that reads the
 * input once when it runs alone, a client of forage.h (fg_parallel_for).
 * See docs/design/scan.md.
 *
 * [0, n) is cut into blocks of `grain` elements.  One fg_parallel_for task
 * per worker ("lane") claims blocks in index order from a shared counter
 * until none is left.  A lane that is the only one running takes a block
 * the lazy way: its left neighbour's inclusive prefix is already
 * published, so it scans the block once, final, from that prefix (on one
 * worker the whole array is read once, as a sequential loop reads it).
 * Otherwise it reduces the block into a private sum while the block before
 * it may still be running, waits for that block's inclusive prefix, publishes
 * its own (prefix + sum) at once, and rescans the block from the prefix,
 * the block still in cache.  So the input comes from memory once either
 * way, and the only serial part is one combine per block.
 *
 * Concurrency: `next` hands every block to exactly one lane.  A block's
 * inclusive prefix is written by its lane only, before its `ready` flag is
 * set with release; a reader loads the flag with acquire before it reads
 * the prefix.  A lane waits only on a block with a lower index, which was
 * claimed earlier by a lane that is running it without waiting on anything
 * to its right, so the chain always ends at block 0 (no deadlock, provided
 * combine does not itself wait on the pool).  `active` counts lanes inside
 * the loop; it only chooses between the two correct ways to take a block,
 * so it is relaxed.  fg_parallel_for's return orders every lane's writes
 * before the caller returns.
 */
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "forage.h"

#include "element.h"
#include "seam.h"

enum { FG__SCAN_LANE_SLOTS = 4 }; /* acc, its scratch, sum, sum's scratch */

typedef struct fg__scan {
    size_t n, size, grain, blocks;
    int kind;
    const void *identity;
    fg_combine_fn combine;
    void *ctx;
    fg__scan_block_fn block; /* one block, reduce or final */
    void *job;
    fg_pool *pool;
    size_t lanes_n;          /* lanes started by fg_parallel_for */
    atomic_size_t next;      /* the first unclaimed block */
    atomic_int active;       /* lanes inside the loop */
    atomic_size_t started;   /* lanes that have entered the loop */
    atomic_int *ready;       /* per block: its inclusive prefix is published */
    unsigned char *prefix;   /* per block: identity + blocks 0..k, inclusive */
    unsigned char *lanes;    /* per lane: FG__SCAN_LANE_SLOTS element slots */
} fg__scan;

/* fg_parallel_scan's blocks: the caller's combine per element. */
typedef struct fg__scan_generic {
    const unsigned char *in;
    unsigned char *out;
    size_t size;
    fg_combine_fn combine;
    void *ctx;
} fg__scan_generic;

/* One block of the caller's combine, for elements of z bytes; inlined
 * below with z a constant for the common sizes, so that copies are
 * register moves and the loop holds no size dispatch. */
static inline __attribute__((always_inline)) void
fg__scan_generic_run(const fg__scan_generic *g, size_t begin, size_t end, unsigned char *acc,
                     int mode, size_t z)
{
    const unsigned char *in = g->in;
    unsigned char *out = g->out, *tmp = acc + z;
    fg_combine_fn combine = g->combine;
    void *ctx = g->ctx;
    if (mode == FG__SCAN_REDUCE) {
        for (size_t i = begin; i < end; i++)
            combine(acc, in + i * z, ctx);
    } else if (mode == FG_SCAN_INCLUSIVE) { /* in place too: in[i] is read first */
        for (size_t i = begin; i < end; i++) {
            combine(acc, in + i * z, ctx);
            memcpy(out + i * z, acc, z);
        }
    } else if (out != in) {
        for (size_t i = begin; i < end; i++) {
            memcpy(out + i * z, acc, z);
            combine(acc, in + i * z, ctx);
        }
    } else { /* exclusive in place: keep in[i] before out[i] overwrites it */
        for (size_t i = begin; i < end; i++) {
            memcpy(tmp, out + i * z, z);
            memcpy(out + i * z, acc, z);
            combine(acc, tmp, ctx);
        }
    }
}

static void fg__scan_generic_block(size_t begin, size_t end, void *acc, int mode, void *job)
{
    const fg__scan_generic *g = job;
    switch (g->size) {
    case 4: fg__scan_generic_run(g, begin, end, acc, mode, 4); break;
    case 8: fg__scan_generic_run(g, begin, end, acc, mode, 8); break;
    case 16: fg__scan_generic_run(g, begin, end, acc, mode, 16); break;
    default: fg__scan_generic_run(g, begin, end, acc, mode, g->size); break;
    }
}

static unsigned char *fg__scan_prefix(const fg__scan *s, size_t k)
{
    return s->prefix + k * s->size;
}

static size_t fg__scan_end(const fg__scan *s, size_t k)
{
    return s->n - k * s->grain > s->grain ? (k + 1) * s->grain : s->n;
}

/* The inclusive prefix of block k - 1 (the identity before block 0), once
 * published; spins briefly, then yields, since its lane may be preempted. */
static const void *fg__scan_wait_left(fg__scan *s, size_t k)
{
    if (k == 0)
        return s->identity;
    /* acquire: the prefix written before the flag's release is visible */
    for (unsigned spins = 0; !atomic_load_explicit(&s->ready[k - 1], memory_order_acquire);
         spins++)
        if (spins >= 64)
            sched_yield();
    return fg__scan_prefix(s, k - 1);
}

static void fg__scan_publish(fg__scan *s, size_t k)
{
    /* release: block k's prefix is written before a waiter sees the flag */
    atomic_store_explicit(&s->ready[k], 1, memory_order_release);
}

/* Is block k's left prefix published already?  (acquire, as in wait_left) */
static int fg__scan_left_ready(fg__scan *s, size_t k)
{
    return k == 0 || atomic_load_explicit(&s->ready[k - 1], memory_order_acquire);
}

/* Alone, its left prefix known: one final pass, the prefix falls out. */
static void fg__scan_take_final(fg__scan *s, size_t k, unsigned char *acc)
{
    fg__elem_copy(acc, fg__scan_wait_left(s, k), s->size);
    s->block(k * s->grain, fg__scan_end(s, k), acc, s->kind, s->job);
    fg__elem_copy(fg__scan_prefix(s, k), acc, s->size);
    fg__scan_publish(s, k);
}

/* With company: reduce, chain the prefix on, rescan from the left prefix. */
static void fg__scan_take_chained(fg__scan *s, size_t k, unsigned char *acc, unsigned char *sum)
{
    size_t begin = k * s->grain, end = fg__scan_end(s, k);
    fg__elem_copy(sum, s->identity, s->size);
    s->block(begin, end, sum, FG__SCAN_REDUCE, s->job);
    const void *left = fg__scan_wait_left(s, k);
    unsigned char *mine = fg__scan_prefix(s, k);
    fg__elem_copy(mine, left, s->size);
    s->combine(mine, sum, s->ctx);
    fg__scan_publish(s, k);
    fg__elem_copy(acc, left, s->size);
    s->block(begin, end, acc, s->kind, s->job);
}

static int fg__scan_nothing(void *arg)
{
    (void)arg;
    return 0;
}

/* A lane that spawns nothing keeps its siblings unstealable (fg_join: the
 * second task is published at the worker's next spawn or sync), so until
 * every lane has started, each block ends with an empty join that
 * publishes them.  It holds no claimed block then, so whatever the worker
 * runs meanwhile cannot be waiting on this lane. */
static void fg__scan_call_lanes(fg__scan *s)
{
    if (atomic_load_explicit(&s->started, memory_order_relaxed) < s->lanes_n)
        fg_join(s->pool, fg__scan_nothing, NULL, fg__scan_nothing, NULL);
}

static int fg__scan_lane(size_t b, size_t e, void *arg)
{
    fg__scan *s = arg;
    for (size_t lane = b; lane < e; lane++) {
        unsigned char *acc = s->lanes + lane * FG__SCAN_LANE_SLOTS * s->size;
        unsigned char *sum = acc + 2 * s->size;
        atomic_fetch_add_explicit(&s->active, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->started, 1, memory_order_relaxed);
        for (;;) {
            size_t k = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed);
            if (k >= s->blocks)
                break;
            if (atomic_load_explicit(&s->active, memory_order_relaxed) == 1 &&
                fg__scan_left_ready(s, k))
                fg__scan_take_final(s, k, acc);
            else
                fg__scan_take_chained(s, k, acc, sum);
            fg__scan_call_lanes(s);
        }
        atomic_fetch_sub_explicit(&s->active, 1, memory_order_relaxed);
    }
    return 0;
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

/* One allocation: the flags, then per block a prefix, then per lane its
 * slots.  0 when the sizes overflow. */
static size_t fg__scan_bytes(size_t blocks, size_t lanes, size_t size, size_t *flags)
{
    const size_t align = alignof(max_align_t);
    *flags = (blocks * sizeof(atomic_int) + align - 1) / align * align;
    size_t slots = blocks + lanes * FG__SCAN_LANE_SLOTS;
    if (blocks > SIZE_MAX / (2 * sizeof(atomic_int)) || slots < blocks ||
        slots > (SIZE_MAX - *flags) / size)
        return 0;
    return *flags + slots * size;
}

/* Several blocks: the lanes on the pool. */
static int fg__scan_lanes(fg_pool *pool, fg__scan *s)
{
    size_t workers = (size_t)fg_pool_workers(pool), flags;
    size_t lanes = workers < s->blocks ? workers : s->blocks;
    size_t bytes = fg__scan_bytes(s->blocks, lanes, s->size, &flags);
    unsigned char *mem = bytes != 0 ? fg__alloc(bytes) : NULL;
    if (mem == NULL)
        return FG_ENOMEM;
    s->ready = (atomic_int *)(void *)mem;
    for (size_t k = 0; k < s->blocks; k++)
        atomic_init(&s->ready[k], 0);
    atomic_init(&s->next, 0);
    atomic_init(&s->active, 0);
    atomic_init(&s->started, 0);
    s->pool = pool;
    s->lanes_n = lanes;
    s->prefix = mem + flags;
    s->lanes = s->prefix + s->blocks * s->size;
    int err = fg_parallel_for(pool, 0, lanes,
                              FG_FOR_OPTS(.grain = 1, .partition = FG_PARTITION_SIMPLE),
                              fg__scan_lane, s);
    fg__free(mem);
    return err;
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
    size_t grain = opts.grain != 0 ? opts.grain : FG_SCAN_GRAIN_DEFAULT;
    if (n <= grain) { /* one block: a sequential scan here, no pool round trip */
        unsigned char *acc = fg__alloc(2 * size);
        if (acc == NULL)
            return FG_ENOMEM;
        fg__elem_copy(acc, identity, size);
        block(0, n, acc, opts.kind, job);
        fg__free(acc);
        return 0;
    }
    fg__scan s = { .n = n, .size = size, .grain = grain, .kind = opts.kind,
                   .blocks = n / grain + (n % grain != 0), .identity = identity,
                   .combine = combine, .ctx = ctx, .block = block, .job = job };
    return fg__scan_lanes(pool, &s);
}

int fg_parallel_scan(fg_pool *pool, const void *in, void *out, size_t n, size_t size,
                     const void *identity, fg_combine_fn combine, void *ctx,
                     const fg_scan_opts *opts)
{
    fg__scan_generic g = { in, out, size, combine, ctx };
    return fg__scan_run(pool, in, out, n, size, identity, combine, ctx, opts,
                        fg__scan_generic_block, &g);
}
