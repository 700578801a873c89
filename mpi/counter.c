/* counter.c: the root's claim counter for fg_mpi_parallel_map.
 *
 * Three uint64 slots in an MPI window on the root:
 *   [0] next chunk      MPI_Fetch_and_op SUM 1 by a rank that claims
 *   [1] lowest failure  MPI_Fetch_and_op MIN (publish and read at once)
 *   [2] tasks finished  MPI_Fetch_and_op SUM delta (progress lines)
 * Passive target: every rank holds MPI_Win_lock_all for the whole map and
 * completes each round trip with MPI_Win_flush, so the root's CPU takes no
 * part (with Open MPI's osc/sm over shared memory the operations are the
 * caller's own atomics; over InfiniBand, the NIC's).  Accumulate-class
 * operations on one slot are atomic with respect to each other, which is
 * all the claim needs: each index is handed out exactly once.
 *
 * Initialisation: the root zeroes its slots inside an exclusive lock on
 * itself (the MPI-3 way to write window memory locally under either memory
 * model); the caller then runs a collective (map.c's agreement) before
 * anyone's first claim, so no claim sees unzeroed slots.  Only the thread
 * that called fg_mpi_parallel_map makes these calls.
 */
#include "counter.h"

#include <stddef.h>

enum { FG__SLOT_CHUNK, FG__SLOT_FAIL, FG__SLOT_DONE, FG__SLOTS };

void fg__mpi_counter_open(fg__mpi_counter *c, MPI_Comm comm, int root, bool is_root)
{
    c->root = root;
    c->base = NULL;
    MPI_Win_allocate(is_root ? (MPI_Aint)(FG__SLOTS * sizeof(uint64_t)) : 0,
                     (int)sizeof(uint64_t), MPI_INFO_NULL, comm, &c->base, &c->win);
    if (is_root) {
        MPI_Win_lock(MPI_LOCK_EXCLUSIVE, root, 0, c->win);
        c->base[FG__SLOT_CHUNK] = 0;
        c->base[FG__SLOT_FAIL] = UINT64_MAX;
        c->base[FG__SLOT_DONE] = 0;
        MPI_Win_unlock(root, c->win);
    }
}

void fg__mpi_counter_start(fg__mpi_counter *c)
{
    MPI_Win_lock_all(MPI_MODE_NOCHECK, c->win);
}

void fg__mpi_counter_claim(fg__mpi_counter *c, fg__mpi_claim *claim)
{
    uint64_t one = 1, fail = claim->fail, done = claim->done;
    if (claim->take)
        MPI_Fetch_and_op(&one, &claim->chunk, MPI_UINT64_T, c->root, FG__SLOT_CHUNK, MPI_SUM,
                         c->win);
    MPI_Fetch_and_op(&fail, &claim->fail, MPI_UINT64_T, c->root, FG__SLOT_FAIL, MPI_MIN,
                     c->win);
    MPI_Fetch_and_op(&done, &claim->done, MPI_UINT64_T, c->root, FG__SLOT_DONE, MPI_SUM,
                     c->win);
    MPI_Win_flush(c->root, c->win);
    /* The fetched values are from before our own operations. */
    if (fail < claim->fail)
        claim->fail = fail;
    claim->done += done;
}

void fg__mpi_counter_close(fg__mpi_counter *c, bool started)
{
    if (started)
        MPI_Win_unlock_all(c->win);
    MPI_Win_free(&c->win);
}
