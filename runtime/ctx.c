/* ctx.c: context tasks' ties to the runtime: fg_ctx_run, the job that runs
 * a stolen task, and the two hooks of ctx_stack.c (waiting for a thief,
 * waking a sleeper).  The protocol itself is ctx_stack.c's
 * (docs/design/ctx_stack.md).
 *
 * On a worker of the pool the root task is a direct call with the worker's
 * context.  From any other thread it becomes one job in the injector, run
 * by whichever worker takes it, and the caller blocks on a latch, as an
 * external fg_join does (join.c).
 */
#include <string.h>

#include "alloc.h"
#include "internal.h"

/* Spilled tasks (see "spilling" below). */
#define FG__SPILL_CHUNK 255

typedef struct fg__spill_block {
    fg_ctx_fn fn;
    unsigned char block[FG_CTX_ARG_MAX];
} fg__spill_block;

struct fg__ctx_spill {
    fg__ctx_spill *older; /* the previous chunk */
    fg__ctx_spill *spare; /* a freed chunk kept for the next spill */
    uint32_t used;
    fg__spill_block blocks[FG__SPILL_CHUNK];
};


/* The job of every slot: run the task in its slot with the thief's context
 * (the slot was claimed by the thief's CAS, [ctx-claim]). */
static void fg__ctx_execute_stolen(fg__job *job, fg__worker *w)
{
    fg__ctx_meta *m = FG__CONTAINER_OF(job, fg__ctx_meta, job);
    fg__atomic_store(&m->done.thief, w->index, FG__RELAXED);
    fg_ctx_slot *s = m->slot;
    s->fg__fn(&w->ctx_stack.cx, s->fg__arg);
    fg__latch_set(&m->done); /* [ctx-done]: the owner may reuse the slot */
}

const fg__job_fn fg__ctx_stolen_fn = fg__ctx_execute_stolen;

static void fg__ctx_root_execute(fg__job *job, fg__worker *w);
const fg__job_fn fg__ctx_root_fn = fg__ctx_root_execute; /* record.c: a root */

void fg__ctx_hook_wait(fg__ctx_stack *st, fg__latch *done)
{
    fg__worker_wait_until(st->owner, done);
}

void fg__ctx_hook_shared(fg__ctx_stack *st)
{
    fg_pool *p = st->owner->pool;
    fg__sleep_notify_push(&p->sleep, p); /* a local push: see sleep.h */
}

/* Recording (record.h): the slow paths are the only paths then. */
static int fg__ctx_record_kind(fg_ctx_fn fn)
{
    return fn == fg__join_ctx_fn ? FG__REC_JOIN_B : FG__REC_CTX;
}

void fg__ctx_hook_spawned(fg__ctx_stack *st, uint32_t h, fg_ctx_fn fn)
{
    fg__recorder *r = st->owner->record;
    if (r != NULL)
        st->meta[h].unit = fg__record_spawn(r, fg__ctx_record_kind(fn));
}

void fg__ctx_hook_synced(fg__ctx_stack *st, uint32_t h)
{
    fg__recorder *r = st->owner->record;
    if (r != NULL) {
        fg__record_sync(r, st->meta[h].unit);
        /* Next: the task starts here at once (the same time), or a wait
         * for its thief, whose pause reads the clock and drops this. */
        r->reuse = 1;
    }
}

void fg__ctx_hook_run(fg__ctx_stack *st, uint32_t h, fg_ctx_fn fn, void *arg)
{
    fg__recorder *r = st->owner->record;
    if (r == NULL) {
        fn(&st->cx, arg);
        return;
    }
    fg__record_frame saved;
    fg__record_enter(r, st->meta[h].unit, &saved); /* read before fn reuses slot h */
    fn(&st->cx, arg);
    fg__record_leave(r, &saved);
}

/* Loose tasks: a group task (group.c) may be pushed above slots that are
 * synced later, by a task that spawns into an outer group of this worker,
 * so a sync that finds one on top runs it first (any queued task may run
 * early); a thief that stole one ran it in place and is waited for. */
void fg__ctx_hook_loose(fg__ctx_stack *st, uint32_t floor)
{
    fg_ctx *cx = &st->cx;
    unsigned char block[FG_CTX_ARG_MAX];
    while (cx->fg__top > cx->fg__slots + floor && cx->fg__top[-1].fg__fn == fg__group_ctx_fn)
        if (fg__ctx_pop(st, block, sizeof block))
            fg__group_ctx_fn(cx, block);
}

/* The function of the newest task: spilled ones are newer than any slot. */
static fg_ctx_fn fg__ctx_newest_fn(fg__ctx_stack *st)
{
    if (st->spilled > 0)
        return st->spill->blocks[st->spill->used - 1].fn;
    return st->cx.fg__top[-1].fg__fn;
}

