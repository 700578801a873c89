/* radix_sort.c: fg_parallel_sort_u64/_i64/_double, a parallel LSD radix
 * sort of 64-bit keys with 8-bit digits.  A client of forage.h
 * (fg_parallel_for).  See docs/design/sort.md.
 *
 * Keys are first mapped in place to unsigned integers that order as the
 * type does (i64: flip the sign bit; double: IEEE 754 totalOrder, flip
 * every bit of a negative and the sign bit of a positive), and mapped back
 * at the end.  The array is cut into `blocks` equal blocks (independent of
 * the worker count).  The first sweep maps the keys and counts all eight
 * digits per block; a digit whose count shows one value in every key is
 * skipped.  For each remaining digit, least significant first: count that
 * digit per block (the first digit reuses the first sweep's counts), turn
 * the counts into every block's write offsets (digit-major, then block, on
 * the caller), then every block scatters its keys to the other array.  LSD
 * passes are stable, and each block writes to offsets no other block owns.
 *
 * Concurrency: each block's body writes only its own count row and its own
 * destination slots; fg_parallel_for's return orders the writes before the
 * caller reads counts or the next sweep reads keys.  No atomics.
 */
#include <stdint.h>
#include <string.h>

#include "forage.h"

#include "seam.h"

#define FG__RADIX_DIGITS 8
#define FG__RADIX_VALUES 256
#define FG__RADIX_BLOCK_MIN 65536 /* elements: smaller blocks cost more counting */
#define FG__RADIX_BLOCKS_MAX 64

enum { FG__KEY_U64, FG__KEY_I64, FG__KEY_DOUBLE };

/* A key word that may alias the caller's doubles. */
typedef uint64_t fg__key __attribute__((may_alias));

typedef size_t fg__radix_counts[FG__RADIX_DIGITS][FG__RADIX_VALUES];

typedef struct fg__radix {
    fg_pool *pool;
    int kind;
    fg__key *keys, *buf; /* the caller's array, and a buffer as long */
    fg__key *src, *dst;  /* this pass: from, to */
    size_t n, blocks;
    unsigned digit;          /* this pass's digit (0: least significant) */
    fg__radix_counts *count; /* per block: [digit][value] counts, then
                                this pass's write offsets in [digit] */
} fg__radix;

static uint64_t fg__key_in(uint64_t k, int kind)
{
    if (kind == FG__KEY_I64)
        return k ^ (1ull << 63);
    if (kind == FG__KEY_DOUBLE) /* negative: reverse all; positive: above them */
        return k >> 63 ? ~k : k ^ (1ull << 63);
    return k;
}

static uint64_t fg__key_out(uint64_t k, int kind)
{
    if (kind == FG__KEY_I64)
        return k ^ (1ull << 63);
    if (kind == FG__KEY_DOUBLE)
        return k >> 63 ? k ^ (1ull << 63) : ~k;
    return k;
}

static void fg__radix_block(const fg__radix *r, size_t b, size_t *begin, size_t *end)
{
    *begin = (size_t)((unsigned __int128)r->n * b / r->blocks);
    *end = (size_t)((unsigned __int128)r->n * (b + 1) / r->blocks);
}

/* Sweep 1: map the keys, count every digit. */
static int fg__radix_prepare(size_t b0, size_t b1, void *arg)
{
    fg__radix *r = arg;
    for (size_t b = b0; b < b1; b++) {
        size_t begin, end;
        fg__radix_block(r, b, &begin, &end);
        size_t(*c)[FG__RADIX_VALUES] = r->count[b];
        memset(c, 0, sizeof r->count[b]);
        for (size_t i = begin; i < end; i++) {
            uint64_t k = fg__key_in(r->keys[i], r->kind);
            if (r->kind != FG__KEY_U64) /* u64 keys map to themselves: no store */
                r->keys[i] = k;
            for (unsigned d = 0; d < FG__RADIX_DIGITS; d++)
                c[d][(k >> (8 * d)) & 0xff]++;
        }
    }
    return 0;
}

/* Count this pass's digit in each block of src. */
static int fg__radix_count(size_t b0, size_t b1, void *arg)
{
    fg__radix *r = arg;
    for (size_t b = b0; b < b1; b++) {
        size_t begin, end, *c = r->count[b][r->digit];
        fg__radix_block(r, b, &begin, &end);
        memset(c, 0, sizeof r->count[b][r->digit]);
        unsigned shift = 8 * r->digit;
        for (size_t i = begin; i < end; i++)
            c[(r->src[i] >> shift) & 0xff]++;
    }
    return 0;
}

static int fg__radix_scatter(size_t b0, size_t b1, void *arg)
{
    fg__radix *r = arg;
    for (size_t b = b0; b < b1; b++) {
        size_t begin, end, at[FG__RADIX_VALUES];
        fg__radix_block(r, b, &begin, &end);
        memcpy(at, r->count[b][r->digit], sizeof at);
        unsigned shift = 8 * r->digit;
        fg__key *src = r->src, *dst = r->dst;
        for (size_t i = begin; i < end; i++) {
            uint64_t k = src[i];
            dst[at[(k >> shift) & 0xff]++] = k;
        }
    }
    return 0;
}

