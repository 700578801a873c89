/* tests/mpi/badargs.c: bad communicators and arguments (meson: np = 2 and
 * 3).  Every rank gets the same clear error and nobody hangs (meson's
 * timeout):
 *   - MPI_COMM_NULL, an intercommunicator: FG_EINVAL at once, no collective;
 *   - one rank with a bad argument (NULL par, NULL fn, begin > end, NULL
 *     results on the root, a root out of range, an unsized info or opts):
 *     every rank returns that rank's error (FG_EINVAL or FG_ESIZE);
 *   - arguments that differ between ranks (end, result size, batch size,
 *     root, everywhere): FG_EINVAL everywhere;
 * and after each, a good call still works (nothing was left half done). */
#include <stdint.h>
#include <string.h>

#include "harness.h"

static int ident(size_t i, void *ctx, void *result)
{
    (void)ctx;
    *(uint64_t *)result = i;
    return 0;
}

static const fg_delayed good_d = { ident, NULL, sizeof(uint64_t) };

/* Everyone's rc must equal `expect`. */
static void expect_all(int rc, int expect, const char *what)
{
    int lo, hi;
    MPI_Allreduce(&rc, &lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&rc, &hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    CHECK(lo == expect && hi == expect, "%s: rc %d..%d on the ranks, expected %d (%s)", what, lo,
          hi, expect, fg_error_name(expect));
}

static void good_call(fg_parallel *par, const char *after)
{
    uint64_t out[64];
    int rc = fg_mpi_parallel_map(MPI_COMM_WORLD, par, good_d, 0, 64, out, NULL);
    expect_all(rc, 0, after);
    if (mpi_test_rank == 0)
        for (size_t k = 0; k < 64; k++)
            CHECK(out[k] == k, "%s: result %zu", after, k);
}

int main(int argc, char **argv)
{
    mpi_test_begin(&argc, &argv);
    int me = mpi_test_rank, last = mpi_test_ranks - 1;
    fg_parallel *par = mpi_test_open(FG_PARALLEL_OPTS(.n_jobs = 2, .batch_size = 3));
    fg_parallel *par_b9 = mpi_test_open(FG_PARALLEL_OPTS(.n_jobs = 2, .batch_size = 9));
    uint64_t out[64];
    fg_error_info info = FG_ERROR_INFO_INIT();

    /* Communicators: each rank answers alone. */
    CHECK(fg_mpi_parallel_map(MPI_COMM_NULL, par, good_d, 0, 64, out, &info) == FG_EINVAL,
          "MPI_COMM_NULL");
    if (mpi_test_ranks > 1) {
        MPI_Comm half, inter;
        MPI_Comm_split(MPI_COMM_WORLD, me % 2, me, &half);
        MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, me % 2 == 0 ? 1 : 0, 7, &inter);
        CHECK(fg_mpi_parallel_map(inter, par, good_d, 0, 64, out, &info) == FG_EINVAL,
              "intercommunicator");
        MPI_Comm_free(&inter);
        MPI_Comm_free(&half);
    }
    good_call(par, "after bad communicators");

    /* One rank's bad argument. */
    int rc = fg_mpi_parallel_map(MPI_COMM_WORLD, me == last ? NULL : par, good_d, 0, 64, out,
                                 &info);
    expect_all(rc, FG_EINVAL, "NULL par on the last rank");
    fg_delayed no_fn = { NULL, NULL, sizeof(uint64_t) };
    rc = fg_mpi_parallel_map(MPI_COMM_WORLD, par, me == last ? no_fn : good_d, 0, 64, out, &info);
    expect_all(rc, FG_EINVAL, "NULL fn on the last rank");
    rc = fg_mpi_parallel_map(MPI_COMM_WORLD, par, good_d, me == last ? 65 : 0, 64, out, &info);
    expect_all(rc, FG_EINVAL, "begin > end on the last rank");
    rc = fg_mpi_parallel_map(MPI_COMM_WORLD, par, good_d, 0, 64, me == 0 ? NULL : out, &info);
    expect_all(rc, FG_EINVAL, "NULL results on the root");
    rc = fg_mpi_parallel_map_opts(MPI_COMM_WORLD, par, good_d, 0, 64, out, &info,
                                  FG_MPI_OPTS(.root = mpi_test_ranks));
    expect_all(rc, FG_EINVAL, "root out of range");
    rc = fg_mpi_parallel_map_opts(MPI_COMM_WORLD, par, good_d, 0, 64, out, &info,
                                  FG_MPI_OPTS(.root = -1));
    expect_all(rc, FG_EINVAL, "negative root");
    fg_error_info unsized = { 0 };
    rc = fg_mpi_parallel_map(MPI_COMM_WORLD, par, good_d, 0, 64, out,
                             me == last ? &unsized : &info);
    expect_all(rc, FG_ESIZE, "unsized info on the last rank");
    fg_mpi_opts bad_opts = { 0 };
    rc = fg_mpi_parallel_map_opts(MPI_COMM_WORLD, par, good_d, 0, 64, out, &info,
                                  me == last ? &bad_opts : NULL);
    expect_all(rc, FG_ESIZE, "unsized opts on the last rank");
    good_call(par, "after bad arguments");

    /* Arguments that differ between ranks. */
    if (mpi_test_ranks > 1) {
        rc = fg_mpi_parallel_map(MPI_COMM_WORLD, par, good_d, 0, me == last ? 63 : 64, out,
                                 &info);
        expect_all(rc, FG_EINVAL, "end differs");
        fg_delayed four = { ident, NULL, 4 };
        rc = fg_mpi_parallel_map(MPI_COMM_WORLD, par, me == last ? four : good_d, 0, 64, out,
                                 &info);
        expect_all(rc, FG_EINVAL, "result size differs");
        rc = fg_mpi_parallel_map(MPI_COMM_WORLD, me == last ? par_b9 : par, good_d, 0, 64, out,
                                 &info);
        expect_all(rc, FG_EINVAL, "batch size differs");
        rc = fg_mpi_parallel_map_opts(MPI_COMM_WORLD, par, good_d, 0, 64, out, &info,
                                      FG_MPI_OPTS(.root = me == last ? 1 : 0));
        expect_all(rc, FG_EINVAL, "root differs");
        rc = fg_mpi_parallel_map_opts(MPI_COMM_WORLD, par, good_d, 0, 64, out, &info,
                                      FG_MPI_OPTS(.everywhere = me == last));
        expect_all(rc, FG_EINVAL, "everywhere differs");
        good_call(par, "after differing arguments");
    }
    fg_parallel_close(par);
    fg_parallel_close(par_b9);
    return mpi_test_end("mpi-badargs");
}
