/* parallel.c: the joblib-style façade (fg_parallel_open/map/calls/close).
 * See docs/design/facade.md; joblib's reference behaviour is in
 * docs/reference/joblib.md.
 *
 * One call ("map") runs `total` tasks, cut into batches, on one of three
 * backends:
 *   STEAL       the batches are the leaves of a balanced fork-join tree
 *               (fg_join) on the work-stealing pool; a batch counts as
 *               dispatched when a worker starts it.  Fixed sizes follow
 *               joblib's cut (batching.c); 'auto' halves the range until a
 *               piece fits the current adaptive size.
 *   SHARED      joblib 1.2's own scheme: the caller pre-dispatches
 *               pre_dispatch tasks into one FIFO queue; up to n_jobs
 *               consumer tasks on the pool take batches from it, and every
 *               completion prints progress and then dispatches one more
 *               batch, under the call's lock, as BatchCompletionCallBack
 *               does.  Consumers never block (fg__shared_consumer).
 *   SEQUENTIAL  every task in the caller, one progress step per task (the
 *               seed notebook's joblib >= 1.3 output).
 *   PROCESS     forked worker processes (process.c, docs/design/process.md).
 * Errors: a failing task records the lowest failing index (fail_index);
 * a batch that starts after that index is skipped, batches before it still
 * run, so the reported failure is the first in input order and nothing
 * after it is started once it is known.
 *
 * Concurrency: the call's mutex guards the progress counters, the cutter,
 * the SHARED queue and the error code; the façade's batch_lock its auto
 * batch size, which concurrent calls on one fg_parallel share; fail_index and
 * tasks_run are atomics read without it.  Results are written by tasks into
 * disjoint slots and published to the caller by fg_join / fg_sync.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "forage.h"

#include "batching.h"
#include "map.h"
#include "process.h"
#include "progress.h"
#include "root.h"
#include "seam.h"

/* ------------------------------------------------------------ tasks */

static int fg__map_task(fg__map *m, size_t k)
{
    if (m->calls != NULL)
        return m->calls[k].fn(m->calls[k].arg, m->calls[k].result);
    void *result = m->d.result_size != 0 ? m->results + k * m->d.result_size : NULL;
    return m->d.fn(m->begin + k, m->d.ctx, result);
}

static void fg__map_fail(fg__map *m, size_t k, int code)
{
    pthread_mutex_lock(&m->lock);
    if (k < atomic_load_explicit(&m->fail_index, memory_order_relaxed)) {
        atomic_store_explicit(&m->fail_index, k, memory_order_relaxed);
        m->fail_code = code;
    }
    pthread_mutex_unlock(&m->lock);
}

/* Run tasks [start, start + len) in order; a failure ends the batch (as in
 * joblib's BatchedCalls).  false: cancelled, nothing ran. */
static bool fg__map_run_batch(fg__map *m, size_t start, size_t len)
{
    if (start > atomic_load_explicit(&m->fail_index, memory_order_relaxed) ||
        fg_cancel_requested(m->par->cancel))
        return false;
    const fg_cancel_token *outer = fg_cancel_scope_enter(m->par->cancel);
    size_t k = start;
    while (k < start + len) {
        int code = fg__map_task(m, k++);
        if (code != 0) {
            fg__map_fail(m, k - 1, code);
            break;
        }
    }
    fg_cancel_scope_leave(outer);
    atomic_fetch_add_explicit(&m->tasks_run, k - start, memory_order_relaxed);
    return true;
}

/* ---------------------------------------------------------- progress */

static bool fg__map_reports(const fg__map *m)
{
    return m->par->printer.verbose != 0 || m->par->on_progress != NULL;
}

/* Under m->lock: print the progress line and call the callback. */
void fg__map_report_at(fg__map *m, bool finished, double now)
{
    fg_parallel *par = m->par;
    if (!finished)
        fg__print_progress(&par->printer, &m->prog, now);
    if (par->on_progress != NULL) {
        fg_progress p = { m->prog.completed_tasks, m->prog.dispatched_tasks,
                          m->prog.dispatched_batches, m->total, now - m->prog.start_s,
                          finished };
        par->on_progress(&p, par->progress_ctx);
    }
}