/* Map back, into the caller's array when the result is in the buffer. */
static int fg__radix_finish(size_t b0, size_t b1, void *arg)
{
    fg__radix *r = arg;
    for (size_t b = b0; b < b1; b++) {
        size_t begin, end;
        fg__radix_block(r, b, &begin, &end);
        for (size_t i = begin; i < end; i++)
            r->keys[i] = fg__key_out(r->src[i], r->kind);
    }
    return 0;
}

/* One sweep over the blocks: on the pool, or here when there is one. */
static int fg__radix_sweep(fg__radix *r, fg_range_fn fn)
{
    if (r->blocks == 1)
        return fn(0, 1, r);
    return fg_parallel_for(r->pool, 0, r->blocks, NULL, fn, r);
}

/* Counts into write offsets: value-major, then block order. */
static void fg__radix_offsets(fg__radix *r)
{
    size_t at = 0;
    for (unsigned v = 0; v < FG__RADIX_VALUES; v++)
        for (size_t b = 0; b < r->blocks; b++) {
            size_t c = r->count[b][r->digit][v];
            r->count[b][r->digit][v] = at;
            at += c;
        }
}

/* Is digit d the same in every key (one value holds all n)? */
static int fg__radix_constant(const fg__radix *r, unsigned d)
{
    for (unsigned v = 0; v < FG__RADIX_VALUES; v++) {
        size_t total = 0;
        for (size_t b = 0; b < r->blocks; b++)
            total += r->count[b][d][v];
        if (total != 0)
            return total == r->n;
    }
    return 1;
}

static int fg__radix_passes(fg__radix *r)
{
    int err = fg__radix_sweep(r, fg__radix_prepare);
    if (err != 0)
        return err; /* FG_ESHUTDOWN: nothing ran */
    unsigned char constant[FG__RADIX_DIGITS];
    for (unsigned d = 0; d < FG__RADIX_DIGITS; d++)
        constant[d] = (unsigned char)fg__radix_constant(r, d);
    /* The prepare sweep's counts describe src's blocks; after a scatter
     * they do not, unless there is one block, whose counts are the totals
     * (no permutation changes them). */
    int counted = 1;
    for (unsigned d = 0; d < FG__RADIX_DIGITS && err == 0; d++) {
        if (constant[d])
            continue;
        r->digit = d;
        if (!counted)
            err = fg__radix_sweep(r, fg__radix_count);
        counted = r->blocks == 1;
        if (err != 0)
            break;
        fg__radix_offsets(r);
        err = fg__radix_sweep(r, fg__radix_scatter);
        fg__key *t = r->src;
        r->src = r->dst;
        r->dst = t;
    }
    if (err != 0 || (r->kind == FG__KEY_U64 && r->src == r->keys))
        return err; /* already in place, nothing to map back */
    return fg__radix_sweep(r, fg__radix_finish);
}

static int fg__radix_sort(fg_pool *pool, fg__key *keys, size_t n, int kind)
{
    if (fg_pool_workers(pool) < 0 || (n > 0 && keys == NULL) || n > SIZE_MAX / sizeof *keys)
        return FG_EINVAL;
    if (n < 2)
        return 0;
    size_t blocks = n / FG__RADIX_BLOCK_MIN;
    blocks = blocks < 1 ? 1 : blocks > FG__RADIX_BLOCKS_MAX ? FG__RADIX_BLOCKS_MAX : blocks;
    fg__radix r = { .pool = pool, .kind = kind, .keys = keys, .n = n, .blocks = blocks };
    r.buf = fg__alloc(n * sizeof *keys);
    r.count = fg__alloc(blocks * sizeof *r.count);
    int err = FG_ENOMEM;
    if (r.buf != NULL && r.count != NULL) {
        r.src = keys;
        r.dst = r.buf;
        err = fg__radix_passes(&r);
    }
    fg__free(r.buf);
    fg__free(r.count);
    return err;
}

int fg_parallel_sort_u64(fg_pool *pool, uint64_t *base, size_t n)
{
    return fg__radix_sort(pool, base, n, FG__KEY_U64);
}

int fg_parallel_sort_i64(fg_pool *pool, int64_t *base, size_t n)
{
    return fg__radix_sort(pool, (fg__key *)base, n, FG__KEY_I64);
}

/* doubles are sorted as their bit patterns (IEEE 754 binary64, the only
 * double C11 Annex F and every platform forage runs on use). */
_Static_assert(sizeof(double) == sizeof(uint64_t), "double is not 64 bits");

int fg_parallel_sort_double(fg_pool *pool, double *base, size_t n)
{
    return fg__radix_sort(pool, (fg__key *)(void *)base, n, FG__KEY_DOUBLE);
}
