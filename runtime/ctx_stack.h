/* ctx_stack.h: a worker's stack of ctx tasks (fg_ctx_spawn/sync), the
 * split deque of Lace (van Dijk & van de Pol 2014) with tasks stored in
 * their slots.  See ctx_stack.c and docs/design/ctx_stack.md.
 *
 * Slots [0, head) are in use.  [split, head) is PRIVATE: the owner's alone,
 * touched with plain loads and stores by the inline spawn and sync of
 * forage.h.  [tail, split) is SHARED: a thief claims slot tail by a CAS on
 * ts = (split << 32 | tail), runs the task in its slot and sets the slot's
 * latch.  Slots below tail are claimed: each is running or done, and stays
 * untouched by the owner until its sync has waited for the latch.
 *
 * Who may call: the owner (the worker whose stack it is) everything except
 * steal and size; any thread steal and size.
 *
 * Invariants (proofs in ctx_stack.c):
 * T1  tail <= split <= head whenever the owner is outside its slow paths;
 *     thieves change only tail (+1 per CAS, only while tail < split).
 * T2  a slot is written by the owner only while it is private or free, and
 *     read by a thief only after the CAS that claimed it.
 * T3  the owner reuses a claimed slot only after the sync of its task
 *     waited for the latch: syncs go newest first, so everything pushed
 *     above a slot is synced before it.
 * Loose tasks (group tasks, group.c) are popped by whatever sync finds them
 * on top, and a group sync may claim its buried slots below the top
 * (fg__ctx_claim: private, or taken back by moving split down) and leave
 * done markers, which the pop that uncovers them drops (waiting for a
 * thief that claimed one), so T3 holds for them too.
 */
#ifndef FG_CTX_STACK_H
#define FG_CTX_STACK_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include "forage.h"
#include "atomics.h"
#include "base.h"
#include "job.h"
#include "latch.h"

#ifndef FG__CTX_CAPACITY
#  define FG__CTX_CAPACITY (1u << 14) /* slots per worker: 1 MiB + 896 KiB */
#endif

/* Per slot, forage's own: how a thief runs it and how the owner waits. */
typedef struct fg__ctx_meta {
    fg__job job;          /* execute: runs the slot's task on the thief */
    fg__latch done;       /* set by the thief; waiter: the owner */
    fg_ctx_slot *slot;
    struct fg__record_unit *unit; /* recording: the task's unit (record.h) */
    bool marker;          /* owner: a done marker (ctx.c): pops drop it */
} fg__ctx_meta;

/* ctx.c: tasks spawned on a full stack, run at once; their finished blocks
 * wait here for their syncs (newest first, above every slot). */
typedef struct fg__ctx_spill fg__ctx_spill;

typedef struct fg__ctx_stack {
    /* Thieves: the CAS word, on its own line. */
    alignas(FG__CACHE_LINE) FG__ATOMIC(uint64_t) ts;
    /* Thieves set it, the owner reads it on every spawn and sync. */
    alignas(FG__CACHE_LINE) FG__ATOMIC(uint32_t) splitreq;
    /* Owner-only from here on; cx is what the inline paths see. */
    alignas(FG__CACHE_LINE) fg_ctx cx;
    uint32_t ready;       /* metas [0, ready) are initialised */
    bool wake_next;       /* nothing is shared: share the next spawn at once */
    fg__ctx_meta *meta;  /* FG__CTX_CAPACITY, set up lazily up to `ready` */
    struct fg__worker *owner; /* the latches' waiter; read by ctx.c's hooks */
    fg__ctx_spill *spill;     /* ctx.c: spilled tasks' blocks, or NULL */
    uint32_t spilled;         /* how many; > 0 keeps the inline paths slow */
    uint32_t markers;         /* ctx.c: done markers; > 0 keeps them slow too */
} fg__ctx_stack;

int  fg__ctx_stack_init(fg__ctx_stack *st, struct fg__worker *owner); /* 0 or FG_ENOMEM */
void fg__ctx_stack_destroy(fg__ctx_stack *st);

