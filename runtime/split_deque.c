/* split_deque.c: the split deque's thief side and owner slow paths.  The
 * fast paths are inline in split_deque.h; the design is in
 * docs/design/split_deque.md.
 *
 * Why it is correct (S1-S3 of split_deque.h):
 * - Exclusion.  Every change to ts is a CAS, except the owner's restart
 *   store, made while ts = (x, x), when no thief CAS can succeed (thieves
 *   CAS only after reading tail < split, and split cannot rise while the
 *   owner is in the all-stolen state).  So all changes are totally ordered
 *   in ts's modification order, and an index is claimed by the one CAS that
 *   moved tail past it (a thief) or split below it (the owner).  No fence
 *   or ordering is needed for that, only atomicity.
 * - Publication (S3).  The owner writes a slot, then makes it shared by a
 *   release on ts (restart store or share CAS).  A thief's claiming CAS is
 *   acquire and reads a value in that release's release sequence (later
 *   changes to ts are all RMWs, or the next release), so it sees the slot.
 * - Reuse (S2).  A claimed slot keeps its job until its thief has read it
 *   and cleared it with a release store; the owner writes a slot only after
 *   an acquire load reads it clear.  Claimed slots lie below tail, and the
 *   owner writes below tail only after it restarted at 0 (all stolen).
 * - ABA.  A thief reads its slot after the CAS, so a CAS that succeeds on an
 *   old-looking value claims whatever is at that index now, which by the
 *   value itself is shared.  No tag is needed.
 *
 * field     written by              read by           order
 * ts        thieves (CAS tail+1),   thieves, owner    thief CAS acquire [split-claim];
 *           owner (CAS split,                         owner share CAS / restart
 *           restart store)                            store release [split-share]
 * splitreq  thieves (set), owner    owner, thieves    relaxed: a hint; work is
 *           (clear)                                   handed over through ts
 * slots[i]  owner (job), thief      thief, owner      thief clear release / owner
 *           (clear after claim)                       acquire before reuse [split-ack]
 * head, split, all_stolen: owner only.
 *
 * Lifetime: slots live until fg__split_destroy, after all workers stopped.
 */
#include "split_deque.h"

/* The release of [split-share]; the Relacy model's weakened build
 * (FG_MODEL_WEAKEN_SPLIT_SHARE) makes it relaxed to show the check catches
 * a missing publication.  Nothing else may define it. */
#if defined(FG_RELACY) && defined(FG_MODEL_WEAKEN_SPLIT_SHARE)
#  define FG__SPLIT_SHARE_ORDER FG__RELAXED
#else
#  define FG__SPLIT_SHARE_ORDER FG__RELEASE
#endif

#include "alloc.h"
#include "forage.h"
#include "job.h"

int fg__split_init(fg__split_deque *dq)
{
    /* Field by field, no memset: the Relacy model's atomics are objects. */
    fg__atomic_init(&dq->ts, fg__ts_pack(0, 0));
    fg__atomic_init(&dq->splitreq, 0);
    dq->head = 0;
    dq->split = 0;
    dq->all_stolen = true; /* the first push is shared at once */
    dq->slots = (FG__ATOMIC(struct fg__job *) *)fg__alloc(sizeof *dq->slots * FG__SPLIT_CAPACITY);
    if (dq->slots == NULL)
        return FG_ENOMEM;
    for (uint32_t i = 0; i < FG__SPLIT_CAPACITY; i++)
        fg__atomic_init(&dq->slots[i], NULL);
    return 0;
}

void fg__split_destroy(fg__split_deque *dq)
{
    fg__free(dq->slots);
    dq->slots = NULL;
}

