/* alloc.h: every allocation in forage goes through here, so that tests can
 * count allocations and inject failures in one place. */
#ifndef FG_ALLOC_H
#define FG_ALLOC_H

#include <stddef.h>

void *fg__alloc(size_t size);                   /* NULL on failure */
void *fg__alloc_zeroed(size_t size);            /* NULL on failure */
void *fg__alloc_aligned(size_t align, size_t size); /* align: power of 2 */
void  fg__free(void *ptr);

#endif
