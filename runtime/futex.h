/* futex.h: block a thread on a 32-bit word; Linux futex or a portable
 * parking lot (hashed mutex/condvar buckets), chosen at build time.
 *
 * Contract (both implementations):
 *   fg__futex_wait(w, v) blocks only while *w == v, and may return spuriously:
 *   callers re-check their condition in a loop.
 *   fg__futex_wake(w, n) wakes up to n waiters on w.  It never dereferences w,
 *   so it may be called on a word whose memory was just freed by a woken
 *   waiter (the latch pattern: set, then wake).  Linux documents FUTEX_WAKE as
 *   keyed on the address only; the fallback only locks the bucket of w.
 */
#ifndef FG_FUTEX_H
#define FG_FUTEX_H

#include <stdint.h>

#include "atomics.h"

void fg__futex_wait(FG__ATOMIC(uint32_t) *word, uint32_t expected);
void fg__futex_wake(FG__ATOMIC(uint32_t) *word, int count);
/* In a forked child: the parking lot's locks may have been held by parent
 * threads at the fork; start them afresh (fork.c).  No-op with futexes. */
void fg__futex_after_fork(void);

#endif