/* Thief: claim the oldest shared task; its job runs it in place. */
fg__steal_result fg__ctx_steal(fg__ctx_stack *st, fg__job **out);
/* Any thread: shared tasks, a seq_cst snapshot (the sleep re-scan). */
int64_t fg__ctx_size(fg__ctx_stack *st);

/* Owner: answer thieves' request for work, if there is one. */
void fg__ctx_share_if_asked(fg__ctx_stack *st);

/* Owner: take the newest slot off the stack and copy size bytes of its
 * block to arg.  true: it was still ours (private, or taken back), so its
 * task has not run; false: a thief ran it, and we waited for its latch. */
bool fg__ctx_pop(fg__ctx_stack *st, void *arg, size_t size);
/* Owner: push a loose task (a group task, group.c), already written into
 * slot top, on the inline spawn's slow path; share at once if `share`
 * (workers sleep), else as a spawn would.  0, or FG_EAGAIN (nothing pushed)
 * when the stack is full or tasks are spilled: loose tasks are never
 * spilled, their spawner takes another way. */
int fg__ctx_push_loose(fg__ctx_stack *st, bool share);
/* Owner: may slot i, below the top, run here now?  true: it is private (if
 * it was shared, split moved down to i, so [i, top) is private again);
 * false: a thief claimed it. */
bool fg__ctx_claim(fg__ctx_stack *st, uint32_t i);

/* ctx.c: the job of every slot (runs the task on the thief, sets the
 * latch); trace.c names its slices. */
extern const fg__job_fn fg__ctx_stolen_fn;

/* ctx.c: the owner waits for a stolen task's latch, running other work;
 * the owner has just shared tasks: wake a sleeper if any. */
void fg__ctx_hook_wait(fg__ctx_stack *st, fg__latch *done);
void fg__ctx_hook_shared(fg__ctx_stack *st);
/* ctx.c: the stack is full: run fn on a copy of its block now and keep the
 * finished block for its sync, so that no spawn fails (0, or FG_ENOMEM
 * with nothing spawned or run); then hand the newest
 * spilled block to its sync (0, or FG_EINVAL if it is not fn's). */
int fg__ctx_hook_spill(fg__ctx_stack *st, fg_ctx_fn fn, const void *block, size_t size);
int fg__ctx_hook_unspill(fg__ctx_stack *st, fg_ctx_fn fn, void *arg, size_t size);
/* Owner: slot i, below the top, is done: its task ran out of order (ours:
 * its function becomes a no-op, for a thief that claims it later) or a
 * thief claimed it.  A done marker is dropped by the pop that uncovers it,
 * so none is ever on top; while any exists the inline paths go slow. */
void fg__ctx_mark_done(fg__ctx_stack *st, uint32_t i, bool ours);
/* ctx.c: pop the loose tasks (group tasks) on top, down to slot `floor`,
 * running those still ours; a sync whose slot is not on top calls it. */
void fg__ctx_hook_loose(fg__ctx_stack *st, uint32_t floor);
/* ctx.c: spilled tasks, done markers or recording divert the inline paths
 * to the slow ones (cx->fg__splitreq); one of them changed. */
void fg__ctx_hook_divert(fg__ctx_stack *st);
/* ctx.c: recording hooks (record.h): slot h was spawned (before it is
 * shared), is being synced, and is run here by its sync. */
void fg__ctx_hook_spawned(fg__ctx_stack *st, uint32_t h, fg_ctx_fn fn);
void fg__ctx_hook_synced(fg__ctx_stack *st, uint32_t h);
void fg__ctx_hook_run(fg__ctx_stack *st, uint32_t h, fg_ctx_fn fn, void *arg);
/* While recording, the inline paths are diverted (ctx.c, fg__ctx_divert);
 * a diverted call may still do just what the inline path would have done,
 * plus the recording, when nothing is spilled and no thief asks. */
static inline bool fg__ctx_undiverted(fg__ctx_stack *st)
{
    return st->spilled == 0 && st->markers == 0 &&
           fg__atomic_load(&st->splitreq, FG__RELAXED) == 0;
}
/* ctx.c: free the spill chunks (at pool destroy; nothing is spilled). */
void fg__ctx_spill_free(fg__ctx_stack *st);

#endif
