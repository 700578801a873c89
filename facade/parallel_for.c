/* parallel_for.c: fg_parallel_for and fg_parallel_reduce, built on fg_join.
 * See docs/design/parallel_for.md.
 *
 * A loop is a binary tree of spans.  A span either splits at its midpoint
 * (one fg_join of its halves) or runs its range as one chunk.  When it may
 * split is the partition mode's only job:
 *   SIMPLE  whenever both halves keep at least `grain` indices;
 *   AUTO    rayon's adaptive rule: a span starts with `splits` = workers and
 *           halves it at every split; when it runs on another worker than
 *           the one that made it (it was stolen), it resets to
 *           max(splits / 2, workers).  So splitting continues only where
 *           thieves take work, and one worker splits just once;
 *   STATIC  a span covers `splits` equal blocks (min(workers, len / grain))
 *           and splits between blocks; a single block runs whole.
 * Errors: the first nonzero chunk result is kept in loop.error (CAS), and a
 * span that starts after it skips its range, so unstarted chunks never run.
 * The chunk whose CAS won records its range for fg_for_opts.error.
 *
 * Concurrency: spans are fork-join frames on workers' stacks; the only
 * shared word of a loop is `error`.  Ordering comes from fg_join: a chunk's
 * effects (and reduce partials) are visible to the span that joined it.
 */
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "forage.h"

#include "root.h"
#include "seam.h"

#define FG__PARTIAL_STACK_BYTES 256

typedef struct fg__loop {
    fg_pool *pool;
    size_t grain;
    int partition;
    unsigned workers;
    fg_range_fn body;         /* fg_parallel_for */
    fg_reduce_fn reduce;      /* fg_parallel_reduce (body is NULL) */
    fg_combine_fn combine;
    const void *identity;
    size_t partial_size;
    void *ctx;
    _Atomic int error;    /* first nonzero chunk result; nonzero stops the loop */
    const fg_cancel_token *cancel; /* fg_for_opts.cancel: set stops it too */
    fg_error_info *info;      /* fg_for_opts.error, may be NULL */
    size_t fail_begin, fail_end; /* the failing chunk: written by the one
                                    chunk that set `error`, read after the
                                    joins */
} fg__loop;

typedef struct fg__span {
    fg__loop *loop;
    size_t begin, end;
    size_t splits;            /* AUTO: splits left; STATIC: blocks covered */
    int worker;               /* AUTO: worker that made this span */
    void *partial;            /* reduce: accumulator of this span */
} fg__span;

static void fg__loop_fail(fg__loop *l, int err, size_t begin, size_t end)
{
    int none = 0;
    if (atomic_compare_exchange_strong_explicit(&l->error, &none, err, memory_order_relaxed,
                                                memory_order_relaxed)) {
        l->fail_begin = begin;
        l->fail_end = end;
    }
}

static bool fg__span_auto_split(fg__span *s)
{
    int me = fg_worker_index();
    if (s->worker < 0) /* the root, handed in from a non-worker: not a theft */
        s->worker = me;
    if (me != s->worker) { /* stolen: thieves are hungry, split more */
        s->worker = me;
        s->splits = s->splits / 2 > s->loop->workers ? s->splits / 2 : s->loop->workers;
        return true;
    }
    if (s->splits == 0)
        return false;
    s->splits /= 2;
    return true;
}

/* Where to cut, or 0 to run the span as one chunk. */
static size_t fg__span_split_point(fg__span *s)
{
    size_t len = s->end - s->begin;
    switch (s->loop->partition) {
    case FG_PARTITION_STATIC:
        if (s->splits < 2)
            return 0;
        /* Block boundaries of an even division; 128-bit to avoid overflow. */
        return s->begin + (size_t)((unsigned __int128)len * (s->splits / 2) / s->splits);
    case FG_PARTITION_AUTO:
        if (len / 2 < s->loop->grain || !fg__span_auto_split(s))
            return 0;
        return s->begin + len / 2;
    default: /* SIMPLE */
        return len / 2 < s->loop->grain ? 0 : s->begin + len / 2;
    }
}

static void fg__span_chunk(fg__span *s)
{
    fg__loop *l = s->loop;
    fg__record_label(FG__RECORD_CHUNK);
    const fg_cancel_token *outer = fg_cancel_scope_enter(l->cancel);
    int err = l->body != NULL ? l->body(s->begin, s->end, l->ctx)
                              : l->reduce(s->begin, s->end, s->partial, l->ctx);
    fg_cancel_scope_leave(outer);
    if (err != 0)
        fg__loop_fail(l, err, s->begin, s->end);
}

static int fg__span_run(void *arg);

/* Split s at mid: the left half keeps s's partial, the right one gets a
 * fresh identity, then the two are combined in index order. */
static void fg__span_fork(fg__span *s, size_t mid)
{
    fg__loop *l = s->loop;
    fg__span lo = *s, hi = *s;
    lo.end = hi.begin = mid;
    if (l->partition == FG_PARTITION_STATIC) {
        lo.splits = s->splits / 2;
        hi.splits = s->splits - lo.splits;
    }
    _Alignas(max_align_t) unsigned char stack_partial[FG__PARTIAL_STACK_BYTES];
    if (l->reduce != NULL) {
        hi.partial = l->partial_size <= sizeof stack_partial ? stack_partial
                                                             : fg__alloc(l->partial_size);
        if (hi.partial == NULL) {
            fg__loop_fail(l, FG_ENOMEM, s->begin, s->end);
            return;
        }
        memcpy(hi.partial, l->identity, l->partial_size);
    }
    fg_join(l->pool, fg__span_run, &lo, fg__span_run, &hi);
    if (l->reduce != NULL) {
        if (atomic_load_explicit(&l->error, memory_order_relaxed) == 0)
            l->combine(s->partial, hi.partial, l->ctx);
        if (hi.partial != stack_partial)
            fg__free(hi.partial);
    }
}

