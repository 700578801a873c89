/* rank.c: one rank's side of fg_mpi_parallel_map.
 *
 * The caller (map.c) claims chunks from the root's counter and hands each
 * to fg__mpi_rank_submit, which spawns it on the rank's pool as the root of
 * a balanced fg_join tree whose leaves are batches (fixed size: the
 * schedule's batches; 'auto': halve until a piece fits the rank's adaptive
 * size, as the façade's STEAL backend does), so the rank's workers share a
 * chunk by stealing as usual.  Without a pool (one worker) a chunk runs in
 * the caller.  The caller then sleeps in fg__mpi_rank_wait until the tasks
 * still outstanding fall below the low-water mark (two batches per worker:
 * one running, one waiting, so a claim's round trip hides behind a batch),
 * and claims again.
 *
 * Errors and skipping follow the façade: a failing task ends its batch and
 * lowers fail_index if it is the lowest seen; a batch that starts after
 * skip_after (the lowest failure known here, this rank's or another's) is
 * skipped, so every task before the first failure runs.
 *
 * Concurrency.  Written by the caller only: chunks, nchunks, low_water's
 * value between waits.  Under `lock`: fail_index, fail_code, fail_new,
 * autobatch, and every store to skip_after (so stores only lower it).
 * Atomics read without the lock, all relaxed: skip_after and outstanding
 * are hints (a batch that misses a lowered skip_after starts no earlier
 * than the failure it missed, and may run; a late wake-up only delays a
 * claim), and the counters are read after fg_sync.  Results are written by
 * tasks into disjoint slots and reach the caller through fg_sync
 * (fg__mpi_rank_finish).  Wake-ups: a worker changes `outstanding` or the
 * failure fields, then signals under `lock`; the caller tests its
 * condition under `lock` before waiting, so none is lost.
 * Lifetime: chunks live until fg__mpi_rank_destroy, after finish.
 */
#include "rank.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "progress.h"

/* ------------------------------------------------------------ batches */

static void fg__mpi_fail(fg__mpi_rank *r, size_t k, int code)
{
    pthread_mutex_lock(&r->lock);
    if (k < r->fail_index) {
        r->fail_index = k;
        r->fail_code = code;
        r->fail_new = true;
        if (k < atomic_load_explicit(&r->skip_after, memory_order_relaxed))
            atomic_store_explicit(&r->skip_after, k, memory_order_relaxed);
        pthread_cond_signal(&r->wake);
    }
    pthread_mutex_unlock(&r->lock);
}

/* n tasks are finished (run or skipped): wake the caller below low water. */
static void fg__mpi_done(fg__mpi_rank *r, size_t n)
{
    size_t left = atomic_fetch_sub_explicit(&r->outstanding, n, memory_order_relaxed) - n;
    if (left < atomic_load_explicit(&r->low_water, memory_order_relaxed)) {
        pthread_mutex_lock(&r->lock);
        pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&r->lock);
    }
}

static void fg__mpi_autobatch_feed(fg__mpi_rank *r, size_t len, double seconds)
{
    pthread_mutex_lock(&r->lock);
    fg__autobatch *a = &r->autobatch;
    /* As the façade: leaves come from halving, so feed the duration scaled
     * to the effective size. */
    fg__autobatch_completed(a, a->size, seconds * (double)a->size / (double)len);
    double verdict;
    fg__autobatch_size(a, &verdict);
    pthread_mutex_unlock(&r->lock);
}

/* Tasks [first, last) of chunk c, in order; a failure ends the batch. */
static void fg__mpi_batch(fg__mpi_chunk *c, size_t first, size_t last)
{
    fg__mpi_rank *r = c->rank;
    if (first <= atomic_load_explicit(&r->skip_after, memory_order_relaxed) &&
        !fg_cancel_requested(r->cancel)) {
        double t0 = r->autobatch_on ? fg__now_s() : 0.0;
        const fg_cancel_token *outer = fg_cancel_scope_enter(r->cancel);
        size_t k = first, rs = r->d.result_size;
        while (k < last) {
            void *res = rs != 0 ? c->out + (k - c->first) * rs : NULL;
            int code = r->d.fn(r->begin + k, r->d.ctx, res);
            k++;
            if (code != 0) {
                fg__mpi_fail(r, k - 1, code);
                break;
            }
        }
        fg_cancel_scope_leave(outer);
        atomic_fetch_add_explicit(&r->tasks_run, k - first, memory_order_relaxed);
        atomic_fetch_add_explicit(&r->batches_run, 1, memory_order_relaxed);
        if (r->autobatch_on)
            fg__mpi_autobatch_feed(r, last - first, fg__now_s() - t0);
    }
    fg__mpi_done(r, last - first);
}

