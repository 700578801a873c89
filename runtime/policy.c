/* policy.c: victim selection.  A policy is one fg_victim_fn; the built-in
 * ones below use the same interface a user policy does.  See
 * docs/policies.md and forage.h. */
#include "internal.h"

/* Uniform over the other workers, without division (Lemire's reduction). */
static int fg__victim_random(void *ctx, fg_victim_args *a)
{
    (void)ctx;
    uint32_t others = (uint32_t)a->workers - 1;
    int v = (int)(((a->random >> 32) * others) >> 32);
    return v >= a->thief ? v + 1 : v;
}

static int fg__victim_round_robin(void *ctx, fg_victim_args *a)
{
    (void)ctx;
    /* state holds the offset of the next victim from the thief, 1-based. */
    uintptr_t step = (uintptr_t)a->state;
    if (step == 0 || step >= (uintptr_t)a->workers)
        step = 1;
    a->state = (void *)(step + 1);
    return (int)(((uintptr_t)a->thief + step) % (uintptr_t)a->workers);
}

static int fg__victim_sticky(void *ctx, fg_victim_args *a)
{
    if (a->last_victim >= 0 && a->last_victim != a->thief)
        return a->last_victim;
    return fg__victim_random(ctx, a);
}

/* Near-first: the thief's other workers, nearest tier first (topology.c
 * fills `state` with its fg__near_order).  Attempt k of a round draws at
 * random from the tier holding position k of that order, so a round tries
 * each tier about as often as it has members, nearest first. */
static int fg__victim_near(void *ctx, fg_victim_args *a)
{
    const fg__near_order *o = a->state;
    if (o == NULL || o->count == 0)
        return fg__victim_random(ctx, a);
    int pos = a->attempt % o->count, t = 0;
    while (o->tier_end[t] <= pos)
        t++;
    int first = t == 0 ? 0 : o->tier_end[t - 1];
    uint32_t size = (uint32_t)(o->tier_end[t] - first);
    return o->order[first + (int)(((a->random >> 32) * size) >> 32)];
}

/* Power of two choices: two random victims, the one with more queued jobs. */
static int fg__victim_power_of_two(void *ctx, fg_victim_args *a)
{
    int v1 = fg__victim_random(ctx, a);
    if (a->workers <= 2)
        return v1;
    a->random = (a->random << 32) | (a->random >> 32); /* another draw */
    int v2 = fg__victim_random(ctx, a);
    return fg_pool_queue_length(a->pool, v2) > fg_pool_queue_length(a->pool, v1) ? v2 : v1;
}

fg_victim_fn fg__policy_builtin(int kind)
{
    switch (kind) {
    case FG_VICTIM_RANDOM:       return fg__victim_random;
    case FG_VICTIM_ROUND_ROBIN:  return fg__victim_round_robin;
    case FG_VICTIM_STICKY:       return fg__victim_sticky;
    case FG_VICTIM_NEAR:         return fg__victim_near;
    case FG_VICTIM_POWER_OF_TWO: return fg__victim_power_of_two;
    default:                     return NULL;
    }
}

int fg__policy_next_victim(fg__worker *w, int attempt)
{
    fg_pool *p = w->pool;
    w->victim.random = fg__rng_next(&w->rng);
    w->victim.attempt = attempt;
    int v = p->victim_fn(p->victim_ctx, &w->victim);
    if (v < 0 || v >= p->nworkers || v == w->index)
        return -1; /* a bad choice from a user policy: skip this attempt */
    return v;
}
