/* reaper.h: reaps a façade's finished worker processes in the background
 * (reaper.c), so that a process-backend map returns once its workers said
 * "done" instead of after their exit.  See docs/design/process.md. */
#ifndef FG_REAPER_H
#define FG_REAPER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct fg__reaper_pid {
    pid_t pid;
    int pidfd;         /* readable once it ended; -1: none (waitpid is polled) */
    uint64_t handover; /* which fg__reaper_take it came with */
} fg__reaper_pid;

typedef struct fg__reaper {
    pthread_mutex_t lock;
    pthread_cond_t work;   /* pids were handed over to an idle thread, or quit */
    int wake;              /* eventfd: pids were handed over to a polling thread */
    pthread_cond_t reaped; /* one was */
    fg__reaper_pid *pids;  /* handed over, not reaped yet */
    size_t n, cap;
    uint64_t handovers;    /* fg__reaper_take calls so far */
    bool running, quit;
    pthread_t thread;
    unsigned generation;   /* the fork generation it belongs to */
} fg__reaper;

void fg__reaper_init(fg__reaper *r);
/* Join the thread after it reaped everything handed over. */
void fg__reaper_destroy(fg__reaper *r);
/* Take n workers that finished their work and are exiting, to reap them;
 * the first call starts the thread, whatever n.  false (nothing taken)
 * when no memory or thread could be had: the caller then waits for them
 * itself. */
bool fg__reaper_take(fg__reaper *r, const pid_t *pids, size_t n);
/* Wait until the workers of every hand-over but the last are reaped
 * (before a map forks: at most one earlier map's workers still exit). */
void fg__reaper_drain_older(fg__reaper *r);
/* Wait until every worker handed over is reaped. */
void fg__reaper_drain(fg__reaper *r);

#endif
