/* scratch.c: fg_parallel_for_init and fg_parallel_map_init, per-worker
 * scratch made once per worker per call.  See docs/design/scratch.md.
 *
 * A call keeps one slot per possible worker index (FG_MAX_WORKERS, so any
 * pool and the sequential backend's stand-in index 0 fit).  A chunk or
 * task looks up its slot by fg_worker_index(), makes the value on first
 * use and marks the slot busy while it runs.  If the slot is busy (the task
 * below it on this worker's stack waits for nested work and this one runs
 * meanwhile) or the index is out of range, it gets a value of its own,
 * destroyed when it returns.  The caller destroys the slots' values after
 * the call, in worker order.
 *
 * Concurrency: a slot is touched only by the one thread that has its worker
 * index during the call, so slots are plain memory; the call's joins order
 * every slot write before the caller's destroy pass.
 */
#include <stdbool.h>

#include "forage.h"

#include "seam.h"

typedef struct fg__scratch_slot {
    void *value;
    bool made, busy;
} fg__scratch_slot;

typedef struct fg__scratch_call {
    fg_scratch scratch;
    fg__scratch_slot *slots; /* FG_MAX_WORKERS of them */
    fg_scratch_range_fn body;  /* for_init */
    fg_delayed_scratch d;      /* map_init */
} fg__scratch_call;

static int fg__scratch_open(fg__scratch_call *c, fg_scratch scratch)
{
    c->scratch = scratch;
    c->slots = fg__alloc_zeroed(FG_MAX_WORKERS * sizeof *c->slots);
    return c->slots != NULL ? 0 : FG_ENOMEM;
}

static void fg__scratch_close(fg__scratch_call *c)
{
    for (size_t w = 0; w < FG_MAX_WORKERS; w++)
        if (c->slots[w].made && c->scratch.destroy != NULL)
            c->scratch.destroy(c->slots[w].value, c->scratch.ctx);
    fg__free(c->slots);
}

/* This worker's value into *value; *slot is NULL when the value is a
 * private one that fg__scratch_give destroys. */
static int fg__scratch_take(fg__scratch_call *c, void **value, fg__scratch_slot **slot)
{
    int w = fg_worker_index();
    fg__scratch_slot *s = w >= 0 && w < FG_MAX_WORKERS ? &c->slots[w] : NULL;
    if (s != NULL && s->busy)
        s = NULL;
    *slot = s;
    if (s == NULL) {
        *value = NULL;
        return c->scratch.init(c->scratch.ctx, value);
    }
    if (!s->made) {
        s->value = NULL;
        int err = c->scratch.init(c->scratch.ctx, &s->value);
        if (err != 0)
            return err; /* not made: the next task tries again */
        s->made = true;
    }
    s->busy = true;
    *value = s->value;
    return 0;
}

static void fg__scratch_give(fg__scratch_call *c, void *value, fg__scratch_slot *slot)
{
    if (slot != NULL)
        slot->busy = false;
    else if (c->scratch.destroy != NULL)
        c->scratch.destroy(value, c->scratch.ctx);
}

static int fg__scratch_range(size_t begin, size_t end, void *arg)
{
    fg__scratch_call *c = arg;
    void *value;
    fg__scratch_slot *slot;
    int err = fg__scratch_take(c, &value, &slot);
    if (err != 0)
        return err;
    err = c->body(begin, end, value, c->d.ctx);
    fg__scratch_give(c, value, slot);
    return err;
}

static int fg__scratch_task(size_t i, void *arg, void *result)
{
    fg__scratch_call *c = arg;
    void *value;
    fg__scratch_slot *slot;
    int err = fg__scratch_take(c, &value, &slot);
    if (err != 0)
        return err;
    err = c->d.fn(i, value, c->d.ctx, result);
    fg__scratch_give(c, value, slot);
    return err;
}

int fg_parallel_for_init(fg_pool *pool, size_t begin, size_t end, const fg_for_opts *opts,
                         fg_scratch scratch, fg_scratch_range_fn body, void *ctx)
{
    if (pool == NULL || scratch.init == NULL || body == NULL || begin > end)
        return FG_EINVAL;
    fg__scratch_call c = { .body = body, .d = { .ctx = ctx } };
    int err = fg__scratch_open(&c, scratch);
    if (err < 0)
        return err;
    err = fg_parallel_for(pool, begin, end, opts, fg__scratch_range, &c);
    fg__scratch_close(&c);
    return err;
}

int fg_parallel_map_init(fg_parallel *par, fg_scratch scratch, fg_delayed_scratch d,
                         size_t begin, size_t end, void *results, fg_error_info *err)
{
    if (par == NULL || scratch.init == NULL || d.fn == NULL || begin > end ||
        (results == NULL && d.result_size != 0))
        return FG_EINVAL;
    fg__scratch_call c = { .d = d };
    int rc = fg__scratch_open(&c, scratch);
    if (rc < 0)
        return rc;
    rc = fg_parallel_map(par, (fg_delayed){ fg__scratch_task, &c, d.result_size }, begin, end,
                         results, err);
    fg__scratch_close(&c);
    return rc;
}