static int fg__span_run(void *arg)
{
    fg__span *s = arg;
    if (atomic_load_explicit(&s->loop->error, memory_order_relaxed) != 0 ||
        (s->loop->cancel != NULL && fg_cancel_requested(s->loop->cancel)))
        return 0; /* a chunk failed, or the loop was cancelled: do not start */
    size_t mid = fg__span_split_point(s);
    if (mid == 0)
        fg__span_chunk(s);
    else
        fg__span_fork(s, mid);
    return 0;
}

/* Fill fg_for_opts.error, if given: the failing chunk, or code 0. */
static void fg__loop_report(const fg__loop *l, int err)
{
    if (l->info == NULL)
        return;
    fg_error_info out = FG_ERROR_INFO_INIT(.code = err);
    if (err != 0) {
        out.index = l->fail_begin;
        out.end = l->fail_end;
    }
    fg__struct_write(l->info, &out, sizeof out);
}

/* Run the root span on the pool: directly on one of its workers, through
 * the injector from any other thread (root.h). */
static int fg__loop_run(fg__loop *l, size_t begin, size_t end, void *partial)
{
    size_t len = end - begin;
    fg__span root = { .loop = l, .begin = begin, .end = end, .worker = -1,
                      .partial = partial, .splits = l->workers };
    if (l->partition == FG_PARTITION_STATIC) {
        size_t blocks = len / l->grain;
        root.splits = blocks < l->workers ? (blocks > 0 ? blocks : 1) : l->workers;
    }
    if (fg_pool_current() == l->pool)
        root.worker = fg_worker_index();
    int err = fg__root_run(l->pool, fg__span_run, &root);
    if (err < 0)
        return err; /* FG_ESHUTDOWN: nothing ran */
    err = atomic_load_explicit(&l->error, memory_order_relaxed);
    fg__loop_report(l, err);
    return err == 0 && fg_cancel_requested(l->cancel) ? FG_ECANCELED : err;
}

static int fg__loop_init(fg__loop *l, fg_pool *pool, size_t begin, size_t end,
                         const fg_for_opts *user)
{
    fg_for_opts opts;
    if (fg__struct_read(&opts, sizeof opts, user) < 0)
        return FG_ESIZE;
    if (opts.error != NULL && fg__struct_check_out(opts.error) < 0)
        return FG_ESIZE;
    int workers = fg_pool_workers(pool); /* FG_EINVAL for NULL or a dead pool */
    if (workers < 0 || begin > end || opts.partition < FG_PARTITION_AUTO ||
        opts.partition > FG_PARTITION_STATIC)
        return FG_EINVAL;
    *l = (fg__loop){ .pool = pool, .grain = opts.grain != 0 ? opts.grain : 1,
                     .partition = opts.partition, .workers = (unsigned)workers,
                     .cancel = opts.cancel, .info = opts.error };
    atomic_init(&l->error, 0);
    return 0;
}

int fg_parallel_for(fg_pool *pool, size_t begin, size_t end, const fg_for_opts *opts,
                    fg_range_fn body, void *ctx)
{
    fg__loop l;
    int err = fg__loop_init(&l, pool, begin, end, opts);
    if (err < 0 || body == NULL)
        return err < 0 ? err : FG_EINVAL;
    if (begin == end) {
        fg__loop_report(&l, 0);
        return 0;
    }
    l.body = body;
    l.ctx = ctx;
    return fg__loop_run(&l, begin, end, NULL);
}

int fg_parallel_reduce(fg_pool *pool, size_t begin, size_t end, const fg_for_opts *opts,
                       size_t partial_size, const void *identity, fg_reduce_fn body,
                       fg_combine_fn combine, void *ctx, void *result)
{
    fg__loop l;
    int err = fg__loop_init(&l, pool, begin, end, opts);
    if (err < 0)
        return err;
    if (body == NULL || combine == NULL || identity == NULL || result == NULL ||
        partial_size == 0)
        return FG_EINVAL;
    memmove(result, identity, partial_size);
    if (begin == end) {
        fg__loop_report(&l, 0);
        return 0;
    }
    l.reduce = body;
    l.combine = combine;
    l.identity = identity;
    l.partial_size = partial_size;
    l.ctx = ctx;
    return fg__loop_run(&l, begin, end, result);
}

/* FG_PARALLEL_FOR's out-of-line part (forage.h): the same checks and
 * defaults as fg_parallel_for. */
int fg__for_inline_prepare(fg_pool *pool, size_t begin, size_t end, const fg_for_opts *user,
                           fg__for_loop *loop)
{
    fg__loop l;
    int err = fg__loop_init(&l, pool, begin, end, user);
    if (err < 0)
        return err;
    loop->grain = l.grain;
    loop->cancel = l.cancel;
    loop->error = 0;
    return 0;
}
