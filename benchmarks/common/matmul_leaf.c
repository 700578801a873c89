/* matmul_leaf.c: matmul's leaf, C += A * B on one block of at most
 * MM_LEAF x MM_LEAF, compiled once (benchmarks/meson.build: the project's
 * C compiler, -O3, nothing else) and linked into every matmul program, the
 * rayon one included: each runtime and each twin then runs the same machine
 * code, 64-byte aligned so that its loops sit at the same offsets in every
 * binary.
 *
 * Why one object: when each program compiled its own copy of the same
 * source, gcc (forage, libgomp, oneTBB, Lace) vectorised the inner loop two
 * doubles at a time with an overlap check per row, clang (libomp) and rustc
 * (rayon) unrolled it four times, and the clang and rustc twins ran 10-20%
 * faster than the gcc ones on this machine (docs/benchmarks.md): the table
 * compared compilers, not runtimes.  The inner loop is written with
 * explicit two-double vectors, four at a time, which every compiler turns
 * into the same loads, multiplies, adds and stores; it runs faster than
 * either compiler's own version of the scalar loop, so no peer loses.
 *
 * Order i-k-j as before: the inner loop streams a row of B into a row of
 * C.  Sums of small integers are exact in any order, so the checksum does
 * not depend on the vector width. */
#include <stddef.h>

#include "matmul.h"

typedef double mm_v2 __attribute__((vector_size(16), aligned(8))); /* unaligned rows */

__attribute__((aligned(64))) void mm_leaf(const mm_arg *m)
{
    size_t n = m->n, ld = m->ld, n8 = n & ~(size_t)7;
    for (size_t i = 0; i < n; i++) {
        double *restrict crow = m->c + i * ld;
        const double *arow = m->a + i * ld;
        for (size_t k = 0; k < n; k++) {
            const double *restrict brow = m->b + k * ld;
            double aik = arow[k];
            mm_v2 a2 = { aik, aik };
            for (size_t j = 0; j < n8; j += 8) {
                mm_v2 *c = (mm_v2 *)(crow + j);
                const mm_v2 *b = (const mm_v2 *)(brow + j);
                mm_v2 c0 = c[0] + a2 * b[0], c1 = c[1] + a2 * b[1];
                mm_v2 c2 = c[2] + a2 * b[2], c3 = c[3] + a2 * b[3];
                c[0] = c0;
                c[1] = c1;
                c[2] = c2;
                c[3] = c3;
            }
            for (size_t j = n8; j < n; j++) /* blocks under 8 wide: n < 8 */
                crow[j] += aik * brow[j];
        }
    }
}
