/* schedule.c: batches and chunks for fg_mpi_parallel_map.
 *
 * Batches.  A fixed batch size b is cut as the façade's STEAL backend cuts
 * it (joblib 1.2's dispatch_one_batch, facade/batching.c) with the whole
 * input as one source, n_jobs being every worker on every rank (W): whole
 * slices of b * W tasks give batches of exactly b; the rest, the tail of
 * L < b * W tasks, is cut into pieces of max(1, L / (10 W)), which balances
 * the end of the run.  That cut has a closed form, so no table of batch
 * bounds is kept (10^8 tasks of batch 1 would need 800 MB for one).
 * Under 'auto' every task is a unit; ranks cut batches themselves.
 *
 * Chunks.  Ranks claim chunks, runs of consecutive units, from a counter
 * on the root, one fetch-and-add per chunk.  The sizes follow factoring
 * (Hummel, Schonberg and Flynn, CACM 35(8), 1992): each round hands out
 * half of what is left as P equal chunks (P ranks), so early chunks are
 * large and cheap to claim and the last ones are single units that even
 * out the end.  That takes about P * (log2(N / 2P) + 2) claims for N
 * units, whatever the task cost: the counter is touched tens of times per
 * rank per call, not once per batch.  The table is computed by every rank
 * from the same inputs, so a claimed chunk index means the same range
 * everywhere.
 */
#include "schedule.h"

#include <stdint.h>
#include <stdlib.h>

#include "forage.h"

size_t fg__mpi_unit_start(const fg__mpi_schedule *s, size_t u)
{
    size_t whole = s->full / s->batch;
    if (u <= whole)
        return u * s->batch;
    size_t t = s->full + (u - whole) * s->tail_piece;
    return t < s->total ? t : s->total;
}

/* Walk the factoring rounds; store chunk starts when `starts` is not NULL.
 * Returns the number of chunks. */
static size_t fg__mpi_chunks(const fg__mpi_schedule *s, size_t ranks, size_t *starts)
{
    size_t n = 0, at = 0, cap = FG__MPI_CHUNK_TASKS_MAX / s->batch;
    while (at < s->units) {
        size_t left = s->units - at;
        size_t size = (left + 2 * ranks - 1) / (2 * ranks);
        if (size > cap)
            size = cap;
        for (size_t r = 0; r < ranks && at < s->units; r++) {
            if (starts != NULL)
                starts[n] = at;
            n++;
            at += size < s->units - at ? size : s->units - at;
        }
    }
    if (starts != NULL)
        starts[n] = s->units;
    return n;
}

int fg__mpi_schedule_init(fg__mpi_schedule *s, size_t total, size_t batch, size_t workers,
                          size_t ranks)
{
    *s = (fg__mpi_schedule){ .total = total, .batch = batch > 0 ? batch : 1 };
    if (workers == 0)
        workers = 1;
    if (ranks == 0)
        ranks = 1;
    if (batch == 0) {
        s->full = total;
        s->tail_piece = 1;
        s->units = total;
    } else {
        /* b * W may overflow only for absurd sizes: then all is one slice. */
        size_t slice = workers <= SIZE_MAX / s->batch ? s->batch * workers : SIZE_MAX;
        s->full = total / slice * slice;
        size_t tail = total - s->full;
        s->tail_piece = tail / (10 * workers) > 0 ? tail / (10 * workers) : 1;
        s->units = s->full / s->batch + (tail + s->tail_piece - 1) / s->tail_piece;
    }
    s->nchunks = fg__mpi_chunks(s, ranks, NULL);
    s->chunk_start = malloc((s->nchunks + 1) * sizeof *s->chunk_start);
    if (s->chunk_start == NULL)
        return FG_ENOMEM;
    fg__mpi_chunks(s, ranks, s->chunk_start);
    return 0;
}

void fg__mpi_schedule_free(fg__mpi_schedule *s)
{
    free(s->chunk_start);
    s->chunk_start = NULL;
}
