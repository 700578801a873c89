/* tests/mpi/edge.c: small and empty ranges (meson: np = 4).
 *   - empty ranges ([0, 0) and [100, 100)): 0 on every rank, nothing run,
 *     nothing written;
 *   - ranges shorter than the number of ranks (1, 2, 3 tasks at np = 4) and
 *     just longer (5): exact results on the root, each task once;
 *   - result_size 0 with NULL results everywhere: every task runs once;
 *   - 50 calls in a row on the same façades (the window is set up and torn
 *     down each call). */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"

typedef struct counted {
    size_t begin;
    _Atomic int *count;
} counted;

static int square(size_t i, void *ctx, void *result)
{
    counted *c = ctx;
    atomic_fetch_add_explicit(&c->count[i - c->begin], 1, memory_order_relaxed);
    if (result != NULL)
        *(uint64_t *)result = (uint64_t)i * i;
    return 0;
}

static void range(fg_parallel *par, size_t begin, size_t n, size_t result_size,
                  const char *what)
{
    counted c = { begin, calloc(n + 1, sizeof(int)) };
    uint64_t *out = result_size != 0 ? malloc((n + 1) * sizeof *out) : NULL;
    if (out != NULL)
        memset(out, 0xcd, (n + 1) * sizeof *out);
    fg_error_info info = FG_ERROR_INFO_INIT(.tasks_run = 99);
    int rc = fg_mpi_parallel_map(MPI_COMM_WORLD, par, (fg_delayed){ square, &c, result_size },
                                 begin, begin + n, out, &info);
    CHECK(rc == 0, "%s: rc %d", what, rc);
    CHECK(info.tasks_run == n && info.code == 0, "%s: tasks_run %zu", what, info.tasks_run);
    int *sum = calloc(n + 1, sizeof *sum);
    MPI_Allreduce((int *)c.count, sum, (int)n + 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    for (size_t k = 0; k < n; k++)
        CHECK(sum[k] == 1, "%s: task %zu ran %d times", what, begin + k, sum[k]);
    CHECK(sum[n] == 0, "%s: a task past the end ran", what);
    if (out != NULL && mpi_test_rank == 0) {
        for (size_t k = 0; k < n; k++)
            CHECK(out[k] == (uint64_t)(begin + k) * (begin + k), "%s: result %zu = %llu", what,
                  k, (unsigned long long)out[k]);
        CHECK(out[n] == 0xcdcdcdcdcdcdcdcdull, "%s: written past the end", what);
    }
    free(sum);
    free((void *)c.count);
    free(out);
}

int main(int argc, char **argv)
{
    mpi_test_begin(&argc, &argv);
    const long batches[] = { 1, 7, FG_BATCH_AUTO };
    char what[96];
    for (size_t b = 0; b < 3; b++) {
        fg_parallel *par = mpi_test_open(FG_PARALLEL_OPTS(.n_jobs = 1 + mpi_test_rank % 2,
                                                          .batch_size = batches[b]));
        const size_t sizes[] = { 0, 1, 2, 3, 5 };
        for (size_t s = 0; s < 5; s++)
            for (size_t begin = 0; begin <= 100; begin += 100) {
                snprintf(what, sizeof what, "batch %ld, [%zu, %zu)", batches[b], begin,
                         begin + sizes[s]);
                range(par, begin, sizes[s], sizeof(uint64_t), what);
                snprintf(what, sizeof what, "batch %ld, [%zu, %zu), no results", batches[b],
                         begin, begin + sizes[s]);
                range(par, begin, sizes[s], 0, what);
            }
        for (int rep = 0; rep < 50; rep++) {
            snprintf(what, sizeof what, "batch %ld, call %d in a row", batches[b], rep);
            range(par, (size_t)rep, 37, sizeof(uint64_t), what);
        }
        fg_parallel_close(par);
    }
    return mpi_test_end("mpi-edge");
}
