/* alloc.c: the one allocator (see alloc.h). */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

void *fg__alloc(size_t size)
{
    return malloc(size);
}

void *fg__alloc_zeroed(size_t size)
{
    return calloc(1, size);
}

void *fg__alloc_aligned(size_t align, size_t size)
{
    void *p = NULL;
    if (align < sizeof(void *))
        align = sizeof(void *);
    if (posix_memalign(&p, align, size) != 0)
        return NULL;
    return p;
}

void fg__free(void *ptr)
{
    free(ptr);
}
