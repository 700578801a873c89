/* group.c: fg_spawn / fg_sync.  See docs/design/join.md ("groups").
 *
 * A group's state lives in the caller's fg_group (its private words), on
 * the stack of the thread that syncs it: its OWNER.  Tasks are counted in
 * two places, so that the common case (the owner spawns, and runs what was
 * not stolen) needs no read-modify-write at all, as a join does not:
 *   pend  (plain, owner only) tasks the owner spawned minus those of them
 *         the owner ran itself;
 *   left  (atomic) tasks spawned by anyone else, minus every finish that is
 *         not the owner running its own spawn (so it may go negative: a
 *         thief finished one of the owner's), plus FG__SYNC_BIT once a sync
 *         waits.
 * Tasks not finished = pend + left (without the bit).  A worker is the
 * owner of groups that live on its own stack (fg__group_owned); every
 * other spawner counts in `left`.  A frame remembers how it was counted.
 *   sync:   done when pend + left == 0 (acquire load); otherwise
 *           old = fetch_add(pend + SYNC_BIT), and old + pend == 0 -> done;
 *   finish: old = fetch_sub(1); old == SYNC_BIT + 1 -> the last task of a
 *           waiting sync: set the latch.
 * I1  the latch is set at most once per sync, and only while sync waits:
 *     left holds SYNC_BIT + (tasks not finished) from the sync's add on.
 * I2  a task spawned by a task of the group is counted before its spawner
 *     finishes (the spawner still holds its own count), so the total cannot
 *     reach 0 while work of the group remains.
 * I3  a finishing task touches the group only before its fetch_sub (or its
 *     plain decrement of pend, on the owner, which is the syncer itself),
 *     or (as the last task) through fg__latch_set, because after either the
 *     syncing thread may return and pop the group off its stack.
 *
 * field  written by          read by   order / pairs with
 * pend, announced  owner     owner     plain (owner-only); once a sync has
 *                                      added pend to left, the owner's new
 *                                      spawns and finishes go to left too
 * left   spawners, finishers sync      acq_rel RMWs [group-left]
 * error  finishers (CAS 0->e) sync     relaxed; published by [group-left]
 * cancel any thread (set), sync  tasks,    relaxed (cancel.c): a skipped task
 *        (clear)                 sync      finishes like a run one
 * done   sync (init), last finisher    see latch.c
 *
 * I4  a sync on a worker first runs its own deque's newest jobs while tasks
 *     are not finished (fg__sync_run_own); when it reads 0 (acquire) every
 *     task has finished and no RMW is needed.  Only if the deque runs dry
 *     first does it announce SYNC_BIT and wait.  Group tasks it takes run
 *     inline in that loop (fg__sync_run_job), not through fg__worker_run.
 *
 * Frames come from the pool's slab (slab.c): no malloc in steady state.
 */
#include <assert.h>

#include "internal.h"
#include "testhooks.h"

#define FG__SYNC_BIT ((int64_t)1 << 62)
/* left is far from the bit unless a sync waits (it may be a little below 0). */
#define FG__SYNC_WAITING(left) ((left) > FG__SYNC_BIT / 2)

/* Does the group live on worker w's stack, i.e. will w sync it?  Then w
 * owns its count (see the top). */
static inline bool fg__group_owned(const fg__worker *w, const fg_group *g)
{
    return (const char *)g >= w->stack_lo && (const char *)g < w->stack_hi;
}

typedef struct fg__group_state {
    FG__ATOMIC(int64_t) left;
    FG__ATOMIC(int) error;
    fg_cancel_token cancel; /* fg_group_cancel; relaxed, see cancel.c */
    fg__latch done;
    int32_t pend;           /* the owner's own count (plain) */
    int32_t announced;      /* owner: pend went into left at a waiting sync */
} fg__group_state;

_Static_assert(sizeof(fg__group_state) <= sizeof(((fg_group *)0)->fg__private),
               "fg_group's private words must hold the group state");
_Static_assert(_Alignof(fg__group_state) <= _Alignof(uint64_t),
               "fg_group's private words must be aligned for the state");

typedef struct fg__spawn_frame {
    fg__job job;
    fg_fn fn;
    void *arg;
    fg__group_state *group;
    fg_pool *external; /* pool to leave when spawned by a non-worker */
    fg__worker *owner; /* counted in the owner's pend, else NULL (left) */
    fg__record_unit *unit; /* recording: the task's unit (record.h) */
} fg__spawn_frame;

size_t fg__group_frame_size(void)
{
    return sizeof(fg__spawn_frame);
}

static fg__group_state *fg__group_state_of(fg_group *g)
{
    return (fg__group_state *)(void *)g->fg__private;
}

