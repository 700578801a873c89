/* pool.c: pool creation and destruction, the injector entry for
 * non-worker threads, and the drain that lets destroy wait for them.
 * See docs/design/join.md ("external callers") and docs/design/sleep.md.
 *
 * I1  every call from a non-worker thread is bracketed by fg__pool_enter /
 *     fg__pool_leave (inflight counts it); a job it injects finishes before
 *     its leave.  An external spawn stays counted until its task finishes,
 *     and an external fg_sync that has to wait is counted while it waits
 *     (fg__pool_retain), so the tasks its group's tasks spawned are drained.
 * I2  destroy sets `closing`, then waits for inflight == 0: by the seq_cst
 *     pair [pool-drain] an enter that misses `closing` is seen by destroy's
 *     read of inflight, so no external call is left running when workers
 *     are told to terminate.  Work queued by tasks is finished by those
 *     same calls (they do not return before their tasks do).
 * I3  workers exit only after `terminate`, which is set after the drain.
 * I4  fg__pool_leave touches the pool only up to its decrement: the moment
 *     inflight can read 0, destroy may free the pool.
 *
 * field      written by            read by        order / pairs with
 * closing    destroy               fg__pool_enter seq_cst [pool-drain]
 * inflight   enter/leave           destroy        seq_cst RMW / load [pool-drain]
 * terminate  destroy               workers        seq_cst store, see sleep.c I2
 *
 * Lifetime: fg_pool_destroy frees everything after joining every worker.
 */
#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "futex.h"
#include "internal.h"
#include "testhooks.h"

#ifndef NDEBUG
/* The live-pool list of debug builds (fg__pool_live); the lock is taken
 * only by create, destroy and external calls' argument checks. */
static pthread_mutex_t fg__live_lock = PTHREAD_MUTEX_INITIALIZER;
static fg_pool *fg__live_head;

bool fg__pool_live(const fg_pool *p)
{
    pthread_mutex_lock(&fg__live_lock);
    const fg_pool *q = fg__live_head;
    while (q != NULL && q != p)
        q = q->live_next;
    pthread_mutex_unlock(&fg__live_lock);
    return q != NULL;
}

static void fg__live_add(fg_pool *p)
{
    pthread_mutex_lock(&fg__live_lock);
    p->live_next = fg__live_head;
    fg__live_head = p;
    pthread_mutex_unlock(&fg__live_lock);
}

static void fg__live_remove(fg_pool *p)
{
    pthread_mutex_lock(&fg__live_lock);
    fg_pool **link = &fg__live_head;
    while (*link != NULL && *link != p)
        link = &(*link)->live_next;
    if (*link != NULL)
        *link = p->live_next;
    pthread_mutex_unlock(&fg__live_lock);
}

void fg__live_lock_fork(int phase)
{
    if (phase == 0)
        pthread_mutex_lock(&fg__live_lock);
    else if (phase == 1)
        pthread_mutex_unlock(&fg__live_lock);
    else
        pthread_mutex_init(&fg__live_lock, NULL);
}
#else
static void fg__live_add(fg_pool *p) { (void)p; }
static void fg__live_remove(fg_pool *p) { (void)p; }
void fg__live_lock_fork(int phase) { (void)phase; }
#endif

bool fg__pool_enter(fg_pool *p)
{
    if (fg__pool_dead(p))
        return false; /* fork.c I1: its workers are not in this process */
    /* [pool-drain] seq_cst: count ourselves before reading `closing`, the
     * mirror of destroy's store-then-read. */
    fg__atomic_fetch_add(&p->inflight, 1, FG__SEQ_CST);
    FG__PERTURB(); /* counted, `closing` not yet read */
    if (fg__atomic_load(&p->closing, FG__SEQ_CST)) {
        fg__pool_leave(p);
        return false;
    }
    return true;
}

void fg__pool_retain(fg_pool *p)
{
    /* [pool-drain] seq_cst like fg__pool_enter.  No `closing` check: the
     * caller is covered by work already in flight, so destroy is still
     * waiting and must now wait for this call too. */
    fg__atomic_fetch_add(&p->inflight, 1, FG__SEQ_CST);
}

