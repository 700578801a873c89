/* seed_task.h: the seed notebook's task, shared by the demo, the seed
 * benchmark and the tests that reproduce joblib's output, and the strict
 * whole-number parser of their command lines.
 *
 * my_task(n) is the notebook's `sum(m for m in range(n))`.  The empty asm
 * says `sum` may have changed after every addition, so gcc and clang -O3
 * keep one scalar add per m instead of the closed form n(n-1)/2 (clang) or
 * a vector loop (gcc): `objdump -d forage-demo | grep -A10 '<my_task>:'`
 * shows the four-instruction loop (add, add, cmp, jne) for both. */
#ifndef FG_EXAMPLES_SEED_TASK_H
#define FG_EXAMPLES_SEED_TASK_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

__attribute__((noinline)) static uint64_t my_task(uint64_t n)
{
    uint64_t sum = 0;
    for (uint64_t m = 0; m < n; m++) {
        sum += m;
        __asm__ volatile("" : "+r"(sum));
    }
    return sum;
}

/* delayed(my_task)(i) for the façade: one uint64_t result per index. */
static inline int my_task_delayed(size_t i, void *ctx, void *result)
{
    (void)ctx;
    *(uint64_t *)result = my_task(i);
    return 0;
}

/* The checksum: the sum of all results, mod 2^64. */
static inline uint64_t seed_checksum(const uint64_t *results, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += results[i];
    return s;
}

/* What it must be for tasks 0..n-1: the sum of m < i over i < n is C(n, 3)
 * (10665866680000 for the notebook's n = 40000; no 64-bit wrap there). */
static inline uint64_t seed_reference_checksum(uint64_t n)
{
    return n >= 3 ? n * (n - 1) * (n - 2) / 6 : 0;
}

/* A whole number filling all of s: 0 and *out set, or -1. */
static inline int seed_parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

#endif