fg__steal_result fg__split_steal(fg__split_deque *dq, struct fg__job **out)
{
    uint64_t ts = fg__atomic_load(&dq->ts, FG__RELAXED); /* the CAS checks it */
    uint32_t t = fg__ts_tail(ts), s = fg__ts_split(ts);
    if (t >= s) {
        /* Ask the owner to share; write only on a change, so idle thieves
         * do not keep pulling the owner's line away. */
        if (fg__atomic_load(&dq->splitreq, FG__RELAXED) == 0)
            fg__atomic_store(&dq->splitreq, 1, FG__RELAXED);
        return FG__STEAL_EMPTY;
    }
    FG__PERTURB(); /* ts read, index t not yet claimed */
    /* [split-claim] acquire: pairs with the owner's release that shared
     * slot t [split-share]; on success index t is ours alone. */
    if (!fg__atomic_cas(&dq->ts, &ts, fg__ts_pack(t + 1, s), FG__ACQUIRE, FG__RELAXED))
        return FG__STEAL_ABORT;
    FG__PERTURB(); /* claimed, slot not yet read */
    struct fg__job *job = fg__atomic_load(&dq->slots[t], FG__RELAXED);
    /* [split-ack] release: our read of the slot precedes the owner's reuse
     * of it (its acquire load in fg__split_push). */
    fg__atomic_store(&dq->slots[t], NULL, FG__RELEASE);
    *out = job;
    return FG__STEAL_SUCCESS;
}

int64_t fg__split_size(fg__split_deque *dq)
{
    uint64_t ts = fg__atomic_load(&dq->ts, FG__RELAXED);
    uint32_t t = fg__ts_tail(ts), s = fg__ts_split(ts);
    return s > t ? (int64_t)(s - t) : 0;
}

bool fg__split_looks_nonempty(fg__split_deque *dq)
{
    return fg__split_size(dq) > 0;
}

void fg__split_share(fg__split_deque *dq)
{
    uint32_t private_jobs = dq->head - dq->split;
    if (private_jobs == 0)
        return; /* keep the request: the next push answers it */
    /* Share the older half, rounding up so one private job is shared too. */
    uint32_t to = dq->split + (private_jobs + 1) / 2;
    FG__PERTURB(); /* about to share */
    uint64_t ts = fg__atomic_load(&dq->ts, FG__RELAXED);
    /* [split-share] release: the slots below `to` were written before.  A
     * failure means a thief moved tail (never past split): retry with it. */
    while (!fg__atomic_cas(&dq->ts, &ts, fg__ts_pack(fg__ts_tail(ts), to),
                           FG__SPLIT_SHARE_ORDER, FG__RELAXED))
        FG__PERTURB();
    dq->split = to;
    fg__atomic_store(&dq->splitreq, 0, FG__RELAXED);
}

void fg__split_restart(fg__split_deque *dq)
{
    /* Every older slot was claimed (all_stolen): the job just pushed at
     * index 0 is shared at once, as the only one.  No thief CAS can succeed
     * on the all-stolen value (x, x), so a store is enough; release for
     * [split-share]. */
    FG__PERTURB(); /* all stolen, about to restart */
    fg__atomic_store(&dq->ts, fg__ts_pack(0, 1), FG__SPLIT_SHARE_ORDER);
    dq->split = 1;
    dq->all_stolen = false;
    if (fg__atomic_load(&dq->splitreq, FG__RELAXED) != 0)
        fg__atomic_store(&dq->splitreq, 0, FG__RELAXED);
}

struct fg__job *fg__split_take_shared(fg__split_deque *dq)
{
    if (dq->all_stolen)
        return NULL;
    /* Take the newer half of the shared part back (all of it when one job
     * is left); a thief that moved tail meanwhile makes the CAS fail. */
    uint64_t ts = fg__atomic_load(&dq->ts, FG__RELAXED);
    for (;;) {
        uint32_t t = fg__ts_tail(ts), s = fg__ts_split(ts);
        if (t == s) { /* every job was claimed: restart at 0 on the next push */
            dq->head = 0;
            dq->split = 0;
            dq->all_stolen = true;
            return NULL;
        }
        uint32_t to = t + (s - t) / 2;
        FG__PERTURB(); /* racing thieves for the shared part */
        /* Relaxed: exclusion comes from the CAS alone, and these slots hold
         * our own writes. */
        if (fg__atomic_cas(&dq->ts, &ts, fg__ts_pack(t, to), FG__RELAXED, FG__RELAXED)) {
            dq->split = to;
            break;
        }
    }
    return fg__split_pop_private(dq);
}
