/* mpi_demo.c: the seed notebook's workload across MPI ranks
 * (forage-mpi-demo).
 *
 *     mpirun -np 4 --oversubscribe build/examples/forage-mpi-demo
 *     ./run.sh mpi-demo            (np = 2; installs Open MPI if missing)
 *
 * Every rank opens its own façade (its own pool of --n-jobs workers) and
 * all call fg_mpi_parallel_map on the notebook's tasks (task i = the sum of
 * the integers below i); rank 0, the root, prints joblib's progress lines,
 * receives the results in index order and prints the checksum (C(n, 3),
 * 10665866680000 for n = 40000) and a table of what each rank did: its
 * workers, the chunks it claimed, the counter round trips, the batches and
 * tasks it ran, the seconds its tasks ran (busy, summed over its workers)
 * and its share of the work (the sum of its task indices: task i costs i
 * additions).
 *
 * usage: forage-mpi-demo [--n 40000] [--n-jobs 4] [--batch-size 1000|auto]
 *                        [--verbose 10]
 */
#include <forage_mpi.h>

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seed_task.h"

typedef struct demo_opts {
    long n, n_jobs, batch_size, verbose;
} demo_opts;

/* What this rank's tasks did, measured inside them. */
typedef struct demo_rank {
    _Atomic uint64_t busy_ns, weight;
} demo_rank;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int timed_task(size_t i, void *ctx, void *result)
{
    demo_rank *me = ctx;
    uint64_t t0 = now_ns();
    *(uint64_t *)result = my_task(i);
    atomic_fetch_add_explicit(&me->busy_ns, now_ns() - t0, memory_order_relaxed);
    atomic_fetch_add_explicit(&me->weight, i, memory_order_relaxed);
    return 0;
}

static int parse_args(int argc, char **argv, demo_opts *o)
{
    *o = (demo_opts){ .n = 40000, .n_jobs = 4, .batch_size = 1000, .verbose = 10 };
    for (int i = 1; i < argc; i++) {
        const char *flag = argv[i], *val = i + 1 < argc ? argv[++i] : NULL;
        int ok = val != NULL;
        if (ok && strcmp(flag, "--n") == 0)
            ok = seed_parse_long(val, &o->n) == 0 && o->n >= 0;
        else if (ok && strcmp(flag, "--n-jobs") == 0)
            ok = seed_parse_long(val, &o->n_jobs) == 0;
        else if (ok && strcmp(flag, "--batch-size") == 0)
            ok = strcmp(val, "auto") == 0 ? (o->batch_size = FG_BATCH_AUTO, 1)
                                           : seed_parse_long(val, &o->batch_size) == 0 &&
                                                 o->batch_size > 0;
        else if (ok && strcmp(flag, "--verbose") == 0)
            ok = seed_parse_long(val, &o->verbose) == 0 && o->verbose >= 0;
        else
            ok = 0;
        if (!ok)
            return -1;
    }
    return 0;
}

/* Rank 0 prints one row per rank from everyone's figures. */
static void print_table(const demo_opts *o, int ranks, const fg_mpi_stats *st,
                        const double *busy, const uint64_t *weight, double seconds)
{
    uint64_t all = 0;
    for (int p = 0; p < ranks; p++)
        all += weight[p];
    printf("\nforage-mpi seed workload: %ld tasks on %d rank%s, n_jobs=%ld each, batch_size=",
           o->n, ranks, ranks == 1 ? "" : "s", o->n_jobs);
    if (o->batch_size == FG_BATCH_AUTO)
        printf("auto");
    else
        printf("%ld", o->batch_size);
    printf(", forage %s\n", fg_version_string());
    printf("%4s %7s %7s %7s %8s %9s %9s %7s\n", "rank", "workers", "chunks", "claims",
           "batches", "tasks", "busy s", "work %");
    size_t chunks = 0, claims = 0, batches = 0, tasks = 0;
    double busy_all = 0;
    for (int p = 0; p < ranks; p++) {
        printf("%4d %7d %7zu %7zu %8zu %9zu %9.4f %7.1f\n", p, st[p].workers, st[p].chunks,
               st[p].claims, st[p].batches_run, st[p].tasks_run, busy[p],
               all ? 100.0 * (double)weight[p] / (double)all : 0.0);
        chunks += st[p].chunks;
        claims += st[p].claims;
        batches += st[p].batches_run;
        tasks += st[p].tasks_run;
        busy_all += busy[p];
    }
    printf("%4s %7s %7zu %7zu %8zu %9zu %9.4f %7.1f\n", "all", "", chunks, claims, batches,
           tasks, busy_all, 100.0);
    printf("map: %.4f s\n", seconds);
}

int main(int argc, char **argv)
{
    int provided, ranks, me;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    demo_opts o;
    if (parse_args(argc, argv, &o) < 0) {
        if (me == 0)
            fprintf(stderr, "usage: %s [--n 40000] [--n-jobs 4] [--batch-size 1000|auto] "
                            "[--verbose 10]\n", argv[0]);
        MPI_Finalize();
        return 2;
    }
    size_t n = (size_t)o.n;
    uint64_t *results = me == 0 ? calloc(n + 1, sizeof *results) : NULL;
    fg_parallel *par = NULL;
    int err = fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = (int)o.n_jobs,
                                                      .batch_size = o.batch_size,
                                                      .verbose = (int)o.verbose));
    if (err < 0)
        fprintf(stderr, "forage-mpi-demo: rank %d: fg_parallel_open: %s\n", me, fg_strerror(err));
    /* A rank without a façade still takes part: the map then fails on
     * every rank with FG_EINVAL instead of leaving the others waiting. */
    demo_rank mine = { 0 };
    fg_mpi_stats st = FG_MPI_STATS_INIT();
    fg_error_info info = FG_ERROR_INFO_INIT();
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    err = fg_mpi_parallel_map_opts(MPI_COMM_WORLD, par,
                                   (fg_delayed){ timed_task, &mine, sizeof(uint64_t) }, 0, n,
                                   results, &info, FG_MPI_OPTS(.stats = &st));
    double seconds = MPI_Wtime() - t0;
    fg_parallel_close(par);

    double busy = (double)atomic_load(&mine.busy_ns) * 1e-9;
    uint64_t weight = atomic_load(&mine.weight);
    fg_mpi_stats *sts = me == 0 ? calloc((size_t)ranks, sizeof *sts) : NULL;
    double *busys = me == 0 ? calloc((size_t)ranks, sizeof *busys) : NULL;
    uint64_t *weights = me == 0 ? calloc((size_t)ranks, sizeof *weights) : NULL;
    MPI_Gather(&st, (int)sizeof st, MPI_BYTE, sts, (int)sizeof st, MPI_BYTE, 0, MPI_COMM_WORLD);
    MPI_Gather(&busy, 1, MPI_DOUBLE, busys, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    MPI_Gather(&weight, 1, MPI_UINT64_T, weights, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    int bad = err != 0;
    if (err != 0 && me == 0)
        fprintf(stderr, "forage-mpi-demo: %s (task %zu, code %d)\n", fg_strerror(err),
                info.index, info.code);
    if (me == 0 && err == 0) {
        print_table(&o, ranks, sts, busys, weights, seconds);
        uint64_t cs = seed_checksum(results, n), expect = seed_reference_checksum((uint64_t)n);
        printf("checksum %" PRIu64 ", reference %" PRIu64 ": %s\n", cs, expect,
               cs == expect ? "ok" : "MISMATCH");
        bad = cs != expect;
    }
    MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
    free(results);
    free(sts);
    free(busys);
    free(weights);
    MPI_Finalize();
    return bad;
}
