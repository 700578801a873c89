/* mpi_bench.c: forage-mpi's figures (docs/design/mpi.md).  Run under
 * mpiexec; rank 0 prints.  Not a test: nothing here asserts a speed.
 *
 *   fetch   MPI_Fetch_and_op + MPI_Win_flush round trips to rank 0's window
 *           (the claim counter's operation): from rank 0 itself, from one
 *           other rank alone, and from every rank at once (contended), in
 *           microseconds per round trip and claims per second at the root;
 *           plus MPI_Win_allocate + MPI_Win_free, MPI_Allreduce and
 *           MPI_Allgather, the collectives of one call.
 *   fixed   the fixed cost of one fg_mpi_parallel_map: calls over a range of
 *           np trivial tasks and over an empty range, median microseconds.
 *   seed    the seed workload (n tasks, task i = the sum below i, batch
 *           1000): fg_mpi_parallel_map with --workers per rank against the
 *           single-process STEAL backend with np * workers workers, run on
 *           rank 0 while the other ranks sleep; median seconds and the
 *           efficiency (single / mpi).
 *
 *     mpirun -np 2 --oversubscribe build/benchmarks/mpi-bench
 *     mpirun -np 4 --oversubscribe build/benchmarks/mpi-bench --only fixed
 *
 * usage: mpi-bench [--only fetch|fixed|seed] [--reps 7] [--n 40000]
 *                  [--workers 1] [--batch-size 1000]
 */
#include <forage_mpi.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../examples/seed_task.h"

typedef struct bench_args {
    const char *only;
    int reps, workers;
    long n, batch;
} bench_args;

static int me, ranks;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Wait for rank 0 without spinning a core (MPI_Barrier polls). */
static void sleepy_barrier(void)
{
    MPI_Request req;
    MPI_Ibarrier(MPI_COMM_WORLD, &req);
    int done = 0;
    while (!done) {
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (!done)
            nanosleep(&(struct timespec){ 0, 200000 }, NULL);
    }
}

/* ------------------------------------------------------------- fetch */

