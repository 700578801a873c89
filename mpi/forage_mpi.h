/* forage_mpi.h: forage's joblib-style map across the ranks of an MPI
 * communicator (libforage-mpi, pkg-config forage-mpi).  Optional: built
 * when Open MPI's development files are found; the core library, forage.h,
 * knows nothing of MPI.
 *
 * Every rank opens its own façade with fg_parallel_open (its own pool, its
 * own n_jobs), then all ranks call fg_mpi_parallel_map together:
 *
 *     MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
 *     fg_parallel *par;
 *     fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = 4, .verbose = 10));
 *     fg_error_info info = FG_ERROR_INFO_INIT();
 *     int err = fg_mpi_parallel_map(MPI_COMM_WORLD, par,
 *                                   (fg_delayed){ fn, ctx, sizeof(double) },
 *                                   0, n, results, &info);
 *     // rank 0's results[k] = fn(k); err and info are the same on every rank
 *     fg_parallel_close(par);
 *
 * Batches are handed out dynamically across ranks (ranks claim chunks of
 * batches from a counter on the root, workers inside a rank steal as
 * usual), results arrive in index order on the root, or on every rank, and
 * the root prints joblib's progress lines.  docs/design/mpi.md.
 *
 * Threads: only the calling thread makes MPI calls (the pool's workers
 * never do), so MPI_THREAD_FUNNELED, called from the main thread, is
 * enough.  Do not call it from inside a forage task.
 */
#ifndef FORAGE_MPI_H
#define FORAGE_MPI_H

#include <stddef.h>

#include <mpi.h>

#include <forage.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(_WIN32)
#  define FG_MPI_API __attribute__((visibility("default")))
#else
#  define FG_MPI_API
#endif

/* This rank's share of one call, for tables and balance checks. */
typedef struct fg_mpi_stats {
    size_t size;        /* sizeof(fg_mpi_stats): set by FG_MPI_STATS_INIT */
    size_t tasks_run;   /* tasks this rank ran */
    size_t batches_run; /* batches this rank ran */
    size_t chunks;      /* chunks of batches this rank claimed and ran */
    size_t claims;      /* round trips to the root's counter (chunks, plus
                           the one that found the counter exhausted) */
    int workers;        /* this rank's effective n_jobs */
} fg_mpi_stats;

#define FG_MPI_STATS_INIT(...) { .size = sizeof(fg_mpi_stats), __VA_ARGS__ }

typedef struct fg_mpi_opts {
    size_t size;         /* sizeof(fg_mpi_opts): set by FG_MPI_OPTS_INIT */
    int root;            /* the rank that holds the counter, receives the
                            results and prints progress; 0: rank 0 */
    int everywhere;      /* nonzero: results in index order on every rank
                            (each rank's `results` then has room for all) */
    fg_mpi_stats *stats; /* NULL, or this rank's figures for the call */
} fg_mpi_opts;

#define FG_MPI_OPTS_INIT(...) { .size = sizeof(fg_mpi_opts), __VA_ARGS__ }
#define FG_MPI_OPTS(...) (&(fg_mpi_opts)FG_MPI_OPTS_INIT(__VA_ARGS__))

/* fg_parallel_map across the ranks of comm, called by every rank with the
 * same begin, end, d.result_size and batch size (par's batch_size).  Each
 * rank runs the batches it claims on par's pool (or in the caller when par
 * runs sequentially).  On the root, results[k] (d.result_size bytes each)
 * = d.fn(begin + k) for k in [0, end - begin); other ranks' `results` are
 * not touched and may be NULL.
 *
 * Returns the same value on every rank, with the same *info: 0; the code of
 * the lowest failing task across all ranks (info->index says which; as in
 * fg_parallel_map, batches after it are skipped, so results are then
 * unspecified); FG_ECANCELED if par's cancel token was set on any rank;
 * or, with nothing run, FG_EINVAL when any rank passes a NULL par or
 * d.fn, begin > end, results NULL on a rank that receives them while
 * d.result_size > 0, a root outside comm, a call from inside a forage task,
 * or arguments that differ between ranks (begin, end, result size, batch
 * size, root, everywhere), FG_ESIZE for an unsized info, opts or stats
 * (FG_*_INIT), FG_ENOMEM.  comm == MPI_COMM_NULL or an intercommunicator
 * gives FG_EINVAL at once on each rank (no collective is entered).
 * info->tasks_run counts tasks run on all ranks.  Progress lines (par's
 * verbose and log) are printed by the root alone. */
FG_MPI_API int fg_mpi_parallel_map(MPI_Comm comm, fg_parallel *par, fg_delayed d, size_t begin,
                                   size_t end, void *results, fg_error_info *info);

/* The same with options (NULL: all defaults). */
FG_MPI_API int fg_mpi_parallel_map_opts(MPI_Comm comm, fg_parallel *par, fg_delayed d,
                                        size_t begin, size_t end, void *results,
                                        fg_error_info *info, const fg_mpi_opts *opts);

#ifdef __cplusplus
}
#endif
#endif /* FORAGE_MPI_H */