static void fg__map_report(fg__map *m, bool finished)
{
    fg__map_report_at(m, finished, fg__now_s());
}

void fg__map_print_autobatch(fg__map *m, double verdict, size_t size)
{
    if (verdict != 0.0 && m->par->printer.verbose >= 10)
        fg__printer_line(&m->par->printer, "Batch computation too %s (%.4fs.) Setting batch_size=%zu.",
                         verdict > 0 ? "fast" : "slow", verdict > 0 ? verdict : -verdict, size);
}

/* ------------------------------------------------------ sequential */

static void fg__map_run_sequential(fg__map *m)
{
    const fg_cancel_token *outer = fg_cancel_scope_enter(m->par->cancel);
    /* Tasks run on this thread: on a non-worker they see worker index 0. */
    bool stand_in = fg_pool_current() == NULL;
    int outer_index = stand_in ? fg_worker_scope_enter(0) : -1;
    for (size_t k = 0; k < m->total && !fg_cancel_requested(m->par->cancel); k++) {
        int code = fg__map_task(m, k);
        atomic_store_explicit(&m->tasks_run, k + 1, memory_order_relaxed);
        if (code != 0) {
            fg__map_fail(m, k, code);
            break;
        }
        if (fg__map_reports(m)) {
            pthread_mutex_lock(&m->lock);
            m->prog.dispatched_batches++;
            m->prog.dispatched_tasks++;
            m->prog.completed_tasks++;
            fg__map_report(m, false);
            pthread_mutex_unlock(&m->lock);
        }
    }
    if (stand_in)
        fg_worker_scope_leave(outer_index);
    fg_cancel_scope_leave(outer);
}

/* ----------------------------------------------------------- steal */

static void fg__steal_started(fg__map *m, size_t len)
{
    pthread_mutex_lock(&m->lock);
    m->prog.dispatched_batches++;
    m->prog.dispatched_tasks += len;
    if (m->prog.dispatched_tasks == m->total)
        m->prog.input_left = false;
    pthread_mutex_unlock(&m->lock);
}

static void fg__steal_completed(fg__map *m, size_t len, double duration_s)
{
    pthread_mutex_lock(&m->lock);
    m->prog.completed_tasks += len;
    if (m->par->batch_size == FG_BATCH_AUTO) {
        fg__autobatch *a = &m->par->autobatch;
        /* Leaves come from halving, so their sizes rarely equal the
         * effective size: feed the duration scaled to that size. */
        pthread_mutex_lock(&m->par->batch_lock);
        fg__autobatch_completed(a, a->size, duration_s * (double)a->size / (double)len);
        double verdict;
        size_t size = fg__autobatch_size(a, &verdict);
        pthread_mutex_unlock(&m->par->batch_lock);
        fg__map_print_autobatch(m, verdict, size);
    }
    fg__map_report(m, false);
    pthread_mutex_unlock(&m->lock);
}

/* One leaf: a batch, bracketed by the progress accounting. */
static void fg__steal_batch(fg__map *m, size_t start, size_t len)
{
    bool reports = fg__map_reports(m) || m->par->batch_size == FG_BATCH_AUTO;
    fg__record_label(FG__RECORD_BATCH);
    if (start > atomic_load_explicit(&m->fail_index, memory_order_relaxed))
        return;
    if (reports)
        fg__steal_started(m, len);
    double t0 = reports ? fg__now_s() : 0.0;
    if (fg__map_run_batch(m, start, len) && reports)
        fg__steal_completed(m, len, fg__now_s() - t0);
}

typedef struct fg__steal_span {
    fg__map *m;
    size_t lo, hi; /* fixed: batch indices; auto: task indices */
} fg__steal_span;

static int fg__steal_fixed(void *arg)
{
    fg__steal_span *s = arg;
    if (s->hi - s->lo == 1) {
        size_t *b = s->m->bounds;
        fg__steal_batch(s->m, b[s->lo], b[s->lo + 1] - b[s->lo]);
        return 0;
    }
    size_t mid = s->lo + (s->hi - s->lo) / 2;
    fg__steal_span a = { s->m, s->lo, mid }, b = { s->m, mid, s->hi };
    return fg_join(s->m->par->pool, fg__steal_fixed, &a, fg__steal_fixed, &b);
}

