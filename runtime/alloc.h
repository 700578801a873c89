/* alloc.h: every allocation in forage goes through here, so that tests can
 * count allocations and inject failures in one place (testhooks.h).  In the
 * hooked test library each call also names its site (the calling function)
 * for the fault-injection report. */
#ifndef FG_ALLOC_H
#define FG_ALLOC_H

#include <stddef.h>

void *fg__alloc(size_t size);                   /* NULL on failure */
void *fg__alloc_zeroed(size_t size);            /* NULL on failure */
void *fg__alloc_aligned(size_t align, size_t size); /* align: power of 2 */
void  fg__free(void *ptr);

#if defined(FG_TEST_HOOKS) && FG_TEST_HOOKS
void *fg__alloc_at(size_t size, const char *site);
void *fg__alloc_zeroed_at(size_t size, const char *site);
void *fg__alloc_aligned_at(size_t align, size_t size, const char *site);
#  define fg__alloc(size)                fg__alloc_at((size), __func__)
#  define fg__alloc_zeroed(size)         fg__alloc_zeroed_at((size), __func__)
#  define fg__alloc_aligned(align, size) fg__alloc_aligned_at((align), (size), __func__)
#endif

#endif
