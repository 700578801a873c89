/* counter.h: the root's claim counter, an MPI window of three 64-bit
 * slots advanced with MPI_Fetch_and_op.  See counter.c. */
#ifndef FG_MPI_COUNTER_H
#define FG_MPI_COUNTER_H

#include <stdbool.h>
#include <stdint.h>

#include <mpi.h>

typedef struct fg__mpi_counter {
    MPI_Win win;
    uint64_t *base; /* the slots, on the root; NULL elsewhere */
    int root;
} fg__mpi_counter;

/* What one round trip sends and brings back. */
typedef struct fg__mpi_claim {
    bool take;           /* in: claim the next chunk */
    uint64_t chunk;      /* out: its index (compare with the schedule) */
    uint64_t fail;       /* in: lowest failing task known here; out: lowest
                            known anywhere (UINT64_MAX: none) */
    uint64_t done;       /* in: tasks finished since the last report;
                            out: tasks reported finished on all ranks */
} fg__mpi_claim;

/* Collective over comm: allocate the window, zero the root's slots. */
void fg__mpi_counter_open(fg__mpi_counter *c, MPI_Comm comm, int root, bool is_root);
/* Open the access epoch, after every rank knows the slots are zeroed. */
void fg__mpi_counter_start(fg__mpi_counter *c);
/* One round trip to the root. */
void fg__mpi_counter_claim(fg__mpi_counter *c, fg__mpi_claim *claim);
/* Close the epoch and free the window (collective). */
void fg__mpi_counter_close(fg__mpi_counter *c, bool started);

#endif
