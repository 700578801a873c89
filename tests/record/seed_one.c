/* seed_one.c (record-seed-one): the seed workload on a pool of its own,
 * through the façade's work-stealing backend, for recordings and for the
 * single-worker time they are checked against (check_record.py).
 *
 * The seed notebook's map: --n tasks (40000), task i sums the integers
 * below i, batch size --batch-size (1000).  The façade would run a
 * one-worker call on its sequential backend, with no pool and nothing to
 * record, so the program hands it a pool of --workers (1) explicitly and
 * says n_jobs = 2 (with a fixed batch size n_jobs only sizes the
 * pre-dispatch, which the work-stealing backend does not have).
 * --out PATH records that pool (fg_config.record); without it the pool
 * records only if $FORAGE_RECORD says so.  Prints one line per rep,
 * "seconds S batches B", timing the map alone (B: the batches the façade
 * dispatched), and exits 1 on a wrong checksum.
 *
 * usage: record-seed-one [--out PATH] [--n N] [--batch-size B]
 *                        [--workers W] [--reps R]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <forage.h>

#include "../../examples/seed_task.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t batches;
static void on_progress(const fg_progress *p, void *ctx)
{
    (void)ctx;
    if (p->finished)
        batches = p->batches_dispatched;
}

static int run_once(const char *out, size_t n, long batch, int workers, uint64_t *results)
{
    fg_pool *pool;
    int err = fg_pool_create(&pool, FG_CONFIG(.workers = workers, .record = out));
    if (err < 0) {
        fprintf(stderr, "record-seed-one: fg_pool_create: %s %s\n", fg_strerror(err),
                fg_last_error_detail());
        return 1;
    }
    fg_parallel *par;
    err = fg_parallel_open(&par, FG_PARALLEL_OPTS(.n_jobs = workers > 1 ? workers : 2,
                                                  .batch_size = batch,
                                                  .backend = FG_BACKEND_STEAL, .pool = pool,
                                                  .on_progress = on_progress));
    if (err < 0) {
        fprintf(stderr, "record-seed-one: fg_parallel_open: %s\n", fg_strerror(err));
        fg_pool_destroy(pool);
        return 1;
    }
    memset(results, 0, n * sizeof *results);
    double t0 = now_s();
    err = fg_parallel_map(par, (fg_delayed){ my_task_delayed, NULL, sizeof *results }, 0, n,
                          results, NULL);
    double t = now_s() - t0;
    fg_parallel_close(par);
    fg_pool_destroy(pool);
    if (err != 0 || seed_checksum(results, n) != seed_reference_checksum(n)) {
        fprintf(stderr, "record-seed-one: map failed (%d) or wrong checksum\n", err);
        return 1;
    }
    printf("seconds %.6f batches %zu\n", t, batches);
    return 0;
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    long n = 40000, batch = 1000, workers = 1, reps = 1;
    for (int i = 1; i < argc; i++) {
        long *v = strcmp(argv[i], "--n") == 0            ? &n
                  : strcmp(argv[i], "--batch-size") == 0 ? &batch
                  : strcmp(argv[i], "--workers") == 0    ? &workers
                  : strcmp(argv[i], "--reps") == 0       ? &reps
                                                         : NULL;
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (v != NULL && i + 1 < argc) {
            *v = strtol(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: record-seed-one [--out PATH] [--n N] [--batch-size B] "
                            "[--workers W] [--reps R]\n");
            return 2;
        }
    }
    if (n < 1 || batch < 1 || workers < 1 || reps < 1) {
        fprintf(stderr, "record-seed-one: --n, --batch-size, --workers and --reps must be >= 1\n");
        return 2;
    }
    uint64_t *results = calloc((size_t)n, sizeof *results);
    if (results == NULL)
        return 1;
    int rc = 0;
    for (long r = 0; r < reps && rc == 0; r++)
        rc = run_once(out, (size_t)n, batch, (int)workers, results);
    free(results);
    return rc;
}
