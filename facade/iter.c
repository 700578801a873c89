/* iter.c: streaming results, fg_parallel_iter_open/next/close.
 * See docs/design/iter.md.
 *
 * An iterator owns a window of `nslots` batch slots.  A slot is
 *   FREE -> PENDING (a batch was cut into it, waiting for a runner)
 *        -> RUNNING -> DONE (ran or was skipped; results in its buffer)
 *        -> READING (the current slot, handed out result by result) -> FREE.
 * Index order reads slots in dispatch order, a ring: batch number q lives
 * in slot q % nslots and is dispatched only once batch q - nslots was read.
 * Completion order keeps a stack of free slots and a FIFO of done ones.
 * Batches are dispatched into free slots whenever a reader frees one, so
 * memory is the window, not n.
 *
 * Runners pull: a dispatched batch goes into the PENDING FIFO, and on a
 * pool one runner task is spawned into the iterator's group per batch; a
 * runner takes the oldest pending batch, if any is left, and runs it.  A
 * reader that must wait runs a pending batch itself when it is a worker of
 * the pool (it must not sleep: that batch's runner may sit in its own
 * deque) or when there is no pool (the sequential backend: every batch
 * runs in the next() that needs it).  With nothing pending, every batch in
 * flight is running on some thread, and readers sleep on `changed`.  On
 * the process backend (iter_process.c) a dispatched batch is sent to the
 * worker processes at once, and one waiting reader at a time watches them
 * (`watching`) and collects finished batches into their slots; the slots'
 * buffers are then in the shared region.
 *
 * Concurrency: `lock` guards every field below it in the struct and every
 * slot's state, bounds and cursor; a runner writes its slot's buffer before
 * taking the lock to mark it DONE, and readers read it only after, so the
 * lock orders them.  `fail_index`, `closing` and `tasks_run` are atomics
 * that runners read without the lock (relaxed: a late read only means one
 * more task or batch runs, which the rules allow).  Close waits until no
 * thread is inside next, then syncs the runners' group, so no runner still
 * touches the iterator when it is freed.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "forage.h"

#include "batching.h"
#include "forked.h"
#include "iter.h"
#include "iter_process.h"
#include "map.h"
#include "progress.h"
#include "seam.h"

enum { FG__FREE, FG__PENDING, FG__RUNNING, FG__DONE, FG__READING };

typedef struct fg__iter_slot {
    size_t start, len;         /* tasks [start, start + len), relative */
    size_t ran;                /* results [0, ran) are in buf */
    int code;                  /* nonzero: task start + ran failed */
    bool skipped;              /* not started: cancelled or after a failure */
    int state;
    size_t cursor;             /* READING: next result to hand out */
    double started_s;          /* for the adaptive batch size */
    int term_signal, exit_status; /* process backend: how the worker died */
    char *buf;                 /* cap tasks' results */
    size_t cap;
} fg__iter_slot;

struct fg_parallel_iter {
    fg_delayed d;
    fg_parallel *par;              /* for its printer */
    fg__progress_state prog;       /* joblib's counters for the lines (under lock) */
    size_t begin, total;
    int order;
    fg_pool *pool;                 /* NULL: sequential (run in next()) or processes */
    fg__iter_proc *proc;           /* the process backend's workers, else NULL */
    bool watching;                 /* a reader watches proc (under lock) */
    bool shared_bufs;              /* the slots' buffers are proc's */
    size_t used, used_high;        /* slots not FREE, and their high-water mark */
    const fg_cancel_token *cancel; /* par's */
    size_t batch;                  /* fixed size; 0: adaptive */
    fg_group runners;              /* pool: one runner task per batch */
    _Atomic size_t fail_index;     /* lowest failing task; SIZE_MAX: none */
    atomic_bool closing;
    _Atomic size_t tasks_run;
    fg__iter_slot *slots;
    size_t nslots;
    pthread_mutex_t lock;
    pthread_cond_t changed;        /* a slot changed state, or close began */
    fg__autobatch autobatch;       /* batch == 0 */
    size_t pos;                    /* next task to dispatch */
    size_t queued, read;           /* index order: batches dispatched, read */
    size_t *free_slots, nfree;     /* completion order */
    size_t *done, done_head, done_len;
    size_t *pending, pending_head, pending_len;
    size_t in_flight;              /* PENDING and RUNNING slots */
    fg__iter_slot *current;        /* READING */
    int end_code;                  /* nonzero: the iterator has ended */
    size_t end_index;
    bool end_has_index;
    int inside;                    /* threads in next() */
    size_t fail_at;                /* lowest failure seen back; SIZE_MAX: none */
    int fail_code;                 /* its code */
    int fail_signal, fail_status;  /* process backend: how its worker died */
};

