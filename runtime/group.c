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
 * lo     owner (spawn, sync) owner     plain: 1 + the lowest ctx slot of a
 *                                      spawn since the last sync, 0: none
 * POP_BIT in left: owner's sync, while it waits for a thief during its
 *        pops; read by a second sync (FG_EBUSY), relaxed
 *
 * I4  a sync on a worker first runs its own tasks: those on its ctx stack
 *     (fg__sync_pop), then its own deque's newest jobs while tasks are not
 *     finished (fg__sync_run_own); when it reads 0 (acquire) every task has
 *     finished and no RMW is needed.  Only if both run dry first does it
 *     announce SYNC_BIT and wait.  Group tasks it takes run inline in that
 *     loop, not through fg__worker_run.
 * I5  (ctx slots) the owner, in the job that holds the group (below the
 *     frame of its innermost fg__worker_run) and before its sync announces
 *     itself, stores {fn, arg, group} into its ctx stack (ctx_stack.c) as a
 *     loose task, counted in pend; anyone else, and the owner otherwise,
 *     takes a frame (slab.c: no malloc in steady state).  The job syncs the
 *     group before it returns, so the slots never outlive it; a task a
 *     thief ran in its slot counts its finish in `left` like any thief's.
 *     A sync pops its tasks newest first (fg__sync_pop); any ctx sync that
 *     finds a loose task above its own slot runs it first (ctx.c); a sync
 *     whose tasks lie under a later ctx slot runs them in place and leaves
 *     done markers (fg__sync_unbury, ctx_stack.c).  docs/design/join.md,
 *     "Groups on the ctx stack".
 * I6  (inline paths) fg_spawn and fg_sync are also forage.h macros that do
 *     the two fast paths below in the caller: the owner is the thread whose
 *     fg__tls_cx (worker.c) belongs to the group's pool and whose stack
 *     holds the group below its innermost job frame (cx->fg__job_sp, kept
 *     by fg__worker_run; NULL while recording or tracing).  Spawn: the
 *     same stores as fg_spawn's (no `announced` check: the owner's sync
 *     announces only while it waits, and every job it runs meanwhile has a
 *     frame below the group).  Sync: pop the private slots of this group
 *     and run each in its scope (cx->fg__scope), then the same final check
 *     as fg_sync; anything else calls the functions, which resume from the
 *     state the inline code left.  forage.h's fg__group_words and
 *     FG__GROUP_* mirror fg__group_state and fg__group_block (asserted
 *     below): they are ABI.  docs/design/join.md, "Inline group paths".
 */
#include <assert.h>
#include <string.h>

#include "internal.h"
#include "testhooks.h"

#define FG__SYNC_BIT ((int64_t)1 << 62)
/* In left while the owner's sync waits for a thief of a slot during its
 * pops (fg__sync_pop_slow): a second sync then sees one in progress. */
#define FG__POP_BIT ((int64_t)1 << 60)
/* left is far from the bit unless a sync waits (it may be a little below 0). */
#define FG__SYNC_WAITING(left) ((left) > FG__POP_BIT / 2)

/* Does the group live on worker w's stack, i.e. will w sync it?  Then w
 * owns its count (see the top). */
static inline bool fg__group_owned(const fg__worker *w, const void *g)
{
    return (const char *)g >= w->stack_lo && (const char *)g < w->stack_hi;
}

/* Does the group live in the job w is running now (below the frame of its
 * fg__worker_run)?  Then its sync comes before the job returns, and its
 * tasks may go on w's ctx stack (see the top).  job_sp is NULL outside
 * jobs and while recording or tracing, which see group tasks as frames. */
static inline bool fg__group_in_job(const fg__worker *w, const fg_group *g)
{
    return (const char *)g >= w->stack_lo && (const char *)g < w->ctx_stack.cx.fg__job_sp;
}

typedef struct fg__group_state {
    FG__ATOMIC(int64_t) left;
    FG__ATOMIC(int) error;
    fg_cancel_token cancel; /* fg_group_cancel; relaxed, see cancel.c */
    uint32_t lo;            /* owner: 1 + the lowest ctx slot pushed since
                               the last sync, 0 for none */
    fg__latch done;
    int32_t pend;           /* the owner's own count (plain) */
    int32_t announced;      /* owner: pend went into left at a waiting sync */
} fg__group_state;