/* Run a root task on worker w.  A task that broke the rules (returned with
 * spawns not synced) leaves tasks above the entry point: they are synced
 * here, newest first, so that nothing spawned is lost, and the call says
 * FG_EINVAL.  A stack below its entry point (more syncs than spawns) cannot
 * be repaired: FG_EINVAL too.  A rule broken inside (a typed sync of the
 * wrong task, a spill that found no memory) marked cx->fg__broken: its
 * code is returned. */
static int fg__ctx_call(fg__worker *w, fg_ctx_fn fn, void *arg)
{
    fg__ctx_stack *st = &w->ctx_stack;
    fg_ctx *cx = &st->cx;
    fg_ctx_slot *entry = cx->fg__top;
    uint32_t entry_spilled = st->spilled;
    int outer_broken = cx->fg__broken;
    cx->fg__broken = 0;
    fn(cx, arg);
    int err = cx->fg__broken;
    if (FG__LIKELY(cx->fg__top == entry && st->spilled == entry_spilled && err == 0)) {
        cx->fg__broken = outer_broken;
        return 0;
    }
    /* Group tasks the root pushed into outer groups are not its to sync:
     * run them (they are the newest unless spilled tasks are above). */
    if (st->spilled == entry_spilled && cx->fg__top > entry) {
        fg__ctx_hook_loose(st, (uint32_t)(entry - cx->fg__slots));
        if (cx->fg__top == entry && err == 0) {
            cx->fg__broken = outer_broken;
            return 0;
        }
    }
    unsigned char scratch[FG_CTX_ARG_MAX];
    while (st->spilled > entry_spilled || cx->fg__top > entry)
        fg__ctx_sync_slow(cx, fg__ctx_newest_fn(st), scratch, sizeof scratch);
    cx->fg__broken = outer_broken;
    return err != 0 ? err : FG_EINVAL;
}

/* The typed tasks' slow paths (forage.h, FG_TASK): a spill, a split or a
 * thieves' request at spawn; a stolen or spilled task, or the wrong one, at
 * sync.  Typed calls have no return code, so a failure breaks the context
 * and the root fg_ctx_run reports it. */
void fg__task_spawn_slow(fg_ctx *cx, size_t size)
{
    fg__ctx_stack *st = FG__CONTAINER_OF(cx, fg__ctx_stack, cx);
    fg_ctx_slot *s = cx->fg__top;
    if (st->owner->record != NULL && s < cx->fg__limit && fg__ctx_undiverted(st)) {
        /* Recording: the inline spawn, plus the hook. */
        st->meta[s - cx->fg__slots].unit = fg__record_spawn(st->owner->record, FG__REC_CTX);
        cx->fg__top = s + 1;
        return;
    }
    int err = fg__ctx_spawn_slow(cx, cx->fg__top->fg__fn, size);
    if (err < 0 && cx->fg__broken == 0)
        cx->fg__broken = err; /* FG_ENOMEM: the typed sync will miss it */
}

void fg__task_sync_slow(fg_ctx *cx, fg_ctx_fn fn, void *out, size_t size)
{
    fg__ctx_stack *st = FG__CONTAINER_OF(cx, fg__ctx_stack, cx);
    fg_ctx_slot *s = cx->fg__top - 1;
    fg__recorder *r = st->owner->record;
    if (r != NULL && s >= cx->fg__split && s->fg__fn == fn && fg__ctx_undiverted(st)) {
        /* Recording: the inline sync, plus the hooks (fg__ctx_hook_run). */
        fg__record_unit *u = st->meta[s - cx->fg__slots].unit;
        fg__record_sync(r, u);
        r->reuse = 1; /* the task starts at once: same time */
        cx->fg__top = s;
        memcpy(out, s->fg__arg, size);
        fg__record_frame saved;
        fg__record_enter(r, u, &saved);
        fn(cx, out);
        fg__record_leave(r, &saved);
        return;
    }
    memset(out, 0, size);
    if (fg__ctx_sync_slow(cx, fn, out, size) < 0 && cx->fg__broken == 0)
        cx->fg__broken = FG_EINVAL; /* the wrong task, or none: nothing done */
}

typedef struct fg__ctx_root {
    fg__job job;
    fg_ctx_fn fn;
    void *arg;
    int result;
    fg__latch done;
} fg__ctx_root;

static void fg__ctx_root_execute(fg__job *job, fg__worker *w)
{
    fg__ctx_root *r = FG__CONTAINER_OF(job, fg__ctx_root, job);
    r->result = fg__ctx_call(w, r->fn, r->arg);
    fg__latch_set(&r->done); /* r may be gone from here on */
}

__attribute__((cold, noinline))
static int fg__ctx_run_external(fg_pool *pool, fg_ctx_fn fn, void *arg)
{
    if (pool == NULL || fn == NULL || !fg__pool_live(pool))
        return FG_EINVAL;
    fg__ctx_root r = { .job.execute = fg__ctx_root_execute, .fn = fn, .arg = arg };
    int err = fg__pool_run_blocking(pool, &r.job, &r.done);
    return err != 0 ? err : r.result;
}