static void fg__group_record_error(fg__group_state *st, int r)
{
    int none = 0;
    if (r != 0)
        fg__atomic_cas(&st->error, &none, r, FG__RELAXED, FG__RELAXED);
}

/* A task is finished: count it where its spawn was counted (see the top). */
static inline void fg__group_finish_one(fg__group_state *st, bool owners)
{
    if (owners && !st->announced) { /* the owner ran its own spawn */
        st->pend--;
        return;
    }
    /* [group-left] acq_rel: release publishes this task's effects and its
     * error to the syncer (which reads `left` with acquire via its
     * fetch_or, or through the latch); acquire makes us see the syncer's
     * latch initialisation when we read SYNC_BIT.  Nothing of st is touched
     * after this unless we are the last (I3). */
    int64_t old = fg__atomic_fetch_sub(&st->left, 1, FG__ACQ_REL);
    if (old == FG__SYNC_BIT + 1)
        fg__latch_set(&st->done);
}

/* Run one spawned task on w.  The frame goes back to w's cache first, hot
 * for the spawns the task itself makes; the task runs in its group's
 * cancellation scope unless the group was cancelled before it started. */
static inline void fg__spawn_run(fg__spawn_frame *f, fg__worker *w)
{
    fg_fn fn = f->fn;
    void *arg = f->arg;
    fg__group_state *st = f->group;
    fg_pool *external = f->external;
    bool owners = f->owner == w; /* counted in w's pend, and w runs it */
    fg__slab_put(&w->frames, &w->pool->frames, f);
    if (__builtin_expect(!fg__cancel_is_set(&st->cancel), 1)) {
        const fg_cancel_token *outer = fg__scope_swap(&st->cancel);
        int r = fn(arg);
        fg__scope = outer;
        if (__builtin_expect(r != 0, 0))
            fg__group_record_error(st, r);
    }
    fg__group_finish_one(st, owners);
    FG__PERTURB(); /* the syncer may return and destroy the pool now */
    if (external != NULL)
        fg__pool_leave(external);
}

static void fg__spawn_execute(fg__job *job, fg__worker *w)
{
    fg__spawn_run(FG__CONTAINER_OF(job, fg__spawn_frame, job), w);
}

/* trace.c names the slices of these jobs. */
const fg__job_fn fg__spawn_fn = fg__spawn_execute;

fg__record_unit *fg__spawn_unit(fg__job *job, bool *root)
{
    fg__spawn_frame *f = FG__CONTAINER_OF(job, fg__spawn_frame, job);
    *root = f->external != NULL; /* spawned from outside: no parent */
    return f->unit;
}

int fg_group_init(fg_group *g, fg_pool *pool)
{
    if (g == NULL || pool == NULL)
        return FG_EINVAL;
    *g = (fg_group)FG_GROUP_INIT(pool);
    return 0;
}

/* No frame could be had: run the task now so it is not lost. */
static int fg__spawn_inline(fg_pool *p, fg__group_state *st, fg_fn fn, void *arg)
{
    if (!fg__cancel_is_set(&st->cancel)) {
        const fg_cancel_token *outer = fg__scope_swap(&st->cancel);
        fg__group_record_error(st, fg__run_on_caller(p, fn, arg));
        fg__scope = outer;
    }
    return 0;
}

int fg_spawn(fg_group *g, fg_fn fn, void *arg)
{
    if (g == NULL || g->pool == NULL || fn == NULL)
        return FG_EINVAL;
    fg_pool *p = g->pool;
    fg__group_state *st = fg__group_state_of(g);
    fg__worker *w = fg__worker_of(p);
    if (w != NULL) {
        fg__spawn_frame *f = fg__slab_get(&w->frames, &p->frames);
        if (f == NULL)
            return fg__spawn_inline(p, st, fn, arg);
        /* The owner counts its own spawns, except while its sync waits:
         * then pend is already in left, and so must be every new task. */
        fg__worker *owner = fg__group_owned(w, g) && !st->announced ? w : NULL;
        *f = (fg__spawn_frame){ { fg__spawn_execute, NULL }, fn, arg, st, NULL, owner, NULL };
        if (__builtin_expect(w->record != NULL, 0))
            f->unit = fg__record_spawn_group(w->record, st);
        if (owner != NULL)
            st->pend++;
        else
            fg__atomic_fetch_add(&st->left, 1, FG__RELAXED); /* ordered by the push */
        int pushed = fg__own_push(w, &f->job);
        if (pushed < 0) {
            fg__spawn_execute(&f->job, w);
            return 0;
        }
        if (pushed > 0)
            fg__sleep_notify_push(&p->sleep, p);
        return 0;
    }
    if (!fg__pool_live(p))
        return FG_EINVAL;
    if (fg__pool_dead(p))
        return fg__spawn_inline(p, st, fn, arg); /* fork.c I1 */
    if (!fg__pool_enter(p))
        return FG_ESHUTDOWN;
    fg__spawn_frame *f = fg__slab_get_shared(&p->frames);
    if (f == NULL) {
        fg__pool_leave(p);
        return fg__spawn_inline(p, st, fn, arg);
    }
    *f = (fg__spawn_frame){ { fg__spawn_execute, NULL }, fn, arg, st, p, NULL, NULL };
    fg__atomic_fetch_add(&st->left, 1, FG__RELAXED); /* ordered by the injector lock */
    fg__pool_inject(p, &f->job);
    return 0;
}

