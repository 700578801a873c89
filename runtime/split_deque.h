/* split_deque.h: the split deque, forage's second deque kind (Lace's design,
 * van Dijk & van de Pol 2014, recast for C11).  See docs/design/split_deque.md.
 *
 * A fixed array of job pointers used as a stack by its owner: slots
 * [0, head) are in use.  The top of it, [split, head), is PRIVATE: only the
 * owner touches it, with plain loads and stores, no fence and no RMW, which
 * is the point (Chase-Lev's take pays a StoreLoad fence on every pop).  The
 * part [tail, split) is SHARED: thieves claim its oldest slot by a CAS on the
 * word ts = (split << 32 | tail).  Slots below tail have been claimed.
 *
 * Who may call: push/take only the owner; steal any thread; size and
 * looks_nonempty any thread (racy snapshots).
 *
 * Thieves that find the shared part empty set `splitreq`; the owner, at its
 * next push or take, moves split up to share the older half of its private
 * part.  So private work becomes stealable only when the owner next touches
 * its deque: the price of the fence-free fast path.
 *
 * Invariants (proofs in split_deque.c):
 * S1  tail <= split <= head whenever the owner is not all-stolen; thieves
 *     change only tail (+1 per CAS, only while tail < split); the owner
 *     changes only split (CAS), or resets ts when all is stolen.
 * S2  a thief reads a slot only after its CAS claimed that index, and then
 *     clears it (release); the owner writes a slot only once it reads it
 *     clear (acquire), so no slot is overwritten before its thief read it.
 * S3  the owner publishes slots by the release that moves split over them.
 */
#ifndef FG_SPLIT_DEQUE_H
#define FG_SPLIT_DEQUE_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include "atomics.h"
#include "base.h"
#include "job.h"
#include "testhooks.h"

struct fg__job;

#ifndef FG__SPLIT_CAPACITY /* the Relacy model makes it small */
#  define FG__SPLIT_CAPACITY (1u << 16) /* slots per worker (512 KiB) */
#endif

typedef struct fg__split_deque {
    /* Thieves: the CAS word, on its own line. */
    alignas(FG__CACHE_LINE) FG__ATOMIC(uint64_t) ts;
    /* Thieves set it, the owner reads it on every push/take: its own line,
     * written only when it changes. */
    alignas(FG__CACHE_LINE) FG__ATOMIC(uint32_t) splitreq;
    /* Owner-only from here on. */
    alignas(FG__CACHE_LINE) uint32_t head;
    uint32_t split;      /* the owner's copy of ts's split (only it changes it) */
    bool all_stolen;     /* every slot below head was claimed: restart at 0 */
    FG__ATOMIC(struct fg__job *) *slots; /* FG__SPLIT_CAPACITY, NULL = free */
} fg__split_deque;

static inline uint64_t fg__ts_pack(uint32_t tail, uint32_t split)
{
    return (uint64_t)split << 32 | tail;
}
static inline uint32_t fg__ts_tail(uint64_t ts) { return (uint32_t)ts; }
static inline uint32_t fg__ts_split(uint64_t ts) { return (uint32_t)(ts >> 32); }

int  fg__split_init(fg__split_deque *dq);     /* 0 or FG_ENOMEM */
void fg__split_destroy(fg__split_deque *dq);
/* Thief: claim the oldest shared job (FG__STEAL_EMPTY also asks the owner to
 * share more). */
fg__steal_result fg__split_steal(fg__split_deque *dq, struct fg__job **out);
int64_t fg__split_size(fg__split_deque *dq);  /* shared jobs, racy */
bool fg__split_looks_nonempty(fg__split_deque *dq);

/* Owner slow paths. */
void fg__split_share(fg__split_deque *dq);            /* answer splitreq */
void fg__split_restart(fg__split_deque *dq);          /* first push after all stolen */
struct fg__job *fg__split_take_shared(fg__split_deque *dq);

/* Owner: push; 0, or -1 when full (nothing pushed).  Returns 1 instead of 0
 * when the push made work stealable, so the caller can wake a sleeper. */
static inline int fg__split_push(fg__split_deque *dq, struct fg__job *job)
{
    uint32_t h = dq->head;
    if (h == FG__SPLIT_CAPACITY)
        return -1;
    /* [split-ack] acquire pairs with the thief's release clear (S2): wait
     * until a thief that claimed slot h has read it.  Almost never waits.
     * (The Relacy model's FG_MODEL_DROP_SPLIT_ACK build skips it, to show
     * the check catches the reuse.) */
#if !(defined(FG_RELACY) && defined(FG_MODEL_DROP_SPLIT_ACK))
    while (fg__atomic_load(&dq->slots[h], FG__ACQUIRE) != NULL)
        fg__cpu_relax();
#endif
    fg__atomic_store(&dq->slots[h], job, FG__RELAXED);
    dq->head = h + 1;
    if (__builtin_expect(dq->all_stolen, 0)) {
        fg__split_restart(dq);
        return 1;
    }
    if (__builtin_expect(fg__atomic_load(&dq->splitreq, FG__RELAXED) != 0, 0)) {
        fg__split_share(dq);
        return 1;
    }
    return 0;
}

/* Owner: pop the top slot, which lies in the private part. */
static inline struct fg__job *fg__split_pop_private(fg__split_deque *dq)
{
    uint32_t h = dq->head - 1;
    struct fg__job *job = fg__atomic_load(&dq->slots[h], FG__RELAXED);
    fg__atomic_store(&dq->slots[h], NULL, FG__RELAXED); /* private: no thief */
    dq->head = h;
    return job;
}

/* Owner: pop the newest job, NULL when every job was stolen. */
static inline struct fg__job *fg__split_take(fg__split_deque *dq)
{
    if (__builtin_expect(dq->head > dq->split, 1)) {
        struct fg__job *job = fg__split_pop_private(dq);
        if (__builtin_expect(fg__atomic_load(&dq->splitreq, FG__RELAXED) != 0, 0))
            fg__split_share(dq); /* a sync that only pops must share too */
        return job;
    }
    return fg__split_take_shared(dq);
}

#endif