void fg__pool_leave(fg_pool *p)
{
    /* [pool-drain] seq_cst: the decrement destroy's seq_cst read waits for.
     * Once the count may be 0, destroy may free the pool: touch nothing of
     * it after the decrement.  futex wake never dereferences the address
     * (futex.h), so waking unconditionally on the last leave is safe and
     * costs a syscall only when no call is left in flight. */
    if (fg__atomic_fetch_sub(&p->inflight, 1, FG__SEQ_CST) == 1)
        fg__futex_wake(&p->inflight, INT_MAX);
}

void fg__pool_inject(fg_pool *p, fg__job *job)
{
    fg__injector_push(&p->injector, job);
    fg__sleep_wake_one(p);
}

int fg__pool_run_blocking(fg_pool *p, fg__job *job, fg__latch *done)
{
    if (!fg__pool_enter(p))
        return FG_ESHUTDOWN;
    fg__latch_init(done, NULL);
    fg__worker *seat = fg__seat_take(p);
    if (seat != NULL) {
        fg__seat_run(seat, job); /* the job sets `done` before it returns */
    } else {
        fg__pool_inject(p, job);
        fg__latch_wait_blocking(done);
    }
    fg__pool_leave(p);
    return 0;
}

bool fg__pool_has_work(fg_pool *p)
{
    if (fg__atomic_load(&p->terminate, FG__SEQ_CST))
        return true;
    if (fg__injector_looks_nonempty(&p->injector))
        return true;
    for (int i = 0; i < p->nworkers; i++)
        if (fg__victim_size(p->split, &p->workers[i]) > 0)
            return true;
    return false;
}

static int fg__worker_init(fg__worker *w, fg_pool *p, int index, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    int err = fg__deque_init(&w->deque, 8);
    if (err < 0)
        return err;
    w->split = p->split;
    if (w->split && (err = fg__split_init(&w->sdq)) < 0) {
        fg__deque_destroy(&w->deque);
        return err;
    }
    if ((err = fg__ctx_stack_init(&w->ctx_stack, w)) < 0) {
        if (w->split)
            fg__split_destroy(&w->sdq);
        fg__deque_destroy(&w->deque);
        return err;
    }
    fg__atomic_init(&w->sleep_word, 0);
    fg__atomic_init(&w->mail, NULL);
    w->pool = p;
    w->index = index;
    w->rng = fg__rng_seed(seed, index);
    w->victim = (fg_victim_args){ .thief = index, .workers = p->nworkers,
                                  .last_victim = -1, .pool = p,
                                  .state = fg__topology_near_order(p->topology, index) };
    return 0;
}

/* A seed for pools created without one: the clock, a stack address and a
 * process-wide counter, so that pools created in the same nanosecond differ. */
static uint64_t fg__entropy_seed(void)
{
    static FG__ATOMIC(uint64_t) counter;
    uint64_t local;
    return fg__clock_ns() ^ (uint64_t)(uintptr_t)&local ^
           fg__atomic_fetch_add(&counter, 0x9E3779B97F4A7C15ull, FG__RELAXED);
}

/* Undo whatever prefix of fg__pool_setup ran: stop and join the started
 * workers, free everything.  The one cleanup path of create's failures and
 * of destroy (finished: report counters and write traces). */
static void fg__pool_teardown(fg_pool *p, bool finished)
{
    /* seq_cst: the publisher's half of sleep.c I2 (terminate). */
    fg__atomic_store(&p->terminate, 1, FG__SEQ_CST);
    if (p->started > 0)
        fg__sleep_wake_all(p);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->workers[i].thread, NULL);
    if (finished && p->stats_report)
        fg__stats_print(p, stderr);
    fg__trace_finish(p, finished);
    fg__record_finish(p, finished);
    for (int i = 0; i < p->ready_workers; i++) {
        assert(fg__victim_size(p->split, &p->workers[i]) == 0); /* I2: drained */
        fg__deque_destroy(&p->workers[i].deque);
        if (p->split)
            fg__split_destroy(&p->workers[i].sdq);
        fg__ctx_spill_free(&p->workers[i].ctx_stack);
        fg__ctx_stack_destroy(&p->workers[i].ctx_stack);
    }
    if (p->frames_ready)
        fg__slab_depot_destroy(&p->frames);
    if (p->injector_ready) {
        assert(!fg__injector_looks_nonempty(&p->injector)); /* I2 */
        fg__injector_destroy(&p->injector);
    }
    fg__topology_destroy(p->topology);
    fg__free(p->bind_cpu);
    fg__free(p->base_mask);
    fg__free(p->workers);
    fg__free(p);
}