static int fg__steal_auto(void *arg)
{
    fg__steal_span *s = arg;
    size_t len = s->hi - s->lo;
    pthread_mutex_lock(&s->m->par->batch_lock);
    size_t size = s->m->par->autobatch.size;
    pthread_mutex_unlock(&s->m->par->batch_lock);
    if (len <= size) {
        fg__steal_batch(s->m, s->lo, len);
        return 0;
    }
    size_t mid = s->lo + len / 2;
    fg__steal_span a = { s->m, s->lo, mid }, b = { s->m, mid, s->hi };
    return fg_join(s->m->par->pool, fg__steal_auto, &a, fg__steal_auto, &b);
}

/* Walk joblib's cut for a fixed size in its dispatch order when nothing
 * completes during the pre-dispatch (the prefix, then the input), on a copy
 * of the cutter; store each batch's start in bounds (if not NULL).  Returns
 * the number of batches. */
static size_t fg__steal_walk(fg__cutter c, size_t batch, size_t *bounds)
{
    size_t n = 0, start, len;
    for (int from_input = 0; from_input < 2; from_input++)
        while (fg__cutter_next(&c, batch, from_input, &start, &len)) {
            if (bounds != NULL)
                bounds[n] = start;
            n++;
        }
    return n;
}

/* The batch boundaries: one pass to count, one to fill, one allocation
 * through the runtime's allocator. */
static int fg__steal_cut(fg__map *m)
{
    size_t batch = (size_t)m->par->batch_size;
    size_t n = fg__steal_walk(m->cutter, batch, NULL);
    size_t *b = fg__alloc((n + 1) * sizeof *b);
    if (b == NULL)
        return FG_ENOMEM;
    fg__steal_walk(m->cutter, batch, b);
    b[n] = m->total;
    m->bounds = b;
    m->nbatches = n;
    return 0;
}

static int fg__steal_root(void *arg)
{
    fg__map *m = arg;
    fg__steal_span all = { m, 0, m->par->batch_size == FG_BATCH_AUTO ? m->total : m->nbatches };
    return m->par->batch_size == FG_BATCH_AUTO ? fg__steal_auto(&all) : fg__steal_fixed(&all);
}

static int fg__map_run_steal(fg__map *m)
{
    if (m->par->batch_size != FG_BATCH_AUTO) {
        int err = fg__steal_cut(m);
        if (err < 0)
            return err;
    }
    int err = fg__root_run(m->par->pool, fg__steal_root, m);
    fg__free(m->bounds);
    return err;
}

/* ---------------------------------------------------------- shared */

/* Under m->lock: joblib's dispatch_one_batch; false when the source is
 * exhausted. */
static bool fg__shared_dispatch(fg__map *m, bool from_input)
{
    fg_parallel *par = m->par;
    size_t batch = (size_t)par->batch_size;
    if (par->batch_size == FG_BATCH_AUTO) {
        double verdict;
        pthread_mutex_lock(&par->batch_lock);
        batch = fg__autobatch_size(&par->autobatch, &verdict);
        pthread_mutex_unlock(&par->batch_lock);
        fg__map_print_autobatch(m, verdict, batch);
    }
    size_t start, len;
    if (!fg__cutter_next(&m->cutter, batch, from_input, &start, &len))
        return false;
    m->prog.dispatched_batches++;
    m->prog.dispatched_tasks += len;
    /* At most `total` batches are ever queued: the ring cannot overflow. */
    m->queue[(m->queue_head + m->queue_len++) % m->queue_cap] =
        (fg__batch){ start, len, fg__now_s() };
    return true;
}

/* Under m->lock: BatchCompletionCallBack.__call__. */
static void fg__shared_completed(fg__map *m, const fg__batch *b, bool ran)
{
    if (ran) {
        m->prog.completed_tasks += b->len;
        if (m->par->batch_size == FG_BATCH_AUTO) {
            pthread_mutex_lock(&m->par->batch_lock);
            fg__autobatch_completed(&m->par->autobatch, b->len, fg__now_s() - b->dispatched_s);
            pthread_mutex_unlock(&m->par->batch_lock);
        }
        fg__map_report(m, false);
    }
    if (m->prog.input_left && !fg__shared_dispatch(m, true))
        m->prog.input_left = false;
}