static bool fg__iter_ordered(const fg_parallel_iter *it)
{
    return it->order == FG_ORDER_INDEX;
}

static void fg__iter_fail(fg_parallel_iter *it, size_t k)
{
    size_t seen = atomic_load_explicit(&it->fail_index, memory_order_relaxed);
    while (k < seen && !atomic_compare_exchange_weak_explicit(
                           &it->fail_index, &seen, k, memory_order_relaxed, memory_order_relaxed)) {}
}

/* ------------------------------------------------------------ runners */

/* Under the lock: the batch in s is back. */
static void fg__iter_finished(fg_parallel_iter *it, fg__iter_slot *s)
{
    s->state = FG__DONE;
    it->in_flight--;
    if (s->code != 0 && s->start + s->ran < it->fail_at) {
        it->fail_at = s->start + s->ran;
        it->fail_code = s->code;
        it->fail_signal = s->term_signal;
        it->fail_status = s->exit_status;
    }
    if (it->batch == 0 && !s->skipped && s->ran == s->len)
        fg__autobatch_completed(&it->autobatch, s->len, fg__now_s() - s->started_s);
    it->prog.completed_tasks += s->ran;
    it->prog.input_left = it->pos < it->total;
    if (!s->skipped && s->code == 0)
        fg__print_progress(&it->par->printer, &it->prog, fg__now_s());
    if (!fg__iter_ordered(it))
        it->done[(it->done_head + it->done_len++) % it->nslots] = (size_t)(s - it->slots);
    pthread_cond_broadcast(&it->changed);
}

/* Under the lock: take the oldest pending batch (RUNNING), or NULL. */
static fg__iter_slot *fg__iter_take(fg_parallel_iter *it)
{
    if (it->pending_len == 0)
        return NULL;
    fg__iter_slot *s = &it->slots[it->pending[it->pending_head]];
    it->pending_head = (it->pending_head + 1) % it->nslots;
    it->pending_len--;
    s->state = FG__RUNNING;
    return s;
}

/* Run the batch in s, taken by this thread, without the lock: its tasks in
 * order into the slot's buffer, stopping at a failure or when the iterator
 * closes; skipped whole if it starts after a failure or after
 * cancellation.  Returns with the lock held. */
static void fg__iter_run(fg_parallel_iter *it, fg__iter_slot *s)
{
    bool skip = fg_cancel_requested(it->cancel) ||
                atomic_load_explicit(&it->closing, memory_order_relaxed) ||
                s->start > atomic_load_explicit(&it->fail_index, memory_order_relaxed);
    size_t k = 0;
    int code = 0;
    if (!skip) {
        /* The sequential backend on a thread that is no worker: tasks see
         * worker index 0, as in fg_parallel_map.  (Not on a pool, whose
         * worker 0 may be running tasks too.) */
        bool stand_in = it->pool == NULL && fg_pool_current() == NULL;
        int outer_index = stand_in ? fg_worker_scope_enter(0) : -1;
        const fg_cancel_token *outer = fg_cancel_scope_enter(it->cancel);
        for (; k < s->len && code == 0; k++) {
            if (atomic_load_explicit(&it->closing, memory_order_relaxed))
                break;
            void *result = it->d.result_size != 0 ? s->buf + k * it->d.result_size : NULL;
            code = it->d.fn(it->begin + s->start + k, it->d.ctx, result);
        }
        fg_cancel_scope_leave(outer);
        if (stand_in)
            fg_worker_scope_leave(outer_index);
        if (code != 0)
            fg__iter_fail(it, s->start + --k); /* k: tasks that succeeded */
        atomic_fetch_add_explicit(&it->tasks_run, k + (code != 0), memory_order_relaxed);
    }
    pthread_mutex_lock(&it->lock);
    s->ran = k;
    s->code = code;
    s->skipped = skip;
    fg__iter_finished(it, s);
}

