/* split_relacy.cpp: Relacy model check of the split deque, compiled from the
 * real runtime/split_deque.h and runtime/split_deque.c through the FG_RELACY
 * mapping of runtime/atomics.h, with a capacity of 4 slots.  See
 * docs/design/split_deque.md and docs/design/verification.md.
 *
 * One owner and two thieves.  The owner pushes jobs 0, 1, 2 (job 0 is shared
 * at once: the deque starts all-stolen), takes one, pushes job 3, drains with
 * take until NULL, then pushes job 4 and takes it (after a drain that found
 * everything stolen this push restarts at slot 0 and may have to wait for a
 * thief's ack of that slot).  Each thief makes THIEF_ATTEMPTS steal calls;
 * an empty steal raises splitreq, so the owner's share path runs too.
 * Checked in every explored execution:
 *   - no job is returned twice, none is lost, the deque ends empty;
 *   - the payload (an rl::var) read through a returned pointer is the one
 *     written before the push, with no data race ([split-share] publishes
 *     it; a missing release shows up as a race);
 *   - no leak (fg__split_destroy frees the slots).
 * Weakened builds, each of which must be caught (this program then exits 1,
 * and only for the expected kind of violation):
 *   FG_MODEL_WEAKEN_SPLIT_SHARE  the sharing release made relaxed
 *                                (split_deque.c): a data race on a payload;
 *   FG_MODEL_DROP_SPLIT_ACK      the owner does not wait for a thief's ack
 *                                before reusing a slot (split_deque.h): a
 *                                job lost, doubled or NULL.
 * Arguments: none or ITERATIONS (random scheduler), `bound K` (context-bound
 * search with at most K preemptions).
 */
#include <relacy/relacy.hpp>

#include "model_main.hpp"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FG__SPLIT_CAPACITY 4u
/* The real split deque: split_deque.c includes split_deque.h, atomics.h,
 * alloc.h, forage.h and job.h. */
#include "split_deque.c"
#include "oracle.hpp"

#ifndef MODEL_ITERATIONS
#  define MODEL_ITERATIONS 1000000
#endif
#define N_JOBS 5
#define THIEF_ATTEMPTS 3

/* ------------------------------------------------------------ allocation
 * split_deque.c allocates only the slot array: construct its rl::atomic
 * slots here and destroy them on free.  Memory comes from Relacy, which
 * reports leaks, double frees and bad frees. */
typedef FG__ATOMIC(struct fg__job *) model_slot;

#pragma push_macro("new")
#undef new
void *fg__alloc(size_t size)
{
    RL_ASSERT(size == sizeof(model_slot) * FG__SPLIT_CAPACITY);
    model_slot *s = (model_slot *)rl::rl_malloc(size, $);
    for (size_t i = 0; i < FG__SPLIT_CAPACITY; i++)
        new (&s[i]) model_slot();
    return s;
}

/* The deque lives in 64-byte aligned static storage (Relacy allocates the
 * test object with malloc, which ignores alignas(64)). */
alignas(FG__CACHE_LINE) static unsigned char model_dq_storage[sizeof(fg__split_deque)];

static fg__split_deque *model_deque_construct(void)
{
    return new (model_dq_storage) fg__split_deque();
}
#pragma pop_macro("new")

void fg__free(void *ptr)
{
    if (ptr == NULL)
        return;
    model_slot *s = (model_slot *)ptr;
    for (size_t i = 0; i < FG__SPLIT_CAPACITY; i++)
        s[i].~model_slot();
    rl::rl_free(ptr, $);
}

static unsigned long model_iterations_run, model_jobs_stolen, model_restarts_waited;

struct split_test : rl::test_suite<split_test, 3> {
    fg__split_deque *dq;
    model_oracle<N_JOBS> oracle;
    int stolen; /* outside the model, as the oracle's counts */

    void before()
    {
        dq = model_deque_construct();
        RL_ASSERT(fg__split_init(dq) == 0);
        oracle.reset();
        stolen = 0;
    }

    void push(int i)
    {
        int rc = fg__split_push(dq, oracle.publish(i));
        RL_ASSERT(rc >= 0 && "full: the scenario stays below 4 slots");
    }

    void owner()
    {
        push(0);
        push(1);
        push(2);
        fg__job *j = fg__split_take(dq);
        if (j != NULL)
            oracle.consume(j);
        push(3);
        while ((j = fg__split_take(dq)) != NULL)
            oracle.consume(j);
        bool restart = dq->all_stolen;
        push(4);
        if (restart)
            model_restarts_waited++;
        if ((j = fg__split_take(dq)) != NULL)
            oracle.consume(j);
    }

    void thief()
    {
        for (int k = 0; k < THIEF_ATTEMPTS; k++) {
            fg__job *j = NULL;
            if (fg__split_steal(dq, &j) == FG__STEAL_SUCCESS) {
                oracle.consume(j);
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
        /* Job 4 may still be shared if no thief came back for it. */
        fg__job *j;
        while ((j = fg__split_take(dq)) != NULL)
            oracle.consume(j);
        oracle.expect_each_once();
        RL_ASSERT(fg__split_size(dq) == 0);
        model_iterations_run++;
        model_jobs_stolen += (unsigned long)stolen;
        fg__split_destroy(dq);
        dq->~fg__split_deque();
    }
};

#if defined(FG_MODEL_WEAKEN_SPLIT_SHARE) || defined(FG_MODEL_DROP_SPLIT_ACK)
#  define MODEL_WEAKENED 1
#else
#  define MODEL_WEAKENED 0
#endif

int main(int argc, char **argv)
{
    rl::test_params p;
    const char *sched = model_parse_args(argc, argv, p, MODEL_ITERATIONS);
    printf("model-split: %s, %s scheduler, 1 owner + 2 thieves, %d jobs, capacity %u\n",
           MODEL_WEAKENED ? "WEAKENED" : "real orders", sched, N_JOBS, FG__SPLIT_CAPACITY);
    fflush(stdout);

    bool ok = rl::simulate<split_test>(p);

    if (ok)
        printf("model-split: no violation in %lu iterations (%lu jobs stolen, %lu restarts)\n",
               model_iterations_run, model_jobs_stolen, model_restarts_waited);
#if defined(FG_MODEL_WEAKEN_SPLIT_SHARE)
    bool expected = p.test_result == rl::test_result_data_race;
#else /* the owner reuses a slot its thief has not read: a lost or doubled job */
    bool expected = p.test_result == rl::test_result_user_assert_failed;
#endif
    return model_verdict("model-split", ok, p, MODEL_WEAKENED, expected,
                         model_jobs_stolen == 0 ? "no execution stole anything: the test is too weak"
                                                : NULL);
}