/* A consumer: takes batches from the queue until it finds it empty.  It
 * never blocks: every batch is queued either before the consumers start
 * (the pre-dispatch) or by a completing consumer, which then looks at the
 * queue itself, so no batch is left without a consumer.  As in joblib, the
 * parallelism is the number of batches in flight, which is what the
 * pre-dispatch put in the queue.  (A consumer that blocked while the queue
 * was empty could deadlock nested calls: a worker waiting inside a batch
 * may run another consumer of the same call, which would then wait for
 * the batch underneath it on its own stack.) */
static int fg__shared_consumer(void *arg)
{
    fg__map *m = arg;
    pthread_mutex_lock(&m->lock);
    while (m->queue_len > 0) {
        fg__batch b = m->queue[m->queue_head];
        m->queue_head = (m->queue_head + 1) % m->queue_cap;
        m->queue_len--;
        pthread_mutex_unlock(&m->lock);
        bool ran = fg__map_run_batch(m, b.start, b.len);
        pthread_mutex_lock(&m->lock);
        fg__shared_completed(m, &b, ran);
    }
    pthread_mutex_unlock(&m->lock);
    return 0;
}

static int fg__map_run_shared(fg__map *m)
{
    m->queue_cap = m->total;
    m->queue = fg__alloc(m->queue_cap * sizeof *m->queue);
    if (m->queue == NULL)
        return FG_ENOMEM;
    /* The pre-dispatch (P l.1085-1089) comes from the prefix, never from the
     * input itself; then one consumer per queued batch, up to n_jobs. */
    pthread_mutex_lock(&m->lock);
    while (fg__shared_dispatch(m, false)) {}
    size_t consumers = m->queue_len < (size_t)m->par->n_jobs ? m->queue_len
                                                             : (size_t)m->par->n_jobs;
    pthread_mutex_unlock(&m->lock);
    fg_group g;
    fg_group_init(&g, m->par->pool);
    int err = 0;
    for (size_t i = 0; i < consumers && err == 0; i++)
        err = fg_spawn(&g, fg__shared_consumer, m);
    if (err < 0) { /* FG_ESHUTDOWN: drain the queue here so nothing is lost, */
        int outer = fg_worker_scope_enter(fg_pool_workers(m->par->pool)); /* in the caller's slot */
        fg__shared_consumer(m);
        fg_worker_scope_leave(outer);
    }
    int sync = fg_sync(&g);
    fg__free(m->queue);
    return err < 0 ? err : sync;
}

/* ------------------------------------------------------------ calls */

static const char *const fg__backend_names[] = {
    [FG_BACKEND_STEAL] = "StealingBackend",
    [FG_BACKEND_SHARED] = "SharedQueueBackend",
    [FG_BACKEND_SEQUENTIAL] = "SequentialBackend",
    [FG_BACKEND_PROCESS] = "ProcessBackend",
};

const char *fg__backend_name(int backend)
{
    return fg__backend_names[backend];
}

/* The backend a call runs on: in a process backend's worker every call
 * runs in that (single-threaded) worker, even on a façade opened before
 * the fork, whose pool has no threads here. */
static int fg__map_backend(const fg_parallel *par)
{
    return fg__process_in_worker() ? FG_BACKEND_SEQUENTIAL : par->backend;
}

