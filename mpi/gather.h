/* gather.h: moving each rank's results to the root (or to every rank) in
 * index order after fg_mpi_parallel_map has run.  See gather.c. */
#ifndef FG_MPI_GATHER_H
#define FG_MPI_GATHER_H

#include <stdbool.h>
#include <stdint.h>

#include <mpi.h>

#include "rank.h"

typedef struct fg__mpi_gather {
    int ranks, me, root;
    bool everywhere;
    uint64_t *mine;      /* this rank's chunk indices */
    uint64_t *all;       /* every rank's, rank by rank (receivers) */
    int *counts, *displs, *zeros, *scounts, *rcounts;
    MPI_Datatype *stypes, *rtypes;
    int *lens;           /* one rank's chunk lengths, for its datatype */
    MPI_Aint *addrs;     /* and their addresses */
} fg__mpi_gather;

/* Local: the scratch space, sized by the schedule (no collective), so an
 * allocation failure can be agreed on before the exchange.  0 or
 * FG_ENOMEM. */
int fg__mpi_gather_prepare(fg__mpi_gather *g, int ranks, int me, int root, bool everywhere,
                           size_t nchunks);
/* Collective: chunks[p] is rank p's chunk count.  Every rank's results
 * land in `results` on the root (every rank when everywhere). */
void fg__mpi_gather_run(fg__mpi_gather *g, MPI_Comm comm, const fg__mpi_rank *r,
                        const int *chunks, char *results);
void fg__mpi_gather_free(fg__mpi_gather *g);

#endif
