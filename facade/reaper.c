/* reaper.c: one thread per fg_parallel, started at its first process-
 * backend map, that reaps the workers a map has finished with.  See
 * docs/design/process.md ("Returning before the exit").
 *
 * A worker's exit tears down its copy of the caller's page tables, about
 * as long as the fork that made them (0.8 ms for 100 MiB resident).  A map
 * whose workers all said "done" in shared memory has its results, so it
 * hands their pids over and returns.  The reaper opens a pidfd for each
 * and polls them all (with an eventfd that says more were handed over),
 * then reaps with waitpid(pid, WNOHANG) exactly the pids whose pidfd says
 * they ended (never -1: the application's other children are not ours).
 * The eventfd lives from init to destroy, so an fg_parallel holds one fd
 * throughout, plus one pidfd per worker still exiting.
 * So a worker is reaped as soon as it has ended, whatever the order in
 * which its siblings end.  Without pidfds (kernels before 5.3, or no fd
 * to be had) the poll times out every FG__REAPER_NOFD_MS and the pids
 * without one are asked with WNOHANG.
 *
 * Bound: before a map forks, it waits for the workers of every earlier
 * hand-over but the last one.  So the last map's workers may finish
 * exiting while the next map forks (the two overlap on separate cores),
 * but no more than one earlier map's workers are ever still there, and
 * fg_parallel_close waits for all of them.
 *
 * No signal handler is involved, and the thread blocks every signal, so
 * the application's own handling of SIGCHLD and the rest is untouched.
 * Everything is under `lock`; the thread waits on `work` while it has no
 * pid (in poll while it has some), drainers on `reaped`.  The thread calls
 * only poll, read, waitpid, close and the lock while the caller may fork:
 * a child never inherits a lock or allocator state it held.
 *
 * Across fork(): the child has no thread and none of these pids are its
 * children; its copy is reset at its first use (generation), closing the
 * inherited fds.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "reaper.h"
#include "seam.h"

#define FG__REAPER_POLL_MAX 1024 /* pids polled at once: the oldest */
#define FG__REAPER_NOFD_MS 2     /* poll period while a pid has no pidfd */

void fg__reaper_init(fg__reaper *r)
{
    fg__fork_register(); /* so that a forked child sees a new generation */
    /* The wake fd is made here, not with the thread: an fg_parallel keeps
     * one fd from open to close, however its maps go. */
    *r = (fg__reaper){ .wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
                       .generation = fg__fork_generation() };
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->work, NULL);
    pthread_cond_init(&r->reaped, NULL);
}

/* A copy inherited across fork() is another process's reaper. */
static bool fg__reaper_inherited(const fg__reaper *r)
{
    return r->generation != fg__fork_generation();
}

/* Close the fds and free the list (the thread is gone or was never here). */
static void fg__reaper_release(fg__reaper *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->pids[i].pidfd >= 0)
            close(r->pids[i].pidfd);
    if (r->wake >= 0)
        close(r->wake);
    fg__free(r->pids);
}

static void fg__reaper_reset_in_child(fg__reaper *r)
{
    if (fg__reaper_inherited(r)) {
        fg__reaper_release(r);
        fg__reaper_init(r);
    }
}

/* Under the lock: fds[1..k] for the oldest k pids (fds[0] is the wake
 * fd); returns k, and in *ms the poll's timeout. */
static size_t fg__reaper_watch(const fg__reaper *r, struct pollfd *fds, int *ms)
{
    size_t k = r->n < FG__REAPER_POLL_MAX ? r->n : FG__REAPER_POLL_MAX;
    *ms = -1;
    fds[0] = (struct pollfd){ .fd = r->wake, .events = POLLIN };
    for (size_t i = 0; i < k; i++) {
        fds[i + 1] = (struct pollfd){ .fd = r->pids[i].pidfd, .events = POLLIN };
        if (r->pids[i].pidfd < 0)
            *ms = FG__REAPER_NOFD_MS; /* poll ignores fd -1: ask waitpid */
    }
    return k;
}

/* Under the lock: reap those of the oldest k pids that fds says ended (or
 * that have no pidfd) and have, and drop them from the list.  The list's
 * first k entries are as fg__reaper_watch saw them: takers only append. */
