/* ctx_relacy.cpp: Relacy model check of context tasks' ctx stack,
 * compiled from the real runtime/ctx_stack.c (protocol and slow paths)
 * and the real inline fg_ctx_spawn / fg_ctx_sync of include/forage.h,
 * through the FG_RELACY mapping of runtime/atomics.h, with a capacity of 4
 * slots.  See docs/design/ctx_stack.md and docs/design/verification.md.
 *
 * One owner and two thieves.  The owner spawns leaf tasks 0, 1, 2 (task 0
 * is shared at once: a fresh stack shares its first spawn), syncs 2,
 * spawns 3, then syncs 3, 1, 0.  Each thief makes THIEF_ATTEMPTS steal
 * calls and runs what it claims in its slot, as runtime/ctx.c does; an
 * empty steal raises splitreq, so the share path runs too.  A stolen sync
 * waits for the slot's latch (the runtime's hook runs other work meanwhile;
 * here it yields).  Checked in every explored execution:
 *   - every task runs exactly once and comes back from its sync with its
 *     own id and result, in the order synced;
 *   - a shadow payload (an rl::var per task) written before the spawn is
 *     seen by whoever runs the task, and the runner's write is seen by the
 *     sync, with no data race ([ctx-share]/[ctx-claim] publish the task,
 *     [ctx-done] returns it);
 *   - the stack ends empty; no leak.
 * Weakened builds, each of which must be caught (this program then exits 1,
 * and only for the expected kind of violation):
 *   FG_MODEL_WEAKEN_TASK_SHARE  the sharing CAS made relaxed: a data race on
 *                               a payload;
 *   FG_MODEL_SKIP_TASK_WAIT     a stolen sync does not wait for the thief:
 *                               a data race or a wrong result.
 * Arguments: none or ITERATIONS (random scheduler), `bound K` (context-bound
 * search with at most K preemptions).
 */
#include <relacy/relacy.hpp>

#include "model_main.hpp"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FG__CTX_CAPACITY 4u
/* The inline paths read the thieves' flag through the model's atomics. */
#define FG__CTX_SPLITREQ(cx) \
    (((rl::atomic<uint32_t> *)(void *)(uintptr_t)(cx)->fg__splitreq)->load(rl::mo_relaxed, $))
/* The real ctx stack: ctx_stack.c includes ctx_stack.h, forage.h (the
 * inline paths), atomics.h, latch.h, alloc.h and testhooks.h. */
#include "ctx_stack.c"
#include "oracle.hpp"

#ifndef MODEL_ITERATIONS
#  define MODEL_ITERATIONS 1000000
#endif
#define N_TASKS 4
#define THIEF_ATTEMPTS 3
#define RESULT(i) (2000 + (i))

/* ------------------------------------------------------------ allocation
 * Two arrays: the slots (plain memory) and the metas, whose latches hold
 * rl::atomic members that must be constructed.  Memory comes from Relacy,
 * which reports leaks, double frees and bad frees. */
#pragma push_macro("new")
#undef new
static fg__ctx_meta *model_metas;

void *fg__alloc_aligned(size_t align, size_t size)
{
    (void)align;
    RL_ASSERT(size == sizeof(fg_ctx_slot) * (FG__CTX_CAPACITY + 1));
    return rl::rl_malloc(size, $);
}

void *fg__alloc(size_t size)
{
    RL_ASSERT(size == sizeof(fg__ctx_meta) * FG__CTX_CAPACITY);
    fg__ctx_meta *m = (fg__ctx_meta *)rl::rl_malloc(size, $);
    for (size_t i = 0; i < FG__CTX_CAPACITY; i++)
        new (&m[i]) fg__ctx_meta();
    model_metas = m;
    return m;
}

alignas(FG__CACHE_LINE) static unsigned char model_st_storage[sizeof(fg__ctx_stack)];

static fg__ctx_stack *model_stack_construct(void)
{
    return new (model_st_storage) fg__ctx_stack();
}
#pragma pop_macro("new")

void fg__free(void *ptr)
{
    if (ptr == NULL)
        return;
    if (ptr == model_metas) {
        for (size_t i = 0; i < FG__CTX_CAPACITY; i++)
            model_metas[i].~fg__ctx_meta();
        model_metas = NULL;
    }
    rl::rl_free(ptr, $);
}

/* ------------------------------------- the runtime's side, as stand-ins */

/* latch.c's set, without the wake-up (no thread sleeps in the model). */
void fg__latch_set(fg__latch *l)
{
    fg__atomic_exchange(&l->state, (uint32_t)FG__LATCH_SET, FG__SEQ_CST);
}

/* ctx.c runs other work while it waits; here the owner only yields. */
void fg__ctx_hook_wait(fg__ctx_stack *st, fg__latch *done)
{
    (void)st;
    while (!fg__latch_is_set(done))
        rl::yield(1, $);
}

static unsigned long model_shares;
void fg__ctx_hook_shared(fg__ctx_stack *st)
{
    (void)st;
    model_shares++;
}

/* The model never fills its stack: spilling (owner-only, ctx.c) is tested
 * by unit-ctx, not here. */
int fg__ctx_hook_spill(fg__ctx_stack *st, fg_ctx_fn fn, const void *block, size_t size)
{
    (void)st, (void)fn, (void)block, (void)size;
    RL_ASSERT(!"the model's stack filled up");
    return FG_ENOMEM;
}

