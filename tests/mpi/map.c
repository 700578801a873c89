/* tests/mpi/map.c: fg_mpi_parallel_map gives what the single-process
 * fg_parallel_map gives, at any np (meson runs it at np = 1, 2, 3, 4,
 * oversubscribed), for batch sizes 1, 7, 1000 and auto, with the results on
 * rank 0, on the last rank, or on every rank.
 *
 * Ranks differ in workers (1 + rank % 3: one runs its chunks in the
 * caller), the range does not start at 0, and a result is 12 bytes (so the
 * datatypes are not word multiples).  Asserted, exactly: the return value
 * and fg_error_info on every rank; the receivers' results byte for byte
 * against the single-process map; a non-receiver's buffer untouched; every
 * index run exactly once across all ranks (hit counts summed over ranks);
 * the per-rank stats adding up to the task count, with one claim more than
 * chunks on each rank (the claim that found the counter exhausted); every
 * task seeing a worker index in [0, the rank's workers). */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"

typedef struct res12 {
    uint32_t a, b, c;
} res12;

typedef struct hits {
    size_t begin;
    _Atomic int *count; /* per index, or NULL */
    int workers;        /* the rank's */
    _Atomic int bad_worker_index;
} hits;

static int task12(size_t i, void *ctx, void *result)
{
    hits *h = ctx;
    if (h->count != NULL)
        atomic_fetch_add_explicit(&h->count[i - h->begin], 1, memory_order_relaxed);
    int w = fg_worker_index(); /* a worker's, or 0 in a rank that runs tasks itself */
    if (h->count != NULL && (w < 0 || w >= h->workers))
        atomic_fetch_add_explicit(&h->bad_worker_index, 1, memory_order_relaxed);
    res12 *r = result;
    r->a = (uint32_t)i;
    r->b = (uint32_t)(i * 2654435761u);
    r->c = (uint32_t)(i ^ 0x5bd1e995u) + (uint32_t)(i % 7);
    return 0;
}

enum { TO_ROOT0, TO_LAST, EVERYWHERE, NULL_ELSEWHERE };
static const char *const mode_names[] = { "root 0", "last rank", "everywhere",
                                          "root 0, NULL elsewhere" };

static void one(long batch, int mode, size_t begin, size_t n)
{
    size_t end = begin + n;
    /* The reference: the single-process façade on this rank. */
    res12 *ref = calloc(n + 1, sizeof *ref);
    fg_parallel *solo = mpi_test_open(FG_PARALLEL_OPTS(.n_jobs = 2, .batch_size = batch));
    hits none = { begin, NULL, 0, 0 };
    int rc = fg_parallel_map(solo, (fg_delayed){ task12, &none, sizeof(res12) }, begin, end,
                             ref, NULL);
    fg_parallel_close(solo);
    CHECK(rc == 0, "reference map: %d", rc);

    int root = mode == TO_LAST ? mpi_test_ranks - 1 : 0;
    bool everywhere = mode == EVERYWHERE;
    bool receives = everywhere || mpi_test_rank == root;
    res12 *out = malloc((n + 1) * sizeof *out);
    memset(out, 0xab, (n + 1) * sizeof *out);
    hits h = { begin, calloc(n + 1, sizeof(int)), 1 + mpi_test_rank % 3, 0 };
    fg_parallel *par = mpi_test_open(FG_PARALLEL_OPTS(.n_jobs = 1 + mpi_test_rank % 3,
                                                      .batch_size = batch));
    fg_error_info info = FG_ERROR_INFO_INIT(.index = 99, .code = 99);
    fg_mpi_stats st = FG_MPI_STATS_INIT();
    void *dest = mode == NULL_ELSEWHERE && !receives ? NULL : out;
    rc = fg_mpi_parallel_map_opts(MPI_COMM_WORLD, par, (fg_delayed){ task12, &h, sizeof(res12) },
                                  begin, end, dest, &info,
                                  FG_MPI_OPTS(.root = root, .everywhere = everywhere,
                                              .stats = &st));
    fg_parallel_close(par);
    char what[96];
    snprintf(what, sizeof what, "batch %ld, %s, [%zu, %zu)", batch, mode_names[mode], begin, end);
    CHECK(rc == 0, "%s: rc %d", what, rc);
    CHECK(info.code == 0 && info.index == 0 && info.tasks_run == n,
          "%s: info code %d index %zu tasks_run %zu", what, info.code, info.index,
          info.tasks_run);
    if (receives) {
        size_t bad = n;
        for (size_t k = 0; k < n && bad == n; k++)
            if (memcmp(&out[k], &ref[k], sizeof *out) != 0)
                bad = k;
        CHECK(bad == n, "%s: result %zu differs from the single-process map", what, bad);
    } else {
        unsigned char expect[sizeof(res12)];
        memset(expect, 0xab, sizeof expect);
        size_t touched = n;
        for (size_t k = 0; k < n && touched == n; k++)
            if (memcmp(&out[k], expect, sizeof expect) != 0)
                touched = k;
        CHECK(touched == n, "%s: a non-receiving rank's buffer was written at %zu", what,
              touched);
    }
    CHECK(memcmp(&out[n], (unsigned char[sizeof(res12)]){ 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
                                                         0xab, 0xab, 0xab, 0xab, 0xab, 0xab },
                 sizeof *out) == 0,
          "%s: written past the end", what);
    int *sum = calloc(n + 1, sizeof *sum);
    MPI_Allreduce((int *)h.count, sum, (int)n, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    size_t wrong = n;
    for (size_t k = 0; k < n && wrong == n; k++)
        if (sum[k] != 1)
            wrong = k;
    CHECK(wrong == n, "%s: task %zu ran %d times across the ranks", what, begin + wrong,
          wrong < n ? sum[wrong] : 0);
    unsigned long long tasks = st.tasks_run, all = 0;
    MPI_Allreduce(&tasks, &all, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    CHECK(all == n, "%s: stats add up to %llu tasks", what, all);
    CHECK(st.claims == st.chunks + 1, "%s: %zu claims for %zu chunks", what, st.claims,
          st.chunks);
    CHECK(st.workers == 1 + mpi_test_rank % 3, "%s: workers %d", what, st.workers);
    CHECK(atomic_load(&h.bad_worker_index) == 0, "%s: %d tasks saw a worker index outside "
          "[0, %d)", what, atomic_load(&h.bad_worker_index), h.workers);
    free(sum);
    free((void *)h.count);
    free(out);
    free(ref);
}

int main(int argc, char **argv)
{
    mpi_test_begin(&argc, &argv);
    const long batches[] = { 1, 7, 1000, FG_BATCH_AUTO };
    for (size_t b = 0; b < 4; b++)
        for (int mode = TO_ROOT0; mode <= NULL_ELSEWHERE; mode++) {
            one(batches[b], mode, 5, 1000);
            one(batches[b], mode, 5, 10007);
        }
    return mpi_test_end("mpi-map");
}
