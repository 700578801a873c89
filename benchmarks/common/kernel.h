/* kernel.h: what the kernel headers (fib.h, nqueens.h, ...) share.  They
 * are included by forage's programs (C, gcc), the OpenMP peers (C, gcc with
 * libgomp and clang with libomp) and the oneTBB peers (C++17), so they are
 * plain C that also compiles as C++: no compound literals, casts from
 * void *. */
#ifndef FG_BENCH_KERNEL_H
#define FG_BENCH_KERNEL_H

#include <stddef.h>
#include <stdint.h>

/* A sequential twin or leaf must stay a real call in every binary, so that
 * forage and each peer are measured against the same machine code shape;
 * `unused` because not every program calls every kernel of a header. */
#define BENCH_NOINLINE __attribute__((noinline, unused))

/* splitmix64's finaliser (Steele, Lea, Flood 2014): a cheap, well-mixed
 * 64-bit hash used by the UTS tree and the matrix contents. */
static inline uint64_t bench_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

#endif
