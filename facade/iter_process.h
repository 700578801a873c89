/* iter_process.h: the process backend's runner for an iterator (iter.c).
 * See iter_process.c. */
#ifndef FG_ITER_PROCESS_H
#define FG_ITER_PROCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "forage.h"

typedef struct fg__iter_proc fg__iter_proc;

/* A batch back from the workers. */
typedef struct fg__iter_proc_done {
    size_t slot;      /* its window slot */
    size_t ran;       /* results [0, ran) are in the slot's buffer */
    int code;         /* nonzero: task start + ran failed with it (a task's
                         code, FG_ECRASHED, FG_ETIMEDOUT) */
    int term_signal, exit_status; /* how its worker died */
    bool skipped;     /* not run: past a failure, or cancelled */
} fg__iter_proc_done;

/* Map the region for `nslots` window slots of `cap` results and fork n_jobs
 * workers running d; FG_ENOMEM or FG_EAGAIN (a fork failed) with nothing
 * run and nothing left behind. */
int fg__iter_proc_open(fg__iter_proc **out, fg_delayed d, size_t begin, int n_jobs,
                       size_t nslots, size_t cap, double timeout);
/* The result buffer of a window slot (cap results). */
char *fg__iter_proc_buf(fg__iter_proc *p, size_t slot);
/* Queue the batch [start, start + len) (relative, len <= cap) in `slot`. */
void fg__iter_proc_send(fg__iter_proc *p, size_t slot, size_t start, size_t len);
/* One thread at a time: wait a few ms for a batch to finish, reap workers
 * that died, kill tasks past the timeout; pass the cancel token's state. */
void fg__iter_proc_watch(fg__iter_proc *p, bool cancelled);
/* The same thread: the next batch back, if any. */
bool fg__iter_proc_collect(fg__iter_proc *p, fg__iter_proc_done *out);
/* The same thread: task k failed; skip and kill what starts past it. */
void fg__iter_proc_fail(fg__iter_proc *p, size_t k);
/* Workers alive. */
int fg__iter_proc_live(const fg__iter_proc *p);
/* Kill and reap the workers, unmap, free; returns the tasks that ran. */
size_t fg__iter_proc_close(fg__iter_proc *p);

#endif