_Static_assert(sizeof(fg__group_state) <= sizeof(((fg_group *)0)->fg__private),
               "fg_group's private words must hold the group state");
_Static_assert(_Alignof(fg__group_state) <= _Alignof(uint64_t),
               "fg_group's private words must be aligned for the state");
#ifdef fg_spawn /* the inline paths (forage.h) see the state through this */
#define FG__SAME_AT(a, b) (offsetof(fg__group_state, a) == offsetof(fg__group_words, b))
_Static_assert(FG__SAME_AT(left, fg__left) && FG__SAME_AT(error, fg__error) &&
               FG__SAME_AT(cancel, fg__cancel) && FG__SAME_AT(lo, fg__lo) &&
               FG__SAME_AT(pend, fg__pend) && FG__SAME_AT(announced, fg__announced) &&
               sizeof(fg__group_words) == sizeof(fg__group_state),
               "forage.h's fg__group_words must match the group state");
#endif

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

/* Run a task of group st in the group's cancellation scope, unless the
 * group was cancelled before it started, keep its error and count it
 * finished (owners: the owner runs its own spawn). */
static inline void fg__group_run(fg__group_state *st, fg_fn fn, void *arg, bool owners)
{
    if (__builtin_expect(!fg__cancel_is_set(&st->cancel), 1)) {
        const fg_cancel_token *outer = fg__scope_swap(&st->cancel);
        int r = fn(arg);
        fg__scope = outer;
        if (__builtin_expect(r != 0, 0))
            fg__group_record_error(st, r);
    }
    fg__group_finish_one(st, owners);
}

/* Run one spawned frame on w.  The frame goes back to w's cache first, hot
 * for the spawns the task itself makes. */
static inline void fg__spawn_run(fg__spawn_frame *f, fg__worker *w)
{
    fg_fn fn = f->fn;
    void *arg = f->arg;
    fg__group_state *st = f->group;
    fg_pool *external = f->external;
    bool owners = f->owner == w; /* counted in w's pend, and w runs it */
    fg__slab_put(&w->frames, &w->pool->frames, f);
    fg__group_run(st, fn, arg, owners);
    FG__PERTURB(); /* the syncer may return and destroy the pool now */
    if (external != NULL)
        fg__pool_leave(external);
}

/* ---------------------------------------------------- tasks in ctx slots
 * The owner's spawns into a group of its current job go on its ctx stack
 * as loose tasks: the block {fn, arg, group} is stored into slot top, with
 * no frame and no fence while the slot is private. */
typedef struct fg__group_block {
    fg_fn fn;
    void *arg;
    fg__group_state *group;
} fg__group_block;

_Static_assert(sizeof(fg__group_block) <= FG_CTX_ARG_MAX, "a group task's block fits a slot");
#ifdef fg_spawn
_Static_assert(offsetof(fg__group_block, fn) == FG__GROUP_FN &&
               offsetof(fg__group_block, arg) == FG__GROUP_ARG &&
               offsetof(fg__group_block, group) == FG__GROUP_GROUP,
               "forage.h's FG__GROUP_* must match the block");
#endif

/* A task that the inline sync ran failed (forage.h). */
void fg__group_fail(fg_group *g, int err)
{
    fg__group_record_error(fg__group_state_of(g), err);
}

/* The slot's function: a thief runs it in place, a ctx pop of the owner
 * (fg__ctx_hook_loose) with the owner's context.  The group lives on its
 * owner's stack, so fg__group_owned tells which. */
void fg__group_ctx_fn(fg_ctx *cx, void *p)
{
    fg__group_block b;
    memcpy(&b, p, sizeof b);
    fg__worker *w = FG__CONTAINER_OF(cx, fg__ctx_stack, cx)->owner;
    fg__group_run(b.group, b.fn, b.arg, fg__group_owned(w, b.group));
}

