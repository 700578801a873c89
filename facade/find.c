/* find.c: fg_parallel_find_first and fg_parallel_find_any.
 * See docs/design/find.md.
 *
 * A search is a sweep from the left.  One runner per worker (a group task)
 * takes the next chunk (FG_FIND_CHUNK indices, fewer in short ranges) from
 * a shared counter, so chunks start in index order, and checks it index by
 * index.  `found` is the lowest hit so far (SIZE_MAX: none).
 *   first  a runner leaves its chunk at an index above `found` (nothing
 *          there can be the answer) and takes no chunk that starts above
 *          it; every index below `found` is still checked.
 *   any    any hit stops every runner at its next index.
 * Chunks go out in order, so when the hit in chunk c is published the other
 * runners hold chunks at most workers - 1 above c, and leave them at once.
 * A predicate may ask fg_cancelled(): each runner has a token, which a hit
 * sets when the runner's current index (`at`) is past it (any: always).
 *
 * Concurrency: `next` only hands out chunk numbers, `found` is a CAS-min,
 * `at` and the tokens are advice (read late, one predicate is not told);
 * all relaxed, because nothing is published through them: the caller reads
 * `found` after fg_sync, which orders every runner's writes before it.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "forage.h"

typedef struct fg__find fg__find;

/* One runner: its predicates run in the scope of `stop`, which a hit sets
 * when the index the runner is checking (`at`) can no longer matter. */
typedef struct fg__find_runner {
    fg__find *f;
    _Atomic size_t at;     /* index being checked; SIZE_MAX: none yet */
    fg_cancel_token stop;
} fg__find_runner;

struct fg__find {
    size_t begin, end, chunk, chunks;
    fg_pred_fn pred;
    void *ctx;
    bool any;              /* find_any: a hit anywhere stops everyone */
    _Atomic size_t next;   /* next chunk number to hand out */
    _Atomic size_t found;  /* lowest hit so far; SIZE_MAX: none */
    fg__find_runner *runners;
    size_t nrunners;
};

static void fg__find_hit(fg__find *f, size_t i)
{
    size_t seen = atomic_load_explicit(&f->found, memory_order_relaxed);
    while (i < seen && !atomic_compare_exchange_weak_explicit(
                           &f->found, &seen, i, memory_order_relaxed, memory_order_relaxed)) {}
    if (i > seen)
        return; /* a lower hit was there first and did this */
    /* Tell predicates running past the hit (any: all of them) via
     * fg_cancelled().  `at` may be read late: then one predicate is not
     * told, which the contract allows (it is advice). */
    for (size_t r = 0; r < f->nrunners; r++) {
        size_t at = atomic_load_explicit(&f->runners[r].at, memory_order_relaxed);
        if (at != SIZE_MAX && (f->any || at > i))
            fg_cancel(&f->runners[r].stop);
    }
}

/* May index i still matter? */
static bool fg__find_open(fg__find *f, size_t i)
{
    size_t found = atomic_load_explicit(&f->found, memory_order_relaxed);
    return f->any ? found == SIZE_MAX : i < found;
}

/* Check one chunk; false once nothing further right can matter. */
static bool fg__find_chunk(fg__find_runner *r, size_t c)
{
    fg__find *f = r->f;
    size_t lo = f->begin + c * f->chunk;
    size_t hi = f->end - lo > f->chunk ? lo + f->chunk : f->end;
    for (size_t i = lo; i < hi; i++) {
        atomic_store_explicit(&r->at, i, memory_order_relaxed);
        if (!fg__find_open(f, i))
            return false;
        if (f->pred(i, f->ctx) != 0) {
            fg__find_hit(f, i);
            return false;
        }
    }
    return true;
}

static int fg__find_run_chunks(void *arg)
{
    fg__find_runner *r = arg;
    const fg_cancel_token *outer = fg_cancel_scope_enter(&r->stop);
    for (;;) {
        size_t c = atomic_fetch_add_explicit(&r->f->next, 1, memory_order_relaxed);
        if (c >= r->f->chunks || !fg__find_chunk(r, c))
            break;
    }
    fg_cancel_scope_leave(outer);
    return 0;
}

static int fg__find_run(fg_pool *pool, size_t begin, size_t end, fg_pred_fn pred, void *ctx,
                        size_t *index, bool any)
{
    int workers = fg_pool_workers(pool); /* FG_EINVAL for NULL or a dead pool */
    if (workers < 0 || pred == NULL || index == NULL || begin > end)
        return FG_EINVAL;
    size_t len = end - begin;
    /* Short ranges get shorter chunks, about 16 per worker, so that a few
     * expensive predicates still spread over the workers. */
    size_t chunk = len / (16 * (size_t)workers);
    chunk = chunk < 1 ? 1 : chunk > FG_FIND_CHUNK ? FG_FIND_CHUNK : chunk;
    fg__find f = { .begin = begin, .end = end, .pred = pred, .ctx = ctx, .any = any,
                   .chunk = chunk, .chunks = len / chunk + (len % chunk != 0) };
    atomic_init(&f.next, 0);
    atomic_init(&f.found, SIZE_MAX);
    fg__find_runner runners[FG_MAX_WORKERS]; /* 24 bytes each, on this stack */
    f.nrunners = f.chunks < (size_t)workers ? f.chunks : (size_t)workers;
    f.runners = runners;
    for (size_t r = 0; r < f.nrunners; r++) {
        runners[r] = (fg__find_runner){ .f = &f, .stop = FG_CANCEL_TOKEN_INIT };
        atomic_init(&runners[r].at, SIZE_MAX);
    }
    fg_group g;
    fg_group_init(&g, pool);
    int err = 0;
    for (size_t r = 0; r < f.nrunners; r++) {
        err = fg_spawn(&g, fg__find_run_chunks, &runners[r]);
        if (err < 0)
            break; /* the runners already spawned take every chunk */
    }
    int sync = fg_sync(&g);
    if (err < 0 && atomic_load_explicit(&f.next, memory_order_relaxed) == 0)
        return err; /* FG_ESHUTDOWN before any runner: nothing ran */
    (void)sync;     /* runners return 0 */
    size_t found = atomic_load_explicit(&f.found, memory_order_relaxed);
    *index = found == SIZE_MAX ? end : found;
    return 0;
}

int fg_parallel_find_first(fg_pool *pool, size_t begin, size_t end, fg_pred_fn pred, void *ctx,
                           size_t *index)
{
    return fg__find_run(pool, begin, end, pred, ctx, index, false);
}

int fg_parallel_find_any(fg_pool *pool, size_t begin, size_t end, fg_pred_fn pred, void *ctx,
                         size_t *index)
{
    return fg__find_run(pool, begin, end, pred, ctx, index, true);
}
