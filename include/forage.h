/* forage.h: the one public header of forage, a work-stealing task runtime.
 *
 * Each worker thread owns a lock-free Chase-Lev deque of task closures; idle
 * workers steal from randomly chosen victims.  On that core sit fork-join
 * (fg_join, fg_spawn/fg_sync).  Design notes live in docs/design/.
 *
 * Conventions
 *   - fg_ / FG_ names are public; fg__ / FG__ names are internal: do not use.
 *   - Functions return 0 or a negative FG_E* code (see FG_ERROR_TABLE).  A call
 *     that fails with a negative code before starting ran none of its tasks.
 *   - A task returns 0 or an error code of its own choosing (use positive
 *     codes so they never collide with FG_E*).  Fork-join calls always run
 *     every task they were given and return the first nonzero task result in
 *     program order (fg_join: a before b) or completion order (groups).
 *   - Every struct the caller allocates and passes by pointer (fg_config,
 *     fg_for_opts, fg_parallel_opts, fg_worker_stats, fg_error_info) starts
 *     with `size`, the struct's size as the caller was compiled: fill it with
 *     the struct's initialiser macro, which takes designated initialisers,
 *         fg_pool_create(&pool, FG_CONFIG(.workers = 4, .seed = 42));
 *         fg_config cfg = FG_CONFIG_INIT(.workers = 4);
 *     so that a program built against an older header keeps working with a
 *     newer library (missing fields read as 0) and a newer one gets a clear
 *     FG_ESIZE from an older library instead of a misread struct.  A size of
 *     0 (a struct not made by its macro) is FG_ESIZE too.  0 means default
 *     in every other field; a NULL config means all defaults.
 *   - Nothing prints, nothing calls exit() or abort() on an error a caller
 *     could handle.
 *
 * Thread safety, handle by handle (tests/unit/handles.c):
 *   fg_pool           every call from any thread at once, except
 *                     fg_pool_destroy: once, when the caller's own calls
 *                     are done (it waits for other threads' calls).
 *   fg_group          fg_spawn and fg_group_cancel from any thread; fg_sync
 *                     from one thread at a time (a second one at once is a
 *                     bug, reported as FG_EBUSY when it is seen).
 *   fg_cancel_token   fg_cancel / fg_cancel_requested from any thread;
 *                     fg_cancel_reset once the work it was given to returned.
 *   fg_parallel       map, calls, map_init, iter_open and get_opts from any
 *                     threads at once (calls share the learned batch size,
 *                     and on_progress may then run for two calls at once);
 *                     fg_parallel_close once no call and no iterator is open.
 *   fg_parallel_iter  fg_parallel_iter_next from any threads at once (each
 *                     result goes to one); fg_parallel_iter_close once, and
 *                     no next may start after it began.
 *   fg_ctx            the worker running the task only.
 *   fg_config, fg_*_opts, fg_error_info, fg_worker_stats: the caller's
 *                     memory, read or written during the one call given it.
 *
 * ABI policy: before 1.0 the ABI may change with every MINOR version, and the
 * SONAME says so: libforage.so.MAJOR.MINOR.  Structs with a `size` field
 * only ever grow at their end, so a caller's older, smaller struct stays
 * valid.  From 1.0 on the SONAME is libforage.so.MAJOR, and MAJOR changes
 * when a function signature or struct layout changes incompatibly.
 */
#ifndef FORAGE_H
#define FORAGE_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* FG_API marks the exported symbols: the library builds with
 * -fvisibility=hidden, so anything without it stays internal. */
#if defined(_WIN32)
#  if defined(FG_BUILDING_SHARED) && defined(FG_USING_SHARED)
#    error "define at most one of FG_BUILDING_SHARED and FG_USING_SHARED"
#  elif defined(FG_BUILDING_SHARED)
#    define FG_API __declspec(dllexport)
#  elif defined(FG_USING_SHARED)
#    define FG_API __declspec(dllimport)
#  else
#    define FG_API
#  endif
#elif defined(__GNUC__)
#  define FG_API __attribute__((visibility("default")))
#else
#  define FG_API
#endif

/* ------------------------------------------------------------ C and C++ */

/* The options macros take C designators: FG_CONFIG(.workers = 4).  C++
 * has no designated initialisers before C++20 (and then only in member
 * order), so there each `.field = value` becomes an assignment to a
 * value-initialised struct in a lambda; the *_INIT macros are then
 * expressions for use inside a function, and the pointer forms point at a
 * temporary that lives to the end of the full expression, as a compound
 * literal does in C.  At most 20 designators per use in C++. */
#ifdef __cplusplus
#  define FG__STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#  define FG__INIT(T, ...) ([&]() -> T { T fg__v = T(); fg__v.size = sizeof(T);     \
                                         FG__EACH(fg__v, __VA_ARGS__) return fg__v; }())
#  define FG__INIT_PTR(T, ...) fg__addr(FG__INIT(T, __VA_ARGS__))
#  define FG__CAT(a, b) FG__CAT_(a, b)
#  define FG__CAT_(a, b) a##b
#  define FG__NARGS(...) FG__NARGS_(__VA_ARGS__, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#  define FG__NARGS_(a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20, N, ...) N
#  define FG__EACH(v, ...) FG__CAT(FG__EACH, FG__NARGS(__VA_ARGS__))(v, __VA_ARGS__)
#  define FG__EACH1(v, d) (void)(v d);
#  define FG__EACH2(v, d, ...) (void)(v d); FG__EACH1(v, __VA_ARGS__)
#  define FG__EACH3(v, d, ...) (void)(v d); FG__EACH2(v, __VA_ARGS__)
#  define FG__EACH4(v, d, ...) (void)(v d); FG__EACH3(v, __VA_ARGS__)
#  define FG__EACH5(v, d, ...) (void)(v d); FG__EACH4(v, __VA_ARGS__)
#  define FG__EACH6(v, d, ...) (void)(v d); FG__EACH5(v, __VA_ARGS__)
#  define FG__EACH7(v, d, ...) (void)(v d); FG__EACH6(v, __VA_ARGS__)
#  define FG__EACH8(v, d, ...) (void)(v d); FG__EACH7(v, __VA_ARGS__)
#  define FG__EACH9(v, d, ...) (void)(v d); FG__EACH8(v, __VA_ARGS__)
#  define FG__EACH10(v, d, ...) (void)(v d); FG__EACH9(v, __VA_ARGS__)
#  define FG__EACH11(v, d, ...) (void)(v d); FG__EACH10(v, __VA_ARGS__)
#  define FG__EACH12(v, d, ...) (void)(v d); FG__EACH11(v, __VA_ARGS__)
#  define FG__EACH13(v, d, ...) (void)(v d); FG__EACH12(v, __VA_ARGS__)
#  define FG__EACH14(v, d, ...) (void)(v d); FG__EACH13(v, __VA_ARGS__)
#  define FG__EACH15(v, d, ...) (void)(v d); FG__EACH14(v, __VA_ARGS__)
#  define FG__EACH16(v, d, ...) (void)(v d); FG__EACH15(v, __VA_ARGS__)
#  define FG__EACH17(v, d, ...) (void)(v d); FG__EACH16(v, __VA_ARGS__)
#  define FG__EACH18(v, d, ...) (void)(v d); FG__EACH17(v, __VA_ARGS__)
#  define FG__EACH19(v, d, ...) (void)(v d); FG__EACH18(v, __VA_ARGS__)
#  define FG__EACH20(v, d, ...) (void)(v d); FG__EACH19(v, __VA_ARGS__)
extern "C++" {
/* The address of a temporary, valid to the end of the full expression. */
template <class T> static inline T *fg__addr(T &&v) { return &v; }
}
#else
#  define FG__STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#  define FG__INIT(T, ...) { .size = sizeof(T), __VA_ARGS__ }
#  define FG__INIT_PTR(T, ...) (&(T)FG__INIT(T, __VA_ARGS__))
#endif

/* ---------------------------------------------------------------- version */

#define FG_VERSION_MAJOR 0
#define FG_VERSION_MINOR 6
#define FG_VERSION_PATCH 0
#define FG_VERSION_HEX \
    ((FG_VERSION_MAJOR << 16) | (FG_VERSION_MINOR << 8) | FG_VERSION_PATCH)
/* True when the header is at least version maj.min. */
#define FG_VERSION_AT_LEAST(maj, min) \
    (FG_VERSION_MAJOR > (maj) ||      \
     (FG_VERSION_MAJOR == (maj) && FG_VERSION_MINOR >= (min)))

/* FG_VERSION_HEX of the library actually loaded (may differ from the header). */
FG_API int fg_version(void);
/* "MAJOR.MINOR.PATCH" of the library actually loaded. */
FG_API const char *fg_version_string(void);

/* ----------------------------------------------------------------- errors */

/* One table: the enum, fg_strerror() and fg_error_name() all expand it.
 * Values are -errno where one fits, else in the reserved range -4000..-4099. */
#define FG_ERROR_TABLE(X)                                                     \
    X(EINVAL,    -EINVAL,    "invalid argument")                              \
    X(ENOMEM,    -ENOMEM,    "out of memory")                                 \
    X(EAGAIN,    -EAGAIN,    "could not start a worker thread or process")    \
    X(ECANCELED, -ECANCELED, "cancelled before every task ran")               \
    X(ESHUTDOWN, -ESHUTDOWN, "pool is being destroyed")                       \
    X(EENV,      -4001,      "invalid FORAGE_* environment variable")         \
    X(ERANGE,    -4002,      "worker count out of range")                     \
    X(EBUSY,     -4003,      "group is already being synced")                 \
    X(ESIZE,     -4004,      "struct size not set by its FG_*_INIT macro, "   \
                             "or fields this library version does not know")  \
    X(ECRASHED,  -4005,      "a worker process died running a task")          \
    X(ETIMEDOUT, -ETIMEDOUT, "a task ran past the timeout")                   \
    X(EDONE,     -ENODATA,   "no more results")

#define FG__ERROR_ENUM(name, value, text) FG_##name = (value),
enum fg_error { FG_OK = 0, FG_ERROR_TABLE(FG__ERROR_ENUM) };
#undef FG__ERROR_ENUM

/* A message for any int: FG_E* codes get their text, 0 "success", anything
 * else "unknown error" (task codes are the caller's).  Never NULL. */
FG_API const char *fg_strerror(int err);
/* The code's name, e.g. "FG_EINVAL"; "FG_UNKNOWN" for others.  Never NULL. */
FG_API const char *fg_error_name(int err);

/* One line on the calling thread's last failed call that said more than its
 * code, e.g. after FG_EENV: `FORAGE_WORKERS="abc": not a whole number`.
 * "" when there is nothing to add.  Never NULL; valid until the thread's
 * next forage call. */
FG_API const char *fg_last_error_detail(void);

/* ------------------------------------------------------------------- pool */

typedef struct fg_pool fg_pool; /* opaque */

/* Largest pool; larger requests fail with FG_ERANGE. */
#define FG_MAX_WORKERS 512

/* Victim selection.  A policy picks which worker a thief tries next.
 * $FORAGE_POLICY (random, round-robin, sticky, near, power-of-two) chooses
 * one by name when the config leaves `victim` at 0 and `victim_fn` NULL. */
enum fg_victim_kind {
    FG_VICTIM_RANDOM = 0,   /* uniform over the other workers (default) */
    FG_VICTIM_ROUND_ROBIN,  /* thief+1, thief+2, ... cyclically */
    FG_VICTIM_STICKY,       /* the last successful victim first, else random */
    FG_VICTIM_NEAR,         /* nearest first in the machine's topology (hwloc):
                               workers are bound to processing units, and a
                               round tries those sharing a core, then a cache,
                               then a package, then the rest (random within
                               each tier).  Without hwloc: random */
    FG_VICTIM_POWER_OF_TWO, /* probe two random victims, steal from the one
                               with more queued jobs */
};

/* What a victim policy sees on each call.  The struct belongs to the thief
 * and persists between its calls, so `state` can carry per-worker data. */
