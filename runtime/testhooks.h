/* testhooks.h: fault injection and schedule perturbation, for tests only.
 *
 * The shipped library is built with FG_TEST_HOOKS=0: FG__PERTURB() is empty
 * and no allocation can be made to fail.  tests/ builds a second static
 * library, forage-hooked, from the same sources with FG_TEST_HOOKS=1, and the
 * fault-injection and stress programs link that one.  There:
 *
 * - FG__PERTURB(site) marks a racy point of a protocol (between two atomic
 *   steps whose interleaving with other threads the proof is about).  When
 *   perturbation is on, a random fraction of the crossings spin for a while
 *   or yield the CPU, so rare interleavings become common.
 * - Every resource acquisition that can fail (fg__alloc*, pthread_create)
 *   asks fg__fault_fail_now(site) first; the test picks which one fails by
 *   its ordinal number since the last fg__test_fail_nth call.
 *
 * Controls are process-wide relaxed atomics: tests set them while no pool
 * is running the code under test, so no ordering is needed.
 */
#ifndef FG_TESTHOOKS_H
#define FG_TESTHOOKS_H

#include <stdbool.h>
#include <stdint.h>

#if defined(FG_TEST_HOOKS) && FG_TEST_HOOKS

void fg__perturb(void);
bool fg__fault_fail_now(const char *site);
#  define FG__PERTURB() fg__perturb()

/* Perturb a racy point with probability spin_per_mille/1000 (a spin of up
 * to 63 pauses) or yield_per_mille/1000 (sched_yield).  0, 0: off. */
void fg__test_perturb(unsigned spin_per_mille, unsigned yield_per_mille);
/* Make the n-th acquisition from now fail (n >= 1); 0 disarms. */
void fg__test_fail_nth(uint64_t n);
/* Acquisitions since the last fg__test_fail_nth (counted even when unarmed). */
uint64_t fg__test_acquisitions(void);
/* Site (function name) of the failure injected since the last arming, or
 * NULL if the n-th acquisition was not reached. */
const char *fg__test_failed_site(void);

#else
#  define FG__PERTURB() ((void)0)
#endif

#endif