/* Count the task pushed at slot `at` in the owner's pend. */
static inline void fg__spawn_pushed(fg__group_state *st, uint32_t at)
{
    st->pend++;
    if (st->lo == 0 || at + 1 < st->lo)
        st->lo = at + 1;
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

/* Every spawn that does not go on the owner's ctx stack: a frame. */
__attribute__((noinline))
static int fg__spawn_frame_path(fg_group *g, fg_fn fn, void *arg)
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

/* The stack is full or diverted, or thieves asked: a worker asks every
 * other one before it parks (sleep.c), so a request may stand for several
 * sleepers.  While any sleeps, share each new task at once and wake one,
 * as a deque push would, and keep asking, so that the next spawn comes
 * here too (group tasks are often long: a worker left asleep would not
 * see them until the owner spawns again). */
__attribute__((noinline))
static int fg__spawn_push_slow(fg__worker *w, fg_group *g, fg_fn fn, void *arg)
{
    fg__ctx_stack *cs = &w->ctx_stack;
    fg__group_state *st = fg__group_state_of(g);
    uint32_t at = (uint32_t)(cs->cx.fg__top - cs->cx.fg__slots);
    bool sleepers = fg__atomic_load(&w->pool->sleep.sleepers, FG__RELAXED) != 0;
    if (fg__ctx_push_loose(cs, sleepers) != 0)
        return fg__spawn_frame_path(g, fn, arg); /* full, or spilled tasks on top */
    fg__spawn_pushed(st, at);
    if (sleepers && fg__atomic_load(&w->pool->sleep.sleepers, FG__RELAXED) != 0 &&
        fg__atomic_load(&cs->splitreq, FG__RELAXED) == 0)
        fg__atomic_store(&cs->splitreq, 1, FG__RELAXED); /* a hint, as thieves write it */
    return 0;
}

int (fg_spawn)(fg_group *g, fg_fn fn, void *arg)
{
    /* The owner, in the job that syncs the group, and its sync not waiting
     * yet.  A NULL pool is no worker's, so it goes the other way. */
    fg__worker *w = g != NULL ? fg__worker_of(g->pool) : NULL;
    if (!FG__LIKELY(w != NULL && fn != NULL && fg__group_in_job(w, g) &&
                    !fg__group_state_of(g)->announced))
        return fg__spawn_frame_path(g, fn, arg);
    /* The block goes into slot top first (the stack's spare slot when it is
     * full), as fg_ctx_spawn does; then one check decides. */
    fg__group_state *st = fg__group_state_of(g);
    fg_ctx *cx = &w->ctx_stack.cx;
    fg_ctx_slot *s = cx->fg__top;
    memcpy(s->fg__arg + offsetof(fg__group_block, fn), &fn, sizeof fn);
    memcpy(s->fg__arg + offsetof(fg__group_block, arg), &arg, sizeof arg);
    memcpy(s->fg__arg + offsetof(fg__group_block, group), &st, sizeof st);
    s->fg__fn = fg__group_ctx_fn;
    if (__builtin_expect(s >= cx->fg__limit || FG__CTX_SPLITREQ(cx) != 0, 0))
        return fg__spawn_push_slow(w, g, fn, arg);
    cx->fg__top = s + 1;
    fg__spawn_pushed(st, (uint32_t)(s - cx->fg__slots));
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

/* Another task is on top of w's ctx stack, and this group's tasks may be
 * buried below it (a fg_ctx_spawn after fg_spawn, then fg_sync first).
 * Look at the slots below *scan, down to lo, newest first: run the next one
 * still ours in place, leaving a done marker, and return true; mark those
 * a thief claimed (it runs them, and later pops wait for it); false when
 * none is left. */
__attribute__((noinline))
static bool fg__sync_unbury(fg__worker *w, fg__group_state *st, uint32_t lo, uint32_t *scan)
{
    fg__ctx_stack *cs = &w->ctx_stack;
    while (*scan > lo) {
        uint32_t i = --*scan;
        fg_ctx_slot *s = &cs->cx.fg__slots[i];
        fg__group_block b; /* nobody writes a pushed block: reading is safe */
        if (s->fg__fn != fg__group_ctx_fn || cs->meta[i].marker)
            continue;
        memcpy(&b, s->fg__arg, sizeof b);
        if (b.group != st)
            continue; /* another group's: its own sync or a pop runs it */
        if (fg__ctx_claim(cs, i)) {
            fg__ctx_mark_done(cs, i, true);
            fg__group_run(st, b.fn, b.arg, true);
            return true;
        }
        fg__ctx_mark_done(cs, i, false);
    }
    return false;
}

/* Owner: pop the group task on top when it is shared or tasks are
 * spilled or marked (fg__ctx_pop), and run it here unless a thief did.  A
 * shared one may have a thief to wait for: meanwhile POP_BIT in `left`
 * tells a second sync of st that one is in progress (FG_EBUSY, best
 * effort, as SYNC_BIT does while fg__sync_wait waits); relaxed, a hint. */
__attribute__((noinline))
static void fg__sync_pop_slow(fg__ctx_stack *cs, fg__group_state *st)
{
    fg__group_block b;
    bool shared = cs->cx.fg__top - 1 < cs->cx.fg__split;
    if (shared)
        fg__atomic_fetch_add(&st->left, FG__POP_BIT, FG__RELAXED);
    bool ours = fg__ctx_pop(cs, &b, sizeof b);
    if (shared)
        fg__atomic_fetch_sub(&st->left, FG__POP_BIT, FG__RELAXED);
    if (ours)
        fg__group_run(b.group, b.fn, b.arg, true);
}

/* Owner: take the group's tasks off w's ctx stack, newest first, and run
 * them here; group tasks of other groups found on top run too (they are
 * this worker's own, pushed by tasks of this group).  A task a thief took
 * is waited for when it is on top (the slot is reused after), counted by
 * the group otherwise.  The fast path is fg_ctx_sync's: a private slot and
 * nobody asking, then a plain pop and a direct call. */
static void fg__sync_pop(fg__worker *w, fg__group_state *st)
{
    fg__ctx_stack *cs = &w->ctx_stack;
    fg_ctx *cx = &cs->cx;
    uint32_t lo = st->lo - 1, scan = UINT32_MAX;
    fg_ctx_slot *floor = cx->fg__slots + lo;
    for (;;) {
        fg_ctx_slot *s = cx->fg__top - 1;
        if (s < floor)
            break;
        if (s->fg__fn == fg__group_ctx_fn) {
            if (FG__LIKELY(s >= cx->fg__split && FG__CTX_SPLITREQ(cx) == 0)) {
                fg_fn fn;
                void *arg;
                fg__group_state *group;
                memcpy(&fn, s->fg__arg + offsetof(fg__group_block, fn), sizeof fn);
                memcpy(&arg, s->fg__arg + offsetof(fg__group_block, arg), sizeof arg);
                memcpy(&group, s->fg__arg + offsetof(fg__group_block, group), sizeof group);
                cx->fg__top = s;
                fg__group_run(group, fn, arg, true);
            } else {
                fg__sync_pop_slow(cs, st);
            }
            continue;
        }
        if (scan > (uint32_t)(s - cx->fg__slots))
            scan = (uint32_t)(s - cx->fg__slots);
        if (!fg__sync_unbury(w, st, lo, &scan))
            break;
    }
    st->lo = 0;
}

/* Worker: run this group's tasks from our ctx stack (when it lives in our
 * current job), then our own deque's newest jobs, until the group is done
 * or both are empty.  When nothing was stolen the count is then 0 and the
 * sync needs no read-modify-write at all. */
static bool fg__sync_run_own(fg__worker *w, fg_group *g, fg__group_state *st)
{
    for (;;) {
        if (st->lo != 0 && fg__group_in_job(w, g))
            fg__sync_pop(w, st);
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

/* Every sync but the owner's that found all its tasks done. */
__attribute__((noinline))
static int fg__sync_other(fg_group *g)
{
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
    if (left != 0 && !(w != NULL && fg__sync_run_own(w, g, st)))
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

int (fg_sync)(fg_group *g)
{
    if (g == NULL || g->pool == NULL)
        return FG_EINVAL;
    fg__group_state *st = fg__group_state_of(g);
    fg__worker *w = fg__worker_of(g->pool);
    if (st->lo != 0 && w != NULL && fg__group_in_job(w, g))
        fg__sync_pop(w, st); /* even if all were stolen: their slots go */
    /* [group-left] acquire: a total of 0 makes every finished task's
     * effects and error visible (pairs with fg__group_finish_one).  While
     * another sync waits, pend is not ours to read: FG_EBUSY below. */
    int64_t left = fg__atomic_load(&st->left, FG__ACQUIRE);
    if (FG__LIKELY(!FG__SYNC_WAITING(left) && left + st->pend == 0 &&
                   fg__atomic_load(&st->error, FG__RELAXED) == 0 &&
                   !fg__cancel_is_set(&st->cancel) && (w == NULL || w->record == NULL)))
        return 0; /* every task ran here or finished: nothing to reset */
    return fg__sync_other(g);
}

int fg_group_cancel(fg_group *g)
{
    if (g == NULL)
        return FG_EINVAL;
    fg_cancel(&fg__group_state_of(g)->cancel);
    return 0;
}
