/* omp_probe.c: compiled and linked by benchmarks/meson.build with clang
 * -fopenmp=libomp at configure time; if that fails (no clang, no
 * libomp-dev) the *-libomp programs are skipped. */
#include <omp.h>

int main(void)
{
    int n = 0;
#pragma omp parallel reduction(+ : n)
    n += 1;
    return n > 0 ? 0 : 1;
}
