/* forked.c: the worker processes of the process backend, for a map
 * (process.c) and an iterator (iter_process.c).  See
 * docs/design/process.md.
 *
 * The caller forks n single-threaded workers behind a gate (a futex word
 * in the shared region, opened once every fork succeeded), watches them
 * through pidfds (or by polling waitpid without them), and only ever waits
 * for its own children's pids: no signal handler is installed and no
 * disposition changed.  A worker publishes the task it runs in its slot
 * before starting it, so the caller knows the exact index of a task whose
 * worker died, and a timeout sees a task that does not move.  With
 * fg__forked_want_done, a worker also says "done" through an eventfd
 * before its exit, and the caller stops waiting for it there: its exit,
 * which tears down its copy of the caller's page tables, is then the
 * reaper's (fg__forked_release, reaper.c).
 *
 * Ordering.  The region is shared between processes, not threads.  A
 * worker publishes `current` with relaxed stores: the caller reads it
 * after waitpid (the child's death orders everything before it) or as a
 * sample for timeouts.  `clean` is released by the worker before it writes
 * the eventfd and exits, and acquired by the caller after either.
 * `batch_start` is the worker's half of a Dekker pair with the users'
 * failure index (seq_cst, see process.c and iter_process.c).
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "forage.h"

#include "forked.h"

static bool fg__in_worker;
static int fg__done_fd = -1; /* in a worker: its caller's fg__forked.done_fd */

bool fg__process_in_worker(void)
{
    return fg__in_worker;
}

size_t fg__forked_slots_size(int n)
{
    return (size_t)n * sizeof(fg__forked_slot);
}

int fg__forked_init(fg__forked *f, int n, fg__forked_slot *slots, fg__forked_ended_fn ended,
                    fg__forked_timed_out_fn timed_out, void *ctx)
{
    *f = (fg__forked){ .n = n, .done_fd = -1, .slots = slots, .ended = ended,
                       .timed_out = timed_out, .ctx = ctx };
    for (int w = 0; w < n; w++) {
        atomic_init(&slots[w].current, SIZE_MAX);
        atomic_init(&slots[w].batch_start, SIZE_MAX);
        atomic_init(&slots[w].ran, 0);
        atomic_init(&slots[w].clean, 0);
    }
    size_t k = (size_t)n;
    f->child = fg__alloc_zeroed(k * sizeof *f->child + (k + 1) * sizeof *f->fds +
                                (k + 1) * sizeof *f->fd_child + k * sizeof *f->exiting);
    if (f->child == NULL)
        return FG_ENOMEM;
    f->fds = (struct pollfd *)(void *)(f->child + n);
    f->fd_child = (int *)(void *)(f->fds + n + 1);
    f->exiting = (pid_t *)(void *)(f->fd_child + n + 1);
    return 0;
}

void fg__forked_free(fg__forked *f)
{
    if (f->done_fd >= 0)
        close(f->done_fd);
    f->done_fd = -1;
    fg__free(f->child);
    f->child = NULL;
}

/* ------------------------------------------------------------ futex */

static int fg__forked_futex(_Atomic uint32_t *word, int op, uint32_t value,
                            const struct timespec *ts)
{
    /* Not FUTEX_PRIVATE_FLAG: the word is shared between processes. */
    return (int)syscall(SYS_futex, (void *)word, op, value, ts, NULL, 0);
}

void fg__forked_futex_wait(_Atomic uint32_t *word, uint32_t value, int timeout_ms)
{
    struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000 };
    fg__forked_futex(word, FUTEX_WAIT, value, timeout_ms < 0 ? NULL : &ts);
}

void fg__forked_futex_wake(_Atomic uint32_t *word)
{
    fg__forked_futex(word, FUTEX_WAKE, INT_MAX, NULL);
}

void fg__forked_gate_open(_Atomic uint32_t *gate, uint32_t value)
{
    /* release: publishes the region's setup to the workers. */
    atomic_store_explicit(gate, value, memory_order_release);
    fg__forked_futex_wake(gate);
}

uint32_t fg__forked_gate_wait(_Atomic uint32_t *gate)
{
    uint32_t go;
    /* acquire: the caller's setup of the region is complete. */
    while ((go = atomic_load_explicit(gate, memory_order_acquire)) == 0)
        fg__forked_futex_wait(gate, 0, -1);
    return go;
}

void fg__forked_lock_init(pthread_mutex_t *lock)
{
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(lock, &attr);
    pthread_mutexattr_destroy(&attr);
}

void fg__forked_lock(pthread_mutex_t *lock)
{
    /* A holder killed by the caller (timeout, past a failure, close) or
     * from outside: the failure is reported, carry on with what it left. */
    if (pthread_mutex_lock(lock) == EOWNERDEAD)
        pthread_mutex_consistent(lock);
}

