/* fib_typed.h: fib(n) as a typed ctx task (FG_TASK), no cutoff: the
 * n - 1 call is spawned, the n - 2 call is a plain call, then the sync.
 * One definition for the programs that run it: tests/unit/record.c and
 * tests/stress/record.c (which count its units) and benchmarks/fib/fib.c
 * (the forage-task variant).  Header-only: a program includes it once. */
#ifndef FG_TEST_FIB_TYPED_H
#define FG_TEST_FIB_TYPED_H

#include <stdint.h>

#include "forage.h"

FG_TASK(uint64_t, fib_typed, int);
static uint64_t fib_typed(fg_ctx *cx, int n)
{
    if (n < 2)
        return (uint64_t)n;
    fib_typed_spawn(cx, n - 1);
    uint64_t y = fib_typed(cx, n - 2);
    uint64_t x = fib_typed_sync(cx);
    return x + y;
}

#endif
