/* deque_relacy.cpp: Relacy model check of the Chase-Lev deque, compiled from
 * the real runtime/deque.h and runtime/deque.c through the FG_RELACY mapping
 * of runtime/atomics.h.  See docs/design/verification.md.
 *
 * One owner and two thieves share a deque created with capacity 2.  The
 * owner pushes jobs 0, 1, 2 (the third push grows the array unless a thief
 * got in first), takes one, pushes job 3, then drains with take until it
 * returns NULL; each thief makes THIEF_ATTEMPTS steal calls.  Checked in
 * every explored execution:
 *   - no job is returned twice (owner's takes and thieves' steals together);
 *   - none is lost: after all threads end each job was returned once and
 *     the deque is empty;
 *   - the payload read through a returned pointer is the one the owner
 *     wrote before pushing it.  The payload is an rl::var, so Relacy also
 *     reports a data race if the read is not ordered after that write;
 *   - no memory or atomic leaks (fg__deque_destroy frees every array).
 *
 * Build flags (tests/model/meson.build):
 *   FG_MODEL_WEAKEN_TAKE_FENCE / FG_MODEL_WEAKEN_PUSH_FENCE drop one fence
 *   (atomics.h, Relacy mapping): the check must then report a violation,
 *   and this program exits 1 only if it is the expected kind.
 *   FG_TSAN_FRIENDLY=1 checks the variant without standalone fences.
 *   MODEL_ITERATIONS sets the random scheduler's default iteration count.
 * Arguments: none or ITERATIONS (random scheduler), `bound K` (every
 * execution with at most K preemptions), `full` (full search: too large to
 * finish for this test).
 */
#include <relacy/relacy.hpp>

#include "model_main.hpp"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FG_TSAN_FRIENDLY
#  define FG_TSAN_FRIENDLY 0
#endif

/* The real deque: deque.c includes deque.h, atomics.h, alloc.h, forage.h. */
#include "deque.c"
#include "job.h"
#include "oracle.hpp"

#ifndef MODEL_ITERATIONS
#  define MODEL_ITERATIONS 2000000
#endif
#define N_JOBS 4
#define THIEF_ATTEMPTS 2

/* ------------------------------------------------------------ allocation
 * deque.c allocates only in fg__deque_array_new, so every block is an
 * fg__deque_array: construct its rl::atomic slots here (C has no
 * constructors; deque.c then initialises them with fg__atomic_init) and
 * destroy them on free.  Memory comes from Relacy, which reports leaks,
 * double frees and bad frees. */
typedef FG__ATOMIC(struct fg__job *) model_slot;

static size_t model_slot_count(size_t bytes)
{
    RL_ASSERT(bytes >= sizeof(fg__deque_array));
    RL_ASSERT((bytes - sizeof(fg__deque_array)) % sizeof(model_slot) == 0);
    return (bytes - sizeof(fg__deque_array)) / sizeof(model_slot);
}

#pragma push_macro("new")
#undef new
void *fg__alloc(size_t size)
{
    fg__deque_array *a = (fg__deque_array *)rl::rl_malloc(size, $);
    size_t n = model_slot_count(size);
    for (size_t i = 0; i < n; i++)
        new (&a->slots[i]) model_slot();
    return a;
}

/* The deque under test lives in 64-byte aligned static storage (Relacy
 * allocates the test object with malloc, which does not honour the
 * alignas(64) of fg__deque's fields). */
alignas(FG__CACHE_LINE) static unsigned char model_dq_storage[sizeof(fg__deque)];

static fg__deque *model_deque_construct(void)
{
    return new (model_dq_storage) fg__deque();
}
#pragma pop_macro("new")

void fg__free(void *ptr)
{
    if (ptr == NULL)
        return;
    fg__deque_array *a = (fg__deque_array *)ptr;
    for (int64_t i = 0; i <= a->mask; i++)
        a->slots[i].~model_slot();
    rl::rl_free(ptr, $);
}

/* Statistics over all iterations (plain globals: outside the model). */
static unsigned long model_iterations_run;
static unsigned long model_iterations_grown;
static unsigned long model_jobs_stolen;

struct deque_test : rl::test_suite<deque_test, 3> {
    fg__deque *dq;
    model_oracle<N_JOBS> oracle;
    int stolen; /* outside the model, as the oracle's counts */

    void before()
    {
        dq = model_deque_construct();
        int rc = fg__deque_init(dq, 1); /* capacity 2 */
        RL_ASSERT(rc == 0);
        oracle.reset();
        stolen = 0;
    }

    void push(int i)
    {
        int rc = fg__deque_push(dq, oracle.publish(i));
        RL_ASSERT(rc == 0);
    }

    void owner()
    {
        push(0);
        push(1);
        push(2); /* grows 2 -> 4 unless a thief already took job 0 */
        fg__job *j = fg__deque_take(dq);
        if (j != NULL)
            oracle.consume(j);
        push(3);
        while ((j = fg__deque_take(dq)) != NULL)
            oracle.consume(j);
    }

    void thief()
    {
        for (int k = 0; k < THIEF_ATTEMPTS; k++) {
            fg__job *j = NULL;
            if (fg__deque_steal(dq, &j) == FG__STEAL_SUCCESS) {
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
        oracle.expect_each_once();
        RL_ASSERT(fg__deque_size(dq) == 0);
        model_iterations_run++;
        if (fg__deque_capacity(dq) > 2)
            model_iterations_grown++;
        model_jobs_stolen += (unsigned long)stolen;
        fg__deque_destroy(dq);
        dq->~fg__deque();
    }
};

#if defined(FG_MODEL_WEAKEN_TAKE_FENCE) || defined(FG_MODEL_WEAKEN_PUSH_FENCE)
#  define MODEL_WEAKENED 1
#else
#  define MODEL_WEAKENED 0
#endif

/* The violation a weakened build must produce.  Take fence ([deque-take]):
 * a job returned twice (assert), or a thief that read a stale bottom and so
 * ran a job whose payload write it does not see (data race).  Push fence
 * ([deque-publish]): a data race on the payload. */
#if MODEL_WEAKENED
static bool model_expected_failure(rl::test_result_e r)
{
#  if defined(FG_MODEL_WEAKEN_TAKE_FENCE)
    return r == rl::test_result_user_assert_failed || r == rl::test_result_data_race;
#  else /* FG_MODEL_WEAKEN_PUSH_FENCE */
    return r == rl::test_result_data_race;
#  endif
}
#endif

int main(int argc, char **argv)
{
    rl::test_params p;
    const char *sched = model_parse_args(argc, argv, p, MODEL_ITERATIONS);
    printf("model-deque: %s, %s, %s scheduler, "
           "1 owner + 2 thieves, %d jobs, initial capacity 2\n",
           MODEL_WEAKENED ? "WEAKENED" : "real orders",
           FG_TSAN_FRIENDLY ? "tsan_friendly" : "fences", sched, N_JOBS);
    fflush(stdout);

    bool ok = rl::simulate<deque_test>(p);

    if (ok)
        printf("model-deque: no violation in %lu iterations (%lu grew the "
               "array, %lu jobs stolen)\n",
               model_iterations_run, model_iterations_grown, model_jobs_stolen);
#if MODEL_WEAKENED
    bool expected = model_expected_failure(p.test_result);
#else
    bool expected = false;
#endif
    return model_verdict("model-deque", ok, p, MODEL_WEAKENED, expected,
                         model_iterations_grown == 0 ? "growth was never exercised" : NULL);
}