/* A runner task: one pending batch, if a reader has not taken it. */
static int fg__iter_runner(void *arg)
{
    fg_parallel_iter *it = arg;
    pthread_mutex_lock(&it->lock);
    fg__iter_slot *s = fg__iter_take(it);
    if (s != NULL) {
        pthread_mutex_unlock(&it->lock);
        fg__iter_run(it, s);
    }
    pthread_mutex_unlock(&it->lock);
    return 0;
}

/* ----------------------------------------------------------- dispatch */

static void fg__iter_end(fg_parallel_iter *it, int code, bool has_index, size_t index)
{
    if (it->end_code != 0)
        return;
    it->end_code = code;
    it->end_has_index = has_index;
    it->end_index = index;
    pthread_cond_broadcast(&it->changed);
}

/* Under the lock: every result was read; joblib's last line. */
static void fg__iter_done(fg_parallel_iter *it)
{
    if (it->par->printer.verbose != 0) {
        char elapsed[32];
        fg__format_time(fg__now_s() - it->prog.start_s, elapsed);
        fg__printer_line(&it->par->printer, "Done %3zu out of %3zu | elapsed: %s finished",
                         it->total, it->total, elapsed);
    }
    fg__iter_end(it, FG_EDONE, false, 0);
}

/* Tasks left to dispatch: none after a failure before them, or once
 * cancelled or closing. */
static bool fg__iter_input_left(fg_parallel_iter *it)
{
    /* A failure is inside a dispatched batch, below pos, except when the
     * process backend has no worker left: then it is at pos. */
    return it->pos < it->total && it->end_code == 0 &&
           it->pos < atomic_load_explicit(&it->fail_index, memory_order_relaxed) &&
           !fg_cancel_requested(it->cancel) &&
           !atomic_load_explicit(&it->closing, memory_order_relaxed);
}

/* Under the lock: a free slot for the next batch, or NULL. */
static fg__iter_slot *fg__iter_free_slot(fg_parallel_iter *it)
{
    if (fg__iter_ordered(it)) {
        fg__iter_slot *s = &it->slots[it->queued % it->nslots];
        return it->queued - it->read < it->nslots && s->state == FG__FREE ? s : NULL;
    }
    return it->nfree > 0 ? &it->slots[it->free_slots[it->nfree - 1]] : NULL;
}

/* Under the lock: cut the next batch into s (PENDING); false (and the
 * iterator ends with FG_ENOMEM) if its buffer cannot grow. */
static bool fg__iter_cut(fg_parallel_iter *it, fg__iter_slot *s)
{
    size_t size = it->batch;
    if (size == 0) {
        double verdict;
        size = fg__autobatch_size(&it->autobatch, &verdict);
    }
    if (it->proc != NULL && size > s->cap)
        size = s->cap; /* the shared buffers are fixed at open */
    size_t len = it->total - it->pos < size ? it->total - it->pos : size;
    if (len > s->cap && it->d.result_size != 0) {
        char *buf = fg__alloc(len * it->d.result_size);
        if (buf == NULL) {
            fg__iter_end(it, FG_ENOMEM, false, 0);
            return false;
        }
        fg__free(s->buf);
        s->buf = buf;
        s->cap = len;
    }
    *s = (fg__iter_slot){ .start = it->pos, .len = len, .state = FG__PENDING,
                          .started_s = fg__now_s(), .buf = s->buf, .cap = s->cap };
    it->pos += len;
    it->prog.dispatched_batches++;
    it->prog.dispatched_tasks += len;
    it->in_flight++;
    if (++it->used > it->used_high)
        it->used_high = it->used;
    it->pending[(it->pending_head + it->pending_len++) % it->nslots] = (size_t)(s - it->slots);
    if (fg__iter_ordered(it))
        it->queued++;
    else
        it->nfree--;
    return true;
}

/* Under the lock: dispatch batches into the free slots, and on a pool a
 * runner for each (spawned without the lock; if the pool refuses one, this
 * thread runs that batch, so none is left without a runner). */