/* --------------------------------------------------------- fork-join */

typedef struct fg__mpi_span {
    fg__mpi_chunk *c;
    size_t lo, hi; /* fixed: units; auto: tasks */
} fg__mpi_span;

static int fg__mpi_tree_fixed(void *arg)
{
    fg__mpi_span *s = arg;
    if (s->hi - s->lo == 1) {
        const fg__mpi_schedule *sc = s->c->rank->sched;
        fg__mpi_batch(s->c, fg__mpi_unit_start(sc, s->lo), fg__mpi_unit_start(sc, s->hi));
        return 0;
    }
    size_t mid = s->lo + (s->hi - s->lo) / 2;
    fg__mpi_span a = { s->c, s->lo, mid }, b = { s->c, mid, s->hi };
    return fg_join(s->c->rank->pool, fg__mpi_tree_fixed, &a, fg__mpi_tree_fixed, &b);
}

static size_t fg__mpi_autobatch_now(fg__mpi_rank *r)
{
    pthread_mutex_lock(&r->lock);
    size_t size = r->autobatch.size;
    pthread_mutex_unlock(&r->lock);
    return size;
}

static int fg__mpi_tree_auto(void *arg)
{
    fg__mpi_span *s = arg;
    size_t len = s->hi - s->lo;
    if (len <= fg__mpi_autobatch_now(s->c->rank)) {
        fg__mpi_batch(s->c, s->lo, s->hi);
        return 0;
    }
    size_t mid = s->lo + len / 2;
    fg__mpi_span a = { s->c, s->lo, mid }, b = { s->c, mid, s->hi };
    return fg_join(s->c->rank->pool, fg__mpi_tree_auto, &a, fg__mpi_tree_auto, &b);
}

static int fg__mpi_chunk_root(void *arg)
{
    fg__mpi_chunk *c = arg;
    bool fixed = !c->rank->autobatch_on;
    fg__mpi_span all = { c, fixed ? c->unit_first : c->first, fixed ? c->unit_last : c->last };
    return fixed ? fg__mpi_tree_fixed(&all) : fg__mpi_tree_auto(&all);
}

/* In the caller: each unit a batch (fixed), or the chunk as one batch
 * ('auto': with one worker the cut only changes the bookkeeping).  As in
 * the façade's sequential backend, tasks see worker index 0. */
static void fg__mpi_chunk_inline(fg__mpi_chunk *c)
{
    int outer = fg_worker_scope_enter(0);
    if (c->rank->autobatch_on) {
        fg__mpi_batch(c, c->first, c->last);
    } else {
        for (size_t u = c->unit_first; u < c->unit_last; u++)
            fg__mpi_batch(c, fg__mpi_unit_start(c->rank->sched, u),
                          fg__mpi_unit_start(c->rank->sched, u + 1));
    }
    fg_worker_scope_leave(outer);
}

/* ------------------------------------------------------------ caller */

int fg__mpi_rank_init(fg__mpi_rank *r, const fg__mpi_schedule *sched, fg_delayed d,
                      size_t begin, char *results, fg_pool *pool, int workers,
                      const fg_cancel_token *cancel, bool autobatch_on)
{
    *r = (fg__mpi_rank){ .sched = sched, .d = d, .begin = begin, .results = results,
                         .pool = pool, .cancel = cancel, .autobatch_on = autobatch_on,
                         .fail_index = SIZE_MAX };
    atomic_init(&r->skip_after, SIZE_MAX);
    atomic_init(&r->outstanding, 0);
    atomic_init(&r->tasks_run, 0);
    atomic_init(&r->batches_run, 0);
    atomic_init(&r->low_water, 2 * (size_t)(workers > 0 ? workers : 1) * sched->batch);
    fg__autobatch_init(&r->autobatch, FG_BATCH_AUTO_MIN_S, FG_BATCH_AUTO_MAX_S);
    r->workers = workers > 0 ? workers : 1;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&r->lock, NULL);
    if (pool != NULL && fg_group_init(&r->group, pool) < 0) {
        r->pool = NULL; /* a pool that went away: r stays usable, empty */
        return FG_EINVAL;
    }
    return 0;
}

