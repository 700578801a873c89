/* internal.h: the pool and worker structures shared by the runtime files.
 *
 * Layout rule (Lace's Worker/WorkerP split): what thieves and wakers touch
 * sits on its own cache lines, apart from the owner-only fields, and the
 * layout is checked by _Static_assert below.
 */
#ifndef FG_INTERNAL_H
#define FG_INTERNAL_H

#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forage.h"
#include "atomics.h"
#include "deque.h"
#include "fork.h"
#include "futex.h"
#include "injector.h"
#include "job.h"
#include "latch.h"
#include "sleep.h"
#include "slab.h"
#include "split_deque.h"
#include "stats.h"
#include "ctx_stack.h"
#include "simulated.h"
#include "topology.h"
#include "trace.h"
#include "record.h"

struct fg__worker {
    fg__deque deque;                       /* thieves: top, bottom, array */
    alignas(FG__CACHE_LINE)
    FG__ATOMIC(uint32_t) sleep_word;       /* FG__WORD_*: parked, seat taken */
    FG__ATOMIC(uint32_t) between_jobs;     /* the last park was between jobs,
                                              not at a sync: its seat may be
                                              taken (sleep.c, seat.c) */
    FG__ATOMIC(fg__job *) mail;            /* jobs for this worker alone
                                              (broadcast.c): pushed by any
                                              thread, taken whole by the owner */
    alignas(FG__CACHE_LINE)
    fg_pool *pool;                         /* owner-only from here on */
    fg__recorder *record;                  /* NULL: not recording (record.h) */
    bool split;                            /* FG_DEQUE_SPLIT: use `sdq`, not `deque` */
    int index;
    uint64_t rng;                          /* xorshift64* state, never 0 */
    fg_victim_args victim;                 /* the policy's view, persistent */
    fg__slab_cache frames;
    fg__stats stats;
    pthread_t thread;
    const char *stack_lo, *stack_hi;       /* this worker's stack (group.c) */
    fg__trace_ring *trace;                 /* NULL: not tracing (trace.h) */
    fg__split_deque sdq;                   /* FG_DEQUE_SPLIT only (own lines) */
    FG__ATOMIC(fg__job *) mail_taken;      /* owner: mail taken, not yet run;
                                              atomic only for the re-scan of a
                                              parker whose seat a caller may
                                              just have taken (seat.c) */
    fg__ctx_stack ctx_stack;                  /* ctx tasks (own lines) */
};

_Static_assert(offsetof(struct fg__worker, sleep_word) % FG__CACHE_LINE == 0 &&
               offsetof(struct fg__worker, sleep_word) >= sizeof(fg__deque),
               "sleep_word must not share a line with the deque");
_Static_assert(offsetof(struct fg__worker, pool) % FG__CACHE_LINE == 0,
               "owner-only fields start on their own cache line");

struct fg_pool {
    int nworkers;
    unsigned spin_rounds;                  /* FG_SPIN_FOREVER: never park */
    unsigned yield_rounds;
    uint64_t spin_ns;                      /* and spin at least this long */
    uint64_t wait_ns;                      /* ... and at a sync at least this long */
    int steal;                             /* enum fg_steal_amount */
    bool split;                            /* FG_DEQUE_SPLIT */
    bool seat;                             /* FG_CALLER_SEAT (seat.c) */
    size_t stack_size;                     /* each worker's stack (seat.c S4) */
    fg__topology *topology;                /* FG_VICTIM_NEAR only, else NULL */
    int *bind_cpu;                         /* FG_BIND_CPUS: worker i's CPU, or NULL */
    fg__cpu_mask *base_mask;               /* the CPUs the pool may use (NULL: unknown) */
    bool base_reset;                       /* made by a bound worker: workers
                                              start on base_mask, not its CPU */
    fg_victim_fn victim_fn;
    void *victim_ctx;
    fg__worker *workers;                   /* nworkers, cache-line aligned */
    fg__injector injector;
    fg__sleep sleep;
    fg__slab_depot frames;                 /* group spawn frames */
    FG__ATOMIC(int) terminate;             /* workers exit when set */
    FG__ATOMIC(int) closing;               /* destroy started: refuse new calls */
    FG__ATOMIC(uint32_t) inflight;         /* external calls not yet finished */
    int started;                           /* threads created (owner: create/destroy) */
    int ready_workers;                     /* workers initialised (create/destroy) */
    bool injector_ready, frames_ready;     /* set up by create (teardown undoes) */
    int stats_report;                      /* print counters at destroy */
    fg__trace *trace;                      /* NULL: not tracing */
    fg__record *record;                    /* NULL: not recording */
    fg_pool *live_next;                    /* debug builds: the live-pool list */
    fg__queue_length_fn simulated;         /* forage-sim's pools only (simulated.h) */
    void *simulated_ctx;
    unsigned fork_gen;                     /* fork generation at create (fork.c) */
};