/* Round trips from `who` (a rank, or -1: every rank) to rank 0. */
static double round_trips(MPI_Win win, int who, int count)
{
    uint64_t one = 1, old;
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    if (who < 0 || who == me)
        for (int i = 0; i < count; i++) {
            MPI_Fetch_and_op(&one, &old, MPI_UINT64_T, 0, 0, MPI_SUM, win);
            MPI_Win_flush(0, win);
        }
    double us = (MPI_Wtime() - t0) * 1e6 / count;
    /* The slowest rank; ranks that did not measure report about 0. */
    double all = 0;
    MPI_Reduce(&us, &all, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
    return all;
}

static void bench_fetch(const bench_args *a)
{
    const int count = 20000;
    uint64_t *base;
    MPI_Win win;
    double t_win[64];
    int reps = a->reps < 64 ? a->reps : 64;
    for (int r = 0; r < reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        MPI_Win_allocate(me == 0 ? 64 : 0, 8, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win);
        MPI_Win_free(&win);
        t_win[r] = (MPI_Wtime() - t0) * 1e6;
    }
    MPI_Win_allocate(me == 0 ? 64 : 0, 8, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win);
    MPI_Win_lock_all(MPI_MODE_NOCHECK, win);
    double self = round_trips(win, 0, count);
    double other = ranks > 1 ? round_trips(win, ranks - 1, count) : 0.0;
    double all = round_trips(win, -1, count);
    MPI_Win_unlock_all(win);
    MPI_Win_free(&win);
    uint64_t x[8] = { 1 }, y[8 * 64];
    double t_red[64], t_gat[64];
    for (int r = 0; r < reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        for (int i = 0; i < 100; i++)
            MPI_Allreduce(MPI_IN_PLACE, x, 8, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
        t_red[r] = (MPI_Wtime() - t0) * 1e4;
        t0 = MPI_Wtime();
        for (int i = 0; i < 100; i++)
            MPI_Allgather(x, 6, MPI_UINT64_T, ranks <= 64 ? y : NULL, 6, MPI_UINT64_T,
                          MPI_COMM_WORLD);
        t_gat[r] = (MPI_Wtime() - t0) * 1e4;
    }
    if (me != 0)
        return;
    printf("fetch: MPI_Fetch_and_op + MPI_Win_flush on rank 0's window, np=%d\n", ranks);
    printf("  from rank 0 itself         %8.3f us per round trip\n", self);
    if (ranks > 1)
        printf("  from rank %d alone          %8.3f us per round trip\n", ranks - 1, other);
    printf("  from all %d ranks at once   %8.3f us per round trip (slowest rank), "
           "%.2f M claims/s at the root\n", ranks, all, ranks / all);
    printf("  MPI_Win_allocate + free    %8.1f us (median of %d)\n", median(t_win, reps), reps);
    printf("  MPI_Allreduce (64 B)       %8.1f us (median of %d)\n", median(t_red, reps), reps);
    printf("  MPI_Allgather (48 B/rank)  %8.1f us (median of %d)\n", median(t_gat, reps), reps);
}

/* ------------------------------------------------------------- fixed */

static int trivial(size_t i, void *ctx, void *result)
{
    (void)ctx;
    *(uint64_t *)result = i;
    return 0;
}

static void bench_fixed(const bench_args *a)
{
    fg_parallel *par;
    if (fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = a->workers, .batch_size = 1)) < 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
    uint64_t out[64];
    const int calls = 200;
    double *t = malloc(calls * sizeof *t), med[2];
    for (int empty = 0; empty < 2; empty++) {
        size_t n = empty ? 0 : (size_t)ranks;
        for (int c = -10; c < calls; c++) { /* 10 warm-up calls */
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            fg_mpi_parallel_map(MPI_COMM_WORLD, par, (fg_delayed){ trivial, NULL, sizeof *out },
                                0, n, out, NULL);
            if (c >= 0)
                t[c] = (MPI_Wtime() - t0) * 1e6;
        }
        med[empty] = median(t, calls);
    }
    free(t);
    fg_parallel_close(par);
    if (me == 0)
        printf("fixed: fg_mpi_parallel_map, np=%d x %d worker(s), median of %d calls on rank 0\n"
               "  %d trivial tasks (one per rank)  %8.1f us per call\n"
               "  empty range                      %8.1f us per call\n",
               ranks, a->workers, calls, ranks, med[0], med[1]);
}

/* -------------------------------------------------------------- seed */

static void bench_seed(const bench_args *a)
{
    size_t n = (size_t)a->n;
    uint64_t *out = calloc(n + 1, sizeof *out), expect = seed_reference_checksum(n);
    double single[64], multi[64];
    int reps = a->reps < 64 ? a->reps : 64, bad = 0;
    fg_parallel *par;
    /* The single-process STEAL backend with the same total of workers, on
     * rank 0 alone. */
    if (me == 0) {
        if (fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = ranks * a->workers,
                                                    .batch_size = a->batch)) < 0)
            MPI_Abort(MPI_COMM_WORLD, 1);
        for (int r = -1; r < reps; r++) { /* one warm-up */
            double t0 = MPI_Wtime();
            fg_parallel_map(par, (fg_delayed){ my_task_delayed, NULL, sizeof *out }, 0, n, out,
                            NULL);
            if (r >= 0)
                single[r] = MPI_Wtime() - t0;
            bad |= seed_checksum(out, n) != expect;
        }
        fg_parallel_close(par);
    }
    sleepy_barrier();
    if (fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = a->workers, .batch_size = a->batch)) < 0)
        MPI_Abort(MPI_COMM_WORLD, 1);
    for (int r = -1; r < reps; r++) {
        memset(out, 0, n * sizeof *out);
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = MPI_Wtime();
        fg_mpi_parallel_map(MPI_COMM_WORLD, par,
                            (fg_delayed){ my_task_delayed, NULL, sizeof *out }, 0, n, out, NULL);
        if (r >= 0)
            multi[r] = MPI_Wtime() - t0;
        bad |= me == 0 && seed_checksum(out, n) != expect;
    }
    fg_parallel_close(par);
    free(out);
    if (me != 0)
        return;
    double s = median(single, reps), m = median(multi, reps);
    printf("seed: n=%zu batch_size=%ld, median of %d\n"
           "  single process, STEAL, %2d workers       %8.4f s\n"
           "  fg_mpi_parallel_map, %d ranks x %d      %8.4f s\n"
           "  efficiency (single / mpi)               %8.1f%%  (goal: >= 90%%)  checksums %s\n",
           n, a->batch, reps, ranks * a->workers, s, ranks, a->workers, m, 100.0 * s / m,
           bad ? "MISMATCH" : "ok");
}

int main(int argc, char **argv)
{
    int provided;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    bench_args a = { .only = NULL, .reps = 7, .workers = 1, .n = 40000, .batch = 1000 };
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--only") == 0)
            a.only = argv[i + 1];
        else if (strcmp(argv[i], "--reps") == 0)
            a.reps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--n") == 0)
            a.n = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--workers") == 0)
            a.workers = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--batch-size") == 0)
            a.batch = atol(argv[i + 1]);
    }
    if (a.reps < 1 || a.workers < 1 || a.n < 0 || a.batch < 1) {
        if (me == 0)
            fprintf(stderr, "usage: mpi-bench [--only fetch|fixed|seed] [--reps 7] [--n 40000] "
                            "[--workers 1] [--batch-size 1000]\n");
        MPI_Finalize();
        return 2;
    }
    if (me == 0)
        printf("forage-mpi benchmark: forage %s, %d ranks\n", fg_version_string(), ranks);
    if (a.only == NULL || strcmp(a.only, "fetch") == 0)
        bench_fetch(&a);
    if (a.only == NULL || strcmp(a.only, "fixed") == 0)
        bench_fixed(&a);
    if (a.only == NULL || strcmp(a.only, "seed") == 0)
        bench_seed(&a);
    MPI_Finalize();
    return 0;
}
