/* forked.h: the worker processes of the process backend (forked.c): forking
 * them behind a gate, the per-worker slot they publish in shared memory,
 * watching and reaping them, timeouts.  Used by a process-backend map
 * (process.c) and a process-backend iterator (iter_process.c). */
#ifndef FG_FORKED_H
#define FG_FORKED_H

#include <poll.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "reaper.h"
#include "seam.h"

/* One worker's slot in the shared region, on its own cache line. */
typedef struct fg__forked_slot {
    alignas(FG__CACHE_LINE) _Atomic size_t current; /* task running, SIZE_MAX: none */
    _Atomic size_t batch_start; /* start of the batch it holds, SIZE_MAX: none */
    _Atomic size_t ran;         /* tasks it finished; written by it alone */
    _Atomic int clean;          /* 1: it left its loop and will _exit(0) */
} fg__forked_slot;

/* The caller's view of one worker. */
typedef struct fg__forked_child {
    pid_t pid;
    int pidfd;         /* -1: none (then waitpid is polled) */
    bool live;
    bool killed;       /* by the caller: a timeout, or its batch was past a failure */
    size_t seen;       /* timeouts: the task last seen running ... */
    double since_s;    /* ... and since when */
} fg__forked_child;

typedef struct fg__forked fg__forked;

/* Called in the caller for every worker reaped (status as from waitpid),
 * and for every worker killed for running one task past the timeout
 * (k: that task). */
typedef void (*fg__forked_ended_fn)(void *ctx, int w, int status);
typedef void (*fg__forked_timed_out_fn)(void *ctx, int w, size_t k);

struct fg__forked {
    int n, live;
    int done_fd;               /* eventfd the workers write when done, -1: none */
    fg__forked_slot *slots;    /* n of them, in the shared region */
    fg__forked_child *child;
    struct pollfd *fds;        /* n + 1: the pidfds and done_fd */
    int *fd_child;             /* n + 1 */
    pid_t *exiting;            /* n: for fg__forked_release */
    fg__forked_ended_fn ended;
    fg__forked_timed_out_fn timed_out;
    void *ctx;
};

/* Bytes of n slots in the region (a multiple of the cache line). */
size_t fg__forked_slots_size(int n);
/* Set up f for n workers whose slots (in the shared region) start at
 * `slots`; FG_ENOMEM. */
int fg__forked_init(fg__forked *f, int n, fg__forked_slot *slots, fg__forked_ended_fn ended,
                    fg__forked_timed_out_fn timed_out, void *ctx);
void fg__forked_free(fg__forked *f);

/* Fork the n workers; each runs run(arg, w) as a single-threaded process
 * that must end with fg__forked_exit.  A fork that fails with EAGAIN is
 * tried again once the workers r (may be NULL) still has are gone.  false
 * when a fork fails (the ones started are then to be told to leave;
 * fg_last_error_detail says why). */
bool fg__forked_start(fg__forked *f, void (*run)(void *arg, int w), void *arg, fg__reaper *r);
/* Before the start: let the workers say "done" (clean) through an
 * eventfd, so that the caller waits for that rather than for their exit
 * (fg__forked_busy, fg__forked_release).  Without it (no descriptor to
 * be had) the caller waits for the exits, as the iterator always does. */
void fg__forked_want_done(fg__forked *f);
/* In a worker: flush what tasks printed, say "clean", _exit(0). */
_Noreturn void fg__forked_exit(fg__forked_slot *slot);

/* The start gate, a futex word in the region: 0 closed, else the value
 * it was opened with. */
void fg__forked_gate_open(_Atomic uint32_t *gate, uint32_t value);
uint32_t fg__forked_gate_wait(_Atomic uint32_t *gate);
/* FUTEX_WAIT (for at most timeout_ms; < 0: no limit) / FUTEX_WAKE on a
 * word shared between processes. */
void fg__forked_futex_wait(_Atomic uint32_t *word, uint32_t value, int timeout_ms);
void fg__forked_futex_wake(_Atomic uint32_t *word);

/* A robust, process-shared mutex: a holder killed while holding it leaves
 * it consistent for the next locker (the death is reported elsewhere). */
void fg__forked_lock_init(pthread_mutex_t *lock);
void fg__forked_lock(pthread_mutex_t *lock);

/* Anyone: lower a failure index shared by the workers to k (seq_cst: the
 * caller's half of the Dekker pair with a slot's batch_start). */
void fg__forked_lower_fail(_Atomic size_t *fail_index, size_t k);

/* Wait up to ms (-1: until one ends) for a worker to end or say "done",
 * then reap every worker that ended (calling `ended`). */
void fg__forked_poll(fg__forked *f, int ms);
/* Workers neither reaped nor (with want_done) done: the ones to wait for. */
int fg__forked_busy(const fg__forked *f);
/* After fg__forked_busy is 0: hand the workers that are still exiting to
 * r, or reap them here if r cannot take them. */
void fg__forked_release(fg__forked *f, fg__reaper *r);
/* Kill the workers that ran one task longer than limit seconds. */
void fg__forked_timeouts(fg__forked *f, double limit, double now_s);
/* Kill the live workers holding a batch that starts after task k. */
void fg__forked_kill_past(fg__forked *f, size_t k);
/* Kill every live worker and reap them all (blocking). */
void fg__forked_kill_all(fg__forked *f);
/* Milliseconds between looks for a caller that wakes every `ms` (-1:
 * never) on its own: shorter when a worker has no pidfd or a timeout
 * needs watching. */
int fg__forked_poll_ms(const fg__forked *f, int ms, double timeout);

/* Is this process one of the backend's workers?  Façade calls made inside
 * one run in it, sequentially. */
bool fg__process_in_worker(void);

#endif
