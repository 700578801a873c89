/* tests/mpi/errors.c: failures across ranks (meson: np = 3).
 *
 *   - a task failing at a known index (first, inside, last) with its own
 *     code, or with FG_EINVAL: every rank returns that code and
 *     fg_error_info names that index; every task before it ran exactly
 *     once, none twice, and tasks_run is the number that ran;
 *   - two failing indices: the lower one wins wherever it ran;
 *   - tasks that fail only on rank 1 (so one rank fails and the others do
 *     not): every rank returns the same code and index, and that index is
 *     the lowest task rank 1 ran;
 *   - a cancel token set on one rank: FG_ECANCELED everywhere.
 * A hang in any of these is a failure by meson's timeout. */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"

typedef struct failing {
    size_t begin;
    size_t fail_a, fail_b; /* absolute indices that fail, SIZE_MAX: none */
    int code_a, code_b;
    int only_rank;         /* >= 0: every task run on this rank fails */
    _Atomic int *count;
} failing;

static int task(size_t i, void *ctx, void *result)
{
    failing *f = ctx;
    atomic_fetch_add_explicit(&f->count[i - f->begin], 1, memory_order_relaxed);
    *(uint64_t *)result = i;
    if (i == f->fail_a)
        return f->code_a;
    if (i == f->fail_b)
        return f->code_b;
    if (f->only_rank == mpi_test_rank)
        return 77;
    return 0;
}

typedef struct outcome {
    int rc;
    fg_error_info info;
    int *hits; /* summed over ranks */
    size_t lowest_here; /* lowest index this rank ran, SIZE_MAX: none */
} outcome;

static outcome run(long batch, size_t begin, size_t n, failing f, const fg_cancel_token *cancel)
{
    f.begin = begin;
    f.count = calloc(n + 1, sizeof(int));
    uint64_t *out = calloc(n + 1, sizeof *out);
    fg_parallel *par = mpi_test_open(FG_PARALLEL_OPTS(.n_jobs = 2, .batch_size = batch,
                                                      .cancel = cancel));
    outcome o = { .info = FG_ERROR_INFO_INIT(), .lowest_here = SIZE_MAX };
    o.rc = fg_mpi_parallel_map(MPI_COMM_WORLD, par, (fg_delayed){ task, &f, sizeof(uint64_t) },
                               begin, begin + n, out, &o.info);
    fg_parallel_close(par);
    for (size_t k = 0; k < n && o.lowest_here == SIZE_MAX; k++)
        if (f.count[k] != 0)
            o.lowest_here = begin + k;
    o.hits = calloc(n + 1, sizeof(int));
    MPI_Allreduce((int *)f.count, o.hits, (int)n, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    free((void *)f.count);
    free(out);
    return o;
}

/* The same rc and info on every rank. */
static void check_same(const outcome *o, const char *what)
{
    long long mine[3] = { o->rc, (long long)o->info.index, o->info.code }, lo[3], hi[3];
    MPI_Allreduce(mine, lo, 3, MPI_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(mine, hi, 3, MPI_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    CHECK(memcmp(lo, hi, sizeof lo) == 0, "%s: ranks disagree: rc %lld..%lld index %lld..%lld",
          what, lo[0], hi[0], lo[1], hi[1]);
}

static void check_ran(const outcome *o, size_t begin, size_t n, size_t fail, const char *what)
{
    size_t ran = 0;
    for (size_t k = 0; k < n; k++) {
        CHECK(o->hits[k] <= 1, "%s: task %zu ran %d times", what, begin + k, o->hits[k]);
        if (begin + k <= fail)
            CHECK(o->hits[k] == 1, "%s: task %zu before the failure did not run", what,
                  begin + k);
        ran += (size_t)o->hits[k];
    }
    CHECK(o->info.tasks_run == ran, "%s: tasks_run %zu, %zu ran", what, o->info.tasks_run, ran);
}

int main(int argc, char **argv)
{
    mpi_test_begin(&argc, &argv);
    const long batches[] = { 1, 7, FG_BATCH_AUTO };
    const size_t begin = 3, n = 5000;
    char what[96];
    for (size_t b = 0; b < 3; b++) {
        const size_t at[] = { begin, begin + 2345, begin + n - 1 };
        for (size_t a = 0; a < 3; a++)
            for (int einval = 0; einval < 2; einval++) {
                int code = einval ? FG_EINVAL : 42;
                snprintf(what, sizeof what, "batch %ld, fails at %zu with %d", batches[b], at[a],
                         code);
                outcome o = run(batches[b], begin, n,
                                (failing){ .fail_a = at[a], .fail_b = SIZE_MAX, .code_a = code,
                                           .only_rank = -1 }, NULL);
                CHECK(o.rc == code, "%s: rc %d", what, o.rc);
                CHECK(o.info.index == at[a] && o.info.code == code, "%s: info %zu %d", what,
                      o.info.index, o.info.code);
                check_same(&o, what);
                check_ran(&o, begin, n, at[a], what);
                free(o.hits);
            }
        snprintf(what, sizeof what, "batch %ld, two failures", batches[b]);
        outcome o = run(batches[b], begin, n,
                        (failing){ .fail_a = begin + 4000, .code_a = 5, .fail_b = begin + 1500,
                                   .code_b = 6, .only_rank = -1 }, NULL);
        CHECK(o.rc == 6 && o.info.index == begin + 1500 && o.info.code == 6,
              "%s: rc %d index %zu", what, o.rc, o.info.index);
        check_same(&o, what);
        check_ran(&o, begin, n, begin + 1500, what);
        free(o.hits);

        if (mpi_test_ranks > 1) {
            snprintf(what, sizeof what, "batch %ld, rank 1 fails", batches[b]);
            o = run(batches[b], begin, n,
                    (failing){ .fail_a = SIZE_MAX, .fail_b = SIZE_MAX, .only_rank = 1 }, NULL);
            check_same(&o, what);
            CHECK(o.rc == 77 && o.info.code == 77, "%s: rc %d", what, o.rc);
            if (mpi_test_rank == 1)
                CHECK(o.info.index == o.lowest_here, "%s: index %zu, lowest run on rank 1 %zu",
                      what, o.info.index, o.lowest_here);
            check_ran(&o, begin, n, o.info.index, what);
            free(o.hits);
        }
    }
    /* Cancelled on rank 0 before the call: nothing runs there, and every
     * rank reports FG_ECANCELED. */
    fg_cancel_token stop = FG_CANCEL_TOKEN_INIT;
    if (mpi_test_rank == 0)
        fg_cancel(&stop);
    outcome o = run(7, begin, n, (failing){ .fail_a = SIZE_MAX, .fail_b = SIZE_MAX,
                                            .only_rank = -1 }, &stop);
    check_same(&o, "cancel");
    CHECK(o.rc == FG_ECANCELED, "cancel: rc %d", o.rc);
    free(o.hits);
    return mpi_test_end("mpi-errors");
}
