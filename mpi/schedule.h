/* schedule.h: how fg_mpi_parallel_map cuts a range into batches and the
 * batches into chunks, the unit ranks claim.  Pure arithmetic, the same on
 * every rank; no MPI.  See schedule.c and docs/design/mpi.md. */
#ifndef FG_MPI_SCHEDULE_H
#define FG_MPI_SCHEDULE_H

#include <stddef.h>

/* Largest chunk, in tasks: chunk lengths travel as MPI int counts. */
#define FG__MPI_CHUNK_TASKS_MAX ((size_t)1 << 30)

typedef struct fg__mpi_schedule {
    size_t total;      /* tasks */
    size_t batch;      /* fixed batch size; 1 under 'auto' (units are tasks) */
    size_t full;       /* tasks in whole slices of batch * workers */
    size_t tail_piece; /* size of the batches cut from the tail */
    size_t units;      /* batches */
    size_t nchunks;
    size_t *chunk_start; /* nchunks + 1 unit indices, increasing */
} fg__mpi_schedule;

/* Cut `total` tasks for `workers` workers on `ranks` ranks; batch 0 means
 * 'auto' (each task is a unit; ranks cut batches themselves).  0 or
 * FG_ENOMEM. */
int fg__mpi_schedule_init(fg__mpi_schedule *s, size_t total, size_t batch, size_t workers,
                          size_t ranks);
void fg__mpi_schedule_free(fg__mpi_schedule *s);

/* First task of unit u (u == units gives total). */
size_t fg__mpi_unit_start(const fg__mpi_schedule *s, size_t u);

#endif
