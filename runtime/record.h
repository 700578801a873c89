/* record.h: the task graph of a run, recorded per worker and written at
 * pool destroy in the format of docs/design/record.md.  See record.c.
 *
 * Recording is switched on per pool (fg_config.record or $FORAGE_RECORD).
 * Off, the only cost is one load of w->record and a branch never taken, in
 * fg_join and where the scheduler runs a job; ctx tasks pay nothing: while
 * recording, their context points the inline spawn and sync at the slow
 * paths (the way spilling does), where the hooks sit.
 */
#ifndef FG_RECORD_H
#define FG_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "job.h"

#if defined(__x86_64__) || defined(__i386__)
#  include <x86intrin.h>
#endif

typedef struct fg_pool fg_pool;
typedef struct fg__record fg__record; /* the pool's side (record.c) */

/* Unit kinds and flags, as numbered in the file (docs/design/record.md);
 * facade/seam.h repeats CHUNK and BATCH for fg__record_label. */
enum fg__record_kind {
    FG__REC_ROOT = 0,  /* a whole call from outside the pool */
    FG__REC_JOIN_A,    /* fg_join's a, called at once */
    FG__REC_JOIN_B,    /* fg_join's b, spawned */
    FG__REC_GROUP,     /* fg_spawn */
    FG__REC_CTX,       /* fg_ctx_spawn, typed or not */
    FG__REC_CHUNK,     /* an fg_parallel_for chunk (relabelled join half) */
    FG__REC_BATCH,     /* a façade batch (relabelled join half) */
    FG__REC_OTHER,     /* any other job run at top level (broadcasts) */
};
enum { FG__REC_CALL = 1, FG__REC_STOLEN = 2 };

/* A unit in memory: 32 bytes, 32-byte aligned, in a chunk of its
 * spawner's worker.  `link` is the parent's address (0: a root;
 * FG__REC_LOST_PARENT: the parent has no record) with the kind in bits 0-2
 * and the flags in bits 3-4. */
typedef struct fg__record_unit {
    uintptr_t link;
    uint64_t work;     /* ticks of its own work; ns once written */
    uint64_t spawn_at; /* ticks of the parent's work; a root: its start tick */
    uint64_t sync_at;  /* FG__REC_UNSYNCED until its parent syncs it */
} fg__record_unit;

#define FG__REC_LOST_PARENT ((uintptr_t)32)
#define FG__REC_UNSYNCED UINT64_MAX

/* The unit running on a worker, saved while a nested one runs. */
typedef struct fg__record_frame {
    fg__record_unit *cur; /* NULL: no record (lost) */
    uint64_t work;        /* its work so far, ticks */
    uint32_t pending;     /* where its pending group spawns start */
    bool running;         /* its clock runs (false while it waits) */
} fg__record_frame;

/* A group task spawned by the running unit and not yet synced. */
typedef struct fg__record_pending {
    fg__record_unit *unit;
    const void *group;
} fg__record_pending;

/* One worker's recorder.  Owner-only: units reached through `cur` and the
 * chunks may be written by other workers only as record.c's header says. */
typedef struct fg__recorder {
    fg__record_frame now;          /* the running unit */
    uint64_t mark;                 /* the clock at the last boundary (ticks;
                                      may run ahead of the TSC, see record.c) */
    uint32_t reuse;                /* boundaries that may take `mark` as now:
                                      set by fg_join, which knows that its
                                      next boundaries follow at once */
    uint32_t left;                 /* boundaries until the clock is read */
    uint32_t span;                 /* boundaries in this sample (read to read) */
    uint64_t step;                 /* ticks a boundary between reads adds */
    uint64_t read;                 /* the TSC at the last read */
    fg__record_unit *free, *end;   /* the current chunk's unused units */
    struct fg__record_chunk *chunks; /* newest first */
    fg__record *shared;            /* the pool's side: the unit budget */
    uint64_t lost;                 /* units that found no room */
    uint64_t first_root, last_root; /* ticks: first root start, last root end */
    fg__record_pending *pending;   /* [0, npending), owner-only, growable */
    uint32_t npending, cap_pending;
    int index;                     /* the worker's */
} fg__recorder;

/* The clock of recordings: the TSC on x86 (invariant on the machines forage
 * targets, converted to ns at destroy), else CLOCK_MONOTONIC. */
static inline uint64_t fg__record_tick(void)
{
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    return fg__clock_ns();
#endif
}

/* Worker w runs job through the scheduler, as a unit: the unit the job
 * carries (a spawned task) or a new root (a call from outside). */
void fg__record_run(fg__worker *w, fg__job *job);

/* ---------------------------------------------- the hot path, inline
 * (record.c's header says why it is correct; docs/design/record.md, "The
 * clock", how time is charged). */

/* Close a sample: read the clock (record.c). */
uint64_t fg__record_read(fg__recorder *r);
/* The current chunk is used up: the next (record.c); NULL when none. */
fg__record_unit *fg__record_alloc_chunk(fg__recorder *r);

/* Now, for a boundary: the last one when fg_join said its boundaries come
 * back to back (`reuse`); between reads, the last plus one step. */
