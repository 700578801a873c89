/* tests/unit/deque.c: the Chase-Lev deque (runtime/deque.h), single-threaded.
 *
 * With one thread no steal can abort, so every result is exact: take is
 * LIFO, steal is FIFO, and every pushed job comes back exactly once. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>

#include "deque.h"
#include "forage.h"
#include "job.h"

static fg__job *jobs_new(size_t n)
{
    fg__job *jobs = calloc(n, sizeof *jobs);
    cr_assert_not_null(jobs, "calloc of %zu jobs failed", n);
    return jobs;
}

static int is_power_of_two(int64_t x)
{
    return x > 0 && (x & (x - 1)) == 0;
}

static fg__job *steal_one(fg__deque *dq)
{
    fg__job *job = NULL;
    fg__steal_result r = fg__deque_steal(dq, &job);
    cr_assert_eq(r, FG__STEAL_SUCCESS, "steal returned %d, wanted SUCCESS", (int)r);
    return job;
}

static void assert_empty(fg__deque *dq)
{
    fg__job *job = (fg__job *)(uintptr_t)1; /* must stay untouched */
    cr_assert_eq(fg__deque_size(dq), 0);
    cr_assert_null(fg__deque_take(dq), "take on an empty deque returned a job");
    cr_assert_eq(fg__deque_steal(dq, &job), FG__STEAL_EMPTY);
    cr_assert_eq(job, (fg__job *)(uintptr_t)1, "failed steal wrote *out");
    /* A failed take must leave the deque usable (bottom restored). */
    cr_assert_eq(fg__deque_size(dq), 0);
}

TestSuite(deque, .timeout = 60);

Test(deque, push_take_is_lifo)
{
    fg__deque dq;
    cr_assert_eq(fg__deque_init(&dq, 4), 0);
    fg__job *jobs = jobs_new(10);
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(fg__deque_push(&dq, &jobs[i]), 0);
        cr_assert_eq(fg__deque_size(&dq), i + 1);
    }
    for (int i = 9; i >= 0; i--) {
        fg__job *job = fg__deque_take(&dq);
        cr_assert_eq(job, &jobs[i], "take %d: got job %td, wanted %d",
                     9 - i, job != NULL ? job - jobs : -1, i);
        cr_assert_eq(fg__deque_size(&dq), i);
    }
    assert_empty(&dq);
    fg__deque_destroy(&dq);
    free(jobs);
}

Test(deque, push_steal_is_fifo)
{
    fg__deque dq;
    cr_assert_eq(fg__deque_init(&dq, 4), 0);
    fg__job *jobs = jobs_new(10);
    for (int i = 0; i < 10; i++)
        cr_assert_eq(fg__deque_push(&dq, &jobs[i]), 0);
    for (int i = 0; i < 10; i++) {
        fg__job *job = NULL;
        cr_assert_eq(fg__deque_steal(&dq, &job), FG__STEAL_SUCCESS, "steal %d", i);
        cr_assert_eq(job, &jobs[i], "steal %d: got job %td", i,
                     job != NULL ? job - jobs : -1);
        cr_assert_eq(fg__deque_size(&dq), 9 - i);
    }
    fg__job *job = NULL;
    cr_assert_eq(fg__deque_steal(&dq, &job), FG__STEAL_EMPTY);
    cr_assert_eq(fg__deque_steal(&dq, &job), FG__STEAL_EMPTY);
    cr_assert_null(job);
    fg__deque_destroy(&dq);
    free(jobs);
}

Test(deque, empty_take_and_steal)
{
    fg__deque dq;
    cr_assert_eq(fg__deque_init(&dq, 0), 0);
    cr_assert_eq(fg__deque_capacity(&dq), 1);
    assert_empty(&dq);
    assert_empty(&dq); /* twice: the first failed take must not corrupt bottom */
    /* Still works after the failed calls. */
    fg__job j;
    cr_assert_eq(fg__deque_push(&dq, &j), 0);
    cr_assert_eq(fg__deque_size(&dq), 1);
    cr_assert_eq(fg__deque_take(&dq), &j);
    assert_empty(&dq);
    cr_assert_eq(fg__deque_push(&dq, &j), 0);
    cr_assert_eq(steal_one(&dq), &j);
    assert_empty(&dq);
    fg__deque_destroy(&dq);
}

