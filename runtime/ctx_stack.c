/* ctx_stack.c: the ctx stack of context tasks: the thief side and the
 * owner's slow paths.  The owner's fast paths are forage.h's inline
 * fg_ctx_spawn and fg_ctx_sync; the design is in
 * docs/design/ctx_stack.md.  Nothing here knows workers or pools: waiting
 * and waking go through two hooks (ctx.c in the runtime, stand-ins in the
 * Relacy model tests/model/ctx_relacy.cpp, which compiles this file).
 *
 * Why it is correct (T1-T3 of ctx_stack.h):
 * - Exclusion.  Every change to ts is a CAS, except the owner's reset
 *   store after a stolen sync, made while ts = (x, x), when no thief CAS can
 *   succeed (thieves CAS only after reading tail < split; only the owner
 *   raises split).  So all changes are ordered in ts's modification order,
 *   and each slot is claimed by exactly one CAS: the thief's that moved tail
 *   past it, or the owner's that moved split below it (take-back).
 * - Publication [ctx-share].  The owner writes a slot while it is private,
 *   then shares it by a release CAS on ts.  A thief's claiming CAS is
 *   acquire and reads a value in that release's release sequence (later
 *   changes are thieves' RMWs until the owner's next change), so it sees
 *   the slot, its meta and the task's argument block.
 * - Completion and reuse [ctx-done].  The thief runs the task in its slot
 *   and sets the slot's latch (seq_cst exchange, latch.c); the owner's sync
 *   reads SET with acquire before it copies the block out or writes the
 *   slot again.  A stolen sync at h finds tail > h, and split <= head = h + 1
 *   (T1), so ts = (h + 1, h + 1): every slot below h was claimed too, and
 *   resetting ts to (h, h) hands nothing to anyone.  Tasks the owner ran
 *   while waiting were spawned above h and synced before the wait ended, so
 *   ts is back to (h + 1, h + 1) when it does.
 * - ABA.  A thief whose CAS succeeds on an old-looking value claims what is
 *   at index tail now, which the current value says is shared.
 * - Buried slots (loose tasks, fg__ctx_claim).  Taking back slot i below
 *   the top is the same CAS as taking back the top (split := i, only while
 *   tail <= i), so exclusion holds; it never moves tail, so a stolen sync
 *   at h still finds every slot below h claimed.  A done marker is popped
 *   like any slot (taken back, or its thief waited for: T3).
 *
 * field     written by               read by          order
 * ts        thieves (CAS tail+1),    thieves, owner   thief CAS acquire
 *           owner (CAS split, reset)                  [ctx-claim]; owner share
 *                                                     CAS release [ctx-share]
 * splitreq  thieves (set), owner     owner, thieves   relaxed: a hint; tasks
 *           (clear)                                   pass through ts
 * slots[i]  owner (spawn), the       thief, owner     published by ts, returned
 *           thief (block, by the task)                by the latch [ctx-done]
 * cx, ready, wake_next, meta, markers: owner only (meta[i].job, .done and
 * .slot are read by the thief of i; .marker is the owner's alone).
 */
#include "ctx_stack.h"

#include <string.h>

#include "alloc.h"
#include "split_deque.h" /* the ts word: fg__ts_pack, _tail, _split */
#include "testhooks.h"

#define FG__CTX_META_CHUNK 256u /* metas set up per slow spawn */

/* Model-only weakenings (tests/model/ctx_relacy.cpp): each must be caught.
 * Nothing else may define them. */
#if defined(FG_RELACY) && defined(FG_MODEL_WEAKEN_TASK_SHARE)
#  define FG__CTX_SHARE_ORDER FG__RELAXED /* [ctx-share] made relaxed */
#else
#  define FG__CTX_SHARE_ORDER FG__RELEASE
#endif

/* The owner's view keeps pointers (what the inline paths want); the
 * protocol counts in indices. */
static inline uint32_t fg__ctx_head(const fg_ctx *cx) { return (uint32_t)(cx->fg__top - cx->fg__slots); }
static inline uint32_t fg__ctx_split_at(const fg_ctx *cx) { return (uint32_t)(cx->fg__split - cx->fg__slots); }
static inline void fg__ctx_set_head(fg_ctx *cx, uint32_t h) { cx->fg__top = cx->fg__slots + h; }
static inline void fg__ctx_set_split(fg_ctx *cx, uint32_t s) { cx->fg__split = cx->fg__slots + s; }