static inline uint64_t fg__record_now(fg__recorder *r)
{
    if (r->reuse > 0) {
        r->reuse--;
        return r->mark;
    }
    if (r->left > 1) {
        r->left--;
        return r->mark + r->step;
    }
    return fg__record_read(r);
}

static inline void fg__record_charge(fg__recorder *r, uint64_t now)
{
    if (r->now.running)
        r->now.work += now - r->mark;
    r->mark = now;
}

/* The running unit spawns a child of `kind` (fg__record_spawn): its record
 * (NULL when none could be had), with spawn_at = now in the parent's work.
 * It syncs u (may be NULL): sync_at = now (fg__record_sync).  u (may be
 * NULL) starts running on this worker (fg__record_enter); leave ends it;
 * saved lives on the caller's stack between the two.  The running unit
 * calls a child of `kind` at once (fg__record_call, flag CALL): spawn and
 * enter in one; leave with fg__record_leave. */
static inline fg__record_unit *fg__record_alloc(fg__recorder *r)
{
    return FG__LIKELY(r->free < r->end) ? r->free++ : fg__record_alloc_chunk(r);
}

static inline uintptr_t fg__record_parent(const fg__recorder *r)
{
    return r->now.cur != NULL ? (uintptr_t)r->now.cur : FG__REC_LOST_PARENT;
}

static inline fg__record_unit *fg__record_child(fg__recorder *r, int kind, int flags)
{
    fg__record_unit *u = fg__record_alloc(r);
    if (u != NULL)
        *u = (fg__record_unit){ fg__record_parent(r) | (uintptr_t)kind | ((uintptr_t)flags << 3),
                                0, r->now.work,
                                (flags & FG__REC_CALL) ? r->now.work : FG__REC_UNSYNCED };
    return u;
}

static inline fg__record_unit *fg__record_spawn(fg__recorder *r, int kind)
{
    fg__record_charge(r, fg__record_now(r));
    return fg__record_child(r, kind, 0);
}

static inline void fg__record_sync(fg__recorder *r, fg__record_unit *u)
{
    fg__record_charge(r, fg__record_now(r));
    if (u != NULL)
        u->sync_at = r->now.work;
}

/* Copy a frame word by word.  Not a struct copy: compilers make it one
 * 16-byte load, which cannot be forwarded from the narrower stores that
 * just wrote the frame, and that stall was the largest cost of a unit. */
static inline void fg__record_frame_copy(fg__record_frame *d, const fg__record_frame *s)
{
    fg__record_unit *cur = s->cur;
    uint64_t work = s->work;
#if defined(__GNUC__)
    __asm__("" : "+r"(cur), "+r"(work)); /* two scalar words */
#endif
    d->cur = cur;
    d->work = work;
    d->pending = s->pending;
    d->running = s->running;
}

static inline void fg__record_enter_at(fg__recorder *r, fg__record_unit *u, fg__record_frame *saved,
                                       uint64_t now)
{
    fg__record_charge(r, now);
    fg__record_frame_copy(saved, &r->now);
    r->now.cur = u;
    r->now.work = 0;
    r->now.pending = r->npending;
    r->now.running = true;
}

static inline void fg__record_enter(fg__recorder *r, fg__record_unit *u, fg__record_frame *saved)
{
    fg__record_enter_at(r, u, saved, fg__record_now(r));
}

static inline void fg__record_call(fg__recorder *r, int kind, fg__record_frame *saved)
{
    uint64_t now = fg__record_now(r);
    fg__record_charge(r, now);
    fg__record_enter_at(r, fg__record_child(r, kind, FG__REC_CALL), saved, now);
}

static inline void fg__record_leave_at(fg__recorder *r, const fg__record_frame *saved, uint64_t now)
{
    fg__record_charge(r, now);
    if (r->now.cur != NULL)
        r->now.cur->work = r->now.work;
    r->npending = r->now.pending; /* group spawns never synced: synced at its end */
    fg__record_frame_copy(&r->now, saved);
}

static inline void fg__record_leave(fg__recorder *r, const fg__record_frame *saved)
{
    fg__record_leave_at(r, saved, fg__record_now(r));
}

/* A wait starts (the running unit's clock stops) and ends. */
bool fg__record_pause(fg__recorder *r);
void fg__record_resume(fg__recorder *r, bool was_running);
/* Groups: a spawn remembered for the group's sync, and the sync. */
fg__record_unit *fg__record_spawn_group(fg__recorder *r, const void *group);
void fg__record_sync_group(fg__recorder *r, const void *group);

/* group.c: the unit a group task's job carries; *root when it was spawned
 * from outside the pool. */
struct fg__record_unit *fg__spawn_unit(fg__job *job, bool *root);
/* ctx.c: send the worker's inline spawns and syncs to the slow paths. */
struct fg__ctx_stack;
void fg__ctx_divert(struct fg__ctx_stack *st);
extern const fg__job_fn fg__ctx_root_fn;

/* Pool create (before the threads start): when path is non-NULL, open the
 * file and give every worker a recorder.  Errors: bad_path_err if the file
 * cannot be opened (fg_last_error_detail says why), FG_ENOMEM.  Teardown
 * (after the joins): write the file if `write`, free everything. */
int fg__record_start(fg_pool *p, const char *path, int bad_path_err, uint64_t units);
void fg__record_finish(fg_pool *p, int write);

#endif