const fg__cpu_mask *fg__unbound_mask(void)
{
    const fg__worker *w = fg__tls_worker;
    return w != NULL && w->pool->bind_cpu != NULL ? w->pool->base_mask : NULL;
}

static int fg__thread_start(pthread_t *t, const pthread_attr_t *attr, fg__worker *w)
{
#if defined(FG_TEST_HOOKS) && FG_TEST_HOOKS
    if (fg__fault_fail_now("pthread_create"))
        return -1;
#endif
    return pthread_create(t, attr, fg__worker_main, w);
}

static int fg__pool_start_threads(fg_pool *p, size_t stack_size)
{
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return FG_EAGAIN;
    int err = 0;
    if (pthread_attr_setstacksize(&attr, stack_size) != 0)
        err = FG_EINVAL;
    for (int i = 0; err == 0 && i < p->nworkers; i++) {
        if (fg__thread_start(&p->workers[i].thread, &attr, &p->workers[i]) != 0)
            err = FG_EAGAIN;
        else
            p->started++;
    }
    pthread_attr_destroy(&attr);
    return err;
}

/* Every step of creation after the pool's own allocation, in order; each
 * records what it set up, so that fg__pool_teardown undoes any prefix. */
static int fg__pool_setup(fg_pool *p, const fg__config *c)
{
    if (fg__injector_init(&p->injector) < 0)
        return FG_ENOMEM;
    p->injector_ready = true;
    if (fg__slab_depot_init(&p->frames, fg__group_frame_size()) < 0)
        return FG_ENOMEM;
    p->frames_ready = true;
    p->workers = fg__alloc_aligned(FG__CACHE_LINE, sizeof(fg__worker) * (size_t)c->workers);
    if (p->workers == NULL)
        return FG_ENOMEM;
    memset(p->workers, 0, sizeof(fg__worker) * (size_t)c->workers);
    int err;
    /* Near-first needs to know where workers run (topology.h). */
    if (c->victim_fn == fg__policy_builtin(FG_VICTIM_NEAR) &&
        (err = fg__topology_create(&p->topology, c->workers)) < 0)
        return err;
    const fg__cpu_mask *outer = fg__unbound_mask(); /* created by a bound worker */
    p->base_mask = fg__cpu_mask_create(outer);       /* NULL: left as it is */
    p->base_reset = outer != NULL && p->base_mask != NULL;
    if (c->bind == FG_BIND_CPUS && p->topology == NULL)
        p->bind_cpu = fg__bind_cpus_create(c->workers, p->base_mask); /* NULL: unbound */
    uint64_t seed = c->seed != 0 ? c->seed : fg__entropy_seed();
    for (; p->ready_workers < c->workers; p->ready_workers++)
        if ((err = fg__worker_init(&p->workers[p->ready_workers], p, p->ready_workers, seed)) < 0)
            return err;
    if ((err = fg__trace_start(p, c->trace, c->trace_bad_path_err, c->trace_events)) < 0)
        return err;
    if ((err = fg__record_start(p, c->record, c->record_bad_path_err, c->record_units)) < 0)
        return err;
    return fg__pool_start_threads(p, c->stack_size);
}

