/* tests/mpi/balance.c: a triangular load balances across ranks (meson:
 * np = 2).
 *
 * Task i spins i * k iterations (k calibrated so that a map costs about a
 * second of CPU), so the last tasks cost thousands of times the first:
 * a static split by index would give one rank three quarters of the work.
 * Each rank measures its busy time inside the program: the wall time spent
 * inside its tasks (CLOCK_MONOTONIC around each task, summed over its
 * workers).  Every rank's busy time must be within 15% of the mean.
 *
 * Why this is robust on a noisy shared machine: the property measured is
 * "every rank kept working until the counter ran out", not a speed.  A rank
 * the OS deschedules in the middle of a task still counts that time as
 * busy (it is inside the task) while the other rank claims more chunks;
 * what can make a rank's busy time short is idling, which the scheme must
 * prevent: at the end, by chunks that shrink to one batch.  Time lost
 * between tasks (a rank preempted while it claims) is the remaining noise,
 * and a second of work keeps 15% (150 ms) well above a scheduler's
 * time slices.  Each configuration may be retried twice, and the figures
 * of every attempt are printed. */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "harness.h"

typedef struct load {
    uint64_t k;
    _Atomic uint64_t busy_ns, weight, tasks;
} load;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t spin(uint64_t iterations)
{
    uint64_t x = 0;
    for (uint64_t j = 0; j < iterations; j++) {
        x += j;
        __asm__ volatile("" : "+r"(x));
    }
    return x;
}

static int triangle(size_t i, void *ctx, void *result)
{
    load *l = ctx;
    uint64_t t0 = now_ns();
    *(uint64_t *)result = spin(i * l->k);
    atomic_fetch_add_explicit(&l->busy_ns, now_ns() - t0, memory_order_relaxed);
    atomic_fetch_add_explicit(&l->weight, i, memory_order_relaxed);
    atomic_fetch_add_explicit(&l->tasks, 1, memory_order_relaxed);
    return 0;
}

/* Iterations per index so that n tasks cost about `seconds` of CPU. */
static uint64_t calibrate(size_t n, double seconds)
{
    uint64_t t0 = now_ns();
    spin(20000000);
    double per_iter = (double)(now_ns() - t0) * 1e-9 / 20000000.0;
    double total = (double)n * (double)(n - 1) / 2.0;
    uint64_t k = (uint64_t)(seconds / (per_iter * total));
    return k > 0 ? k : 1;
}

/* One map; true when every rank's busy time is within 15% of the mean. */
static bool attempt(long batch, int n_jobs, size_t n, uint64_t k, int round)
{
    load l = { .k = k };
    uint64_t *out = calloc(n, sizeof *out);
    fg_parallel *par = mpi_test_open(FG_PARALLEL_OPTS(.n_jobs = n_jobs, .batch_size = batch));
    int rc = fg_mpi_parallel_map(MPI_COMM_WORLD, par, (fg_delayed){ triangle, &l, sizeof *out },
                                 0, n, out, NULL);
    fg_parallel_close(par);
    CHECK(rc == 0, "rc %d", rc);
    double mine[3] = { (double)atomic_load(&l.busy_ns) * 1e-9, (double)atomic_load(&l.weight),
                       (double)atomic_load(&l.tasks) };
    double *all = calloc((size_t)mpi_test_ranks * 3, sizeof *all);
    MPI_Allgather(mine, 3, MPI_DOUBLE, all, 3, MPI_DOUBLE, MPI_COMM_WORLD);
    double mean = 0, weight = 0;
    for (int p = 0; p < mpi_test_ranks; p++) {
        mean += all[3 * p] / mpi_test_ranks;
        weight += all[3 * p + 1];
    }
    bool ok = true;
    for (int p = 0; p < mpi_test_ranks; p++) {
        double dev = (all[3 * p] - mean) / mean;
        ok = ok && dev <= 0.15 && dev >= -0.15;
        if (mpi_test_rank == 0)
            printf("balance batch=%ld n_jobs=%d attempt %d: rank %d busy %.3f s (%+.1f%% of "
                   "the mean), %.0f tasks, %.1f%% of the work\n",
                   batch, n_jobs, round, p, all[3 * p], 100 * dev, all[3 * p + 2],
                   100 * all[3 * p + 1] / weight);
    }
    free(all);
    free(out);
    return ok;
}

int main(int argc, char **argv)
{
    mpi_test_begin(&argc, &argv);
    const size_t n = 3000;
    uint64_t k = mpi_test_rank == 0 ? calibrate(n, 0.6) : 0;
    MPI_Bcast(&k, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    const long batches[] = { 1, 7, FG_BATCH_AUTO };
    for (size_t b = 0; b < 3; b++)
        for (int n_jobs = 1; n_jobs <= 2; n_jobs++) {
            bool ok = false;
            for (int round = 1; round <= 3 && !ok; round++)
                ok = attempt(batches[b], n_jobs, n, k, round);
            CHECK(ok, "batch %ld, n_jobs %d: a rank's busy time is more than 15%% from the "
                      "mean in 3 attempts", batches[b], n_jobs);
        }
    return mpi_test_end("mpi-balance");
}