static void fg__reaper_sweep(fg__reaper *r, const struct pollfd *fds, size_t k)
{
    size_t kept = 0;
    for (size_t i = 0; i < r->n; i++) {
        fg__reaper_pid *p = &r->pids[i];
        if (i < k && (p->pidfd < 0 || fds[i + 1].revents != 0)) {
            pid_t got;
            while ((got = waitpid(p->pid, NULL, WNOHANG)) < 0 && errno == EINTR) {}
            if (got == p->pid || (got < 0 && errno == ECHILD)) { /* ECHILD: SIGCHLD ignored */
                if (p->pidfd >= 0)
                    close(p->pidfd);
                continue;
            }
        }
        r->pids[kept++] = *p;
    }
    if (kept < r->n) {
        r->n = kept;
        pthread_cond_broadcast(&r->reaped);
    }
}

static void *fg__reaper_main(void *arg)
{
    fg__reaper *r = arg;
    struct pollfd fds[FG__REAPER_POLL_MAX + 1];
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (r->n == 0 && !r->quit)
            pthread_cond_wait(&r->work, &r->lock);
        if (r->n == 0)
            break;
        int ms;
        size_t k = fg__reaper_watch(r, fds, &ms);
        pthread_mutex_unlock(&r->lock);
        if (poll(fds, (nfds_t)(k + 1), ms) > 0 && fds[0].revents != 0) {
            uint64_t count; /* reset the counter: the list says what is new */
            ssize_t got = read(r->wake, &count, sizeof count);
            (void)got;
        }
        pthread_mutex_lock(&r->lock);
        fg__reaper_sweep(r, fds, k);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* Under the lock: room for n more pids and a running thread. */
static bool fg__reaper_ready(fg__reaper *r, size_t n)
{
    if (r->n + n > r->cap) {
        size_t cap = 2 * (r->n + n);
        fg__reaper_pid *pids = fg__alloc(cap * sizeof *pids);
        if (pids == NULL)
            return false;
        if (r->n > 0)
            memcpy(pids, r->pids, r->n * sizeof *pids);
        fg__free(r->pids);
        r->pids = pids;
        r->cap = cap;
    }
    if (r->wake < 0)
        return false; /* no fd to be had at init */
    if (!r->running)
        r->running = fg__thread_create(&r->thread, fg__reaper_main, r) == 0;
    return r->running;
}

/* A pidfd for one of our unreaped children (its pid cannot be reused
 * before we reap it), or -1. */
static int fg__reaper_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    (void)pid;
    return -1;
#endif
}

bool fg__reaper_take(fg__reaper *r, const pid_t *pids, size_t n)
{
    fg__reaper_reset_in_child(r);
    pthread_mutex_lock(&r->lock);
    bool ok = fg__reaper_ready(r, n);
    if (ok) {
        r->handovers++;
        for (size_t i = 0; i < n; i++)
            r->pids[r->n++] = (fg__reaper_pid){ pids[i], fg__reaper_pidfd(pids[i]), r->handovers };
        pthread_cond_signal(&r->work);
        uint64_t one = 1; /* a polling thread looks at the new pids too */
        ssize_t put = write(r->wake, &one, sizeof one);
        (void)put;
    }
    pthread_mutex_unlock(&r->lock);
    return ok;
}

/* Under the lock: wait until the oldest pid listed came with a hand-over
 * after `before` (or none is left). */
static void fg__reaper_wait_locked(fg__reaper *r, uint64_t before)
{
    while (r->n > 0 && r->pids[0].handover <= before)
        pthread_cond_wait(&r->reaped, &r->lock);
}

/* Wait for the pids of every hand-over but the last `spared` ones. */
static void fg__reaper_drain_but(fg__reaper *r, uint64_t spared)
{
    fg__reaper_reset_in_child(r);
    pthread_mutex_lock(&r->lock);
    fg__reaper_wait_locked(r, r->handovers > spared ? r->handovers - spared : 0);
    pthread_mutex_unlock(&r->lock);
}

void fg__reaper_drain_older(fg__reaper *r)
{
    fg__reaper_drain_but(r, 1);
}

void fg__reaper_drain(fg__reaper *r)
{
    fg__reaper_drain_but(r, 0);
}

void fg__reaper_destroy(fg__reaper *r)
{
    if (fg__reaper_inherited(r)) { /* no thread here; the lock may be a stale copy */
        fg__reaper_release(r);
        return;
    }
    pthread_mutex_lock(&r->lock);
    r->quit = true;
    pthread_cond_signal(&r->work);
    pthread_mutex_unlock(&r->lock);
    if (r->running)
        pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->reaped);
    pthread_cond_destroy(&r->work);
    pthread_mutex_destroy(&r->lock);
    fg__reaper_release(r); /* the list is empty: the wake fd */
}