typedef struct fg_victim_args {
    int      thief;       /* read-only: index of the stealing worker */
    int      workers;     /* read-only: number of workers in the pool */
    int      last_victim; /* read-only: last victim stolen from, or -1 */
    uint64_t random;      /* read-only: a fresh 64-bit number from the thief's RNG */
    void    *state;       /* the policy's own per-worker slot, NULL at start */
    int      attempt;     /* read-only: 0 for the first choice of a steal
                             round (workers - 1 choices), then 1, 2, ... */
    const struct fg_pool *pool; /* read-only: for fg_pool_queue_length */
} fg_victim_args;

/* A user policy: return a worker index in [0, workers) other than the thief.
 * Runs on the thief's thread, so it must not block.  Other values are
 * counted as bad choices and skipped. */
typedef int (*fg_victim_fn)(void *ctx, fg_victim_args *args);

/* How much a successful steal takes.  $FORAGE_STEAL=one|half chooses when
 * the config leaves `steal` at 0. */
enum fg_steal_amount {
    FG_STEAL_ONE = 0, /* the oldest job (default) */
    FG_STEAL_HALF,    /* the oldest job to run, and up to half of what was
                         left in the victim's deque onto the thief's own */
};

/* Where workers run.  $FORAGE_BIND=cpus|none chooses when fg_config.bind
 * is 0.  FG_BIND_CPUS: when the pool has no more workers than the CPUs this
 * process may run on (its affinity mask at create), worker i is bound to
 * the i-th of them, as Lace binds its workers; with more workers nothing is
 * bound.  Unbound, a worker woken while another runs is often queued by the
 * kernel on the waker's CPU and preempts it (docs/design/sleep.md,
 * "Binding").  FG_VICTIM_NEAR binds workers by hwloc's topology either way. */
enum fg_bind_kind {
    FG_BIND_CPUS = 0, /* one CPU per worker when there are enough (default) */
    FG_BIND_NONE,     /* the kernel places workers */
};

/* How a call from a thread outside the pool (fg_join, fg_ctx_run, fg_spawn's
 * root calls, the façade's loops) runs.  $FORAGE_CALLER=seat|wait chooses
 * when fg_config.caller is 0.  FG_CALLER_SEAT: if a worker is parked between
 * jobs, the caller takes its seat and runs the call on its own thread as
 * that worker (fg_pool_current() and fg_worker_index() say so), while the
 * worker's thread stays parked; otherwise, and always with FG_CALLER_WAIT,
 * the call is handed to a worker and the caller sleeps until it is done.
 * The seat saves two wake-ups per call (docs/design/sleep.md, "The
 * caller's seat"); OpenMP and oneTBB run such calls on the caller too. */
enum fg_caller_kind {
    FG_CALLER_SEAT = 0, /* run the call in a parked worker's seat (default) */
    FG_CALLER_WAIT,     /* hand the call to a worker and sleep */
};

/* Each worker's deque.  $FORAGE_DEQUE=chase-lev|split chooses when the
 * config leaves `deque` at 0. */
enum fg_deque_kind {
    FG_DEQUE_CHASE_LEV = 0, /* Chase-Lev (Le et al. 2013): growable; every
                               pop pays a StoreLoad fence (default) */
    FG_DEQUE_SPLIT,         /* split deque (Lace, van Dijk & van de Pol 2014):
                               the owner's newest jobs are private and pushed
                               and popped without fence or RMW; thieves ask
                               the owner to share, which it does at its next
                               push or pop.  Fixed size: 65536 jobs per worker,
                               beyond which a join runs both halves inline */
};

typedef struct fg_config {
    size_t size;            /* sizeof(fg_config): set by FG_CONFIG_INIT */
    int workers;            /* 0: $FORAGE_WORKERS, else the CPUs this process
                               may run on; > 0 exactly that many; < 0 joblib's
                               rule max(cpus + 1 + workers, 1) */
    int victim;             /* enum fg_victim_kind; 0: $FORAGE_POLICY, else
                               FG_VICTIM_RANDOM */
    fg_victim_fn victim_fn; /* NULL: use `victim`; else this policy */
    void *victim_ctx;       /* passed to victim_fn */
    unsigned spin_rounds;   /* idle policy, step 1: at least this many failed
                               steal rounds with a short pause before
                               yielding; 0: FG_SPIN_ROUNDS_DEFAULT when
                               spin_us is 0 too, else no minimum;
                               FG_SPIN_FOREVER: never sleep (burns a core per
                               idle worker: for latency experiments only) */
    unsigned yield_rounds;  /* step 2: failed rounds ending in sched_yield()
                               before the futex sleep; 0: none.  When these
                               and spin_us are 0, $FORAGE_IDLE=spin:N,yield:M
                               (N rounds, or Nus microseconds, or both items,
                               or `forever`; and wait:Tus for wait_us) sets
                               them */
    int steal;              /* enum fg_steal_amount; 0: $FORAGE_STEAL, else
                               FG_STEAL_ONE */
    int deque;              /* enum fg_deque_kind; 0: $FORAGE_DEQUE, else
                               FG_DEQUE_CHASE_LEV */
    uint64_t seed;          /* 0: seed victim RNGs from entropy; else
                               reproducible victim sequences */
    size_t stack_size;      /* worker stack in bytes; 0: 8 MiB */
    const char *trace;      /* NULL: $FORAGE_TRACE; "" or unset: no trace;
                               else a path: the pool records a Chrome trace
                               (JSON, docs/design/trace.md) written there by
                               fg_pool_destroy (the process's 2nd, 3rd...
                               traced pool: x.1.json, x.2.json...).  Opened
                               at create: FG_EINVAL (FG_EENV for
                               $FORAGE_TRACE) if it cannot be */
    /* Appended in 0.4.0. */
    const char *record;     /* NULL: $FORAGE_RECORD; "" or unset: no
                               recording; else a path: the pool records the
                               task graph it runs (every unit, its parent,
                               spawn and sync points and own work; format:
                               docs/design/record.md), written there by
                               fg_pool_destroy (the process's 2nd, 3rd...
                               recording pool: x.1.rec, x.2.rec...), at most
                               $FORAGE_RECORD_UNITS units (default 4194304).
                               Opened at create: FG_EINVAL (FG_EENV for
                               $FORAGE_RECORD) if it cannot be */
    /* Appended in 0.6.0. */
    unsigned spin_us;       /* idle policy, step 1 in time: the spin also
                               lasts at least this many microseconds (from
                               the first failed round), so that it outlasts
                               a wake-up whatever a round costs; 0: none */
    unsigned wait_us;       /* a worker waiting at a sync (fg_join's stolen
                               half, fg_sync, fg_ctx_sync) for a job still
                               running elsewhere goes on with its rounds,
                               yielding the CPU after each, for at least
                               this many microseconds before it parks, so
                               that a short stolen child does not put a
                               wake-up on the critical path; 0:
                               FG_WAIT_US_DEFAULT */
    int bind;               /* enum fg_bind_kind; 0: $FORAGE_BIND, else
                               FG_BIND_CPUS */
    int caller;             /* enum fg_caller_kind; 0: $FORAGE_CALLER, else
                               FG_CALLER_SEAT */
} fg_config;

/* fg_config's initialiser, and a pointer to a fresh one:
 *     fg_config cfg = FG_CONFIG_INIT(.workers = 4);
 *     fg_pool_create(&pool, FG_CONFIG(.workers = 4, .seed = 42)); */
#define FG_CONFIG_INIT(...) FG__INIT(fg_config, __VA_ARGS__)
#define FG_CONFIG(...) FG__INIT_PTR(fg_config, __VA_ARGS__)

#define FG_SPIN_ROUNDS_DEFAULT 32 /* the default spin: 32 failed rounds */
#define FG_WAIT_US_DEFAULT 1000   /* a waiter at a sync: at least 1 ms (0.6.0) */
#define FG_SPIN_FOREVER (~0u)

/* Create a pool and start its worker threads.  cfg may be NULL.
 * Errors: FG_EINVAL (out NULL, bad field), FG_EENV (a $FORAGE_* variable
 * that does not parse), FG_ERANGE (too many workers), FG_ENOMEM, FG_EAGAIN.  On error
 * *out is left NULL and no thread is running. */
FG_API int fg_pool_create(fg_pool **out, const fg_config *cfg);

/* Wait for every fork-join call already running on the pool (from any
 * thread) to finish, then stop and join the workers and free the pool.
 * Calls that start while destroy waits fail with FG_ESHUTDOWN; calls after
 * it returned are use-after-free, which debug builds (NDEBUG unset) detect:
 * they return FG_EINVAL, and a second destroy prints a message to stderr
 * and does nothing.  A group with unfinished tasks must be
 * synced before destroy is called, or be in an fg_sync already waiting
 * (destroy then waits for it); tasks spawned from outside the pool are
 * always run before destroy returns.  Must not be called from a worker of
 * the same pool.  NULL is a no-op. */
FG_API void fg_pool_destroy(fg_pool *pool);

/* Number of workers, or FG_EINVAL for NULL (or, in debug builds, a pool
 * that was destroyed). */
FG_API int fg_pool_workers(const fg_pool *pool);

/* Jobs a thief could take from worker `worker`'s deque right now: a racy
 * snapshot for victim policies, or FG_EINVAL for a bad argument. */
FG_API int fg_pool_queue_length(const fg_pool *pool, int worker);

/* Index of the calling worker thread in its pool, in [0, workers); on any
 * other thread -1, unless that thread runs tasks itself inside a worker
 * scope (below).  So a task can always index per-worker arrays with it:
 *  - on a worker of its pool: that worker's index;
 *  - the façade's sequential backend (n_jobs = 1) on a non-worker thread,
 *    and a sequential iterator's reader: 0;
 *  - a process backend's worker process: its number, in [0, n_jobs);
 *  - a pool inherited across fork() (its tasks run inline): 0;
 *  - a task of a live pool run inline on a non-worker caller (fg_spawn when
 *    no frame can be had; the façade's fallback while the pool shuts down):
 *    `workers`, the caller's slot, so arrays of fg_pool_workers() + 1
 *    entries cover every case.  Only one thread at a time should expect
 *    that slot: it is shared by all non-worker callers of the pool.
 * (A worker of another pool that runs such a task keeps its own index.) */
FG_API int fg_worker_index(void);

/* Make fg_worker_index() answer `index` on this (non-worker) thread until
 * the matching leave, which restores the previous answer (returned here).
 * For code that runs tasks on its own thread as a stand-in for a worker. */
FG_API int fg_worker_scope_enter(int index);
FG_API void fg_worker_scope_leave(int previous);

/* Run fn(worker, ctx) exactly once on every worker of the pool (worker is
 * that worker's index) and return when all have run: to set up per-worker
 * state, warm caches, or pin resources.  Each worker runs its call the
 * next time it looks for work (a busy worker finishes its current task
 * first).  From a worker of the pool, that worker runs its own call while
 * it waits.  Returns 0, the lowest-indexed worker's nonzero result,
 * FG_EINVAL (nothing run) for a NULL pool or fn, FG_ENOMEM, or
 * FG_ESHUTDOWN. */
typedef int (*fg_broadcast_fn)(int worker, void *ctx);
FG_API int fg_broadcast(fg_pool *pool, fg_broadcast_fn fn, void *ctx);

/* The process-wide pool, created on first use with the defaults of a NULL
 * config: $FORAGE_WORKERS, else the CPUs this process may use (its
 * affinity mask, capped by a cgroup v2 cpu.max or v1 cfs quota, as loky's
 * cpu_count does).  Every call returns the same pool; do not destroy it:
 * it is destroyed at exit when no call is using it (else left to the
 * operating system rather than hang exit), and a forked child gets a fresh
 * one (fg_pool_destroy on it does nothing).  NULL if it could not be created (fg_last_error_detail says why;
 * the next call tries again). */
FG_API fg_pool *fg_pool_default(void);

/* The pool whose worker is calling, or NULL on any other thread.  A library
 * called from inside a task can run its own parallel work on the caller's
 * pool instead of creating threads: the façade does this when
 * fg_parallel_opts.pool is NULL. */
FG_API fg_pool *fg_pool_current(void);

/* Resolve a worker request the way fg_pool_create does (0: $FORAGE_WORKERS
 * or CPUs, < 0: joblib's rule) without creating anything: the count or a
 * negative FG_E* code. */
FG_API int fg_resolve_workers(int workers);

/* ------------------------------------------------------------- fork-join */

/* A task: 0 for success or a (preferably positive) error code. */
typedef int (*fg_fn)(void *arg);