void fg__forked_lower_fail(_Atomic size_t *fail_index, size_t k)
{
    size_t cur = atomic_load_explicit(fail_index, memory_order_relaxed);
    /* seq_cst: the caller's half of the Dekker pair with batch_start. */
    while (k < cur && !atomic_compare_exchange_weak_explicit(fail_index, &cur, k,
                                                             memory_order_seq_cst,
                                                             memory_order_relaxed)) {}
}

/* ---------------------------------------------------------- workers */

_Noreturn void fg__forked_exit(fg__forked_slot *slot)
{
    fflush(stdout); /* what tasks printed */
    fflush(stderr);
    /* release: everything this worker wrote is there when it says so. */
    atomic_store_explicit(&slot->clean, 1, memory_order_release);
    if (fg__done_fd >= 0) { /* wake the caller: the exit itself comes later */
        uint64_t one = 1;
        ssize_t wrote = write(fg__done_fd, &one, sizeof one);
        (void)wrote; /* cannot fail: the counter stays far below its limit */
    }
    _exit(0);
}

/* Worker w of n runs on the w-th CPU of the caller's affinity mask when
 * there are at least n, as a pool's workers do (FG_BIND_CPUS): unbound,
 * the kernel often queues the workers the gate wakes on one CPU
 * (docs/design/process.md, "Binding").  FORAGE_BIND=none leaves them.
 * The caller reads the environment and its mask once, before it forks:
 * in the child every first call into libc and every page touched is a
 * fault of its own (process.md, "Costs"). */
static bool fg__forked_bind_mask(int n, cpu_set_t *set)
{
    const char *env = getenv("FORAGE_BIND");
    return !(env != NULL && strcmp(env, "none") == 0) &&
           sched_getaffinity(0, sizeof *set, set) == 0 && CPU_COUNT(set) >= n;
}

/* In worker w: bind to the w-th CPU of set (NULL: stay unbound). */
static void fg__forked_bind(const cpu_set_t *set, int w)
{
    if (set == NULL)
        return;
    for (int c = 0, k = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, set) && k++ == w) {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(c, &one);
            (void)sched_setaffinity(0, sizeof one, &one); /* best effort */
            return;
        }
}

static _Noreturn void fg__forked_child_main(void (*run)(void *, int), void *arg, int w,
                                            const cpu_set_t *bind, int done_fd)
{
    fg__in_worker = true;
    fg__done_fd = done_fd;
    /* Die with the caller's thread rather than run on as an orphan. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* Output the caller had buffered is the caller's to write. */
    __fpurge(stdout);
    __fpurge(stderr);
    fg__forked_bind(bind, w);
    fg_worker_scope_enter(w);
    run(arg, w);
    _exit(0); /* run ends with fg__forked_exit; not reached */
}

void fg__forked_want_done(fg__forked *f)
{
    f->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); /* -1: wait for exits */
}

/* fork(), holding the standard streams so that no other thread holds
 * their locks in the child. */
static pid_t fg__forked_fork(void)
{
    flockfile(stdout);
    flockfile(stderr);
    pid_t pid = fg__fork();
    funlockfile(stderr);
    funlockfile(stdout);
    return pid;
}

bool fg__forked_start(fg__forked *f, void (*run)(void *arg, int w), void *arg, fg__reaper *r)
{
    cpu_set_t set;
    const cpu_set_t *bind = fg__forked_bind_mask(f->n, &set) ? &set : NULL;
    for (int w = 0; w < f->n; w++) {
        pid_t pid = fg__forked_fork();
        if (pid < 0 && errno == EAGAIN && r != NULL) {
            /* The last map's workers count against RLIMIT_NPROC until they
             * are reaped (maybe just now: try again even if none is left). */
            fg__reaper_drain(r);
            pid = fg__forked_fork();
        }
        if (pid == 0)
            fg__forked_child_main(run, arg, w, bind, f->done_fd);
        if (pid < 0)
            return false;
        fg__forked_child *c = &f->child[w];
        *c = (fg__forked_child){ .pid = pid, .pidfd = -1, .live = true, .seen = SIZE_MAX };
#ifdef SYS_pidfd_open
        c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* -1: poll waitpid instead */
#endif
        f->live++;
    }
    return true;
}

/* ----------------------------------------------------------- caller */

/* Reap worker w if it ended.  Only our own children are waited for. */
static void fg__forked_try_reap(fg__forked *f, int w, bool block)
{
    fg__forked_child *c = &f->child[w];
    int status = 0;
    pid_t r;
    while ((r = waitpid(c->pid, &status, block ? 0 : WNOHANG)) < 0 && errno == EINTR) {}
    if (r != c->pid && !(r < 0 && errno == ECHILD)) /* ECHILD: SIGCHLD ignored */
        return;
    c->live = false;
    f->live--;
    if (c->pidfd >= 0)
        close(c->pidfd);
    f->ended(f->ctx, w, status);
}