int fg__ctx_hook_unspill(fg__ctx_stack *st, fg_ctx_fn fn, void *arg, size_t size)
{
    (void)st, (void)fn, (void)arg, (void)size;
    RL_ASSERT(!"nothing is spilled in the model");
    return FG_EINVAL;
}

/* No group tasks (loose tasks, ctx.c) are pushed in the model, so no done
 * marker is left and nothing diverts the inline paths. */
void fg__ctx_hook_loose(fg__ctx_stack *st, uint32_t floor)
{
    (void)st, (void)floor;
}

void fg__ctx_hook_divert(fg__ctx_stack *st)
{
    (void)st;
    RL_ASSERT(!"nothing diverts the model's inline paths");
}

/* Recording (ctx.c, record.h) is off in the model: the task runs plainly. */
void fg__ctx_hook_spawned(fg__ctx_stack *st, uint32_t h, fg_ctx_fn fn)
{
    (void)st, (void)h, (void)fn;
}

void fg__ctx_hook_synced(fg__ctx_stack *st, uint32_t h)
{
    (void)st, (void)h;
}

void fg__ctx_hook_run(fg__ctx_stack *st, uint32_t h, fg_ctx_fn fn, void *arg)
{
    (void)h;
    fn(&st->cx, arg);
}

/* ctx.c's job of every slot, as the model's thieves run it. */
static void model_execute_stolen(fg__job *job, struct fg__worker *w)
{
    (void)w;
    fg__ctx_meta *m = FG__CONTAINER_OF(job, fg__ctx_meta, job);
    fg_ctx_slot *s = m->slot;
    s->fg__fn(NULL, s->fg__arg); /* leaves: they spawn nothing */
    fg__latch_set(&m->done);
}
const fg__job_fn fg__ctx_stolen_fn = model_execute_stolen;

/* ------------------------------------------------------------ the test */

typedef struct block {
    int id;
    int result;
} block;

static model_oracle<N_TASKS> *model_tasks; /* the running test's */

static void leaf(fg_ctx *cx, void *p)
{
    (void)cx;
    block *b = (block *)p;
    model_tasks->consume(b->id, RESULT(b->id));
    b->result = RESULT(b->id);
}

static unsigned long model_iterations_run, model_tasks_stolen;

struct task_test : rl::test_suite<task_test, 3> {
    fg__ctx_stack *st;
    model_oracle<N_TASKS> oracle;
    int stolen;

    void before()
    {
        st = model_stack_construct();
        RL_ASSERT(fg__ctx_stack_init(st, NULL) == 0);
        model_tasks = &oracle;
        oracle.reset();
        stolen = 0;
    }

    void spawn(int i)
    {
        oracle.publish(i);
        block b = { i, 0 };
        RL_ASSERT(fg_ctx_spawn(&st->cx, leaf, &b, sizeof b) == 0);
    }

    void sync_expect(int i)
    {
        block b = { -1, -1 };
        RL_ASSERT(fg_ctx_sync(&st->cx, leaf, &b, sizeof b) == 0);
        RL_ASSERT(b.id == i && "sync returned another task");
        RL_ASSERT(b.result == RESULT(i) && "the finished block did not come back");
        RL_ASSERT(oracle.payload(i) == RESULT(i) && "the runner's write was not returned");
    }

    void owner()
    {
        spawn(0);
        spawn(1);
        spawn(2);
        sync_expect(2);
        spawn(3);
        sync_expect(3);
        sync_expect(1);
        sync_expect(0);
    }

    void thief()
    {
        for (int k = 0; k < THIEF_ATTEMPTS; k++) {
            fg__job *j = NULL;
            if (fg__ctx_steal(st, &j) == FG__STEAL_SUCCESS) {
                RL_ASSERT(j != NULL);
                j->execute(j, NULL);
                stolen++;
            }
        }
    }

    void thread(unsigned index)
    {
        if (index == 0)
            owner();
        else
            thief();
    }

    void after()
    {
        oracle.expect_each_once();
        RL_ASSERT(st->cx.fg__top == st->cx.fg__slots);
        RL_ASSERT(fg__ctx_size(st) == 0);
        model_iterations_run++;
        model_tasks_stolen += (unsigned long)stolen;
        fg__ctx_stack_destroy(st);
        st->~fg__ctx_stack();
    }
};

#if defined(FG_MODEL_WEAKEN_TASK_SHARE) || defined(FG_MODEL_SKIP_TASK_WAIT)
#  define MODEL_WEAKENED 1
#else
#  define MODEL_WEAKENED 0
#endif

int main(int argc, char **argv)
{
    rl::test_params p;
    const char *sched = model_parse_args(argc, argv, p, MODEL_ITERATIONS);
    printf("model-ctx: %s, %s scheduler, 1 owner + 2 thieves, %d tasks, capacity %u\n",
           MODEL_WEAKENED ? "WEAKENED" : "real orders", sched, N_TASKS, FG__CTX_CAPACITY);
    fflush(stdout);

    bool ok = rl::simulate<task_test>(p);

    if (ok)
        printf("model-ctx: no violation in %lu iterations (%lu tasks stolen, %lu shares)\n",
               model_iterations_run, model_tasks_stolen, model_shares);
    /* Both weakenings let the owner or a thief read a payload it was not
     * handed: a data race. */
    bool expected = p.test_result == rl::test_result_data_race;
    return model_verdict("model-ctx", ok, p, MODEL_WEAKENED, expected,
                         model_tasks_stolen == 0 ? "no execution stole anything: the test is too weak"
                                                 : NULL);
}