static void fg__iter_fill(fg_parallel_iter *it)
{
    size_t cut = 0;
    fg__iter_slot *s;
    while (fg__iter_input_left(it) && (s = fg__iter_free_slot(it)) != NULL && fg__iter_cut(it, s))
        cut++;
    if (it->proc != NULL) {
        while ((s = fg__iter_take(it)) != NULL)
            fg__iter_proc_send(it->proc, (size_t)(s - it->slots), s->start, s->len);
        return;
    }
    if (it->pool == NULL || cut == 0)
        return;
    pthread_mutex_unlock(&it->lock);
    for (size_t k = 0; k < cut; k++)
        if (fg_spawn(&it->runners, fg__iter_runner, it) != 0) {
            /* FG_ESHUTDOWN (only off the pool): run it here, in the caller's slot. */
            int outer = fg_worker_scope_enter(fg_pool_workers(it->pool));
            fg__iter_runner(it);
            fg_worker_scope_leave(outer);
        }
    pthread_mutex_lock(&it->lock);
}

/* ---------------------------------------------------------- reading */

/* Under the lock: the slot to read next, if it is done, or NULL. */
static fg__iter_slot *fg__iter_ready(fg_parallel_iter *it)
{
    if (fg__iter_ordered(it)) {
        fg__iter_slot *s = &it->slots[it->read % it->nslots];
        return it->read < it->queued && s->state == FG__DONE ? s : NULL;
    }
    if (it->done_len == 0)
        return NULL;
    fg__iter_slot *s = &it->slots[it->done[it->done_head]];
    it->done_head = (it->done_head + 1) % it->nslots;
    it->done_len--;
    return s;
}

/* Under the lock: batches dispatched and not yet read (no current slot). */
static size_t fg__iter_unread(const fg_parallel_iter *it)
{
    return fg__iter_ordered(it) ? it->queued - it->read : it->in_flight + it->done_len;
}

/* Under the lock: the current slot is read out. */
static void fg__iter_release(fg_parallel_iter *it, fg__iter_slot *s)
{
    s->state = FG__FREE;
    it->current = NULL;
    it->used--;
    if (fg__iter_ordered(it))
        it->read++;
    else
        it->free_slots[it->nfree++] = (size_t)(s - it->slots);
}

/* Under the lock: the process backend's batches that came back. */
static void fg__iter_collect(fg_parallel_iter *it)
{
    fg__iter_proc_done e;
    while (fg__iter_proc_collect(it->proc, &e)) {
        fg__iter_slot *s = &it->slots[e.slot];
        s->ran = e.ran;
        s->code = e.code;
        s->skipped = e.skipped;
        s->term_signal = e.term_signal;
        s->exit_status = e.exit_status;
        if (e.code != 0) {
            fg__iter_fail(it, s->start + e.ran);
            fg__iter_proc_fail(it->proc, s->start + e.ran);
        }
        fg__iter_finished(it, s);
    }
    if (fg__iter_proc_live(it->proc) == 0 && fg__iter_input_left(it)) {
        /* No worker is left for the tasks not dispatched yet. */
        if (it->pos < it->fail_at) {
            it->fail_at = it->pos;
            it->fail_code = FG_ECRASHED;
            it->fail_signal = it->fail_status = 0;
        }
        fg__iter_fail(it, it->pos);
    }
}

/* Under the lock: the process backend.  One reader watches the workers
 * (without the lock) and collects what came back; others sleep. */
static void fg__iter_watch(fg_parallel_iter *it)
{
    if (it->watching) {
        pthread_cond_wait(&it->changed, &it->lock);
        return;
    }
    it->watching = true;
    pthread_mutex_unlock(&it->lock);
    fg__iter_proc_watch(it->proc, fg_cancel_requested(it->cancel));
    pthread_mutex_lock(&it->lock);
    it->watching = false;
    fg__iter_collect(it);
    pthread_cond_broadcast(&it->changed);
}

/* Under the lock: wait for a batch.  A worker of the pool, or any reader
 * without a pool, runs a pending batch itself; else sleep until a slot
 * changes. */
