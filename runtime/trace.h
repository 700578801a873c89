/* trace.h: per-worker event rings, written as Chrome trace JSON when the
 * pool is destroyed.  See trace.c and docs/design/trace.md.
 *
 * Tracing is compiled in and switched on per pool (fg_config.trace or
 * $FORAGE_TRACE).  Off, every hook below costs one load of w->trace and a
 * branch that is never taken. */
#ifndef FG_TRACE_H
#define FG_TRACE_H

#include <stdint.h>

#include "job.h"

typedef struct fg_pool fg_pool;
typedef struct fg__trace fg__trace; /* the pool's side: file, capacity (trace.c) */

enum fg__trace_type {
    FG__TRACE_RUN,    /* a job run through fg__worker_run: a slice */
    FG__TRACE_STEAL,  /* a successful steal; arg: the victim */
    FG__TRACE_INJECT, /* a job taken from the injector */
    FG__TRACE_SLEEP,  /* a park in the kernel: ts and duration */
    FG__TRACE_WAKE,   /* this worker woke a parked one; arg: its index */
};

typedef struct fg__trace_event {
    uint64_t ts_ns;  /* since the pool's epoch: start of a run or sleep, else the instant */
    uint64_t dur_ns; /* runs and sleeps, else 0 */
    uint32_t arg;    /* run: nesting depth (0: top level); steal: victim; wake: woken */
    uint8_t type;    /* enum fg__trace_type */
    uint8_t kind;    /* run: the job's type (trace.c, fg__trace_kind_names) */
} fg__trace_event;

/* One worker's ring.  Owner-only: only its worker writes it, and the
 * destroying thread reads it after pthread_join (which orders the two). */
typedef struct fg__trace_ring {
    uint64_t next;     /* events ever recorded; the next slot is next & mask */
    uint64_t mask;     /* capacity - 1, capacity a power of two */
    uint64_t epoch_ns; /* the pool's creation time, fg__clock_ns() */
    uint32_t depth;    /* jobs running on this worker, one inside another */
    fg__trace_event events[];
} fg__trace_ring;

/* join.c and group.c export their job functions so that a slice can be
 * named after the kind of job it ran. */
extern const fg__job_fn fg__join_external_fn, fg__spawn_fn;
extern const fg_ctx_fn fg__join_ctx_fn; /* join.c: fg_join's b on a ctx stack */
/* group.c: a group task on its owner's ctx stack (run by thieves in
 * place, or by the owner's pops: ctx.c, fg__ctx_hook_loose) */
void fg__group_ctx_fn(fg_ctx *cx, void *block);

void fg__trace_note_cold(fg__trace_ring *r, enum fg__trace_type type, uint32_t arg);
void fg__trace_run_cold(fg__trace_ring *r, fg__job *job, fg__worker *w);
void fg__trace_sleep_cold(fg__trace_ring *r, uint64_t parked_at_ns);

/* Worker w: an instant event (steal, injector take, wake). */
static inline void fg__trace_note(fg__trace_ring *r, enum fg__trace_type type, uint32_t arg)
{
    if (__builtin_expect(r != NULL, 0))
        fg__trace_note_cold(r, type, arg);
}

/* Worker w: run job, as one slice when tracing. */
static inline void fg__trace_execute(fg__trace_ring *r, fg__job *job, fg__worker *w)
{
    if (__builtin_expect(r != NULL, 0))
        fg__trace_run_cold(r, job, w);
    else
        fg__job_execute(job, w);
}

/* Worker: the time to pass to fg__trace_sleep once it wakes (0 when off). */
uint64_t fg__trace_clock_cold(const fg__trace_ring *r);
static inline uint64_t fg__trace_clock(const fg__trace_ring *r)
{
    return __builtin_expect(r != NULL, 0) ? fg__trace_clock_cold(r) : 0;
}
static inline void fg__trace_sleep(fg__trace_ring *r, uint64_t parked_at_ns)
{
    if (__builtin_expect(r != NULL, 0))
        fg__trace_sleep_cold(r, parked_at_ns);
}

/* Pool create (before the threads start): open the file and give every
 * worker a ring when path is non-NULL.  Errors: bad_path_err if the file
 * cannot be opened, FG_ENOMEM.  Pool teardown (after the joins): write the
 * JSON if `write`, then free everything; safe after a partial start. */
int fg__trace_start(fg_pool *p, const char *path, int bad_path_err, uint64_t events);
void fg__trace_finish(fg_pool *p, int write);

/* The file of the k-th pool (from 0) that writes to `path`: path itself
 * for k = 0, else path with ".k" before its extension (traces, recordings). */
void fg__numbered_path(char *out, size_t size, const char *path, unsigned k);

#endif
