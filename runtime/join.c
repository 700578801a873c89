/* join.c: fg_join, binary fork-join.  See docs/design/join.md.
 *
 * On a worker (the fast path: no allocation, no fence, no atomic RMW unless
 * stolen), b travels as a ctx task (ctx_stack.c): its block, b and its
 * argument, is stored straight into the next slot of the worker's ctx
 * stack, whose owner side is the private part of a split deque:
 *   1. store b's block in slot top and bump top (thieves asked for work:
 *      share the older half first, fg__ctx_spawn_slow);
 *   2. run a here;
 *   3. pop the slot back: still private and ours, run b here through a
 *      direct call; shared, take it back with a CAS unless a thief claimed
 *      it, in which case run other work until the thief's latch is set
 *      (fg__ctx_sync_slow) and read b's result from the slot.
 * A full stack (a join chain deeper than 16384) runs b at once, before a
 * (ctx.c, spilling); if even that finds no memory, both run here.  A
 * stolen b is traced as a "join" (trace.c).
 * From another thread the whole pair is one job in the injector and the
 * caller blocks on a latch until a worker has run steps 1-3.
 */
#include <string.h>

#include "internal.h"

/* b's block in its slot; result is written when a thief ran it. */
typedef struct fg__join_block {
    fg_fn b;
    void *arg_b;
    int result;
} fg__join_block;

static void fg__join_run_b(fg_ctx *cx, void *p)
{
    (void)cx;
    fg__join_block *j = p;
    j->result = j->b(j->arg_b);
}

/* trace.c names a stolen slot holding this as a join. */
const fg_ctx_fn fg__join_ctx_fn = fg__join_run_b;

/* fg_ctx_spawn and fg_ctx_sync (forage.h) specialised to b's block: its
 * two words are stored straight into the slot and read straight back, with
 * no copy of the block through this frame. */
static inline int fg__join_spawn_b(fg_ctx *cx, fg_fn b, void *arg_b)
{
    fg_ctx_slot *s = cx->fg__top;
    memcpy(s->fg__arg + offsetof(fg__join_block, b), &b, sizeof b);
    memcpy(s->fg__arg + offsetof(fg__join_block, arg_b), &arg_b, sizeof arg_b);
    s->fg__fn = fg__join_run_b;
    if (FG__LIKELY(s < cx->fg__limit && FG__CTX_SPLITREQ(cx) == 0)) {
        cx->fg__top = s + 1;
        return 0;
    }
    return fg__ctx_spawn_slow(cx, fg__join_run_b, sizeof(fg__join_block));
}

static inline int fg__join_sync_b(fg_ctx *cx)
{
    fg_ctx_slot *s = cx->fg__top - 1;
    if (FG__LIKELY(s >= cx->fg__split && s->fg__fn == fg__join_run_b &&
                   FG__CTX_SPLITREQ(cx) == 0)) {
        fg_fn b;
        void *arg_b;
        memcpy(&b, s->fg__arg + offsetof(fg__join_block, b), sizeof b);
        memcpy(&arg_b, s->fg__arg + offsetof(fg__join_block, arg_b), sizeof arg_b);
        cx->fg__top = s;
        return b(arg_b);
    }
    fg__join_block j = { NULL, NULL, 0 };
    fg__ctx_sync_slow(cx, fg__join_run_b, &j, sizeof j); /* stolen, or spilled */
    return j.result;
}

/* While recording (record.h): fn(arg) as a unit the caller calls at once. */
static int fg__join_call(fg__worker *w, int kind, fg_fn fn, void *arg)
{
    fg__record_frame saved;
    fg__record_call(w->record, kind, &saved);
    int r = fn(arg);
    fg__record_leave(w->record, &saved);
    return r;
}

/* fg__join_spawn_b and _sync_b while recording: the inline paths are
 * diverted then (ctx.c), but when nothing stands in their way they are
 * done here with the recording, not through the slow paths' hooks. */
static int fg__join_spawn_b_recorded(fg__worker *w, fg_fn b, void *arg_b)
{
    fg__ctx_stack *st = &w->ctx_stack;
    fg_ctx_slot *s = st->cx.fg__top;
    if (s >= st->cx.fg__limit || !fg__ctx_undiverted(st))
        return fg__join_spawn_b(&st->cx, b, arg_b); /* the slow spawn records it */
    memcpy(s->fg__arg + offsetof(fg__join_block, b), &b, sizeof b);
    memcpy(s->fg__arg + offsetof(fg__join_block, arg_b), &arg_b, sizeof arg_b);
    s->fg__fn = fg__join_run_b;
    st->meta[s - st->cx.fg__slots].unit = fg__record_spawn(w->record, FG__REC_JOIN_B);
    st->cx.fg__top = s + 1;
    return 0;
}