/* Worker w is still to be waited for: not reaped, and not done either
 * when workers say so. */
static bool fg__forked_waits_for(const fg__forked *f, int w)
{
    /* acquire: pairs with the worker's release of `clean`. */
    return f->child[w].live &&
           (f->done_fd < 0 || !atomic_load_explicit(&f->slots[w].clean, memory_order_acquire));
}

int fg__forked_busy(const fg__forked *f)
{
    int busy = 0;
    for (int w = 0; w < f->n; w++)
        busy += fg__forked_waits_for(f, w);
    return busy;
}

void fg__forked_poll(fg__forked *f, int ms)
{
    int nfds = 0;
    if (f->done_fd >= 0)
        f->fds[nfds++] = (struct pollfd){ .fd = f->done_fd, .events = POLLIN };
    for (int w = 0; w < f->n; w++)
        if (fg__forked_waits_for(f, w) && f->child[w].pidfd >= 0) {
            f->fds[nfds] = (struct pollfd){ .fd = f->child[w].pidfd, .events = POLLIN };
            f->fd_child[nfds++] = w;
        }
    if (poll(f->fds, (nfds_t)nfds, ms) < 0)
        nfds = 0; /* EINTR: look again */
    for (int i = f->done_fd >= 0; i < nfds; i++)
        if (f->fds[i].revents != 0)
            fg__forked_try_reap(f, f->fd_child[i], false);
    if (f->done_fd >= 0 && f->fds[0].revents != 0) {
        uint64_t count; /* reset the counter; the slots say who is done */
        ssize_t got = read(f->done_fd, &count, sizeof count);
        (void)got;
    }
    for (int w = 0; w < f->n; w++)
        if (fg__forked_waits_for(f, w) && f->child[w].pidfd < 0)
            fg__forked_try_reap(f, w, false);
}

void fg__forked_release(fg__forked *f, fg__reaper *r)
{
    size_t n = 0;
    for (int w = 0; w < f->n; w++) {
        fg__forked_child *c = &f->child[w];
        if (!c->live)
            continue;
        if (c->pidfd >= 0)
            close(c->pidfd);
        c->live = false;
        f->live--;
        if (waitpid(c->pid, NULL, WNOHANG) == 0) /* not gone yet */
            f->exiting[n++] = c->pid;
    }
    if (!fg__reaper_take(r, f->exiting, n))
        for (size_t i = 0; i < n; i++)
            while (waitpid(f->exiting[i], NULL, 0) < 0 && errno == EINTR) {}
}

void fg__forked_timeouts(fg__forked *f, double limit, double now_s)
{
    for (int w = 0; w < f->n; w++) {
        fg__forked_child *c = &f->child[w];
        size_t k = atomic_load_explicit(&f->slots[w].current, memory_order_relaxed);
        if (!c->live || c->killed)
            continue;
        if (k == SIZE_MAX || k != c->seen) {
            c->seen = k;
            c->since_s = now_s;
        } else if (now_s - c->since_s > limit) {
            kill(c->pid, SIGKILL);
            c->killed = true;
            f->timed_out(f->ctx, w, k);
        }
    }
}

void fg__forked_kill_past(fg__forked *f, size_t k)
{
    for (int w = 0; w < f->n; w++) {
        fg__forked_child *c = &f->child[w];
        size_t start = atomic_load_explicit(&f->slots[w].batch_start, memory_order_seq_cst);
        if (c->live && !c->killed && start != SIZE_MAX && start > k) {
            kill(c->pid, SIGKILL);
            c->killed = true;
        }
    }
}

void fg__forked_kill_all(fg__forked *f)
{
    for (int w = 0; w < f->n; w++)
        if (f->child[w].live && !f->child[w].killed) {
            kill(f->child[w].pid, SIGKILL);
            f->child[w].killed = true;
        }
    for (int w = 0; w < f->n; w++)
        if (f->child[w].live)
            fg__forked_try_reap(f, w, true);
}

int fg__forked_poll_ms(const fg__forked *f, int ms, double timeout)
{
    for (int w = 0; w < f->n; w++)
        if (f->child[w].live && f->child[w].pidfd < 0)
            ms = 1;
    if (timeout > 0) {
        double t = timeout * 100.0; /* a tenth of it */
        int tms = t < 1.0 ? 1 : t > 10.0 ? 10 : (int)t;
        ms = ms < 0 || tms < ms ? tms : ms;
    }
    return ms;
}