/* Record chunk `index`: its ranges and where its results go. */
static fg__mpi_chunk *fg__mpi_chunk_new(fg__mpi_rank *r, size_t index)
{
    if (r->nchunks == r->chunks_cap) {
        size_t cap = r->chunks_cap > 0 ? 2 * r->chunks_cap : 16;
        fg__mpi_chunk **grown = realloc(r->chunks, cap * sizeof *grown);
        if (grown == NULL)
            return NULL;
        r->chunks = grown;
        r->chunks_cap = cap;
    }
    fg__mpi_chunk *c = malloc(sizeof *c);
    if (c == NULL)
        return NULL;
    const fg__mpi_schedule *s = r->sched;
    *c = (fg__mpi_chunk){ .rank = r, .index = index, .unit_first = s->chunk_start[index],
                          .unit_last = s->chunk_start[index + 1] };
    c->first = fg__mpi_unit_start(s, c->unit_first);
    c->last = fg__mpi_unit_start(s, c->unit_last);
    size_t rs = r->d.result_size;
    if (rs != 0 && r->results != NULL) {
        c->out = r->results + c->first * rs;
    } else if (rs != 0) {
        c->out = malloc((c->last - c->first) * rs);
        c->own_out = true;
        if (c->out == NULL) {
            free(c);
            return NULL;
        }
    }
    r->chunks[r->nchunks++] = c;
    return c;
}

int fg__mpi_rank_submit(fg__mpi_rank *r, size_t index)
{
    fg__mpi_chunk *c = fg__mpi_chunk_new(r, index);
    if (c == NULL)
        return FG_ENOMEM;
    atomic_fetch_add_explicit(&r->outstanding, c->last - c->first, memory_order_relaxed);
    if (r->autobatch_on) {
        /* Two batches per worker, at the size learned so far. */
        size_t want = 2 * (size_t)r->workers * fg__mpi_autobatch_now(r);
        atomic_store_explicit(&r->low_water, want, memory_order_relaxed);
    }
    int err = r->pool != NULL ? fg_spawn(&r->group, fg__mpi_chunk_root, c) : 0;
    if (r->pool == NULL || err < 0) /* FG_ESHUTDOWN: run it here, lose nothing */
        fg__mpi_chunk_inline(c);
    return err;
}

size_t fg__mpi_rank_low_water(fg__mpi_rank *r)
{
    return atomic_load_explicit(&r->low_water, memory_order_relaxed);
}

bool fg__mpi_rank_wait(fg__mpi_rank *r, size_t below, uint64_t timeout_ns)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(timeout_ns / 1000000000u);
    until.tv_nsec += (long)(timeout_ns % 1000000000u);
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->lock);
    while (!r->fail_new && atomic_load_explicit(&r->outstanding, memory_order_relaxed) >= below) {
        if (timeout_ns == 0) {
            pthread_cond_wait(&r->wake, &r->lock);
        } else if (pthread_cond_timedwait(&r->wake, &r->lock, &until) == ETIMEDOUT) {
            break;
        }
    }
    bool fresh = r->fail_new;
    r->fail_new = false;
    pthread_mutex_unlock(&r->lock);
    return fresh;
}

void fg__mpi_rank_skip_after(fg__mpi_rank *r, size_t index)
{
    pthread_mutex_lock(&r->lock);
    if (index < atomic_load_explicit(&r->skip_after, memory_order_relaxed))
        atomic_store_explicit(&r->skip_after, index, memory_order_relaxed);
    pthread_mutex_unlock(&r->lock);
}

int fg__mpi_rank_finish(fg__mpi_rank *r)
{
    return r->pool != NULL ? fg_sync(&r->group) : 0;
}

void fg__mpi_rank_destroy(fg__mpi_rank *r)
{
    for (size_t i = 0; i < r->nchunks; i++) {
        if (r->chunks[i]->own_out)
            free(r->chunks[i]->out);
        free(r->chunks[i]);
    }
    free(r->chunks);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
}