/* The worker running on this thread, NULL on other threads. */
extern __attribute__((tls_model("initial-exec"))) _Thread_local fg__worker *fg__tls_worker;
/* worker.c: the same worker's &ctx_stack.cx, read by forage.h's inline
 * group paths. */
extern __attribute__((tls_model("initial-exec"))) _Thread_local fg_ctx *fg__tls_cx;

/* cancel.c: the calling thread's cancellation scope, inline here so that
 * the worker loop and group tasks set it with a plain store, not a call. */
extern __attribute__((tls_model("initial-exec"))) _Thread_local const fg_cancel_token *fg__scope;

static inline const fg_cancel_token *fg__scope_swap(const fg_cancel_token *t)
{
    const fg_cancel_token *previous = fg__scope;
    fg__scope = t;
    return previous;
}

/* fg_cancel_requested on a token known to be there; relaxed (cancel.c). */
static inline bool fg__cancel_is_set(const fg_cancel_token *t)
{
    return __atomic_load_n(&t->fg__set, __ATOMIC_RELAXED) != 0;
}

/* The worker's own deque, whichever kind the pool uses.  Push: -1 when no
 * room (nothing pushed), 0 when the job stays private (split deque), 1
 * when thieves can see it (the caller then notifies sleepers). */
static inline int fg__own_push(fg__worker *w, fg__job *job)
{
    if (w->split)
        return fg__split_push(&w->sdq, job);
    return fg__deque_push(&w->deque, job) < 0 ? -1 : 1;
}

static inline fg__job *fg__own_take(fg__worker *w)
{
    return w->split ? fg__split_take(&w->sdq) : fg__deque_take(&w->deque);
}

/* Thieves: steal from / measure worker v's deque, then its ctx stack.  `split` is the pool's
 * setting (read-only), not v's owner-only copy, to keep v's lines clean. */
static inline fg__steal_result fg__victim_steal(bool split, fg__worker *v, fg__job **out)
{
    fg__steal_result r = split ? fg__split_steal(&v->sdq, out) : fg__deque_steal(&v->deque, out);
    if (r != FG__STEAL_EMPTY)
        return r;
    return fg__ctx_steal(&v->ctx_stack, out); /* then its ctx tasks */
}

static inline int64_t fg__victim_size(bool split, fg__worker *v)
{
    int64_t jobs = split ? fg__split_size(&v->sdq) : fg__deque_size(&v->deque);
    return jobs + fg__ctx_size(&v->ctx_stack);
}

/* The calling thread's worker if it belongs to pool p, else NULL. */
static inline fg__worker *fg__worker_of(fg_pool *p)
{
    fg__worker *w = fg__tls_worker;
    return (w != NULL && w->pool == p) ? w : NULL;
}

/* Is p a pool that was created and not yet destroyed?  Debug builds
 * (NDEBUG unset) keep a list of live pools so that a call on a destroyed
 * pool fails with FG_EINVAL instead of reading freed memory; release builds
 * trust the caller.  Only paths from non-worker threads ask: a worker's own
 * pool is alive while the worker runs.  A new pool created at the same
 * address as a destroyed one defeats the check. */
#ifdef NDEBUG
static inline bool fg__pool_live(const fg_pool *p) { (void)p; return true; }
#else
bool fg__pool_live(const fg_pool *p);
#endif

/* fork.c I1: was p created before a fork() this process came out of?  Its
 * workers are not in this process. */
static inline bool fg__pool_dead(const fg_pool *p)
{
    return p->fork_gen != fg__fork_generation();
}
/* pool.c, for fork.c I3: phase 0 lock the live-pool list (prepare),
 * 1 unlock it (parent), 2 re-initialise it (child). */
void fg__live_lock_fork(int phase);

/* pool.c: bracket a call from a non-worker thread so destroy can drain
 * it.  fg__pool_enter fails (false) once destroy has started. */
bool fg__pool_enter(fg_pool *p);
void fg__pool_leave(fg_pool *p);
/* Count one more call while work already counted keeps destroy waiting. */
void fg__pool_retain(fg_pool *p);
/* Run fn(arg), a task of pool p, on the calling thread, which is not one of
 * p's workers (no frame could be had; p was inherited across fork): on a
 * non-worker thread fg_worker_index() answers p's caller slot meanwhile
 * (forage.h: fg_worker_index). */
int fg__run_on_caller(fg_pool *p, fg_fn fn, void *arg);

