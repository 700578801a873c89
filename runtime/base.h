/* base.h: the utilities every part of forage shares: the cache line, the
 * clock, the random number generator, container_of, and the rule for
 * structs that carry their own size.  Nothing here has state or knows a
 * pool, so the façade (facade/seam.h), the Relacy models and the simulator
 * may include it as well as the runtime.
 */
#ifndef FG_BASE_H
#define FG_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* The unit of false sharing on the machines forage targets (x86-64 and
 * most AArch64 cores): fields written by different threads sit in
 * different lines of this size. */
#define FG__CACHE_LINE 64

#define FG__CONTAINER_OF(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))

#if defined(__GNUC__)
#  define FG__COLD __attribute__((cold, noinline))
#else
#  define FG__COLD
#endif

/* CLOCK_MONOTONIC in ns: the one clock of counters, traces, recordings and
 * the façade's progress lines (a vDSO call, no system call, on Linux). */
static inline uint64_t fg__clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64* (Vigna 2016): 3 shifts and a multiply, period 2^64 - 1.
 * The state must never be 0. */
static inline uint64_t fg__rng_next(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1Dull;
}

/* A nonzero state for stream `index` of `seed`: splitmix64 of the pair, so
 * that the workers' streams are decorrelated. */
static inline uint64_t fg__rng_seed(uint64_t seed, int index)
{
    uint64_t z = seed + (uint64_t)(index + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z != 0 ? z : 0x9E3779B97F4A7C15ull;
}

/* Sized structs (forage.h, "Conventions").  The first field of each is
 * `size_t size`, the size the caller was compiled with.  Larger than this
 * is read as garbage rather than scanned: no struct of forage's will ever
 * grow to it. */
#define FG__STRUCT_SIZE_MAX 4096

/* Read a caller's struct `src` (may be NULL: all zeros) into `dst`, this
 * library's version, dst_size bytes: an older, smaller struct leaves the
 * fields it lacks at 0 (their default); a newer, larger one is accepted
 * only if every byte this library does not know is 0.  0, or -1 for a
 * size that is unset, too small to hold the size itself, or a newer
 * struct that sets fields this library lacks. */
static inline int fg__struct_read(void *dst, size_t dst_size, const void *src)
{
    memset(dst, 0, dst_size);
    if (src == NULL)
        return 0;
    size_t size;
    memcpy(&size, src, sizeof size);
    if (size < sizeof size || size > FG__STRUCT_SIZE_MAX)
        return -1;
    const unsigned char *bytes = (const unsigned char *)src;
    for (size_t i = dst_size; i < size; i++)
        if (bytes[i] != 0)
            return -1;
    memcpy(dst, src, size < dst_size ? size : dst_size);
    return 0;
}

/* Is the caller's out-struct `dst` sized (see fg__struct_read)? */
static inline int fg__struct_check_out(const void *dst)
{
    size_t size;
    memcpy(&size, dst, sizeof size);
    return size >= sizeof size && size <= FG__STRUCT_SIZE_MAX ? 0 : -1;
}

/* Write this library's struct `src` (src_size bytes, its own size field
 * included) to the caller's `dst`, which must pass fg__struct_check_out:
 * as many bytes as both know, keeping the caller's size. */
static inline void fg__struct_write(void *dst, const void *src, size_t src_size)
{
    size_t size;
    memcpy(&size, dst, sizeof size);
    size_t n = size < src_size ? size : src_size;
    memcpy((unsigned char *)dst + sizeof size, (const unsigned char *)src + sizeof size,
           n - sizeof size);
}

#endif