static int fg__map_run(fg__map *m, fg_error_info *info)
{
    fg_parallel *par = m->par;
    pthread_mutex_init(&m->lock, NULL);
    atomic_init(&m->fail_index, SIZE_MAX);
    atomic_init(&m->tasks_run, 0);
    int backend = fg__map_backend(par);
    bool all = backend == FG_BACKEND_SEQUENTIAL || par->pre_dispatch == SIZE_MAX;
    /* Sequential reports like joblib >= 1.3 (the seed notebook): every task
     * is a batch and the input counts as not exhausted until the end. */
    m->prog = (fg__progress_state){ .total = m->total,
                                    .input_left = backend == FG_BACKEND_SEQUENTIAL || !all,
                                    .pre_dispatch = all ? 0 : par->pre_dispatch };
    fg__cutter_init(&m->cutter, m->total, (size_t)par->n_jobs,
                    all ? m->total : par->pre_dispatch);
    if (par->printer.verbose != 0)
        fg__printer_line(&par->printer, "Using backend %s with %d concurrent workers.",
                         fg__backend_name(backend),
                         backend == FG_BACKEND_SEQUENTIAL ? 1 : par->n_jobs);
    m->prog.start_s = fg__now_s();
    int err = 0;
    if (m->total > 0) {
        if (backend == FG_BACKEND_SEQUENTIAL)
            fg__map_run_sequential(m);
        else if (backend == FG_BACKEND_SHARED)
            err = fg__map_run_shared(m);
        else if (backend == FG_BACKEND_PROCESS)
            err = fg__process_run(m);
        else
            err = fg__map_run_steal(m);
    }
    size_t failed = atomic_load_explicit(&m->fail_index, memory_order_relaxed);
    if (err == 0 && failed == SIZE_MAX && fg_cancel_requested(par->cancel))
        err = FG_ECANCELED; /* tasks_run says how many ran */
    if (err == 0 && failed == SIZE_MAX) {
        char elapsed[32];
        fg__format_time(fg__now_s() - m->prog.start_s, elapsed);
        if (par->printer.verbose != 0)
            fg__printer_line(&par->printer, "Done %3zu out of %3zu | elapsed: %s finished",
                             m->total, m->total, elapsed);
        m->prog.completed_tasks = m->prog.dispatched_tasks = m->total;
        if (par->on_progress != NULL)
            fg__map_report(m, true);
    }
    if (err == 0 && failed != SIZE_MAX)
        err = m->fail_code;
    if (info != NULL) {
        fg_error_info out = FG_ERROR_INFO_INIT(
            .index = failed == SIZE_MAX ? 0 : m->begin + failed, /* calls: begin is 0 */
            .code = failed == SIZE_MAX ? 0 : m->fail_code,
            .tasks_run = atomic_load_explicit(&m->tasks_run, memory_order_relaxed),
            .end = failed == SIZE_MAX ? 0 : m->begin + failed + 1,
            .term_signal = m->term_signal, .exit_status = m->exit_status);
        fg__struct_write(info, &out, sizeof out);
    }
    pthread_mutex_destroy(&m->lock);
    return err;
}

int fg_parallel_map(fg_parallel *par, fg_delayed d, size_t begin, size_t end, void *results,
                    fg_error_info *err)
{
    if (par == NULL || d.fn == NULL || begin > end || (results == NULL && d.result_size != 0))
        return FG_EINVAL;
    if (err != NULL && fg__struct_check_out(err) < 0)
        return FG_ESIZE;
    fg__map m = { .par = par, .total = end - begin, .d = d, .begin = begin,
                  .results = results };
    return fg__map_run(&m, err);
}

int fg_parallel_calls(fg_parallel *par, const fg_call *calls, size_t n, fg_error_info *err)
{
    if (par == NULL || (calls == NULL && n != 0))
        return FG_EINVAL;
    /* The process backend brings back result_size bytes per task; a call's
     * result has no size, so it would be lost in the worker. */
    bool by_value = fg__map_backend(par) == FG_BACKEND_PROCESS;
    for (size_t k = 0; k < n; k++)
        if (calls[k].fn == NULL || (by_value && calls[k].result != NULL))
            return FG_EINVAL;
    if (err != NULL && fg__struct_check_out(err) < 0)
        return FG_ESIZE;
    fg__map m = { .par = par, .total = n, .calls = calls };
    return fg__map_run(&m, err);
}

/* ------------------------------------------------------- open/close */

/* joblib's n_jobs rule, with 0 meaning all CPUs (forage's one deviation). */
static int fg__parallel_n_jobs(int requested)
{
    return fg_resolve_workers(requested != 0 ? requested : -1);
}