Test(deque, interleaved_take_and_steal_each_once)
{
    enum { N = 1001 };
    fg__deque dq;
    cr_assert_eq(fg__deque_init(&dq, 3), 0);
    fg__job *jobs = jobs_new(N);
    int seen[N] = { 0 };
    for (int i = 0; i < N; i++)
        cr_assert_eq(fg__deque_push(&dq, &jobs[i]), 0);
    int lo = 0, hi = N - 1; /* steals come from lo upwards, takes from hi down */
    for (int k = 0; k < N; k++) {
        fg__job *job;
        if (k % 2 == 0) {
            job = fg__deque_take(&dq);
            cr_assert_eq(job, &jobs[hi], "take at step %d", k);
            hi--;
        } else {
            job = steal_one(&dq);
            cr_assert_eq(job, &jobs[lo], "steal at step %d", k);
            lo++;
        }
        seen[job - jobs]++;
        cr_assert_eq(fg__deque_size(&dq), N - 1 - k);
    }
    cr_assert_eq(lo, hi + 1);
    for (int i = 0; i < N; i++)
        cr_assert_eq(seen[i], 1, "job %d returned %d times", i, seen[i]);
    assert_empty(&dq);
    fg__deque_destroy(&dq);
    free(jobs);
}

/* The last element is where take and steal race (I4): with one thread,
 * alternating single push + take/steal must hit that path every time. */
Test(deque, last_element_take_and_steal)
{
    fg__deque dq;
    cr_assert_eq(fg__deque_init(&dq, 1), 0);
    fg__job *jobs = jobs_new(100);
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(fg__deque_push(&dq, &jobs[i]), 0);
        fg__job *job = (i % 2 == 0) ? fg__deque_take(&dq) : steal_one(&dq);
        cr_assert_eq(job, &jobs[i], "round %d", i);
        assert_empty(&dq);
    }
    cr_assert_eq(fg__deque_capacity(&dq), 2, "no growth needed for one element");
    fg__deque_destroy(&dq);
    free(jobs);
}

Test(deque, growth_to_a_million)
{
    enum { N = 1000000 };
    fg__deque dq;
    cr_assert_eq(fg__deque_init(&dq, 1), 0);
    cr_assert_eq(fg__deque_capacity(&dq), 2);
    fg__job *jobs = jobs_new(N);
    for (int i = 0; i < N; i++)
        if (fg__deque_push(&dq, &jobs[i]) != 0)
            cr_assert_fail("push %d failed", i);
    int64_t cap = fg__deque_capacity(&dq);
    cr_assert(is_power_of_two(cap), "capacity %lld is not a power of two", (long long)cap);
    cr_assert_geq(cap, (int64_t)1 << 20);
    cr_assert_eq(cap, (int64_t)1 << 20, "capacity %lld: grew further than needed",
                 (long long)cap);
    cr_assert_eq(fg__deque_size(&dq), N);

    for (int i = 0; i < N / 2; i++) {
        fg__job *job = NULL;
        if (fg__deque_steal(&dq, &job) != FG__STEAL_SUCCESS || job != &jobs[i])
            cr_assert_fail("steal %d: got job %td", i, job != NULL ? job - jobs : -1);
    }
    cr_assert_eq(fg__deque_size(&dq), N / 2);
    for (int i = N - 1; i >= N / 2; i--) {
        fg__job *job = fg__deque_take(&dq);
        if (job != &jobs[i])
            cr_assert_fail("take wanted %d: got job %td", i, job != NULL ? job - jobs : -1);
    }
    assert_empty(&dq);
    cr_assert_eq(fg__deque_capacity(&dq), cap, "draining must not shrink the array");
    fg__deque_destroy(&dq);
    free(jobs);
}

/* top > 0 and the live range wraps around the mask when the array grows:
 * grow copies [top, bottom) by index, so positions change but order must
 * not. */
