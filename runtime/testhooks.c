/* testhooks.c: the hooked test library's fault injection and perturbation
 * (see testhooks.h).  Built only into forage-hooked (FG_TEST_HOOKS=1).
 *
 * Every atomic here is relaxed: the counters only need to be exact (RMWs),
 * not ordered with anything, and the settings are written while the code
 * under test is quiescent.
 */
#include "testhooks.h"

#include <sched.h>

#include "atomics.h"
#include "base.h"

static FG__ATOMIC(unsigned) spin_rate;  /* per mille */
static FG__ATOMIC(unsigned) yield_rate; /* per mille */
static FG__ATOMIC(uint64_t) acquisitions;
static FG__ATOMIC(uint64_t) fail_at;    /* 0: disarmed */
static FG__ATOMIC(const char *) failed_site;

static _Thread_local uint64_t perturb_rng;

static uint64_t fg__perturb_next(void)
{
    if (perturb_rng == 0) /* first use on this thread: seed from its TLS address */
        perturb_rng = fg__rng_seed((uint64_t)(uintptr_t)&perturb_rng, 0);
    return fg__rng_next(&perturb_rng);
}

void fg__perturb(void)
{
    unsigned spin = fg__atomic_load(&spin_rate, FG__RELAXED);
    unsigned yield = fg__atomic_load(&yield_rate, FG__RELAXED);
    if (spin == 0 && yield == 0)
        return;
    uint64_t r = fg__perturb_next();
    unsigned roll = (unsigned)(r % 1000);
    if (roll < yield) {
        sched_yield();
    } else if (roll < yield + spin) {
        for (uint64_t i = (r >> 32) & 63; i > 0; i--)
            fg__cpu_relax();
    }
}

bool fg__fault_fail_now(const char *site)
{
    uint64_t n = fg__atomic_fetch_add(&acquisitions, 1, FG__RELAXED) + 1;
    if (n != fg__atomic_load(&fail_at, FG__RELAXED))
        return false;
    fg__atomic_store(&failed_site, site, FG__RELAXED);
    return true;
}

void fg__test_perturb(unsigned spin_per_mille, unsigned yield_per_mille)
{
    fg__atomic_store(&spin_rate, spin_per_mille, FG__RELAXED);
    fg__atomic_store(&yield_rate, yield_per_mille, FG__RELAXED);
}

void fg__test_fail_nth(uint64_t n)
{
    fg__atomic_store(&acquisitions, 0, FG__RELAXED);
    fg__atomic_store(&failed_site, NULL, FG__RELAXED);
    fg__atomic_store(&fail_at, n, FG__RELAXED);
}

uint64_t fg__test_acquisitions(void)
{
    return fg__atomic_load(&acquisitions, FG__RELAXED);
}

const char *fg__test_failed_site(void)
{
    return fg__atomic_load(&failed_site, FG__RELAXED);
}