static void fg__iter_wait(fg_parallel_iter *it)
{
    if (it->proc != NULL) {
        fg__iter_watch(it);
        return;
    }
    fg__iter_slot *s = NULL;
    if (it->pool == NULL || fg_pool_current() == it->pool)
        s = fg__iter_take(it);
    if (s == NULL) {
        pthread_cond_wait(&it->changed, &it->lock);
        return;
    }
    pthread_mutex_unlock(&it->lock);
    fg__iter_run(it, s); /* returns with the lock */
}

/* Under the lock: one step of next().  1: a result was handed out; 0: look
 * again; negative or a task code: the iterator has ended (it->end_code). */
static int fg__iter_step(fg_parallel_iter *it, size_t *index, void *result)
{
    fg__iter_slot *s = it->current;
    if (s == NULL) {
        s = fg__iter_ready(it);
        if (s == NULL) {
            fg__iter_fill(it);
            s = fg__iter_ready(it);
        }
        if (s != NULL) {
            s->state = FG__READING;
            it->current = s;
        } else if (fg__iter_unread(it) == 0 && !fg__iter_input_left(it)) {
            bool cancelled = fg_cancel_requested(it->cancel) && it->pos < it->total;
            if (it->fail_at != SIZE_MAX) /* processes: no worker left at fail_at */
                fg__iter_end(it, it->fail_code, true, it->begin + it->fail_at);
            else if (cancelled)
                fg__iter_end(it, FG_ECANCELED, false, 0);
            else
                fg__iter_done(it);
        } else {
            fg__iter_wait(it);
        }
        return 0;
    }
    if (s->cursor < s->ran) {
        size_t k = s->cursor++;
        *index = it->begin + s->start + k;
        if (it->d.result_size != 0 && result != NULL)
            memcpy(result, s->buf + k * it->d.result_size, it->d.result_size);
        if (s->cursor == s->ran && s->code == 0) {
            fg__iter_release(it, s);
            fg__iter_fill(it);
        }
        return 1;
    }
    if (s->code != 0)
        fg__iter_end(it, s->code, true, it->begin + s->start + s->ran);
    else if (s->skipped && fg_cancel_requested(it->cancel))
        fg__iter_end(it, FG_ECANCELED, false, 0);
    fg__iter_release(it, s); /* read out, or skipped after a failure */
    return 0;
}

int fg_parallel_iter_next(fg_parallel_iter *it, size_t *index, void *result)
{
    if (it == NULL || index == NULL)
        return FG_EINVAL;
    pthread_mutex_lock(&it->lock);
    it->inside++;
    int rc = 0;
    while (rc == 0) {
        if (atomic_load_explicit(&it->closing, memory_order_relaxed))
            rc = FG_ECANCELED;
        else if (it->end_code != 0)
            rc = it->end_code;
        else if (fg__iter_step(it, index, result) == 1)
            break;
    }
    if (rc != 0 && rc == it->end_code && it->end_has_index)
        *index = it->end_index;
    if (--it->inside == 0)
        pthread_cond_broadcast(&it->changed); /* close may wait for this */
    pthread_mutex_unlock(&it->lock);
    return rc;
}

int fg__iter_inside(fg_parallel_iter *it)
{
    pthread_mutex_lock(&it->lock);
    int n = it->inside;
    pthread_mutex_unlock(&it->lock);
    return n;
}

size_t fg__iter_window_slots(fg_parallel_iter *it)
{
    return it->nslots;
}

size_t fg__iter_used_high(fg_parallel_iter *it)
{
    pthread_mutex_lock(&it->lock);
    size_t n = it->used_high;
    pthread_mutex_unlock(&it->lock);
    return n;
}

/* ------------------------------------------------------- open/close */

/* The window in batches (see forage.h): max(n_jobs, ceil(pre_dispatch /
 * batch)) + 1 for the slot being read, never more than the batches there
 * can be; the sequential backend runs one at a time. */