Test(deque, growth_with_wraparound)
{
    fg__deque dq;
    cr_assert_eq(fg__deque_init(&dq, 2), 0); /* capacity 4 */
    fg__job *jobs = jobs_new(16);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(fg__deque_push(&dq, &jobs[i]), 0);
    cr_assert_eq(steal_one(&dq), &jobs[0]);
    cr_assert_eq(steal_one(&dq), &jobs[1]); /* top = 2, bottom = 3 */
    for (int i = 3; i < 6; i++)             /* slots 3, 0, 1: wraps */
        cr_assert_eq(fg__deque_push(&dq, &jobs[i]), 0);
    cr_assert_eq(fg__deque_capacity(&dq), 4, "4 live jobs fit without growth");
    cr_assert_eq(fg__deque_size(&dq), 4);
    cr_assert_eq(fg__deque_push(&dq, &jobs[6]), 0); /* full: grows to 8 */
    cr_assert_eq(fg__deque_capacity(&dq), 8);
    cr_assert_eq(fg__deque_push(&dq, &jobs[7]), 0);
    cr_assert_eq(fg__deque_size(&dq), 6);
    cr_assert_eq(steal_one(&dq), &jobs[2]);
    cr_assert_eq(steal_one(&dq), &jobs[3]);
    cr_assert_eq(fg__deque_take(&dq), &jobs[7]);
    cr_assert_eq(steal_one(&dq), &jobs[4]);
    cr_assert_eq(fg__deque_take(&dq), &jobs[6]);
    cr_assert_eq(fg__deque_take(&dq), &jobs[5]);
    assert_empty(&dq);
    fg__deque_destroy(&dq);
    free(jobs);
}

/* A long deterministic mix of push/take/steal against a reference model:
 * top climbs far past the capacity, so the live range wraps the mask many
 * times and the array grows while top > 0. */
Test(deque, random_ops_match_model)
{
    enum { OPS = 200000, CAP = OPS };
    fg__deque dq;
    cr_assert_eq(fg__deque_init(&dq, 1), 0);
    fg__job *jobs = jobs_new(OPS);
    fg__job **model = calloc(CAP, sizeof *model); /* model[top..bottom) */
    cr_assert_not_null(model);
    size_t top = 0, bottom = 0, next = 0;
    uint64_t rng = 0x9E3779B97F4A7C15ull; /* fixed seed: reproducible */
    int64_t last_cap = fg__deque_capacity(&dq);
    int grew_with_top = 0;
    for (int k = 0; k < OPS; k++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        unsigned op = (unsigned)(rng >> 32) % 8; /* 4/8 push, 2/8 take, 2/8 steal */
        if (op < 4 && next < (size_t)OPS) {
            cr_assert_eq(fg__deque_push(&dq, &jobs[next]), 0);
            model[bottom++] = &jobs[next++];
            int64_t cap = fg__deque_capacity(&dq);
            if (cap != last_cap) {
                cr_assert_eq(cap, 2 * last_cap, "growth must double");
                grew_with_top += top > 0;
                last_cap = cap;
            }
        } else if (op < 6) {
            fg__job *job = fg__deque_take(&dq);
            fg__job *want = bottom > top ? model[--bottom] : NULL;
            if (job != want)
                cr_assert_fail("op %d take: got %td want %td", k,
                               job ? job - jobs : -1, want ? want - jobs : -1);
        } else {
            fg__job *job = NULL;
            fg__steal_result r = fg__deque_steal(&dq, &job);
            if (bottom > top) {
                if (r != FG__STEAL_SUCCESS || job != model[top])
                    cr_assert_fail("op %d steal: result %d got %td want %td", k, (int)r,
                                   job ? job - jobs : -1, model[top] - jobs);
                top++;
            } else {
                cr_assert_eq(r, FG__STEAL_EMPTY, "op %d", k);
            }
        }
        if (fg__deque_size(&dq) != (int64_t)(bottom - top))
            cr_assert_fail("op %d: size %lld, model %zu", k,
                           (long long)fg__deque_size(&dq), bottom - top);
    }
    cr_assert_gt(top, (size_t)last_cap, "top should have wrapped the mask");
    cr_assert_gt(grew_with_top, 0, "expected growth while top > 0");
    while (bottom > top) /* drain FIFO */
        cr_assert_eq(steal_one(&dq), model[top++]);
    assert_empty(&dq);
    fg__deque_destroy(&dq);
    free(model);
    free(jobs);
}

Test(deque, init_rejects_huge_capacity)
{
    fg__deque dq;
    cr_assert_eq(fg__deque_init(&dq, 41), FG_EINVAL);
    cr_assert_eq(fg__deque_init(&dq, 1000), FG_EINVAL);
    /* The limit itself is not rejected as invalid (2^40 slots would be
     * 8 TiB, so it may fail with FG_ENOMEM, but never with FG_EINVAL). */
    cr_assert_eq(fg__deque_init(&dq, 20), 0);
    cr_assert_eq(fg__deque_capacity(&dq), (int64_t)1 << 20);
    fg__deque_destroy(&dq);
}