/* fg__worker_run for a job a sync took from its own deque.  A spawned
 * task sets its own scope over the worker loop's NULL one, so when nobody
 * records or traces it is run directly, inlined here. */
static inline void fg__sync_run_job(fg__worker *w, fg__job *job)
{
    if (job->execute == fg__spawn_execute && w->record == NULL && w->trace == NULL) {
        FG__STAT_INC(w, tasks_run);
        fg__spawn_run(FG__CONTAINER_OF(job, fg__spawn_frame, job), w);
    } else {
        fg__worker_run(w, job);
    }
}

/* Worker: run our own newest jobs (usually this group's spawns) until the
 * group is done or the deque is empty.  When nothing was stolen the count
 * is then 0 and the sync needs no read-modify-write at all. */
static bool fg__sync_run_own(fg__worker *w, fg__group_state *st)
{
    for (;;) {
        /* [group-left] acquire: a total of 0 makes every finished task's
         * effects and error visible (pairs with fg__group_finish_one). */
        if (st->pend + fg__atomic_load(&st->left, FG__ACQUIRE) == 0)
            return true;
        fg__job *job = fg__own_take(w);
        if (job == NULL)
            return false;
        fg__sync_run_job(w, job);
    }
}

/* Wait for the tasks still running elsewhere: announce the sync in `left`
 * and sleep on the latch unless the count was already 0. */
static void fg__sync_wait(fg_group *g, fg__group_state *st, fg__worker *w)
{
    fg__latch_init(&st->done, w);
    int64_t pend = st->pend;
    st->announced = 1; /* from here on every finish counts in left */
    /* [group-left] acq_rel: release publishes the latch initialisation to
     * the last finisher; acquire makes finished tasks' effects visible. */
    int64_t old = fg__atomic_fetch_add(&st->left, pend + FG__SYNC_BIT, FG__ACQ_REL) + pend;
    if (old != 0 && w != NULL) {
        fg__worker_wait_until(w, &st->done);
    } else if (old != 0) {
        /* Keep destroy waiting while we do: tasks spawned by this group's
         * tasks on workers are not counted on their own (pool.c I1). */
        fg__pool_retain(g->pool);
        fg__latch_wait_blocking(&st->done);
        fg__pool_leave(g->pool);
    }
    fg__atomic_store(&st->left, 0, FG__RELAXED); /* clear SYNC_BIT for reuse */
    st->pend = 0;
    st->announced = 0;
}

int fg_sync(fg_group *g)
{
    if (g == NULL || g->pool == NULL)
        return FG_EINVAL;
    fg__group_state *st = fg__group_state_of(g);
    int64_t left = fg__atomic_load(&st->left, FG__ACQUIRE);
    if (FG__SYNC_WAITING(left))
        return FG_EBUSY; /* best effort: another sync is waiting */
    fg__worker *w = fg__worker_of(g->pool);
    if (w != NULL && __builtin_expect(w->record != NULL, 0))
        fg__record_sync_group(w->record, st);
    left += st->pend;
    if (left != 0 && w == NULL && !fg__pool_live(g->pool))
        return FG_EINVAL; /* its tasks cannot be running: the pool is gone */
    if (left != 0 && !(w != NULL && fg__sync_run_own(w, st)))
        fg__sync_wait(g, st, w);
    /* Every task has finished: no writer of `error` is left. */
    int err = fg__atomic_load(&st->error, FG__RELAXED);
    if (err != 0)
        fg__atomic_store(&st->error, 0, FG__RELAXED);
    if (fg__cancel_is_set(&st->cancel)) {
        fg_cancel_reset(&st->cancel);
        if (err == 0)
            err = FG_ECANCELED;
    }
    return err;
}

int fg_group_cancel(fg_group *g)
{
    if (g == NULL)
        return FG_EINVAL;
    fg_cancel(&fg__group_state_of(g)->cancel);
    return 0;
}
