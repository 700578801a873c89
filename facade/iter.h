/* iter.h: what tests may ask an iterator (facade/iter.c) beyond forage.h. */
#ifndef FG_FACADE_ITER_H
#define FG_FACADE_ITER_H

#include "forage.h"

/* Threads inside fg_parallel_iter_next right now: a test that closes an
 * iterator while others read waits until every reader it let in is inside,
 * since next must not be entered once close has begun. */
int fg__iter_inside(fg_parallel_iter *it);
/* The window in slots, and the most slots in use at once so far: the
 * memory bound (docs/design/iter.md, "The window"). */
size_t fg__iter_window_slots(fg_parallel_iter *it);
size_t fg__iter_used_high(fg_parallel_iter *it);

#endif