static size_t fg__iter_window(const fg_parallel_opts *o, int n_jobs, size_t total, size_t batch)
{
    if (o->pool == NULL && o->backend != FG_BACKEND_PROCESS)
        return 1;
    size_t b = batch != 0 ? batch : 1;
    size_t batches = total / b + (total % b != 0);
    size_t pre = o->pre_dispatch == FG_PRE_DISPATCH_ALL ? total
                 : o->pre_dispatch > 0 ? (size_t)o->pre_dispatch : 2 * (size_t)n_jobs;
    size_t w = pre / b + (pre % b != 0);
    w = (w > (size_t)n_jobs ? w : (size_t)n_jobs) + 1;
    w = w < batches ? w : batches;
    return w > 0 ? w : 1;
}

static void fg__iter_free(fg_parallel_iter *it)
{
    if (it->proc != NULL)
        fg__iter_proc_close(it->proc);
    for (size_t k = 0; !it->shared_bufs && it->slots != NULL && k < it->nslots; k++)
        fg__free(it->slots[k].buf);
    fg__free(it->slots);
    fg__free(it->free_slots);
    fg__free(it->done);
    fg__free(it->pending);
    pthread_cond_destroy(&it->changed);
    pthread_mutex_destroy(&it->lock);
    fg__free(it);
}

static int fg__iter_alloc(fg_parallel_iter *it, bool proc)
{
    it->slots = fg__alloc_zeroed(it->nslots * sizeof *it->slots);
    it->free_slots = fg__alloc(it->nslots * sizeof *it->free_slots);
    it->done = fg__alloc(it->nslots * sizeof *it->done);
    it->pending = fg__alloc(it->nslots * sizeof *it->pending);
    if (it->slots == NULL || it->free_slots == NULL || it->done == NULL || it->pending == NULL)
        return FG_ENOMEM;
    if (it->pool != NULL)
        fg_group_init(&it->runners, it->pool);
    for (size_t k = 0; k < it->nslots; k++) {
        fg__iter_slot *s = &it->slots[k];
        it->free_slots[k] = it->nslots - 1 - k; /* slot 0 on top */
        if (it->batch != 0 && it->d.result_size != 0 && !proc) {
            s->buf = fg__alloc(it->batch * it->d.result_size);
            if (s->buf == NULL)
                return FG_ENOMEM;
            s->cap = it->batch;
        }
    }
    it->nfree = it->nslots;
    return 0;
}

/* The process backend: fork the workers now, so that tasks see memory as
 * it is at open; the slots' buffers are in their shared region, `cap`
 * results each (the fixed batch size; adaptive batches are capped so that
 * the window stays about FG__ITER_PROC_BYTES). */
#define FG__ITER_PROC_BYTES ((size_t)4 << 20)
#define FG__ITER_PROC_AUTO_CAP ((size_t)1 << 16)

static int fg__iter_open_proc(fg_parallel_iter *it, int n_jobs, double timeout)
{
    size_t cap = it->batch;
    if (cap == 0) {
        size_t per = FG__ITER_PROC_BYTES / it->nslots / (it->d.result_size ? it->d.result_size : 1);
        cap = per < 1 ? 1 : per > FG__ITER_PROC_AUTO_CAP ? FG__ITER_PROC_AUTO_CAP : per;
    }
    if (cap > it->total)
        cap = it->total > 0 ? it->total : 1;
    fg__reaper_drain(&it->par->reaper); /* earlier maps' workers are gone */
    int err = fg__iter_proc_open(&it->proc, it->d, it->begin, n_jobs, it->nslots, cap, timeout);
    if (err < 0)
        return err;
    it->shared_bufs = true;
    for (size_t k = 0; k < it->nslots; k++) {
        it->slots[k].buf = fg__iter_proc_buf(it->proc, k);
        it->slots[k].cap = cap;
    }
    return 0;
}

