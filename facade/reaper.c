/* reaper.c: one thread per fg_parallel, started at its first process-
 * backend map, that reaps the workers a map has finished with.  See
 * docs/design/process.md ("Returning before the exit").
 *
 * A worker's exit tears down its copy of the caller's page tables, about
 * as long as the fork that made them (0.8 ms for 100 MiB resident).  A map
 * whose workers all said "done" in shared memory has its results, so it
 * hands their pids over and returns; the thread blocks in waitpid for
 * exactly those pids (never -1: the application's other children are not
 * ours), so a worker is reaped as soon as it has ended.
 *
 * Bound: before a map forks, it waits for the workers of every earlier
 * hand-over but the last one.  So the last map's workers may finish
 * exiting while the next map forks (the two overlap on separate cores),
 * but no more than one earlier map's workers are ever still there, and
 * fg_parallel_close waits for all of them.
 *
 * No signal handler is involved, and the thread blocks every signal, so
 * the application's own handling of SIGCHLD and the rest is untouched.
 * Everything is under `lock`; the thread waits on `work`, drainers on
 * `reaped`.  The thread calls only waitpid and the lock while the caller
 * may fork: a child never inherits a lock or allocator state it held.
 *
 * Across fork(): the child has no thread and none of these pids are its
 * children; its copy is reset at its first use (generation).
 */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>

#include "reaper.h"
#include "seam.h"

void fg__reaper_init(fg__reaper *r)
{
    fg__fork_register(); /* so that a forked child sees a new generation */
    *r = (fg__reaper){ .generation = fg__fork_generation() };
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->work, NULL);
    pthread_cond_init(&r->reaped, NULL);
}

/* A copy inherited across fork() is another process's reaper. */
static bool fg__reaper_inherited(const fg__reaper *r)
{
    return r->generation != fg__fork_generation();
}

static void fg__reaper_reset_in_child(fg__reaper *r)
{
    if (fg__reaper_inherited(r)) {
        fg__free(r->pids);
        fg__reaper_init(r);
    }
}

static void *fg__reaper_main(void *arg)
{
    fg__reaper *r = arg;
    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (r->n == 0 && !r->quit)
            pthread_cond_wait(&r->work, &r->lock);
        if (r->n == 0)
            break;
        pid_t pid = r->pids[0].pid; /* the oldest; listed until reaped */
        pthread_mutex_unlock(&r->lock);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
        pthread_mutex_lock(&r->lock);
        r->n--;
        memmove(r->pids, r->pids + 1, r->n * sizeof *r->pids); /* a few */
        pthread_cond_broadcast(&r->reaped);
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
    if (!r->running)
        r->running = fg__thread_create(&r->thread, fg__reaper_main, r) == 0;
    return r->running;
}

bool fg__reaper_take(fg__reaper *r, const pid_t *pids, size_t n)
{
    fg__reaper_reset_in_child(r);
    pthread_mutex_lock(&r->lock);
    bool ok = fg__reaper_ready(r, n);
    if (ok) {
        r->handovers++;
        for (size_t i = 0; i < n; i++)
            r->pids[r->n++] = (fg__reaper_pid){ pids[i], r->handovers };
        pthread_cond_signal(&r->work);
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
        fg__free(r->pids);
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
    fg__free(r->pids);
}
