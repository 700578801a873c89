/* model_main.hpp: what the Relacy models (deque_relacy.cpp,
 * split_relacy.cpp, ctx_relacy.cpp) share around rl::simulate: the search
 * chosen on the command line, and the exit status.
 *
 * Usage of every model: NAME [ITERATIONS]  random scheduler
 *                       NAME bound K       context-bound search, at most K preemptions
 *                       NAME full          full search
 * On a failure Relacy replays the failing iteration and prints its history.
 */
#ifndef FG_MODEL_MAIN_HPP
#define FG_MODEL_MAIN_HPP

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fill p from argv; returns the scheduler's name for the header line. */
static const char *model_parse_args(int argc, char **argv, rl::test_params &p,
                                    unsigned long iterations)
{
    p.iteration_count = iterations;
    p.search_type = rl::random_scheduler_type;
    if (argc > 1 && strcmp(argv[1], "bound") == 0) {
        p.search_type = rl::fair_context_bound_scheduler_type;
        p.context_bound = argc > 2 ? (unsigned)atoi(argv[2]) : 1;
        return "context-bound";
    }
    if (argc > 1 && strcmp(argv[1], "full") == 0) {
        p.search_type = rl::fair_full_search_scheduler_type;
        return "full-search";
    }
    if (argc > 1)
        p.iteration_count = strtoull(argv[1], NULL, 10);
    return "random";
}

/* The exit status of a model run.  A real build passes (0) when nothing was
 * violated and the run was not too weak (too_weak: NULL, or why it was).
 * A weakened build is registered with should_fail: it exits 1 only when
 * caught by the violation its weakening must cause (expected_kind), else 0,
 * which Meson then reports. */
static int model_verdict(const char *name, bool ok, const rl::test_params &p, bool weakened,
                         bool expected_kind, const char *too_weak)
{
    if (!ok)
        printf("%s: %s at iteration %llu\n", name, rl::test_result_str(p.test_result),
               (unsigned long long)p.stop_iteration);
    if (weakened) {
        if (ok) {
            printf("%s: weakened build NOT caught\n", name);
            return 0;
        }
        if (!expected_kind) {
            printf("%s: weakened build failed, but not as expected\n", name);
            return 0;
        }
        printf("%s: weakened build caught, as expected\n", name);
        return 1;
    }
    if (ok && too_weak != NULL) {
        printf("%s: %s\n", name, too_weak);
        return 1;
    }
    return ok ? 0 : 1;
}

#endif