int fg_parallel_iter_open(fg_parallel *par, fg_delayed d, size_t begin, size_t end, int order,
                          fg_parallel_iter **out)
{
    if (out == NULL)
        return FG_EINVAL;
    *out = NULL;
    fg_parallel_opts o = FG_PARALLEL_OPTS_INIT();
    int n_jobs = par != NULL ? fg_parallel_get_opts(par, &o) : FG_EINVAL;
    if (n_jobs < 0 || d.fn == NULL || begin > end ||
        (order != FG_ORDER_INDEX && order != FG_ORDER_COMPLETION))
        return FG_EINVAL;
    /* In a process backend's worker every façade call runs there,
     * sequentially (process.md). */
    bool proc = o.backend == FG_BACKEND_PROCESS && !fg__process_in_worker();
    if (!proc && o.backend == FG_BACKEND_PROCESS)
        o.backend = FG_BACKEND_SEQUENTIAL;
    fg_parallel_iter *it = fg__alloc_zeroed(sizeof *it);
    if (it == NULL)
        return FG_ENOMEM;
    *it = (fg_parallel_iter){ .d = d, .par = par, .begin = begin, .total = end - begin, .order = order,
                              .pool = o.pool, .cancel = o.cancel,
                              .batch = o.batch_size > 0 ? (size_t)o.batch_size : 0,
                              .fail_at = SIZE_MAX };
    atomic_init(&it->fail_index, SIZE_MAX);
    atomic_init(&it->closing, false);
    atomic_init(&it->tasks_run, 0);
    pthread_mutex_init(&it->lock, NULL);
    pthread_cond_init(&it->changed, NULL);
    fg__autobatch_init(&it->autobatch, FG_BATCH_AUTO_MIN_S, FG_BATCH_AUTO_MAX_S);
    it->nslots = fg__iter_window(&o, n_jobs, it->total, it->batch);
    it->prog = (fg__progress_state){ .total = it->total, .input_left = it->total > 0,
                                     .pre_dispatch = o.pre_dispatch > 0 ? (size_t)o.pre_dispatch
                                                                         : 2 * (size_t)n_jobs,
                                     .start_s = fg__now_s() };
    if (o.pre_dispatch == FG_PRE_DISPATCH_ALL)
        it->prog.pre_dispatch = 0;
    int err = fg__iter_alloc(it, proc);
    if (err == 0 && proc)
        err = fg__iter_open_proc(it, n_jobs, o.timeout);
    if (err < 0) {
        fg__iter_free(it);
        return err;
    }
    bool alone = it->pool == NULL && !proc;
    if (par->printer.verbose != 0)
        fg__printer_line(&par->printer, "Using backend %s with %d concurrent workers.",
                         fg__backend_name(proc ? FG_BACKEND_PROCESS : o.backend),
                         alone ? 1 : n_jobs);
    pthread_mutex_lock(&it->lock);
    if (!alone)
        fg__iter_fill(it); /* start the window now; sequential waits for next() */
    pthread_mutex_unlock(&it->lock);
    *out = it;
    return 0;
}

int fg_parallel_iter_close(fg_parallel_iter *it, fg_error_info *info)
{
    if (it == NULL)
        return 0;
    pthread_mutex_lock(&it->lock);
    atomic_store_explicit(&it->closing, true, memory_order_relaxed);
    pthread_cond_broadcast(&it->changed);
    while (it->inside > 0)
        pthread_cond_wait(&it->changed, &it->lock);
    pthread_mutex_unlock(&it->lock);
    /* Nobody reads any more; wait for the runners (those not started find
     * `closing` and skip their batch), or end the worker processes. */
    if (it->pool != NULL)
        fg_sync(&it->runners);
    if (it->proc != NULL) {
        atomic_store_explicit(&it->tasks_run, fg__iter_proc_close(it->proc), memory_order_relaxed);
        it->proc = NULL;
    }
    int rc = 0;
    pthread_mutex_lock(&it->lock); /* for the fields the runners wrote */
    size_t fail_at = it->fail_at;
    int fail_code = it->fail_code;
    pthread_mutex_unlock(&it->lock);
    if (info != NULL) {
        if (fg__struct_check_out(info) < 0) {
            rc = FG_ESIZE;
        } else {
            fg_error_info o = FG_ERROR_INFO_INIT(
                .tasks_run = atomic_load_explicit(&it->tasks_run, memory_order_relaxed));
            if (fail_at != SIZE_MAX) {
                o.index = it->begin + fail_at;
                o.code = fail_code;
                o.term_signal = it->fail_signal;
                o.exit_status = it->fail_status;
            }
            fg__struct_write(info, &o, sizeof o);
        }
    }
    fg__iter_free(it);
    return rc;
}