static fg__ctx_stack *fg__ctx_stack_of(fg_ctx *cx)
{
    return FG__CONTAINER_OF(cx, fg__ctx_stack, cx);
}

/* The owner's spawns go slow at `limit`: where metas end, or at once while
 * nothing is shared (so that the next spawn is shared and wakes a sleeper). */
static void fg__ctx_set_limit(fg__ctx_stack *st)
{
    st->cx.fg__limit = st->wake_next ? st->cx.fg__top : st->cx.fg__slots + st->ready;
}

int fg__ctx_stack_init(fg__ctx_stack *st, struct fg__worker *owner)
{
    fg__atomic_init(&st->ts, fg__ts_pack(0, 0));
    fg__atomic_init(&st->splitreq, 0);
    st->owner = owner;
    st->spill = NULL;
    st->spilled = 0;
    st->markers = 0;
    st->ready = 0;
    st->wake_next = true;
    /* Untouched pages stay uncommitted: a stack costs what it is used.  One
     * spare slot: the inline spawn writes slot top before it checks that
     * top is below the limit. */
    st->cx.fg__slots = (fg_ctx_slot *)fg__alloc_aligned(
        sizeof(fg_ctx_slot), sizeof(fg_ctx_slot) * (FG__CTX_CAPACITY + 1));
    st->meta = (fg__ctx_meta *)fg__alloc(sizeof *st->meta * FG__CTX_CAPACITY);
    if (st->cx.fg__slots == NULL || st->meta == NULL) {
        fg__ctx_stack_destroy(st);
        return FG_ENOMEM;
    }
    /* The inline paths read the flag with __atomic_load_n (forage.h). */
    st->cx.fg__splitreq = (const uint32_t *)(const void *)&st->splitreq;
    fg__ctx_set_head(&st->cx, 0);
    fg__ctx_set_split(&st->cx, 0);
    fg__ctx_set_limit(st);
    return 0;
}

void fg__ctx_stack_destroy(fg__ctx_stack *st)
{
    fg__free(st->cx.fg__slots);
    fg__free(st->meta);
    st->cx.fg__slots = NULL;
    st->meta = NULL;
}

fg__steal_result fg__ctx_steal(fg__ctx_stack *st, fg__job **out)
{
    uint64_t ts = fg__atomic_load(&st->ts, FG__RELAXED); /* the CAS checks it */
    uint32_t t = fg__ts_tail(ts), s = fg__ts_split(ts);
    if (t >= s) {
        /* Ask the owner to share; write only on a change. */
        if (fg__atomic_load(&st->splitreq, FG__RELAXED) == 0)
            fg__atomic_store(&st->splitreq, 1, FG__RELAXED);
        return FG__STEAL_EMPTY;
    }
    FG__PERTURB(); /* ts read, slot t not yet claimed */
    /* [ctx-claim] acquire: pairs with the release that shared slot t
     * [ctx-share]; on success slot t is ours to run. */
    if (!fg__atomic_cas(&st->ts, &ts, fg__ts_pack(t + 1, s), FG__ACQUIRE, FG__RELAXED))
        return FG__STEAL_ABORT;
    *out = &st->meta[t].job;
    return FG__STEAL_SUCCESS;
}

int64_t fg__ctx_size(fg__ctx_stack *st)
{
    /* seq_cst: the sleep protocol's re-scan ([sleep-announce], sleep.c). */
    uint64_t ts = fg__atomic_load(&st->ts, FG__SEQ_CST);
    uint32_t t = fg__ts_tail(ts), s = fg__ts_split(ts);
    return s > t ? (int64_t)(s - t) : 0;
}

/* Owner: share the older half of the private part (at least one task). */
static void fg__ctx_share(fg__ctx_stack *st)
{
    fg_ctx *cx = &st->cx;
    uint32_t private_tasks = fg__ctx_head(cx) - fg__ctx_split_at(cx);
    if (private_tasks == 0)
        return; /* keep the request: the next spawn answers it */
    uint32_t to = fg__ctx_split_at(cx) + (private_tasks + 1) / 2;
    FG__PERTURB(); /* about to share */
    uint64_t ts = fg__atomic_load(&st->ts, FG__RELAXED);
    /* [ctx-share] release: the slots below `to` were written before.  A
     * failure means a thief moved tail (never past split): retry with it. */
    while (!fg__atomic_cas(&st->ts, &ts, fg__ts_pack(fg__ts_tail(ts), to),
                           FG__CTX_SHARE_ORDER, FG__RELAXED))
        FG__PERTURB();
    fg__ctx_set_split(cx, to);
    st->wake_next = false;
    if (fg__atomic_load(&st->splitreq, FG__RELAXED) != 0)
        fg__atomic_store(&st->splitreq, 0, FG__RELAXED);
    fg__ctx_hook_shared(st); /* wake a sleeper (ctx.c) */
}

