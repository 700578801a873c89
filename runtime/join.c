/* join.c: fg_join, binary fork-join.  See docs/design/join.md.
 *
 * On a worker (the fast path, no allocation, no atomic RMW unless stolen):
 *   1. build b's frame on this stack and push it on our deque;
 *   2. run a here;
 *   3. take from our deque: jobs a left behind (spawned, not synced) are run
 *      until b's frame comes back, which is then run inline; if the deque
 *      is empty instead, b was stolen;
 *   4. if stolen, run other work until b's latch is set (worker.c), then
 *      read b's result.  The frame stays alive until then: this function
 *      does not return before the latch is set.
 * From another thread the whole pair is one job in the injector and the
 * caller blocks on a latch until a worker has run steps 1-4.
 */
#include "internal.h"

typedef struct fg__join_frame {
    fg__job job;
    fg_fn fn;
    void *arg;
    int result;
    fg__latch done;
} fg__join_frame;

/* Runs b on the thief. */
static void fg__join_execute_stolen(fg__job *job, fg__worker *w)
{
    fg__join_frame *f = FG__CONTAINER_OF(job, fg__join_frame, job);
    fg__atomic_store(&f->done.thief, w->index, FG__RELAXED);
    f->result = f->fn(f->arg);
    fg__latch_set(&f->done); /* f may be gone from here on */
}

/* Inlined into fg_join so the common call costs one function frame. */
__attribute__((always_inline))
static inline int fg__join_here(fg__worker *w, fg_fn a, void *arg_a, fg_fn b, void *arg_b)
{
    fg__join_frame fb;
    fb.job.execute = fg__join_execute_stolen;
    fb.fn = b;
    fb.arg = arg_b;
    fg__latch_init(&fb.done, w);
    int pushed = fg__own_push(w, &fb.job);
    if (__builtin_expect(pushed < 0, 0)) {
        int ra = a(arg_a); /* no room in the deque: run both here */
        int rb = b(arg_b);
        return ra != 0 ? ra : rb;
    }
    if (pushed > 0) /* thieves can see it */
        fg__sleep_notify_push(&w->pool->sleep, w->pool);

    int ra = a(arg_a);

    for (;;) {
        fg__job *job = fg__own_take(w);
        if (job == &fb.job) {
            int rb = b(arg_b);
            return ra != 0 ? ra : rb;
        }
        if (job == NULL)
            break;
        fg__worker_run(w, job); /* left behind by a: still ours to run */
    }
    fg__worker_wait_until(w, &fb.done);
    return ra != 0 ? ra : fb.result;
}

static int fg__join_on_worker(fg__worker *w, fg_fn a, void *arg_a, fg_fn b, void *arg_b)
{
    return fg__join_here(w, a, arg_a, b, arg_b);
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
    fg__external_join x = { .job.execute = fg__join_execute_external,
                            .a = a, .b = b, .arg_a = arg_a, .arg_b = arg_b };
    int err = fg__pool_run_blocking(pool, &x.job, &x.done);
    return err != 0 ? err : x.result;
}

/* trace.c names the slices of these jobs. */
const fg__job_fn fg__join_stolen_fn = fg__join_execute_stolen;
const fg__job_fn fg__join_external_fn = fg__join_execute_external;

int fg_join(fg_pool *pool, fg_fn a, void *arg_a, fg_fn b, void *arg_b)
{
    fg__worker *w = fg__tls_worker;
    if (__builtin_expect(w != NULL && w->pool == pool && a != NULL && b != NULL, 1))
        return fg__join_here(w, a, arg_a, b, arg_b);
    return fg__join_external(pool, a, arg_a, b, arg_b);
}