int fg_ctx_run(fg_pool *pool, fg_ctx_fn fn, void *arg)
{
    fg__worker *w = fg__worker_of(pool);
    if (w == NULL || fn == NULL)
        return fg__ctx_run_external(pool, fn, arg);
    return fg__ctx_call(w, fn, arg);
}

/* ------------------------------------------------------------- spilling
 * A spawn on a full stack (FG__CTX_CAPACITY slots in use) runs its task at
 * once on a copy of its block and keeps the finished block here, in chunks
 * that never move, for the task's sync: fork-join allows either order, and
 * the spawn cannot fail.  While anything is spilled, cx->fg__splitreq
 * points at a constant 1, which sends every inline spawn and sync to the
 * slow paths; spilled tasks are the newest (they were spawned on a full
 * stack), so the syncs take them back first, newest first. */
static const uint32_t fg__ctx_spilling = 1;

static fg__spill_block *fg__ctx_spill_push(fg__ctx_stack *st)
{
    fg__ctx_spill *c = st->spill;
    if (c == NULL || c->used == FG__SPILL_CHUNK) {
        fg__ctx_spill *fresh = c != NULL && c->spare != NULL ? c->spare : NULL;
        if (fresh == NULL && (fresh = fg__alloc(sizeof *fresh)) == NULL)
            return NULL;
        if (c != NULL)
            c->spare = NULL;
        *fresh = (fg__ctx_spill){ .older = c, .spare = NULL, .used = 0 };
        st->spill = c = fresh;
    }
    return &c->blocks[c->used++];
}

int fg__ctx_hook_spill(fg__ctx_stack *st, fg_ctx_fn fn, const void *block, size_t size)
{
    fg__spill_block *b = fg__ctx_spill_push(st);
    if (b == NULL)
        return FG_ENOMEM; /* nothing spawned, nothing run */
    b->fn = fn;
    memcpy(b->block, block, size);
    if (st->spilled++ == 0)
        fg__ctx_hook_divert(st);
    fg__recorder *r = st->owner->record;
    if (r == NULL) {
        fn(&st->cx, b->block); /* b stays put: nested spills use later blocks */
        return 0;
    }
    fg__record_frame saved; /* recording: spawned and run at once, a call */
    fg__record_call(r, fg__ctx_record_kind(fn), &saved);
    fn(&st->cx, b->block);
    fg__record_leave(r, &saved);
    return 0;
}

int fg__ctx_hook_unspill(fg__ctx_stack *st, fg_ctx_fn fn, void *arg, size_t size)
{
    fg__ctx_spill *c = st->spill;
    fg__spill_block *b = &c->blocks[c->used - 1];
    if (b->fn != fn)
        return FG_EINVAL; /* not the newest task's function: nothing done */
    memcpy(arg, b->block, size);
    if (--c->used == 0 && c->older != NULL) {
        /* Keep one spare chunk, not a pile: c's own spare goes. */
        fg__free(c->spare);
        c->spare = NULL;
        fg__free(c->older->spare);
        c->older->spare = c;
        st->spill = c->older;
    }
    if (--st->spilled == 0)
        fg__ctx_hook_divert(st);
    return 0;
}

void fg__ctx_divert(fg__ctx_stack *st)
{
    st->cx.fg__splitreq = &fg__ctx_spilling;
}

void fg__ctx_hook_divert(fg__ctx_stack *st)
{
    if (st->spilled > 0 || st->markers > 0 || st->owner->record != NULL)
        st->cx.fg__splitreq = &fg__ctx_spilling;
    else
        st->cx.fg__splitreq = (const uint32_t *)(const void *)&st->splitreq;
}

/* Free every chunk (the stack is empty: nothing is spilled). */
void fg__ctx_spill_free(fg__ctx_stack *st)
{
    for (fg__ctx_spill *c = st->spill, *older; c != NULL; c = older) {
        older = c->older;
        fg__free(c->spare);
        fg__free(c);
    }
    st->spill = NULL;
}

void fg__ctx_check_pending(fg_ctx *cx, unsigned entry)
{
    if (FG__LIKELY(cx->fg__pending == entry))
        return;
    /* The task returned with spawns not synced: they are the newest tasks
     * (the stored top includes them).  Run them, newest first, so nothing
     * spawned is lost, and let the root say FG_EINVAL. */
    fg__ctx_stack *st = FG__CONTAINER_OF(cx, fg__ctx_stack, cx);
    if (cx->fg__broken == 0)
        cx->fg__broken = FG_EINVAL;
    unsigned char scratch[FG_CTX_ARG_MAX];
    while (cx->fg__pending > entry) {
        cx->fg__pending--;
        if ((st->spilled == 0 && cx->fg__top == cx->fg__slots) ||
            fg__ctx_sync_slow(cx, fg__ctx_newest_fn(st), scratch, sizeof scratch) < 0)
            break; /* more syncs than spawns: nothing left to repair */
    }
    cx->fg__pending = entry;
}