/* Hand a job to the pool from a non-worker thread and wake a sleeper. */
void fg__pool_inject(fg_pool *p, fg__job *job);
/* A non-worker thread's whole call as one job: enter, run `job` in the seat
 * of a parked worker (seat.c) or inject it and block until it sets `done`
 * (initialised here), leave.  0, or FG_ESHUTDOWN (nothing run) once
 * destroy has started. */
int fg__pool_run_blocking(fg_pool *p, fg__job *job, fg__latch *done);
/* Any queue non-empty, or shutting down?  seq_cst reads ([sleep-announce]). */
bool fg__pool_has_work(fg_pool *p);

/* seat.c: a worker parked between jobs whose seat the calling non-worker
 * thread now holds, or NULL (FG_CALLER_WAIT, or none parked). */
fg__worker *fg__seat_take(fg_pool *p);
/* Run job as w on the calling thread, then give the seat back. */
void fg__seat_run(fg__worker *w, fg__job *job);
/* Look up the calling thread's stack now, so its first seated call need not. */
void fg__seat_prepare(const fg_pool *p);

/* pool_default.c: is p the process-wide pool (which destroy leaves alone)? */
bool fg__pool_is_default(const fg_pool *p);

/* broadcast.c: the owner's next job from its mailbox, or NULL. */
fg__job *fg__mail_take(fg__worker *w);
/* Any thread: is w's mailbox non-empty?  seq_cst ([sleep-announce]). */
bool fg__mail_waiting(fg__worker *w);

/* worker.c */
void *fg__worker_main(void *arg);
/* Run jobs until latch is set; park when there is nothing to do. */
void fg__worker_wait_until(fg__worker *w, fg__latch *latch);
void fg__worker_run(fg__worker *w, fg__job *job);
/* The calling thread's stack, [lo, hi); false when it cannot be had (for
 * the main thread glibc reads /proc/self/maps: not for a hot path). */
bool fg__thread_stack(const char **lo, const char **hi);
/* pool.c: the CPUs of the calling thread's pool when that thread is a
 * bound worker (its own mask is one CPU, which threads, processes and pools
 * it creates must not inherit), else NULL. */
const fg__cpu_mask *fg__unbound_mask(void);

/* group.c: the size of a group's spawn frame, for the pool's slab. */
size_t fg__group_frame_size(void);


/* policy.c */
fg_victim_fn fg__policy_builtin(int kind); /* NULL for an unknown kind */
int fg__policy_next_victim(fg__worker *w, int attempt); /* a valid index or -1 */

/* error.c: the calling thread's explanation of the error it is about to
 * return (fg_last_error_detail); cleared by each call that sets one. */
void fg__detail_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fg__detail_clear(void);

/* config.c */
typedef struct fg__config {
    int workers;
    int victim;               /* the built-in kind, when victim_fn is one */
    unsigned spin_rounds;     /* FG_SPIN_FOREVER: never park */
    uint64_t spin_ns;         /* and the spin lasts at least this long */
    uint64_t wait_ns;         /* ... and at a sync at least this long */
    unsigned yield_rounds;
    int steal;                /* enum fg_steal_amount */
    int deque;                /* enum fg_deque_kind */
    int bind;                 /* enum fg_bind_kind */
    int caller;               /* enum fg_caller_kind */
    fg_victim_fn victim_fn;
    void *victim_ctx;
    uint64_t seed;
    size_t stack_size;
    int stats_report;                      /* $FORAGE_STATS=1 */
    const char *trace;                     /* NULL: off; else the JSON path */
    int trace_bad_path_err;                /* FG_EINVAL (config) or FG_EENV */
    uint64_t trace_events;                 /* ring capacity, a power of two */
    const char *record;                    /* NULL: off; else the recording's path */
    int record_bad_path_err;               /* FG_EINVAL (config) or FG_EENV */
    uint64_t record_units;                 /* the unit budget ($FORAGE_RECORD_UNITS) */
} fg__config;
int fg__config_resolve(const fg_config *cfg, fg__config *out);
/* trace.c: cfg->trace, else $FORAGE_TRACE; $FORAGE_TRACE_EVENTS. */
int fg__trace_config(const fg_config *cfg, fg__config *out);
/* record.c: cfg->record, else $FORAGE_RECORD; $FORAGE_RECORD_UNITS. */
int fg__record_config(const fg_config *cfg, fg__config *out);
int fg__cpu_count(void);
/* The CPU limit of a cgroup quota under root (cgroup v2 cpu.max, else v1
 * cpu/cpu.cfs_quota_us and cfs_period_us), rounded up; 0 when none. */
int fg__cgroup_cpu_limit(const char *root);

#endif