/* Run a(arg_a) and b(arg_b), potentially in parallel, and return when both
 * have finished.  On a worker, b is stored in the next slot of the worker's
 * ctx stack (no allocation, no fence, no atomic read-modify-write), a runs
 * on the calling thread, then b is taken back and run here unless a thief
 * took it, in which case the caller runs other tasks until b is done.  b
 * becomes stealable at once when other workers are asking for work (idle
 * or asleep), else at the worker's next spawn or sync (a join, a ctx task,
 * a group spawn), as in Lace: a long a that spawns nothing keeps a b spawned
 * while nobody was asking (so never make a wait for b).  A join chain
 * deeper than the stack's 16384 slots runs b at once, before a.  From any
 * other thread the pair is handed to a worker through the pool's injector
 * and the caller blocks until both are done.  Both always run, whatever
 * either returns.  Returns a's result if nonzero, else b's; FG_EINVAL
 * (nothing run) for a NULL pool, a or b; FG_ESHUTDOWN if the pool is being
 * destroyed. */
FG_API int fg_join(fg_pool *pool, fg_fn a, void *arg_a, fg_fn b, void *arg_b);

/* A spawn/sync group lives on the stack of the thread that syncs it:
 *     fg_group g = FG_GROUP_INIT(pool);
 *     fg_spawn(&g, fn, arg); ...
 *     int err = fg_sync(&g);
 * Spawns may come from any thread, including tasks of the group itself; a
 * group is reusable after fg_sync returns.  Fields are private. */
typedef struct fg_group {
    fg_pool *pool;           /* read-only after init */
    uint64_t fg__private[6]; /* private: pending count, first error, latch */
} fg_group;

#define FG_GROUP_INIT(p) { (p), { 0, 0, 0, 0, 0, 0 } }

/* Same as FG_GROUP_INIT, for groups that are not initialised statically. */
FG_API int fg_group_init(fg_group *g, fg_pool *pool);

/* Queue fn(arg) in the group.  On the worker that will sync it (the group
 * is on its stack) the task is stored in the worker's ctx stack, as
 * fg_join's b is: no allocation, no fence; it becomes stealable when other
 * workers ask for work or sleep, and fg_sync runs it unless a thief took
 * it.  From other tasks on a worker it is pushed on the caller's deque (its
 * frame comes from a per-worker slab: no malloc in steady state);
 * elsewhere it goes to the pool's injector.  If no frame can be had the
 * task runs inline before fg_spawn returns, so a spawned task is never
 * lost.  Returns 0, FG_EINVAL (nothing queued) for NULL g, pool or
 * fn, or FG_ESHUTDOWN.  fg_spawn and fg_sync are also macros whose inline
 * fast path serves the owner (see "inline group paths" below); the
 * functions stay, e.g. for `(fg_spawn)(...)` or a function pointer. */
FG_API int fg_spawn(fg_group *g, fg_fn fn, void *arg);

/* Wait until every task spawned in the group so far (and every task those
 * spawned) has finished; a worker runs other tasks meanwhile, any other
 * thread blocks.  Returns the first nonzero task result to finish, else
 * FG_ECANCELED if the group was cancelled (some tasks may have been
 * skipped), else 0; FG_EINVAL for NULL.  The group is then reusable, not
 * cancelled. */
FG_API int fg_sync(fg_group *g);

/* Cancel the group, from any thread: its tasks that have not started are
 * skipped (they count as finished), running ones see fg_cancelled() == 1,
 * and fg_sync returns FG_ECANCELED unless a task failed first.  Tasks
 * spawned into it until its sync are skipped too.  0, or FG_EINVAL for
 * NULL. */
FG_API int fg_group_cancel(fg_group *g);

/* ---------------------------------------------------------- cancellation */

/* A cancellation token: a flag any thread may set, read by the work it was
 * given to (fg_for_opts.cancel, fg_parallel_opts.cancel, or a scope below).
 * Work not yet started when it is set is skipped; running tasks finish, or
 * return early by asking fg_cancelled().  Fields are private.
 *     fg_cancel_token stop = FG_CANCEL_TOKEN_INIT;
 *     ... fg_cancel(&stop);                  // from any thread */
typedef struct fg_cancel_token {
    uint32_t fg__set;      /* private: read and written atomically */
    uint32_t fg__reserved;
} fg_cancel_token;

#define FG_CANCEL_TOKEN_INIT { 0, 0 }

/* Set the token (any thread, idempotent).  NULL is a no-op. */
FG_API void fg_cancel(fg_cancel_token *token);
/* 1 once the token is set, else 0 (also for NULL). */
FG_API int fg_cancel_requested(const fg_cancel_token *token);
/* Clear it for reuse, once the work it was given to has returned. */
FG_API void fg_cancel_reset(fg_cancel_token *token);

/* Asked by a running task: 1 when the work it belongs to was cancelled,
 * so it may return early; else 0.  "The work it belongs to" is the
 * innermost scope on the calling thread: the group of a task started by
 * fg_spawn (fg_group_cancel), the token of an fg_parallel_for chunk or
 * fg_parallel_map batch, or a scope entered below.  A stolen fg_join half
 * starts with no scope (0) unless it enters one. */
FG_API int fg_cancelled(void);

/* Make `token` the calling thread's scope for fg_cancelled() until the
 * matching leave, which restores the previous scope (returned here).
 * Scopes nest; enter and leave pair on one thread. */
FG_API const fg_cancel_token *fg_cancel_scope_enter(const fg_cancel_token *token);
FG_API void fg_cancel_scope_leave(const fg_cancel_token *previous);

/* ------------------------------------------------------ context tasks */

/* Lace-style tasks: the fastest fork-join in forage, for recursive code
 * whose every call spawns (fib, tree walks).  Each worker has a ctx stack
 * of fixed-size slots; fg_ctx_spawn copies the task's argument block into
 * the next slot, fg_ctx_sync takes it back and runs it right here through a
 * direct call, unless a thief took it, in which case the thief ran it in
 * place and sync copies its finished block back.  The worker's context
 * `cx` is passed down explicitly, so neither call looks up a thread-local,
 * and both inline into the caller (they are defined below); a pair that is
 * not stolen costs a few loads and stores.  docs/design/ctx_stack.md.
 *
 *     typedef struct { int n; long r; } fib_t;
 *     static void fib(fg_ctx *cx, void *p) {
 *         fib_t *t = p, x, y = { t->n - 2, 0 };
 *         if (t->n < 2) { t->r = t->n; return; }
 *         FG_CTX_SPAWN(cx, fib, ((fib_t){ t->n - 1, 0 })); // may run on a thief
 *         fib(cx, &y);
 *         FG_CTX_SYNC(cx, fib, x);     // x: the spawned task's finished block
 *         t->r = x.r + y.r;
 *     }
 *     fib_t root = { 30, 0 };
 *     fg_ctx_run(pool, fib, &root);
 *
 * Rules: a task syncs what it spawned, newest first, before it returns,
 * naming the function it spawned and a block of the size it spawned;
 * blocks are at most FG_CTX_ARG_MAX bytes and are copied in at spawn and
 * out at sync (spawning from a compound literal lets the compiler store it
 * straight into the slot).  Tasks report through their block: they return
 * nothing. */

#define FG_CTX_ARG_MAX 56

typedef struct fg_ctx fg_ctx;
/* A context task: cx is the context of the worker running it (pass it on
 * to spawn and sync), arg its block. */
typedef void (*fg_ctx_fn)(fg_ctx *cx, void *arg);

/* Public only so that spawn and sync can be inlined: fields are private. */
typedef struct fg_ctx_slot {
    unsigned char fg__arg[FG_CTX_ARG_MAX];
    fg_ctx_fn fg__fn;
}
#if defined(__GNUC__)
__attribute__((aligned(64))) /* one slot per cache line: thieves of
                                neighbouring slots do not share lines */
#endif
fg_ctx_slot;

struct fg_ctx {
    fg_ctx_slot *fg__slots;
    const uint32_t *fg__splitreq; /* thieves ask for work (an atomic); also
                                     points at a constant 1 to keep the
                                     inline paths slow while tasks spill */
    fg_ctx_slot *fg__top;         /* slots [fg__slots, top) are in use */
    fg_ctx_slot *fg__split;       /* [split, top) is the owner's alone */
    fg_ctx_slot *fg__limit;       /* a spawn at or above it goes slow */
    int fg__broken;               /* a rule was broken: fg_ctx_run's code */
    unsigned fg__pending;         /* typed tasks, debug builds: spawns not
                                     yet synced, to check each task's own */
    /* Appended in 0.6.0, for the inline group paths (fg_spawn, fg_sync),
     * owner-only: */
    fg_pool *fg__pool;            /* the worker's pool */
    const char *fg__stack_lo;     /* the bottom of the worker's stack */
    const char *fg__job_sp;       /* the frame of its innermost job, or NULL
                                     (outside jobs, recording or tracing) */
    const fg_cancel_token **fg__scope; /* its cancellation scope (TLS) */
};

/* Run fn(cx, arg) on a worker of pool with that worker's context and return
 * when it and every task it spawned are done.  On a worker of pool it is a
 * direct call; from any other thread the call goes through the injector and
 * the caller blocks.  Returns 0, FG_EINVAL (nothing run) for NULL pool or
 * fn, or FG_ESHUTDOWN.  A task tree that broke the sync rule also gives
 * FG_EINVAL: tasks left spawned were still run (newest first) before the
 * return, so none is lost, but results read by wrong syncs are wrong. */
FG_API int fg_ctx_run(fg_pool *pool, fg_ctx_fn fn, void *arg);

/* The out-of-line halves of spawn and sync: not for direct use. */
FG_API int fg__ctx_spawn_slow(fg_ctx *cx, fg_ctx_fn fn, size_t size);
FG_API int fg__ctx_sync_slow(fg_ctx *cx, fg_ctx_fn fn, void *arg, size_t size);

#if defined(__GNUC__)
#  define FG__LIKELY(x) __builtin_expect(!!(x), 1)
#  define FG__RELAXED_LOAD32(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#else
#  define FG__LIKELY(x) (x)
#  define FG__RELAXED_LOAD32(p) (*(const volatile uint32_t *)(p))
#endif
/* The thieves' request flag, read by the inline paths (the Relacy model of
 * tests/model/ctx_relacy.cpp reads it through its own atomics). */
#ifndef FG__CTX_SPLITREQ
#  define FG__CTX_SPLITREQ(cx) FG__RELAXED_LOAD32((cx)->fg__splitreq)
#endif

/* Copy a task's block in 8-byte words.  Not memcpy: compilers turn a
 * 16-byte memcpy into one vector load, which cannot be forwarded from the
 * two 8-byte stores of a spawn still in the store buffer, and that stall
 * (about 15 cycles on a short child) was the largest cost of a sync. */
static inline void fg__ctx_copy(void *dst, const void *src, size_t size)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
#if defined(__GNUC__)
        __asm__("" : "+r"(w)); /* keep it one scalar word */
#endif
        memcpy(d + i, &w, 8);
    }
    if (i < size)
        memcpy(d + i, s + i, size - i);
}

/* Push fn with a copy of the size bytes at arg on cx's ctx stack.  0, or
 * FG_EINVAL (nothing spawned) for NULL cx, fn or arg or size >
 * FG_CTX_ARG_MAX.  A spawn on a full stack (16384 tasks) runs the task at
 * once and keeps its finished block for the sync, so a spawn with good
 * arguments never fails (in the one case where no memory can be had for
 * that block, it returns FG_ENOMEM with nothing spawned; a typed spawn, which
 * returns nothing, then makes its root return FG_ENOMEM).  The block is copied into the free slot at the top before anything
 * is checked (the stack keeps one spare slot), so arg never escapes and a
 * compound literal turns into direct stores into the slot. */
static inline int fg_ctx_spawn(fg_ctx *cx, fg_ctx_fn fn, const void *arg, size_t size)
{
    if (cx == NULL || fn == NULL || arg == NULL || size > FG_CTX_ARG_MAX)
        return fg__ctx_spawn_slow(NULL, NULL, 0); /* FG_EINVAL */
    fg_ctx_slot *s = cx->fg__top;
    fg__ctx_copy(s->fg__arg, arg, size);
    s->fg__fn = fn;
    if (FG__LIKELY(s < cx->fg__limit && FG__CTX_SPLITREQ(cx) == 0)) {
        cx->fg__top = s + 1;
        return 0;
    }
    return fg__ctx_spawn_slow(cx, fn, size);
}