int fg_parallel_open(fg_parallel **out, const fg_parallel_opts *user)
{
    if (out == NULL)
        return FG_EINVAL;
    *out = NULL;
    fg_parallel_opts copy, *opts = &copy;
    if (fg__struct_read(&copy, sizeof copy, user) < 0)
        return FG_ESIZE;
    if (opts->backend < FG_BACKEND_STEAL || opts->backend > FG_BACKEND_PROCESS ||
        opts->prefer < 0 || opts->prefer > FG_PREFER_PROCESSES ||
        !(opts->timeout >= 0 && opts->timeout <= 1e9) || /* NaN fails too */
        opts->batch_size < FG_BATCH_AUTO || opts->verbose < 0 ||
        opts->pre_dispatch < FG_PRE_DISPATCH_ALL ||
        (opts->pool != NULL && fg_pool_workers(opts->pool) < 0))
        return FG_EINVAL;
    int n_jobs = fg__parallel_n_jobs(opts->n_jobs);
    if (n_jobs < 0)
        return n_jobs;
    fg_parallel *par = fg__alloc_zeroed(sizeof *par);
    if (par == NULL)
        return FG_ENOMEM;
    par->n_jobs = n_jobs;
    par->batch_size = opts->batch_size > 0 ? opts->batch_size : FG_BATCH_AUTO;
    /* As joblib: prefer picks the kind when no backend is named, and one
     * effective worker means the sequential backend.  In a process
     * backend's worker, which is one of n_jobs single-threaded processes,
     * nested calls run there too. */
    int backend = opts->backend == 0 && opts->prefer == FG_PREFER_PROCESSES ? FG_BACKEND_PROCESS
                                                                             : opts->backend;
    par->backend = n_jobs == 1 || fg__process_in_worker() ? FG_BACKEND_SEQUENTIAL : backend;
    par->timeout = opts->timeout;
    par->pre_dispatch = opts->pre_dispatch == FG_PRE_DISPATCH_ALL ? SIZE_MAX
                        : opts->pre_dispatch > 0 ? (size_t)opts->pre_dispatch
                                                 : 2 * (size_t)n_jobs;
    par->on_progress = opts->on_progress;
    par->cancel = opts->cancel;
    par->progress_ctx = opts->progress_ctx;
    par->opts = *opts;
    par->opts.size = sizeof par->opts;
    fg__autobatch_init(&par->autobatch, FG_BATCH_AUTO_MIN_S, FG_BATCH_AUTO_MAX_S);
    pthread_mutex_init(&par->batch_lock, NULL);
    fg__reaper_init(&par->reaper);
    fg__process_region_init(&par->region);
    fg__printer_init(&par->printer, opts->log, opts->verbose, opts->n_jobs);
    par->pool = opts->pool;
    if (par->pool == NULL)
        par->pool = fg_pool_current(); /* nested: no new threads */
    if (par->pool == NULL && par->backend != FG_BACKEND_SEQUENTIAL &&
        par->backend != FG_BACKEND_PROCESS) {
        int err = fg_pool_create(&par->pool, FG_CONFIG(.workers = n_jobs));
        if (err < 0) {
            fg__printer_destroy(&par->printer);
            fg__reaper_destroy(&par->reaper);
            fg__process_region_destroy(&par->region);
            pthread_mutex_destroy(&par->batch_lock);
            fg__free(par);
            return err;
        }
        par->owns_pool = true;
    }
    *out = par;
    return 0;
}

void fg_parallel_close(fg_parallel *par)
{
    if (par == NULL)
        return;
    if (par->owns_pool)
        fg_pool_destroy(par->pool);
    fg__printer_destroy(&par->printer);
    fg__reaper_destroy(&par->reaper); /* waits for the last map's workers */
    fg__process_region_destroy(&par->region); /* the region kept between maps */
    pthread_mutex_destroy(&par->batch_lock);
    fg__free(par);
}

int fg_parallel_get_opts(const fg_parallel *par, fg_parallel_opts *out)
{
    if (par == NULL || out == NULL)
        return FG_EINVAL;
    if (fg__struct_check_out(out) < 0)
        return FG_ESIZE;
    fg_parallel_opts o = par->opts;
    o.backend = par->backend;
    o.pool = par->backend == FG_BACKEND_SEQUENTIAL || par->backend == FG_BACKEND_PROCESS
             ? NULL : par->pool;
    fg__struct_write(out, &o, sizeof o);
    return par->n_jobs;
}