void fg__ctx_share_if_asked(fg__ctx_stack *st)
{
    if (fg__atomic_load(&st->splitreq, FG__RELAXED) != 0) {
        fg__ctx_share(st);
        fg__ctx_set_limit(st);
    }
}

/* Owner: set up the metas of the next chunk; false when the stack is full. */
static bool fg__ctx_grow(fg__ctx_stack *st)
{
    if (st->ready == FG__CTX_CAPACITY)
        return false;
    uint32_t end = st->ready + FG__CTX_META_CHUNK;
    if (end > FG__CTX_CAPACITY)
        end = FG__CTX_CAPACITY;
    for (uint32_t i = st->ready; i < end; i++) {
        st->meta[i].job.execute = fg__ctx_stolen_fn;
        st->meta[i].job.next = NULL;
        fg__latch_init(&st->meta[i].done, st->owner);
        st->meta[i].slot = &st->cx.fg__slots[i];
        st->meta[i].unit = NULL;
        st->meta[i].marker = false;
    }
    st->ready = end;
    return true;
}

static bool fg__ctx_args_ok(fg_ctx *cx, fg_ctx_fn fn, const void *arg, size_t size)
{
    return cx != NULL && fn != NULL && arg != NULL && size <= FG_CTX_ARG_MAX;
}

/* Owner: set up slot top's meta (growing the metas), then push it and
 * share if thieves asked; false, with nothing pushed, when the stack is
 * full. */
static bool fg__ctx_push_slow(fg__ctx_stack *st, fg_ctx_fn fn, bool share)
{
    fg_ctx *cx = &st->cx;
    uint32_t h = fg__ctx_head(cx);
    if (h >= st->ready && !fg__ctx_grow(st))
        return false;
    fg__ctx_hook_spawned(st, h, fn); /* before it can be shared */
    fg__ctx_set_head(cx, h + 1);
    if (share || st->wake_next || fg__atomic_load(&st->splitreq, FG__RELAXED) != 0)
        fg__ctx_share(st);
    fg__ctx_set_limit(st);
    return true;
}

/* The inline spawn has copied the task into slot top already (the spare
 * slot when the stack is full); NULL cx stands for bad arguments. */
FG_API int fg__ctx_spawn_slow(fg_ctx *cx, fg_ctx_fn fn, size_t size)
{
    if (cx == NULL || fn == NULL || size > FG_CTX_ARG_MAX)
        return FG_EINVAL;
    fg__ctx_stack *st = fg__ctx_stack_of(cx);
    if (!fg__ctx_push_slow(st, fn, false)) /* full: run it now (ctx.c) */
        return fg__ctx_hook_spill(st, fn, cx->fg__top->fg__arg, size);
    return 0;
}

int fg__ctx_push_loose(fg__ctx_stack *st, bool share)
{
    if (st->spilled > 0) /* spilled tasks must stay the newest */
        return FG_EAGAIN;
    return fg__ctx_push_slow(st, st->cx.fg__top->fg__fn, share) ? 0 : FG_EAGAIN;
}

/* Owner: claim shared slot h back (split := h); false if a thief has it. */
static bool fg__ctx_take_back(fg__ctx_stack *st, uint32_t h)
{
    uint64_t ts = fg__atomic_load(&st->ts, FG__RELAXED);
    for (;;) {
        if (fg__ts_tail(ts) > h)
            return false;
        FG__PERTURB(); /* racing thieves for slot h */
        /* Relaxed: exclusion comes from the CAS alone, and the slot holds
         * our own writes. */
        if (fg__atomic_cas(&st->ts, &ts, fg__ts_pack(fg__ts_tail(ts), h),
                           FG__RELAXED, FG__RELAXED)) {
            fg__ctx_set_split(&st->cx, h);
            return true;
        }
    }
}