/* Finish the newest spawned task, which must be fn: run it here, or wait
 * for the thief that took it; either way its finished block (size bytes)
 * is copied to arg.  0, or FG_EINVAL (nothing done) if there is no such
 * task: nothing spawned, another function, or a bad argument. */
static inline int fg_ctx_sync(fg_ctx *cx, fg_ctx_fn fn, void *arg, size_t size)
{
    if (FG__LIKELY(cx != NULL && arg != NULL && size <= FG_CTX_ARG_MAX &&
                   cx->fg__top > cx->fg__split && cx->fg__top[-1].fg__fn == fn &&
                   fn != NULL && FG__CTX_SPLITREQ(cx) == 0)) {
        fg_ctx_slot *s = --cx->fg__top;
        fg__ctx_copy(arg, s->fg__arg, size);
        fn(cx, arg);
        return 0;
    }
    return fg__ctx_sync_slow(cx, fn, arg, size);
}

/* The two calls on an object, with its size. */
#define FG_CTX_SPAWN(cx, fn, obj) fg_ctx_spawn((cx), (fn), &(obj), sizeof(obj))
#define FG_CTX_SYNC(cx, fn, obj)  fg_ctx_sync((cx), (fn), &(obj), sizeof(obj))

/* --------------------------------------------------- typed ctx tasks
 *
 * The same tasks with types the compiler sees through, as Lace's TASK_n
 * macros give: the argument is passed by value (a scalar or a struct), the
 * result is returned, and the task gets the worker's context as its one
 * other argument, so a spawn and its sync cost a few loads and stores on
 * the context's line and a direct call.  Every parameter is a scalar, so
 * the compiler may split the task's leaf test out and inline it where the
 * task is called and synced (gcc's partial inlining), as it does for Lace.
 * FG_TASK declares NAME `static`, not `inline`: declared inline, it had gcc
 * inline several levels of its recursion into itself, and the three times
 * larger code made fib 1.2x slower on an AMD host
 * (docs/design/ctx_stack.md).
 *
 *     FG_TASK(long, fib, int);              // declares fib_spawn, fib_sync,
 *     static long fib(fg_ctx *cx, int n)    // fib_run; you write fib
 *     {
 *         if (n < 2)
 *             return n;
 *         fib_spawn(cx, n - 1);             // may run on a thief
 *         long y = fib(cx, n - 2);          // a plain call
 *         long x = fib_sync(cx);            // the spawned task's result
 *         return x + y;
 *     }
 *     long r;
 *     int err = fib_run(pool, 30, &r);      // from any thread
 *
 * Rules: as for ctx tasks, a task syncs what it spawned, newest first,
 * before it returns; the argument and result together take at most
 * FG_CTX_ARG_MAX bytes (checked at compile time).  A wrong argument type,
 * an oversized task, or a sync of a function that is not a task do not
 * compile.  A sync that finds another function's task (the wrong order)
 * does nothing, returns 0 of its type and makes the root fg_ctx_run /
 * NAME_run return FG_EINVAL; in debug builds (NDEBUG unset) a task that
 * returns with spawns not synced is found at its end the same way, and the
 * forgotten tasks are still run.  The untyped fg_ctx_spawn/sync may be
 * mixed in on the same context.
 * A spawn never fails: on a full stack the task runs at once. */

/* The out-of-line halves of the typed spawn and sync: not for direct use. */
FG_API void fg__task_spawn_slow(fg_ctx *cx, size_t size);
FG_API void fg__task_sync_slow(fg_ctx *cx, fg_ctx_fn fn, void *out, size_t size);

#ifdef NDEBUG
#  define FG__TASK_PENDING(cx, d) ((void)0)
#  define FG__TASK_CHECK_BEGIN(cx) ((void)0)
#  define FG__TASK_CHECK_END(cx) ((void)0)
#else
#  define FG__TASK_PENDING(cx, d) ((void)((cx)->fg__pending += (d)))
#  define FG__TASK_CHECK_BEGIN(cx) unsigned fg__pending_at_entry = (cx)->fg__pending
#  define FG__TASK_CHECK_END(cx) fg__ctx_check_pending((cx), fg__pending_at_entry)
#endif
/* Debug builds: a typed task left `pending - entry` spawns unsynced. */
FG_API void fg__ctx_check_pending(fg_ctx *cx, unsigned entry);