static int fg__join_sync_b_recorded(fg__worker *w)
{
    fg__ctx_stack *st = &w->ctx_stack;
    fg_ctx_slot *s = st->cx.fg__top - 1;
    if (s < st->cx.fg__split || s->fg__fn != fg__join_run_b || !fg__ctx_undiverted(st))
        return fg__join_sync_b(&st->cx); /* the slow sync records it */
    fg_fn b;
    void *arg_b;
    memcpy(&b, s->fg__arg + offsetof(fg__join_block, b), sizeof b);
    memcpy(&arg_b, s->fg__arg + offsetof(fg__join_block, arg_b), sizeof arg_b);
    fg__record_unit *u = st->meta[s - st->cx.fg__slots].unit;
    st->cx.fg__top = s;
    fg__record_sync(w->record, u);
    fg__record_frame saved;
    fg__record_enter(w->record, u, &saved);
    int rb = b(arg_b);
    fg__record_leave(w->record, &saved);
    return rb;
}

/* The join while recording: b is spawned first, then a is called as its
 * own unit, then b is synced.  Spawn and call, and a's end, b's sync and
 * b's start, are back to back: they share a clock reading (record.h,
 * `reuse`). */
__attribute__((noinline))
static int fg__join_recorded(fg__worker *w, fg_fn a, void *arg_a, fg_fn b, void *arg_b)
{
    fg__recorder *r = w->record;
    if (fg__join_spawn_b_recorded(w, b, arg_b) != 0) {
        int ra = fg__join_call(w, FG__REC_JOIN_A, a, arg_a); /* no memory to spill b */
        int rb = fg__join_call(w, FG__REC_JOIN_B, b, arg_b);
        return ra != 0 ? ra : rb;
    }
    r->reuse = 1;
    int ra = fg__join_call(w, FG__REC_JOIN_A, a, arg_a);
    r->reuse = 2;
    int rb = fg__join_sync_b_recorded(w);
    r->reuse = 0;
    return ra != 0 ? ra : rb;
}

/* The join on worker w; inlined into fg_join so the common call costs one
 * function frame.  Recording costs it one branch, never taken when off. */
__attribute__((always_inline))
static inline int fg__join_on_worker(fg__worker *w, fg_fn a, void *arg_a, fg_fn b, void *arg_b)
{
    if (__builtin_expect(w->record != NULL, 0))
        return fg__join_recorded(w, a, arg_a, b, arg_b);
    fg_ctx *cx = &w->ctx_stack.cx;
    if (__builtin_expect(fg__join_spawn_b(cx, b, arg_b) != 0, 0)) {
        int ra = a(arg_a); /* no memory to spill b: run both here */
        int rb = b(arg_b);
        return ra != 0 ? ra : rb;
    }
    int ra = a(arg_a);
    int rb = fg__join_sync_b(cx);
    return ra != 0 ? ra : rb;
}

/* The whole join, handed to a worker by a non-worker thread. */
typedef struct fg__external_join {
    fg__job job;
    fg_fn a, b;
    void *arg_a, *arg_b;
    int result;
    fg__latch done;
} fg__external_join;

static void fg__join_execute_external(fg__job *job, fg__worker *w)
{
    fg__external_join *x = FG__CONTAINER_OF(job, fg__external_join, job);
    x->result = fg__join_on_worker(w, x->a, x->arg_a, x->b, x->arg_b);
    fg__latch_set(&x->done);
}

/* Cold: arguments are bad, or the caller is not a worker of this pool. */
__attribute__((cold, noinline))
static int fg__join_external(fg_pool *pool, fg_fn a, void *arg_a, fg_fn b, void *arg_b)
{
    if (pool == NULL || a == NULL || b == NULL || !fg__pool_live(pool))
        return FG_EINVAL;
    if (fg__pool_dead(pool)) { /* fork.c I1: both here, in order */
        int ra = fg__run_on_caller(pool, a, arg_a), rb = fg__run_on_caller(pool, b, arg_b);
        return ra != 0 ? ra : rb;
    }
    fg__external_join x = { .job.execute = fg__join_execute_external,
                            .a = a, .b = b, .arg_a = arg_a, .arg_b = arg_b };
    int err = fg__pool_run_blocking(pool, &x.job, &x.done);
    return err != 0 ? err : x.result;
}

/* trace.c names the slices of these jobs. */
const fg__job_fn fg__join_external_fn = fg__join_execute_external;

int fg_join(fg_pool *pool, fg_fn a, void *arg_a, fg_fn b, void *arg_b)
{
    fg__worker *w = fg__tls_worker;
    if (__builtin_expect(w != NULL && w->pool == pool && a != NULL && b != NULL, 1))
        return fg__join_on_worker(w, a, arg_a, b, arg_b);
    return fg__join_external(pool, a, arg_a, b, arg_b);
}
