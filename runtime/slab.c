/* slab.c: per-worker frame caches over a locked depot (see slab.h).
 * Not a lock-free structure: caches are owner-only and the depot is touched
 * once per FG__SLAB_BATCH frames, under its mutex. */
#include "slab.h"

#include <assert.h>

#include "alloc.h"
#include "forage.h"


typedef struct fg__slab_chunk {
    struct fg__slab_chunk *next;
    max_align_t align; /* objects follow, suitably aligned */
} fg__slab_chunk;

int fg__slab_depot_init(fg__slab_depot *d, size_t obj_size)
{
    if (pthread_mutex_init(&d->lock, NULL) != 0)
        return FG_ENOMEM;
    size_t a = sizeof(max_align_t);
    d->obj_size = (obj_size + a - 1) / a * a;
    d->free = NULL;
    d->free_count = 0;
    d->chunks = NULL;
    d->chunk_count = 0;
    return 0;
}

void fg__slab_depot_destroy(fg__slab_depot *d)
{
    for (fg__slab_chunk *c = d->chunks, *next; c != NULL; c = next) {
        next = c->next;
        fg__free(c);
    }
    pthread_mutex_destroy(&d->lock);
}

/* Under d->lock: carve a new chunk onto the depot's free list. */
static int fg__slab_grow_locked(fg__slab_depot *d)
{
    fg__slab_chunk *c = fg__alloc(sizeof *c + FG__SLAB_CHUNK_OBJS * d->obj_size);
    if (c == NULL)
        return FG_ENOMEM;
    c->next = d->chunks;
    d->chunks = c;
    d->chunk_count++;
    char *base = (char *)(c + 1);
    for (size_t i = 0; i < FG__SLAB_CHUNK_OBJS; i++) {
        fg__slab_obj *o = (fg__slab_obj *)(void *)(base + i * d->obj_size);
        o->next = d->free;
        d->free = o;
    }
    d->free_count += FG__SLAB_CHUNK_OBJS;
    return 0;
}

/* Cold path: move up to a batch from the depot into the cache. */
static void fg__slab_refill(fg__slab_cache *c, fg__slab_depot *d)
{
    pthread_mutex_lock(&d->lock);
    if (d->free == NULL)
        (void)fg__slab_grow_locked(d); /* on failure the cache stays empty */
    for (int i = 0; i < FG__SLAB_BATCH && d->free != NULL; i++) {
        fg__slab_obj *o = d->free;
        d->free = o->next;
        d->free_count--;
        o->next = c->free;
        c->free = o;
        c->count++;
    }
    pthread_mutex_unlock(&d->lock);
}

__attribute__((cold, noinline))
void *fg__slab_get_slow(fg__slab_cache *c, fg__slab_depot *d)
{
    fg__slab_refill(c, d);
    fg__slab_obj *o = c->free;
    if (o != NULL) {
        c->free = o->next;
        c->count--;
    }
    return o;
}

/* Cold path: move a batch from the cache to the depot. */
__attribute__((cold, noinline))
void fg__slab_spill(fg__slab_cache *c, fg__slab_depot *d, size_t n)
{
    pthread_mutex_lock(&d->lock);
    for (size_t i = 0; i < n && c->free != NULL; i++) {
        fg__slab_obj *o = c->free;
        c->free = o->next;
        c->count--;
        o->next = d->free;
        d->free = o;
        d->free_count++;
    }
    pthread_mutex_unlock(&d->lock);
}

void *fg__slab_get_shared(fg__slab_depot *d)
{
    pthread_mutex_lock(&d->lock);
    if (d->free == NULL)
        (void)fg__slab_grow_locked(d);
    fg__slab_obj *o = d->free;
    if (o != NULL) {
        d->free = o->next;
        d->free_count--;
    }
    pthread_mutex_unlock(&d->lock);
    return o;
}

void fg__slab_cache_flush(fg__slab_cache *c, fg__slab_depot *d)
{
    fg__slab_spill(c, d, c->count);
    assert(c->free == NULL && c->count == 0);
}