/* The task's slot body, its thief-side runner, and the root call. */
#define FG__TASK_COMMON(NAME, ATYPE, SLOT_FIELDS, RUN_BODY)                       \
    typedef struct NAME##__slot { SLOT_FIELDS } NAME##__slot;                     \
    FG__STATIC_ASSERT(sizeof(NAME##__slot) <= FG_CTX_ARG_MAX,                     \
                      #NAME ": argument and result exceed FG_CTX_ARG_MAX bytes");    \
    static void NAME##__run(fg_ctx *cx, void *p)                                  \
    {                                                                             \
        NAME##__slot *s = (NAME##__slot *)p;                                      \
        FG__TASK_CHECK_BEGIN(cx);                                                 \
        RUN_BODY;                                                                 \
        FG__TASK_CHECK_END(cx);                                                   \
    }                                                                             \
    static inline __attribute__((unused)) void NAME##_spawn(fg_ctx *cx, ATYPE arg) \
    {                                                                             \
        fg_ctx_slot *s = cx->fg__top;                                             \
        memcpy(s->fg__arg, &arg, sizeof arg);                                     \
        s->fg__fn = NAME##__run;                                                  \
        FG__TASK_PENDING(cx, 1);                                                  \
        if (FG__LIKELY(s < cx->fg__limit && FG__CTX_SPLITREQ(cx) == 0))           \
            cx->fg__top = s + 1;                                                  \
        else                                                                      \
            fg__task_spawn_slow(cx, sizeof(NAME##__slot));                        \
    }

/* The last item of FG_TASK / FG_TASK_VOID: a declaration, so that the
 * user's `FG_TASK(...);` ends it and -pedantic sees no stray semicolon
 * after a function body. */
#define FG__TASK_END(NAME) typedef int NAME##__end

/* The sync's fast path: the newest slot is this task's and still the
 * owner's; take its argument and run it here by a direct call. */
#define FG__TASK_SYNC_FAST(cx, NAME, s)                                           \
    ((s) >= (cx)->fg__split && (s)->fg__fn == NAME##__run &&                      \
     FG__CTX_SPLITREQ(cx) == 0)

/* FG_TASK(RTYPE, NAME, ATYPE): a typed task `RTYPE NAME(fg_ctx *, ATYPE)`
 * (you define it after the macro) with
 *     void  NAME_spawn(fg_ctx *cx, ATYPE arg);
 *     RTYPE NAME_sync(fg_ctx *cx);
 *     int   NAME_run(fg_pool *pool, ATYPE arg, RTYPE *result); // fg_ctx_run */
#define FG_TASK(RTYPE, NAME, ATYPE)                                               \
    static RTYPE NAME(fg_ctx *cx, ATYPE arg);                                     \
    FG__TASK_COMMON(NAME, ATYPE, ATYPE arg; RTYPE result;,                       \
                    s->result = NAME(cx, s->arg))                                 \
    static inline __attribute__((unused)) RTYPE NAME##_sync(fg_ctx *cx)          \
    {                                                                             \
        fg_ctx_slot *s = cx->fg__top - 1;                                         \
        FG__TASK_PENDING(cx, -1);                                                 \
        if (FG__LIKELY(FG__TASK_SYNC_FAST(cx, NAME, s))) {                        \
            ATYPE a;                                                              \
            memcpy(&a, s->fg__arg, sizeof a);                                     \
            cx->fg__top = s;                                                      \
            return NAME(cx, a);                                                   \
        }                                                                         \
        NAME##__slot out;                                                         \
        fg__task_sync_slow(cx, NAME##__run, &out, sizeof out);                    \
        return out.result;                                                        \
    }                                                                             \
    static inline __attribute__((unused)) int NAME##_run(fg_pool *pool, ATYPE arg, \
                                                         RTYPE *result)           \
    {                                                                             \
        NAME##__slot s;                                                           \
        memset(&s, 0, sizeof s);                                                  \
        s.arg = arg;                                                              \
        int err = fg_ctx_run(pool, NAME##__run, &s);                              \
        if (result != NULL)                                                       \
            *result = s.result;                                                   \
        return err;                                                               \
    }                                                                             \
    FG__TASK_END(NAME)

/* FG_TASK_VOID(NAME, ATYPE): the same for `void NAME(fg_ctx *, ATYPE)`;
 * NAME_sync returns nothing and NAME_run takes no result pointer. */
#define FG_TASK_VOID(NAME, ATYPE) FG__TASK_VOID(static, NAME, ATYPE)
/* SPEC: how NAME is declared: `static`, or `static inline` for
 * FG_PARALLEL_FOR's span, whose grain tables were measured that way. */
#define FG__TASK_VOID(SPEC, NAME, ATYPE)                                          \
    SPEC void NAME(fg_ctx *cx, ATYPE arg);                                        \
    FG__TASK_COMMON(NAME, ATYPE, ATYPE arg;, NAME(cx, s->arg))                    \
    static inline __attribute__((unused)) void NAME##_sync(fg_ctx *cx)           \
    {                                                                             \
        fg_ctx_slot *s = cx->fg__top - 1;                                         \
        FG__TASK_PENDING(cx, -1);                                                 \
        if (FG__LIKELY(FG__TASK_SYNC_FAST(cx, NAME, s))) {                        \
            ATYPE a;                                                              \
            memcpy(&a, s->fg__arg, sizeof a);                                     \
            cx->fg__top = s;                                                      \
            NAME(cx, a);                                                          \
            return;                                                               \
        }                                                                         \
        NAME##__slot out;                                                         \
        fg__task_sync_slow(cx, NAME##__run, &out, sizeof out);                    \
    }                                                                             \
    static inline __attribute__((unused)) int NAME##_run(fg_pool *pool, ATYPE arg) \
    {                                                                             \
        NAME##__slot s;                                                           \
        memset(&s, 0, sizeof s);                                                  \
        s.arg = arg;                                                              \
        return fg_ctx_run(pool, NAME##__run, &s);                                 \
    }                                                                             \
    FG__TASK_END(NAME)

/* ---------------------------------------------- inline group paths
 *
 * fg_spawn and fg_sync are also macros for these fast paths, which take
 * the common case, the owner of the group in the job that holds it, to its
 * ctx stack without a call (docs/design/join.md, "Inline group paths"):
 * the same checks and stores as the functions' own fast paths, which
 * handle everything else.  Define FG_NO_INLINE_GROUPS to call them always.
 * The group's and the context's layouts below are part of the ABI. */

/* The slot function of a group task, and a task's error: internal. */
FG_API void fg__group_ctx_fn(fg_ctx *cx, void *block);
FG_API void fg__group_fail(fg_group *g, int err);

#if defined(__GNUC__) && !defined(_WIN32) && !defined(FG_NO_INLINE_GROUPS)
/* The calling thread's worker context, NULL on other threads (internal;
 * initial-exec, as forage's own thread-locals: two loads). */
FG_API extern __thread fg_ctx *fg__tls_cx __attribute__((tls_model("initial-exec")));

/* The layout of fg_group's private words (group.c asserts it). */
typedef struct __attribute__((may_alias)) fg__group_words {
    int64_t fg__left;            /* atomic */
    int fg__error;               /* atomic */
    fg_cancel_token fg__cancel;
    uint32_t fg__lo;             /* 1 + the lowest slot pushed, 0: none */
    uint64_t fg__latch[2];
    int32_t fg__pend;
    int32_t fg__announced;
} fg__group_words;

/* A group task's block in its slot (group.c's fg__group_block), word by
 * word: {fn, arg, group}.  Words, not a struct copy, for the reason
 * fg__ctx_copy gives. */
#define FG__GROUP_FN 0
#define FG__GROUP_ARG 8
#define FG__GROUP_GROUP 16
static inline void fg__group_put(fg_ctx_slot *s, size_t at, const void *word)
{
    memcpy(s->fg__arg + at, word, sizeof(void *));
}
static inline void *fg__group_get(const fg_ctx_slot *s, size_t at)
{
    void *w;
    memcpy(&w, s->fg__arg + at, sizeof w);
    __asm__("" : "+r"(w)); /* one scalar load */
    return w;
}

/* The context of the calling worker when it owns g and runs the job that
 * holds it (g lies on its stack below its innermost job's frame), else
 * NULL.  Recording and tracing keep fg__job_sp NULL. */
static inline fg_ctx *fg__group_owner_cx(const fg_group *g)
{
    fg_ctx *cx = fg__tls_cx;
    if (cx != NULL && cx->fg__pool == g->pool && (const char *)g >= cx->fg__stack_lo &&
        (const char *)g < cx->fg__job_sp)
        return cx;
    return NULL;
}

/* The owner's sync announces itself (fg__announced) only while it waits,
 * and every job it runs meanwhile has a frame of its own below the group:
 * no announced group passes fg__group_owner_cx. */
static inline int fg__spawn_fast(fg_group *g, fg_fn fn, void *arg)
{
    fg_ctx *cx;
    fg__group_words *h;
    if (g == NULL || fn == NULL || (cx = fg__group_owner_cx(g)) == NULL)
        return (fg_spawn)(g, fn, arg);
    h = (fg__group_words *)(void *)g->fg__private;
    {
        fg_ctx_slot *s = cx->fg__top;
        fg__group_put(s, FG__GROUP_FN, &fn);
        fg__group_put(s, FG__GROUP_ARG, &arg);
        fg__group_put(s, FG__GROUP_GROUP, &h);
        s->fg__fn = fg__group_ctx_fn;
        if (!FG__LIKELY(s < cx->fg__limit && FG__CTX_SPLITREQ(cx) == 0))
            return (fg_spawn)(g, fn, arg);
        cx->fg__top = s + 1;
        h->fg__pend++;
        {
            uint32_t at = (uint32_t)(s - cx->fg__slots) + 1;
            if (h->fg__lo == 0 || at < h->fg__lo)
                h->fg__lo = at;
        }
    }
    return 0;
}

static inline int fg__sync_fast(fg_group *g)
{
    fg_ctx *cx;
    fg__group_words *h;
    if (g == NULL)
        return (fg_sync)(g);
    h = (fg__group_words *)(void *)g->fg__private;
    if (h->fg__lo == 0) {
        /* No slot of ours: only the final check, unless the function must
         * answer (no pool) or record (a worker of the pool outside a job
         * frame: recording, tracing, or no job). */
        cx = fg__tls_cx;
        if (g->pool == NULL || (cx != NULL && cx->fg__pool == g->pool && cx->fg__job_sp == NULL))
            return (fg_sync)(g);
    } else if ((cx = fg__group_owner_cx(g)) == NULL) {
        return (fg_sync)(g);
    } else {
        /* Pop the group's private slots newest first and run each here, in
         * the group's scope (set once: only these tasks run meanwhile, and
         * each leaves the scope as it found it). */
        fg_ctx_slot *floor = cx->fg__slots + (h->fg__lo - 1);
        const fg_cancel_token **scope = cx->fg__scope;
        const fg_cancel_token *outer = *scope;
        int rest = 0;
        *scope = &h->fg__cancel;
        for (;;) {
            fg_ctx_slot *s = cx->fg__top - 1;
            fg_fn fn;
            if (s < floor)
                break;
            if (!FG__LIKELY(s->fg__fn == fg__group_ctx_fn && s >= cx->fg__split &&
                            FG__CTX_SPLITREQ(cx) == 0 &&
                            fg__group_get(s, FG__GROUP_GROUP) == (void *)h)) {
                rest = 1; /* shared, another's, or asked: the function */
                break;
            }
            cx->fg__top = s;
            memcpy(&fn, s->fg__arg + FG__GROUP_FN, sizeof fn);
            if (FG__LIKELY(__atomic_load_n(&h->fg__cancel.fg__set, __ATOMIC_RELAXED) == 0)) {
                int r = fn(fg__group_get(s, FG__GROUP_ARG));
                if (r != 0)
                    fg__group_fail(g, r);
            }
            h->fg__pend--; /* the owner ran its own spawn */
        }
        *scope = outer;
        if (rest)
            return (fg_sync)(g);
        h->fg__lo = 0;
    }
    /* Done when every task finished (acquire: their effects are visible),
     * none failed and the group was not cancelled; else the function. */
    if (FG__LIKELY(__atomic_load_n(&h->fg__left, __ATOMIC_ACQUIRE) + h->fg__pend == 0 &&
                   __atomic_load_n(&h->fg__error, __ATOMIC_RELAXED) == 0 &&
                   __atomic_load_n(&h->fg__cancel.fg__set, __ATOMIC_RELAXED) == 0))
        return 0;
    return (fg_sync)(g);
}

#  define fg_spawn(g, fn, arg) fg__spawn_fast((g), (fn), (arg))
#  define fg_sync(g) fg__sync_fast(g)
#endif

/* --------------------------------------------------------- parallel loops */

/* How fg_parallel_for cuts [begin, end) into chunks for `body`. */
enum fg_partition {
    FG_PARTITION_AUTO = 0, /* split only while work is being stolen (rayon's
                              adaptive rule): on one worker a loop costs about
                              a plain loop; chunks are never below grain */
    FG_PARTITION_SIMPLE,   /* halve down to grain: chunks in [grain, 2*grain) */
    FG_PARTITION_STATIC,   /* one contiguous block per worker (at least grain) */
};

typedef struct fg_for_opts {
    size_t size;   /* sizeof(fg_for_opts): set by FG_FOR_OPTS_INIT */
    size_t grain;  /* smallest chunk handed to body; 0: 1.  A range shorter
                      than grain runs as one chunk */
    int partition; /* enum fg_partition; 0: FG_PARTITION_AUTO */
    /* Appended in 0.4.0. */
    const fg_cancel_token *cancel; /* NULL: none; once set, chunks not yet
                                      started are skipped, and a loop that
                                      ends with it set returns FG_ECANCELED
                                      (unless a body failed first); bodies
                                      run in its scope (fg_cancelled) */
    struct fg_error_info *error;   /* NULL: none; else fg_parallel_for and
                                      fg_parallel_reduce fill it when they
                                      return (FG_ERROR_INFO_INIT first, or
                                      FG_ESIZE): the failing chunk's range
                                      [index, end) and code, or code 0.
                                      FG_PARALLEL_FOR does not read it */
} fg_for_opts;

#define FG_FOR_OPTS_INIT(...) FG__INIT(fg_for_opts, __VA_ARGS__)
#define FG_FOR_OPTS(...) FG__INIT_PTR(fg_for_opts, __VA_ARGS__)

/* A loop body: handles [begin, end), returns 0 or an error code. */
typedef int (*fg_range_fn)(size_t begin, size_t end, void *ctx);

/* Run body over [begin, end) in chunks, in parallel on the pool, and return
 * when every chunk has run (or was skipped after an error).  Each index is
 * in exactly one chunk; chunks are contiguous and at least opts->grain long
 * unless the whole range is shorter.  The first nonzero body result stops
 * chunks that have not started (running ones finish) and is returned.
 * opts may be NULL (all defaults).  Callable from any thread; from a
 * non-worker it blocks like fg_join.  Errors: FG_EINVAL (nothing run) for a
 * NULL pool or body, begin > end, or an unknown partition; FG_ESHUTDOWN.
 * An empty range returns 0 at once. */
FG_API int fg_parallel_for(fg_pool *pool, size_t begin, size_t end, const fg_for_opts *opts,
                           fg_range_fn body, void *ctx);

/* An inlinable fg_parallel_for: FG_PARALLEL_FOR(NAME, BODY) defines
 *     static int NAME(fg_pool *pool, size_t begin, size_t end,
 *                     const fg_for_opts *opts, void *ctx);
 * which runs BODY, an fg_range_fn known at compile time (so the compiler
 * inlines it into the loop), over [begin, end) in chunks of [grain,
 * 2 * grain) by recursive halving on typed ctx tasks: a split costs an
 * inline spawn and sync, not a join, and below the top of the tree
 * (FG__FOR_EAGER_SPANS) a split is a store in a local array unless a
 * thief asks for work, so small grains stay cheap.  Same
 * contract as fg_parallel_for with FG_PARTITION_SIMPLE (opts->partition is
 * not read): each index in exactly one chunk, the first nonzero body
 * result stops chunks not yet started and is returned, opts->cancel is
 * honoured (FG_ECANCELED), callable from any thread.
 *     static inline int body(size_t b, size_t e, void *ctx) { ... }
 *     FG_PARALLEL_FOR(fill, body)
 *     err = fill(pool, 0, n, FG_FOR_OPTS(.grain = 16), out); */
typedef struct fg__for_loop {
    void *ctx;
    size_t grain;
    const fg_cancel_token *cancel;
    int error; /* first nonzero body result; read and set atomically */
    size_t eager; /* FG_PARALLEL_FOR: spans this long or longer always spawn */
} fg__for_loop;

/* FG_PARALLEL_FOR halves [begin, end) as FG_PARTITION_SIMPLE does.  The top
 * of the tree, spans of at least 1/FG__FOR_EAGER_SPANS of the range, spawns
 * at every split, so sleeping workers are woken and thieves find large
 * spans.  Below it a span walks its own halving tree in a loop, with the
 * upper halves it has not reached yet on a small array (the same chunks,
 * in the same order), and spawns the oldest, largest of them only while a
 * thief asks for work (the context's request flag). */
#define FG__FOR_EAGER_SPANS 32
#define FG__FOR_DEPTH 64 /* halvings of a size_t range: at most 64 pending */

typedef struct fg__for_span {
    size_t begin, end;
    fg__for_loop *loop;
} fg__for_span;
/* A span by value, without a compound literal (which C++ lacks). */
static inline fg__for_span fg__for_span_of(size_t begin, size_t end, fg__for_loop *loop)
{
    fg__for_span s = { begin, end, loop };
    return s;
}

/* Resolve opts for FG_PARALLEL_FOR: 0, or FG_EINVAL / FG_ESIZE. */
FG_API int fg__for_inline_prepare(fg_pool *pool, size_t begin, size_t end,
                                  const fg_for_opts *opts, fg__for_loop *loop);

/* The loop's error word: relaxed, as fg_parallel_for's (a chunk's effects
 * reach the caller through the syncs, not through this word). */
#if defined(__GNUC__)
#  define FG__LOAD_INT(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#  define FG__FIRST_ERROR(p, v) \
    do { int fg__none = 0; __atomic_compare_exchange_n((p), &fg__none, (v), 0, \
         __ATOMIC_RELAXED, __ATOMIC_RELAXED); } while (0)
#else /* no GNU atomics: FG_PARALLEL_FOR is not available */
#  define FG__LOAD_INT(p) FG_PARALLEL_FOR_needs_gcc_or_clang
#  define FG__FIRST_ERROR(p, v) FG_PARALLEL_FOR_needs_gcc_or_clang
#endif

#define FG_PARALLEL_FOR(NAME, BODY)                                               \
    FG__TASK_VOID(static inline, NAME##__span, fg__for_span);                     \
    /* One chunk: 0 to go on, nonzero once the loop stops (error, cancel). */     \
    static inline int NAME##__chunk(fg__for_loop *l, size_t b, size_t e)          \
    {                                                                             \
        if (FG__LOAD_INT(&l->error) != 0 ||                                       \
            (l->cancel != NULL && fg_cancel_requested(l->cancel)))                \
            return 1; /* a chunk failed, or the loop was cancelled */             \
        const fg_cancel_token *fg__outer = l->cancel != NULL                      \
            ? fg_cancel_scope_enter(l->cancel) : NULL;                            \
        int fg__err = BODY(b, e, l->ctx);                                         \
        if (l->cancel != NULL)                                                    \
            fg_cancel_scope_leave(fg__outer);                                     \
        if (fg__err != 0)                                                         \
            FG__FIRST_ERROR(&l->error, fg__err);                                  \
        return 0;                                                                 \
    }                                                                             \
    /* A span below the eager top: its halving tree in a loop. */                 \
    static void NAME##__lazy(fg_ctx *cx, size_t b, size_t e, fg__for_loop *l)     \
    {                                                                             \
        size_t up[FG__FOR_DEPTH][2]; /* upper halves not reached, oldest first */ \
        unsigned lo = 0, hi = 0, spawned = 0;                                     \
        for (;;) {                                                                \
            while (e - b >= 2 * l->grain) { /* halve: both keep >= grain */       \
                size_t mid = b + (e - b) / 2;                                     \
                up[hi][0] = mid;                                                  \
                up[hi][1] = e;                                                    \
                hi++;                                                             \
                e = mid;                                                          \
            }                                                                     \
            if (FG__CTX_SPLITREQ(cx) != 0 && lo < hi) { /* a thief asks */        \
                NAME##__span_spawn(cx, fg__for_span_of(up[lo][0], up[lo][1], l));  \
                lo++;                                                             \
                spawned++;                                                        \
            }                                                                     \
            if (NAME##__chunk(l, b, e) != 0 || hi == lo)                          \
                break; /* stopped: the chunks not reached are not started */      \
            hi--;                                                                 \
            b = up[hi][0];                                                        \
            e = up[hi][1];                                                        \
        }                                                                         \
        while (spawned-- > 0)                                                     \
            NAME##__span_sync(cx);                                                \
    }                                                                             \
    static void NAME##__span(fg_ctx *cx, fg__for_span s)                          \
    {                                                                             \
        fg__for_loop *l = s.loop;                                                 \
        if (s.end - s.begin < l->eager || s.end - s.begin < 2 * l->grain) {       \
            NAME##__lazy(cx, s.begin, s.end, l);                                  \
            return;                                                               \
        }                                                                         \
        size_t mid = s.begin + (s.end - s.begin) / 2;                             \
        NAME##__span_spawn(cx, fg__for_span_of(mid, s.end, l));                  \
        NAME##__span(cx, fg__for_span_of(s.begin, mid, l));                      \
        NAME##__span_sync(cx);                                                    \
    }                                                                             \
    static __attribute__((unused)) int NAME(fg_pool *pool, size_t begin,         \
                                            size_t end, const fg_for_opts *opts,  \
                                            void *ctx)                            \
    {                                                                             \
        fg__for_loop l = { ctx, 1, NULL, 0, 0 };                                  \
        int err = fg__for_inline_prepare(pool, begin, end, opts, &l);             \
        if (err != 0 || begin == end)                                             \
            return err;                                                           \
        l.eager = (end - begin) / FG__FOR_EAGER_SPANS;                            \
        err = NAME##__span_run(pool, fg__for_span_of(begin, end, &l));           \
        if (err != 0)                                                             \
            return err;                                                           \
        err = FG__LOAD_INT(&l.error);                                             \
        return err == 0 && fg_cancel_requested(l.cancel) ? FG_ECANCELED : err;    \
    }

/* Reduction bodies accumulate [begin, end) into `partial`, which starts as a
 * copy of the identity. */
typedef int (*fg_reduce_fn)(size_t begin, size_t end, void *partial, void *ctx);
/* Fold `right` into `left`; chunks are combined in index order, so the
 * combine need only be associative. */
typedef void (*fg_combine_fn)(void *left, const void *right, void *ctx);

/* fg_parallel_for that also reduces: `result` (partial_size bytes) receives
 * the combination of every chunk's partial, in index order, starting from
 * `identity`.  On error `result` is unspecified.  Partials up to 256 bytes
 * live on the stack; larger ones are allocated per split (FG_ENOMEM).
 * Errors as fg_parallel_for, plus FG_EINVAL for a NULL identity, result or
 * combine, or partial_size 0. */
FG_API int fg_parallel_reduce(fg_pool *pool, size_t begin, size_t end, const fg_for_opts *opts,
                              size_t partial_size, const void *identity, fg_reduce_fn body,
                              fg_combine_fn combine, void *ctx, void *result);

/* ------------------------------------------------------------------ find */

/* A predicate: nonzero when index i is what is sought.  It may run on any
 * worker, several at once, so it must be safe to call concurrently.  A long
 * one may ask fg_cancelled(): 1 once its index can no longer be the answer
 * (find_first: a lower hit was found; find_any: any hit), so that it can
 * return early (its result is then ignored). */
typedef int (*fg_pred_fn)(size_t i, void *ctx);

/* Searches sweep [begin, end) from the left in chunks handed out in index
 * order, one at a time per worker: chunks of FG_FIND_CHUNK indices, or of
 * (end - begin) / (16 * workers) (at least 1) when that is smaller, so that
 * a short range of expensive predicates still spreads over the workers. */
#define FG_FIND_CHUNK 4096

/* The lowest i in [begin, end) with pred(i, ctx) != 0, into *index; when
 * there is none, *index = end and the return is still 0 (an empty range
 * too).  Every index below the answer is checked exactly once; indices
 * above it are checked only in chunks that started before the answer was
 * found (at most one chunk per other worker), and those stop at their next
 * index once it is.  Callable from any thread (from a non-worker it blocks
 * like fg_join).  Errors, with nothing run and *index untouched: FG_EINVAL
 * for a NULL pool, pred or index, or begin > end; FG_ESHUTDOWN. */
FG_API int fg_parallel_find_first(fg_pool *pool, size_t begin, size_t end, fg_pred_fn pred,
                                  void *ctx, size_t *index);

/* The same without the order: *index is some i whose predicate holds (the
 * first one found), or end; every worker stops at its next index once one
 * is found. */
FG_API int fg_parallel_find_any(fg_pool *pool, size_t begin, size_t end, fg_pred_fn pred,
                                void *ctx, size_t *index);

/* --------------------------------------------------------------- scratch */

/* Per-worker scratch, as rayon's map_init and oneTBB's
 * enumerable_thread_specific: within one call, each worker that runs part
 * of the work makes its scratch value once, with init, the first time it
 * needs it, and passes it to every chunk or task it runs; after the call
 * the caller's thread destroys each value (in worker order).  A task that
 * waits for nested parallel work may see another task of the same call run
 * on its worker meanwhile: that one gets a scratch of its own, made and
 * destroyed around it, so no value is ever used by two tasks at once. */
typedef struct fg_scratch {
    int (*init)(void *ctx, void **scratch);    /* required: store the new value
                                                  in *scratch; 0 or an error
                                                  code, which fails the chunk
                                                  or task that needed it */
    void (*destroy)(void *scratch, void *ctx); /* NULL: nothing to free */
    void *ctx;                                 /* passed to init and destroy */
} fg_scratch;

/* A loop body with its worker's scratch. */
typedef int (*fg_scratch_range_fn)(size_t begin, size_t end, void *scratch, void *ctx);

/* fg_parallel_for whose body also gets the running worker's scratch.  The
 * same contract and errors, plus FG_EINVAL (nothing run, init never
 * called) for a NULL scratch.init; FG_ENOMEM. */
FG_API int fg_parallel_for_init(fg_pool *pool, size_t begin, size_t end, const fg_for_opts *opts,
                                fg_scratch scratch, fg_scratch_range_fn body, void *ctx);

/* ------------------------------------------------------------ prefix scan */

/* fg_parallel_scan's two kinds: out[i] = in[0] + ... + in[i] (inclusive)
 * or identity + in[0] + ... + in[i - 1] (exclusive, out[0] = identity),
 * where + is the caller's combine. */
enum fg_scan_kind {
    FG_SCAN_INCLUSIVE = 0,
    FG_SCAN_EXCLUSIVE,
};

/* Elements per block when fg_scan_opts.grain is 0. */
#define FG_SCAN_GRAIN_DEFAULT 16384

typedef struct fg_scan_opts {
    size_t size;  /* sizeof(fg_scan_opts): set by FG_SCAN_OPTS_INIT */
    int kind;     /* enum fg_scan_kind; 0: FG_SCAN_INCLUSIVE */
    size_t grain; /* elements per block; 0: FG_SCAN_GRAIN_DEFAULT.  n <=
                     grain runs as one sequential pass on the caller */
} fg_scan_opts;

#define FG_SCAN_OPTS_INIT(...) FG__INIT(fg_scan_opts, __VA_ARGS__)
#define FG_SCAN_OPTS(...) FG__INIT_PTR(fg_scan_opts, __VA_ARGS__)

/* Prefix scan of n elements of `size` bytes from `in` to `out` (in == out
 * scans in place; other overlaps are refused).  combine(left, right, ctx)
 * folds right into left and need only be associative (never assumed
 * commutative: elements are always combined in index order); identity is
 * its neutral element.  combine must not wait on the pool.  A chained
 * blocked scan: one lane per worker takes blocks of opts->grain elements in
 * index order; a lane running alone scans a block once from the prefix
 * before it, lanes in company reduce their block in parallel, chain the
 * prefix on (one combine per block) and rescan it from cache.  So combine
 * runs n times on one worker and at most 2n + n / grain times on several.
 * Exact for an exactly associative combine (integers, matrices, strings);
 * where blocks meet depends on the schedule, so a floating-point scan may
 * round differently from run to run.  Callable from any thread.  Returns
 * 0; FG_EINVAL (nothing run) for a NULL pool, identity or combine, NULL in
 * or out with n > 0, size 0, n * size beyond SIZE_MAX, in and out
 * overlapping but not equal, an unknown kind; FG_ESIZE; FG_ENOMEM;
 * FG_ESHUTDOWN.  n = 0 returns 0. */
FG_API int fg_parallel_scan(fg_pool *pool, const void *in, void *out, size_t n, size_t size,
                            const void *identity, fg_combine_fn combine, void *ctx,
                            const fg_scan_opts *opts);

/* A typed scan with the combine inlined: FG_PARALLEL_SCAN(NAME, T, COMBINE)
 * defines
 *     static int NAME(fg_pool *pool, const T *in, T *out, size_t n,
 *                     T identity, const fg_scan_opts *opts);
 * where COMBINE(a, b) returns a + b as a T (a function or macro the
 * compiler sees, so each block's loop is as tight as a hand-written one).
 * Same contract as fg_parallel_scan with size = sizeof(T).
 *     static inline uint64_t add(uint64_t a, uint64_t b) { return a + b; }
 *     FG_PARALLEL_SCAN(prefix_sum, uint64_t, add)
 *     err = prefix_sum(pool, x, x, n, 0, FG_SCAN_OPTS(.kind = FG_SCAN_EXCLUSIVE)); */
#define FG__SCAN_REDUCE (-1) /* a block call's mode: fold into acc, write nothing */
/* One block [begin, end) of a scan: fold it into *acc (mode FG__SCAN_REDUCE)
 * or scan it from *acc into the output (mode FG_SCAN_INCLUSIVE or
 * _EXCLUSIVE), leaving in *acc the fold of *acc and the whole block; acc is
 * followed by one free element slot of scratch. */
typedef void (*fg__scan_block_fn)(size_t begin, size_t end, void *acc, int mode, void *job);
/* fg_parallel_scan's driver, by blocks: not for direct use. */
FG_API int fg__scan_run(fg_pool *pool, const void *in, void *out, size_t n, size_t size,
                        const void *identity, fg_combine_fn combine, void *ctx,
                        const fg_scan_opts *opts, fg__scan_block_fn block, void *job);

#define FG_PARALLEL_SCAN(NAME, T, COMBINE)                                        \
    typedef struct NAME##__job { const T *in; T *out; } NAME##__job;              \
    static void NAME##__combine(void *l, const void *r, void *ctx)                \
    {                                                                             \
        (void)ctx;                                                                \
        *(T *)l = COMBINE(*(T *)l, *(const T *)r);                                \
    }                                                                             \
    static void NAME##__block(size_t b, size_t e, void *accp, int mode, void *jp) \
    {                                                                             \
        const T *in = ((NAME##__job *)jp)->in;                                    \
        T *out = ((NAME##__job *)jp)->out;                                        \
        T acc = *(T *)accp;                                                       \
        if (mode == FG__SCAN_REDUCE) {                                            \
            for (size_t i = b; i < e; i++)                                        \
                acc = COMBINE(acc, in[i]);                                        \
        } else if (mode == FG_SCAN_INCLUSIVE) {                                   \
            for (size_t i = b; i < e; i++)                                        \
                out[i] = acc = COMBINE(acc, in[i]);                               \
        } else {                                                                  \
            for (size_t i = b; i < e; i++) {                                      \
                T x = in[i]; /* in place: read before out[i] is written */        \
                out[i] = acc;                                                     \
                acc = COMBINE(acc, x);                                            \
            }                                                                     \
        }                                                                         \
        *(T *)accp = acc;                                                         \
    }                                                                             \
    static __attribute__((unused)) int NAME(fg_pool *pool, const T *in, T *out,  \
                                            size_t n, T identity,                 \
                                            const fg_scan_opts *opts)             \
    {                                                                             \
        NAME##__job job = { in, out };                                            \
        return fg__scan_run(pool, in, out, n, sizeof(T), &identity,              \
                            NAME##__combine, NULL, opts, NAME##__block, &job);    \
    }

/* ------------------------------------------------------------------- sort */

/* qsort's comparator: < 0, 0 or > 0 as *a sorts before, with or after *b. */
typedef int (*fg_cmp_fn)(const void *a, const void *b);

/* Sort n elements of `size` bytes at base, as qsort(base, n, size, cmp)
 * does, in parallel on the pool: a quicksort whose partitions are joined
 * (median-of-3 pivots, ninther above 128 elements; heapsort beyond 2 log2 n
 * levels, so adversarial inputs stay O(n log n)), with qsort for parts of
 * FG_SORT_GRAIN elements or fewer.  Not stable; in place (no allocation).
 * The order of elements that compare equal does not depend on the number
 * of workers.  Callable from any thread.  Returns 0; FG_EINVAL (nothing
 * run) for a NULL pool or cmp, base NULL with n > 0, size 0, or n * size
 * beyond SIZE_MAX; FG_ESHUTDOWN.  n < 2 returns 0 without calling cmp. */
FG_API int fg_parallel_sort(fg_pool *pool, void *base, size_t n, size_t size, fg_cmp_fn cmp);

/* The same, stable (elements that compare equal keep their order): a merge
 * sort into a buffer of n * size bytes whose merges are split in parallel
 * too.  Errors as fg_parallel_sort, plus FG_ENOMEM (nothing run) when the
 * buffer cannot be had. */
FG_API int fg_parallel_stable_sort(fg_pool *pool, void *base, size_t n, size_t size,
                                   fg_cmp_fn cmp);

/* Parts this many elements long or shorter are sorted sequentially. */
#define FG_SORT_GRAIN 8192

/* A typed stable sort with the comparison inlined: FG_PARALLEL_SORT(NAME,
 * T, LESS) defines
 *     static int NAME(fg_pool *pool, T *base, size_t n);
 * where LESS(a, b), on two T values, is nonzero when a sorts before b (a
 * strict weak order: a function or macro the compiler sees, so every
 * comparison is inlined, as std::less is into std::sort).  The same merge
 * sort as fg_parallel_stable_sort, with the same parallel halves and
 * merges, contract and errors (FG_EINVAL for a NULL pool, base NULL with
 * n > 0, n * sizeof(T) beyond SIZE_MAX; FG_ENOMEM; FG_ESHUTDOWN).
 *     #define before(a, b) ((a) < (b))
 *     FG_PARALLEL_SORT(sort_doubles, double, before)
 *     err = sort_doubles(pool, x, n); */
/* A stable merge sort's sequential kernels; job is passed through. */
typedef struct fg__msort_ops {
    /* sort a[0, n) stably with buf[0, n) as scratch, into buf if to_buf */
    void (*leaf)(void *a, void *buf, size_t n, int to_buf, const void *job);
    /* merge a[0, na) and b[0, nb) into out, a first among equals */
    void (*merge)(const void *a, size_t na, const void *b, size_t nb, void *out,
                  const void *job);
    /* first index of b[0, n) not below key (upper: above key) */
    size_t (*bound)(const void *b, size_t n, const void *key, int upper, const void *job);
} fg__msort_ops;
/* fg_parallel_stable_sort's driver: not for direct use. */
FG_API int fg__stable_sort_run(fg_pool *pool, void *base, size_t n, size_t size,
                               const fg__msort_ops *ops, const void *job);

#define FG__SORT_RUN_TYPED 16 /* insertion-sorted runs of a typed leaf */
#define FG_PARALLEL_SORT(NAME, T, LESS)                                           \
    static void NAME##__merge(const void *ap, size_t na, const void *bp,          \
                              size_t nb, void *outp, const void *job)             \
    {                                                                             \
        const T *a = (const T *)ap, *ae = a + na, *b = (const T *)bp, *be = b + nb;\
        T *out = (T *)outp;                                                       \
        (void)job;                                                                \
        while (a < ae && b < be) {                                                \
            int take_b = (LESS(*b, *a)) != 0; /* a first among equals */          \
            *out++ = take_b ? *b : *a;                                            \
            b += take_b;                                                          \
            a += !take_b;                                                         \
        }                                                                         \
        while (a < ae)                                                            \
            *out++ = *a++;                                                        \
        while (b < be)                                                            \
            *out++ = *b++;                                                        \
    }                                                                             \
    static size_t NAME##__bound(const void *bp, size_t n, const void *keyp,       \
                                int upper, const void *job)                       \
    {                                                                             \
        const T *b = (const T *)bp;                                               \
        size_t lo = 0, hi = n;                                                    \
        (void)job;                                                                \
        while (lo < hi) {                                                         \
            size_t mid = lo + (hi - lo) / 2;                                      \
            if (upper ? !(LESS(*(const T *)keyp, b[mid])) : (LESS(b[mid], *(const T *)keyp))) \
                lo = mid + 1;                                                     \
            else                                                                  \
                hi = mid;                                                         \
        }                                                                         \
        return lo;                                                                \
    }                                                                             \
    static void NAME##__leaf(void *ap, void *bufp, size_t n, int to_buf,          \
                             const void *job)                                     \
    {                                                                             \
        T *a = (T *)ap, *buf = (T *)bufp, *from = a, *to = buf;                   \
        for (size_t i = 0; i < n; i += FG__SORT_RUN_TYPED) {                      \
            size_t e = n - i < FG__SORT_RUN_TYPED ? n : i + FG__SORT_RUN_TYPED;   \
            for (size_t j = i + 1; j < e; j++) {                                  \
                T x = a[j];                                                       \
                size_t k = j;                                                     \
                for (; k > i && (LESS(x, a[k - 1])); k--)                         \
                    a[k] = a[k - 1];                                              \
                a[k] = x;                                                         \
            }                                                                     \
        }                                                                         \
        for (size_t w = FG__SORT_RUN_TYPED; w < n; w *= 2) {                      \
            for (size_t i = 0; i < n; i += 2 * w) {                               \
                size_t na = n - i < w ? n - i : w;                                \
                size_t nb = n - i - na < w ? n - i - na : w;                      \
                NAME##__merge(from + i, na, from + i + na, nb, to + i, job);      \
            }                                                                     \
            T *t = from;                                                          \
            from = to;                                                            \
            to = t;                                                               \
        }                                                                         \
        if (from != (to_buf ? buf : a))                                           \
            memcpy(to_buf ? buf : a, from, n * sizeof(T));                        \
    }                                                                             \
    static const fg__msort_ops NAME##__ops = { NAME##__leaf, NAME##__merge,       \
                                               NAME##__bound };                   \
    static __attribute__((unused)) int NAME(fg_pool *pool, T *base, size_t n)     \
    {                                                                             \
        return fg__stable_sort_run(pool, base, n, sizeof(T), &NAME##__ops, NULL); \
    }

/* Ascending sorts of fixed-size keys, without a comparator: a parallel
 * least-significant-digit radix sort (8-bit digits; a digit that is the
 * same in every key costs one counting pass and no move), stable, with a
 * buffer of n keys (FG_ENOMEM).  Doubles sort in IEEE 754 totalOrder:
 * -NaN < -inf < ... < -0.0 < +0.0 < ... < +inf < +NaN, NaNs among
 * themselves by payload, so -0.0 sorts before +0.0 and every NaN has a
 * place (never an error).  Errors: FG_EINVAL (nothing run) for a NULL pool,
 * base NULL with n > 0, or n * 8 beyond SIZE_MAX; FG_ENOMEM; FG_ESHUTDOWN. */
FG_API int fg_parallel_sort_u64(fg_pool *pool, uint64_t *base, size_t n);
FG_API int fg_parallel_sort_i64(fg_pool *pool, int64_t *base, size_t n);
FG_API int fg_parallel_sort_double(fg_pool *pool, double *base, size_t n);

/* ----------------------------------------------- joblib-style façade */

/* Like joblib's `with Parallel(n_jobs, batch_size, verbose, backend) as p:
 * p(delayed(f)(i) for i in range(n))`: fg_parallel_open, then any number of
 * fg_parallel_map / fg_parallel_calls, then fg_parallel_close. */
typedef struct fg_parallel fg_parallel; /* opaque */

enum fg_backend {
    FG_BACKEND_STEAL = 0,  /* batches as leaves of a balanced fork-join tree on
                              the work-stealing pool ("StealingBackend") */
    FG_BACKEND_SHARED,     /* one central FIFO queue, dispatched exactly as
                              joblib 1.2 does ("SharedQueueBackend") */
    FG_BACKEND_SEQUENTIAL, /* every task in the caller ("SequentialBackend") */
    FG_BACKEND_PROCESS,    /* forked worker processes, joblib's loky role
                              ("ProcessBackend"): a task that crashes takes
                              down its worker, not the caller.  Each call
                              forks n_jobs workers, which see the caller's
                              memory as it was at the call (copy-on-write);
                              results come back by value through shared
                              memory, and a task's writes to any other
                              memory are not seen by the caller */
};

/* prefer: which kind of backend `backend` 0 means, as joblib's prefer=. */
enum fg_prefer {
    FG_PREFER_THREADS = 1,   /* FG_BACKEND_STEAL (also what 0 means) */
    FG_PREFER_PROCESSES = 2, /* FG_BACKEND_PROCESS */
};

/* batch_size: FG_BATCH_AUTO (or 0) adapts the size as joblib's 'auto' does,
 * toward batches of FG_BATCH_AUTO_MIN_S..FG_BATCH_AUTO_MAX_S seconds. */
#define FG_BATCH_AUTO (-1L)
#define FG_BATCH_AUTO_MIN_S 0.0002
#define FG_BATCH_AUTO_MAX_S 0.002
/* pre_dispatch: FG_PRE_DISPATCH_ALL dispatches every task up front. */
#define FG_PRE_DISPATCH_ALL (-1L)

/* The figures joblib's progress lines show, for programs. */
typedef struct fg_progress {
    size_t tasks_done;         /* n_completed_tasks */
    size_t tasks_dispatched;   /* n_dispatched_tasks */
    size_t batches_dispatched; /* n_dispatched_batches */
    size_t total;              /* tasks in this call */
    double elapsed_s;          /* since dispatch began */
    int finished;              /* 1 on the last call, when every task is done */
} fg_progress;

typedef struct fg_parallel_opts {
    size_t size;       /* sizeof(fg_parallel_opts): FG_PARALLEL_OPTS_INIT */
    int n_jobs;        /* > 0 exactly; < 0 joblib's rule (-1: all CPUs, -k:
                          cpus + 1 - k, at least 1); 0: all CPUs.  This 0 is
                          the one deviation from joblib, where 0 is an error */
    long batch_size;   /* > 0 fixed; 0 or FG_BATCH_AUTO: adaptive */
    int verbose;       /* joblib's levels: 0 silent; 1..10 a quadratic subset
                          of lines; > 10 every batch; >= 50 on stdout */
    int backend;       /* enum fg_backend; 0: FG_BACKEND_STEAL */
    long pre_dispatch; /* tasks dispatched before the first completion; 0:
                          2 * n_jobs (joblib's default); FG_PRE_DISPATCH_ALL */
    fg_pool *pool;     /* NULL: the façade owns a pool of n_jobs workers;
                          else it runs on this one (n_jobs only sizes batches) */
    FILE *log;         /* NULL: stderr below verbose 50, stdout from 50 */
    void (*on_progress)(const fg_progress *progress, void *ctx);
    void *progress_ctx;/* passed to on_progress, which may run on any worker */
    /* Appended in 0.4.0. */
    const fg_cancel_token *cancel; /* NULL: none; once set, batches not yet
                                      started are skipped, and a map that
                                      ends with it set returns FG_ECANCELED
                                      (unless a task failed first;
                                      fg_error_info.tasks_run says how many
                                      ran); tasks run in its scope */
    /* Appended for the process backend. */
    int prefer;        /* enum fg_prefer, used when backend is 0; 0: threads */
    double timeout;    /* seconds, > 0: a task of the process backend that
                          runs longer has its worker killed and the map
                          returns FG_ETIMEDOUT (threads cannot be killed:
                          the other backends do not time out); 0: none */
} fg_parallel_opts;

#define FG_PARALLEL_OPTS_INIT(...) FG__INIT(fg_parallel_opts, __VA_ARGS__)
#define FG_PARALLEL_OPTS(...) FG__INIT_PTR(fg_parallel_opts, __VA_ARGS__)

/* One delayed call per index: fn(i, ctx, result) writes result_size bytes
 * at `result` (NULL when result_size is 0) and returns 0 or an error code. */
typedef int (*fg_task_fn)(size_t i, void *ctx, void *result);
typedef struct fg_delayed {
    fg_task_fn fn;
    void *ctx;
    size_t result_size;
} fg_delayed;

/* A heterogeneous call for fg_parallel_calls: fn(arg, result). */
typedef struct fg_call {
    int (*fn)(void *arg, void *result);
    void *arg;
    void *result;
} fg_call;

/* Where a map failed: the lowest failing index (as joblib re-raises the
 * first failure in input order) and the task's code. */
typedef struct fg_error_info {
    size_t size;  /* sizeof(fg_error_info): set by FG_ERROR_INFO_INIT */
    size_t index; /* absolute index (begin + k), or position in calls[] */
    int code;     /* the task's return value; FG_ECRASHED or FG_ETIMEDOUT
                     when the process backend's worker running it died */
    size_t tasks_run; /* tasks that ran (the rest were cancelled) */
    /* Appended in 0.4.0. */
    size_t end;   /* fg_parallel_for/reduce: the failing chunk is
                     [index, end); maps: index + 1 on a failure */
    /* Appended for the process backend: how its worker died (code
     * FG_ECRASHED or FG_ETIMEDOUT), else 0. */
    int term_signal;  /* the signal that killed it (SIGKILL after a timeout) */
    int exit_status;  /* its exit status when it exited instead (exit(3): 3) */
} fg_error_info;

#define FG_ERROR_INFO_INIT(...) FG__INIT(fg_error_info, __VA_ARGS__)

/* Errors: FG_EINVAL (bad option), FG_ERANGE (n_jobs beyond FG_MAX_WORKERS),
 * FG_ENOMEM, FG_EAGAIN; *out is then NULL.  Nothing is printed by open. */
FG_API int fg_parallel_open(fg_parallel **out, const fg_parallel_opts *opts);

/* results[k] (result_size bytes each, in index order) = fn(begin + k) for
 * k in [0, end - begin).  Returns 0, the failing task's code (err says which
 * task; batches not started are cancelled, running ones finish), or a
 * negative FG_E* code with nothing run: FG_EINVAL for a NULL par or fn,
 * begin > end, or results NULL with result_size > 0.  err may be NULL.
 * results[] after an error: on a task failure at index f, every slot
 * before f - begin holds its task's result (all of those tasks ran, unless
 * the call was also cancelled), slot f - begin what the failing task wrote,
 * and each later slot either its task's result or its old bytes (the task
 * never started; tasks_run counts those that did).  After FG_ECANCELED the
 * same holds slot by slot, for an unspecified set of tasks.  After a
 * negative code with nothing run: untouched. */
FG_API int fg_parallel_map(fg_parallel *par, fg_delayed d, size_t begin, size_t end,
                           void *results, fg_error_info *err);

/* The process backend (FG_BACKEND_PROCESS) also returns FG_ENOMEM (nothing
 * run) when its shared memory cannot be mapped, FG_EAGAIN when fork()
 * fails (nothing run; fg_last_error_detail says why), FG_ECRASHED when a
 * worker dies (a signal, exit() or _exit() inside a task, a kill from
 * outside) and FG_ETIMEDOUT; err->index is the task its worker was running
 * (end when it died between tasks).  As for a failing task, every index
 * below it has its result and later batches are not started.  It returns
 * once every worker has finished its work (or died): workers may still be
 * exiting then.  A thread of par reaps them (only their pids, no signal
 * handler); the next map or iterator waits, before it forks, for those of
 * every map but the last, and fg_parallel_close for all of them. */

/* The same over n heterogeneous calls (joblib's general case).  The
 * process backend cannot return their results (their sizes are unknown):
 * there every calls[k].result must be NULL, else FG_EINVAL. */
FG_API int fg_parallel_calls(fg_parallel *par, const fg_call *calls, size_t n,
                             fg_error_info *err);

/* Release the façade (and its own pool; on the process backend, after its
 * last workers have exited and are reaped).  NULL is a no-op. */
FG_API void fg_parallel_close(fg_parallel *par);

/* What an open façade runs with, for components built on it (forage-mpi):
 * the options par was opened with, as given (n_jobs as requested), except
 * `backend`, the one it chose (FG_BACKEND_SEQUENTIAL for one worker), and
 * `pool`, the pool it runs on (NULL when it runs every task in the
 * caller).  Returns the effective number of workers, FG_EINVAL for a NULL
 * argument, or FG_ESIZE (out not made by FG_PARALLEL_OPTS_INIT). */
FG_API int fg_parallel_get_opts(const fg_parallel *par, fg_parallel_opts *out);

/* A delayed call with its worker's scratch (fg_scratch above). */
typedef int (*fg_scratch_task_fn)(size_t i, void *scratch, void *ctx, void *result);
typedef struct fg_delayed_scratch {
    fg_scratch_task_fn fn;
    void *ctx;
    size_t result_size;
} fg_delayed_scratch;

/* fg_parallel_map whose tasks also get the running worker's scratch (on the
 * sequential backend: one value, made by the first task).  The same
 * contract and errors, plus FG_EINVAL (nothing run, init never called) for
 * a NULL scratch.init; FG_ENOMEM.  An init that fails fails the task that
 * needed it, with init's code. */
FG_API int fg_parallel_map_init(fg_parallel *par, fg_scratch scratch, fg_delayed_scratch d,
                                size_t begin, size_t end, void *results, fg_error_info *err);

/* ------------------------------------------- streaming results (iter) */

/* joblib's return_as="generator" / "generator_unordered": results of a map
 * as its batches finish, read one at a time, with memory bounded by the
 * dispatch window instead of by the number of tasks.
 *     fg_parallel_iter *it;
 *     fg_parallel_iter_open(par, (fg_delayed){ f, ctx, sizeof(double) },
 *                           0, n, FG_ORDER_INDEX, &it);
 *     size_t i; double r;
 *     while ((err = fg_parallel_iter_next(it, &i, &r)) == 0)
 *         use(i, r);                          // err: FG_EDONE at the end
 *     fg_parallel_iter_close(it, NULL);       // early: cancels the rest */
typedef struct fg_parallel_iter fg_parallel_iter; /* opaque */

enum fg_order {
    FG_ORDER_INDEX = 0,  /* results in index order (return_as="generator") */
    FG_ORDER_COMPLETION, /* batch by batch as they finish, each batch's
                            results in index order ("generator_unordered") */
};

/* Start fn(i) for i in [begin, end) on par's backend, in batches of
 * par's batch_size (FG_BATCH_AUTO: adaptive, from 1).  At most
 * max(n_jobs, ceil(pre_dispatch / batch)) batches run or wait to be read,
 * plus the one being read (FG_PRE_DISPATCH_ALL: all of them, so memory
 * grows with n); a batch is dispatched when a slot frees.  On the
 * sequential backend each batch runs in the fg_parallel_iter_next call that
 * needs it.  On the process backend n_jobs workers are forked here (tasks
 * see memory as it is now; results come back by value through a shared
 * window of fixed size, adaptive batches capped to keep it about 4 MiB); a
 * task whose worker dies ends the stream at its index with FG_ECRASHED
 * (FG_ETIMEDOUT past par's timeout), and fg_parallel_iter_close reports
 * the signal or exit status.  par's cancel token reaches the workers when
 * a reader waits, and a task there does not see it.  The workers die with
 * the thread that opened the iterator (they must not outlive the caller),
 * so that thread must not exit before close.  par must stay open
 * until the iterator is closed.  Errors, with nothing run and *out NULL:
 * FG_EINVAL (NULL par, fn or out, begin > end, an unknown order),
 * FG_ENOMEM (also: the shared window cannot be mapped), FG_EAGAIN (a fork
 * failed; fg_last_error_detail says why).  With par's verbose, joblib's
 * lines are printed (the backend line, one per finished batch as the
 * verbosity filter allows, and "Done n out of n" when the end is read);
 * on_progress is not called for iterators. */
FG_API int fg_parallel_iter_open(fg_parallel *par, fg_delayed d, size_t begin, size_t end,
                                 int order, fg_parallel_iter **out);

/* The next result: its index into *index and its result_size bytes into
 * result (may be NULL when result_size is 0); returns 0.  At the end
 * FG_EDONE.  A failing task: its code, with *index its index, after every
 * result before it (index order; completion order: when its batch is
 * read), and the batches after it are not started.  par's cancel token set:
 * FG_ECANCELED once a batch it skipped is reached.  These end codes repeat
 * on later calls.  Several threads may call next at once: each result goes
 * to exactly one of them.  FG_EINVAL for a NULL it or index. */
FG_API int fg_parallel_iter_next(fg_parallel_iter *it, size_t *index, void *result);

/* Stop and release the iterator.  Batches not started are never run;
 * running batches stop after their current task; results not read are
 * dropped.  So every task either ran exactly once or never started, and
 * info->tasks_run (info may be NULL) counts those that ran.  On the process
 * backend close kills the workers at once (a task running then is cut off
 * and not counted) and reaps them.  Threads
 * blocked in next return FG_ECANCELED first; calling next once close has
 * begun is a use after free.  Waits for running tasks.  Returns 0, or
 * FG_ESIZE (info not made by FG_ERROR_INFO_INIT; the iterator is still
 * released).  NULL is a no-op. */
FG_API int fg_parallel_iter_close(fg_parallel_iter *it, fg_error_info *info);

/* ------------------------------------------------------------ statistics */

/* Per-worker counters, collected unless the library was built with
 * -Dstats=false (fg_stats_enabled() says which); then all zero.  With
 * FORAGE_STATS=1 in the environment, fg_pool_destroy prints them as a table
 * on stderr.  Definitions: docs/design/trace.md. */
typedef struct fg_worker_stats {
    size_t size;             /* sizeof(fg_worker_stats): FG_WORKER_STATS_INIT */
    uint64_t tasks_run;      /* jobs the scheduler ran: taken from the own
                                deque, stolen or injected, at top level or
                                nested in a wait; not an fg_join's b popped
                                back and called inline */
    uint64_t steal_attempts; /* steal calls on a victim's deque */
    uint64_t steals;         /* jobs stolen (steal-half: each job of a batch) */
    uint64_t steal_aborts;   /* steals that lost a race */
    uint64_t injector_takes; /* jobs taken from the injector */
    uint64_t sleeps;         /* times the worker blocked in the kernel */
    uint64_t wakeups;        /* parked workers this worker woke (after a
                                push, or by setting a latch they wait on) */
    /* Appended in 0.2.0 (a caller compiled against the 0.1 header
     * passes a smaller struct: rebuild, see the ABI policy above).  The
     * worker loop's time, split at the start and end of each job it runs
     * at top level: busy + idle = the worker thread's life. */
    uint64_t busy_ns;        /* inside top-level jobs, including the jobs
                                they run or the parks they take while
                                waiting (a nested run is not counted twice) */
    uint64_t idle_ns;        /* looking for work or parked, between jobs */
} fg_worker_stats;

#define FG_WORKER_STATS_INIT(...) FG__INIT(fg_worker_stats, __VA_ARGS__)

/* 1 if the library collects counters, else 0. */
FG_API int fg_stats_enabled(void);

/* Copy worker `worker`'s counters (racy snapshot while the pool runs).
 * FG_EINVAL for a NULL argument or an index out of range. */
FG_API int fg_pool_stats(const fg_pool *pool, int worker, fg_worker_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* FORAGE_H */