/* Owner: slot h was stolen; wait for its thief, then take the block. */
static void fg__ctx_sync_stolen(fg__ctx_stack *st, uint32_t h, void *arg, size_t size)
{
    fg__ctx_meta *m = &st->meta[h];
#if !(defined(FG_RELACY) && defined(FG_MODEL_SKIP_TASK_WAIT))
    fg__ctx_hook_wait(st, &m->done); /* [ctx-done] acquire (ctx.c) */
#endif
    memcpy(arg, st->cx.fg__slots[h].fg__arg, size);
    fg__latch_init(&m->done, st->owner); /* the thief is done with it */
    fg__ctx_set_head(&st->cx, h);
    fg__ctx_set_split(&st->cx, h);
    /* ts = (h + 1, h + 1) now (see the header): no thief CAS can succeed
     * on it, nor on (h, h), so a plain store moves it; relaxed, as it
     * publishes nothing. */
    fg__atomic_store(&st->ts, fg__ts_pack(h, h), FG__RELAXED);
    st->wake_next = true;
    fg__ctx_set_limit(st);
}

/* Owner: pop slot head - 1 (see fg__ctx_pop), leaving done markers. */
static bool fg__ctx_pop_top(fg__ctx_stack *st, void *arg, size_t size)
{
    fg_ctx *cx = &st->cx;
    uint32_t h = fg__ctx_head(cx) - 1;
    if (h < fg__ctx_split_at(cx) && !fg__ctx_take_back(st, h)) {
        fg__ctx_sync_stolen(st, h, arg, size);
        return false;
    }
    fg__ctx_set_head(cx, h);
    memcpy(arg, cx->fg__slots[h].fg__arg, size);
    fg__ctx_share_if_asked(st); /* a sync that only pops must share too */
    fg__ctx_set_limit(st);
    return true;
}

/* A done marker's function: a thief that claims one has nothing to run. */
static void fg__ctx_done(fg_ctx *cx, void *arg)
{
    (void)cx, (void)arg;
}

void fg__ctx_mark_done(fg__ctx_stack *st, uint32_t i, bool ours)
{
    if (ours)
        st->cx.fg__slots[i].fg__fn = fg__ctx_done; /* private: ours to write */
    st->meta[i].marker = true;
    if (st->markers++ == 0)
        fg__ctx_hook_divert(st);
}

/* Owner: drop the done markers on top: each is popped like a task (taken
 * back, or its thief waited for), and nothing runs. */
static void fg__ctx_drop_markers(fg__ctx_stack *st)
{
    unsigned char scratch[1];
    uint32_t h;
    while ((h = fg__ctx_head(&st->cx)) > 0 && st->meta[h - 1].marker) {
        /* Unmark first: waiting for a thief runs other work, whose own
         * pops must not take this slot for a marker of theirs. */
        st->meta[h - 1].marker = false;
        st->markers--;
        fg__ctx_pop_top(st, scratch, 0);
    }
    if (st->markers == 0)
        fg__ctx_hook_divert(st);
}

bool fg__ctx_pop(fg__ctx_stack *st, void *arg, size_t size)
{
    bool ours = fg__ctx_pop_top(st, arg, size);
    if (st->markers > 0)
        fg__ctx_drop_markers(st); /* none stays on top */
    return ours;
}

bool fg__ctx_claim(fg__ctx_stack *st, uint32_t i)
{
    return i >= fg__ctx_split_at(&st->cx) || fg__ctx_take_back(st, i);
}

FG_API int fg__ctx_sync_slow(fg_ctx *cx, fg_ctx_fn fn, void *arg, size_t size)
{
    if (!fg__ctx_args_ok(cx, fn, arg, size))
        return FG_EINVAL;
    fg__ctx_stack *st = fg__ctx_stack_of(cx);
    if (st->spilled > 0) /* the newest tasks ran at spawn (ctx.c) */
        return fg__ctx_hook_unspill(st, fn, arg, size);
    if (fg__ctx_head(cx) > 0 && cx->fg__top[-1].fg__fn != fn)
        fg__ctx_hook_loose(st, 0); /* group tasks pushed after ours: run them */
    if (fg__ctx_head(cx) == 0 || cx->fg__top[-1].fg__fn != fn)
        return FG_EINVAL; /* nothing to sync, or not this task */
    uint32_t h = fg__ctx_head(cx) - 1;
    fg__ctx_hook_synced(st, h);
    if (fg__ctx_pop(st, arg, size))
        fg__ctx_hook_run(st, h, fn, arg); /* fn(cx, arg) */
    return 0;
}
