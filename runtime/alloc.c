/* alloc.c: the one allocator (see alloc.h). */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "testhooks.h"

#if defined(FG_TEST_HOOKS) && FG_TEST_HOOKS
/* The hooked build: each allocation may be the one chosen to fail. */
#  undef fg__alloc
#  undef fg__alloc_zeroed
#  undef fg__alloc_aligned
#  define FG__FAIL_AT(site) if (fg__fault_fail_now(site)) return NULL
#  define FG__SITE_PARAM , const char *site
#  define FG__NAME(name) name##_at
#else
#  define FG__FAIL_AT(site) (void)0
#  define FG__SITE_PARAM
#  define FG__NAME(name) name
#endif

void *FG__NAME(fg__alloc)(size_t size FG__SITE_PARAM)
{
    FG__FAIL_AT(site);
    return malloc(size);
}

void *FG__NAME(fg__alloc_zeroed)(size_t size FG__SITE_PARAM)
{
    FG__FAIL_AT(site);
    return calloc(1, size);
}

void *FG__NAME(fg__alloc_aligned)(size_t align, size_t size FG__SITE_PARAM)
{
    FG__FAIL_AT(site);
    void *p = NULL;
    if (align < sizeof(void *))
        align = sizeof(void *);
    if (posix_memalign(&p, align, size) != 0)
        return NULL;
    return p;
}

#if defined(FG_TEST_HOOKS) && FG_TEST_HOOKS
/* Untracked entry points, for code compiled without the site macros. */
void *fg__alloc(size_t size) { return fg__alloc_at(size, "?"); }
void *fg__alloc_zeroed(size_t size) { return fg__alloc_zeroed_at(size, "?"); }
void *fg__alloc_aligned(size_t align, size_t size) { return fg__alloc_aligned_at(align, size, "?"); }
#endif

void fg__free(void *ptr)
{
    free(ptr);
}
