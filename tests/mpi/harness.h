/* harness.h: checks for the MPI test programs (tests/mpi), which run under
 * mpiexec.  A failed CHECK prints the rank, file, line and message and
 * counts; mpi_test_end() adds up every rank's failures, so every rank
 * exits nonzero when any check failed anywhere.  Each test's timeout is
 * meson's (tests/mpi/meson.build): a hang fails the test. */
#ifndef FG_TESTS_MPI_HARNESS_H
#define FG_TESTS_MPI_HARNESS_H

#include <forage_mpi.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static int mpi_test_failures;
static int mpi_test_rank, mpi_test_ranks;

#define CHECK(cond, ...)                                                                \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "rank %d: %s:%d: CHECK(%s) failed: ", mpi_test_rank,        \
                    __FILE__, __LINE__, #cond);                                         \
            fprintf(stderr, __VA_ARGS__);                                               \
            fputc('\n', stderr);                                                        \
            mpi_test_failures++;                                                        \
        }                                                                               \
    } while (0)

static inline void mpi_test_begin(int *argc, char ***argv)
{
    int provided;
    MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi_test_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mpi_test_ranks);
}

/* Every rank's verdict; prints a summary on rank 0. */
static inline int mpi_test_end(const char *name)
{
    int all = 0;
    MPI_Allreduce(&mpi_test_failures, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (mpi_test_rank == 0)
        printf("%s at np=%d: %s (%d failed checks)\n", name, mpi_test_ranks,
               all == 0 ? "ok" : "FAILED", all);
    MPI_Finalize();
    return all == 0 ? 0 : 1;
}

/* A façade for this rank, or abort the run. */
static inline fg_parallel *mpi_test_open(const fg_parallel_opts *o)
{
    fg_parallel *par = NULL;
    int err = fg_parallel_open(&par, o);
    if (err < 0) {
        fprintf(stderr, "rank %d: fg_parallel_open: %s\n", mpi_test_rank, fg_strerror(err));
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    return par;
}

#endif