int fg_pool_create(fg_pool **out, const fg_config *cfg)
{
    if (out == NULL)
        return FG_EINVAL;
    *out = NULL;
    fg__config c;
    int err = fg__config_resolve(cfg, &c);
    if (err < 0)
        return err;
    fg_pool *p = fg__alloc_zeroed(sizeof *p);
    if (p == NULL)
        return FG_ENOMEM;
    p->nworkers = c.workers;
    p->spin_rounds = c.spin_rounds;
    p->yield_rounds = c.yield_rounds;
    p->spin_ns = c.spin_ns;
    p->wait_ns = c.wait_ns;
    p->steal = c.steal;
    p->split = c.deque == FG_DEQUE_SPLIT;
    p->seat = c.caller == FG_CALLER_SEAT;
    p->stack_size = c.stack_size;
    p->victim_fn = c.victim_fn;
    p->victim_ctx = c.victim_ctx;
    p->stats_report = c.stats_report;
    fg__sleep_init(&p->sleep);
    fg__atomic_init(&p->terminate, 0);
    fg__atomic_init(&p->closing, 0);
    fg__atomic_init(&p->inflight, 0);
    fg__fork_register();
    p->fork_gen = fg__fork_generation();
    if ((err = fg__pool_setup(p, &c)) < 0) {
        fg__pool_teardown(p, false);
        return err;
    }
    fg__seat_prepare(p); /* the creator's first call is likely seated */
    fg__live_add(p);
    *out = p;
    return 0;
}

void fg_pool_destroy(fg_pool *p)
{
    if (p == NULL)
        return;
    assert(fg__worker_of(p) == NULL && "fg_pool_destroy called from one of its own workers");
    if (!fg__pool_live(p)) {
        fprintf(stderr, "forage: fg_pool_destroy(%p): not a live pool (destroyed twice?)\n",
                (void *)p);
        return;
    }
    if (fg__pool_is_default(p) || fg__pool_dead(p))
        return; /* fg_pool_default's: destroyed at exit (pool_default.c);
                   dead: no threads to join here (fork.c I1) */
    /* [pool-drain] seq_cst: store closing, then read inflight (I2). */
    fg__atomic_store(&p->closing, 1, FG__SEQ_CST);
    for (;;) {
        uint32_t n = fg__atomic_load(&p->inflight, FG__SEQ_CST);
        if (n == 0)
            break;
        fg__futex_wait(&p->inflight, n);
    }
    fg__live_remove(p); /* only now: calls during the drain get FG_ESHUTDOWN */
    fg__pool_teardown(p, true);
}

int fg_pool_workers(const fg_pool *p)
{
    /* A worker's own pool is alive while it runs: no look-up (the façade
     * asks on every loop). */
    if (p == NULL || (fg__worker_of((fg_pool *)p) == NULL && !fg__pool_live(p)))
        return FG_EINVAL;
    return p->nworkers;
}

fg_pool *fg_pool_current(void)
{
    return fg__tls_worker != NULL ? fg__tls_worker->pool : NULL;
}

int fg_pool_queue_length(const fg_pool *p, int worker)
{
    if (p == NULL || worker < 0 || worker >= p->nworkers)
        return FG_EINVAL;
    if (p->simulated != NULL) /* forage-sim answers from its deques */
        return p->simulated(p->simulated_ctx, worker);
    int64_t n = fg__victim_size(p->split, &p->workers[worker]);
    return n < INT_MAX ? (int)n : INT_MAX;
}

/* A non-worker thread that runs tasks itself (the façade's sequential
 * backend) answers as the index it entered; -1: none. */
static _Thread_local int fg__index_scope = -1;

int fg_worker_index(void)
{
    return fg__tls_worker != NULL ? fg__tls_worker->index : fg__index_scope;
}

int fg_worker_scope_enter(int index)
{
    int previous = fg__index_scope;
    fg__index_scope = index;
    return previous;
}

void fg_worker_scope_leave(int previous)
{
    fg__index_scope = previous;
}

int fg__run_on_caller(fg_pool *p, fg_fn fn, void *arg)
{
    if (fg__tls_worker != NULL) /* a worker of another pool: it keeps its own index */
        return fn(arg);
    /* A live pool's workers hold [0, workers): the caller gets the slot
     * after them.  A pool inherited across fork has no workers here. */
    int previous = fg_worker_scope_enter(fg__pool_dead(p) ? 0 : p->nworkers);
    int result = fn(arg);
    fg_worker_scope_leave(previous);
    return result;
}
