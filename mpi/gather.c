/* gather.c: results to the root, or to every rank, in index order.
 *
 * A rank's chunks are scattered over the range (they were claimed
 * dynamically), so each rank describes them with one derived datatype: an
 * hindexed type whose blocks are its chunks, at their absolute addresses
 * (sent from MPI_BOTTOM).  One MPI_Gatherv (or MPI_Allgatherv) tells the
 * receivers which chunks each rank ran; one MPI_Alltoallw then moves every
 * rank's blocks straight into place, with no staging copy on either side.
 * The receiving rank's own chunks were written in place by its tasks.
 * Counts are int: the schedule caps a chunk at 2^30 tasks, and a rank has
 * far fewer than 2^31 chunks.
 */
#include "gather.h"

#include <stdlib.h>

#include "forage.h"

int fg__mpi_gather_prepare(fg__mpi_gather *g, int ranks, int me, int root, bool everywhere,
                           size_t nchunks)
{
    *g = (fg__mpi_gather){ .ranks = ranks, .me = me, .root = root, .everywhere = everywhere };
    size_t p = (size_t)ranks;
    g->mine = malloc((nchunks + 1) * sizeof *g->mine);
    g->all = malloc((nchunks + 1) * sizeof *g->all);
    g->counts = calloc(p, sizeof *g->counts);
    g->displs = calloc(p, sizeof *g->displs);
    g->zeros = calloc(p, sizeof *g->zeros);
    g->scounts = calloc(p, sizeof *g->scounts);
    g->rcounts = calloc(p, sizeof *g->rcounts);
    g->stypes = calloc(p, sizeof *g->stypes);
    g->rtypes = calloc(p, sizeof *g->rtypes);
    g->lens = malloc((nchunks + 1) * sizeof *g->lens);
    g->addrs = malloc((nchunks + 1) * sizeof *g->addrs);
    if (g->lens == NULL || g->addrs == NULL ||
        g->mine == NULL || g->all == NULL || g->counts == NULL || g->displs == NULL ||
        g->zeros == NULL || g->scounts == NULL || g->rcounts == NULL || g->stypes == NULL ||
        g->rtypes == NULL) {
        fg__mpi_gather_free(g);
        return FG_ENOMEM;
    }
    return 0;
}

/* An hindexed type over `n` chunks [first, last) with results at base + i * rs
 * (base NULL: each chunk's own buffer, as recorded by the rank). */
static MPI_Datatype fg__mpi_blocks(const fg__mpi_rank *r, const uint64_t *idx, int n,
                                   char *base, MPI_Datatype elem, int *lens, MPI_Aint *addrs)
{
    for (int j = 0; j < n; j++) {
        const fg__mpi_schedule *s = r->sched;
        size_t first = fg__mpi_unit_start(s, s->chunk_start[idx[j]]);
        size_t last = fg__mpi_unit_start(s, s->chunk_start[idx[j] + 1]);
        lens[j] = (int)(last - first);
        char *at = base != NULL ? base + first * r->d.result_size : r->chunks[j]->out;
        MPI_Get_address(at, &addrs[j]);
    }
    MPI_Datatype t;
    MPI_Type_create_hindexed(n, lens, addrs, elem, &t);
    MPI_Type_commit(&t);
    return t;
}

void fg__mpi_gather_run(fg__mpi_gather *g, MPI_Comm comm, const fg__mpi_rank *r,
                        const int *chunks, char *results)
{
    int mine = (int)r->nchunks, total = 0;
    for (int j = 0; j < mine; j++)
        g->mine[j] = r->chunks[j]->index;
    for (int p = 0; p < g->ranks; p++) {
        g->counts[p] = chunks[p];
        g->displs[p] = total;
        total += chunks[p];
    }
    bool receive = g->everywhere || g->me == g->root;
    if (g->everywhere)
        MPI_Allgatherv(g->mine, mine, MPI_UINT64_T, g->all, g->counts, g->displs, MPI_UINT64_T,
                       comm);
    else
        MPI_Gatherv(g->mine, mine, MPI_UINT64_T, g->all, g->counts, g->displs, MPI_UINT64_T,
                    g->root, comm);

    MPI_Datatype elem;
    MPI_Type_contiguous((int)r->d.result_size, MPI_BYTE, &elem);
    MPI_Type_commit(&elem);
    MPI_Datatype send = elem;
    if (mine > 0 && (g->everywhere || g->me != g->root))
        send = fg__mpi_blocks(r, g->mine, mine, receive ? results : NULL, elem, g->lens,
                              g->addrs);
    for (int p = 0; p < g->ranks; p++) {
        g->stypes[p] = g->rtypes[p] = elem;
        g->scounts[p] = g->rcounts[p] = 0;
        if (p == g->me)
            continue;
        if ((g->everywhere || p == g->root) && send != elem) {
            g->stypes[p] = send;
            g->scounts[p] = 1;
        }
        if (receive && chunks[p] > 0) {
            g->rtypes[p] = fg__mpi_blocks(r, g->all + g->displs[p], chunks[p], results, elem,
                                          g->lens, g->addrs);
            g->rcounts[p] = 1;
        }
    }
    MPI_Alltoallw(MPI_BOTTOM, g->scounts, g->zeros, g->stypes, MPI_BOTTOM, g->rcounts, g->zeros,
                  g->rtypes, comm);
    for (int p = 0; p < g->ranks; p++)
        if (g->rtypes[p] != elem)
            MPI_Type_free(&g->rtypes[p]);
    if (send != elem)
        MPI_Type_free(&send);
    MPI_Type_free(&elem);
}

void fg__mpi_gather_free(fg__mpi_gather *g)
{
    free(g->mine);
    free(g->all);
    free(g->counts);
    free(g->displs);
    free(g->zeros);
    free(g->scounts);
    free(g->rcounts);
    free(g->stypes);
    free(g->rtypes);
    free(g->lens);
    free(g->addrs);
    *g = (fg__mpi_gather){ 0 };
}
