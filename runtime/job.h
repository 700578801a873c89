/* job.h: a task closure as the scheduler sees it.
 *
 * A job is the first member of a frame that also holds the task's function,
 * argument and completion latch: fg_join's frames live on the joining
 * thread's stack, group frames in a per-worker slab (group.c), injected
 * frames on the external caller's stack.  The scheduler only moves pointers
 * to the embedded fg__job and calls execute(); the frame's owner decides how
 * completion is reported.  No job is ever copied.
 */
#ifndef FG_JOB_H
#define FG_JOB_H

#include <stddef.h>

#include "base.h"

typedef struct fg__worker fg__worker;
typedef struct fg__job fg__job;

/* Runs the job on worker w (the thief, or the worker that took it from the
 * injector).  After the job's latch is set the frame may be gone. */
typedef void (*fg__job_fn)(fg__job *job, fg__worker *w);

struct fg__job {
    fg__job_fn execute;
    fg__job   *next; /* link while queued in the injector; unused in deques */
};

/* What a thief's attempt on one victim's queue gave (deques, ctx stacks). */
typedef enum fg__steal_result {
    FG__STEAL_SUCCESS = 0,
    FG__STEAL_EMPTY,  /* nothing to steal when we looked */
    FG__STEAL_ABORT,  /* lost a race with the owner or another thief: retry or move on */
} fg__steal_result;

static inline void fg__job_execute(fg__job *job, fg__worker *w)
{
    job->execute(job, w);
}

#endif
