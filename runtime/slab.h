/* slab.h: fixed-size frames for spawned jobs without malloc in steady state.
 *
 * Each worker keeps a private free list (no atomics).  A frame is returned
 * to the list of the worker that ran it, which is often not the one that
 * spawned it; so lists that grow past FG__SLAB_HIGH hand FG__SLAB_BATCH
 * frames to the pool's depot, and empty lists refill from it before asking
 * the allocator for a new chunk.  Chunks are freed only at pool destroy.
 */
#ifndef FG_SLAB_H
#define FG_SLAB_H

#include <pthread.h>
#include <stddef.h>

#define FG__SLAB_BATCH 64
#define FG__SLAB_HIGH  (4 * FG__SLAB_BATCH)
#define FG__SLAB_CHUNK_OBJS 256 /* frames per allocation */

typedef struct fg__slab_obj { struct fg__slab_obj *next; } fg__slab_obj;

/* Shared by the whole pool; every field under lock. */
typedef struct fg__slab_depot {
    pthread_mutex_t lock;
    size_t obj_size;
    fg__slab_obj *free;   /* frames parked by workers and external threads */
    size_t free_count;
    void *chunks;         /* list of allocated chunks, freed at destroy */
    size_t chunk_count;   /* for tests: chunks ever allocated */
} fg__slab_depot;

/* Owner-only per-worker list. */
typedef struct fg__slab_cache {
    fg__slab_obj *free;
    size_t count;
} fg__slab_cache;

int   fg__slab_depot_init(fg__slab_depot *d, size_t obj_size);
void  fg__slab_depot_destroy(fg__slab_depot *d);
/* Cold paths of the two below: refill an empty cache from the depot (or a
 * new chunk) and take a frame, or hand n frames to the depot. */
void *fg__slab_get_slow(fg__slab_cache *c, fg__slab_depot *d);
void  fg__slab_spill(fg__slab_cache *c, fg__slab_depot *d, size_t n);

/* Worker: a frame from its cache (refilling from the depot or a new chunk);
 * NULL only when memory is exhausted.  Inline: a spawn's common case is
 * three loads and two stores. */
static inline void *fg__slab_get(fg__slab_cache *c, fg__slab_depot *d)
{
    fg__slab_obj *o = c->free;
    if (__builtin_expect(o == NULL, 0))
        return fg__slab_get_slow(c, d);
    c->free = o->next;
    c->count--;
    return o;
}

/* Worker: give a frame back to its cache (spilling a batch to the depot). */
static inline void fg__slab_put(fg__slab_cache *c, fg__slab_depot *d, void *obj)
{
    fg__slab_obj *o = obj;
    o->next = c->free;
    c->free = o;
    if (__builtin_expect(++c->count > FG__SLAB_HIGH, 0))
        fg__slab_spill(c, d, FG__SLAB_BATCH);
}
/* Non-worker thread: the same through the depot's lock. */
void *fg__slab_get_shared(fg__slab_depot *d);
/* Worker exit: hand every cached frame to the depot. */
void  fg__slab_cache_flush(fg__slab_cache *c, fg__slab_depot *d);

#endif
