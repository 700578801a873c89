/* element.h: moving array elements whose size is known only at run time
 * (fg_parallel_scan, fg_parallel_sort).  The common sizes are spelled out
 * so that they compile to register moves instead of memcpy calls. */
#ifndef FG_FACADE_ELEMENT_H
#define FG_FACADE_ELEMENT_H

#include <stddef.h>
#include <string.h>

static inline void fg__elem_copy(void *dst, const void *src, size_t size)
{
    switch (size) {
    case 4: memcpy(dst, src, 4); break;
    case 8: memcpy(dst, src, 8); break;
    case 16: memcpy(dst, src, 16); break;
    default: memcpy(dst, src, size); break;
    }
}

static inline void fg__elem_swap(void *a, void *b, size_t size)
{
    unsigned char *x = a, *y = b, t[64];
    if (x == y)
        return; /* memcpy onto itself is undefined */
    if (size == 8 || size == 4 || size == 16) { /* register moves */
        fg__elem_copy(t, x, size);
        fg__elem_copy(x, y, size);
        fg__elem_copy(y, t, size);
        return;
    }
    while (size > 0) { /* through a small buffer: elements may be large */
        size_t k = size < sizeof t ? size : sizeof t;
        memcpy(t, x, k);
        memcpy(x, y, k);
        memcpy(y, t, k);
        x += k;
        y += k;
        size -= k;
    }
}

#endif
